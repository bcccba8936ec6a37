#include "record.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "abi_names.h"
#include "socket_names.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <iterator>

namespace ltrack::tracing {

const char *severity_name(severity s)
{
	switch (s) {
	case severity::info: return "info";
	case severity::warn: return "warn";
	case severity::critical: return "critical";
	}
	return "critical";
}

std::optional<severity> parse_severity(std::string_view name)
{
	std::string n(name);
	std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
	if (n == "trace" || n == "debug" || n == "info")
		return severity::info;
	if (n == "warn" || n == "warning")
		return severity::warn;
	if (n == "error" || n == "err" || n == "critical")
		return severity::critical;
	return std::nullopt;
}

severity severity_of_outcome(uint8_t outcome)
{
	switch (outcome) {
	case LTRACK_OUT_ALLOWED: return severity::info;
	case LTRACK_OUT_AUDITED:
	case LTRACK_OUT_WOULD_DENY: return severity::warn;
	case LTRACK_OUT_DENIED:
	case LTRACK_OUT_KILLED: return severity::critical;
	}
	return severity::warn; // an outcome this build does not know: surface it
}

const char *loss_source_name(loss_source s)
{
	switch (s) {
	case loss_source::ring_buffer: return "ring_buffer";
	case loss_source::coalesced: return "coalesced";
	case loss_source::write_error: return "write_error";
	case loss_source::forward: return "forward";
	}
	return "unknown";
}

namespace {

bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return std::memcmp(a, prefix, 12) == 0;
}

int64_t clock_ns(clockid_t id)
{
	timespec ts{};
	clock_gettime(id, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

} // namespace

std::string hook_name(unsigned v)
{
	return abi::name_or_number<ltrack_hook>(v);
}
std::string python_op_name(unsigned v)
{
	return abi::name_or_number<ltrack_python_op>(v);
}
std::string fs_op_name(unsigned v)
{
	return abi::name_or_number<ltrack_fs_op>(v);
}

// The built-in rule behind a decision no policy line made, "" if none.
std::string builtin_name(const ltrack_event &ev)
{
	if (ev.flags & LTRACK_EV_DISCONNECTED)
		return "disconnected";
	if (ev.flags & LTRACK_EV_LAUNCH_POINT)
		return "launch_point";
	if (ev.flags & LTRACK_EV_BPFFS)
		return "bpffs";
	if (ev.flags & LTRACK_EV_CGROUP_CONTROL)
		return "cgroup_control";
	if (ev.hook == LTRACK_HOOK_MOUNT && ev.rule_id == 0)
		return "mount_default";
	if (ev.hook == LTRACK_HOOK_PYTHON)
		return ev.cred_op == LTRACK_PY_FIND_CLASS ? "pickle_deny_list" : "python_audit";
	return "";
}

std::string builtin_text(const std::string &name)
{
	if (name == "disconnected")
		return "built-in: an object reached without its path (open_by_handle_at) fails closed";
	if (name == "launch_point")
		return "built-in: no writes to host-wide helper launch points (core_pattern, modprobe, uevent helper, "
		       "binfmt_misc, ...)";
	if (name == "cgroup_control")
		return "built-in: no writes to a cgroup's cgroup.procs, cgroup.threads, cgroup.freeze or cgroup.kill (they "
		       "move, freeze or kill processes, ltrack's own included)";
	if (name == "bpffs")
		return "built-in: nothing is mounted on, moved from or unmounted off a bpffs";
	if (name == "pickle_deny_list")
		return "built-in: a pickle may not import a global on the scanner's deny list (Python audit hook)";
	if (name == "python_audit")
		return "built-in: a governed interpreter's in-memory code and commands are recorded (Python audit hook)";
	if (name == "mount_default")
		return "built-in: mounts refused (the profile has no [mount] section)";
	return "";
}

std::string tamper_op_name(unsigned v)
{
	return abi::name_or_number<ltrack_tamper_op>(v);
}

std::string tamper_arg_text(unsigned op, uint64_t arg)
{
	switch (op) {
	case LTRACK_TAMPER_BPF: {
		// enum bpf_cmd, in the kernel's order.
		static const char *const cmds[] = {"BPF_MAP_CREATE",        "BPF_MAP_LOOKUP_ELEM",
						   "BPF_MAP_UPDATE_ELEM",   "BPF_MAP_DELETE_ELEM",
						   "BPF_MAP_GET_NEXT_KEY",  "BPF_PROG_LOAD",
						   "BPF_OBJ_PIN",           "BPF_OBJ_GET",
						   "BPF_PROG_ATTACH",       "BPF_PROG_DETACH",
						   "BPF_PROG_TEST_RUN",     "BPF_PROG_GET_NEXT_ID",
						   "BPF_MAP_GET_NEXT_ID",   "BPF_PROG_GET_FD_BY_ID",
						   "BPF_MAP_GET_FD_BY_ID",  "BPF_OBJ_GET_INFO_BY_FD",
						   "BPF_PROG_QUERY",        "BPF_RAW_TRACEPOINT_OPEN",
						   "BPF_BTF_LOAD",          "BPF_BTF_GET_FD_BY_ID",
						   "BPF_TASK_FD_QUERY",     "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
						   "BPF_MAP_FREEZE",        "BPF_BTF_GET_NEXT_ID",
						   "BPF_MAP_LOOKUP_BATCH",  "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
						   "BPF_MAP_UPDATE_BATCH",  "BPF_MAP_DELETE_BATCH",
						   "BPF_LINK_CREATE",       "BPF_LINK_UPDATE",
						   "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
						   "BPF_ENABLE_STATS",      "BPF_ITER_CREATE",
						   "BPF_LINK_DETACH",       "BPF_PROG_BIND_MAP",
						   "BPF_TOKEN_CREATE"};
		return arg < std::size(cmds) ? cmds[arg] : "bpf command " + std::to_string(arg);
	}
	case LTRACK_TAMPER_SIGNAL: {
		const char *abbrev = arg ? sigabbrev_np(static_cast<int>(arg)) : nullptr;
		return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(arg);
	}
	case LTRACK_TAMPER_PTRACE:
		// PTRACE_MODE_READ 0x01, PTRACE_MODE_ATTACH 0x02.
		return arg & 0x02 ? "attach" : "read";
	case LTRACK_TAMPER_SCHED: return abi::name_or_number<ltrack_sched_op>(arg);
	case LTRACK_TAMPER_NOTIFY: {
		std::string out;
		for (auto [bit, name] : {std::pair{0x10000ull, "FAN_OPEN_PERM"},
					 {0x20000ull, "FAN_ACCESS_PERM"},
					 {0x40000ull, "FAN_OPEN_EXEC_PERM"}})
			if (arg & bit)
				out += (out.empty() ? "" : "|") + std::string(name);
		return out;
	}
	}
	return "";
}
std::string cred_op_name(unsigned v)
{
	return abi::name_or_number<ltrack_cred_op>(v);
}
std::string action_name(unsigned v)
{
	return abi::name_or_number<ltrack_action>(v);
}
std::string mode_name(unsigned v)
{
	return abi::name_or_number<ltrack_mode>(v);
}
std::string outcome_name(unsigned v)
{
	return abi::name_or_number<ltrack_outcome>(v);
}
std::string verdict_name(unsigned v)
{
	return abi::name_or_number<ltrack_verdict>(v);
}

std::string proto_name(unsigned p)
{
	switch (p) {
	case 0: return "";
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	}
	return std::to_string(p);
}

std::string family_name(unsigned f)
{
	return socket_family_name(f);
}

std::string socket_protocol_name(unsigned family, unsigned protocol)
{
	if (family == AF_NETLINK) {
		const char *n = socket_name_of(netlink_protocols, protocol);
		return n ? n : std::to_string(protocol);
	}
	if (family == AF_INET || family == AF_INET6)
		return protocol ? proto_name(protocol) : "0";
	return std::to_string(protocol);
}

std::string format_addr(const uint8_t addr[16], unsigned family)
{
	char buf[INET6_ADDRSTRLEN];
	if (family == AF_INET || (family != AF_INET6 && is_v4_mapped(addr)))
		return inet_ntop(AF_INET, addr + 12, buf, sizeof buf) ? buf : "";
	return inet_ntop(AF_INET6, addr, buf, sizeof buf) ? buf : "";
}

std::string format_dev(uint64_t kernel_dev)
{
	return std::to_string(kernel_dev >> 20) + ":" + std::to_string(kernel_dev & 0xfffff);
}

std::string format_rfc3339(uint64_t boot_ns, int64_t boot_offset_ns)
{
	int64_t real = static_cast<int64_t>(boot_ns) + boot_offset_ns;
	int64_t sec = real / 1000000000, nsec = real % 1000000000;
	if (nsec < 0) {
		nsec += 1000000000;
		--sec;
	}
	// The date and time to the second change once a second: formatted then
	// (records come in time order), only the nanoseconds per record.
	thread_local int64_t cached_sec = INT64_MIN;
	thread_local char prefix[48];
	thread_local size_t prefix_len = 0;
	if (sec != cached_sec) {
		time_t t = static_cast<time_t>(sec);
		tm utc{};
		gmtime_r(&t, &utc);
		int n = std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.", utc.tm_year + 1900,
				      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
		prefix_len = n > 0 ? std::min(static_cast<size_t>(n), sizeof prefix - 1) : 0;
		cached_sec = sec;
	}
	char buf[64];
	std::memcpy(buf, prefix, prefix_len);
	char *d = buf + prefix_len;
	for (int i = 8; i >= 0; --i) {
		d[i] = static_cast<char>('0' + nsec % 10);
		nsec /= 10;
	}
	d[9] = 'Z';
	return std::string(buf, prefix_len + 10);
}

int64_t boot_to_realtime_offset_ns()
{
	// Bracket the realtime read between two boottime reads and keep the
	// tightest sample, so a preemption does not skew the offset.
	int64_t best = 0, best_gap = INT64_MAX;
	for (int i = 0; i < 3; ++i) {
		int64_t b0 = clock_ns(CLOCK_BOOTTIME);
		int64_t r = clock_ns(CLOCK_REALTIME);
		int64_t b1 = clock_ns(CLOCK_BOOTTIME);
		if (b1 - b0 < best_gap) {
			best_gap = b1 - b0;
			best = r - (b0 + (b1 - b0) / 2);
		}
	}
	return best;
}

uint64_t boot_time_now_ns()
{
	return static_cast<uint64_t>(clock_ns(CLOCK_BOOTTIME));
}

decision_record make_record(const ltrack_event &ev, const process_info &proc, const rule_origin &rule,
			    const model_info &model, uint64_t count, int64_t boot_offset_ns)
{
	return make_record(ev, process_ref(proc), rule, model, count, boot_offset_ns);
}

decision_record make_record(const ltrack_event &ev, process_ref proc, rule_origin rule, const model_info &model,
			    uint64_t count, int64_t boot_offset_ns)
{
	decision_record r;
	r.ts_boot_ns = ev.ts_ns;
	r.time = format_rfc3339(ev.ts_ns, boot_offset_ns);
	r.level = severity_of_outcome(ev.outcome);
	r.hook = static_cast<ltrack_hook>(ev.hook);
	r.action = static_cast<ltrack_action>(ev.action);
	r.mode = static_cast<ltrack_mode>(ev.mode);
	r.outcome = static_cast<ltrack_outcome>(ev.outcome);
	r.profile_id = ev.profile;
	r.rule = std::move(rule);
	r.rule.rule_id = ev.rule_id;
	r.pid = ev.pid;
	r.tid = ev.tid;
	r.ppid = ev.ppid;
	r.uid = ev.uid;
	r.gid = ev.gid;
	r.comm.assign(ev.comm, strnlen(ev.comm, sizeof ev.comm));
	r.cgroup_id = ev.cgroup_id;
	r.process = std::move(proc);
	r.walk_limit = ev.flags & LTRACK_EV_WALK_LIMIT;
	r.builtin = builtin_name(ev);
	if (!r.builtin.empty() && r.rule.text.empty())
		r.rule.text = builtin_text(r.builtin);
	// A launch point, ltrack's own pins, cgroup control: critical whatever the mode did.
	if ((ev.flags & (LTRACK_EV_LAUNCH_POINT | LTRACK_EV_BPFFS | LTRACK_EV_CGROUP_CONTROL)) &&
	    ev.outcome != LTRACK_OUT_ALLOWED)
		r.level = severity::critical;
	r.count = count == 0 ? 1 : count;

	std::string path(ev.path, strnlen(ev.path, sizeof ev.path));
	switch (ev.hook) {
	case LTRACK_HOOK_NET:
		r.family = family_name(ev.family);
		r.proto = proto_name(ev.proto);
		if (ev.family == AF_UNIX) {
			r.path = std::move(path);
		} else {
			std::memcpy(r.addr.data(), ev.addr, sizeof ev.addr);
			r.addr_text = format_addr(ev.addr, ev.family);
			r.port = ev.port;
		}
		break;
	case LTRACK_HOOK_SOCKET:
		r.family = family_name(ev.family);
		r.sock_type = socket_type_name(ev.sock_type);
		r.proto = socket_protocol_name(ev.family, ev.proto);
		break;
	case LTRACK_HOOK_PRIV:
		// Gaining privilege is critical whatever the policy did with it.
		if (ev.outcome != LTRACK_OUT_ALLOWED)
			r.level = severity::critical;
		r.cred_op = cred_op_name(ev.cred_op);
		std::copy(std::begin(ev.old_ids), std::end(ev.old_ids), r.old_ids.begin());
		std::copy(std::begin(ev.new_ids), std::end(ev.new_ids), r.new_ids.begin());
		r.old_caps = ev.old_caps;
		r.new_caps = ev.new_caps;
		if (ev.cred_op != LTRACK_CRED_EXEC)
			break;
		r.path = std::move(path); // the program executed
		r.path_partial = ev.flags & LTRACK_EV_PATH_PARTIAL;
		r.dev = format_dev(ev.dev);
		r.ino = ev.ino;
		break;
	case LTRACK_HOOK_LINK:
	case LTRACK_HOOK_MOUNT:
		r.op = fs_op_name(ev.cred_op);
		if (ev.hook == LTRACK_HOOK_LINK && (ev.flags & LTRACK_EV_BY_MODEL))
			r.model.verdict = verdict_name(ev.verdict);
		r.ancestor = ev.hook == LTRACK_HOOK_LINK && (ev.flags & LTRACK_EV_ANCESTOR);
		r.path = std::move(path);
		r.path_partial = ev.flags & LTRACK_EV_PATH_PARTIAL;
		r.dev = format_dev(ev.dev);
		r.ino = ev.ino;
		break;
	case LTRACK_HOOK_TAMPER:
		// An attempt on ltrack itself is critical whatever the mode.
		r.level = severity::critical;
		r.tamper_op = tamper_op_name(ev.tamper_op);
		r.target_pid = ev.target_pid;
		r.tamper_arg = tamper_arg_text(ev.tamper_op, ev.tamper_arg);
		r.path = std::move(path);
		r.path_partial = ev.flags & LTRACK_EV_PATH_PARTIAL;
		r.dev = format_dev(ev.dev);
		r.ino = ev.ino;
		break;
	case LTRACK_HOOK_PYTHON:
		r.op = python_op_name(ev.cred_op);
		r.path = std::move(path);
		if (ev.cred_op == LTRACK_PY_FIND_CLASS && ev.outcome != LTRACK_OUT_ALLOWED)
			r.level = severity::critical; // a pickle that imports a dangerous callable
		break;
	case LTRACK_HOOK_MODEL:
		r.model = model;
		if (r.model.verdict.empty())
			r.model.verdict = verdict_name(ev.verdict);
		if (ev.cred_op)
			r.model.at_open = abi::name_or_number<ltrack_scan_wait>(ev.cred_op);
		[[fallthrough]];
	default:
		r.path = std::move(path);
		r.path_partial = ev.flags & LTRACK_EV_PATH_PARTIAL;
		r.dev = format_dev(ev.dev);
		r.ino = ev.ino;
		break;
	}
	return r;
}

} // namespace ltrack::tracing
