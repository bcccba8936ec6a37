#include "log_reader.h"

#include "abi_names.h"
#include "escape.h"
#include "filter.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

namespace ltrack::tracing {

std::string log_problem::text() const
{
	return line ? file + ":" + std::to_string(line) + ": " + what : file + ": " + what;
}

namespace {

// ---- a strict JSON reader, for the lines format_json writes --------------

struct jv {
	enum kind_t { null, boolean, number, string, array, object } kind = null;
	bool b = false;
	std::string s; // string value, or a number's text
	std::vector<jv> a;
	std::vector<std::pair<std::string, jv>> o;

	const jv *get(const char *key) const
	{
		for (const auto &[k, v] : o)
			if (k == key)
				return &v;
		return nullptr;
	}
};

class json_reader {
public:
	explicit json_reader(const std::string &s) : s_(s) {}

	bool document(jv &out, std::string &error)
	{
		ws();
		if (!value(out, 0))
			return fail_out(error);
		ws();
		if (i_ != s_.size()) {
			err_ = "trailing bytes after the JSON value";
			return fail_out(error);
		}
		return true;
	}

private:
	bool fail_out(std::string &error)
	{
		error = err_ + " (byte " + std::to_string(i_ + 1) + ")";
		return false;
	}
	bool fail(const char *what)
	{
		if (err_.empty())
			err_ = what;
		return false;
	}
	void ws()
	{
		while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
			i_++;
	}
	bool literal(const char *word)
	{
		std::size_t n = std::strlen(word);
		if (s_.compare(i_, n, word) != 0)
			return fail("not a JSON value");
		i_ += n;
		return true;
	}
	bool value(jv &v, int depth)
	{
		if (depth > 32)
			return fail("nested too deeply");
		if (i_ >= s_.size())
			return fail("the line ends inside a value (truncated?)");
		char c = s_[i_];
		if (c == '{')
			return object(v, depth);
		if (c == '[')
			return array(v, depth);
		if (c == '"') {
			v.kind = jv::string;
			return string(v.s);
		}
		if (c == 't' || c == 'f') {
			v.kind = jv::boolean;
			v.b = c == 't';
			return literal(v.b ? "true" : "false");
		}
		if (c == 'n') {
			v.kind = jv::null;
			return literal("null");
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			v.kind = jv::number;
			std::size_t start = i_;
			while (i_ < s_.size() && std::strchr("+-.eE0123456789", s_[i_]))
				i_++;
			v.s = s_.substr(start, i_ - start);
			return true;
		}
		return fail("not a JSON value");
	}
	bool object(jv &v, int depth)
	{
		v.kind = jv::object;
		i_++;
		ws();
		if (i_ < s_.size() && s_[i_] == '}') {
			i_++;
			return true;
		}
		while (true) {
			ws();
			std::string key;
			if (i_ >= s_.size())
				return fail("the line ends inside an object (truncated?)");
			if (s_[i_] != '"' || !string(key))
				return fail("expected a quoted key");
			ws();
			if (i_ >= s_.size() || s_[i_] != ':')
				return fail(i_ >= s_.size() ? "the line ends inside an object (truncated?)"
							    : "expected ':'");
			i_++;
			ws();
			jv item;
			if (!value(item, depth + 1))
				return false;
			v.o.emplace_back(std::move(key), std::move(item));
			ws();
			if (i_ >= s_.size())
				return fail("the line ends inside an object (truncated?)");
			if (s_[i_] == '}') {
				i_++;
				return true;
			}
			if (s_[i_] != ',')
				return fail("expected ',' or '}'");
			i_++;
		}
	}
	bool array(jv &v, int depth)
	{
		v.kind = jv::array;
		i_++;
		ws();
		if (i_ < s_.size() && s_[i_] == ']') {
			i_++;
			return true;
		}
		while (true) {
			ws();
			jv item;
			if (!value(item, depth + 1))
				return false;
			v.a.push_back(std::move(item));
			ws();
			if (i_ >= s_.size())
				return fail("the line ends inside an array (truncated?)");
			if (s_[i_] == ']') {
				i_++;
				return true;
			}
			if (s_[i_] != ',')
				return fail("expected ',' or ']'");
			i_++;
		}
	}
	bool string(std::string &out)
	{
		if (const char *what = json_unescape(s_, i_, out))
			return fail(what);
		return true;
	}

	const std::string &s_;
	std::size_t i_ = 0;
	std::string err_;
};

std::string str_of(const jv *v)
{
	return v && v->kind == jv::string ? v->s : std::string();
}

uint64_t num_of(const jv *v)
{
	if (!v || v->kind != jv::number || v->s.empty() || v->s.find_first_not_of("0123456789") != std::string::npos ||
	    v->s.size() > 20)
		return 0;
	errno = 0;
	unsigned long long n = std::strtoull(v->s.c_str(), nullptr, 10);
	return errno ? 0 : n;
}

bool bool_of(const jv *v)
{
	return v && v->kind == jv::boolean && v->b;
}

container_runtime runtime_of(const std::string &name)
{
	for (auto rt : {container_runtime::docker, container_runtime::containerd, container_runtime::crio,
			container_runtime::podman, container_runtime::kubernetes})
		if (name == runtime_name(rt))
			return rt;
	return container_runtime::none;
}

// The gzip magic, whatever the file is called.
bool is_gzip(const std::string &file)
{
	FILE *f = std::fopen(file.c_str(), "rb");
	if (!f)
		return false;
	unsigned char m[2] = {0, 0};
	bool gz = std::fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	std::fclose(f);
	return gz;
}

bool exists(const std::string &p)
{
	struct stat st;
	return ::stat(p.c_str(), &st) == 0;
}

} // namespace

bool parse_decision_line(const std::string &line, decision_record &r, std::string &kind, uint64_t &loss_count,
			 bool &loss_is_real, std::string &error)
{
	kind.clear();
	loss_count = 0;
	loss_is_real = false;
	if (!line.empty() && line[0] != '{') {
		error = "not a JSON record (a text-format log? ltrackctl reads format = \"json\" logs only)";
		return false;
	}
	jv doc;
	json_reader rd(line);
	if (!rd.document(doc, error)) {
		error = "not JSON: " + error;
		return false;
	}
	if (doc.kind != jv::object) {
		error = "not a JSON object";
		return false;
	}
	kind = str_of(doc.get("type"));
	if (kind == "loss") {
		loss_count = num_of(doc.get("count"));
		std::string src = str_of(doc.get("source"));
		loss_is_real = src != "coalesced";
		return true;
	}
	if (kind == "stats")
		return true;
	if (kind != "decision") {
		error = kind.empty() ? "a JSON object without \"type\": not a decision log record"
				     : "unknown record type \"" + kind + "\"";
		return false;
	}
	r = decision_record{};
	r.time = str_of(doc.get("time"));
	r.ts_boot_ns = num_of(doc.get("ts_boot_ns"));
	if (auto s = parse_severity(str_of(doc.get("severity"))))
		r.level = *s;
	r.count = num_of(doc.get("count"));
	r.profile_id = uint32_t(num_of(doc.get("profile_id")));
	r.rule.profile = str_of(doc.get("profile"));
	std::string hook = str_of(doc.get("hook")), outcome = str_of(doc.get("outcome"));
	if (hook.empty() || outcome.empty() || !doc.get("count") || r.count == 0) {
		error = "a decision record without hook, outcome or count";
		return false;
	}
	// The names the log writes (lsm/abi_names.h), or "unknown(N)"; action
	// and mode may be absent (none, inherit).
	std::string action = str_of(doc.get("action")), mode = str_of(doc.get("mode"));
	auto h = abi::value_or_number<ltrack_hook>(hook);
	auto o = abi::value_or_number<ltrack_outcome>(outcome);
	auto a = action.empty() ? LTRACK_ACT_NONE : abi::value_or_number<ltrack_action>(action);
	auto m = mode.empty() ? LTRACK_MODE_INHERIT : abi::value_or_number<ltrack_mode>(mode);
	if (!h || !o || !a || !m) {
		auto [field, value] = !h   ? std::pair{"hook", hook}
				      : !o ? std::pair{"outcome", outcome}
				      : !a ? std::pair{"action", action}
					   : std::pair{"mode", mode};
		error = std::string("a decision record with an unknown ") + field + " \"" + value + "\"";
		return false;
	}
	r.hook = *h;
	r.outcome = *o;
	r.action = *a;
	r.mode = *m;
	if (const jv *rule = doc.get("rule"); rule && rule->kind == jv::object) {
		r.rule.rule_id = uint32_t(num_of(rule->get("id")));
		r.rule.file = str_of(rule->get("file"));
		r.rule.line = uint32_t(num_of(rule->get("line")));
		r.rule.column = uint32_t(num_of(rule->get("column")));
		r.rule.text = str_of(rule->get("text"));
	}
	if (const jv *p = doc.get("process"); p && p->kind == jv::object) {
		// The event's fields, which the process's repeat.
		process_info &pr = r.process.mut();
		pr.pid = r.pid = uint32_t(num_of(p->get("pid")));
		r.tid = uint32_t(num_of(p->get("tid")));
		pr.ppid = r.ppid = uint32_t(num_of(p->get("ppid")));
		pr.uid = r.uid = uint32_t(num_of(p->get("uid")));
		pr.gid = r.gid = uint32_t(num_of(p->get("gid")));
		pr.comm = r.comm = str_of(p->get("comm"));
		pr.cgroup_id = r.cgroup_id = num_of(p->get("cgroup_id"));
		pr.exe = str_of(p->get("exe"));
		pr.cmdline = str_of(p->get("cmdline"));
		pr.cmdline_truncated = bool_of(p->get("cmdline_truncated"));
		pr.start_boot_ns = num_of(p->get("start_boot_ns"));
		pr.cgroup_path = str_of(p->get("cgroup"));
		pr.exited = bool_of(p->get("exited"));
		if (const jv *c = p->get("container"); c && c->kind == jv::object) {
			pr.container.runtime = runtime_of(str_of(c->get("runtime")));
			pr.container.id = str_of(c->get("id"));
			pr.container.pod_uid = str_of(c->get("pod_uid"));
			pr.container.name = str_of(c->get("name"));
			pr.container.conmon = bool_of(c->get("conmon"));
		}
		pr.container.unit = str_of(p->get("unit"));
		if (const jv *anc = p->get("ancestry"); anc && anc->kind == jv::array)
			for (const jv &a : anc->a)
				pr.ancestry.push_back({uint32_t(num_of(a.get("pid"))), str_of(a.get("exe"))});
		if (const jv *u = p->get("unreadable"); u && u->kind == jv::array)
			for (const jv &w : u->a)
				pr.unreadable.push_back(str_of(&w));
	}
	if (const jv *f = doc.get("file"); f && f->kind == jv::object) {
		r.path = str_of(f->get("path"));
		r.path_partial = bool_of(f->get("path_partial"));
		r.ancestor = bool_of(f->get("ancestor"));
		r.dev = str_of(f->get("dev"));
		r.ino = num_of(f->get("ino"));
	}
	if (const jv *n = doc.get("net"); n && n->kind == jv::object) {
		r.family = str_of(n->get("family"));
		r.proto = str_of(n->get("proto"));
		if (r.hook == LTRACK_HOOK_SOCKET) {
			r.sock_type = str_of(n->get("type"));
		} else if (r.family == "unix") {
			r.path = str_of(n->get("path"));
		} else {
			r.addr_text = str_of(n->get("addr"));
			r.port = uint16_t(num_of(n->get("port")));
			// The address as the event had it (IPv4 mapped into IPv6), for dip= filters.
			if (auto a = parse_prefix(r.addr_text); a && (a->bits == 128))
				r.addr = a->addr;
		}
	}
	if (const jv *py = doc.get("python"); py && py->kind == jv::object) {
		r.op = str_of(py->get("event"));
		r.path = str_of(py->get(r.op == abi::name_of(LTRACK_PY_FIND_CLASS) ? "global" : "object"));
	}
	if (r.hook != LTRACK_HOOK_PYTHON)
		r.op = str_of(doc.get("op"));
	r.builtin = str_of(doc.get("builtin"));
	if (const jv *m = doc.get("model"); m && m->kind == jv::object) {
		r.model.verdict = str_of(m->get("verdict"));
		if (const jv *imp = m->get("imports"); imp && imp->kind == jv::array)
			for (const jv &i : imp->a)
				r.model.imports.push_back(str_of(&i));
		r.model.at_open = str_of(m->get("at_open"));
	}
	if (const jv *pv = doc.get("privilege"); pv && pv->kind == jv::object) {
		r.cred_op = str_of(pv->get("op"));
		auto ids = [&](const char *key, std::array<uint32_t, 3> &out) {
			if (const jv *v = pv->get(key); v && v->kind == jv::object)
				out = {uint32_t(num_of(v->get("real"))), uint32_t(num_of(v->get("effective"))),
				       uint32_t(num_of(v->get("saved")))};
		};
		ids("old", r.old_ids);
		ids("new", r.new_ids);
		r.old_caps = num_of(pv->get("old_caps"));
		r.new_caps = num_of(pv->get("new_caps"));
	}
	if (const jv *t = doc.get("tamper"); t && t->kind == jv::object) {
		r.tamper_op = str_of(t->get("op"));
		r.tamper_arg = str_of(t->get("arg"));
		r.target_pid = uint32_t(num_of(t->get("target_pid")));
	}
	r.walk_limit = bool_of(doc.get("walk_limit"));
	return true;
}

std::vector<std::string> log_files_with_backups(const std::string &path)
{
	std::vector<std::string> backups;
	// rotating_file_sink numbers backups from 1 without gaps; a gap (one
	// pruned by age) ends nothing, so look a little past it.
	unsigned misses = 0;
	for (unsigned n = 1; n < 100000 && misses < 16; n++) {
		std::string plain = path + "." + std::to_string(n);
		if (exists(plain)) {
			backups.push_back(plain);
			misses = 0;
		} else if (exists(plain + ".gz")) {
			backups.push_back(plain + ".gz");
			misses = 0;
		} else {
			misses++;
		}
	}
	std::vector<std::string> out(backups.rbegin(), backups.rend()); // oldest first
	if (exists(path))
		out.push_back(path);
	return out;
}

bool read_decision_log(const std::string &file, const std::function<void(const decision_record &)> &on_record,
		       log_read_stats &stats)
{
	bool gz = is_gzip(file);
	gzFile g = nullptr;
	FILE *f = nullptr;
	if (gz)
		g = gzopen(file.c_str(), "rb");
	else
		f = std::fopen(file.c_str(), "rb");
	if (!g && !f) {
		stats.problems.push_back({file, 0, std::string("cannot open: ") + std::strerror(errno)});
		return false;
	}
	stats.files++;
	uint64_t lineno = 0;
	std::string line;
	auto handle = [&](bool complete) {
		lineno++;
		stats.lines++;
		if (line.empty()) {
			stats.other++;
			return;
		}
		decision_record r;
		std::string kind, error;
		uint64_t loss = 0;
		bool real_loss = false;
		if (!complete) {
			// A record is written whole with its newline: a last line without
			// one was cut (a crash, a full disk, a copy in progress).
			stats.problems.push_back({file, lineno, "the last line has no newline: a truncated record"});
			return;
		}
		if (!parse_decision_line(line, r, kind, loss, real_loss, error)) {
			stats.problems.push_back({file, lineno, error});
			return;
		}
		if (kind == "decision") {
			stats.decisions++;
			on_record(r);
		} else {
			if (kind == "loss" && real_loss)
				stats.lost += loss;
			stats.other++;
		}
	};
	char buf[65536];
	bool read_error = false;
	std::string read_error_text;
	while (true) {
		long n;
		if (g) {
			n = gzread(g, buf, sizeof buf);
			if (n < 0) {
				int code = 0;
				const char *msg = gzerror(g, &code);
				read_error = true;
				read_error_text = std::string("gzip: ") + (msg ? msg : "read error");
				break;
			}
		} else {
			n = long(std::fread(buf, 1, sizeof buf, f));
			if (n == 0 && std::ferror(f)) {
				read_error = true;
				read_error_text = std::string("read error: ") + std::strerror(errno);
				break;
			}
		}
		if (n == 0)
			break;
		for (long k = 0; k < n; k++) {
			if (buf[k] == '\n') {
				handle(true);
				line.clear();
			} else if (line.size() < (16u << 20)) {
				line += buf[k];
			}
		}
	}
	if (g) {
		// zlib reports a stream cut short only at its end: gzread returns 0
		// with Z_BUF_ERROR set.
		int code = Z_OK;
		const char *msg = gzerror(g, &code);
		if (!read_error && code != Z_OK && code != Z_STREAM_END) {
			read_error = true;
			read_error_text = std::string("gzip: ") + (msg ? msg : "error");
		}
		gzclose(g);
	} else {
		std::fclose(f);
	}
	if (read_error) {
		stats.problems.push_back(
			{file, lineno + 1, read_error_text + " (the records before this line were read)"});
		return true;
	}
	if (!line.empty())
		handle(false);
	return true;
}

} // namespace ltrack::tracing
