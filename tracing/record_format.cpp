#include "record_format.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace ltrack::tracing {

const char *format_name(log_format f)
{
	return f == log_format::json ? "json" : "text";
}

std::optional<log_format> parse_format(std::string_view name)
{
	std::string n(name);
	std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
	if (n == "json")
		return log_format::json;
	if (n == "text")
		return log_format::text;
	return std::nullopt;
}

namespace {

// Small JSON writer: keeps the field order stable and the commas right.
class json_object {
public:
	json_object() { out_ = "{"; }
	json_object &str(const char *key, std::string_view v)
	{
		name(key);
		out_ += '"';
		json_escape(out_, v);
		out_ += '"';
		return *this;
	}
	json_object &num(const char *key, uint64_t v)
	{
		name(key);
		out_ += std::to_string(v);
		return *this;
	}
	json_object &boolean(const char *key, bool v)
	{
		name(key);
		out_ += v ? "true" : "false";
		return *this;
	}
	json_object &raw(const char *key, const std::string &json)
	{
		name(key);
		out_ += json;
		return *this;
	}
	std::string done()
	{
		out_ += '}';
		return std::move(out_);
	}

private:
	void name(const char *key)
	{
		if (out_.size() > 1)
			out_ += ',';
		out_ += '"';
		out_ += key;
		out_ += "\":";
	}
	std::string out_;
};

// The same writer appending to one buffer, nested objects and arrays in
// place (the hot path of format_json: no string per object, no number
// formatted into a string of its own).
class json_writer {
public:
	explicit json_writer(std::string &out) : out_(out) {}
	json_writer &begin()
	{
		out_ += '{';
		first_ = true;
		return *this;
	}
	json_writer &end()
	{
		out_ += '}';
		first_ = false;
		return *this;
	}
	json_writer &object(const char *key)
	{
		name(key);
		return begin();
	}
	json_writer &str(const char *key, std::string_view v)
	{
		name(key);
		out_ += '"';
		json_escape(out_, v);
		out_ += '"';
		return *this;
	}
	json_writer &num(const char *key, uint64_t v)
	{
		name(key);
		char buf[24];
		auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
		out_.append(buf, end);
		return *this;
	}
	json_writer &boolean(const char *key, bool v)
	{
		name(key);
		out_ += v ? "true" : "false";
		return *this;
	}
	json_writer &raw(const char *key, std::string_view json)
	{
		name(key);
		out_ += json;
		return *this;
	}
	// key: [ then the elements (each after a ',' but the first), then end_array().
	json_writer &array(const char *key)
	{
		name(key);
		out_ += '[';
		first_ = true;
		return *this;
	}
	json_writer &end_array()
	{
		out_ += ']';
		first_ = false;
		return *this;
	}
	std::string &out() { return out_; }

private:
	void name(const char *key)
	{
		if (!first_)
			out_ += ',';
		first_ = false;
		out_ += '"';
		out_ += key;
		out_ += "\":";
	}
	std::string &out_;
	bool first_ = true;
};

std::string json_string_array(const std::vector<std::string> &v)
{
	std::string out = "[";
	for (size_t i = 0; i < v.size(); ++i) {
		if (i)
			out += ',';
		out += '"';
		json_escape(out, v[i]);
		out += '"';
	}
	return out + "]";
}

// Inside a quoted field of the text format a '"' is escaped too.
std::string quote_escape(const std::string &s)
{
	std::string out;
	for (char c : s) {
		if (c == '"')
			out += '\\';
		out += c;
	}
	return out;
}

// A net or socket decision: its object is in "net", not "file".
bool is_net(const decision_record &r)
{
	return abi::is_net(r.hook);
}

bool is_priv(const decision_record &r)
{
	return r.hook == LTRACK_HOOK_PRIV;
}

bool is_tamper(const decision_record &r)
{
	return r.hook == LTRACK_HOOK_TAMPER;
}

// An attempt on ltrack: "bpf BPF_OBJ_GET", "signal SIGKILL to pid 42",
// "ptrace attach to pid 42", "unlink link_guard_file_open (name only, 0:25:7)".
std::string tamper_text(const decision_record &r)
{
	std::string s = r.tamper_op;
	if (!r.tamper_arg.empty())
		s += " " + r.tamper_arg;
	if (r.target_pid)
		s += " to pid " + std::to_string(r.target_pid);
	if (r.ino) {
		s += " " + (r.path.empty() ? "<" + r.dev + ":" + std::to_string(r.ino) + ">" : text_escape(r.path));
		if (r.path_partial)
			s += " (name only, " + r.dev + ":" + std::to_string(r.ino) + ")";
	}
	return s;
}

std::string ids_text(const std::array<uint32_t, 3> &ids)
{
	return std::to_string(ids[0]) + "/" + std::to_string(ids[1]) + "/" + std::to_string(ids[2]);
}

std::string caps_hex(uint64_t caps)
{
	char buf[19];
	std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(caps));
	return buf;
}

// A privilege escalation: "setuid uid 1000/1000/0 -> 1000/0/0",
// "capset caps 0x0 -> 0x1000", "exec /usr/bin/su uid 1000/1000/1000 -> 1000/0/0".
std::string priv_text(const decision_record &r)
{
	if (r.cred_op == "capset")
		return "capset caps " + caps_hex(r.old_caps) + " -> " + caps_hex(r.new_caps);
	std::string ids = std::string(r.cred_op == "setgid" ? "gid " : "uid ") + ids_text(r.old_ids) + " -> " +
			  ids_text(r.new_ids);
	if (r.cred_op == "exec")
		return "exec " + text_escape(r.path) + " " + ids + " caps " + caps_hex(r.old_caps) + " -> " +
		       caps_hex(r.new_caps);
	return r.cred_op + " " + ids;
}

// What the decision was about, for the one-line formats.
std::string upper(const char *s)
{
	std::string u(s);
	std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
	return u;
}

// Fits s into width bytes (keeping its end, where paths are most telling)
// and pads it.
std::string column(std::string s, size_t width, bool keep_end)
{
	auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; };
	if (s.size() > width) {
		// Cut on a UTF-8 boundary: never leave half a character behind.
		if (keep_end) {
			size_t from = s.size() - (width - 3);
			while (from < s.size() && continuation(s[from]))
				++from;
			s = "..." + s.substr(from);
		} else {
			size_t to = width - 3;
			while (to > 0 && continuation(s[to]))
				--to;
			s = s.substr(0, to) + "...";
		}
	}
	s.resize(width, ' ');
	return s;
}

std::string loss_message(const loss_record &l)
{
	std::string n = std::to_string(l.count);
	switch (l.source) {
	case loss_source::ring_buffer:
		return n + " decision records were dropped in the kernel: the ring buffer was full";
	case loss_source::coalesced: return n + " identical decisions were coalesced into earlier records";
	case loss_source::write_error: return n + " decision records could not be written to the log";
	case loss_source::forward:
		return n + " decision records were not sent to journald or syslog: it did not keep up";
	}
	return n + " records lost";
}

severity loss_severity(const loss_record &l)
{
	// Dropped records may have been denials: say so loudly.
	return l.source == loss_source::coalesced ? severity::info : severity::critical;
}

} // namespace

std::string object_text(const decision_record &r)
{
	if (is_priv(r))
		return priv_text(r);
	if (r.hook == LTRACK_HOOK_SOCKET)
		return "socket " + r.family + "/" + r.sock_type + "/" + r.proto;
	if (is_tamper(r))
		return tamper_text(r);
	if (r.hook == LTRACK_HOOK_PYTHON) // "find_class os.system", "subprocess /bin/sh -c id"
		return r.op + " " + text_escape(r.path);
	if (is_net(r)) {
		if (r.family == "unix")
			return "unix:" + text_escape(r.path);
		std::string a = r.family == "inet6" ? "[" + r.addr_text + "]" : r.addr_text;
		return a + ":" + std::to_string(r.port) + (r.proto.empty() ? "" : "/" + r.proto);
	}
	std::string p = r.path.empty() ? "<" + r.dev + ":" + std::to_string(r.ino) + ">" : text_escape(r.path);
	if (r.path_partial)
		p += " (name only, " + r.dev + ":" + std::to_string(r.ino) + ")";
	if (r.ancestor)
		p += " (on the way to the rule's target)";
	return r.op.empty() ? p : r.op + " " + p;
}

std::string exe_text(const decision_record &r)
{
	return text_escape(r.process->exe.empty() ? r.comm : r.process->exe);
}

// The host's name as at the first record (uname's nodename), for logs that a
// collector gathers from many hosts. Read once: a record must not cost a syscall.
const std::string &host_name()
{
	static const std::string name = [] {
		utsname u{};
		return uname(&u) == 0 ? std::string(u.nodename) : std::string();
	}();
	return name;
}

namespace {

// The record's process, in place ("process":{...}).
void write_process(json_writer &w, const decision_record &r)
{
	const process_info &p = *r.process;
	w.object("process")
		.num("pid", r.pid)
		.num("tid", r.tid)
		.num("ppid", r.ppid)
		.num("uid", r.uid)
		.num("gid", r.gid)
		.str("comm", r.comm)
		.str("exe", p.exe)
		.str("cmdline", p.cmdline)
		.boolean("cmdline_truncated", p.cmdline_truncated)
		.num("start_boot_ns", p.start_boot_ns)
		.boolean("exited", p.exited)
		.num("cgroup_id", r.cgroup_id)
		.str("cgroup", p.cgroup_path);
	const container_info &c = p.container;
	if (c.runtime != container_runtime::none)
		w.object("container")
			.str("runtime", runtime_name(c.runtime))
			.str("id", c.id)
			.str("pod_uid", c.pod_uid)
			.str("name", c.name)
			.boolean("conmon", c.conmon)
			.end();
	else
		w.raw("container", "null");
	w.str("unit", c.unit);
	w.array("ancestry");
	for (size_t i = 0; i < p.ancestry.size(); ++i) {
		if (i)
			w.out() += ',';
		w.begin().num("pid", p.ancestry[i].pid).str("exe", p.ancestry[i].exe).end();
	}
	w.end_array();
	if (!p.unreadable.empty())
		w.raw("unreadable", json_string_array(p.unreadable));
	w.end();
}

} // namespace

std::string format_json(const decision_record &r)
{
	std::string out;
	out.reserve(1024);
	json_writer o(out);
	o.begin()
		.str("type", "decision")
		.str("time", r.time)
		.str("host", host_name())
		.num("ts_boot_ns", r.ts_boot_ns)
		.str("severity", severity_name(r.level))
		.str("hook", hook_name(r.hook))
		.str("action", action_name(r.action))
		.str("mode", mode_name(r.mode))
		.str("outcome", outcome_name(r.outcome))
		.num("count", r.count)
		.str("profile", r.rule.profile)
		.num("profile_id", r.profile_id);
	o.object("rule")
		.num("id", r.rule.rule_id)
		.str("file", r.rule.file)
		.num("line", r.rule.line)
		.num("column", r.rule.column)
		.str("text", r.rule.text)
		.end();
	write_process(o, r);
	if (is_net(r)) {
		o.object("net").str("family", r.family);
		if (r.hook == LTRACK_HOOK_SOCKET)
			o.str("type", r.sock_type).str("proto", r.proto);
		else if (r.family == "unix")
			o.str("path", r.path);
		else
			o.str("addr", r.addr_text).num("port", r.port).str("proto", r.proto);
		o.end();
	} else if (r.hook == LTRACK_HOOK_PYTHON) {
		// The global a pickle asked for (find_class), the code's file name
		// (exec, compile) or the command (subprocess, system, execv).
		o.object("python").str("event", r.op).str(r.op == "find_class" ? "global" : "object", r.path).end();
	} else {
		o.object("file")
			.str("path", r.path)
			.boolean("path_partial", r.path_partial)
			.str("dev", r.dev)
			.num("ino", r.ino);
		if (r.ancestor)
			o.boolean("ancestor", true);
		o.end();
	}
	if (!r.op.empty() && r.hook != LTRACK_HOOK_PYTHON)
		o.str("op", r.op);
	if (!r.builtin.empty())
		o.str("builtin", r.builtin);
	if (r.hook == LTRACK_HOOK_LINK && !r.model.verdict.empty())
		o.raw("model", json_object().str("verdict", r.model.verdict).done());
	if (r.hook == LTRACK_HOOK_MODEL) {
		auto m =
			json_object().str("verdict", r.model.verdict).raw("imports", json_string_array(r.model.imports));
		if (!r.model.at_open.empty())
			m.str("at_open", r.model.at_open);
		o.raw("model", m.done());
	}
	if (is_priv(r)) {
		auto ids = [](const std::array<uint32_t, 3> &v) {
			return json_object().num("real", v[0]).num("effective", v[1]).num("saved", v[2]).done();
		};
		o.raw("privilege", json_object()
					   .str("op", r.cred_op)
					   .raw("old", ids(r.old_ids))
					   .raw("new", ids(r.new_ids))
					   .num("old_caps", r.old_caps)
					   .num("new_caps", r.new_caps)
					   .done());
	}
	if (is_tamper(r))
		o.raw("tamper", json_object()
					.str("op", r.tamper_op)
					.str("arg", r.tamper_arg)
					.num("target_pid", r.target_pid)
					.done());
	o.boolean("walk_limit", r.walk_limit);
	o.end();
	return out;
}

std::string format_json(const loss_record &l)
{
	return json_object()
		.str("type", "loss")
		.str("time", l.time)
		.str("host", host_name())
		.num("ts_boot_ns", l.ts_boot_ns)
		.str("severity", severity_name(loss_severity(l)))
		.str("source", loss_source_name(l.source))
		.num("count", l.count)
		.str("message", loss_message(l))
		.done();
}

std::string format_text(const decision_record &r)
{
	std::string s = r.time + " " + upper(severity_name(r.level)) + " " + outcome_name(r.outcome) + " " +
			hook_name(r.hook) + " " + object_text(r) + " by " + exe_text(r) + "[" + std::to_string(r.pid) +
			"]";
	if (!r.process->ancestry.empty())
		s += " (parent " + text_escape(r.process->ancestry.front().exe) + "[" +
		     std::to_string(r.process->ancestry.front().pid) + "])";
	else if (r.ppid)
		s += " (parent [" + std::to_string(r.ppid) + "])";
	const container_info &c = r.process->container;
	if (c.runtime != container_runtime::none)
		s += std::string(" in ") + runtime_name(c.runtime) + ":" + text_escape(c.id.substr(0, 12));
	else if (!c.unit.empty())
		s += " in " + text_escape(c.unit);
	s += " rule ";
	if (r.rule.line)
		s += text_escape(r.rule.file) + ":" + std::to_string(r.rule.line);
	else if (!r.builtin.empty())
		s += "built-in " + r.builtin;
	else
		s += "#" + std::to_string(r.rule.rule_id);
	s += " profile " + (r.rule.profile.empty() ? std::to_string(r.profile_id) : text_escape(r.rule.profile));
	if (r.hook == LTRACK_HOOK_MODEL)
		s += " verdict " + r.model.verdict +
		     (r.model.at_open.empty() ? "" : " (at open: " + r.model.at_open + ")");
	if (r.walk_limit)
		s += " (walk limit)";
	if (r.count > 1)
		s += " x" + std::to_string(r.count);
	if (!r.rule.text.empty())
		s += " \"" + quote_escape(text_escape(r.rule.text)) + "\"";
	return s;
}

std::string format_text(const loss_record &l)
{
	return l.time + " " + upper(severity_name(loss_severity(l))) + " loss " + loss_source_name(l.source) + " " +
	       loss_message(l);
}

// TIME is the RFC 3339 time to the millisecond, without the zone:
// "2026-11-22T07:08:36.123" (always UTC).
std::string format_table_header()
{
	return column("TIME", 23, false) + " " + column("SEVERITY", 8, false) + " " + column("OUTCOME", 10, false) +
	       " " + column("HOOK", 5, false) + " " + column("PID", 7, false) + " " + column("EXE", 24, false) + " " +
	       column("OBJECT", 40, false) + " RULE";
}

std::string format_table(const decision_record &r)
{
	std::string t = r.time.size() >= 23 ? r.time.substr(0, 23) : r.time;
	std::string rule = r.rule.line ? text_escape(r.rule.file) + ":" + std::to_string(r.rule.line)
				       : "#" + std::to_string(r.rule.rule_id);
	return column(t, 23, false) + " " + column(severity_name(r.level), 8, false) + " " +
	       column(outcome_name(r.outcome), 10, false) + " " + column(hook_name(r.hook), 5, false) + " " +
	       column(std::to_string(r.pid), 7, false) + " " + column(exe_text(r), 24, true) + " " +
	       column(object_text(r), 40, true) + " " + rule;
}

} // namespace ltrack::tracing
