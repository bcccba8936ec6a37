// Reading TOML tables with every problem reported, not just the first:
// wrong types, unknown keys (with a "did you mean"), values out of range.
#pragma once

#include "diagnostic.h"

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ltrack::policy {

struct parse_context {
	std::string file;
	std::vector<diagnostic> diags;

	void error(source_pos p, std::string msg) { diags.push_back({file, p.line, p.column, true, std::move(msg)}); }
	void warn(source_pos p, std::string msg) { diags.push_back({file, p.line, p.column, false, std::move(msg)}); }
};

source_pos pos_of(const toml::node &n);
source_pos pos_of(const toml::key &k);

// "a string", "an integer", ... for "expected X, found Y" messages.
std::string type_name(const toml::node &n);

// The closest choice within a small edit distance, or empty.
std::string closest(std::string_view word, const std::vector<std::string> &choices);

// `"a", "b" or "c"` for messages.
std::string list_choices(const std::vector<std::string> &choices);

class table_reader {
public:
	// Reports every key of t not in allowed, as "unknown key" in `where`.
	table_reader(parse_context &ctx, const toml::table &t, std::string where, std::vector<std::string> allowed);

	const toml::table &table() const { return t_; }
	source_pos pos() const { return pos_of(t_); }
	const toml::node *get(std::string_view key) const { return t_.get(key); }
	bool has(std::string_view key) const { return t_.contains(key); }

	std::optional<std::string> string(std::string_view key);
	std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi);
	std::optional<bool> boolean(std::string_view key);
	// A string that must be one of choices.
	std::optional<std::string> choice(std::string_view key, const std::vector<std::string> &choices);
	const toml::table *subtable(std::string_view key);
	const toml::array *array(std::string_view key);

	// "where.key" for messages.
	std::string name(std::string_view key) const;

private:
	parse_context &ctx_;
	const toml::table &t_;
	std::string where_;
};

// A string node's value with "expected a string" reported otherwise.
std::optional<std::string> string_value(parse_context &ctx, const toml::node &n, const std::string &what);

} // namespace ltrack::policy
