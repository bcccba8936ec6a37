// A compiled policy: exactly the entries ltrack's BPF maps will hold (slot 0;
// the loader stamps the slot), the per-profile headers, and the symbol table
// that turns a rule id in a decision record back into the policy text.
#pragma once

#include "abi.h"
#include "policy_model.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ltrack::policy {

// One rule as written, for the decision log and for explain. Rule id 0 is
// "none"; ids 1..M index symbols[id - 1]. Compact: the strings are views of
// compiled_policy::symbol_text (one arena for every rule's text, profile
// name and the file name, shared by copies of the policy) and of constant
// kind names, not strings of their own per rule.
struct rule_symbol {
	uint32_t id = 0;
	std::string_view profile;
	std::string_view kind; // file, exec, net, unix, model, model-dir, model-ext, *-default
	uint8_t action = 0;    // enum ltrack_action
	std::string_view text; // e.g. "deny dir /srv/models/untrusted"
	std::string_view file;
	int line = 0;
	int column = 0;
};

// What a path in the policy turned into on this host.
struct resolved_target {
	uint32_t rule_id = 0; // 0 for selectors (executables, cgroups)
	std::string profile;
	std::string role;     // file, dir, exec-file, exec-dir, executable, cgroup, model-dir
	std::string written;  // as in the policy
	std::string resolved; // symlinks followed; empty when missing
	uint64_t dev = 0;     // kernel encoding (major << 20 | minor)
	uint64_t ino = 0;
	bool found = false;
};

// One "net_rules" entry, compact: the LPM key and its rules, a run of
// compiled_policy::net_entry_rules (the entry's own rules and every enclosing
// prefix's, in the order the kernel checks them). The map's value,
// ltrack_net_val, is 200 bytes whatever the count; net_value() builds it when
// the map is filled.
struct net_entry {
	ltrack_net_key key{};
	uint32_t first = 0; // index into net_entry_rules
	uint32_t count = 0; // at most LTRACK_NET_RULES_PER_PREFIX
};

struct compiled_profile {
	uint32_t id = 0;
	std::string name;
	ltrack_profile value{};
	bool all = false;
	uint64_t scan_at_open_max_bytes = 0; // scan_at_open: the largest file its first open waits for
};

struct compiled_policy {
	std::string file;
	bool ltrack_compat = false;
	uint32_t mode = LTRACK_MODE_AUDIT; // global, never INHERIT
	bool unload_on_exit = false;
	log_config log;
	metrics_config metrics;

	std::vector<compiled_profile> profiles; // by id
	std::vector<std::pair<ltrack_inode_key, ltrack_inode_rule>> inode_rules;
	std::vector<std::pair<ltrack_name_key, ltrack_rule>> name_rules;
	std::vector<net_entry> net_rules;             // by key
	std::vector<ltrack_net_rule> net_entry_rules; // the runs net_rules point into
	std::vector<std::pair<ltrack_exe_key, uint32_t>> exe_profiles;
	std::vector<std::pair<ltrack_cgroup_key, uint32_t>> cgroup_profiles;
	uint32_t all_profile = 0;

	std::vector<rule_symbol> symbols;
	std::shared_ptr<const std::string> symbol_text; // what symbols' views point into
	std::vector<resolved_target> targets;
	std::vector<std::string> model_dirs;   // resolved, for the scanner
	std::set<std::string> trusted_digests; // lower-case hex SHA-256

	ltrack_net_val net_value(const net_entry &e) const; // the map's value
	std::span<const ltrack_net_rule> net_rules_of(const net_entry &e) const;

	const rule_symbol *symbol(uint32_t id) const;
	const compiled_profile *find_profile(std::string_view name) const;
	const compiled_profile *find_profile(uint32_t id) const;
	std::map<std::string, uint32_t> profile_ids() const;
	std::size_t entry_count() const;
};

} // namespace ltrack::policy
