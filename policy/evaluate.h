// Answers "which rule decides, and why" by evaluating the compiled entries
// the way lsm/*.bpf.c does: the ancestor walk on identities, name rules,
// defaults, the model layer, the LPM lookup for connects, and the mode.
#pragma once

#include "compiled_policy.h"
#include "path_resolver.h"

#include <optional>
#include <string>
#include <vector>

namespace ltrack::policy {

struct explanation {
	std::string profile;
	uint32_t profile_id = 0;
	uint32_t hook = LTRACK_HOOK_NONE; // FILE, EXEC, NET, SOCKET, MODEL (a model refusal), LINK or MOUNT
	uint8_t action = LTRACK_ACT_NONE;
	uint32_t rule_id = 0; // 0: an implicit default
	bool is_default = false;
	bool walk_limit = false;                     // decided by the fail-closed walk bound
	uint32_t verdict = LTRACK_VERDICT_UNSCANNED; // the model verdict assumed
	uint32_t mode = LTRACK_MODE_AUDIT;           // effective mode
	uint8_t outcome = LTRACK_OUT_ALLOWED;
	std::vector<std::string> steps; // how the decision was reached
	std::string socket_kind;        // SOCKET: the `sockets` entry this socket needs ("raw", "netlink-audit")
};

struct explain_result {
	std::optional<explanation> ex;
	std::string error; // e.g. unknown profile
};

// Opening path, as the governed process would. verdict: what the scanner
// says of the file, for the model layer (the real one is only known to the
// daemon). The resolver must be the one the policy was compiled with.
explain_result explain_file(const compiled_policy &p, const std::string &profile, const std::string &path,
			    uint32_t verdict = LTRACK_VERDICT_UNSCANNED,
			    const path_resolver &resolve = resolve_on_host);
// A link, rename, unlink or rmdir of path, or a rename over it (what
// guard_by_open_decision decides: refused when opening it is).
explain_result explain_link(const compiled_policy &p, const std::string &profile, const std::string &path,
			    uint32_t verdict = LTRACK_VERDICT_UNSCANNED,
			    const path_resolver &resolve = resolve_on_host);
// Any mount change by the profile's processes ([profile.X.mount] default).
explain_result explain_mount(const compiled_policy &p, const std::string &profile);
explain_result explain_exec(const compiled_policy &p, const std::string &profile, const std::string &path,
			    const path_resolver &resolve = resolve_on_host);
// "ADDR:PORT[/tcp|udp]", "[ADDR6]:PORT[/...]" or "unix:PATH".
explain_result explain_connect(const compiled_policy &p, const std::string &profile, const std::string &dest);
// Creating (or using) a socket: "FAMILY[/TYPE[/PROTOCOL]]" as the decision
// log names them ("packet", "inet/raw/icmp", "netlink/raw/audit") or numbers.
explain_result explain_socket(const compiled_policy &p, const std::string &profile, const std::string &spec);

std::string outcome_name(uint8_t outcome);
std::string verdict_name(uint32_t verdict);
std::optional<uint32_t> parse_verdict(const std::string &name);

} // namespace ltrack::policy
