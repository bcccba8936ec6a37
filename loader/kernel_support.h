// Can this kernel enforce? Checked once, up front, in this order: BTF,
// "bpf" among the active LSMs, bpf() allowed to this process, ring buffer and
// task storage maps, a trial BPF LSM load, a trial attach.
// The daemon refuses to start on the first failure; `ltrackctl doctor`
// prints every line.
#pragma once

#include <string>
#include <vector>

namespace ltrack {

struct support_check {
	std::string name; // "kernel BTF", "bpf in active LSMs", ...
	bool ok = false;
	std::string detail; // what was found
	std::string fix;    // one sentence: what to do (empty when ok)
};

struct support_report {
	std::vector<support_check> checks;
	bool ok() const;
	// The first failure as one sentence: "<name>: <detail>; <fix>".
	std::string first_failure() const;
};

// One line per requirement, with the fix under a failed one; then, if
// something failed, "cannot enforce: <first failure>".
std::string format_report(const support_report &r);
// The same as one JSON object (--json of doctor and --check-support):
// {"ok":bool,"checks":[{"name","ok","detail","fix"}...],"cannot_enforce":"<first failure>"},
// the last only when something failed.
std::string format_report_json(const support_report &r);

// Runs the checks, stopping the trial steps after the first failure
// (they cannot succeed once an earlier one failed).
support_report probe_kernel_support();

} // namespace ltrack
