#include "text_formats.h"
#include "protobuf.h"

#include <cstring>

namespace ltrack::scanner {

bool valid_utf8(bytes d)
{
	size_t i = 0, n = d.size();
	while (i < n) {
		unsigned char c = d[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((d[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (d[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

bool is_text(bytes d)
{
	if (d.empty())
		return false;
	for (unsigned char c : d)
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
			return false;
	return valid_utf8(d);
}

namespace {

class json_validator {
public:
	json_validator(std::string_view t, uint32_t max_depth) : t(t), max_depth(max_depth) {}

	// One pass, no recursion: the only state is the stack of open containers.
	bool run(std::string &detail)
	{
		ws();
		if (p >= t.size() || (t[p] != '{' && t[p] != '['))
			return false;
		bool object = t[p] == '{';
		enum { value, value_or_end, key, key_or_end, colon, after } state = value;
		while (true) {
			ws();
			if (state == after && stack.empty())
				break;
			if (p >= t.size())
				return false;
			char c = t[p];
			switch (state) {
			case value_or_end:
				if (c == ']') {
					p++;
					stack.pop_back();
					state = after;
					break;
				}
				[[fallthrough]];
			case value:
				values++;
				if (c == '{' || c == '[') {
					if (stack.size() >= max_depth)
						return false;
					stack.push_back(c);
					p++;
					state = c == '{' ? key_or_end : value_or_end;
				} else if (c == '"') {
					if (!string())
						return false;
					state = after;
				} else if (c == '-' || (c >= '0' && c <= '9')) {
					if (!number())
						return false;
					state = after;
				} else if (lit("true") || lit("false") || lit("null") || lit("NaN") ||
					   lit("Infinity")) {
					state = after;
				} else {
					return false;
				}
				break;
			case key_or_end:
				if (c == '}') {
					p++;
					stack.pop_back();
					state = after;
					break;
				}
				[[fallthrough]];
			case key:
				if (c != '"' || !string())
					return false;
				state = colon;
				break;
			case colon:
				if (c != ':')
					return false;
				p++;
				state = value;
				break;
			case after:
				if (c == ',') {
					p++;
					state = stack.back() == '{' ? key : value;
				} else if (c == (stack.back() == '{' ? '}' : ']')) {
					p++;
					stack.pop_back();
				} else {
					return false;
				}
				break;
			}
		}
		if (p != t.size())
			return false;
		detail = std::string("JSON ") + (object ? "object" : "array") + ", " + std::to_string(values) +
			 " values";
		return true;
	}

private:
	std::string_view t;
	uint32_t max_depth;
	size_t p = 0;
	uint64_t values = 0;
	std::string stack;

	void ws()
	{
		while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
			p++;
	}
	bool lit(std::string_view w)
	{
		if (t.substr(p, w.size()) != w)
			return false;
		p += w.size();
		return true;
	}
	static bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
	bool string()
	{
		p++; // the opening quote
		while (p < t.size()) {
			unsigned char c = static_cast<unsigned char>(t[p++]);
			if (c == '"')
				return true;
			if (c < 0x20)
				return false;
			if (c != '\\')
				continue;
			if (p >= t.size())
				return false;
			char e = t[p++];
			if (e == 'u') {
				// Python keeps lone surrogates from \u escapes: data either way.
				if (t.size() - p < 4 || !hex(t[p]) || !hex(t[p + 1]) || !hex(t[p + 2]) ||
				    !hex(t[p + 3]))
					return false;
				p += 4;
			} else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
				return false;
			}
		}
		return false;
	}
	bool digits()
	{
		size_t s = p;
		while (p < t.size() && t[p] >= '0' && t[p] <= '9')
			p++;
		return p > s;
	}
	// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? or -Infinity
	bool number()
	{
		if (t[p] == '-') {
			p++;
			if (lit("Infinity"))
				return true;
		}
		if (p < t.size() && t[p] == '0')
			p++;
		else if (!digits())
			return false;
		if (p < t.size() && t[p] == '.') {
			p++;
			if (!digits())
				return false;
		}
		if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
			p++;
			if (p < t.size() && (t[p] == '+' || t[p] == '-'))
				p++;
			if (!digits())
				return false;
		}
		return true;
	}
};

using protobuf::next_field;
using pb_field = protobuf::field;

bool well_formed(bytes msg)
{
	byte_reader r{msg};
	pb_field f;
	while (r.left())
		if (!next_field(r, f))
			return false;
	return true;
}

// message SentencePiece { optional string piece = 1; optional float score = 2; optional Type type = 3; }
bool is_piece(bytes msg)
{
	byte_reader r{msg};
	pb_field f;
	bool piece = false;
	while (r.left()) {
		if (!next_field(r, f))
			return false;
		if (f.number == 1 && f.wire == 2 && valid_utf8(f.body))
			piece = true;
		else if (f.number == 2 && f.wire == 5)
			continue;
		else if (f.number == 3 && f.wire == 0 && f.num >= 1 && f.num <= 6)
			continue;
		else
			return false;
	}
	return piece;
}

} // namespace

bool is_json(bytes d, uint32_t max_depth, std::string &detail)
{
	if (d.size() >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf)
		return false; // json.loads refuses a BOM
	if (!valid_utf8(d))
		return false;
	return json_validator(as_text(d), max_depth).run(detail);
}

bool is_sentencepiece(bytes d, std::string &detail)
{
	// The library writes the pieces (field 1) first.
	if (d.empty() || d[0] != 0x0a)
		return false;
	byte_reader r{d};
	pb_field f;
	uint64_t pieces = 0;
	while (r.left()) {
		if (!next_field(r, f) || f.wire != 2 || f.number < 1 || f.number > 5)
			return false;
		if (f.number == 1 ? !is_piece(f.body) : !well_formed(f.body))
			return false;
		pieces += f.number == 1;
	}
	if (!pieces)
		return false;
	detail = "SentencePiece model, " + std::to_string(pieces) + " pieces";
	return true;
}

namespace {

bool pth_break(unsigned char c)
{
	return c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85;
}

// A break ends at b[i]: the one-byte breaks (\r\n once) and U+2028/U+2029.
bool break_ends_at(const unsigned char *b, size_t i)
{
	unsigned char c = b[i];
	if (pth_break(c))
		return !(c == '\n' && i > 0 && b[i - 1] == '\r');
	return (c == 0xa8 || c == 0xa9) && i >= 2 && b[i - 2] == 0xe2 && b[i - 1] == 0x80;
}

bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

// "import" ws dotted [ws "as" ws ident] ("," dotted [as ident])* [ws] ["#" ...]
bool plain_import(std::string_view t)
{
	size_t p = 6; // after "import"
	auto ws = [&] {
		size_t s = p;
		while (p < t.size() && (t[p] == ' ' || t[p] == '\t'))
			p++;
		return p > s;
	};
	auto ident = [&](std::string_view *out = nullptr) {
		size_t s = p;
		if (p >= t.size() || !ident_start(t[p]))
			return false;
		while (p < t.size() && ident_char(t[p]))
			p++;
		if (out)
			*out = t.substr(s, p - s);
		return true;
	};
	while (true) {
		ws();
		std::string_view first;
		if (!ident(&first) || first == "as")
			return false;
		while (p < t.size() && t[p] == '.') {
			p++;
			if (!ident())
				return false;
		}
		size_t before = p;
		if (ws() && t.substr(p, 2) == "as" && (p + 2 == t.size() || t[p + 2] == ' ' || t[p + 2] == '\t')) {
			p += 2;
			if (!ws() || !ident())
				return false;
		} else {
			p = before;
		}
		ws();
		if (p < t.size() && t[p] == ',') {
			p++;
			continue;
		}
		return p == t.size() || t[p] == '#';
	}
}

} // namespace

std::vector<pth_line> pth_import_lines(bytes d)
{
	std::vector<pth_line> code;
	const unsigned char *b = d.data();
	size_t n = d.size(), p = 0, counted = 0;
	uint64_t number = 1;
	bool have_code = false;
	while (n >= 7 && p <= n - 7) {
		const void *hit = memmem(b + p, n - p, "import", 6);
		if (!hit)
			break;
		size_t at = size_t(static_cast<const unsigned char *>(hit) - b);
		p = at + 1;
		if (at + 6 >= n || (b[at + 6] != ' ' && b[at + 6] != '\t'))
			continue;
		bool start =
			at == 0 || (at == 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) || pth_break(b[at - 1]) ||
			(at >= 3 && b[at - 3] == 0xe2 && b[at - 2] == 0x80 && (b[at - 1] == 0xa8 || b[at - 1] == 0xa9));
		if (!start)
			continue;
		for (; counted < at; counted++)
			number += break_ends_at(b, counted);
		size_t e = at;
		while (e < n && b[e] != '\n' && b[e] != '\r')
			e++;
		std::string_view text = as_text(d.subspan(at, e - at));
		pth_line l{number, std::string(text.substr(0, 200)), plain_import(text)};
		if (code.size() < 64) {
			have_code = have_code || !l.plain;
			code.push_back(std::move(l));
		} else if (!have_code && !l.plain) {
			code.back() = std::move(l);
			have_code = true;
		}
	}
	return code;
}

std::vector<pth_line> pth_code_lines(bytes d, uint64_t &path_lines)
{
	path_lines = 0;
	size_t p = d.size() >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf ? 3 : 0;
	while (p < d.size()) {
		size_t e = p;
		while (e < d.size() && !break_ends_at(d.data(), e) &&
		       !(d[e] == 0xe2 && e + 2 < d.size() && d[e + 1] == 0x80 &&
			 (d[e + 2] == 0xa8 || d[e + 2] == 0xa9)))
			e++;
		std::string_view line = as_text(d.subspan(p, e - p));
		// past the break: \r\n and U+2028/U+2029 are more than one byte
		if (e < d.size() && d[e] == 0xe2)
			e += 2;
		else if (e + 1 < d.size() && d[e] == '\r' && d[e + 1] == '\n')
			e += 1;
		p = e + 1;
		if (line.starts_with("#") || line.find_first_not_of(" \t") == std::string_view::npos ||
		    line.starts_with("import ") || line.starts_with("import\t"))
			continue;
		path_lines++;
	}
	return pth_import_lines(d);
}

} // namespace ltrack::scanner
