// Named rule sets shipped with ltrack, usable from any profile's file
// section as { action = "deny", set = "sensitive-files" }. A set expands,
// when the policy is parsed, into ordinary file, dir and name rules that all
// carry the set's name (for the decision log) and the position of the rule
// that named it.
#pragma once

#include "policy_model.h"

#include <string>
#include <vector>

namespace ltrack::policy {

struct rule_set_entry {
	target_kind kind;
	const char *target; // absolute path, or a name pattern ("id_rsa", "*.pem")
};

struct rule_set {
	const char *name;
	const char *summary;
	std::vector<rule_set_entry> entries;
};

// Every shipped set, by name.
const std::vector<rule_set> &rule_sets();
const rule_set *find_rule_set(const std::string &name);

} // namespace ltrack::policy
