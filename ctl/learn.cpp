#include "learn.h"

#include "evaluate.h"
#include "policy.h"
#include "record_format.h"
#include "rule_sets.h"

#include <toml++/toml.h>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <sstream>

namespace ltrack::learn {

namespace {

bool utf8_valid(const std::string &s)
{
	for (std::size_t i = 0; i < s.size();) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (!n || (c >= 0xf0 && n != 4) || i + n > s.size())
			return false;
		unsigned cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
		for (std::size_t k = 1; k < n; k++) {
			unsigned char d = s[i + k];
			if ((d & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (d & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n;
	}
	return true;
}

std::string parent_of(const std::string &path)
{
	std::size_t s = path.find_last_of('/');
	return s == 0 || s == std::string::npos ? "/" : path.substr(0, s);
}

std::string base_of(const std::string &path)
{
	return path.substr(path.find_last_of('/') + 1);
}

bool under(const std::string &path, const std::string &dir)
{
	if (dir == "/")
		return true;
	return path == dir ||
	       (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// realpath(3), or "" when the path does not resolve.
std::string real_path(const std::string &path)
{
	char *r = ::realpath(path.c_str(), nullptr);
	if (!r)
		return "";
	std::string out = r;
	std::free(r);
	return out;
}

bool exists_on_host(const std::string &path)
{
	struct stat st;
	return ::lstat(path.c_str(), &st) == 0;
}

// Directories never generalised: the root and top level, where secrets and
// configuration live (a dir rule outranks the name rules that protect
// credentials there), world-writable scratch space (anyone can put a file
// there) and the kernel's per-process views.
bool risky_dir(const std::string &dir)
{
	if (dir == "/" || std::count(dir.begin(), dir.end(), '/') < 2)
		return true;
	static const char *const risky[] = {"/etc",     "/home",    "/root", "/run",     "/var/run",   "/tmp",
					    "/var/tmp", "/dev/shm", "/proc", "/var/lib", "/var/spool", "/boot"};
	for (const char *r : risky)
		if (under(dir, r))
			return true;
	return false;
}

// /proc/<pid>/... and /proc/self: a rule for one pid means nothing later.
bool pid_specific(const std::string &path)
{
	if (!under(path, "/proc"))
		return false;
	std::string rest = path.substr(std::min<std::size_t>(path.size(), 6));
	std::string first = rest.substr(0, rest.find('/'));
	return first == "self" || first == "thread-self" ||
	       (!first.empty() && first.find_first_not_of("0123456789") == std::string::npos);
}

bool list_subtree_host(const std::string &dir, std::vector<std::string> &names)
{
	// Bounded: a directory too large to read is one we cannot vouch for
	// (and reading it costs: a network file system, a slow disk).
	std::vector<std::string> todo{dir};
	std::size_t budget = 4096;
	while (!todo.empty()) {
		std::string d = todo.back();
		todo.pop_back();
		DIR *h = ::opendir(d.c_str());
		if (!h)
			return false;
		while (dirent *e = ::readdir(h)) {
			std::string n = e->d_name;
			if (n == "." || n == "..")
				continue;
			if (!budget--) {
				::closedir(h);
				return false;
			}
			names.push_back(n);
			std::string full = d + "/" + n;
			struct stat st;
			if (e->d_type == DT_DIR ||
			    (e->d_type == DT_UNKNOWN && ::lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
				todo.push_back(full);
		}
		::closedir(h);
	}
	return true;
}

std::string num(uint64_t n)
{
	return std::to_string(n);
}

std::string plural(uint64_t n, const char *one, const char *many)
{
	return num(n) + " " + (n == 1 ? one : many);
}

// What a comment may carry: one line, no control bytes.
std::string comment_safe(const std::string &s)
{
	return text_escape(s);
}

} // namespace

bool toml_quote(const std::string &s, std::string &out)
{
	if (!utf8_valid(s))
		return false;
	out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\t': out += "\\t"; break;
		case '\r': out += "\\r"; break;
		case '\b': out += "\\b"; break;
		case '\f': out += "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char b[8];
				std::snprintf(b, sizeof b, "\\u%04x", c);
				out += b;
			} else {
				out += char(c);
			}
		}
	}
	out += '"';
	return true;
}

bool name_matches(const std::string &pattern, const std::string &name)
{
	if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
		std::string suffix = pattern.substr(1);
		// As the kernel tries suffixes: at a dot that is not the name's first byte.
		return name.size() > suffix.size() &&
		       name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
	}
	return pattern == name;
}

bool sensitive_path(const std::string &path)
{
	const policy::rule_set *set = policy::find_rule_set("sensitive-files");
	if (!set)
		return true; // fail closed
	std::string name = base_of(path);
	for (const auto &e : set->entries) {
		switch (e.kind) {
		case policy::target_kind::file:
			if (path == e.target)
				return true;
			break;
		case policy::target_kind::dir:
			if (under(path, e.target))
				return true;
			break;
		case policy::target_kind::name:
			if (name_matches(e.target, name))
				return true;
			break;
		default: break;
		}
	}
	return false;
}

namespace {

// Whether a sensitive-files file or dir target lies in (or is) dir.
bool holds_sensitive_target(const std::string &dir)
{
	const policy::rule_set *set = policy::find_rule_set("sensitive-files");
	if (!set)
		return true;
	for (const auto &e : set->entries)
		if ((e.kind == policy::target_kind::file || e.kind == policy::target_kind::dir) &&
		    (under(e.target, dir) || under(dir, e.target)))
			return true;
	return false;
}

bool sensitive_name(const std::string &name, const std::vector<std::string> &extra)
{
	const policy::rule_set *set = policy::find_rule_set("sensitive-files");
	if (set)
		for (const auto &e : set->entries)
			if (e.kind == policy::target_kind::name && name_matches(e.target, name))
				return true;
	for (const auto &p : extra)
		if (name_matches(p, name))
			return true;
	return false;
}

bool host_control_socket(const std::string &path)
{
	const policy::rule_set *set = policy::find_rule_set("host-control-sockets");
	if (!set)
		return true;
	for (const auto &e : set->entries)
		if (path == e.target)
			return true;
	return false;
}

bool is_default_rule(const tracing::decision_record &r)
{
	const std::string &t = r.rule.text;
	return r.rule.rule_id == 0 || t.rfind("file default ", 0) == 0 || t.rfind("exec default ", 0) == 0 ||
	       t.rfind("network default ", 0) == 0;
}

std::string net_key(const tracing::decision_record &r)
{
	if (r.family == "unix")
		return "unix\t" + r.path;
	return r.family + "\t" + r.addr_text + "\t" + num(r.port) + "\t" + r.proto;
}

std::vector<std::string> split_tab(const std::string &s)
{
	std::vector<std::string> out;
	std::size_t at = 0;
	while (true) {
		std::size_t t = s.find('\t', at);
		out.push_back(s.substr(at, t == std::string::npos ? std::string::npos : t - at));
		if (t == std::string::npos)
			return out;
		at = t + 1;
	}
}

} // namespace

void learner::add(const tracing::decision_record &r)
{
	// A would-be denial of audit mode; with include_denied a denial or kill too.
	bool refusal = abi::is_denial(r.outcome) && (opt_.include_denied || r.outcome == LTRACK_OUT_WOULD_DENY);
	if (!refusal) {
		ignored_++;
		return;
	}
	records_++;
	decisions_ += r.count;
	if (!r.rule.file.empty())
		files_.insert(r.rule.file);
	std::string obj;
	if (r.hook == LTRACK_HOOK_FILE || r.hook == LTRACK_HOOK_EXEC || r.hook == LTRACK_HOOK_MODEL)
		obj = r.path;
	else if (r.hook == LTRACK_HOOK_NET)
		obj = net_key(r);
	else if (r.hook == LTRACK_HOOK_SOCKET)
		obj = r.family + "/" + r.sock_type + (r.proto.empty() ? "" : "/" + r.proto);
	else if (r.hook == LTRACK_HOOK_TAMPER)
		obj = r.tamper_op + (r.tamper_arg.empty() ? "" : " " + r.tamper_arg) +
		      (r.path.empty() ? "" : " " + r.path);
	else
		obj = r.cred_op;
	if ((r.hook == LTRACK_HOOK_FILE || r.hook == LTRACK_HOOK_EXEC || r.hook == LTRACK_HOOK_MODEL) && r.path_partial)
		obj = "\x01partial\t" + r.path;
	if (r.walk_limit)
		obj = "\x01walk\t" + r.path;
	seen &s = seen_[r.rule.profile][tracing::hook_name(r.hook)][obj];
	s.decisions += r.count;
	s.records++;
	if (s.rule_text.empty()) {
		s.rule_text =
			r.rule.text + (r.rule.file.empty() ? "" : " (" + r.rule.file + ":" + num(r.rule.line) + ")");
		s.by_default = is_default_rule(r);
		s.verdict = r.model.verdict;
	}
}

suggestion learner::suggest() const
{
	suggestion out;
	out.records = records_;
	out.decisions = decisions_;
	out.ignored_records = ignored_;
	out.policy_files = files_;
	out.warnings = warnings_;
	auto lister = opt_.list_subtree ? opt_.list_subtree : list_subtree_host;
	for (const auto &[profile, hooks] : seen_) {
		profile_suggestion ps;
		ps.name = profile;
		auto not_learned = [&ps](const std::string &what, const std::string &why, uint64_t n) {
			ps.not_learned.push_back(comment_safe(what) + " (" + plural(n, "decision", "decisions") +
						 "): " + comment_safe(why));
		};
		auto denied_names =
			opt_.denied_names.count(profile) ? opt_.denied_names.at(profile) : std::vector<std::string>{};
		// Paths a rule cannot name exactly: partial, lossy, pid-specific.
		auto unusable = [&](const std::string &obj, const seen &s) {
			if (obj.rfind("\x01partial\t", 0) == 0) {
				not_learned(obj.substr(9),
					    "only the final name is known (path_partial); add a rule by hand",
					    s.decisions);
				return true;
			}
			if (obj.rfind("\x01walk\t", 0) == 0) {
				not_learned(obj.substr(6),
					    "refused at the ancestor walk bound (more than 64 directories deep)",
					    s.decisions);
				return true;
			}
			if (obj.empty() || obj[0] != '/') {
				not_learned(obj.empty() ? "<no path>" : obj, "not an absolute path", s.decisions);
				return true;
			}
			// The JSON log writes bytes that are not UTF-8 as U+FFFD: the
			// real name is lost, and a rule must not name another file.
			if (obj.find("\xef\xbf\xbd") != std::string::npos || !utf8_valid(obj)) {
				not_learned(
					obj,
					"the log does not hold this name's exact bytes (not UTF-8); add a rule by hand",
					s.decisions);
				return true;
			}
			if (!s.by_default) {
				not_learned(obj,
					    "refused by an explicit rule: " + s.rule_text +
						    "; change that rule if it is wrong",
					    s.decisions);
				return true;
			}
			// The log names the file as the kernel resolved it. A rule is
			// compiled to the inode its path reaches now: if that is through
			// a symlink planted since, the rule would allow something else.
			// (/proc's own links, self and mounts, are what they are.)
			if (std::string real = under(obj, "/proc") ? obj : real_path(obj);
			    !real.empty() && real != obj) {
				not_learned(obj,
					    "now resolves to " + real +
						    ", not to itself: add a rule by hand after checking why",
					    s.decisions);
				return true;
			}
			if (sensitive_path(obj)) {
				not_learned(obj, "named by the sensitive-files rule set: never learned", s.decisions);
				return true;
			}
			return false;
		};
		for (const auto &[hook, objects] : hooks) {
			if (hook == "file") {
				// directory -> files
				std::map<std::string, std::vector<std::pair<std::string, const seen *>>> by_dir;
				for (const auto &[obj, s] : objects) {
					if (unusable(obj, s))
						continue;
					if (pid_specific(obj)) {
						ps.proc_decisions += s.decisions;
						ps.proc_files++;
						continue;
					}
					if (obj.size() > 10 && obj.compare(obj.size() - 10, 10, " (deleted)") == 0) {
						not_learned(
							obj,
							"the file was deleted when it was opened: no rule can name it",
							s.decisions);
						continue;
					}
					by_dir[parent_of(obj)].push_back({obj, &s});
				}
				if (ps.proc_files) {
					std::string what = plural(ps.proc_files, "per-process /proc file",
								  "per-process /proc files") +
							   " (" + plural(ps.proc_decisions, "decision", "decisions") +
							   ")";
					if (opt_.allow_proc) {
						learned_rule lr;
						lr.toml = "{ action = \"allow\", dir = \"/proc\" }";
						lr.group = "/proc";
						lr.decisions = ps.proc_decisions;
						lr.objects = ps.proc_files;
						lr.comment =
							what +
							": only a dir rule on /proc covers them; it also reaches other processes' "
							"/proc files (as far as the kernel's own checks let them)";
						ps.file.push_back(lr);
					} else {
						ps.not_learned.push_back(
							what +
							": a rule on one pid would not hold for the next process; only "
							"{ action = \"allow\", dir = \"/proc\" } covers them, which also reaches "
							"other processes' /proc files: add it by hand, or learn with --proc");
					}
				}
				for (const auto &[dir, files] : by_dir) {
					uint64_t total = 0;
					for (const auto &f : files)
						total += f.second->decisions;
					std::string why_not;
					bool as_dir = opt_.dir_min && files.size() >= opt_.dir_min;
					if (as_dir && risky_dir(dir)) {
						as_dir = false;
						why_not =
							"top-level, system configuration, home, scratch or /proc directory";
					}
					if (as_dir && holds_sensitive_target(dir)) {
						as_dir = false;
						why_not = "it holds files of the sensitive-files set";
					}
					if (as_dir) {
						std::vector<std::string> names;
						if (!opt_.inspect_host || real_path(dir) != dir ||
						    !lister(dir, names)) {
							as_dir = false;
							why_not = "its contents cannot be checked on this host";
						} else {
							for (const auto &n : names)
								if (sensitive_name(n, denied_names)) {
									as_dir = false;
									why_not =
										"it holds a file named " +
										comment_safe(n) +
										", which the sensitive-files set or the profile denies";
									break;
								}
						}
					}
					std::string qdir;
					toml_quote(dir, qdir);
					if (as_dir) {
						learned_rule lr;
						lr.toml = "{ action = \"allow\", dir = " + qdir + " }";
						lr.group = dir;
						lr.decisions = total;
						lr.objects = files.size();
						lr.comment =
							comment_safe(dir) + ": " +
							plural(files.size(), "file", "files") + ", " +
							plural(total, "decision", "decisions") +
							"; a dir rule also allows files created here later, whatever their name";
						ps.file.push_back(lr);
						continue;
					}
					bool first = true;
					for (const auto &[path, s] : files) {
						learned_rule lr;
						std::string q;
						toml_quote(path, q);
						lr.needs_missing_warn = !exists_on_host(path);
						lr.toml = "{ action = \"allow\", file = " + q +
							  (lr.needs_missing_warn ? ", missing = \"warn\"" : "") + " }";
						lr.group = dir;
						lr.decisions = s->decisions;
						lr.objects = 1;
						if (first)
							lr.comment =
								comment_safe(dir) + ": " +
								plural(files.size(), "file", "files") + ", " +
								plural(total, "decision", "decisions") +
								(why_not.empty() ? ""
										 : " (no dir rule: " + why_not + ")");
						first = false;
						ps.file.push_back(lr);
					}
				}
			} else if (hook == "exec") {
				for (const auto &[obj, s] : objects) {
					if (unusable(obj, s))
						continue;
					learned_rule lr;
					std::string q;
					toml_quote(obj, q);
					lr.needs_missing_warn = !exists_on_host(obj);
					lr.toml = "{ action = \"allow\", file = " + q +
						  (lr.needs_missing_warn ? ", missing = \"warn\"" : "") + " }";
					lr.decisions = s.decisions;
					lr.objects = 1;
					lr.comment = "executed " + plural(s.decisions, "time", "times");
					static const char *const shells[] = {"sh",      "bash",  "dash",    "zsh",
									     "busybox", "curl",  "wget",    "nc",
									     "ncat",    "socat", "python3", "perl"};
					std::string b = base_of(obj);
					for (const char *sh : shells)
						if (b == sh)
							lr.comment +=
								"; note: " + std::string(sh) +
								" runs whatever it is told: the profile's other rules still govern it";
					ps.exec.push_back(lr);
				}
			} else if (hook == "model") {
				for (const auto &[obj, s] : objects)
					not_learned(
						obj.rfind("\x01", 0) == 0 ? obj.substr(obj.find('\t') + 1) : obj,
						"refused by the model layer (verdict " +
							(s.verdict.empty() ? "?" : s.verdict) +
							"): never learned; scan it (ltrackctl scan), and trust it only after review",
						s.decisions);
			} else if (hook == "net") {
				// (family, addr, proto) -> ports
				std::map<std::tuple<std::string, std::string, std::string>,
					 std::pair<std::set<unsigned>, uint64_t>>
					ip;
				for (const auto &[obj, s] : objects) {
					auto f = split_tab(obj);
					if (!s.by_default) {
						not_learned(f.size() > 1 ? f[1] : obj,
							    "refused by an explicit rule: " + s.rule_text, s.decisions);
						continue;
					}
					if (f[0] == "unix") {
						std::string path = f.size() > 1 ? f[1] : "";
						if (path.empty() || path.find("\xef\xbf\xbd") != std::string::npos ||
						    !utf8_valid(path)) {
							not_learned("unix:" + path, "no usable socket name in the log",
								    s.decisions);
							continue;
						}
						if (host_control_socket(path)) {
							not_learned(
								"unix:" + path,
								"a host control socket (set host-control-sockets): never learned",
								s.decisions);
							continue;
						}
						learned_rule lr;
						std::string q;
						toml_quote(path, q);
						lr.toml = "{ action = \"allow\", unix = " + q + " }";
						lr.decisions = s.decisions;
						lr.objects = 1;
						lr.comment = "unix:" + comment_safe(path) + ", " +
							     plural(s.decisions, "decision", "decisions");
						ps.network.push_back(lr);
						continue;
					}
					if (f.size() < 4 || f[1].empty() ||
					    f[1].find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos) {
						not_learned(f.size() > 1 ? f[1] : obj,
							    "no usable destination address in the log", s.decisions);
						continue;
					}
					std::string proto = f[3] == "tcp" || f[3] == "udp" ? f[3] : "any";
					auto &e = ip[{f[0], f[1], proto}];
					e.first.insert(unsigned(std::stoul(f[2].empty() ? "0" : f[2])));
					e.second += s.decisions;
				}
				for (const auto &[k, v] : ip) {
					const auto &[family, addr, proto] = k;
					std::string cidr =
						addr + (family == "inet6" || addr.find(':') != std::string::npos
								? "/128"
								: "/32");
					std::string ports;
					for (unsigned p : v.first)
						ports += (ports.empty() ? "" : ", ") + num(p);
					if (v.first.size() > 1)
						ports = "[" + ports + "]";
					learned_rule lr;
					lr.toml = "{ action = \"allow\", to = \"" + cidr + "\", ports = " + ports +
						  ", proto = \"" + proto + "\" }";
					lr.decisions = v.second;
					lr.objects = v.first.size();
					lr.comment = addr + " " + plural(v.first.size(), "port", "ports") + ", " +
						     plural(v.second, "decision", "decisions");
					ps.network.push_back(lr);
				}
			} else if (hook == "socket") {
				for (const auto &[obj, s] : objects) {
					// The entry the socket needs, as the evaluator names it.
					static const auto probe = [] {
						policy::compile_options co;
						co.resolve_paths = false;
						return policy::compile_string(
							"[profile.p]\nall = true\n[profile.p.network]\nsockets = []\n",
							"probe", co);
					}();
					std::string spec = obj;
					// the log prints a socket without protocol as FAMILY/TYPE/
					if (!spec.empty() && spec.back() == '/')
						spec.pop_back();
					auto ex = probe.policy ? policy::explain_socket(*probe.policy, "p", spec)
							       : policy::explain_result{};
					if (!ex.ex || ex.ex->socket_kind.empty()) {
						not_learned("socket " + obj,
							    "cannot tell which sockets entry it needs" +
								    (ex.error.empty() ? "" : ": " + ex.error),
							    s.decisions);
						continue;
					}
					ps.sockets.insert(ex.ex->socket_kind);
					ps.socket_decisions += s.decisions;
				}
			} else if (hook == "tamper") {
				// No rule allows these: self-protection refuses them whatever the policy says.
				for (const auto &[obj, s] : objects)
					not_learned(
						hook + " " + obj,
						"never learned: an attempt on ltrack itself (treat the process as compromised)",
						s.decisions);
			} else {
				for (const auto &[obj, s] : objects)
					not_learned(hook + " " + obj, "not learned: decide privilege rules by hand",
						    s.decisions);
			}
		}
		out.profiles.push_back(std::move(ps));
	}
	return out;
}

namespace {

std::string rules_block(const std::vector<learned_rule> &rules, const std::string &indent)
{
	std::string out;
	for (const auto &r : rules) {
		if (!r.comment.empty())
			out += indent + "# " + r.comment + "\n";
		out += indent + r.toml + ",";
		if (r.objects == 1 && r.group.size() && r.toml.find("dir =") == std::string::npos)
			out += "  # " + plural(r.decisions, "decision", "decisions");
		out += "\n";
	}
	return out;
}

std::string sockets_list(const std::set<std::string> &s)
{
	std::string out;
	for (const auto &e : s)
		out += (out.empty() ? "" : ", ") + std::string("\"") + e + "\"";
	return out;
}

std::string profile_key(const std::string &name)
{
	// Profile names are letters, digits, '-', '_', '.': a '.' needs quoting.
	if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
	    std::string::npos)
		return name;
	std::string q;
	toml_quote(name, q);
	return q;
}

std::string header(const suggestion &s)
{
	std::string out = "# ltrackctl learn: learned from " + plural(s.records, "record", "records") + " (" +
			  plural(s.decisions, "decision", "decisions") + ")";
	if (!s.policy_files.empty())
		out += " made under";
	for (const auto &f : s.policy_files)
		out += " " + comment_safe(f);
	out += "\n";
	for (const auto &w : s.warnings)
		out += "# warning: " + comment_safe(w) + "\n";
	return out;
}

} // namespace

std::string render_fragment(const suggestion &s)
{
	std::string out = header(s);
	for (const auto &p : s.profiles) {
		std::string key = profile_key(p.name);
		out += "\n# profile " + comment_safe(p.name) + ": " + plural(p.file.size(), "file rule", "file rules") +
		       ", " + plural(p.exec.size(), "exec rule", "exec rules") + ", " +
		       plural(p.network.size(), "network rule", "network rules") + ", " +
		       plural(p.sockets.size(), "socket kind", "socket kinds") + "\n";
		for (const auto &n : p.not_learned)
			out += "# not learned: " + n + "\n";
		if (!p.file.empty())
			out += "[profile." + key + ".file]\nrules = [\n" + rules_block(p.file, "  ") + "]\n";
		if (!p.exec.empty())
			out += "[profile." + key + ".exec]\nrules = [\n" + rules_block(p.exec, "  ") + "]\n";
		if (!p.network.empty() || !p.sockets.empty()) {
			out += "[profile." + key + ".network]\n";
			if (!p.sockets.empty())
				out += "# add to sockets (" + plural(p.socket_decisions, "decision", "decisions") +
				       "):\nsockets = [" + sockets_list(p.sockets) + "]\n";
			if (!p.network.empty())
				out += "rules = [\n" + rules_block(p.network, "  ") + "]\n";
		}
	}
	return out;
}

// ---- merging into the policy text ---------------------------------------------

namespace {

// Byte offsets of the starts of lines.
std::vector<std::size_t> line_starts(const std::string &t)
{
	std::vector<std::size_t> v{0};
	for (std::size_t i = 0; i < t.size(); i++)
		if (t[i] == '\n')
			v.push_back(i + 1);
	return v;
}

// toml++ positions are 1-based lines and columns counted in code points.
bool offset_of(const std::string &t, const std::vector<std::size_t> &ls, toml::source_position p, std::size_t &off)
{
	if (p.line < 1 || p.line > ls.size())
		return false;
	std::size_t i = ls[p.line - 1];
	for (unsigned col = 1; col < p.column; col++) {
		if (i >= t.size() || t[i] == '\n')
			return false;
		i++;
		while (i < t.size() && (static_cast<unsigned char>(t[i]) & 0xc0) == 0x80)
			i++;
	}
	off = i;
	return true;
}

// From the '[' of an array value: the offset of its closing ']' and of the
// last significant byte before it (the '[' itself when empty), skipping
// strings and comments.
bool scan_array(const std::string &t, std::size_t open, std::size_t &close, std::size_t &last)
{
	int depth = 0;
	last = open;
	for (std::size_t i = open; i < t.size(); i++) {
		char c = t[i];
		if (c == '#') {
			while (i < t.size() && t[i] != '\n')
				i++;
			continue;
		}
		if (c == '"' || c == '\'') {
			bool multi = t.compare(i, 3, std::string(3, c)) == 0;
			std::size_t j = i + (multi ? 3 : 1);
			while (j < t.size()) {
				if (c == '"' && t[j] == '\\') {
					j += 2;
					continue;
				}
				if (multi ? t.compare(j, 3, std::string(3, c)) == 0 : t[j] == c)
					break;
				if (!multi && t[j] == '\n')
					return false;
				j++;
			}
			if (j >= t.size())
				return false;
			i = j + (multi ? 2 : 0);
			last = i;
			continue;
		}
		if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0) {
				if (c != ']')
					return false;
				close = i;
				return true;
			}
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			last = i;
	}
	return false;
}

struct edit {
	std::size_t at;
	std::string text;
};

// Adds items (each a complete line without the indent) to the array value.
bool add_to_array(const std::string &t, const std::vector<std::size_t> &ls, const toml::array &arr,
		  const std::string &items, std::vector<edit> &edits)
{
	std::size_t open, close, last;
	if (!offset_of(t, ls, arr.source().begin, open) || open >= t.size() || t[open] != '[' ||
	    !scan_array(t, open, close, last))
		return false;
	bool empty = last == open;
	bool comma = empty || t[last] == ',';
	std::size_t eol = t.find('\n', last);
	if (!comma)
		edits.push_back({last + 1, ","});
	if (eol != std::string::npos && eol < close)
		edits.push_back({eol + 1, items});
	else
		edits.push_back({close, "\n" + items});
	return true;
}

std::string section_items(const std::vector<learned_rule> &rules)
{
	return "  # learned by ltrackctl learn:\n" + rules_block(rules, "  ");
}

// After the last line of a table's own keys (the header line when none).
bool end_of_table(const std::string &t, const std::vector<std::size_t> &ls, const toml::table &tbl, std::size_t &at)
{
	toml::source_position end = tbl.source().begin;
	for (const auto &[k, v] : tbl) {
		if (v.is_table() && !v.as_table()->is_inline())
			continue; // a sub-table of its own, elsewhere
		if (v.source().end.line > end.line)
			end = v.source().end;
		else if (v.source().end.line == end.line && v.source().end.column > end.column)
			end = v.source().end;
	}
	if (end.line < 1 || end.line > ls.size())
		return false;
	at = end.line < ls.size() ? ls[end.line] : t.size();
	return true;
}

} // namespace

merge_result merge_into(const std::string &text, const suggestion &s)
{
	merge_result res;
	toml::table root;
	try {
		root = toml::parse(std::string_view(text), std::string_view("policy"));
	} catch (const toml::parse_error &e) {
		res.error = "the policy is not valid TOML: " + std::string(e.description());
		return res;
	}
	std::vector<std::size_t> ls = line_starts(text);
	std::vector<edit> edits;
	std::string appended;
	for (const auto &p : s.profiles) {
		if (p.empty())
			continue;
		const toml::table *prof = root["profile"][p.name].as_table();
		if (!prof) {
			res.error = "the policy has no profile \"" + p.name + "\" (the log names it)";
			return res;
		}
		std::string key = profile_key(p.name);
		auto section = [&](const char *name, const std::vector<learned_rule> &rules,
				   const std::set<std::string> *sockets) {
			if (rules.empty() && (!sockets || sockets->empty()))
				return true;
			const toml::node *n = prof->get(name);
			const toml::table *tbl = n ? n->as_table() : nullptr;
			if (n && (!tbl || tbl->is_inline())) {
				res.error = "[profile." + p.name + "." + name +
					    "] is written inline; merge by hand (ltrackctl learn --rules-only)";
				return false;
			}
			std::string new_keys;
			if (sockets && !sockets->empty()) {
				const toml::node *sk = tbl ? tbl->get("sockets") : nullptr;
				if (sk && sk->as_array()) {
					std::string items = "  # learned by ltrackctl learn:\n";
					for (const auto &e : *sockets)
						items += "  \"" + e + "\",\n";
					if (!add_to_array(text, ls, *sk->as_array(), items, edits)) {
						res.error = "cannot edit the sockets list of profile " + p.name;
						return false;
					}
				} else {
					std::set<std::string> all{"unix", "inet", "inet6", "netlink-route"};
					all.insert(sockets->begin(), sockets->end());
					new_keys +=
						"# learned by ltrackctl learn (the default list and what the log needs):\nsockets = [" +
						sockets_list(all) + "]\n";
				}
			}
			if (!rules.empty()) {
				const toml::node *rn = tbl ? tbl->get("rules") : nullptr;
				if (rn && rn->as_array()) {
					if (!add_to_array(text, ls, *rn->as_array(), section_items(rules), edits)) {
						res.error = "cannot edit the rules of [profile." + p.name + "." + name +
							    "]";
						return false;
					}
				} else if (rn) {
					res.error = "[profile." + p.name + "." + name + "] rules is not an array";
					return false;
				} else {
					new_keys += "rules = [\n" + section_items(rules) + "]\n";
				}
			}
			if (new_keys.empty())
				return true;
			if (tbl) {
				std::size_t at;
				if (!end_of_table(text, ls, *tbl, at)) {
					res.error = "cannot find the end of [profile." + p.name + "." + name + "]";
					return false;
				}
				edits.push_back({at, new_keys});
			} else {
				appended += "\n[profile." + key + "." + name + "]\n" + new_keys;
			}
			return true;
		};
		if (!section("file", p.file, nullptr) || !section("exec", p.exec, nullptr) ||
		    !section("network", p.network, &p.sockets))
			return res;
	}
	std::stable_sort(edits.begin(), edits.end(), [](const edit &a, const edit &b) { return a.at < b.at; });
	std::string out;
	std::size_t at = 0;
	for (const auto &e : edits) {
		out.append(text, at, e.at - at);
		out += e.text;
		at = e.at;
	}
	out.append(text, at, std::string::npos);
	if (!appended.empty()) {
		if (!out.empty() && out.back() != '\n')
			out += '\n';
		out += appended;
	}
	// Never hand out a policy that does not parse.
	try {
		(void)toml::parse(std::string_view(out), std::string_view("merged"));
	} catch (const toml::parse_error &e) {
		res.error = "merging produced invalid TOML (" + std::string(e.description()) + "); merge by hand";
		return res;
	}
	res.text = std::move(out);
	return res;
}

// ---- unified diff -------------------------------------------------------------

std::string unified_diff(const std::string &a, const std::string &b, const std::string &name_a,
			 const std::string &name_b)
{
	auto lines = [](const std::string &t) {
		std::vector<std::string> v;
		std::istringstream in(t);
		for (std::string l; std::getline(in, l);)
			v.push_back(l);
		return v;
	};
	std::vector<std::string> x = lines(a), y = lines(b);
	std::size_t n = x.size(), m = y.size();
	// LCS table (policies are small).
	std::vector<std::vector<uint32_t>> L(n + 1, std::vector<uint32_t>(m + 1, 0));
	for (std::size_t i = n; i-- > 0;)
		for (std::size_t j = m; j-- > 0;)
			L[i][j] = x[i] == y[j] ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
	struct op {
		char kind; // ' ', '-', '+'
		std::size_t i, j;
	};
	std::vector<op> ops;
	std::size_t i = 0, j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && x[i] == y[j]) {
			ops.push_back({' ', i++, j++});
		} else if (i < n && (j == m || L[i + 1][j] >= L[i][j + 1])) {
			ops.push_back({'-', i++, j});
		} else {
			ops.push_back({'+', i, j++});
		}
	}
	std::string out;
	const std::size_t ctx = 3;
	for (std::size_t k = 0; k < ops.size();) {
		if (ops[k].kind == ' ') {
			k++;
			continue;
		}
		std::size_t start = k >= ctx ? k - ctx : 0;
		std::size_t end = k;
		// Extend while changes are within 2*ctx of each other.
		std::size_t last_change = k;
		for (std::size_t q = k; q < ops.size(); q++) {
			if (ops[q].kind != ' ')
				last_change = q;
			else if (q - last_change > 2 * ctx)
				break;
			end = q;
		}
		end = std::min(ops.size() - 1, last_change + ctx);
		std::size_t a0 = ops[start].i, b0 = ops[start].j, ac = 0, bc = 0;
		std::string body;
		for (std::size_t q = start; q <= end; q++) {
			const op &o = ops[q];
			if (o.kind == ' ') {
				body += " " + x[o.i] + "\n";
				ac++;
				bc++;
			} else if (o.kind == '-') {
				body += "-" + x[o.i] + "\n";
				ac++;
			} else {
				body += "+" + y[o.j] + "\n";
				bc++;
			}
		}
		if (out.empty())
			out = "--- " + name_a + "\n+++ " + name_b + "\n";
		out += "@@ -" + num(ac ? a0 + 1 : a0) + "," + num(ac) + " +" + num(bc ? b0 + 1 : b0) + "," + num(bc) +
		       " @@\n" + body;
		k = end + 1;
	}
	return out;
}

// ---- replay ---------------------------------------------------------------------

void replayer::add(const tracing::decision_record &r)
{
	key k;
	k.profile = r.rule.profile;
	k.hook = tracing::hook_name(r.hook);
	k.was = tracing::outcome_name(r.outcome);
	if (r.hook == LTRACK_HOOK_FILE || r.hook == LTRACK_HOOK_EXEC || r.hook == LTRACK_HOOK_MODEL) {
		k.object = r.path_partial ? "\x01partial\t" + r.path : r.path;
		if (r.hook == LTRACK_HOOK_MODEL)
			k.verdict = r.model.verdict;
	} else if (r.hook == LTRACK_HOOK_NET) {
		if (r.family == "unix")
			k.object = "unix:" + r.path;
		else if (r.family == "inet6" || r.addr_text.find(':') != std::string::npos)
			k.object = "[" + r.addr_text + "]:" + num(r.port) + (r.proto.empty() ? "" : "/" + r.proto);
		else
			k.object = r.addr_text + ":" + num(r.port) + (r.proto.empty() ? "" : "/" + r.proto);
	} else if (r.hook == LTRACK_HOOK_SOCKET) {
		k.object = r.family + "/" + r.sock_type + (r.proto.empty() ? "" : "/" + r.proto);
	} else {
		k.object = r.cred_op;
	}
	auto &v = seen_[k];
	v.first += r.count;
	v.second++;
}

replay_result replayer::run(const policy::compiled_policy &p, const policy::path_resolver &resolve) const
{
	replay_result out;
	for (const auto &[k, v] : seen_) {
		out.records += v.second;
		out.decisions += v.first;
		replay_item item{k.profile, k.hook, k.object, "", "", k.was, v.first, v.second, ""};
		auto skip = [&](const std::string &why) {
			item.reason = why;
			if (item.object.rfind("\x01partial\t", 0) == 0)
				item.object = item.object.substr(9);
			item.object = text_escape(item.object);
			out.not_replayed.push_back(item);
		};
		policy::explain_result ex;
		if (k.hook == "file" || k.hook == "exec" || k.hook == "model") {
			if (k.object.rfind("\x01partial\t", 0) == 0) {
				skip("only the final name is known (path_partial)");
				continue;
			}
			if (k.object.find("\xef\xbf\xbd") != std::string::npos) {
				skip("the log does not hold this name's exact bytes (not UTF-8)");
				continue;
			}
			if (k.hook == "exec") {
				ex = policy::explain_exec(p, k.profile, k.object, resolve);
			} else {
				uint32_t verdict = LTRACK_VERDICT_UNSCANNED;
				if (auto v2 = policy::parse_verdict(k.verdict))
					verdict = *v2;
				ex = policy::explain_file(p, k.profile, k.object, verdict, resolve);
			}
		} else if (k.hook == "net") {
			ex = policy::explain_connect(p, k.profile, k.object);
		} else if (k.hook == "socket") {
			std::string spec = k.object;
			if (!spec.empty() && spec.back() == '/')
				spec.pop_back();
			ex = policy::explain_socket(p, k.profile, spec);
		} else {
			skip("a " + k.hook + " decision cannot be replayed");
			continue;
		}
		if (!ex.ex) {
			skip(ex.error.empty() ? "cannot be evaluated" : ex.error);
			continue;
		}
		uint8_t o = ex.ex->outcome;
		if (o != LTRACK_OUT_DENIED && o != LTRACK_OUT_KILLED && o != LTRACK_OUT_WOULD_DENY)
			continue;
		item.object = text_escape(item.object);
		item.outcome = policy::outcome_name(o);
		item.rule = ex.ex->steps.empty() ? "" : ex.ex->steps.back();
		out.refused_records += v.second;
		out.refused_decisions += v.first;
		out.refused.push_back(item);
	}
	return out;
}

std::string replay_text(const replay_result &r, const std::string &policy_file)
{
	std::string out = "replayed " + plural(r.decisions, "decision", "decisions") + " (" +
			  plural(r.records, "record", "records") + ") against " + text_escape(policy_file) + "\n";
	if (r.refused.empty()) {
		out += "nothing would be refused\n";
	} else {
		out += "would refuse " + plural(r.refused.size(), "distinct decision", "distinct decisions") + " (" +
		       plural(r.refused_decisions, "decision", "decisions") + "):\n";
		std::string last_profile;
		for (const auto &i : r.refused) {
			if (i.profile != last_profile)
				out += "  profile " + text_escape(i.profile) + ":\n";
			last_profile = i.profile;
			out += "    " + i.outcome + " " + i.hook + " " + i.object + " x" + num(i.decisions) + " (was " +
			       i.was + ")\n      " + i.rule + "\n";
		}
	}
	if (!r.not_replayed.empty()) {
		out += "not replayed (" + num(r.not_replayed.size()) + "):\n";
		for (const auto &i : r.not_replayed)
			out += "    " + i.hook + " " + i.object + " x" + num(i.decisions) + ": " +
			       text_escape(i.reason) + "\n";
	}
	return out;
}

std::string replay_json(const replay_result &r, const std::string &policy_file)
{
	auto item = [](const replay_item &i, bool refused) {
		std::string o = "{\"profile\":" + json_string(i.profile) + ",\"hook\":" + json_string(i.hook) +
				",\"object\":" + json_string(i.object) + ",\"recorded_outcome\":" + json_string(i.was) +
				",\"decisions\":" + num(i.decisions) + ",\"records\":" + num(i.records);
		if (refused)
			o += ",\"outcome\":" + json_string(i.outcome) + ",\"rule\":" + json_string(i.rule);
		else
			o += ",\"reason\":" + json_string(i.reason);
		return o + "}";
	};
	std::string out = "{\"policy\":" + json_string(policy_file) + ",\"records\":" + num(r.records) +
			  ",\"decisions\":" + num(r.decisions) + ",\"refused_records\":" + num(r.refused_records) +
			  ",\"refused_decisions\":" + num(r.refused_decisions) + ",\"refused\":[";
	for (std::size_t k = 0; k < r.refused.size(); k++)
		out += (k ? "," : "") + item(r.refused[k], true);
	out += "],\"not_replayed\":[";
	for (std::size_t k = 0; k < r.not_replayed.size(); k++)
		out += (k ? "," : "") + item(r.not_replayed[k], false);
	return out + "]}";
}

} // namespace ltrack::learn
