#include "evaluate.h"

#include "abi_names.h"
#include "model_decision.h"
#include "name_hash.h"
#include "net_address.h"
#include "policy.h"
#include "socket_names.h"

#include <cstring>

namespace ltrack::policy {

std::string outcome_name(uint8_t o)
{
	const char *n = abi::name_of<ltrack_outcome>(o);
	return n ? n : "?";
}

namespace {

struct walk_result {
	ltrack_rule rule{};
	bool found = false;
	bool limit = false;
};

std::string describe(const compiled_policy &p, uint32_t rule_id)
{
	const rule_symbol *s = p.symbol(rule_id);
	if (!s)
		return "implicit";
	return "rule " + std::to_string(rule_id) + " `" + std::string(s->text) + "` (" + std::string(s->file) + ":" +
	       std::to_string(s->line) + ")";
}

class evaluator {
public:
	evaluator(const compiled_policy &p, const compiled_profile &prof, explanation &ex) : p_(p), prof_(prof), ex_(ex)
	{
	}

	// The file's identity and its ancestors, nearest first, as the kernel
	// walk visits them (a filesystem boundary costs an extra step there).
	struct chain_entry {
		std::string path;
		uint64_t dev, ino;
		bool extra; // the mountpoint's own dentry: counted, not looked up
	};
	std::vector<chain_entry> chain;
	std::string final_name;

	status build_chain(const std::string &path, const path_resolver &resolve)
	{
		if (path.empty() || path[0] != '/')
			return status::fail("\"" + path + "\" is not an absolute path");
		resolve_result r = resolve(path);
		std::string start = path;
		std::size_t slash = path.find_last_of('/');
		final_name = path.substr(slash + 1);
		if (!r) {
			// A file yet to be created: its own inode has no rule; walk from
			// the nearest existing ancestor.
			while (!r && start.size() > 1) {
				start = start.substr(0, std::max<std::size_t>(start.find_last_of('/'), 1));
				r = resolve(start);
			}
			if (!r)
				return status::fail("cannot resolve " + path + " or any parent directory");
			ex_.steps.push_back(path + " does not exist (" + resolve(path).failure().error +
					    "); walking from " + r->real_path);
			chain.push_back({path, 0, 0, true});
		} else {
			std::string real = r->real_path;
			final_name = real.substr(real.find_last_of('/') + 1);
			if (real != path)
				ex_.steps.push_back(path + " resolves to " + real);
		}
		std::string cur = r->real_path;
		uint64_t prev_dev = 0;
		bool first = true;
		while (true) {
			resolve_result c = first ? r : resolve(cur);
			first = false;
			if (!c)
				return status::fail("cannot resolve " + cur + ": " + c.failure().error);
			if (!chain.empty() && prev_dev && c->dev != prev_dev)
				chain.push_back({cur, 0, 0, true});
			chain.push_back({cur, c->dev, c->ino, false});
			prev_dev = c->dev;
			if (cur == "/")
				break;
			std::size_t s = cur.find_last_of('/');
			cur = s == 0 ? "/" : cur.substr(0, s);
		}
		return {};
	}

	const ltrack_inode_rule *inode(uint32_t hook, uint64_t dev, uint64_t ino) const
	{
		for (const auto &[k, v] : p_.inode_rules)
			if (k.profile == prof_.id && k.hook == hook && k.dev == dev && k.ino == ino)
				return &v;
		return nullptr;
	}

	walk_result walk(uint32_t hook)
	{
		walk_result w;
		// As the kernel counts: directory levels above the file; a mount
		// crossing is no level (lsm/walk.bpf.h walk_inode_rules).
		std::size_t levels = 0;
		for (std::size_t i = 0; i < chain.size(); i++) {
			const chain_entry &e = chain[i];
			if (i > 0 && !e.extra && ++levels > LTRACK_MAX_WALK) {
				w.limit = true;
				return w;
			}
			if (e.extra)
				continue;
			const ltrack_inode_rule *r = inode(hook, e.dev, e.ino);
			if (r && i == 0 && r->self_action) {
				w.rule = {r->self_rule, r->self_action, {}};
				w.found = true;
				ex_.steps.push_back(e.path + " itself: " + describe(p_, r->self_rule));
				return w;
			}
			if (r && r->subtree_action) {
				w.rule = {r->subtree_rule, r->subtree_action, {}};
				w.found = true;
				ex_.steps.push_back((i == 0 ? e.path + " itself" : "enclosing directory " + e.path) +
						    ": " + describe(p_, r->subtree_rule));
				return w;
			}
		}
		return w;
	}

	// Exact name first, else the longest suffix starting at a dot (not the
	// name's first byte), as match_name_rule() does.
	std::optional<ltrack_rule> name_rule(uint32_t hook) const
	{
		const std::string &n = final_name;
		if (n.empty() || n.size() > LTRACK_NAME_MAX)
			return std::nullopt;
		auto find = [&](uint32_t kind, uint64_t h) -> const ltrack_rule * {
			for (const auto &[k, v] : p_.name_rules)
				if (k.profile == prof_.id && k.hook == hook && k.kind == kind && k.hash == h)
					return &v;
			return nullptr;
		};
		if (const ltrack_rule *r = find(LTRACK_NAME_EXACT, name_hash(n)))
			return *r;
		for (std::size_t pos = 1; pos < n.size(); pos++)
			if (n[pos] == '.')
				if (const ltrack_rule *r =
					    find(LTRACK_NAME_SUFFIX, name_hash(std::string_view(n).substr(pos))))
					return *r;
		return std::nullopt;
	}

	// The model layer: the facts found here as lsm/file.bpf.c decide_model
	// finds them in the kernel (extension, then the nearest model or
	// exclude directory), decided by the one shared function
	// (lsm/model_decision.h). access: an open for reading, or a link,
	// rename or unlink (no open).
	bool decide_model(uint32_t verdict, uint32_t mode, uint8_t access)
	{
		const ltrack_profile &v = prof_.value;
		if (!ltrack_model_layer_on(&v))
			return false;
		ltrack_model_facts f{};
		f.verdict = verdict;
		f.mode = mode;
		f.access = access;
		if (v.flags & LTRACK_PF_MODEL_NAMES) {
			if (auto nr = name_rule(LTRACK_HOOK_MODEL)) {
				f.by_name = 1;
				f.name_rule = nr->rule_id;
				ex_.steps.push_back("a model file by its name: " + describe(p_, nr->rule_id));
			}
		}
		if (ltrack_model_walk_needed(&v, f.by_name)) {
			walk_result w = walk(LTRACK_HOOK_MODEL);
			if (w.found) {
				f.dir = w.rule.action == LTRACK_ACT_ALLOW ? LTRACK_MD_DIR_EXCLUDE : LTRACK_MD_DIR_MODEL;
				f.dir_rule = w.rule.rule_id;
			}
		}
		ltrack_model_decision md = ltrack_model_decide(&v, &f);
		switch (md.why) {
		case LTRACK_MD_WHY_DIR:
			if (!f.by_name)
				ex_.steps.push_back("a model file: it is under a model directory");
			break;
		case LTRACK_MD_WHY_EXCLUDED:
			ex_.steps.push_back(
				"not a model file by name or directory: it is under a model exclude directory");
			break;
		case LTRACK_MD_WHY_VERDICT:
			// Excluded by a directory but dangerous: both are said.
			if (f.dir == LTRACK_MD_DIR_EXCLUDE)
				ex_.steps.push_back(
					"not a model file by name or directory: it is under a model exclude "
					"directory");
			ex_.steps.push_back("scanned " + verdict_name(verdict) + ": a model file under any name");
			break;
		default: break;
		}
		if (md.outcome == LTRACK_MD_NOT_MODEL) {
			ex_.steps.push_back("not a model file of this profile");
			return false;
		}
		ex_.verdict = verdict;
		if (md.outcome == LTRACK_MD_ACCEPTABLE) {
			ex_.steps.push_back("model verdict " + verdict_name(verdict) +
					    (v.model_policy != LTRACK_MODEL_ANY
						     ? " is acceptable (" + model_policy_name(v.model_policy) + ")"
						     : std::string()) +
					    "; the file rules decide the rest");
			return false;
		}
		ex_.hook = LTRACK_HOOK_MODEL;
		ex_.rule_id = md.rule_id;
		ex_.action = md.action;
		ex_.steps.push_back("model verdict " + verdict_name(verdict) +
				    (md.outcome == LTRACK_MD_RECORD ? " is let through but recorded" : " is refused") +
				    ": " + describe(p_, ex_.rule_id));
		if (md.may_wait)
			ex_.steps.push_back(
				"scan_at_open: if ltrackd's scan waiter watches the file's directory, the first "
				"open waits for the scan instead, and the scan's verdict decides");
		return true;
	}

	// The inode walk's answer for hook: the rule found on the object or a
	// parent, or deny (fail closed) past the walk bound. False when no rule
	// on the way decides.
	bool decide_by_walk(uint32_t hook)
	{
		walk_result w = walk(hook);
		if (w.limit) {
			ex_.walk_limit = true;
			ex_.action = LTRACK_ACT_DENY;
			ex_.is_default = false;
			ex_.steps.push_back("deeper than " + std::to_string(LTRACK_MAX_WALK) +
					    " levels: denied (fail closed)");
			return true;
		}
		if (w.found) {
			ex_.action = w.rule.action;
			ex_.rule_id = w.rule.rule_id;
			ex_.is_default = false;
			return true;
		}
		return false;
	}

	void decide_file()
	{
		const ltrack_profile &v = prof_.value;
		ex_.hook = LTRACK_HOOK_FILE;
		if (v.flags & LTRACK_PF_INODE_RULES) {
			if (decide_by_walk(LTRACK_HOOK_FILE))
				return;
			ex_.steps.push_back("no file or directory rule on the file or any parent");
		}
		if (v.flags & LTRACK_PF_NAME_RULES) {
			if (auto r = name_rule(LTRACK_HOOK_FILE)) {
				ex_.action = r->action;
				ex_.rule_id = r->rule_id;
				ex_.steps.push_back("name \"" + final_name + "\": " + describe(p_, r->rule_id));
				return;
			}
			ex_.steps.push_back("no name rule matches \"" + final_name + "\"");
		}
		ex_.action = v.file_default;
		ex_.rule_id = v.file_default_rule;
		ex_.is_default = true;
		ex_.steps.push_back("file default " + action_name(v.file_default) + ": " +
				    describe(p_, v.file_default_rule));
	}

	void decide_exec()
	{
		const ltrack_profile &v = prof_.value;
		ex_.hook = LTRACK_HOOK_EXEC;
		ex_.action = v.exec_default;
		ex_.rule_id = v.exec_default_rule;
		ex_.is_default = true;
		if ((v.flags & LTRACK_PF_EXEC_RULES) && decide_by_walk(LTRACK_HOOK_EXEC))
			return;
		ex_.steps.push_back("no exec rule on the program or any parent; exec default " +
				    action_name(v.exec_default) + ": " + describe(p_, v.exec_default_rule));
	}

	void decide_connect(const endpoint &dst)
	{
		const ltrack_profile &v = prof_.value;
		ex_.hook = LTRACK_HOOK_NET;
		if (dst.is_unix) {
			decide_unix(dst.text.substr(5));
			return;
		}
		ex_.action = v.net_default;
		ex_.rule_id = v.net_default_rule;
		ex_.is_default = true;
		if (v.flags & LTRACK_PF_NET_RULES) {
			// The trie's longest prefix of this profile that holds the address.
			const net_entry *best = nullptr;
			for (const auto &e : p_.net_rules) {
				if ((e.key.scope & 0xffff) != prof_.id)
					continue;
				std::array<uint8_t, 16> a;
				std::memcpy(a.data(), e.key.addr, 16);
				int len = int(e.key.prefixlen) - 32;
				if (same_prefix(a, dst.addr, len) && (!best || e.key.prefixlen > best->key.prefixlen))
					best = &e;
			}
			if (best) {
				std::array<uint8_t, 16> a;
				std::memcpy(a.data(), best->key.addr, 16);
				ex_.steps.push_back("longest matching prefix " +
						    format_cidr(a, int(best->key.prefixlen) - 32) + " holds " +
						    std::to_string(best->count) + " rule entries");
				const ltrack_net_val val = p_.net_value(*best); // what the kernel reads
				for (uint32_t i = 0; i < val.count && i < LTRACK_NET_RULES_PER_PREFIX; i++) {
					const ltrack_net_rule &r = val.rules[i];
					if (dst.port < r.port_lo || dst.port > r.port_hi)
						continue;
					if (r.proto && r.proto != dst.proto)
						continue;
					ex_.action = r.action;
					ex_.rule_id = r.rule_id;
					ex_.is_default = false;
					ex_.steps.push_back("first entry matching port " + std::to_string(dst.port) +
							    ": " + describe(p_, r.rule_id));
					return;
				}
				ex_.steps.push_back("no entry matches port " + std::to_string(dst.port) + "/" +
						    (dst.proto == 17 ? "udp" : "tcp"));
			} else {
				ex_.steps.push_back("no network rule covers the address");
			}
		}
		ex_.steps.push_back("network default " + action_name(v.net_default) + ": " +
				    describe(p_, v.net_default_rule));
	}

	// A Unix socket by its inode, else by the name it is bound with (taken
	// to be the path given, or its resolved form; "@name" abstract), else
	// the unix verdict, else the network default (decide_unix_peer).
	void decide_unix(const std::string &path)
	{
		const ltrack_profile &v = prof_.value;
		if (v.flags & LTRACK_PF_UNIX_RULES) {
			std::vector<std::string> names{path};
			if (path[0] == '/') {
				if (auto id = resolve_on_host(path)) {
					if (const ltrack_inode_rule *r = inode(LTRACK_HOOK_NET, id->dev, id->ino);
					    r && r->self_action) {
						ex_.action = r->self_action;
						ex_.rule_id = r->self_rule;
						ex_.steps.push_back("the socket file " + id->real_path + " (inode " +
								    std::to_string(id->ino) +
								    "): " + describe(p_, r->self_rule));
						return;
					}
					names.push_back(id->real_path);
				}
			}
			for (const auto &n : names)
				for (const auto &[k, r] : p_.name_rules)
					if (k.profile == prof_.id && k.hook == LTRACK_HOOK_NET &&
					    k.hash == name_hash(n)) {
						ex_.action = r.action;
						ex_.rule_id = r.rule_id;
						ex_.steps.push_back("a socket bound as " + n + ": " +
								    describe(p_, r.rule_id));
						return;
					}
			ex_.steps.push_back("no Unix socket rule names " + path);
		}
		ex_.action = v.unix_action ? v.unix_action : v.net_default;
		ex_.rule_id = v.unix_action ? v.unix_rule : v.net_default_rule;
		ex_.is_default = !v.unix_action;
		ex_.steps.push_back(std::string("a Unix socket: ") +
				    (v.unix_action ? "unix " : "no unix rule; network default ") +
				    action_name(ex_.action) + ": " + describe(p_, ex_.rule_id));
	}

	// socket_kind_allowed(): which entry of the `sockets` list a socket of
	// this family, type and protocol needs.
	void decide_socket(uint32_t family, uint32_t type, uint32_t protocol)
	{
		const ltrack_profile &v = prof_.value;
		ex_.hook = LTRACK_HOOK_SOCKET;
		std::string need;
		bool ok;
		if (family == 2 || family == 10) {
			uint32_t kind = LTRACK_SOCK_IP_OTHER;
			need = "ip-other";
			if (type == 3) {
				kind = LTRACK_SOCK_RAW;
				need = "raw";
			} else if ((type == 1 && (protocol == 0 || protocol == 6)) ||
				   (type == 2 && (protocol == 0 || protocol == 17))) {
				kind = family == 2 ? LTRACK_SOCK_INET : LTRACK_SOCK_INET6;
				need = family == 2 ? "inet" : "inet6";
			} else if (type == 2 && protocol == (family == 2 ? 1u : 58u)) {
				kind = LTRACK_SOCK_ICMP;
				need = "icmp";
			}
			ok = v.sock_inet & kind;
		} else if (family == 16) {
			const char *n = socket_name_of(netlink_protocols, protocol);
			need = n ? std::string("netlink-") + n : "netlink";
			ok = protocol < 32 && (v.netlink_protocols & (1u << protocol));
		} else {
			need = socket_family_name(family);
			ok = family < 64 && (v.sock_families & (1ull << family));
		}
		ex_.action = ok ? LTRACK_ACT_ALLOW : LTRACK_ACT_DENY;
		ex_.socket_kind = need;
		ex_.rule_id = v.sockets_rule;
		ex_.is_default = !v.sockets_rule;
		std::string list = v.sockets_rule ? describe(p_, v.sockets_rule)
						  : "the default list (unix, inet, inet6, netlink-route)";
		ex_.steps.push_back("a socket of kind " + need + (ok ? " is in " : " is not in ") + list);
	}

	// The effective mode: the profile's, else the policy's.
	uint32_t mode() const { return prof_.value.mode != LTRACK_MODE_INHERIT ? prof_.value.mode : p_.mode; }

	// settle(): the action and the mode give the outcome.
	void settle()
	{
		ex_.mode = mode();
		if (ex_.action == LTRACK_ACT_NONE || ex_.action == LTRACK_ACT_ALLOW)
			ex_.outcome = LTRACK_OUT_ALLOWED;
		else if (ex_.action == LTRACK_ACT_AUDIT)
			ex_.outcome = LTRACK_OUT_AUDITED;
		else if (ex_.mode == LTRACK_MODE_AUDIT)
			ex_.outcome = LTRACK_OUT_WOULD_DENY;
		else
			ex_.outcome = ex_.action == LTRACK_ACT_KILL ? LTRACK_OUT_KILLED : LTRACK_OUT_DENIED;
	}

private:
	const compiled_policy &p_;
	const compiled_profile &prof_;
	explanation &ex_;
};

const compiled_profile *start(const compiled_policy &p, const std::string &profile, explain_result &res)
{
	const compiled_profile *prof = p.find_profile(profile);
	if (!prof) {
		std::string names;
		for (const auto &q : p.profiles)
			names += (names.empty() ? "" : ", ") + q.name;
		res.error = "no profile \"" + profile + "\" in " + p.file +
			    (names.empty() ? "" : " (profiles: " + names + ")");
		return nullptr;
	}
	res.ex.emplace();
	res.ex->profile = prof->name;
	res.ex->profile_id = prof->id;
	return prof;
}

} // namespace

std::string verdict_name(uint32_t v)
{
	const char *n = abi::name_of<ltrack_verdict>(v);
	return n ? n : "?";
}

std::optional<uint32_t> parse_verdict(const std::string &name)
{
	if (auto v = abi::value_of<ltrack_verdict>(name))
		return static_cast<uint32_t>(*v);
	return std::nullopt;
}

namespace {

explain_result explain_open(const compiled_policy &p, const std::string &profile, const std::string &path,
			    uint32_t verdict, const path_resolver &resolve, uint8_t access)
{
	explain_result res;
	const compiled_profile *prof = start(p, profile, res);
	if (!prof)
		return res;
	evaluator e(p, *prof, *res.ex);
	if (status s = e.build_chain(path, resolve); !s.ok()) {
		res.error = s.error;
		res.ex.reset();
		return res;
	}
	if (!e.decide_model(verdict, e.mode(), access))
		e.decide_file();
	e.settle();
	return res;
}

} // namespace

explain_result explain_file(const compiled_policy &p, const std::string &profile, const std::string &path,
			    uint32_t verdict, const path_resolver &resolve)
{
	return explain_open(p, profile, path, verdict, resolve, LTRACK_MD_READ);
}

explain_result explain_link(const compiled_policy &p, const std::string &profile, const std::string &path,
			    uint32_t verdict, const path_resolver &resolve)
{
	explain_result res = explain_open(p, profile, path, verdict, resolve, LTRACK_MD_NAME);
	if (!res.ex)
		return res;
	explanation &ex = *res.ex;
	bool by_model = ex.hook == LTRACK_HOOK_MODEL;
	ex.hook = LTRACK_HOOK_LINK;
	ex.steps.insert(ex.steps.begin(), "a link, rename, unlink or rmdir (and the target a rename replaces or "
					  "exchanges) is decided as opening the object for reading; only a refusal "
					  "stops it (lsm/file.bpf.c, guard_by_open_decision)");
	// A directory or symlink on the way to an inode-bound rule's target
	// (abi.h "inode_rules", hook ANCESTOR): not moved, replaced or removed.
	const ltrack_inode_rule *anc = nullptr;
	if (ex.action != LTRACK_ACT_DENY && ex.action != LTRACK_ACT_KILL)
		if (resolve_result id = resolve(path))
			for (const auto &[k, v] : p.inode_rules)
				if (k.profile == ex.profile_id && k.hook == LTRACK_HOOK_ANCESTOR && k.dev == id->dev &&
				    k.ino == id->ino)
					anc = &v;
	if (anc) {
		ex.steps.push_back("the open would not be refused, but the object is on the way to the target of " +
				   describe(p, anc->self_rule) +
				   ": a rename (either side of an exchange), rename over, "
				   "unlink or rmdir of it is refused (a link is not)");
		ex.action = LTRACK_ACT_DENY;
		ex.rule_id = anc->self_rule;
		ex.is_default = false;
	} else if (ex.action != LTRACK_ACT_DENY && ex.action != LTRACK_ACT_KILL) {
		ex.steps.push_back(
			"the open would not be refused: the object may get or lose a name (nothing recorded)");
		ex.action = LTRACK_ACT_ALLOW;
	} else {
		ex.steps.push_back(std::string("the open would be refused") + (by_model ? " by the model layer" : "") +
				   ": so is the link, rename, unlink or rmdir");
	}
	// The link decision's outcome, as settle() makes it for any decision.
	evaluator e(p, *p.find_profile(profile), ex);
	e.settle();
	return res;
}

explain_result explain_mount(const compiled_policy &p, const std::string &profile)
{
	explain_result res;
	const compiled_profile *prof = start(p, profile, res);
	if (!prof)
		return res;
	explanation &ex = *res.ex;
	ex.hook = LTRACK_HOOK_MOUNT;
	ex.action = prof->value.mount_action;
	ex.rule_id = prof->value.mount_rule;
	ex.is_default = true;
	ex.steps.push_back(
		ex.rule_id
			? "[profile." + profile +
				  ".mount] default decides every mount change "
				  "(mount, bind, move, remount, propagation, umount, pivot_root, fsconfig create)"
			: "no [profile." + profile +
				  ".mount] section: the built-in rule refuses every mount "
				  "change (mount, bind, move, remount, propagation, umount, pivot_root, fsconfig create)");
	ex.steps.push_back("whatever it says, nothing is mounted on, moved from or unmounted off a bpffs (built-in)");
	if (!ex.rule_id)
		ex.steps.push_back("the record names the built-in rule: builtin mount_default");
	evaluator e(p, *prof, ex);
	e.settle();
	return res;
}

explain_result explain_exec(const compiled_policy &p, const std::string &profile, const std::string &path,
			    const path_resolver &resolve)
{
	explain_result res;
	const compiled_profile *prof = start(p, profile, res);
	if (!prof)
		return res;
	evaluator e(p, *prof, *res.ex);
	if (status s = e.build_chain(path, resolve); !s.ok()) {
		res.error = s.error;
		res.ex.reset();
		return res;
	}
	e.decide_exec();
	e.settle();
	return res;
}

explain_result explain_connect(const compiled_policy &p, const std::string &profile, const std::string &dest)
{
	explain_result res;
	auto dst = parse_endpoint(dest);
	if (!dst) {
		res.error = "--connect " + dest + ": " + dst.failure().error;
		return res;
	}
	const compiled_profile *prof = start(p, profile, res);
	if (!prof)
		return res;
	evaluator e(p, *prof, *res.ex);
	e.decide_connect(*dst);
	e.settle();
	return res;
}

explain_result explain_socket(const compiled_policy &p, const std::string &profile, const std::string &spec)
{
	explain_result res;
	// FAMILY[/TYPE[/PROTOCOL]]: names as the decision log prints them, or numbers.
	std::vector<std::string> part;
	for (std::size_t at = 0;;) {
		std::size_t slash = spec.find('/', at);
		part.push_back(spec.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
		if (slash == std::string::npos)
			break;
		at = slash + 1;
	}
	auto number = [](const std::string &s, uint32_t &out) {
		if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
			return false;
		out = uint32_t(std::stoul(s));
		return true;
	};
	uint32_t family = 0, type = 1, protocol = 0;
	const socket_name *f = socket_value_of(socket_families, part[0]);
	if (part.size() > 3 || (!f && !number(part[0], family))) {
		res.error = "--socket " + spec +
			    ": write FAMILY[/TYPE[/PROTOCOL]], e.g. packet, inet/raw/icmp, "
			    "netlink/raw/audit (names as in the decision log, or numbers)";
		return res;
	}
	if (f)
		family = f->value;
	if (part.size() > 1) {
		const socket_name *t = socket_value_of(socket_types, part[1]);
		if (t)
			type = t->value;
		else if (!number(part[1], type)) {
			res.error = "--socket " + spec + ": \"" + part[1] +
				    "\" is not a socket type (stream, dgram, raw, "
				    "seqpacket, ...)";
			return res;
		}
	} else if (family == 16) {
		type = 3; // SOCK_RAW, as netlink sockets are made
	}
	if (part.size() > 2) {
		static const socket_name ip[] = {{"tcp", 6},    {"udp", 17},      {"icmp", 1},   {"icmpv6", 58},
						 {"sctp", 132}, {"udplite", 136}, {"mptcp", 262}};
		const socket_name *pr =
			family == 16 ? socket_value_of(netlink_protocols, part[2]) : socket_value_of(ip, part[2]);
		if (pr)
			protocol = pr->value;
		else if (!number(part[2], protocol)) {
			res.error = "--socket " + spec + ": \"" + part[2] +
				    "\" is not a protocol name here; give its number";
			return res;
		}
	}
	const compiled_profile *prof = start(p, profile, res);
	if (!prof)
		return res;
	evaluator e(p, *prof, *res.ex);
	e.decide_socket(family, type, protocol);
	e.settle();
	return res;
}

} // namespace ltrack::policy
