#include "record_fields.h"

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

	static void put_utf8(std::string &out, uint32_t cp)
	{
		if (cp < 0x80) {
			out += char(cp);
		} else if (cp < 0x800) {
			out += char(0xc0 | (cp >> 6));
			out += char(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out += char(0xe0 | (cp >> 12));
			out += char(0x80 | ((cp >> 6) & 0x3f));
			out += char(0x80 | (cp & 0x3f));
		} else {
			out += char(0xf0 | (cp >> 18));
			out += char(0x80 | ((cp >> 12) & 0x3f));
			out += char(0x80 | ((cp >> 6) & 0x3f));
			out += char(0x80 | (cp & 0x3f));
		}
	}

	bool hex4(uint32_t &v)
	{
		if (i_ + 4 > s_.size())
			return false;
		v = 0;
		for (int k = 0; k < 4; ++k) {
			char c = s_[i_++];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= uint32_t(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= uint32_t(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= uint32_t(c - 'A' + 10);
			else
				return false;
		}
		return true;
	}

	bool string(std::string &out)
	{
		skip_ws();
		if (!eat_raw('"'))
			return false;
		while (i_ < s_.size()) {
			char c = s_[i_++];
			if (c == '"')
				return true;
			if (c != '\\') {
				out += c;
				continue;
			}
			if (i_ >= s_.size())
				return false;
			char e = s_[i_++];
			switch (e) {
			case '"': out += '"'; break;
			case '\\': out += '\\'; break;
			case '/': out += '/'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': {
				uint32_t cp;
				if (!hex4(cp))
					return false;
				if (cp >= 0xd800 && cp < 0xdc00 && i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
					i_ += 2;
					uint32_t lo;
					if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff)
						return false;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = 0xfffd; // a lone surrogate
				}
				put_utf8(out, cp);
				break;
			}
			default:
				return false;
			}
		}
		return false;
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
