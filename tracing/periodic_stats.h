// The decision log's periodic "stats" record ([log] stats_interval): what
// was decided in the last interval, per hook, action, outcome and profile,
// and the processes with the most denials. Written in the log's own format
// so it travels with the decisions (docs/decision-log.md).
#pragma once

#include "record.h"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ltrack::tracing {

class stats_window {
public:
	static constexpr size_t top_max = 10; // processes listed in top_denied

	void add(const decision_record &r);
	// The record for the interval that ends now, then a fresh interval.
	// totals are the daemon's counts since it started.
	struct totals {
		uint64_t decisions = 0, ringbuf_drops = 0;
	};
	std::string take_json(uint64_t ts_boot_ns, const std::string &time, uint32_t interval_s, const totals &t);
	// reset = false leaves the window as it was (to write the same record in both formats).
	std::string take_text(uint64_t ts_boot_ns, const std::string &time, uint32_t interval_s, const totals &t,
			      bool reset = true);
	uint64_t decisions() const { return decisions_; }

private:
	struct denier {
		std::string exe;
		uint64_t denials = 0;
	};
	struct ranked_denier {
		uint32_t pid;
		uint64_t start;
		std::string exe;
		uint64_t denials;
	};
	std::vector<ranked_denier> top() const; // most denials first, at most top_max
	void reset();

	uint64_t decisions_ = 0, denials_ = 0;
	std::map<std::string, uint64_t> by_hook_, by_action_, by_outcome_, by_profile_;
	std::map<std::pair<uint32_t, uint64_t>, denier> deniers_; // (pid, start_boot_ns)
};

} // namespace ltrack::tracing
