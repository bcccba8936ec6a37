#include "escape.h"

#include "utf8.h"

#include <cstdio>

namespace ltrack {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i)
{
	auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
	unsigned char c = byte(i);
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf; // bounds of the second byte
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; // overlong
		if (c == 0xed)
			hi = 0x9f; // surrogates
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; // overlong
		if (c == 0xf4)
			hi = 0x8f; // above U+10FFFF
	} else
		return 0;
	if (i + n > s.size())
		return 0;
	if (byte(i + 1) < lo || byte(i + 1) > hi)
		return 0;
	for (size_t k = 2; k < n; ++k)
		if (byte(i + k) < 0x80 || byte(i + k) > 0xbf)
			return 0;
	return n;
}

void append_hex_escape(std::string &out, const char *fmt, unsigned v)
{
	char buf[8];
	std::snprintf(buf, sizeof buf, fmt, v);
	out += buf;
}

} // namespace

void json_escape(std::string &out, std::string_view s)
{
	for (size_t i = 0; i < s.size();) {
		// A run of bytes that need no escape, appended at once (most of a
		// path or command line).
		size_t run = i;
		while (run < s.size()) {
			unsigned char b = static_cast<unsigned char>(s[run]);
			if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\')
				break;
			++run;
		}
		if (run > i) {
			out.append(s.data() + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c < 0x80) {
			switch (c) {
			case '"': out += "\\\""; break;
			case '\\': out += "\\\\"; break;
			case '\n': out += "\\n"; break;
			case '\r': out += "\\r"; break;
			case '\t': out += "\\t"; break;
			case '\b': out += "\\b"; break;
			case '\f': out += "\\f"; break;
			default:
				if (c < 0x20 || c == 0x7f)
					append_hex_escape(out, "\\u%04x", c);
				else
					out += static_cast<char>(c);
			}
			++i;
			continue;
		}
		size_t n = utf8_sequence(s, i);
		if (n == 0) {
			out += "\\ufffd";
			++i;
			continue;
		}
		// U+2028/U+2029 end lines in JavaScript and some log viewers.
		if (n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
		    (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
			append_hex_escape(out, "\\u%04x", 0x2000u + (static_cast<unsigned char>(s[i + 2]) - 0x80));
		} else {
			out.append(s.substr(i, n));
		}
		i += n;
	}
}

std::string json_string(std::string_view s)
{
	std::string out = "\"";
	json_escape(out, s);
	return out + "\"";
}

std::string text_escape(std::string_view s)
{
	std::string out;
	out.reserve(s.size());
	for (size_t i = 0; i < s.size();) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c >= 0x20 && c < 0x7f) {
			if (c == '\\')
				out += "\\\\";
			else
				out += static_cast<char>(c);
			++i;
			continue;
		}
		if (c == '\n') {
			out += "\\n";
			++i;
			continue;
		}
		if (c == '\t') {
			out += "\\t";
			++i;
			continue;
		}
		if (c == '\r') {
			out += "\\r";
			++i;
			continue;
		}
		size_t n = c >= 0x80 ? utf8_sequence(s, i) : 0;
		// U+0080..U+009F are C1 controls and U+2028/9 line breaks: escape.
		bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
		bool sep = n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
			   (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8;
		if (n == 0 || c1 || sep) {
			size_t count = n == 0 ? 1 : n;
			for (size_t k = 0; k < count; ++k)
				append_hex_escape(out, "\\x%02x", static_cast<unsigned char>(s[i + k]));
			i += count;
			continue;
		}
		out.append(s.substr(i, n));
		i += n;
	}
	return out;
}

namespace {

bool hex4(std::string_view s, size_t &i, uint32_t &cp)
{
	if (i + 4 > s.size())
		return false;
	cp = 0;
	for (size_t k = 0; k < 4; ++k) {
		char h = s[i + k];
		cp <<= 4;
		if (h >= '0' && h <= '9')
			cp |= uint32_t(h - '0');
		else if (h >= 'a' && h <= 'f')
			cp |= uint32_t(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			cp |= uint32_t(h - 'A' + 10);
		else
			return false;
	}
	i += 4;
	return true;
}

} // namespace

const char *json_unescape(std::string_view s, size_t &i, std::string &out)
{
	if (i >= s.size() || s[i] != '"')
		return "expected a string";
	++i; // the opening quote
	while (true) {
		if (i >= s.size())
			return "the line ends inside a string (truncated?)";
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c == '"') {
			++i;
			return nullptr;
		}
		if (c < 0x20)
			return "a control byte inside a string";
		if (c != '\\') {
			// A run of plain bytes at once.
			size_t from = i;
			while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20)
				++i;
			out.append(s, from, i - from);
			continue;
		}
		if (++i >= s.size())
			return "the line ends inside a string (truncated?)";
		char e = s[i++];
		// The one-letter escapes and what they stand for.
		static constexpr std::string_view letters = "\"\\/bfnrt", bytes = "\"\\/\b\f\n\r\t";
		if (size_t k = letters.find(e); k != std::string_view::npos) {
			out += bytes[k];
		} else if (e == 'u') {
			uint32_t cp;
			if (i + 4 > s.size())
				return "a \\u escape is cut short";
			if (!hex4(s, i, cp))
				return "a \\u escape is not 4 hex digits";
			if (cp >= 0xd800 && cp < 0xdc00) {
				uint32_t lo;
				if (s.substr(i, 2) != "\\u")
					return "a lone UTF-16 surrogate";
				i += 2;
				if (!hex4(s, i, lo) || lo < 0xdc00 || lo >= 0xe000)
					return "a lone UTF-16 surrogate";
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return "a lone UTF-16 surrogate";
			}
			append_utf8(out, cp);
		} else {
			return "an unknown escape in a string";
		}
	}
}

} // namespace ltrack
