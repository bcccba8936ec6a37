// One decision as the operator reads it: the kernel's ltrack_event decoded
// and joined with the process, the rule's origin in the policy and the
// model scanner's findings.
#pragma once

#include "process.h"

#include <abi.h>
#include <abi_names.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::tracing {

enum class severity : uint8_t { info = 0, warn = 1, critical = 2 };

const char *severity_name(severity s); // "info", "warn", "critical"
// Accepts info|warn|critical and the usual logger names: debug and trace map
// to info, warning to warn, error to critical. Case-insensitive.
std::optional<severity> parse_severity(std::string_view name);
// Explicit allows are info; audit-rule matches and would-be denials warn;
// denials and kills critical.
severity severity_of_outcome(uint8_t outcome);

// Where the deciding rule comes from: the policy's symbol table entry.
struct rule_origin {
	uint32_t rule_id = 0; // 0 = no rule (a default without a rule id)
	std::string profile;
	std::string file;
	uint32_t line = 0; // 1-based; 0 = unknown (e.g. a built-in default)
	uint32_t column = 0;
	std::string text; // the rule as written
};

// The scanner's view of a model file (MODEL hook).
struct model_info {
	std::string verdict;              // empty: decoded from the event's verdict
	std::vector<std::string> imports; // the imports that decided it
	std::string at_open; // the scan waiter decided it at first open: scanned, too_large, busy, timeout, failed
};

struct decision_record {
	uint64_t ts_boot_ns = 0;
	std::string time; // RFC 3339, UTC, nanoseconds
	severity level = severity::info;
	// The ABI's values as the event has them (lsm/abi_names.h names them where
	// text is written or read); a value this build does not know is kept
	// and written as "unknown(N)".
	ltrack_hook hook = LTRACK_HOOK_NONE;
	ltrack_action action = LTRACK_ACT_NONE;
	ltrack_mode mode = LTRACK_MODE_INHERIT;
	ltrack_outcome outcome = LTRACK_OUT_ALLOWED;
	uint32_t profile_id = 0;
	rule_origin rule;
	uint32_t pid = 0, tid = 0, ppid = 0, uid = 0, gid = 0; // from the event (authoritative)
	std::string comm;
	uint64_t cgroup_id = 0;
	process_ref process; // from /proc or the cache (shared with it): may be partial
	// FILE / EXEC / MODEL
	std::string path;
	bool path_partial = false; // only the final name is known
	std::string dev;           // "major:minor"
	uint64_t ino = 0;
	bool walk_limit = false; // decided by the fail-closed ancestor walk bound
	// LINK: the object (a directory or symlink) is on the way to the target
	// of the rule that refused it (moving it would re-point the rule's path).
	bool ancestor = false;
	// A built-in rule decided (no policy line): "disconnected",
	// "launch_point", "bpffs", "cgroup_control", "mount_default",
	// "pickle_deny_list" or "python_audit"; "" otherwise.
	std::string builtin;
	// LINK, MOUNT: the operation ("link", "rename", "exchange"; "mount",
	// "bind", "move", "remount", "propagation", "umount", "pivot_root",
	// "new_instance"). path is the object linked or renamed, the mount's
	// target, or (new_instance, remount of a filesystem) its type.
	std::string op;
	// NET
	std::string family;             // "inet", "inet6", "unix"
	std::array<uint8_t, 16> addr{}; // IPv4 mapped into IPv6, as in the event
	std::string addr_text;
	uint16_t port = 0;
	std::string proto;
	std::string sock_type; // SOCKET: "stream", "dgram", "raw", ...
	// MODEL
	model_info model;
	// PRIV (privilege escalation): the credential change. ids are (real,
	// effective, saved) uids, or gids for setgid; caps the effective sets.
	std::string cred_op; // "setuid", "setgid", "capset", "exec"
	std::array<uint32_t, 3> old_ids{}, new_ids{};
	uint64_t old_caps = 0, new_caps = 0;
	// TAMPER (an attempt on ltrack itself): what was tried, on which ltrack
	// process (signal, ptrace, sched), and its argument as text ("BPF_OBJ_GET",
	// "SIGKILL", "attach", "nice"); file operations fill path, dev and ino.
	std::string tamper_op; // bpf signal ptrace sched connect unlink rename link open
	uint32_t target_pid = 0;
	std::string tamper_arg;
	uint64_t count = 1; // identical decisions coalesced into this one
};

// Decodes the event. boot_offset_ns is realtime minus boottime
// (boot_to_realtime_offset_ns()); the event's process fields win over the
// process_info's when they disagree, which they can after pid reuse.
decision_record make_record(const ltrack_event &ev, const process_info &proc, const rule_origin &rule,
			    const model_info &model, uint64_t count, int64_t boot_offset_ns);
// The same with the process shared (the process cache's) and the rule's
// origin moved in: what the daemon calls for each record.
decision_record make_record(const ltrack_event &ev, process_ref proc, rule_origin rule, const model_info &model,
			    uint64_t count, int64_t boot_offset_ns);

// forward: records journald or syslog did not get ([log] journald, syslog).
enum class loss_source { ring_buffer, coalesced, write_error, forward };
const char *loss_source_name(loss_source s); // "ring_buffer", "coalesced", "write_error", "forward"

// "N records were lost / folded": written so that loss is never silent.
struct loss_record {
	uint64_t ts_boot_ns = 0;
	std::string time;
	loss_source source = loss_source::ring_buffer;
	uint64_t count = 0;
};

// ---- decoding helpers -----------------------------------------------------

// Names of the ABI enums; unknown values as "unknown(<n>)".
std::string hook_name(unsigned hook);    // none file exec net model priv socket link mount tamper python
std::string fs_op_name(unsigned op);     // link rename exchange mount ... unlink rmdir replace (enum ltrack_fs_op)
std::string tamper_op_name(unsigned op); // bpf signal ptrace sched connect unlink rename link open
// The argument of a tamper op as text: a bpf command name, a signal name,
// the ptrace access kind, a sched op.
std::string tamper_arg_text(unsigned op, uint64_t arg);
std::string cred_op_name(unsigned op);      // setuid setgid capset exec
std::string python_op_name(unsigned op);    // find_class exec compile subprocess system execv
std::string action_name(unsigned action);   // none allow audit deny kill
std::string mode_name(unsigned mode);       // inherit enforce audit
std::string outcome_name(unsigned outcome); // allowed audited would_deny denied killed
std::string verdict_name(unsigned verdict); // unscanned safe suspicious unsafe error trusted
std::string proto_name(unsigned proto);     // tcp udp icmp icmpv6 sctp, else the number; 0 = ""
std::string family_name(unsigned family);   // inet inet6 unix packet netlink ..., else the number
// A SOCKET record's protocol: a netlink protocol's name ("route", "audit"),
// an IP protocol's ("tcp", "icmp"), else the number.
std::string socket_protocol_name(unsigned family, unsigned protocol);

// An IPv4-mapped address (or family AF_INET) as "10.1.2.3", IPv6 as
// "2001:db8::1".
std::string format_addr(const uint8_t addr[16], unsigned family);
// The kernel's internal dev_t (major << 20 | minor) as "major:minor".
std::string format_dev(uint64_t kernel_dev);
// Boot-relative ns to RFC 3339 UTC with nanoseconds: "2026-11-22T07:08:36.000000123Z".
std::string format_rfc3339(uint64_t boot_ns, int64_t boot_offset_ns);
// CLOCK_REALTIME minus CLOCK_BOOTTIME now, in ns. Re-read it after a clock
// step: the offset moves with settimeofday/NTP steps.
int64_t boot_to_realtime_offset_ns();
// CLOCK_BOOTTIME now, in ns (what bpf_ktime_get_boot_ns() returns).
uint64_t boot_time_now_ns();

} // namespace ltrack::tracing
