// ltrack's policy compiler: TOML -> validated model -> compiled policy
// (the BPF map entries and the rule symbol table). Pure C++; the only thing
// it asks of the host is path resolution, which can be switched off.
#pragma once

#include "compiled_policy.h"
#include "diagnostic.h"
#include "path_resolver.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::policy {

struct compile_options {
	// Profile ids of the policy being replaced: a profile keeps its id across
	// a reload, a new one gets the highest id so far + 1.
	std::map<std::string, uint32_t> previous_ids;
	// false: resolve against nothing (resolve_synthetic), for fuzzing and for
	// checking a policy meant for another host.
	bool resolve_paths = true;
	// When set, used instead of either of the above.
	path_resolver resolver;
};

struct compile_result {
	std::optional<compiled_policy> policy; // set when there is no error
	std::vector<diagnostic> diagnostics;   // errors and warnings, by position
	bool ok() const { return policy.has_value(); }
};

// source, when given, receives the bytes that were compiled (for their digest:
// a second read could see a file changed in between).
compile_result compile_file(const std::string &path, const compile_options &opts = {}, std::string *source = nullptr);
compile_result compile_string(std::string_view text, const std::string &name, const compile_options &opts = {});

// Every diagnostic, one per line (format()).
std::string format_all(const std::vector<diagnostic> &ds);

std::string action_name(uint8_t action);
std::string mode_name(uint32_t mode);
std::string model_policy_name(uint8_t policy);

} // namespace ltrack::policy
