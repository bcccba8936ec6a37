#include "summary.h"

#include "abi_names.h"
#include "escape.h"
#include "net_address.h"
#include "policy.h"

#include <cstring>
#include <sstream>
#include <unordered_map>

namespace ltrack::policy {

namespace {

const char *hook_name(uint32_t h)
{
	const char *n = abi::name_of<ltrack_hook>(h);
	return n ? n : abi::name_of(LTRACK_HOOK_NONE);
}

std::string rule_ref(const compiled_policy &p, uint32_t id)
{
	const rule_symbol *s = p.symbol(id);
	return s ? "#" + std::to_string(id) + " line " + std::to_string(s->line) : "implicit";
}

// Resolved targets by rule id, built once per summary: the summary notes one
// per rule, and a scan per rule made a 100,000-rule summary quadratic.
using target_index = std::unordered_map<uint32_t, const resolved_target *>;

target_index index_targets(const compiled_policy &p)
{
	target_index idx;
	idx.reserve(p.targets.size());
	for (const auto &t : p.targets)
		if (t.rule_id)
			idx.emplace(t.rule_id, &t); // the first target of a rule, as before
	return idx;
}

std::string resolved_note(const target_index &targets, uint32_t rule_id)
{
	auto it = targets.find(rule_id);
	if (it == targets.end())
		return "";
	const resolved_target *t = it->second;
	if (!t->found)
		return "   [missing: not enforced]";
	std::string out = "   -> ";
	if (t->resolved != t->written)
		out += t->resolved + " ";
	return out + "(dev " + std::to_string(t->dev >> 20) + ":" + std::to_string(t->dev & 0xfffff) + " ino " +
	       std::to_string(t->ino) + ")";
}

std::string net_entries_text(const compiled_policy &p, uint32_t profile)
{
	std::string out;
	for (const auto &e : p.net_rules) {
		const ltrack_net_key &k = e.key;
		if ((k.scope & 0xffff) != profile)
			continue;
		std::array<uint8_t, 16> a;
		std::memcpy(a.data(), k.addr, 16);
		out += "      " + format_cidr(a, int(k.prefixlen) - 32) + ":";
		for (const ltrack_net_rule &r : p.net_rules_of(e)) {
			out += " " + action_name(r.action) + "[" + std::to_string(r.port_lo) + "-" +
			       std::to_string(r.port_hi) +
			       (r.proto == 6    ? "/tcp"
				: r.proto == 17 ? "/udp"
						: "") +
			       " #" + std::to_string(r.rule_id) + "]";
		}
		out += "\n";
	}
	return out;
}

} // namespace

std::string summary_text(const compiled_policy &p)
{
	std::ostringstream o;
	summary_text(o, p);
	return o.str();
}

void summary_text(std::ostream &o, const compiled_policy &p)
{
	o << p.file << ": OK" << (p.ltrack_compat ? " (ltrack format: observe-only rules for all processes)" : "")
	  << "\n";
	o << "mode: " << mode_name(p.mode) << "; when ltrackd exits: "
	  << (p.unload_on_exit ? "unload (enforcement stops)" : "keep enforcing (programs stay pinned)") << "\n";
	o << "log: " << p.log.format << " to " << p.log.output_path << ", level " << p.log.level << ", rotate at "
	  << p.log.max_size_mb << " MB, keep " << p.log.max_backups << " for " << p.log.max_age_days << " days"
	  << (p.log.compress ? ", compressed" : "")
	  << (p.log.stats_interval_s ? ", stats every " + std::to_string(p.log.stats_interval_s) + " s" : "")
	  << (p.log.journald ? ", also to journald" : "")
	  << (p.log.syslog ? ", also to syslog (facility " + p.log.syslog_facility + ")" : "") << "\n";
	o << p.profiles.size() << " profile(s), " << p.symbols.size() << " rule(s), " << p.entry_count()
	  << " map entries\n";
	const target_index targets = index_targets(p);
	for (const auto &prof : p.profiles) {
		const ltrack_profile &v = prof.value;
		o << "\nprofile " << prof.name << " (id " << prof.id << ", mode "
		  << (v.mode == LTRACK_MODE_INHERIT ? mode_name(p.mode) + " (global)" : mode_name(v.mode)) << ")\n";
		o << "  governs:";
		if (prof.all)
			o << " every process";
		for (const auto &t : p.targets)
			if (t.profile == prof.name &&
			    (t.role == "executable" || t.role == "cgroup" || t.role == "except-cgroup"))
				o << "\n    " << (t.role == "except-cgroup" ? "except cgroup" : t.role) << " "
				  << t.written
				  << (t.found ? (t.resolved != t.written ? " -> " + t.resolved : "")
					      : "   [missing: not selected]");
		o << "\n    (and everything they start)\n";
		auto section = [&](const char *title, std::initializer_list<const char *> kinds) {
			std::vector<const rule_symbol *> rules;
			for (const auto &s : p.symbols)
				if (s.profile == prof.name)
					for (const char *k : kinds)
						if (s.kind == k)
							rules.push_back(&s);
			if (rules.empty())
				return;
			o << "  " << title << ":\n";
			for (const rule_symbol *s : rules)
				o << "    #" << s->id << " line " << s->line << ": " << s->text
				  << resolved_note(targets, s->id) << "\n";
		};
		o << "  file: default " << action_name(v.file_default) << " (" << rule_ref(p, v.file_default_rule)
		  << ")\n";
		section("file rules (exact file, then nearest directory, then name; deny wins a tie)", {"file"});
		o << "  exec: default " << action_name(v.exec_default) << " (" << rule_ref(p, v.exec_default_rule)
		  << ")\n";
		section("exec rules", {"exec"});
		o << "  network: default " << action_name(v.net_default) << " (" << rule_ref(p, v.net_default_rule)
		  << "), unix sockets "
		  << (v.unix_action ? action_name(v.unix_action) + " (" + rule_ref(p, v.unix_rule) + ")"
				    : std::string("as the default"))
		  << "\n";
		section("network rules", {"net"});
		section("unix socket rules (by the socket's inode, else the name it is bound with)", {"unix-socket"});
		o << "  sockets: "
		  << (v.sockets_rule ? rule_ref(p, v.sockets_rule) + " " + std::string(p.symbol(v.sockets_rule)->text)
				     : std::string("unix, inet, inet6, netlink-route (the default)"))
		  << "\n";
		o << "  privilege escalation: " << action_name(v.priv_action) << " (" << rule_ref(p, v.priv_rule)
		  << ")\n";
		o << "  mounts: " << action_name(v.mount_action) << " ("
		  << (v.mount_rule ? rule_ref(p, v.mount_rule) : std::string("built-in: no [mount] section")) << ")\n";
		std::string entries = net_entries_text(p, prof.id);
		if (!entries.empty())
			o << "    kernel entries (first match per longest prefix):\n" << entries;
		if (v.model_policy != LTRACK_MODEL_OFF) {
			o << "  model: open only " << model_policy_name(v.model_policy)
			  << (v.model_policy == LTRACK_MODEL_SAFE_ONLY ? " (or trusted)" : "") << " files, refusals "
			  << action_name(v.model_action) << ", suspicious "
			  << ((v.flags & LTRACK_PF_DENY_SUSPICIOUS) ? "refused" : "allowed") << "\n";
			section("model files", {"model-dir", "model-ext"});
		}
	}
	if (!p.trusted_digests.empty())
		o << "\n" << p.trusted_digests.size() << " trusted SHA-256 digest(s)\n";
}

std::string summary_json(const compiled_policy *p, const std::vector<diagnostic> &diags)
{
	std::ostringstream o;
	o << "{\"ok\":" << (p ? "true" : "false") << ",\"diagnostics\":[";
	for (std::size_t i = 0; i < diags.size(); i++) {
		const diagnostic &d = diags[i];
		o << (i ? "," : "") << "{\"file\":" << json_string(d.file) << ",\"line\":" << d.line
		  << ",\"column\":" << d.column << ",\"severity\":\"" << (d.error ? "error" : "warning")
		  << "\",\"message\":" << json_string(d.message) << "}";
	}
	o << "],\"policy\":";
	if (!p) {
		o << "null}";
		return o.str();
	}
	o << "{\"file\":" << json_string(p->file) << ",\"format\":\"" << (p->ltrack_compat ? "ltrack-compat" : "ltrack")
	  << "\",\"mode\":\"" << mode_name(p->mode)
	  << "\",\"unload_on_exit\":" << (p->unload_on_exit ? "true" : "false")
	  << ",\"log\":{\"level\":" << json_string(p->log.level) << ",\"format\":" << json_string(p->log.format)
	  << ",\"output_path\":" << json_string(p->log.output_path) << ",\"max_size\":" << p->log.max_size_mb
	  << ",\"max_age\":" << p->log.max_age_days << ",\"max_backups\":" << p->log.max_backups
	  << ",\"compress\":" << (p->log.compress ? "true" : "false")
	  << ",\"stats_interval_s\":" << p->log.stats_interval_s
	  << ",\"journald\":" << (p->log.journald ? "true" : "false")
	  << ",\"syslog\":" << (p->log.syslog ? "true" : "false")
	  << ",\"syslog_facility\":" << json_string(p->log.syslog_facility) << "},\"all_profile\":" << p->all_profile
	  << ",\"profiles\":[";
	for (std::size_t i = 0; i < p->profiles.size(); i++) {
		const compiled_profile &pr = p->profiles[i];
		const ltrack_profile &v = pr.value;
		o << (i ? "," : "") << "{\"id\":" << pr.id << ",\"name\":" << json_string(pr.name) << ",\"mode\":\""
		  << mode_name(v.mode) << "\",\"all\":" << (pr.all ? "true" : "false") << ",\"flags\":" << v.flags
		  << ",\"file_default\":\"" << action_name(v.file_default)
		  << "\",\"file_default_rule\":" << v.file_default_rule << ",\"exec_default\":\""
		  << action_name(v.exec_default) << "\",\"exec_default_rule\":" << v.exec_default_rule
		  << ",\"net_default\":\"" << action_name(v.net_default)
		  << "\",\"net_default_rule\":" << v.net_default_rule << ",\"unix\":\"" << action_name(v.unix_action)
		  << "\",\"unix_rule\":" << v.unix_rule << ",\"sock_families\":" << v.sock_families
		  << ",\"sock_inet\":" << v.sock_inet << ",\"netlink_protocols\":" << v.netlink_protocols
		  << ",\"sockets_rule\":" << v.sockets_rule << ",\"model_policy\":\""
		  << model_policy_name(v.model_policy) << "\",\"model_action\":\"" << action_name(v.model_action)
		  << "\",\"model_rule\":" << v.model_rule << ",\"privilege\":\"" << action_name(v.priv_action)
		  << "\",\"privilege_rule\":" << v.priv_rule << ",\"mount\":\"" << action_name(v.mount_action)
		  << "\",\"mount_rule\":" << v.mount_rule << "}";
	}
	o << "],\"rules\":[";
	for (std::size_t i = 0; i < p->symbols.size(); i++) {
		const rule_symbol &s = p->symbols[i];
		o << (i ? "," : "") << "{\"id\":" << s.id << ",\"profile\":" << json_string(s.profile)
		  << ",\"kind\":" << json_string(s.kind) << ",\"action\":\"" << action_name(s.action)
		  << "\",\"text\":" << json_string(s.text) << ",\"line\":" << s.line << ",\"column\":" << s.column
		  << "}";
	}
	o << "],\"targets\":[";
	for (std::size_t i = 0; i < p->targets.size(); i++) {
		const resolved_target &t = p->targets[i];
		o << (i ? "," : "") << "{\"rule_id\":" << t.rule_id << ",\"profile\":" << json_string(t.profile)
		  << ",\"role\":" << json_string(t.role) << ",\"written\":" << json_string(t.written)
		  << ",\"found\":" << (t.found ? "true" : "false") << ",\"resolved\":" << json_string(t.resolved)
		  << ",\"dev\":" << t.dev << ",\"ino\":" << t.ino << "}";
	}
	o << "],\"model_dirs\":[";
	for (std::size_t i = 0; i < p->model_dirs.size(); i++)
		o << (i ? "," : "") << json_string(p->model_dirs[i]);
	o << "],\"trusted_sha256\":[";
	std::size_t i = 0;
	for (const auto &d : p->trusted_digests)
		o << (i++ ? "," : "") << json_string(d);
	o << "],\"entries\":{\"profiles\":" << p->profiles.size() << ",\"inode_rules\":" << p->inode_rules.size()
	  << ",\"name_rules\":" << p->name_rules.size() << ",\"net_rules\":" << p->net_rules.size()
	  << ",\"exe_profiles\":" << p->exe_profiles.size() << ",\"cgroup_profiles\":" << p->cgroup_profiles.size()
	  << "}}}";
	return o.str();
}

std::string explanation_text(const compiled_policy &p, const explanation &ex)
{
	std::ostringstream o;
	o << "profile " << ex.profile << " (id " << ex.profile_id << "), " << hook_name(ex.hook) << " hook:\n";
	for (const auto &s : ex.steps)
		o << "  - " << s << "\n";
	const rule_symbol *s = p.symbol(ex.rule_id);
	o << "decision: " << action_name(ex.action) << " by "
	  << (s ? "rule " + std::to_string(s->id) + " `" + std::string(s->text) + "` at " + std::string(s->file) + ":" +
			      std::to_string(s->line) + ":" + std::to_string(s->column)
		: std::string(ex.walk_limit ? "the walk bound" : "the implicit default"))
	  << "\noutcome in " << mode_name(ex.mode) << " mode: " << outcome_name(ex.outcome) << "\n";
	return o.str();
}

std::string explanation_json(const compiled_policy &p, const explanation &ex)
{
	std::ostringstream o;
	const rule_symbol *s = p.symbol(ex.rule_id);
	o << "{\"profile\":" << json_string(ex.profile) << ",\"profile_id\":" << ex.profile_id << ",\"hook\":\""
	  << hook_name(ex.hook) << "\",\"action\":\"" << action_name(ex.action) << "\",\"rule_id\":" << ex.rule_id
	  << ",\"rule\":" << (s ? json_string(s->text) : "null") << ",\"line\":" << (s ? s->line : 0)
	  << ",\"default\":" << (ex.is_default ? "true" : "false")
	  << ",\"walk_limit\":" << (ex.walk_limit ? "true" : "false") << ",\"verdict\":\"" << verdict_name(ex.verdict)
	  << "\",\"mode\":\"" << mode_name(ex.mode) << "\",\"outcome\":\"" << outcome_name(ex.outcome)
	  << "\",\"steps\":[";
	for (std::size_t i = 0; i < ex.steps.size(); i++)
		o << (i ? "," : "") << json_string(ex.steps[i]);
	o << "]}";
	return o.str();
}

} // namespace ltrack::policy
