// What one `ltrackctl run` did, summed up from its decision records: counts by
// hook, action and outcome, the objects refused (or, in audit mode, that
// would have been), the highest severity, and the exit status that says it.
#pragma once

#include "record.h"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ltrack::tracing {

// ltrackctl run's exit statuses (docs/operations.md, man/ltrackctl.8).
enum run_exit : int {
	run_exit_clean = 0,          // nothing refused, the command exited 0
	run_exit_error = 1,          // ltrackctl could not run the command (policy, kernel, exec)
	run_exit_command_failed = 2, // nothing refused, the command failed (status != 0 or a signal)
	run_exit_violation = 3,      // something was refused, or would have been (--audit)
	run_exit_killed = 4,         // --kill-on-violation ended the command
	run_exit_incomplete = 5,     // decision records were dropped: the record is incomplete, never clean
};

// A violation is whatever the policy forbids: a denial, a kill, or in audit
// mode a would-be denial (abi::is_denial of the record's outcome). An audit
// rule's match ("audited") is not one.

// How the command ended, for the report.
struct run_end {
	std::vector<std::string> command;
	std::string profile, policy, mode; // mode: "enforce" or "audit"
	bool exec_failed = false;          // the command never started (exec_error says why)
	std::string exec_error;
	int exit_code = -1; // when it exited
	int signal = 0;     // when a signal ended it
	bool killed_on_violation = false;
	unsigned leftover_killed = 0; // processes of the run still alive when the command ended
	uint64_t records_dropped = 0; // decision records the kernel could not deliver
	double seconds = 0;
};

class run_summary {
public:
	void add(const decision_record &r);

	uint64_t decisions() const { return decisions_; }
	uint64_t violations() const { return violations_; }
	// -1 when there was no decision at all.
	int highest_severity() const { return highest_; }
	int exit_status(const run_end &end) const;

	std::string text(const run_end &end) const;
	std::string json(const run_end &end) const; // one object, no newline

	// At most this many refused objects are listed; the rest are counted.
	static constexpr std::size_t max_listed = 100;

private:
	struct refused {
		std::string hook, object, outcome, exe, rule, rule_text, verdict;
		std::vector<std::string> imports;
		uint32_t pid = 0;
		uint64_t count = 0;
	};
	uint64_t decisions_ = 0, violations_ = 0, unlisted_ = 0;
	int highest_ = -1;
	std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_hook_action_; // hook, action, outcome
	std::vector<refused> refused_;
	std::map<std::pair<std::string, std::string>, std::size_t> refused_index_; // (hook, object) -> refused_
};

} // namespace ltrack::tracing
