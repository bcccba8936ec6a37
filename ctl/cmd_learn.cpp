// ltrackctl learn: audit-mode decisions from the decision log (rotated and
// gzipped backups included) as the rules a profile lacks, like aa-logprof;
// ltrackctl replay: a recorded log against a candidate policy.
// docs/policy.md "Learning a policy".
#include "commands.h"
#include "learn.h"
#include "log_reader.h"
#include "policy.h"
#include "record_format.h"

#include <toml++/toml.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace ltrack::ctl {

namespace {

constexpr const char *default_log = "/var/log/ltrack/decisions.log";

struct log_opts {
	std::vector<std::string> logs;
	bool no_backups = false;
	bool skip_malformed = false;
};

void add_log_options(CLI::App *c, log_opts &o)
{
	c->add_option("LOG", o.logs,
		      "Decision log files (JSON lines, plain or gzipped); each one's rotated backups (LOG.1.gz, ...) "
		      "are read too. Default: the policy's [log] output_path");
	c->add_flag("--no-backups", o.no_backups, "Read only the files named, not their rotated backups");
	c->add_flag("--skip-malformed", o.skip_malformed,
		    "Go on past lines that are not decision records (reported as FILE:LINE); by default they are "
		    "an error (exit 2)");
}

// Reads every log; false (after printing the problems) when the result
// cannot be trusted.
bool read_logs(const log_opts &o, const std::string &configured,
	       const std::function<void(const tracing::decision_record &)> &on_record, tracing::log_read_stats &st)
{
	std::vector<std::string> names = o.logs;
	if (names.empty())
		names.push_back(configured.empty() || configured == "-" ? default_log : configured);
	std::vector<std::string> files;
	std::set<std::pair<dev_t, ino_t>> seen;
	for (const auto &n : names) {
		std::vector<std::string> these =
			o.no_backups ? std::vector<std::string>{n} : tracing::log_files_with_backups(n);
		if (these.empty())
			these.push_back(n); // reported as unreadable below
		for (const auto &f : these) {
			struct stat sb;
			if (::stat(f.c_str(), &sb) == 0 && !seen.insert({sb.st_dev, sb.st_ino}).second)
				continue; // named twice (a backup also given by name)
			files.push_back(f);
		}
	}
	bool ok = true;
	for (const auto &f : files)
		if (!tracing::read_decision_log(f, on_record, st))
			ok = false;
	std::size_t shown = 0;
	for (const auto &p : st.problems) {
		if (shown++ < 20)
			std::cerr << "ltrackctl: " << text_escape(p.text()) << "\n";
	}
	if (st.problems.size() > 20)
		std::cerr << "ltrackctl: ... and " << st.problems.size() - 20 << " more problems\n";
	if (st.lost)
		std::cerr
			<< "ltrackctl: warning: the log says " << st.lost
			<< " decision records were lost (ring buffer or write errors): what they held is missing here\n";
	std::cerr << "ltrackctl: read " << st.decisions << " decision records from " << st.files << " file"
		  << (st.files == 1 ? "" : "s") << "\n";
	if (!ok)
		return false;
	if (!st.problems.empty() && !o.skip_malformed) {
		std::cerr << "ltrackctl: " << st.problems.size()
			  << (st.problems.size() == 1 ? " line is not a decision record"
						      : " lines are not decision records")
			  << "; fix or remove them, or pass --skip-malformed\n";
		return false;
	}
	return true;
}

bool read_text(const std::string &path, std::string &out)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		return false;
	std::ostringstream ss;
	ss << in.rdbuf();
	out = ss.str();
	return static_cast<bool>(in) || in.eof();
}

// Name patterns the policy's profiles deny in their file sections: a learned
// dir rule would outrank them.
std::map<std::string, std::vector<std::string>> denied_names(const std::string &text)
{
	std::map<std::string, std::vector<std::string>> out;
	try {
		toml::table root = toml::parse(text);
		if (const toml::table *profiles = root["profile"].as_table())
			for (const auto &[name, prof] : *profiles) {
				const toml::array *rules =
					prof.as_table() ? (*prof.as_table())["file"]["rules"].as_array() : nullptr;
				if (!rules)
					continue;
				for (const auto &r : *rules) {
					const toml::table *t = r.as_table();
					if (!t)
						continue;
					auto action = (*t)["action"].value<std::string>();
					auto pat = (*t)["name"].value<std::string>();
					if (pat && action &&
					    abi::is_refusing(
						    abi::value_of<ltrack_action>(*action).value_or(LTRACK_ACT_NONE)))
						out[std::string(name.str())].push_back(*pat);
				}
			}
	} catch (const toml::parse_error &) {
	}
	return out;
}

bool write_out(const std::string &output, const std::string &text)
{
	if (output.empty() || output == "-") {
		std::cout << text << std::flush;
		return static_cast<bool>(std::cout);
	}
	std::string tmp = output + ".tmp." + std::to_string(getpid());
	std::ofstream out(tmp, std::ios::trunc);
	out << text;
	out.close();
	if (!out || std::rename(tmp.c_str(), output.c_str()) != 0) {
		std::perror(("ltrackctl: writing " + output).c_str());
		std::remove(tmp.c_str());
		return false;
	}
	return true;
}

struct learn_cli {
	log_opts logs;
	std::string policy, diff, output;
	bool rules_only = false;
	unsigned dir_min = 5;
	bool include_denied = false;
	bool proc = false;
};

int run_learn(const learn_cli &o)
{
	std::string base = !o.diff.empty() ? o.diff : o.policy;
	std::string text;
	std::string configured_log;
	bool base_compiles = false;
	if (!base.empty()) {
		if (!read_text(base, text)) {
			std::perror(("ltrackctl: reading " + base).c_str());
			return 2;
		}
		policy::compile_result c = policy::compile_string(text, base);
		if (c.policy) {
			configured_log = c.policy->log.output_path;
			base_compiles = true;
		} else {
			std::cerr << policy::format_all(c.diagnostics);
			std::cerr << "ltrackctl: warning: " << base
				  << " does not compile on this host; the result is checked as TOML and schema only\n";
		}
	}
	learn::learn_options lo;
	lo.dir_min = o.dir_min;
	lo.include_denied = o.include_denied;
	lo.allow_proc = o.proc;
	lo.denied_names = denied_names(text);
	learn::learner l(lo);
	tracing::log_read_stats st;
	if (!read_logs(
		    o.logs, configured_log, [&l](const tracing::decision_record &r) { l.add(r); }, st))
		return 2;
	learn::suggestion s = l.suggest();
	if (s.records == 0)
		std::cerr << "ltrackctl: no would_deny decisions in the log: nothing to learn\n";
	if (base.empty() || o.rules_only)
		return write_out(o.output, learn::render_fragment(s)) ? 0 : 2;
	learn::merge_result m = learn::merge_into(text, s);
	if (!m.error.empty()) {
		std::cerr << "ltrackctl: " << m.error << "\n";
		return 2;
	}
	// Header and what was not learned, as comments at the top.
	std::string notes;
	std::string frag = learn::render_fragment(s);
	std::istringstream in(frag);
	for (std::string line; std::getline(in, line);)
		if (line.rfind("# ltrackctl learn", 0) == 0 || line.rfind("# not learned", 0) == 0 ||
		    line.rfind("# warning", 0) == 0)
			notes += line + "\n";
	std::string merged = notes + m.text;
	// Never hand out a policy that ltrackctl check refuses.
	policy::compile_options copts;
	copts.resolve_paths = base_compiles;
	policy::compile_result c = policy::compile_string(merged, o.diff.empty() ? o.policy : o.diff, copts);
	if (!c.policy) {
		std::cerr
			<< policy::format_all(c.diagnostics)
			<< "ltrackctl: the learned policy does not compile (a bug: please report it); use --rules-only\n";
		return 2;
	}
	if (!o.diff.empty())
		return write_out(o.output, learn::unified_diff(text, merged, o.diff, o.diff + ".learned")) ? 0 : 2;
	return write_out(o.output, merged) ? 0 : 2;
}

struct replay_cli {
	log_opts logs;
	std::string policy;
	bool json = false;
};

int run_replay(const replay_cli &o)
{
	policy::compile_result c = policy::compile_file(o.policy);
	if (!c.policy) {
		std::cerr << policy::format_all(c.diagnostics);
		return 2;
	}
	learn::replayer rp;
	tracing::log_read_stats st;
	if (!read_logs(
		    o.logs, c.policy->log.output_path, [&rp](const tracing::decision_record &r) { rp.add(r); }, st))
		return 2;
	learn::replay_result r = rp.run(*c.policy, policy::resolve_on_host);
	if (o.json)
		std::cout << learn::replay_json(r, o.policy) << "\n";
	else
		std::cout << learn::replay_text(r, o.policy);
	std::cout << std::flush;
	return r.refused.empty() ? 0 : 1;
}

} // namespace

void add_learn_commands(CLI::App &app, context &ctx)
{
	auto lo = std::make_shared<learn_cli>();
	auto *learn = app.add_subcommand(
		"learn", "Suggest the rules a policy lacks from its audit-mode decisions (would_deny records in the "
			 "decision log, rotated backups included), grouped by directory with counts");
	add_log_options(learn, lo->logs);
	auto *pol = learn->add_option(
		"--policy", lo->policy,
		"The current policy: print it with the learned rules merged in (valid for ltrackctl check)");
	auto *diff = learn->add_option("--diff", lo->diff,
				       "The current policy: print a unified diff that adds the learned rules");
	pol->excludes(diff);
	learn->add_flag("--rules-only", lo->rules_only,
			"Print only the learned rules, per profile section, to merge by hand");
	learn->add_option("-o,--output", lo->output, "Write to this file (replaced whole) instead of stdout");
	learn->add_option("--dir-min", lo->dir_min,
			  "Files of one directory before a dir rule is suggested instead of file rules (0: never)")
		->capture_default_str();
	learn->add_flag("--include-denied", lo->include_denied,
			"Also learn from denied and killed (enforce-mode) decisions");
	learn->add_flag("--proc", lo->proc,
			"Allow dir /proc when per-process /proc files (/proc/PID/..., /proc/self/...) were refused: no "
			"narrower rule can name them");
	learn->callback([&ctx, lo] { ctx.exit_code = run_learn(*lo); });

	auto ro = std::make_shared<replay_cli>();
	auto *replay =
		app.add_subcommand("replay", "Replay recorded decisions against a candidate policy: what would it "
					     "refuse? (exit 1 if anything)");
	replay->add_option("--policy", ro->policy, "The candidate policy")->required();
	add_log_options(replay, ro->logs);
	replay->add_flag("--json", ro->json, "One JSON object");
	replay->callback([&ctx, ro] { ctx.exit_code = run_replay(*ro); });
}

} // namespace ltrack::ctl
