#include "toml_reader.h"

#include <algorithm>

namespace ltrack::policy {

source_pos pos_of(const toml::node &n)
{
	return {int(n.source().begin.line), int(n.source().begin.column)};
}

source_pos pos_of(const toml::key &k)
{
	return {int(k.source().begin.line), int(k.source().begin.column)};
}

std::string type_name(const toml::node &n)
{
	switch (n.type()) {
	case toml::node_type::table: return "a table";
	case toml::node_type::array: return "an array";
	case toml::node_type::string: return "a string";
	case toml::node_type::integer: return "an integer";
	case toml::node_type::floating_point: return "a floating-point number";
	case toml::node_type::boolean: return "a boolean";
	case toml::node_type::date: return "a date";
	case toml::node_type::time: return "a time";
	case toml::node_type::date_time: return "a date-time";
	default: return "nothing";
	}
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
	std::vector<std::size_t> row(b.size() + 1);
	for (std::size_t j = 0; j <= b.size(); j++)
		row[j] = j;
	for (std::size_t i = 1; i <= a.size(); i++) {
		std::size_t diag = row[0];
		row[0] = i;
		for (std::size_t j = 1; j <= b.size(); j++) {
			std::size_t up = row[j];
			char x = char(std::tolower(static_cast<unsigned char>(a[i - 1])));
			char y = char(std::tolower(static_cast<unsigned char>(b[j - 1])));
			row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (x == y ? 0 : 1)});
			diag = up;
		}
	}
	return row[b.size()];
}

} // namespace

std::string closest(std::string_view word, const std::vector<std::string> &choices)
{
	if (word.size() > 64)
		return {};
	std::string best;
	std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1;
	for (const auto &c : choices) {
		std::size_t d = edit_distance(word, c);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	return best;
}

std::string list_choices(const std::vector<std::string> &choices)
{
	std::string out;
	for (std::size_t i = 0; i < choices.size(); i++) {
		if (i)
			out += i + 1 == choices.size() ? " or " : ", ";
		out += "\"" + choices[i] + "\"";
	}
	return out;
}

table_reader::table_reader(parse_context &ctx, const toml::table &t, std::string where,
			   std::vector<std::string> allowed)
    : ctx_(ctx), t_(t), where_(std::move(where))
{
	for (const auto &[k, v] : t) {
		if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end())
			continue;
		std::string msg = "unknown key \"" + std::string(k.str()) + "\"" +
				  (where_.empty() ? std::string(" at the top level") : " in [" + where_ + "]");
		if (std::string guess = closest(k.str(), allowed); !guess.empty())
			msg += "; did you mean \"" + guess + "\"?";
		else
			msg += "; expected one of " + list_choices(allowed);
		ctx_.error(pos_of(k), msg);
	}
}

std::string table_reader::name(std::string_view key) const
{
	return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
}

std::optional<std::string> string_value(parse_context &ctx, const toml::node &n, const std::string &what)
{
	if (const auto *s = n.as_string())
		return s->get();
	ctx.error(pos_of(n), what + ": expected a string, found " + type_name(n));
	return std::nullopt;
}

std::optional<std::string> table_reader::string(std::string_view key)
{
	const toml::node *n = get(key);
	return n ? string_value(ctx_, *n, name(key)) : std::nullopt;
}

std::optional<int64_t> table_reader::integer(std::string_view key, int64_t lo, int64_t hi)
{
	const toml::node *n = get(key);
	if (!n)
		return std::nullopt;
	const auto *i = n->as_integer();
	if (!i) {
		ctx_.error(pos_of(*n), name(key) + ": expected an integer, found " + type_name(*n));
		return std::nullopt;
	}
	if (i->get() < lo || i->get() > hi) {
		ctx_.error(pos_of(*n), name(key) + ": " + std::to_string(i->get()) + " is out of range (" +
					       std::to_string(lo) + " to " + std::to_string(hi) + ")");
		return std::nullopt;
	}
	return i->get();
}

std::optional<bool> table_reader::boolean(std::string_view key)
{
	const toml::node *n = get(key);
	if (!n)
		return std::nullopt;
	if (const auto *b = n->as_boolean())
		return b->get();
	ctx_.error(pos_of(*n), name(key) + ": expected true or false, found " + type_name(*n));
	return std::nullopt;
}

std::optional<std::string> table_reader::choice(std::string_view key, const std::vector<std::string> &choices)
{
	auto s = string(key);
	if (!s)
		return std::nullopt;
	if (std::find(choices.begin(), choices.end(), *s) != choices.end())
		return s;
	std::string msg = name(key) + ": \"" + *s + "\" is not valid; use " + list_choices(choices);
	if (std::string guess = closest(*s, choices); !guess.empty())
		msg = name(key) + ": \"" + *s + "\" is not valid; did you mean \"" + guess + "\"?";
	ctx_.error(pos_of(*get(key)), msg);
	return std::nullopt;
}

const toml::table *table_reader::subtable(std::string_view key)
{
	const toml::node *n = get(key);
	if (!n)
		return nullptr;
	if (const auto *t = n->as_table())
		return t;
	ctx_.error(pos_of(*n), name(key) + ": expected a table, found " + type_name(*n));
	return nullptr;
}

const toml::array *table_reader::array(std::string_view key)
{
	const toml::node *n = get(key);
	if (!n)
		return nullptr;
	if (const auto *a = n->as_array())
		return a;
	ctx_.error(pos_of(*n), name(key) + ": expected an array, found " + type_name(*n));
	return nullptr;
}

} // namespace ltrack::policy
