/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/*
 * User space's names for the enums of lsm/abi.h: one table per enum, the
 * only place a name is spelled. The decision log writes them, the policy
 * and filter expressions read them, explain prints them; each turns a value
 * into its name (name_of) and a name into its value (value_of) here.
 *
 * A table lists every value from the enum's first to its last, in order, so
 * a value is its own index; the static_asserts below check that, that no
 * name is empty or used twice, and that the last value named is the enum's
 * last in abi.h. A value added to abi.h without a name here breaks the build
 * where the "last value" check names it.
 */
#ifndef LTRACK_ABI_NAMES_H
#define LTRACK_ABI_NAMES_H

#include "abi.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::abi {

template <typename E>
struct enum_name {
	E value;
	const char *name;
};

/* The table of an enum: names<E>::table. */
template <typename E>
struct names;

#define LTRACK_NAMES(E, ...)                                                                                           \
	template <>                                                                                                    \
	struct names<E> {                                                                                              \
		static constexpr enum_name<E> table[] = {__VA_ARGS__};                                                 \
	}

/* A record's hook; ANCESTOR is a key of inode_rules only, never in a record. */
LTRACK_NAMES(ltrack_hook, {LTRACK_HOOK_NONE, "none"}, {LTRACK_HOOK_FILE, "file"}, {LTRACK_HOOK_EXEC, "exec"},
	     {LTRACK_HOOK_NET, "net"}, {LTRACK_HOOK_MODEL, "model"}, {LTRACK_HOOK_PRIV, "priv"},
	     {LTRACK_HOOK_SOCKET, "socket"}, {LTRACK_HOOK_LINK, "link"}, {LTRACK_HOOK_MOUNT, "mount"},
	     {LTRACK_HOOK_TAMPER, "tamper"}, {LTRACK_HOOK_PYTHON, "python"}, {LTRACK_HOOK_ANCESTOR, "ancestor"});
LTRACK_NAMES(ltrack_action, {LTRACK_ACT_NONE, "none"}, {LTRACK_ACT_ALLOW, "allow"}, {LTRACK_ACT_AUDIT, "audit"},
	     {LTRACK_ACT_DENY, "deny"}, {LTRACK_ACT_KILL, "kill"});
LTRACK_NAMES(ltrack_mode, {LTRACK_MODE_INHERIT, "inherit"}, {LTRACK_MODE_ENFORCE, "enforce"},
	     {LTRACK_MODE_AUDIT, "audit"});
LTRACK_NAMES(ltrack_outcome, {LTRACK_OUT_ALLOWED, "allowed"}, {LTRACK_OUT_AUDITED, "audited"},
	     {LTRACK_OUT_WOULD_DENY, "would_deny"}, {LTRACK_OUT_DENIED, "denied"}, {LTRACK_OUT_KILLED, "killed"});
LTRACK_NAMES(ltrack_verdict, {LTRACK_VERDICT_UNSCANNED, "unscanned"}, {LTRACK_VERDICT_SAFE, "safe"},
	     {LTRACK_VERDICT_SUSPICIOUS, "suspicious"}, {LTRACK_VERDICT_UNSAFE, "unsafe"},
	     {LTRACK_VERDICT_ERROR, "error"}, {LTRACK_VERDICT_TRUSTED, "trusted"});
/* A model rule's allow = "safe" | "unscanned" | "any"; off: no model rule. */
LTRACK_NAMES(ltrack_model_policy, {LTRACK_MODEL_OFF, "off"}, {LTRACK_MODEL_SAFE_ONLY, "safe"},
	     {LTRACK_MODEL_ALLOW_UNSCANNED, "unscanned"}, {LTRACK_MODEL_ANY, "any"});
LTRACK_NAMES(ltrack_cred_op, {LTRACK_CRED_SETUID, "setuid"}, {LTRACK_CRED_SETGID, "setgid"},
	     {LTRACK_CRED_CAPSET, "capset"}, {LTRACK_CRED_EXEC, "exec"});
LTRACK_NAMES(ltrack_fs_op, {LTRACK_FS_LINK, "link"}, {LTRACK_FS_RENAME, "rename"}, {LTRACK_FS_EXCHANGE, "exchange"},
	     {LTRACK_FS_MOUNT, "mount"}, {LTRACK_FS_BIND, "bind"}, {LTRACK_FS_MOVE, "move"},
	     {LTRACK_FS_REMOUNT, "remount"}, {LTRACK_FS_PROPAGATION, "propagation"}, {LTRACK_FS_UMOUNT, "umount"},
	     {LTRACK_FS_PIVOT_ROOT, "pivot_root"}, {LTRACK_FS_NEW_SB, "new_instance"}, {LTRACK_FS_UNLINK, "unlink"},
	     {LTRACK_FS_RMDIR, "rmdir"}, {LTRACK_FS_REPLACE, "replace"});
LTRACK_NAMES(ltrack_python_op, {LTRACK_PY_FIND_CLASS, "find_class"}, {LTRACK_PY_EXEC, "exec"},
	     {LTRACK_PY_COMPILE, "compile"}, {LTRACK_PY_SUBPROCESS, "subprocess"}, {LTRACK_PY_SYSTEM, "system"},
	     {LTRACK_PY_EXECV, "execv"});
LTRACK_NAMES(ltrack_tamper_op, {LTRACK_TAMPER_BPF, "bpf"}, {LTRACK_TAMPER_SIGNAL, "signal"},
	     {LTRACK_TAMPER_PTRACE, "ptrace"}, {LTRACK_TAMPER_SCHED, "sched"}, {LTRACK_TAMPER_CONNECT, "connect"},
	     {LTRACK_TAMPER_UNLINK, "unlink"}, {LTRACK_TAMPER_RENAME, "rename"}, {LTRACK_TAMPER_LINK, "link"},
	     {LTRACK_TAMPER_OPEN, "open"}, {LTRACK_TAMPER_NOTIFY, "notify"});
LTRACK_NAMES(ltrack_sched_op, {LTRACK_SCHED_NICE, "nice"}, {LTRACK_SCHED_POLICY, "scheduler"},
	     {LTRACK_SCHED_IOPRIO, "ioprio"}, {LTRACK_SCHED_RLIMIT, "rlimit"});
/* How the scan-at-open waiter decided a MODEL record (model.at_open). */
LTRACK_NAMES(ltrack_scan_wait, {LTRACK_WAIT_NONE, "none"}, {LTRACK_WAIT_SCANNED, "scanned"},
	     {LTRACK_WAIT_TOO_LARGE, "too_large"}, {LTRACK_WAIT_BUSY, "busy"}, {LTRACK_WAIT_TIMEOUT, "timeout"},
	     {LTRACK_WAIT_FAILED, "failed"});

#undef LTRACK_NAMES

/* ---- the checks -------------------------------------------------------- */

namespace detail {

constexpr bool same_text(const char *a, const char *b)
{
	while (*a && *a == *b) {
		++a;
		++b;
	}
	return *a == *b;
}

/* Every value from the first to last, in order, each with a name of its
 * own: the table is dense (a value is first + its index) and complete. */
template <typename E>
constexpr bool complete(E last)
{
	const auto &t = names<E>::table;
	constexpr std::size_t n = std::size(names<E>::table);
	for (std::size_t i = 0; i < n; ++i) {
		if (static_cast<uint64_t>(t[i].value) != static_cast<uint64_t>(t[0].value) + i)
			return false;
		if (!t[i].name || !*t[i].name)
			return false;
		for (std::size_t j = 0; j < i; ++j)
			if (same_text(t[i].name, t[j].name))
				return false;
	}
	return t[n - 1].value == last;
}

} // namespace detail

/* The second argument is the enum's last value in abi.h: a value appended
 * there is appended here, with its name. */
static_assert(detail::complete(LTRACK_HOOK_ANCESTOR), "enum ltrack_hook: a value without a name");
static_assert(detail::complete(LTRACK_ACT_KILL), "enum ltrack_action: a value without a name");
static_assert(detail::complete(LTRACK_MODE_AUDIT), "enum ltrack_mode: a value without a name");
static_assert(detail::complete(LTRACK_OUT_KILLED), "enum ltrack_outcome: a value without a name");
static_assert(detail::complete(LTRACK_VERDICT_TRUSTED), "enum ltrack_verdict: a value without a name");
static_assert(detail::complete(LTRACK_MODEL_ANY), "enum ltrack_model_policy: a value without a name");
static_assert(detail::complete(LTRACK_CRED_EXEC), "enum ltrack_cred_op: a value without a name");
static_assert(detail::complete(LTRACK_FS_REPLACE), "enum ltrack_fs_op: a value without a name");
static_assert(detail::complete(LTRACK_PY_EXECV), "enum ltrack_python_op: a value without a name");
static_assert(detail::complete(LTRACK_TAMPER_NOTIFY), "enum ltrack_tamper_op: a value without a name");
static_assert(detail::complete(LTRACK_SCHED_RLIMIT), "enum ltrack_sched_op: a value without a name");
static_assert(detail::complete(LTRACK_WAIT_FAILED), "enum ltrack_scan_wait: a value without a name");

/* ---- lookups ----------------------------------------------------------- */

/* The name of v, nullptr if v is not a value of E this build knows (a
 * record from a newer BPF object, a corrupt map entry). */
template <typename E>
constexpr const char *name_of(uint64_t v)
{
	const auto &t = names<E>::table;
	uint64_t first = static_cast<uint64_t>(t[0].value);
	return v >= first && v - first < std::size(t) ? t[v - first].name : nullptr;
}
template <typename E>
constexpr const char *name_of(E v)
{
	return name_of<E>(static_cast<uint64_t>(v));
}

/* The value named name (exactly, case-sensitive), nullopt if none. */
template <typename E>
constexpr std::optional<E> value_of(std::string_view name)
{
	for (const auto &e : names<E>::table)
		if (name == e.name)
			return e.value;
	return std::nullopt;
}

/* The name, or "unknown(<n>)" for a value without one: how the decision log
 * writes an enum, so nothing is lost. */
template <typename E>
std::string name_or_number(uint64_t v)
{
	const char *n = name_of<E>(v);
	return n ? std::string(n) : "unknown(" + std::to_string(v) + ")";
}

/* name_or_number's inverse: a name, or "unknown(<n>)" back to n (which may
 * be any number that fits E's field); nullopt for anything else. */
template <typename E>
std::optional<E> value_or_number(std::string_view text)
{
	if (auto v = value_of<E>(text))
		return v;
	constexpr std::string_view pre = "unknown(";
	if (!text.starts_with(pre) || !text.ends_with(")") || text.size() <= pre.size() + 1 ||
	    text.size() > pre.size() + 1 + 3)
		return std::nullopt;
	unsigned n = 0;
	for (char c : text.substr(pre.size(), text.size() - pre.size() - 1)) {
		if (c < '0' || c > '9')
			return std::nullopt;
		n = n * 10 + unsigned(c - '0');
	}
	if (n > 255 || name_of<E>(n))
		return std::nullopt; // a byte field; a named value is written by its name
	return static_cast<E>(n);
}

/* "allow, audit, deny or kill": the names from the first to the last, for an
 * error message that lists what is accepted. */
template <typename E>
std::string names_list(E from, E to, const char *last_sep = " or ")
{
	std::string out;
	for (uint64_t v = static_cast<uint64_t>(from); v <= static_cast<uint64_t>(to); ++v) {
		if (!out.empty())
			out += v == static_cast<uint64_t>(to) ? last_sep : ", ";
		out += name_of<E>(v);
	}
	return out;
}

/* The names of the values, in the order given: the choices a policy key
 * accepts. */
template <typename E>
std::vector<std::string> names_of(std::initializer_list<E> values)
{
	std::vector<std::string> out;
	for (E v : values)
		out.emplace_back(name_of(v));
	return out;
}

/* ---- predicates -------------------------------------------------------- */

/* The operation was refused, or would have been in enforce mode: denied,
 * killed, would_deny. An audit rule's match (audited) is not one. An outcome
 * past the last this build names (programs of a newer ltrack, adopted after
 * a downgrade) counts as one: a violation is never missed for want of a name. */
constexpr bool is_denial(ltrack_outcome o)
{
	// KILLED is the last named outcome (the static_assert on its table).
	return o == LTRACK_OUT_DENIED || o == LTRACK_OUT_KILLED || o == LTRACK_OUT_WOULD_DENY || o > LTRACK_OUT_KILLED;
}
/* Refused in fact: denied or killed (not an audit-mode would_deny). */
constexpr bool is_refused(ltrack_outcome o)
{
	return o == LTRACK_OUT_DENIED || o == LTRACK_OUT_KILLED;
}
/* A rule that refuses: deny or kill. */
constexpr bool is_refusing(ltrack_action a)
{
	return a == LTRACK_ACT_DENY || a == LTRACK_ACT_KILL;
}
/* A net or socket decision: its object is an address or a socket, not a file. */
constexpr bool is_net(ltrack_hook h)
{
	return h == LTRACK_HOOK_NET || h == LTRACK_HOOK_SOCKET;
}

} // namespace ltrack::abi

#endif /* LTRACK_ABI_NAMES_H */
