#include "parse_policy.h"

#include "abi_names.h"
#include "net_address.h"
#include "rule_sets.h"
#include "socket_names.h"

#include <algorithm>
#include <tuple>

namespace ltrack::policy {

namespace {

const std::vector<std::string> file_actions = abi::names_of({LTRACK_ACT_ALLOW, LTRACK_ACT_AUDIT, LTRACK_ACT_DENY});
const std::vector<std::string> kill_actions =
	abi::names_of({LTRACK_ACT_ALLOW, LTRACK_ACT_AUDIT, LTRACK_ACT_DENY, LTRACK_ACT_KILL});
const std::vector<std::string> modes = abi::names_of({LTRACK_MODE_ENFORCE, LTRACK_MODE_AUDIT});

uint8_t action_of(const std::string &s)
{
	return abi::value_of<ltrack_action>(s).value_or(LTRACK_ACT_NONE);
}
uint32_t mode_of(const std::string &s)
{
	return abi::value_of<ltrack_mode>(s).value_or(LTRACK_MODE_INHERIT);
}

// An action key; "kill" in a file section gets its own explanation.
std::optional<uint8_t> read_action(parse_context &ctx, table_reader &r, std::string_view key, bool kill_ok)
{
	auto s = r.string(key);
	if (!s)
		return std::nullopt;
	const auto &ok = kill_ok ? kill_actions : file_actions;
	if (std::find(ok.begin(), ok.end(), *s) != ok.end())
		return action_of(*s);
	if (action_of(*s) == LTRACK_ACT_KILL)
		ctx.error(pos_of(*r.get(key)),
			  r.name(key) + ": \"kill\" is only for exec and network rules; use \"deny\"");
	else if (std::string g = closest(*s, ok); !g.empty())
		ctx.error(pos_of(*r.get(key)),
			  r.name(key) + ": \"" + *s + "\" is not an action; did you mean \"" + g + "\"?");
	else
		ctx.error(pos_of(*r.get(key)),
			  r.name(key) + ": \"" + *s + "\" is not an action; use " + list_choices(ok));
	return std::nullopt;
}

std::optional<bool> read_missing(table_reader &r, bool inherited)
{
	if (!r.has("missing"))
		return inherited;
	auto m = r.choice("missing", {"error", "warn"});
	return m ? std::optional<bool>(*m == "warn") : std::nullopt;
}

bool check_abs_path(parse_context &ctx, const std::string &p, source_pos pos, const std::string &what)
{
	if (p.empty() || p[0] != '/') {
		ctx.error(pos, what + ": \"" + p + "\" is not an absolute path; write it from / (e.g. \"/" + p + "\")");
		return false;
	}
	if (p.find('\0') != std::string::npos || p.size() > 4096) {
		ctx.error(pos, what + ": not a usable path");
		return false;
	}
	return true;
}

std::vector<path_entry> read_paths(parse_context &ctx, table_reader &r, std::string_view key, bool missing_warn)
{
	std::vector<path_entry> out;
	const toml::array *a = r.array(key);
	if (!a)
		return out;
	for (const auto &n : *a) {
		auto s = string_value(ctx, n, r.name(key) + " entry");
		if (s && check_abs_path(ctx, *s, pos_of(n), r.name(key)))
			out.push_back({*s, missing_warn, pos_of(n), 0});
	}
	return out;
}

// "*.pkl" -> suffix ".pkl"; "id_rsa" -> exact name. Anything else with a
// glob character is refused: the kernel matches only these two forms.
bool check_name_pattern(parse_context &ctx, const std::string &p, source_pos pos, const std::string &what)
{
	if (p.empty() || p.size() > LTRACK_NAME_MAX) {
		ctx.error(pos, what + ": a name pattern must be 1 to " + std::to_string(LTRACK_NAME_MAX) + " bytes");
		return false;
	}
	if (p.find('/') != std::string::npos) {
		ctx.error(pos, what + ": \"" + p +
				       "\" contains '/'; a name pattern matches the last path component only "
				       "(use file = or dir = for paths)");
		return false;
	}
	std::string_view body = p;
	if (p.rfind("*.", 0) == 0)
		body = std::string_view(p).substr(2);
	if (body.empty() || body.find_first_of("*?[]{}") != std::string_view::npos || p == "." || p == "..") {
		ctx.error(pos, what + ": \"" + p +
				       "\" is not a supported pattern; use an exact name (\"id_rsa\") or "
				       "a suffix starting with \"*.\" (\"*.pkl\", \"*.tar.gz\")");
		return false;
	}
	return true;
}

bool is_unix_set(const rule_set &set)
{
	return !set.entries.empty() && set.entries.front().kind == target_kind::unix_socket;
}

// The set a rule names, or an error with the names there are.
const rule_set *read_set(parse_context &ctx, table_reader &r)
{
	auto s = r.string("set");
	if (!s)
		return nullptr;
	if (const rule_set *set = find_rule_set(*s))
		return set;
	std::vector<std::string> names;
	for (const auto &rs : rule_sets())
		names.push_back(rs.name);
	std::string g = closest(*s, names);
	ctx.error(pos_of(*r.get("set")),
		  r.name("set") + ": \"" + *s + "\" is not a rule set; " +
			  (g.empty() ? "use " + list_choices(names) : "did you mean \"" + g + "\"?"));
	return nullptr;
}

void read_path_rules(parse_context &ctx, table_reader &section, bool exec, bool missing_warn,
		     std::vector<path_rule> &out)
{
	const toml::array *a = section.array("rules");
	if (!a)
		return;
	std::vector<std::string> keys =
		exec ? std::vector<std::string>{"action", "file", "dir", "missing"}
		     : std::vector<std::string>{"action", "file", "dir", "name", "set", "missing"};
	for (const auto &n : *a) {
		const toml::table *t = n.as_table();
		std::string where = section.name("rules");
		if (!t) {
			ctx.error(
				pos_of(n),
				where + ": each rule must be a table like { action = \"deny\", dir = \"/path\" }, found " +
					type_name(n));
			continue;
		}
		table_reader r(ctx, *t, where, keys);
		path_rule rule;
		rule.pos = r.pos();
		auto act = read_action(ctx, r, "action", exec);
		if (!r.has("action"))
			ctx.error(rule.pos,
				  where + ": rule has no action; add action = \"allow\", \"audit\" or \"deny\"" +
					  std::string(exec ? " or \"kill\"" : ""));
		auto miss = read_missing(r, missing_warn);
		int targets = 0;
		const rule_set *set = nullptr;
		if (!exec && r.has("set")) {
			targets++;
			set = read_set(ctx, r);
			if (set && is_unix_set(*set)) {
				ctx.error(pos_of(*r.get("set")),
					  r.name("set") + ": \"" + set->name +
						  "\" is a set of Unix "
						  "sockets; name it in the network section's rules");
				set = nullptr;
			}
			if (!set)
				act.reset();
		}
		for (const char *k : {"file", "dir", "name"}) {
			if (!r.has(k))
				continue;
			targets++;
			auto s = r.string(k);
			if (!s)
				continue;
			rule.target = *s;
			rule.kind = k[0] == 'f'   ? target_kind::file
				    : k[0] == 'd' ? target_kind::dir
						  : target_kind::name;
			bool ok = rule.kind == target_kind::name
					  ? check_name_pattern(ctx, *s, pos_of(*r.get(k)), r.name(k))
					  : check_abs_path(ctx, *s, pos_of(*r.get(k)), r.name(k));
			if (!ok)
				act.reset();
		}
		if (targets != 1) {
			ctx.error(rule.pos,
				  where + ": a rule needs exactly one of " +
					  list_choices(exec ? std::vector<std::string>{"file", "dir"}
							    : std::vector<std::string>{"file", "dir", "name", "set"}) +
					  (targets ? ", found " + std::to_string(targets) : ""));
			continue;
		}
		if (set && act) {
			// One rule per entry, all at the position of the rule that named
			// the set. Entries absent on this host are not an error (a set
			// names files of many hosts); the compiler lists them as missing.
			for (const auto &e : set->entries) {
				path_rule er = rule;
				er.kind = e.kind;
				er.target = e.target;
				er.action = *act;
				er.missing_warn = true;
				er.set = set->name;
				out.push_back(er);
			}
			continue;
		}
		if (!act || !miss || rule.target.empty())
			continue;
		rule.action = *act;
		rule.missing_warn = *miss;
		out.push_back(rule);
	}
}

void read_default(parse_context &ctx, table_reader &r, std::string_view key, bool kill_ok, default_rule &out)
{
	if (!r.has(key))
		return;
	if (auto a = read_action(ctx, r, key, kill_ok)) {
		out.action = *a;
		out.pos = pos_of(*r.get(key));
	}
}

// A key that takes one value or a non-empty array of them: `one` reads each;
// an empty array is the error `if_empty`.
template <class One>
void each_value(parse_context &ctx, const toml::node &n, const std::string &if_empty, bool &ok, One one)
{
	if (const auto *a = n.as_array()) {
		if (a->empty()) {
			ctx.error(pos_of(n), if_empty);
			ok = false;
		}
		for (const auto &v : *a)
			one(v);
	} else {
		one(n);
	}
}

// Ports: 443, "8000-8100" or an array of those.
std::vector<port_range> read_ports(parse_context &ctx, const toml::node &n, const std::string &what, bool &ok)
{
	std::vector<port_range> out;
	auto one = [&](const toml::node &v) {
		if (const auto *i = v.as_integer()) {
			if (i->get() < 0 || i->get() > 65535) {
				ctx.error(pos_of(v),
					  what + ": port " + std::to_string(i->get()) + " is out of range (0-65535)");
				ok = false;
				return;
			}
			out.push_back({uint16_t(i->get()), uint16_t(i->get())});
		} else if (const auto *s = v.as_string()) {
			if (auto r = parse_port_range(s->get()))
				out.push_back(*r);
			else {
				ctx.error(pos_of(v), what + ": " + r.failure().error);
				ok = false;
			}
		} else {
			ctx.error(pos_of(v),
				  what + ": expected a port (443) or a range (\"8000-8100\"), found " + type_name(v));
			ok = false;
		}
	};
	each_value(ctx, n, what + ": empty list; leave ports out to mean every port", ok, one);
	return out;
}

// Destinations: CIDRs, "loopback" (127.0.0.0/8 and ::1) or "any".
std::vector<cidr> read_destinations(parse_context &ctx, const toml::node &n, const std::string &what, bool &ok)
{
	std::vector<cidr> out;
	auto one = [&](const toml::node &v) {
		auto s = string_value(ctx, v, what);
		if (!s) {
			ok = false;
			return;
		}
		if (*s == "loopback") {
			out.push_back(*parse_cidr("127.0.0.0/8"));
			out.push_back(*parse_cidr("::1/128"));
			out[out.size() - 2].text = out.back().text = "loopback";
		} else if (*s == "any") {
			out.push_back(*parse_cidr("::/0"));
			out.back().text = "any";
		} else if (auto c = parse_cidr(*s)) {
			out.push_back(*c);
		} else {
			ctx.error(pos_of(v), what + ": " + c.failure().error);
			ok = false;
		}
	};
	each_value(ctx, n, what + ": empty list; leave \"to\" out to mean any destination", ok, one);
	return out;
}

const char *const socket_kind_names[] = {"inet", "inet6", "icmp", "raw", "ip-other", "netlink", "any"};

// One `sockets` entry into the list: a kind of IP socket, "netlink" (every
// protocol) or "netlink-PROTO", "any", or an address family by name.
bool add_socket_kind(socket_list &l, const std::string &n)
{
	static const std::pair<const char *, uint32_t> ip[] = {{"inet", LTRACK_SOCK_INET},
							       {"inet6", LTRACK_SOCK_INET6},
							       {"icmp", LTRACK_SOCK_ICMP},
							       {"raw", LTRACK_SOCK_RAW},
							       {"ip-other", LTRACK_SOCK_IP_OTHER}};
	for (const auto &[name, bit] : ip)
		if (n == name) {
			l.inet |= bit;
			return true;
		}
	if (n == "any") {
		l.families = ~0ull;
		l.inet = ~0u;
		l.netlink = ~0u;
		return true;
	}
	if (n == "netlink") {
		l.netlink = ~0u;
		return true;
	}
	if (n.rfind("netlink-", 0) == 0) {
		const socket_name *nl = socket_value_of(netlink_protocols, std::string_view(n).substr(8));
		if (nl)
			l.netlink |= 1u << nl->value;
		return nl;
	}
	const socket_name *f = socket_value_of(socket_families, n);
	if (!f || f->value == 2 || f->value == 10 || f->value == 16)
		return false; // inet, inet6, netlink: their kinds are named above
	l.families |= 1ull << f->value;
	return true;
}

void read_sockets(parse_context &ctx, table_reader &net, socket_list &l)
{
	const toml::array *a = net.array("sockets");
	if (!a)
		return;
	l.written = true;
	l.pos = pos_of(*net.get("sockets"));
	for (const auto &n : *a) {
		auto s = string_value(ctx, n, net.name("sockets") + " entry");
		if (!s)
			continue;
		if (add_socket_kind(l, *s)) {
			l.names.push_back(*s);
			continue;
		}
		std::vector<std::string> names(std::begin(socket_kind_names), std::end(socket_kind_names));
		for (const auto &nl : netlink_protocols)
			names.push_back(std::string("netlink-") + nl.name);
		for (const auto &f : socket_families)
			if (f.value != 2 && f.value != 10 && f.value != 16)
				names.push_back(f.name);
		std::string g = closest(*s, names);
		ctx.error(pos_of(n),
			  net.name("sockets") + ": \"" + *s + "\" is not a kind of socket; " +
				  (g.empty() ? std::string("use inet, inet6, unix, icmp, raw, ip-other, netlink-route "
							   "(or another netlink-PROTOCOL), netlink, an address family "
							   "such as packet or vsock, or any")
					     : "did you mean \"" + g + "\"?"));
	}
}

// { action = "deny", unix = "/run/docker.sock" } or { action, set = "host-control-sockets" }.
void read_unix_rule(parse_context &ctx, table_reader &r, const std::string &where, std::optional<uint8_t> act,
		    std::vector<path_rule> &out)
{
	path_rule rule;
	rule.pos = r.pos();
	rule.kind = target_kind::unix_socket;
	for (const char *k : {"to", "ports", "proto"})
		if (r.has(k)) {
			ctx.error(pos_of(*r.get(k)), r.name(k) +
							     ": a Unix socket rule names its socket only; "
							     "write " +
							     std::string(k) + " in a rule of its own");
			act.reset();
		}
	if (r.has("unix") && r.has("set")) {
		ctx.error(rule.pos, where + ": a rule needs one of unix or set, found both");
		return;
	}
	if (r.has("set")) {
		const rule_set *set = read_set(ctx, r);
		if (set && !is_unix_set(*set)) {
			ctx.error(pos_of(*r.get("set")), r.name("set") + ": \"" + set->name +
								 "\" is a set of files; "
								 "name it in the file section's rules");
			set = nullptr;
		}
		if (!set || !act)
			return;
		for (const auto &e : set->entries) {
			path_rule er = rule;
			er.target = e.target;
			er.action = *act;
			er.set = set->name;
			out.push_back(er);
		}
		return;
	}
	auto s = r.string("unix");
	if (!s)
		return;
	source_pos at = pos_of(*r.get("unix"));
	bool abstract = !s->empty() && (*s)[0] == '@';
	if (abstract && (s->size() < 2 || s->size() > 108)) {
		ctx.error(at, r.name("unix") + ": an abstract socket is \"@\" and 1 to 107 bytes of name");
		act.reset();
	} else if (!abstract && !check_abs_path(ctx, *s, at, r.name("unix"))) {
		act.reset();
	} else if (!abstract && s->size() > 107) {
		ctx.error(at, r.name("unix") + ": \"" + *s + "\" is longer than a Unix socket path can be (107 bytes)");
		act.reset();
	}
	if (!act)
		return;
	rule.target = *s;
	rule.action = *act;
	out.push_back(rule);
}

void read_network(parse_context &ctx, table_reader &net, profile_def &p)
{
	read_default(ctx, net, "default", true, p.net_default);
	if (const toml::node *u = net.get("unix"); u && u->is_string())
		read_default(ctx, net, "unix", true, p.unix_rule);
	else if (u)
		ctx.error(pos_of(*u),
			  net.name("unix") +
				  ": expected the verdict for Unix sockets (\"allow\", \"audit\", "
				  "\"deny\" or \"kill\"), found " +
				  type_name(*u) +
				  "; rules on one socket go in rules = [{ action = \"deny\", unix = \"/path\" }]");
	read_sockets(ctx, net, p.sockets);
	const toml::array *a = net.array("rules");
	if (!a)
		return;
	for (const auto &n : *a) {
		std::string where = net.name("rules");
		const toml::table *t = n.as_table();
		if (!t) {
			ctx.error(pos_of(n),
				  where +
					  ": each rule must be a table like { action = \"allow\", to = \"10.0.0.0/8\", "
					  "ports = 443, proto = \"tcp\" }, found " +
					  type_name(n));
			continue;
		}
		table_reader r(ctx, *t, where, {"action", "to", "ports", "proto", "unix", "set"});
		net_rule rule;
		rule.pos = r.pos();
		bool ok = true;
		auto act = read_action(ctx, r, "action", true);
		if (!r.has("action")) {
			ctx.error(
				rule.pos,
				where + ": rule has no action; add action = \"allow\", \"audit\", \"deny\" or \"kill\"");
			ok = false;
		}
		if (r.has("unix") || r.has("set")) {
			read_unix_rule(ctx, r, where, ok ? act : std::nullopt, p.unix_rules);
			continue;
		}
		if (!r.has("to") && !r.has("ports") && !r.has("proto")) {
			ctx.error(rule.pos,
				  where + ": rule matches every connection; say which with to =, ports = or proto =, "
					  "or set the network default instead");
			ok = false;
		}
		if (const toml::node *to = r.get("to"))
			rule.cidrs = read_destinations(ctx, *to, r.name("to"), ok);
		else {
			rule.cidrs.push_back(*parse_cidr("::/0"));
			rule.cidrs.back().text = "any";
		}
		if (const toml::node *ports = r.get("ports"))
			rule.ports = read_ports(ctx, *ports, r.name("ports"), ok);
		else
			rule.ports.push_back({0, 65535});
		if (r.has("proto")) {
			if (auto pr = r.choice("proto", {"tcp", "udp", "any"}))
				rule.proto = *pr == "tcp" ? 6 : *pr == "udp" ? 17 : 0;
			else
				ok = false;
		}
		if (!ok || !act)
			continue;
		rule.action = *act;
		p.net_rules.push_back(std::move(rule));
	}
}

bool valid_digest(const std::string &d)
{
	return d.size() == 64 && std::all_of(d.begin(), d.end(), [](char c) {
		       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	       });
}

void read_model(parse_context &ctx, table_reader &m, profile_def &p, bool missing_warn)
{
	model_section &ms = p.model;
	ms.present = true;
	ms.pos = m.pos();
	ms.policy = LTRACK_MODEL_SAFE_ONLY;
	if (auto a = m.choice("allow",
			      abi::names_of({LTRACK_MODEL_SAFE_ONLY, LTRACK_MODEL_ALLOW_UNSCANNED, LTRACK_MODEL_ANY})))
		ms.policy = *abi::value_of<ltrack_model_policy>(*a);
	if (auto d = m.boolean("deny_suspicious"))
		ms.deny_suspicious = *d;
	if (auto a = m.choice("action", abi::names_of({LTRACK_ACT_DENY, LTRACK_ACT_AUDIT})))
		ms.action = action_of(*a);
	if (auto w = m.boolean("scan_at_open"))
		ms.scan_at_open = *w;
	if (auto mb = m.integer("scan_at_open_max_mb", 1, 1 << 20))
		ms.scan_at_open_max_mb = uint64_t(*mb);
	auto miss = read_missing(m, missing_warn);
	ms.dirs = read_paths(ctx, m, "directories", miss.value_or(missing_warn));
	ms.excludes = read_paths(ctx, m, "exclude", miss.value_or(missing_warn));
	if (const toml::array *a = m.array("extensions")) {
		for (const auto &n : *a) {
			auto s = string_value(ctx, n, m.name("extensions") + " entry");
			if (!s)
				continue;
			// One form only: ".pt". Anything else is a likely mistake.
			bool ok = s->size() >= 2 && (*s)[0] == '.' &&
				  s->find_first_of("/*?[]{}") == std::string::npos && s->size() <= LTRACK_NAME_MAX;
			if (!ok) {
				std::string fix = *s;
				fix.erase(0, fix.find_first_not_of("*."));
				ctx.error(pos_of(n), m.name("extensions") + ": \"" + *s +
							     "\" is not an extension; write it with "
							     "its leading dot, e.g. \"." +
							     (fix.empty() ? std::string("pt") : fix) + "\"");
				continue;
			}
			ms.extensions.push_back({*s, pos_of(n), 0});
		}
	}
	if (const toml::array *a = m.array("trusted_sha256")) {
		for (const auto &n : *a) {
			auto s = string_value(ctx, n, m.name("trusted_sha256") + " entry");
			if (!s)
				continue;
			if (!valid_digest(*s)) {
				ctx.error(pos_of(n), m.name("trusted_sha256") + ": \"" + *s +
							     "\" is not a SHA-256 digest "
							     "(64 hexadecimal digits, as printed by sha256sum)");
				continue;
			}
			std::string low = *s;
			std::transform(low.begin(), low.end(), low.begin(),
				       [](unsigned char c) { return std::tolower(c); });
			ms.trusted_sha256.push_back(low);
		}
	}
	if (ms.dirs.empty() && ms.extensions.empty() && !m.has("directories") && !m.has("extensions"))
		ctx.error(ms.pos, "[" + m.name("").substr(0, m.name("").size() - 1) +
					  "]: model rules need directories = [...] or extensions = [...] to say "
					  "which files are models");
}

bool valid_profile_name(std::string_view n)
{
	return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
		return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
	});
}

profile_def read_profile(parse_context &ctx, const toml::key &name, const toml::table &t)
{
	std::string where = "profile." + std::string(name.str());
	table_reader r(ctx, t, where,
		       {"mode", "executables", "cgroups", "all", "except_cgroups", "missing", "file", "exec", "network",
			"model", "privilege", "mount"});
	profile_def p;
	p.name = std::string(name.str());
	p.pos = pos_of(name);
	if (!valid_profile_name(p.name))
		ctx.error(p.pos, "profile name \"" + p.name + "\" must be 1 to 64 letters, digits, '-', '_' or '.'");
	if (auto m = r.choice("mode", modes))
		p.mode = mode_of(*m);
	bool missing_warn = read_missing(r, false).value_or(false);
	p.executables = read_paths(ctx, r, "executables", missing_warn);
	p.cgroups = read_paths(ctx, r, "cgroups", missing_warn);
	for (const auto &c : p.cgroups)
		if (c.path.rfind("/sys/fs/cgroup", 0) != 0)
			ctx.error(c.pos, where + ".cgroups: \"" + c.path +
						 "\" is not under /sys/fs/cgroup; write the cgroup "
						 "directory, e.g. /sys/fs/cgroup/system.slice/NAME.service");
	p.all = r.boolean("all").value_or(false);
	p.except_cgroups = read_paths(ctx, r, "except_cgroups", missing_warn);
	for (const auto &c : p.except_cgroups)
		if (c.path.rfind("/sys/fs/cgroup", 0) != 0)
			ctx.error(c.pos, where + ".except_cgroups: \"" + c.path +
						 "\" is not under /sys/fs/cgroup; write the "
						 "cgroup directory, e.g. /sys/fs/cgroup/user.slice/user-0.slice");
	if (!p.all && r.has("except_cgroups"))
		ctx.error(p.pos, "profile \"" + p.name +
					 "\": except_cgroups goes with all = true (the cgroups all = true "
					 "leaves to the administrator)");
	auto listed_count = [&](const char *k) {
		const toml::node *n = r.get(k);
		return n && n->is_array() ? n->as_array()->size() : std::size_t(0);
	};
	bool listed = r.has("executables") || r.has("cgroups");
	if (p.all && listed)
		ctx.error(p.pos, "profile \"" + p.name +
					 "\": all = true already selects every process; remove "
					 "executables and cgroups, or all");
	else if (!p.all && !listed)
		ctx.error(p.pos, "profile \"" + p.name +
					 "\" selects no processes; add executables = [\"/usr/bin/...\"], "
					 "cgroups = [\"/sys/fs/cgroup/...\"] or all = true");
	else if (!p.all && listed_count("executables") + listed_count("cgroups") == 0 &&
		 (!r.has("executables") || r.get("executables")->is_array()) &&
		 (!r.has("cgroups") || r.get("cgroups")->is_array()))
		ctx.error(p.pos, "profile \"" + p.name +
					 "\" selects no processes: its executables and cgroups lists "
					 "are empty");

	if (const toml::table *f = r.subtable("file")) {
		table_reader fr(ctx, *f, where + ".file", {"default", "rules", "missing"});
		read_default(ctx, fr, "default", false, p.file_default);
		read_path_rules(ctx, fr, false, read_missing(fr, missing_warn).value_or(missing_warn), p.file_rules);
	}
	if (const toml::table *e = r.subtable("exec")) {
		table_reader er(ctx, *e, where + ".exec", {"default", "rules", "missing"});
		read_default(ctx, er, "default", true, p.exec_default);
		read_path_rules(ctx, er, true, read_missing(er, missing_warn).value_or(missing_warn), p.exec_rules);
	}
	if (const toml::table *n = r.subtable("network")) {
		table_reader nr(ctx, *n, where + ".network", {"default", "unix", "sockets", "rules"});
		p.network_pos = nr.pos();
		read_network(ctx, nr, p);
	}
	if (const toml::table *pv = r.subtable("privilege")) {
		table_reader pr(ctx, *pv, where + ".privilege", {"default"});
		read_default(ctx, pr, "default", true, p.priv_default);
		if (!pr.has("default"))
			ctx.error(pr.pos(),
				  "[" + where +
					  ".privilege] needs default = \"allow\", \"audit\", \"deny\" or \"kill\"");
	}
	if (const toml::table *mt = r.subtable("mount")) {
		table_reader mr(ctx, *mt, where + ".mount", {"default"});
		read_default(ctx, mr, "default", true, p.mount_default);
		if (!mr.has("default"))
			ctx.error(mr.pos(),
				  "[" + where + ".mount] needs default = \"allow\", \"audit\", \"deny\" or \"kill\"");
	}
	if (const toml::table *m = r.subtable("model")) {
		table_reader mr(ctx, *m, where + ".model",
				{"allow", "deny_suspicious", "action", "directories", "extensions", "exclude",
				 "trusted_sha256", "missing", "scan_at_open", "scan_at_open_max_mb"});
		read_model(ctx, mr, p, missing_warn);
	}
	return p;
}

} // namespace

void read_log(parse_context &ctx, table_reader &top, log_config &log)
{
	const toml::table *t = top.subtable("log");
	if (!t)
		return;
	table_reader r(ctx, *t, "log",
		       {"level", "format", "output_path", "max_size", "max_age", "max_backups", "compress",
			"stats_interval", "journald", "syslog", "syslog_facility"});
	if (auto v = r.choice("level", {"trace", "debug", "info", "warn", "error", "critical", "off"}))
		log.level = *v;
	if (auto v = r.choice("format", {"json", "text"}))
		log.format = *v;
	if (auto v = r.string("output_path")) {
		if (*v == "-" || check_abs_path(ctx, *v, pos_of(*r.get("output_path")), "log.output_path"))
			log.output_path = *v;
	}
	if (auto v = r.integer("max_size", 1, 1 << 20))
		log.max_size_mb = uint32_t(*v);
	if (auto v = r.integer("max_age", 0, 36500))
		log.max_age_days = uint32_t(*v);
	if (auto v = r.integer("max_backups", 0, 10000))
		log.max_backups = uint32_t(*v);
	if (auto v = r.boolean("compress"))
		log.compress = *v;
	if (const toml::node *n = r.get("stats_interval"))
		if (auto secs = parse_interval(ctx, *n, r.name("stats_interval")))
			log.stats_interval_s = *secs;
	if (auto v = r.boolean("journald"))
		log.journald = *v;
	if (auto v = r.boolean("syslog"))
		log.syslog = *v;
	if (auto v = r.choice("syslog_facility", {"daemon", "user", "auth", "authpriv", "local0", "local1", "local2",
						  "local3", "local4", "local5", "local6", "local7"}))
		log.syslog_facility = *v;
}

void read_metrics(parse_context &ctx, table_reader &top, metrics_config &m)
{
	const toml::table *t = top.subtable("metrics");
	if (!t)
		return;
	table_reader r(ctx, *t, "metrics", {"listen", "allow_remote", "textfile", "textfile_interval"});
	m.allow_remote = r.boolean("allow_remote").value_or(false);
	if (auto v = r.string("listen")) {
		source_pos pos = pos_of(*r.get("listen"));
		if (auto a = parse_listen_address(*v); !a)
			ctx.error(pos, "metrics.listen: \"" + *v + "\": " + a.failure().error);
		else if (!a->loopback() && !m.allow_remote)
			ctx.error(
				pos,
				"metrics.listen: \"" + *v +
					"\" is not a loopback address; the metrics name profiles "
					"and count decisions, and anyone who can reach the port may read them. Write "
					"127.0.0.1:PORT, or add allow_remote = true to serve other hosts (and firewall it)");
		else
			m.listen = *v;
	}
	if (auto v = r.string("textfile")) {
		source_pos pos = pos_of(*r.get("textfile"));
		bool prom = v->size() > 5 && v->compare(v->size() - 5, 5, ".prom") == 0 && (*v)[v->size() - 6] != '/';
		if (!check_abs_path(ctx, *v, pos, "metrics.textfile")) {
			// check_abs_path said why
		} else if (!prom) {
			ctx.error(
				pos,
				"metrics.textfile: \"" + *v +
					"\" must end in .prom (node_exporter's textfile "
					"collector reads only *.prom), e.g. /var/lib/prometheus/node-exporter/ltrack.prom");
		} else {
			m.textfile = *v;
		}
	}
	if (const toml::node *n = r.get("textfile_interval")) {
		if (auto secs = parse_interval(ctx, *n, r.name("textfile_interval"))) {
			if (*secs == 0)
				ctx.error(pos_of(*n),
					  "metrics.textfile_interval: must be at least 1s (leave textfile out "
					  "to write no file)");
			else
				m.textfile_interval_s = *secs;
		}
		if (!r.has("textfile"))
			ctx.error(pos_of(*n), "metrics.textfile_interval: there is no textfile to write");
	}
	if (r.has("allow_remote") && !r.has("listen"))
		ctx.error(r.pos(), "metrics.allow_remote goes with listen");
	if (!r.has("listen") && !r.has("textfile"))
		ctx.error(r.pos(),
			  "[metrics] needs listen = \"127.0.0.1:9464\" and/or textfile = \"/var/lib/prometheus/"
			  "node-exporter/ltrack.prom\"");
}

// "90s", "5m", "1h", "0" (off) or an integer number of seconds; at most a day.
std::optional<uint32_t> parse_interval(parse_context &ctx, const toml::node &n, const std::string &what)
{
	constexpr int64_t max_s = 86400;
	int64_t secs = -1;
	if (const auto *i = n.as_integer()) {
		secs = i->get();
	} else if (const auto *s = n.as_string()) {
		const std::string &v = s->get();
		size_t digits = 0;
		while (digits < v.size() && digits < 7 && v[digits] >= '0' && v[digits] <= '9')
			++digits;
		std::string unit = v.substr(digits);
		int64_t scale = unit == "s" || (unit.empty() && v == "0") ? 1
				: unit == "m"                             ? 60
				: unit == "h"                             ? 3600
									  : 0;
		if (digits == 0 || scale == 0) {
			ctx.error(pos_of(n), what + ": \"" + v +
						     "\" is not a duration: write a number with s, m or h "
						     "(\"60s\", \"5m\", \"1h\"), or 0 for none");
			return std::nullopt;
		}
		secs = std::stoll(v.substr(0, digits)) * scale;
	} else {
		ctx.error(pos_of(n), what + ": expected a duration such as \"60s\", found " + type_name(n));
		return std::nullopt;
	}
	if (secs < 0 || secs > max_s) {
		ctx.error(pos_of(n), what + ": " + std::to_string(secs) + " s is out of range (0 = none, up to " +
					     std::to_string(max_s) + " s, a day)");
		return std::nullopt;
	}
	return uint32_t(secs);
}

bool is_ltrack_compat(const toml::table &doc)
{
	bool monitors = doc.contains("file_monitor") || doc.contains("exec_monitor") || doc.contains("network_monitor");
	return monitors && !doc.contains("profile") && !doc.contains("mode");
}

policy_def parse_policy(parse_context &ctx, const toml::table &doc)
{
	policy_def pol;
	pol.file = ctx.file;
	table_reader top(ctx, doc, "", {"mode", "on_daemon_exit", "log", "metrics", "profile"});
	if (auto m = top.choice("mode", modes))
		pol.mode = mode_of(*m);
	if (auto e = top.choice("on_daemon_exit", {"keep", "unload"}))
		pol.unload_on_exit = *e == "unload";
	read_log(ctx, top, pol.log);
	read_metrics(ctx, top, pol.metrics);
	if (const toml::table *profiles = top.subtable("profile")) {
		for (const auto &[name, node] : *profiles) {
			const toml::table *t = node.as_table();
			if (!t) {
				ctx.error(pos_of(name), "profile." + std::string(name.str()) +
								": expected a table "
								"([profile." +
								std::string(name.str()) + "]), found " +
								type_name(node));
				continue;
			}
			pol.profiles.push_back(read_profile(ctx, name, *t));
		}
	}
	// toml++ tables are ordered by key; profiles keep their source order.
	std::stable_sort(pol.profiles.begin(), pol.profiles.end(), [](const profile_def &a, const profile_def &b) {
		return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
	});
	if (pol.profiles.empty() && !doc.contains("profile"))
		ctx.warn({1, 1}, "the policy has no [profile.NAME]; nothing is governed");
	return pol;
}

} // namespace ltrack::policy
