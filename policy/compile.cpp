// The compiler proper: assigns profile and rule ids, resolves paths, and
// turns the model into the exact entries of every BPF map.
#include "policy.h"

#include "abi_names.h"
#include "name_hash.h"
#include "net_address.h"
#include "parse_policy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>

namespace ltrack::policy {

std::string action_name(uint8_t a)
{
	const char *n = abi::name_of<ltrack_action>(a);
	return n ? n : abi::name_of(LTRACK_ACT_NONE);
}

std::string mode_name(uint32_t m)
{
	const char *n = abi::name_of<ltrack_mode>(m);
	return n ? n : abi::name_of(LTRACK_MODE_INHERIT);
}

std::string model_policy_name(uint8_t p)
{
	const char *n = abi::name_of<ltrack_model_policy>(p);
	return n ? n : abi::name_of(LTRACK_MODEL_OFF);
}

std::string format_all(const std::vector<diagnostic> &ds)
{
	std::string out;
	for (const auto &d : ds)
		out += format(d) + "\n";
	return out;
}

const rule_symbol *compiled_policy::symbol(uint32_t id) const
{
	return id >= 1 && id <= symbols.size() ? &symbols[id - 1] : nullptr;
}

const compiled_profile *compiled_policy::find_profile(std::string_view name) const
{
	for (const auto &p : profiles)
		if (p.name == name)
			return &p;
	return nullptr;
}

const compiled_profile *compiled_policy::find_profile(uint32_t id) const
{
	for (const auto &p : profiles)
		if (p.id == id)
			return &p;
	return nullptr;
}

std::map<std::string, uint32_t> compiled_policy::profile_ids() const
{
	std::map<std::string, uint32_t> m;
	for (const auto &p : profiles)
		m[p.name] = p.id;
	return m;
}

ltrack_net_val compiled_policy::net_value(const net_entry &e) const
{
	ltrack_net_val v{};
	v.count = e.count;
	for (uint32_t i = 0; i < e.count && i < LTRACK_NET_RULES_PER_PREFIX; i++)
		v.rules[i] = net_entry_rules[e.first + i];
	return v;
}

std::span<const ltrack_net_rule> compiled_policy::net_rules_of(const net_entry &e) const
{
	return std::span<const ltrack_net_rule>(net_entry_rules).subspan(e.first, e.count);
}

std::size_t compiled_policy::entry_count() const
{
	return profiles.size() + inode_rules.size() + name_rules.size() + net_rules.size() + exe_profiles.size() +
	       cgroup_profiles.size();
}

namespace {

template <class K>
bool key_less(const K &a, const K &b)
{
	return std::memcmp(&a, &b, sizeof(K)) < 0;
}

// By key, moving each entry once: a net entry is 272 bytes, and sorting the
// entries themselves moved them about 17 times each at 100,000 rules.
template <class K, class V>
void sort_entries(std::vector<std::pair<K, V>> &v)
{
	std::vector<uint32_t> order(v.size());
	for (uint32_t i = 0; i < order.size(); i++)
		order[i] = i;
	std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key_less(v[a].first, v[b].first); });
	std::vector<std::pair<K, V>> sorted;
	sorted.reserve(v.size());
	for (uint32_t i : order)
		sorted.push_back(std::move(v[i]));
	v = std::move(sorted);
}

std::string ports_text(const std::vector<port_range> &ports)
{
	std::string out;
	for (const auto &p : ports) {
		if (!out.empty())
			out += ",";
		out += p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi);
	}
	return out;
}

std::string net_rule_text(const net_rule &r)
{
	std::string to;
	for (const auto &c : r.cidrs) {
		if (!to.empty() && c.text == "loopback" && to.find("loopback") != std::string::npos)
			continue;
		to += (to.empty() ? "" : ",") + c.text;
	}
	std::string out = action_name(r.action) + " connect " + to;
	if (!(r.ports.size() == 1 && r.ports[0].lo == 0 && r.ports[0].hi == 65535))
		out += " port " + ports_text(r.ports);
	if (r.proto)
		out += r.proto == 6 ? " tcp" : " udp";
	return out;
}

const char *kind_word(target_kind k)
{
	switch (k) {
	case target_kind::file: return "file";
	case target_kind::dir: return "dir";
	case target_kind::name: return "name";
	case target_kind::unix_socket: return "unix";
	}
	return "?";
}

std::string joined(const std::vector<std::string> &v)
{
	std::string out;
	for (const auto &s : v)
		out += (out.empty() ? "" : ", ") + s;
	return out;
}

// Everything the compiler needs while it runs.
class compiler {
public:
	compiler(parse_context &ctx, const compile_options &opts) : ctx_(ctx), opts_(opts)
	{
		if (opts.resolver)
			resolve_ = opts.resolver;
		else if (opts.resolve_paths)
			resolve_ = caching_resolver_on_host();
		else
			resolve_ = resolve_synthetic;
	}

	compiled_policy run(policy_def &pol);

private:
	void assign_profile_ids(policy_def &pol);
	void assign_rule_ids(policy_def &pol);
	std::optional<path_identity> resolve(const std::string &path, bool missing_warn, source_pos pos,
					     const std::string &what);
	void add_inode(uint32_t profile, uint32_t hook, const path_identity &id, bool subtree, uint8_t action,
		       uint32_t rule, const std::string &written, source_pos pos);
	void add_name(uint32_t profile, uint32_t hook, const std::string &pattern, uint8_t action, uint32_t rule,
		      source_pos pos);
	void check_duplicates(const std::vector<path_rule> &rules, const std::string &section);
	void add_ancestors();
	std::optional<std::pair<uint64_t, uint64_t>> name_identity(const std::string &path, bool symlink_only = false);
	void compile_profile(profile_def &p, compiled_profile &out);
	void compile_net(profile_def &p, uint32_t profile);

	parse_context &ctx_;
	const compile_options &opts_;
	path_resolver resolve_;
	compiled_policy out_;
	std::vector<uint32_t> ids_; // profile ids, parallel to pol.profiles

	struct inode_src {
		const std::string *written = nullptr; // the policy model's, which outlives the compiler
		source_pos pos;
	};
	struct inode_merge {
		ltrack_inode_rule rule{};
		inode_src self, subtree;
	};
	std::map<std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>, inode_merge> inodes_;
	struct name_merge {
		ltrack_rule rule{};
		std::string pattern;
		source_pos pos;
	};
	std::map<std::tuple<uint32_t, uint32_t, uint32_t, uint64_t>, name_merge> names_;
	std::map<std::pair<uint64_t, uint64_t>, std::pair<std::string, source_pos>> exes_, cgroups_;
};

void compiler::assign_profile_ids(policy_def &pol)
{
	uint32_t next = 1;
	for (const auto &[name, id] : opts_.previous_ids)
		next = std::max(next, id + 1);
	for (const auto &p : pol.profiles) {
		auto it = opts_.previous_ids.find(p.name);
		uint32_t id = it != opts_.previous_ids.end() ? it->second : next++;
		if (id == 0 || id > LTRACK_MAX_PROFILES)
			ctx_.error(p.pos, "profile \"" + p.name + "\" would get id " + std::to_string(id) +
						  ", above the " + std::to_string(LTRACK_MAX_PROFILES) +
						  " profiles the kernel side holds; "
						  "remove profiles or restart ltrackd to renumber");
		ids_.push_back(id);
	}
}

// Rule ids follow the policy text: 1 is the first rule written.
void compiler::assign_rule_ids(policy_def &pol)
{
	// One compact item per rule; the texts are appended to one arena that the
	// symbols view once it is complete.
	struct item {
		source_pos pos;
		uint32_t *id;
		uint32_t profile_at, profile_len;
		const char *kind;
		uint8_t action;
		uint32_t text_at, text_len;
	};
	auto arena = std::make_shared<std::string>(ctx_.file); // the file's name first
	std::string &text_of = *arena;
	std::vector<item> items;
	uint32_t profile_at = 0, profile_len = 0;
	auto add = [&](source_pos pos, uint32_t *id, const std::string &, const char *kind, uint8_t action,
		       const std::string &text) {
		uint32_t at = uint32_t(text_of.size());
		text_of += text;
		items.push_back({pos, id, profile_at, profile_len, kind, action, at, uint32_t(text.size())});
	};
	for (auto &p : pol.profiles) {
		const std::string &n = p.name;
		profile_at = uint32_t(text_of.size());
		profile_len = uint32_t(n.size());
		text_of += n;
		if (p.file_default.action)
			add(p.file_default.pos, &p.file_default.id, n, "file-default", p.file_default.action,
			    "file default " + action_name(p.file_default.action));
		if (p.exec_default.action)
			add(p.exec_default.pos, &p.exec_default.id, n, "exec-default", p.exec_default.action,
			    "exec default " + action_name(p.exec_default.action));
		if (p.net_default.action)
			add(p.net_default.pos, &p.net_default.id, n, "net-default", p.net_default.action,
			    "network default " + action_name(p.net_default.action));
		if (p.unix_rule.action)
			add(p.unix_rule.pos, &p.unix_rule.id, n, "unix", p.unix_rule.action,
			    action_name(p.unix_rule.action) + " connect unix");
		if (p.priv_default.action)
			add(p.priv_default.pos, &p.priv_default.id, n, "priv-default", p.priv_default.action,
			    "privilege escalation " + action_name(p.priv_default.action));
		if (p.mount_default.action)
			add(p.mount_default.pos, &p.mount_default.id, n, "mount-default", p.mount_default.action,
			    "mount " + action_name(p.mount_default.action));
		for (auto &r : p.file_rules)
			add(r.pos, &r.id, n, "file", r.action,
			    action_name(r.action) + " " + kind_word(r.kind) + " " + r.target +
				    (r.set.empty() ? "" : " (set " + r.set + ")"));
		for (auto &r : p.exec_rules)
			add(r.pos, &r.id, n, "exec", r.action,
			    action_name(r.action) + " exec " + kind_word(r.kind) + " " + r.target);
		for (auto &r : p.net_rules)
			add(r.pos, &r.id, n, "net", r.action, net_rule_text(r));
		for (auto &r : p.unix_rules)
			add(r.pos, &r.id, n, "unix-socket", r.action,
			    action_name(r.action) + " connect unix " + r.target +
				    (r.set.empty() ? "" : " (set " + r.set + ")"));
		if (p.sockets.written && p.sockets.pos.line) // ltrack-compat's "any" is not written
			add(p.sockets.pos, &p.sockets.id, n, "sockets",
			    p.sockets.families == ~0ull && p.sockets.inet == ~0u && p.sockets.netlink == ~0u
				    ? LTRACK_ACT_ALLOW
				    : LTRACK_ACT_DENY,
			    "sockets " + (p.sockets.names.empty() ? std::string("none") : joined(p.sockets.names)));
		if (p.model.present) {
			model_section &m = p.model;
			std::string text = "model allow " + model_policy_name(m.policy) + ", " + action_name(m.action) +
					   " the rest" + (m.deny_suspicious ? "" : ", suspicious allowed");
			add(m.pos, &m.id, n, "model", m.action, text);
			for (auto &d : m.dirs)
				add(d.pos, &d.id, n, "model-dir", m.action, "model dir " + d.path);
			for (auto &e : m.extensions)
				add(e.pos, &e.id, n, "model-ext", m.action, "model extension " + e.suffix);
			for (auto &d : m.excludes)
				add(d.pos, &d.id, n, "model-exclude", LTRACK_ACT_ALLOW, "model exclude dir " + d.path);
		}
	}
	// Sort an order, not the items: each item carries a symbol's strings.
	std::vector<uint32_t> order(items.size());
	for (uint32_t i = 0; i < order.size(); i++)
		order[i] = i;
	std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
		return std::tie(items[a].pos.line, items[a].pos.column) <
		       std::tie(items[b].pos.line, items[b].pos.column);
	});
	text_of.shrink_to_fit();
	const std::string_view all(text_of), file = all.substr(0, ctx_.file.size());
	out_.symbols.reserve(items.size());
	for (std::size_t i = 0; i < order.size(); i++) {
		const item &it = items[order[i]];
		*it.id = uint32_t(i + 1);
		out_.symbols.push_back({uint32_t(i + 1), all.substr(it.profile_at, it.profile_len), it.kind, it.action,
					all.substr(it.text_at, it.text_len), file, it.pos.line, it.pos.column});
	}
	out_.symbol_text = std::move(arena);
}

std::optional<path_identity> compiler::resolve(const std::string &path, bool missing_warn, source_pos pos,
					       const std::string &what)
{
	resolve_result r = resolve_(path);
	if (r)
		return *r;
	if (missing_warn)
		ctx_.warn(pos, what + " " + path + " cannot be resolved (" + r.failure().error +
				       "); this entry is not enforced "
				       "until it exists and the policy is reloaded");
	else
		ctx_.error(pos, what + " " + path + " cannot be resolved (" + r.failure().error +
					"); fix the path, create it, "
					"or add missing = \"warn\"");
	return std::nullopt;
}

void compiler::add_inode(uint32_t profile, uint32_t hook, const path_identity &id, bool subtree, uint8_t action,
			 uint32_t rule, const std::string &written, source_pos pos)
{
	inode_merge &m = inodes_[{profile, hook, id.dev, id.ino}];
	uint8_t &slot_action = subtree ? m.rule.subtree_action : m.rule.self_action;
	uint32_t &slot_rule = subtree ? m.rule.subtree_rule : m.rule.self_rule;
	inode_src &src = subtree ? m.subtree : m.self;
	if (slot_action) {
		// Two paths, one inode (a symlink, a hard link, a bind mount): the
		// kernel can hold one verdict, so deny wins the tie.
		if (slot_action != action && *src.written != written)
			ctx_.warn(pos, written + " is the same " + (subtree ? "directory" : "file") + " as " +
					       *src.written + " (line " + std::to_string(src.pos.line) +
					       "), which is " + action_name(slot_action) + "; the stricter rule (" +
					       action_name(std::max(slot_action, action)) + ") applies to both");
		if (action <= slot_action)
			return;
	}
	slot_action = action;
	slot_rule = rule;
	src = {&written, pos};
}

void compiler::add_name(uint32_t profile, uint32_t hook, const std::string &pattern, uint8_t action, uint32_t rule,
			source_pos pos)
{
	bool suffix = pattern.rfind("*.", 0) == 0 || (hook == LTRACK_HOOK_MODEL && pattern[0] == '.');
	std::string text = pattern.rfind("*.", 0) == 0 ? pattern.substr(1) : pattern;
	uint32_t kind = suffix ? LTRACK_NAME_SUFFIX : LTRACK_NAME_EXACT;
	name_merge &m = names_[{profile, hook, kind, name_hash(text)}];
	if (m.rule.action) {
		if (m.pattern != pattern)
			ctx_.warn(pos, "name pattern \"" + pattern + "\" hashes like \"" + m.pattern + "\" (line " +
					       std::to_string(m.pos.line) +
					       "); the stricter of the two applies to both");
		if (action <= m.rule.action)
			return;
	}
	m.rule.action = action;
	m.rule.rule_id = rule;
	m.pattern = pattern;
	m.pos = pos;
}

// The same target written twice in one section: a contradiction is an
// error (which one was meant?), a repeat a warning.
void compiler::check_duplicates(const std::vector<path_rule> &rules, const std::string &section)
{
	std::map<std::pair<target_kind, std::string>, const path_rule *> seen;
	for (const auto &r : rules) {
		if (!r.set.empty())
			continue; // a set entry the policy also names: the stricter applies, as for one inode
		auto [it, fresh] = seen.insert({{r.kind, r.target}, &r});
		if (fresh)
			continue;
		const path_rule &first = *it->second;
		std::string what = std::string(kind_word(r.kind)) + " " + r.target;
		if (first.action != r.action)
			ctx_.error(r.pos, "conflicting rules in " + section + ": " + what + " is " +
						  action_name(r.action) + " here and " + action_name(first.action) +
						  " at line " + std::to_string(first.pos.line) + "; keep one");
		else
			ctx_.warn(r.pos, "duplicate rule in " + section + ": " + what + " is already " +
						 action_name(r.action) + " at line " + std::to_string(first.pos.line));
	}
}

void compiler::compile_net(profile_def &p, uint32_t profile)
{
	// One record per (rule, CIDR, port range), flat: grouped by prefix with a
	// stable sort (rule order kept within a prefix), not a map of vectors.
	struct record {
		std::array<uint8_t, 16> addr;
		int len;
		ltrack_net_rule rule;
		const net_rule *src;
	};
	std::vector<record> recs;
	for (const auto &r : p.net_rules)
		for (const auto &c : r.cidrs)
			for (const auto &pr : r.ports) {
				ltrack_net_rule nr{};
				nr.port_lo = pr.lo;
				nr.port_hi = pr.hi;
				nr.proto = r.proto;
				nr.action = r.action;
				nr.rule_id = r.id;
				recs.push_back({c.addr, c.len, nr, &r});
			}
	if (recs.empty())
		return;
	// Same destination, ports and protocol with two different actions: an
	// error against the first rule that wrote it, in the order written.
	{
		std::vector<uint32_t> order(recs.size());
		for (uint32_t i = 0; i < order.size(); i++)
			order[i] = i;
		auto dest = [&](uint32_t i) {
			const record &x = recs[i];
			return std::tie(x.addr, x.len, x.rule.port_lo, x.rule.port_hi, x.rule.proto);
		};
		std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return dest(a) < dest(b); });
		std::vector<std::pair<uint32_t, uint32_t>> conflicts; // (record, the first record of its destination)
		for (std::size_t i = 1, first = 0; i < order.size(); i++) {
			if (dest(order[i]) != dest(order[first])) {
				first = i;
				continue;
			}
			const net_rule *had = recs[order[first]].src, *r = recs[order[i]].src;
			if (had != r && had->action != r->action)
				conflicts.push_back({order[i], order[first]});
		}
		std::sort(conflicts.begin(), conflicts.end());
		for (const auto &[i, f] : conflicts) {
			const record &x = recs[i];
			const net_rule &r = *x.src, &had = *recs[f].src;
			ctx_.error(r.pos, "conflicting network rules in profile \"" + p.name +
						  "\": " + format_cidr(x.addr, x.len) + " port " +
						  ports_text({{x.rule.port_lo, x.rule.port_hi}}) + " is " +
						  action_name(r.action) + " here and " + action_name(had.action) +
						  " at line " + std::to_string(had.pos.line) + "; keep one");
		}
	}
	std::stable_sort(recs.begin(), recs.end(), [](const record &a, const record &b) {
		return std::tie(a.addr, a.len) < std::tie(b.addr, b.len);
	});
	// Each prefix: a run of recs.
	struct group {
		std::array<uint8_t, 16> addr;
		int len;
		uint32_t begin, end;
	};
	std::vector<group> groups;
	std::vector<int> lengths;
	for (uint32_t i = 0; i < recs.size(); i++) {
		if (groups.empty() || groups.back().addr != recs[i].addr || groups.back().len != recs[i].len)
			groups.push_back({recs[i].addr, recs[i].len, i, i});
		groups.back().end = i + 1;
		lengths.push_back(recs[i].len);
	}
	std::sort(lengths.begin(), lengths.end());
	lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
	auto find_group = [&](const std::array<uint8_t, 16> &addr, int len) -> const group * {
		auto it = std::lower_bound(groups.begin(), groups.end(), std::tie(addr, len),
					   [](const group &g, const auto &k) { return std::tie(g.addr, g.len) < k; });
		return it != groups.end() && it->addr == addr && it->len == len ? &*it : nullptr;
	};
	// Each entry carries its own rules and every enclosing prefix's: the
	// trie returns only the longest match. Most specific first; within one
	// prefix deny before allow (the stronger action first), then rule order.
	// The enclosing prefixes are this address cut to each length the policy
	// uses, up to its own: one lookup per such length (a policy uses a few)
	// rather than per bit, or a scan of every prefix per prefix, which made
	// 100,000 rules take hours to compile. The entry keeps its rules as a
	// run of net_entry_rules (compiled_policy.h), not a 200-byte map value.
	out_.net_rules.reserve(out_.net_rules.size() + groups.size());
	std::vector<std::pair<int, ltrack_net_rule>> folded;
	for (const group &g : groups) {
		folded.clear();
		for (int len : lengths) {
			if (len > g.len)
				break;
			std::array<uint8_t, 16> cut{};
			for (int b = 0; b < len / 8; b++)
				cut[b] = g.addr[b];
			if (len % 8)
				cut[len / 8] = uint8_t(g.addr[len / 8] & (0xff << (8 - len % 8)));
			if (const group *outer = find_group(cut, len))
				for (uint32_t i = outer->begin; i < outer->end; i++)
					folded.push_back({len, recs[i].rule});
		}
		std::stable_sort(folded.begin(), folded.end(), [](const auto &a, const auto &b) {
			return std::make_tuple(-a.first, -int(a.second.action), a.second.rule_id, a.second.port_lo) <
			       std::make_tuple(-b.first, -int(b.second.action), b.second.rule_id, b.second.port_lo);
		});
		if (folded.size() > LTRACK_NET_RULES_PER_PREFIX) {
			ctx_.error(p.network_pos.line ? p.network_pos : p.pos,
				   "profile \"" + p.name + "\": destination " + format_cidr(g.addr, g.len) +
					   " is covered by " + std::to_string(folded.size()) +
					   " network rule entries (each port range and CIDR "
					   "counts), more than the " +
					   std::to_string(LTRACK_NET_RULES_PER_PREFIX) +
					   " the kernel checks; merge port ranges or CIDRs");
			continue;
		}
		net_entry e{};
		e.key.prefixlen = 32 + uint32_t(g.len);
		e.key.scope = profile;
		std::memcpy(e.key.addr, g.addr.data(), 16);
		e.first = uint32_t(out_.net_entry_rules.size());
		e.count = uint32_t(folded.size());
		for (const auto &f : folded)
			out_.net_entry_rules.push_back(f.second);
		out_.net_rules.push_back(e);
	}
}

void compiler::compile_profile(profile_def &p, compiled_profile &out)
{
	uint32_t pid = out.id;
	ltrack_profile &v = out.value;
	v = {};
	v.mode = p.mode;
	v.file_default = p.file_default.action ? p.file_default.action : uint8_t(LTRACK_ACT_ALLOW);
	v.file_default_rule = p.file_default.id;
	v.exec_default = p.exec_default.action ? p.exec_default.action : uint8_t(LTRACK_ACT_ALLOW);
	v.exec_default_rule = p.exec_default.id;
	v.net_default = p.net_default.action ? p.net_default.action : uint8_t(LTRACK_ACT_ALLOW);
	v.net_default_rule = p.net_default.id;
	v.unix_action = p.unix_rule.action;
	v.unix_rule = p.unix_rule.id;
	// Gaining privilege is recorded unless the policy says allow.
	v.priv_action = p.priv_default.action ? p.priv_default.action : uint8_t(LTRACK_ACT_AUDIT);
	v.priv_rule = p.priv_default.id;
	// Sockets: as listed, else what an ordinary service needs (glibc's
	// getaddrinfo and if_nameindex read routes over netlink).
	if (p.sockets.written) {
		v.sock_families = p.sockets.families;
		v.sock_inet = p.sockets.inet;
		v.netlink_protocols = p.sockets.netlink;
	} else {
		v.sock_families = 1ull << 1; // AF_UNIX
		v.sock_inet = LTRACK_SOCK_INET | LTRACK_SOCK_INET6;
		v.netlink_protocols = 1u << 0; // NETLINK_ROUTE
	}
	v.sockets_rule = p.sockets.id;
	// A governed process changes no mount unless its profile says so.
	v.mount_action = p.mount_default.action ? p.mount_default.action : uint8_t(LTRACK_ACT_DENY);
	v.mount_rule = p.mount_default.id;
	out.all = p.all;

	auto target = [&](uint32_t rule, std::string role, const std::string &written, const path_identity *id) {
		resolved_target t;
		t.rule_id = rule;
		t.profile = p.name;
		t.role = std::move(role);
		t.written = written;
		if (id) {
			t.resolved = id->real_path;
			t.dev = id->dev;
			t.ino = id->ino;
			t.found = true;
		}
		out_.targets.push_back(std::move(t));
	};

	// Who is governed.
	std::size_t found = 0;
	for (const auto &e : p.executables) {
		auto id = resolve(e.path, e.missing_warn, e.pos, "executable");
		target(0, "executable", e.path, id ? &*id : nullptr);
		if (!id)
			continue;
		found++;
		if (id->kind_known && id->is_dir) {
			ctx_.error(e.pos, "executable " + e.path + " is a directory; list the program itself");
			continue;
		}
		auto [it, fresh] = exes_.insert({{id->dev, id->ino}, {p.name, e.pos}});
		if (!fresh && it->second.first != p.name) {
			ctx_.error(e.pos, "executable " + e.path +
						  (id->real_path != e.path ? " (" + id->real_path + ")" : "") +
						  " is already selected by profile \"" + it->second.first +
						  "\" at line " + std::to_string(it->second.second.line) +
						  "; a process has one profile");
			continue;
		}
		if (!fresh)
			continue;
		ltrack_exe_key k{};
		k.dev = id->dev;
		k.ino = id->ino;
		out_.exe_profiles.push_back({k, pid});
	}
	for (const auto &c : p.cgroups) {
		auto id = resolve(c.path, c.missing_warn, c.pos, "cgroup");
		target(0, "cgroup", c.path, id ? &*id : nullptr);
		if (!id)
			continue;
		found++;
		if (id->kind_known && !id->is_dir) {
			ctx_.error(c.pos,
				   "cgroup " + c.path +
					   " is not a directory; write the cgroup's directory under /sys/fs/cgroup");
			continue;
		}
		auto [it, fresh] = cgroups_.insert({{0, id->ino}, {p.name, c.pos}});
		if (!fresh && it->second.first != p.name) {
			ctx_.error(c.pos, "cgroup " + c.path + " is already selected by profile \"" + it->second.first +
						  "\" at line " + std::to_string(it->second.second.line) +
						  "; a process has one profile");
			continue;
		}
		if (!fresh)
			continue;
		ltrack_cgroup_key k{};
		k.cgroup_id = id->ino;
		out_.cgroup_profiles.push_back({k, pid});
	}
	for (const auto &c : p.except_cgroups) {
		auto id = resolve(c.path, c.missing_warn, c.pos, "cgroup");
		target(0, "except-cgroup", c.path, id ? &*id : nullptr);
		if (!id)
			continue;
		if (id->kind_known && !id->is_dir) {
			ctx_.error(c.pos,
				   "cgroup " + c.path +
					   " is not a directory; write the cgroup's directory under /sys/fs/cgroup");
			continue;
		}
		auto [it, fresh] = cgroups_.insert({{0, id->ino}, {p.name, c.pos}});
		if (!fresh) {
			ctx_.error(c.pos, "cgroup " + c.path + " is already selected by profile \"" + it->second.first +
						  "\" at line " + std::to_string(it->second.second.line) +
						  "; an except cgroup cannot be governed");
			continue;
		}
		ltrack_cgroup_key k{};
		k.cgroup_id = id->ino;
		out_.cgroup_profiles.push_back({k, LTRACK_PROFILE_NONE});
	}
	if (p.all) {
		if (out_.all_profile) {
			const compiled_profile *other = nullptr;
			for (const auto &q : out_.profiles)
				if (q.id == out_.all_profile)
					other = &q;
			ctx_.error(p.pos,
				   "profile \"" + p.name + "\" and profile \"" + (other ? other->name : "?") +
					   "\" both set all = true; at most one profile may govern every process");
		} else {
			out_.all_profile = pid;
		}
	} else if (found == 0 && (!p.executables.empty() || !p.cgroups.empty())) {
		ctx_.warn(p.pos, "profile \"" + p.name +
					 "\" governs nothing on this host: none of its executables or "
					 "cgroups exist");
	}

	// File rules.
	check_duplicates(p.file_rules, "profile \"" + p.name + "\" file rules");
	for (const auto &r : p.file_rules) {
		if (r.kind == target_kind::name) {
			add_name(pid, LTRACK_HOOK_FILE, r.target, r.action, r.id, r.pos);
			continue;
		}
		// A set's paths absent on this host are listed as missing targets
		// (ltrackctl check shows them), without a warning per policy load.
		auto id = !r.set.empty() ? resolve_(r.target).as_optional()
					 : resolve(r.target, r.missing_warn, r.pos,
						   r.kind == target_kind::dir ? "directory" : "file");
		target(r.id, kind_word(r.kind), r.target, id ? &*id : nullptr);
		if (!id)
			continue;
		if (r.kind == target_kind::dir && id->kind_known && !id->is_dir) {
			ctx_.error(r.pos,
				   "dir = \"" + r.target + "\" is not a directory; use file = for a single file");
			continue;
		}
		add_inode(pid, LTRACK_HOOK_FILE, *id, r.kind == target_kind::dir, r.action, r.id, r.target, r.pos);
	}
	// Exec rules.
	check_duplicates(p.exec_rules, "profile \"" + p.name + "\" exec rules");
	for (const auto &r : p.exec_rules) {
		auto id =
			resolve(r.target, r.missing_warn, r.pos, r.kind == target_kind::dir ? "directory" : "program");
		target(r.id, std::string("exec-") + kind_word(r.kind), r.target, id ? &*id : nullptr);
		if (!id)
			continue;
		if (r.kind == target_kind::dir && id->kind_known && !id->is_dir) {
			ctx_.error(r.pos,
				   "dir = \"" + r.target + "\" is not a directory; use file = for a single program");
			continue;
		}
		if (r.kind == target_kind::file && id->kind_known && id->is_dir) {
			ctx_.error(r.pos,
				   "file = \"" + r.target + "\" is a directory; use dir = for everything under it");
			continue;
		}
		add_inode(pid, LTRACK_HOOK_EXEC, *id, r.kind == target_kind::dir, r.action, r.id, r.target, r.pos);
	}
	compile_net(p, pid);
	// Unix socket rules: the socket file's inode when it exists now, and
	// the name as written and as resolved (what its server binds), which
	// also holds for a socket created after the policy was loaded.
	for (const auto &r : p.unix_rules) {
		add_name(pid, LTRACK_HOOK_NET, r.target, r.action, r.id, r.pos);
		if (r.target[0] != '/')
			continue; // an abstract name: matched by name only
		auto id = resolve_(r.target).as_optional();
		target(r.id, "unix", r.target, id ? &*id : nullptr);
		if (!id)
			continue;
		if (id->real_path != r.target)
			add_name(pid, LTRACK_HOOK_NET, id->real_path, r.action, r.id, r.pos);
		add_inode(pid, LTRACK_HOOK_NET, *id, false, r.action, r.id, r.target, r.pos);
	}

	// Model rules.
	if (p.model.present) {
		model_section &m = p.model;
		v.model_policy = m.policy;
		v.model_action = m.action;
		v.model_rule = m.id;
		if (m.deny_suspicious)
			v.flags |= LTRACK_PF_DENY_SUSPICIOUS;
		if (m.scan_at_open) {
			v.flags |= LTRACK_PF_MODEL_WAIT;
			out.scan_at_open_max_bytes = m.scan_at_open_max_mb << 20;
		}
		for (const auto &d : m.dirs) {
			auto id = resolve(d.path, d.missing_warn, d.pos, "model directory");
			target(d.id, "model-dir", d.path, id ? &*id : nullptr);
			if (!id)
				continue;
			if (id->kind_known && !id->is_dir) {
				ctx_.error(d.pos, "model directory " + d.path +
							  " is not a directory; list it under extensions "
							  "or use its directory");
				continue;
			}
			add_inode(pid, LTRACK_HOOK_MODEL, *id, true, m.action, d.id, d.path, d.pos);
			if (std::find(out_.model_dirs.begin(), out_.model_dirs.end(), id->real_path) ==
			    out_.model_dirs.end())
				out_.model_dirs.push_back(id->real_path);
		}
		// Exclude directories: subtree rules with action ALLOW (the model
		// layer's "not a model here", lsm/file.bpf.c decide_model).
		for (const auto &d : m.excludes) {
			auto id = resolve(d.path, d.missing_warn, d.pos, "model exclude directory");
			target(d.id, "model-exclude", d.path, id ? &*id : nullptr);
			if (!id)
				continue;
			if (id->kind_known && !id->is_dir) {
				ctx_.error(d.pos, "model exclude directory " + d.path + " is not a directory");
				continue;
			}
			add_inode(pid, LTRACK_HOOK_MODEL, *id, true, LTRACK_ACT_ALLOW, d.id, d.path, d.pos);
		}
		std::set<std::string> exts;
		for (const auto &e : m.extensions) {
			if (!exts.insert(e.suffix).second) {
				ctx_.warn(e.pos, "model extension \"" + e.suffix + "\" is listed twice");
				continue;
			}
			add_name(pid, LTRACK_HOOK_MODEL, e.suffix, m.action, e.id, e.pos);
		}
		out_.trusted_digests.insert(m.trusted_sha256.begin(), m.trusted_sha256.end());
	}
}

// The proper prefixes of an absolute path, "/" excluded, "." and ".."
// folded lexically: "/a/b/c" -> "/a", "/a/b".
std::vector<std::string> proper_prefixes(const std::string &path)
{
	std::vector<std::string> parts = path_components(path), out;
	std::string cur;
	for (std::size_t i = 0; i + 1 < parts.size(); i++) {
		cur += "/" + parts[i];
		out.push_back(cur);
	}
	return out;
}

// What a name on the way to a target is: on this host the object the name
// itself leads to (lstat(2): a symlink is itself, as a rename would move
// it); with another resolver (synthetic, tests) what that resolver says.
// symlink_only: only if the name is a symlink (on this host; never otherwise).
std::optional<std::pair<uint64_t, uint64_t>> compiler::name_identity(const std::string &path, bool symlink_only)
{
	if (!opts_.resolver && opts_.resolve_paths) {
		struct stat st;
		if (lstat(path.c_str(), &st) < 0 || (symlink_only && !S_ISLNK(st.st_mode)))
			return std::nullopt;
		return std::make_pair(kernel_dev(st.st_dev), uint64_t(st.st_ino));
	}
	if (symlink_only)
		return std::nullopt;
	resolve_result r = resolve_(path);
	if (!r)
		return std::nullopt;
	return std::make_pair(r->dev, r->ino);
}

// Marks every directory and symlink on the way to every inode-bound rule's
// target, as written and as resolved (abi.h, "inode_rules", hook ANCESTOR):
// a governed process may not move, replace or remove one, since the rule's
// path, resolved again (runtime/target_watch.h), would then name whatever
// it made there. Each mark names a rule whose target lies below, a deny
// rule's when there is one. Selectors (executables, cgroups) have no rule
// to name and are not marked.
void compiler::add_ancestors()
{
	std::map<std::string, uint32_t> ids;
	for (const auto &cp : out_.profiles)
		ids[cp.name] = cp.id;
	// Targets share their directories: one lstat each, not one per target.
	std::map<std::pair<std::string, bool>, std::optional<std::pair<uint64_t, uint64_t>>> known;
	for (const auto &t : out_.targets) {
		if (!t.rule_id || !t.found || t.written.empty() || t.written[0] != '/')
			continue;
		auto pid = ids.find(t.profile);
		const rule_symbol *sym = out_.symbol(t.rule_id);
		if (pid == ids.end() || !sym)
			continue;
		bool deny = sym->action >= LTRACK_ACT_DENY;
		std::vector<std::string> names = proper_prefixes(t.written);
		if (t.resolved != t.written) {
			for (std::string &n : proper_prefixes(t.resolved))
				names.push_back(std::move(n));
			names.push_back(t.written); // the target's own name, if it is a symlink
		}
		for (std::size_t i = 0; i < names.size(); i++) {
			const std::string &n = names[i];
			bool own_name = t.resolved != t.written && i + 1 == names.size();
			auto at = known.find({n, own_name});
			if (at == known.end())
				at = known.emplace(std::make_pair(n, own_name), name_identity(n, own_name)).first;
			const auto &id = at->second;
			if (!id)
				continue;
			inode_merge &m = inodes_[{pid->second, LTRACK_HOOK_ANCESTOR, id->first, id->second}];
			const rule_symbol *had = m.rule.self_rule ? out_.symbol(m.rule.self_rule) : nullptr;
			if (had && (had->action >= LTRACK_ACT_DENY || !deny))
				continue;
			m.rule.self_rule = t.rule_id;
			m.rule.self_action = LTRACK_ACT_DENY;
		}
	}
}

compiled_policy compiler::run(policy_def &pol)
{
	out_.file = pol.file;
	out_.ltrack_compat = pol.ltrack_compat;
	out_.mode = pol.mode;
	out_.unload_on_exit = pol.unload_on_exit;
	out_.log = pol.log;
	out_.metrics = pol.metrics;
	assign_profile_ids(pol);
	assign_rule_ids(pol);
	for (std::size_t i = 0; i < pol.profiles.size(); i++) {
		compiled_profile cp;
		cp.id = ids_[i];
		cp.name = pol.profiles[i].name;
		out_.profiles.push_back(cp);
		compile_profile(pol.profiles[i], out_.profiles.back());
	}
	add_ancestors();
	for (const auto &[k, m] : inodes_) {
		auto [profile, hook, dev, ino] = k;
		ltrack_inode_key key{};
		key.profile = profile;
		key.hook = hook;
		key.dev = dev;
		key.ino = ino;
		out_.inode_rules.push_back({key, m.rule});
	}
	for (const auto &[k, m] : names_) {
		auto [profile, hook, kind, hash] = k;
		ltrack_name_key key{};
		key.profile = profile;
		key.hook = hook;
		key.kind = kind;
		key.hash = hash;
		out_.name_rules.push_back({key, m.rule});
	}
	// Flags say exactly which kinds of entries a profile has.
	std::map<uint32_t, ltrack_profile *> by_id;
	for (auto &cp : out_.profiles)
		by_id[cp.id] = &cp.value;
	auto flag = [&](uint32_t profile, uint32_t f) {
		if (auto it = by_id.find(profile); it != by_id.end())
			it->second->flags |= f;
	};
	for (const auto &[k, v] : out_.inode_rules)
		flag(k.profile, k.hook == LTRACK_HOOK_FILE       ? LTRACK_PF_INODE_RULES
				: k.hook == LTRACK_HOOK_EXEC     ? LTRACK_PF_EXEC_RULES
				: k.hook == LTRACK_HOOK_NET      ? LTRACK_PF_UNIX_RULES
				: k.hook == LTRACK_HOOK_ANCESTOR ? LTRACK_PF_ANCESTORS
								 : LTRACK_PF_MODEL_DIRS);
	for (const auto &[k, v] : out_.inode_rules)
		if (k.hook == LTRACK_HOOK_MODEL && v.subtree_action == LTRACK_ACT_ALLOW)
			flag(k.profile, LTRACK_PF_MODEL_EXCLUDES);
	for (const auto &[k, v] : out_.name_rules)
		flag(k.profile, k.hook == LTRACK_HOOK_FILE  ? LTRACK_PF_NAME_RULES
				: k.hook == LTRACK_HOOK_NET ? LTRACK_PF_UNIX_RULES
							    : LTRACK_PF_MODEL_NAMES);
	for (const auto &e : out_.net_rules)
		flag(e.key.scope & 0xffff, LTRACK_PF_NET_RULES);
	std::sort(out_.profiles.begin(), out_.profiles.end(),
		  [](const compiled_profile &a, const compiled_profile &b) { return a.id < b.id; });
	sort_entries(out_.inode_rules);
	sort_entries(out_.name_rules);
	std::sort(out_.net_rules.begin(), out_.net_rules.end(),
		  [](const net_entry &a, const net_entry &b) { return key_less(a.key, b.key); });
	sort_entries(out_.exe_profiles);
	sort_entries(out_.cgroup_profiles);
	return std::move(out_);
}

compile_result finish(parse_context &ctx, std::optional<compiled_policy> p)
{
	compile_result r;
	sort_diagnostics(ctx.diags);
	r.diagnostics = std::move(ctx.diags);
	if (!has_errors(r.diagnostics))
		r.policy = std::move(p);
	return r;
}

} // namespace

compile_result compile_string(std::string_view text, const std::string &name, const compile_options &opts)
{
	parse_context ctx;
	ctx.file = name;
	policy_def pol;
	{
		// The document is freed before compiling: at 100,000 rules it is the
		// largest thing the compiler would otherwise hold at its peak.
		toml::table doc;
		try {
			doc = toml::parse(text, std::string_view(name));
		} catch (const toml::parse_error &e) {
			ctx.error({int(e.source().begin.line), int(e.source().begin.column)},
				  std::string(e.description()) + " (TOML syntax)");
			return finish(ctx, std::nullopt);
		}
		pol = is_ltrack_compat(doc) ? parse_ltrack_compat(ctx, doc) : parse_policy(ctx, doc);
	}
	compiler c(ctx, opts);
	compiled_policy out = c.run(pol);
	return finish(ctx, std::move(out));
}

compile_result compile_file(const std::string &path, const compile_options &opts, std::string *source)
{
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		parse_context ctx;
		ctx.file = path;
		ctx.error({}, std::string("cannot read the policy: ") + std::strerror(errno) +
				      "; check the path and permissions");
		return finish(ctx, std::nullopt);
	}
	std::string text;
	in.seekg(0, std::ios::end);
	if (std::streamoff size = in.tellg(); size > 0)
		text.reserve(std::size_t(size));
	in.seekg(0);
	text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
	compile_result r = compile_string(text, path, opts);
	if (source)
		*source = std::move(text);
	return r;
}

} // namespace ltrack::policy
