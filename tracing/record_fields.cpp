#include "record_fields.h"

#include "escape.h"

#include <cctype>
#include <cstdint>

namespace ltrack::tracing {
namespace {

class parser {
public:
	explicit parser(std::string_view s) : s_(s) {}

	bool object(const std::string &prefix, std::vector<record_field> &out)
	{
		if (!eat('{'))
			return false;
		if (eat('}'))
			return true;
		do {
			std::string key;
			if (!string(key) || !eat(':'))
				return false;
			std::string path = prefix.empty() ? key : prefix + "." + key;
			skip_ws();
			if (peek() == '{' && key.rfind("by_", 0) != 0) {
				if (!object(path, out))
					return false;
			} else {
				std::string value;
				if (!value_of(value))
					return false;
				out.push_back({std::move(path), std::move(value)});
			}
		} while (eat(','));
		return eat('}');
	}

	bool at_end()
	{
		skip_ws();
		return i_ == s_.size();
	}

private:
	// A string decoded; anything else as its JSON text.
	bool value_of(std::string &v)
	{
		skip_ws();
		if (peek() == '"')
			return string(v);
		size_t from = i_;
		if (!skip_value())
			return false;
		v.assign(s_.substr(from, i_ - from));
		return true;
	}

	bool skip_value()
	{
		skip_ws();
		char c = peek();
		if (c == '"') {
			std::string ignored;
			return string(ignored);
		}
		if (c == '{' || c == '[') {
			char close = c == '{' ? '}' : ']';
			++i_;
			if (eat(close))
				return true;
			do {
				if (c == '{') {
					std::string k;
					if (!string(k) || !eat(':'))
						return false;
				}
				if (!skip_value())
					return false;
			} while (eat(','));
			return eat(close);
		}
		size_t from = i_;
		while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
					  s_[i_] == '+' || s_[i_] == '.'))
			++i_;
		return i_ > from;
	}

	bool string(std::string &out)
	{
		skip_ws();
		return !json_unescape(s_, i_, out);
	}

	char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
	void skip_ws()
	{
		while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
			++i_;
	}
	bool eat_raw(char c)
	{
		if (peek() != c)
			return false;
		++i_;
		return true;
	}
	bool eat(char c)
	{
		skip_ws();
		return eat_raw(c);
	}

	std::string_view s_;
	size_t i_ = 0;
};

} // namespace

std::optional<std::vector<record_field>> flatten_record(std::string_view json)
{
	std::vector<record_field> out;
	parser p(json);
	if (!p.object("", out) || !p.at_end())
		return std::nullopt;
	return out;
}

std::string journal_field_name(std::string_view path)
{
	std::string name = "LTRACK_";
	for (char c : path) {
		unsigned char u = static_cast<unsigned char>(c);
		name += std::isalnum(u) && u < 0x80 ? char(std::toupper(u)) : '_';
	}
	if (name.size() > 64)
		name.resize(64);
	return name;
}

} // namespace ltrack::tracing
