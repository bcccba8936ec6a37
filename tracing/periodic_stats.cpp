#include "periodic_stats.h"

#include "record_format.h"

#include <algorithm>
#include <vector>

namespace ltrack::tracing {
namespace {

std::string json_counts(const std::map<std::string, uint64_t> &m)
{
	std::string out = "{";
	for (const auto &[k, v] : m)
		out += (out.size() > 1 ? "," : "") + json_string(k) + ":" + std::to_string(v);
	return out + "}";
}

std::string text_counts(const std::map<std::string, uint64_t> &m)
{
	std::string out;
	for (const auto &[k, v] : m)
		out += (out.empty() ? "" : " ") + text_escape(k) + "=" + std::to_string(v);
	return out.empty() ? "-" : out;
}

} // namespace

void stats_window::add(const decision_record &r)
{
	decisions_ += r.count;
	by_hook_[hook_name(r.hook)] += r.count;
	by_action_[action_name(r.action)] += r.count;
	by_outcome_[outcome_name(r.outcome)] += r.count;
	by_profile_[r.rule.profile.empty() ? std::to_string(r.profile_id) : r.rule.profile] += r.count;
	if (abi::is_denial(r.outcome)) {
		denials_ += r.count;
		denier &d = deniers_[{r.pid, r.process->start_boot_ns}];
		d.exe = r.process->exe.empty() ? "[" + r.comm + "]" : r.process->exe;
		d.denials += r.count;
	}
}

std::vector<stats_window::ranked_denier> stats_window::top() const
{
	std::vector<ranked_denier> v;
	for (const auto &[k, d] : deniers_)
		v.push_back({k.first, k.second, d.exe, d.denials});
	std::stable_sort(v.begin(), v.end(), [](const auto &a, const auto &b) { return a.denials > b.denials; });
	if (v.size() > top_max)
		v.resize(top_max);
	return v;
}

void stats_window::reset()
{
	*this = stats_window();
}

std::string stats_window::take_json(uint64_t ts_boot_ns, const std::string &time, uint32_t interval_s, const totals &t)
{
	std::string tops = "[";
	for (const auto &e : top())
		tops += (tops.size() > 1 ? "," : "") + std::string("{\"pid\":") + std::to_string(e.pid) +
			",\"start_boot_ns\":" + std::to_string(e.start) + ",\"exe\":" + json_string(e.exe) +
			",\"denials\":" + std::to_string(e.denials) + "}";
	tops += "]";
	std::string out = "{\"type\":\"stats\",\"time\":" + json_string(time) +
			  ",\"host\":" + json_string(host_name()) + ",\"ts_boot_ns\":" + std::to_string(ts_boot_ns) +
			  ",\"severity\":\"info\",\"interval_s\":" + std::to_string(interval_s) +
			  ",\"decisions\":" + std::to_string(decisions_) + ",\"denials\":" + std::to_string(denials_) +
			  ",\"by_hook\":" + json_counts(by_hook_) + ",\"by_action\":" + json_counts(by_action_) +
			  ",\"by_outcome\":" + json_counts(by_outcome_) +
			  ",\"by_profile\":" + json_counts(by_profile_) + ",\"top_denied\":" + tops +
			  ",\"total_decisions\":" + std::to_string(t.decisions) +
			  ",\"total_ringbuf_drops\":" + std::to_string(t.ringbuf_drops) + "}";
	reset();
	return out;
}

std::string stats_window::take_text(uint64_t ts_boot_ns, const std::string &time, uint32_t interval_s, const totals &t,
				    bool reset_after)
{
	(void)ts_boot_ns;
	std::string tops;
	for (const auto &e : top())
		tops += (tops.empty() ? "" : " ") + text_escape(e.exe) + "[" + std::to_string(e.pid) +
			"]=" + std::to_string(e.denials);
	std::string out = time + " INFO stats last " + std::to_string(interval_s) + "s: " + std::to_string(decisions_) +
			  " decisions, " + std::to_string(denials_) + " denials; hook " + text_counts(by_hook_) +
			  "; action " + text_counts(by_action_) + "; outcome " + text_counts(by_outcome_) +
			  "; profile " + text_counts(by_profile_) + "; top denied " + (tops.empty() ? "-" : tops) +
			  "; since start " + std::to_string(t.decisions) + " decisions, " +
			  std::to_string(t.ringbuf_drops) + " dropped";
	if (reset_after)
		reset();
	return out;
}

} // namespace ltrack::tracing
