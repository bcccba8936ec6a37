#include "run_summary.h"

#include "record_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace ltrack::tracing {
namespace {

std::string joined(const std::vector<std::string> &v, const char *sep)
{
	std::string out;
	for (const auto &s : v)
		out += (out.empty() ? "" : sep) + s;
	return out;
}

std::string json_list(const std::vector<std::string> &v)
{
	std::string out = "[";
	for (const auto &s : v)
		out += (out.size() > 1 ? "," : "") + json_string(s);
	return out + "]";
}

std::string ending_text(const run_end &e)
{
	if (e.exec_failed)
		return "did not start: " + e.exec_error;
	std::string how = e.signal ? fmt::format("ended by signal {} ({})", e.signal, strsignal(e.signal))
				   : fmt::format("exited with status {}", e.exit_code);
	if (e.killed_on_violation)
		how = "killed at the first violation (--kill-on-violation); " + how;
	return how + fmt::format(" after {:.1f} s", e.seconds);
}

const char *result_name(int status)
{
	switch (status) {
	case run_exit_clean: return "clean";
	case run_exit_command_failed: return "command_failed";
	case run_exit_violation: return "violation";
	case run_exit_killed: return "killed_on_violation";
	case run_exit_incomplete: return "incomplete";
	}
	return "error";
}

} // namespace

void run_summary::add(const decision_record &r)
{
	decisions_ += r.count;
	highest_ = std::max(highest_, int(r.level));
	// By name: the report lists them in the names' order.
	by_hook_action_[{hook_name(r.hook), action_name(r.action), outcome_name(r.outcome)}] += r.count;
	if (!abi::is_denial(r.outcome))
		return;
	violations_ += r.count;
	std::string object = object_text(r);
	auto [it, fresh] = refused_index_.try_emplace({hook_name(r.hook), object}, refused_.size());
	if (!fresh) {
		refused_[it->second].count += r.count;
		return;
	}
	if (refused_.size() >= max_listed) {
		refused_index_.erase(it);
		unlisted_ += r.count;
		return;
	}
	refused f;
	f.hook = hook_name(r.hook);
	f.object = object;
	f.outcome = outcome_name(r.outcome);
	f.exe = exe_text(r);
	f.pid = r.pid;
	f.rule = r.rule.line ? text_escape(r.rule.file) + ":" + std::to_string(r.rule.line)
			     : "#" + std::to_string(r.rule.rule_id);
	f.rule_text = r.rule.text;
	if (r.hook == LTRACK_HOOK_MODEL) {
		f.verdict = r.model.verdict;
		f.imports = r.model.imports;
	}
	f.count = r.count;
	refused_.push_back(std::move(f));
}

int run_summary::exit_status(const run_end &end) const
{
	// Whatever the records say, they are not all of it.
	if (end.records_dropped && !end.exec_failed)
		return run_exit_incomplete;
	if (end.killed_on_violation)
		return run_exit_killed;
	if (violations_)
		return run_exit_violation;
	if (end.exec_failed)
		return run_exit_error;
	return end.exit_code == 0 && !end.signal ? run_exit_clean : run_exit_command_failed;
}

std::string run_summary::text(const run_end &end) const
{
	std::string s = "ltrack run summary\n";
	s += "  command:    " + text_escape(joined(end.command, " ")) + "\n";
	s += "  profile:    " + end.profile + " (" + end.policy + "), " + end.mode + " mode\n";
	s += "  ended:      " + ending_text(end) + "\n";
	if (end.leftover_killed)
		s += fmt::format("  leftovers:  {} process(es) it started were still running and were killed\n",
				 end.leftover_killed);
	s += fmt::format("  decisions:  {} ({} violation{}), highest severity {}\n", decisions_, violations_,
			 violations_ == 1 ? "" : "s",
			 highest_ < 0 ? "none" : severity_name(static_cast<severity>(highest_)));
	if (!by_hook_action_.empty()) {
		s += "  by hook and action:\n";
		for (const auto &[k, n] : by_hook_action_)
			s += fmt::format("    {:<6} {:<6} {:<11} {:>8}\n", std::get<0>(k), std::get<1>(k),
					 std::get<2>(k), n);
	}
	if (!refused_.empty()) {
		s += end.mode == "audit" ? "  would be refused in enforce mode:\n" : "  refused:\n";
		for (const auto &f : refused_) {
			s += "    " + f.hook + " " + f.object;
			if (!f.verdict.empty())
				s += " (" + f.verdict +
				     (f.imports.empty() ? "" : ": " + text_escape(joined(f.imports, ", "))) + ")";
			s += " by " + f.exe + "[" + std::to_string(f.pid) + "] rule " + f.rule;
			if (f.count > 1)
				s += " x" + std::to_string(f.count);
			s += "\n";
		}
		if (unlisted_)
			s += fmt::format("    ... and {} more\n", unlisted_);
	}
	int status = exit_status(end);
	switch (status) {
	case run_exit_clean: s += "  result:     clean: nothing was refused"; break;
	case run_exit_command_failed: s += "  result:     nothing was refused; the command itself failed"; break;
	case run_exit_violation:
		s += end.mode == "audit"
			     ? "  result:     VIOLATIONS: enforce mode would have refused the operations above"
			     : "  result:     VIOLATIONS: the operations above were refused";
		break;
	case run_exit_killed: s += "  result:     VIOLATION: the command was killed"; break;
	case run_exit_incomplete:
		s += fmt::format(
			"  result:     INCOMPLETE: {} decision records were dropped (the ring buffer was full), "
			"so what is above is not all the command did{}",
			end.records_dropped, violations_ ? "; it includes violations" : "");
		break;
	default: s += "  result:     the command could not be run"; break;
	}
	return s + fmt::format(" (exit status {})", status);
}

std::string run_summary::json(const run_end &end) const
{
	std::string s = "{\"type\":\"run_summary\",\"command\":" + json_list(end.command) +
			",\"profile\":" + json_string(end.profile) + ",\"policy\":" + json_string(end.policy) +
			",\"mode\":" + json_string(end.mode);
	if (end.exec_failed)
		s += ",\"exec_error\":" + json_string(end.exec_error);
	else if (end.signal)
		s += fmt::format(",\"signal\":{}", end.signal);
	else
		s += fmt::format(",\"exit_code\":{}", end.exit_code);
	s += fmt::format(",\"killed_on_violation\":{},\"leftover_killed\":{},\"records_dropped\":{},"
			 "\"duration_s\":{:.3f}",
			 end.killed_on_violation, end.leftover_killed, end.records_dropped, end.seconds);
	s += fmt::format(",\"decisions\":{},\"violations\":{},\"highest_severity\":{}", decisions_, violations_,
			 highest_ < 0 ? "null" : json_string(severity_name(static_cast<severity>(highest_))));
	s += ",\"by_hook_action\":[";
	bool first = true;
	for (const auto &[k, n] : by_hook_action_) {
		s += fmt::format("{}{{\"hook\":{},\"action\":{},\"outcome\":{},\"count\":{}}}", first ? "" : ",",
				 json_string(std::get<0>(k)), json_string(std::get<1>(k)), json_string(std::get<2>(k)),
				 n);
		first = false;
	}
	s += "],\"refused\":[";
	first = true;
	for (const auto &f : refused_) {
		s += fmt::format("{}{{\"hook\":{},\"object\":{},\"outcome\":{},\"exe\":{},\"pid\":{},\"rule\":{},"
				 "\"rule_text\":{},\"count\":{}",
				 first ? "" : ",", json_string(f.hook), json_string(f.object), json_string(f.outcome),
				 json_string(f.exe), f.pid, json_string(f.rule), json_string(f.rule_text), f.count);
		if (!f.verdict.empty())
			s += ",\"verdict\":" + json_string(f.verdict) + ",\"imports\":" + json_list(f.imports);
		s += "}";
		first = false;
	}
	int status = exit_status(end);
	return s + fmt::format("],\"refused_unlisted\":{},\"result\":\"{}\",\"exit_status\":{}}}", unlisted_,
			       result_name(status), status);
}

} // namespace ltrack::tracing
