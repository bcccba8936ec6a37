#include "data_formats.h"
#include "protobuf.h"
#include "utf8.h"

#include <algorithm>
#include <map>
#include <memory>

namespace ltrack::scanner {
namespace {

// ---- a minimal JSON reader for safetensors headers --------------------------

struct json {
	enum class kind { null, boolean, number, string, array, object } k = kind::null;
	bool is_uint = false; // a non-negative integer that fits 64 bits
	uint64_t u = 0;
	std::string s;
	std::vector<json> elems;
	std::vector<std::string> keys; // object member names, parallel to elems
};

class json_parser {
public:
	json_parser(std::string_view t, uint32_t max_depth) : t(t), max_depth(max_depth) {}
	status parse(json &out)
	{
		bool ok = value(out, 0);
		ws();
		if (ok && p != t.size()) // safetensors pads the header with spaces only
			ok = fail("unexpected text after the JSON object");
		return ok ? status{}
			  : status::fail("safetensors header JSON, byte " + std::to_string(err_at) + ": " + err);
	}

private:
	std::string_view t;
	uint32_t max_depth;
	size_t p = 0, err_at = 0;
	std::string err;

	bool fail(std::string what)
	{
		err = std::move(what);
		err_at = p;
		return false;
	}
	void ws()
	{
		while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r'))
			p++;
	}
	bool lit(std::string_view w)
	{
		if (t.substr(p, w.size()) != w)
			return fail("invalid literal");
		p += w.size();
		return true;
	}
	bool hex4(uint32_t &cp)
	{
		if (t.size() - p < 4)
			return fail("short \\u escape");
		cp = 0;
		for (int i = 0; i < 4; i++) {
			char c = t[p++];
			int h = (c >= '0' && c <= '9')   ? c - '0'
				: (c >= 'a' && c <= 'f') ? c - 'a' + 10
				: (c >= 'A' && c <= 'F') ? c - 'A' + 10
							 : -1;
			if (h < 0)
				return fail("bad \\u escape");
			cp = cp * 16 + uint32_t(h);
		}
		return true;
	}
	bool string(std::string &out)
	{
		p++; // opening quote
		while (true) {
			if (p >= t.size())
				return fail("unterminated string");
			unsigned char c = static_cast<unsigned char>(t[p++]);
			if (c == '"')
				return true;
			if (c < 0x20)
				return fail("control character in string");
			if (c != '\\') {
				out += char(c);
				continue;
			}
			if (p >= t.size())
				return fail("unterminated escape");
			char e = t[p++];
			uint32_t cp;
			switch (e) {
			case '"':
			case '\\':
			case '/': out += e; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u':
				if (!hex4(cp))
					return false;
				if (cp >= 0xd800 && cp < 0xdc00) {
					uint32_t lo;
					if (t.substr(p, 2) != "\\u" || (p += 2, !hex4(lo)) || lo < 0xdc00 ||
					    lo > 0xdfff)
						return fail("unpaired surrogate");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				append_utf8(out, cp);
				break;
			default: return fail("bad escape");
			}
		}
	}
	bool number(json &out)
	{
		size_t start = p;
		if (t[p] == '-')
			p++;
		size_t digits = p;
		while (p < t.size() && t[p] >= '0' && t[p] <= '9')
			p++;
		if (p == digits)
			return fail("bad number");
		bool integral = true;
		if (p < t.size() && t[p] == '.') {
			integral = false;
			p++;
			while (p < t.size() && t[p] >= '0' && t[p] <= '9')
				p++;
		}
		if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
			integral = false;
			p++;
			if (p < t.size() && (t[p] == '+' || t[p] == '-'))
				p++;
			while (p < t.size() && t[p] >= '0' && t[p] <= '9')
				p++;
		}
		out.k = json::kind::number;
		if (integral && t[start] != '-' && p - start <= 19) {
			out.is_uint = true;
			for (size_t i = start; i < p; i++)
				out.u = out.u * 10 + uint64_t(t[i] - '0');
		}
		return true;
	}
	bool value(json &out, uint32_t depth)
	{
		if (depth > max_depth)
			return fail("nested deeper than " + std::to_string(max_depth));
		ws();
		if (p >= t.size())
			return fail("unexpected end");
		char c = t[p];
		if (c == '{') {
			out.k = json::kind::object;
			p++;
			ws();
			if (p < t.size() && t[p] == '}')
				return ++p, true;
			while (true) {
				ws();
				if (p >= t.size() || t[p] != '"')
					return fail("expected a member name");
				std::string key;
				if (!string(key))
					return false;
				ws();
				if (p >= t.size() || t[p] != ':')
					return fail("expected ':'");
				p++;
				json v;
				if (!value(v, depth + 1))
					return false;
				out.keys.push_back(std::move(key));
				out.elems.push_back(std::move(v));
				ws();
				if (p < t.size() && t[p] == ',') {
					p++;
					continue;
				}
				if (p < t.size() && t[p] == '}')
					return ++p, true;
				return fail("expected ',' or '}'");
			}
		}
		if (c == '[') {
			out.k = json::kind::array;
			p++;
			ws();
			if (p < t.size() && t[p] == ']')
				return ++p, true;
			while (true) {
				json v;
				if (!value(v, depth + 1))
					return false;
				out.elems.push_back(std::move(v));
				ws();
				if (p < t.size() && t[p] == ',') {
					p++;
					continue;
				}
				if (p < t.size() && t[p] == ']')
					return ++p, true;
				return fail("expected ',' or ']'");
			}
		}
		if (c == '"') {
			out.k = json::kind::string;
			return string(out.s);
		}
		if (c == 't' || c == 'f') {
			out.k = json::kind::boolean;
			out.u = c == 't';
			return lit(c == 't' ? "true" : "false");
		}
		if (c == 'n')
			return lit("null");
		if (c == '-' || (c >= '0' && c <= '9'))
			return number(out);
		return fail("unexpected character");
	}
};

// Bits per element; sub-byte types are packed.
int safetensors_bits(std::string_view dtype)
{
	static const std::map<std::string_view, int> bits = {
		{"BOOL", 8}, {"U8", 8},   {"I8", 8},    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
		{"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"F64", 64},
		{"I64", 64}, {"U64", 64}, {"C64", 64},  {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},
	};
	auto it = bits.find(dtype);
	return it == bits.end() ? 0 : it->second;
}

const json *member(const json &obj, std::string_view name)
{
	for (size_t i = 0; i < obj.keys.size(); i++)
		if (obj.keys[i] == name)
			return &obj.elems[i];
	return nullptr;
}

// ---- npy header: a Python dict literal ----------------------------------------

struct pyval {
	enum class kind { str, num, boolean, none, tuple, list, dict } k = kind::none;
	std::string s;
	uint64_t n = 0;
	bool big = false;         // integer too large to hold
	std::vector<pyval> items; // tuple/list items; dict k,v pairs
};

class py_literal_parser {
public:
	explicit py_literal_parser(std::string_view t) : t(t) {}
	status parse(pyval &out)
	{
		bool ok = value(out, 0);
		ws();
		if (ok && p != t.size())
			ok = fail("unexpected text after the header dict");
		return ok ? status{} : status::fail("npy header, byte " + std::to_string(p) + ": " + err);
	}

private:
	std::string_view t;
	size_t p = 0;
	std::string err;
	bool fail(std::string w)
	{
		err = std::move(w);
		return false;
	}
	void ws()
	{
		while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\t'))
			p++;
	}
	bool seq(pyval &out, char close, uint32_t depth, bool dict)
	{
		p++;
		while (true) {
			ws();
			if (p < t.size() && t[p] == close)
				return ++p, true;
			pyval v;
			if (!value(v, depth + 1))
				return false;
			out.items.push_back(std::move(v));
			ws();
			if (dict) {
				if (p >= t.size() || t[p] != ':')
					return fail("expected ':'");
				p++;
				pyval w;
				if (!value(w, depth + 1))
					return false;
				out.items.push_back(std::move(w));
				ws();
			}
			if (p < t.size() && t[p] == ',') {
				p++;
				continue;
			}
			if (p < t.size() && t[p] == close)
				return ++p, true;
			return fail(std::string("expected ',' or '") + close + "'");
		}
	}
	bool value(pyval &out, uint32_t depth)
	{
		if (depth > 32)
			return fail("nested too deeply");
		ws();
		if (p >= t.size())
			return fail("unexpected end");
		char c = t[p];
		if (c == '{')
			return out.k = pyval::kind::dict, seq(out, '}', depth, true);
		if (c == '(')
			return out.k = pyval::kind::tuple, seq(out, ')', depth, false);
		if (c == '[')
			return out.k = pyval::kind::list, seq(out, ']', depth, false);
		if (c == '\'' || c == '"') {
			out.k = pyval::kind::str;
			p++;
			while (p < t.size() && t[p] != c) {
				if (t[p] == '\\' && p + 1 < t.size())
					p++;
				out.s += t[p++];
			}
			if (p >= t.size())
				return fail("unterminated string");
			p++;
			return true;
		}
		if (c >= '0' && c <= '9') {
			out.k = pyval::kind::num;
			while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
				if (out.n > UINT64_MAX / 10 - 10)
					out.big = true;
				else
					out.n = out.n * 10 + uint64_t(t[p] - '0');
				p++;
			}
			if (p < t.size() && t[p] == 'L')
				p++;
			return true;
		}
		for (std::string_view w : {"True", "False", "None"})
			if (t.substr(p, w.size()) == w) {
				p += w.size();
				out.k = w == "None" ? pyval::kind::none : pyval::kind::boolean;
				out.n = w == "True";
				return true;
			}
		return fail("unexpected character");
	}
};

// Item size of a .npy descr as numpy's descr_to_dtype builds it: a dtype
// string, or a record list of (name, descr[, shape]). 0 = not understood.
// Sets has_object if any field holds Python objects.
uint64_t descr_size(const pyval &d, bool &has_object, uint32_t depth = 0)
{
	if (depth > 16)
		return 0;
	if (d.k == pyval::kind::str) {
		numpy_dtype dt;
		if (!parse_numpy_dtype(d.s, dt))
			return 0;
		has_object = has_object || dt.object;
		return dt.itemsize;
	}
	if (d.k != pyval::kind::list)
		return 0;
	uint64_t total = 0;
	bool known = true;
	for (const pyval &field : d.items) {
		if (field.k != pyval::kind::tuple || field.items.size() < 2 || field.items.size() > 3) {
			known = false;
			continue;
		}
		uint64_t sz = descr_size(field.items[1], has_object, depth + 1);
		if (field.items.size() == 3) {
			if (field.items[2].k != pyval::kind::tuple)
				sz = 0;
			for (const pyval &dim : field.items[2].items)
				sz = (dim.k == pyval::kind::num && !dim.big && dim.n < (1ull << 32)) ? sz * dim.n : 0;
		}
		if (sz == 0)
			known = false;
		total += sz;
	}
	return known ? total : 0;
}

// ---- protobuf envelope -----------------------------------------------------

// Every field of a message; false when it is not well-formed protobuf.
bool pb_fields(bytes msg, std::vector<protobuf::field> &out, size_t max_fields)
{
	byte_reader r{msg};
	while (r.left()) {
		protobuf::field f;
		if (out.size() >= max_fields || !protobuf::next_field(r, f))
			return false;
		out.push_back(f);
	}
	return true;
}

} // namespace

// ---- npy ---------------------------------------------------------------------

bool parse_numpy_dtype(std::string_view s, numpy_dtype &out)
{
	out = {};
	static const std::map<std::string_view, uint64_t, std::less<>> names = {
		{"bool", 1},
		{"int8", 1},
		{"int16", 2},
		{"int32", 4},
		{"int64", 8},
		{"uint8", 1},
		{"uint16", 2},
		{"uint32", 4},
		{"uint64", 8},
		{"float16", 2},
		{"float32", 4},
		{"float64", 8},
		{"float128", 16},
		{"longdouble", 16},
		{"complex64", 8},
		{"complex128", 16},
		{"complex256", 32},
		{"double", 8},
		{"single", 4},
		{"half", 2},
		{"byte", 1},
		{"ubyte", 1},
		{"short", 2},
		{"ushort", 2},
		{"intc", 4},
		{"uintc", 4},
		{"int", 8},
		{"float", 8},
		{"complex", 16},
		{"longlong", 8},
		{"ulonglong", 8},
		{"intp", 8},
		{"uintp", 8},
		{"long", 8},
		{"datetime64", 8},
		{"timedelta64", 8},
		// single-character type codes (x86_64 sizes)
		{"?", 1},
		{"b", 1},
		{"B", 1},
		{"h", 2},
		{"H", 2},
		{"i", 4},
		{"I", 4},
		{"l", 8},
		{"L", 8},
		{"q", 8},
		{"Q", 8},
		{"p", 8},
		{"P", 8},
		{"e", 2},
		{"f", 4},
		{"d", 8},
		{"g", 16},
		{"F", 8},
		{"D", 16},
		{"G", 32},
		{"c", 1},
		{"M", 8},
		{"m", 8},
	};
	if (s == "object" || s == "O" || s == "|O" || s == "O8" || s == "|O8") {
		out.itemsize = 8;
		out.object = true;
		return true;
	}
	if (auto it = names.find(s); it != names.end()) {
		out.itemsize = it->second;
		return true;
	}
	if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '='))
		s.remove_prefix(1);
	if (s.size() < 2)
		return s.size() == 1 && s != "S" && s != "U" && s != "V" && s != "a" && s != "O" && names.count(s) &&
		       ((out.itemsize = names.find(s)->second), true);
	char kind = s[0];
	std::string_view rest = s.substr(1);
	if ((kind == 'M' || kind == 'm') && rest.starts_with("8")) {
		rest.remove_prefix(1);
		// an optional [unit]: the unit does not change the size
		if (rest.empty() || (rest.front() == '[' && rest.back() == ']' && rest.size() <= 12)) {
			out.itemsize = 8;
			return true;
		}
		return false;
	}
	uint64_t n = 0;
	for (char c : rest) {
		if (c < '0' || c > '9' || n > (1ull << 40))
			return false;
		n = n * 10 + uint64_t(c - '0');
	}
	if (rest.size() > 1 && rest[0] == '0')
		return false;
	switch (kind) {
	case 'b': out.itemsize = n == 1 ? 1 : 0; break;
	case 'i':
	case 'u': out.itemsize = (n == 1 || n == 2 || n == 4 || n == 8) ? n : 0; break;
	case 'f': out.itemsize = (n == 2 || n == 4 || n == 8 || n == 16) ? n : 0; break;
	case 'c': out.itemsize = (n == 8 || n == 16 || n == 32) ? n : 0; break;
	case 'S':
	case 'a':
	case 'V': out.itemsize = n, out.flexible = true; break;
	case 'U': out.itemsize = n * 4, out.flexible = true; break;
	default: return false;
	}
	return out.itemsize != 0;
}

bool looks_like_npy(bytes d)
{
	return d.size() >= 6 && as_text(d.first(6)) == "\x93NUMPY";
}

result<npy_info> parse_npy(bytes d, const scan_limits &limits)
{
	npy_info info;
	byte_reader r{d};
	uint64_t major, minor, hlen;
	if (!r.skip(6) || !r.u8(major) || !r.u8(minor))
		return status::fail("npy file is truncated in its preamble");
	if (major < 1 || major > 3)
		return status::fail("npy format version " + std::to_string(major) + "." + std::to_string(minor) +
				    " is not supported");
	if (!(major == 1 ? r.u16(hlen) : r.u32(hlen)) || hlen > limits.max_header_bytes)
		return status::fail("npy header length is truncated or over the limit");
	bytes header;
	if (!r.take(hlen, header))
		return status::fail("npy header is truncated (" + std::to_string(hlen) + " bytes announced)");
	std::string_view text = as_text(header);
	while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\x20'))
		text.remove_suffix(1);
	pyval dict;
	if (status s = py_literal_parser(text).parse(dict); !s.ok())
		return s;
	if (dict.k != pyval::kind::dict)
		return status::fail("npy header is not a dict");
	const pyval *descr = nullptr, *shape = nullptr, *order = nullptr;
	for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
		const pyval &k = dict.items[i];
		if (k.k != pyval::kind::str)
			continue;
		if (k.s == "descr")
			descr = &dict.items[i + 1];
		else if (k.s == "shape")
			shape = &dict.items[i + 1];
		else if (k.s == "fortran_order")
			order = &dict.items[i + 1];
	}
	if (!descr || !shape || !order || shape->k != pyval::kind::tuple || order->k != pyval::kind::boolean)
		return status::fail("npy header lacks descr, fortran_order or a shape tuple");
	info.data_offset = r.pos;
	info.descr = descr->k == pyval::kind::str ? descr->s : "record";
	uint64_t total = descr_size(*descr, info.has_object);
	if (info.has_object)
		return info;
	if (total == 0) {
		return status::fail("npy descr " +
				    (descr->k == pyval::kind::str ? "'" + descr->s + "'" : std::string("(record)")) +
				    " is not a dtype this scanner knows (it cannot tell what numpy reads)");
	}
	for (const pyval &dim : shape->items) {
		if (dim.k != pyval::kind::num || dim.big)
			return status::fail("npy shape is not a tuple of sizes");
		if (dim.n && total > UINT64_MAX / dim.n)
			return status::fail("npy array size overflows");
		total *= dim.n;
	}
	if (total > r.left())
		return status::fail("npy array data is truncated: " + std::to_string(total) + " bytes expected, " +
				    std::to_string(r.left()) + " present");
	return info;
}

// ---- safetensors -------------------------------------------------------------

bool looks_like_safetensors(bytes d)
{
	if (d.size() < 10)
		return false;
	// '{' is no pickle opcode and no other magic: a length that does not
	// fit the file still means safetensors, just a broken one.
	uint64_t n = load_le(d.data(), 8);
	return n >= 2 && n < (1ull << 48) && d[8] == '{';
}

result<std::string> check_safetensors(bytes d, const scan_limits &limits)
{
	uint64_t n = load_le(d.data(), 8);
	if (n > d.size() - 8)
		return status::fail("safetensors header length " + std::to_string(n) + " exceeds the " +
				    std::to_string(d.size()) + "-byte file (truncated or corrupt)");
	if (n > limits.max_header_bytes)
		return status::fail("safetensors header of " + std::to_string(n) + " bytes is over the limit");
	json root;
	if (status s = json_parser(as_text(d.subspan(8, size_t(n))), limits.max_json_depth).parse(root); !s.ok())
		return s;
	if (root.k != json::kind::object)
		return status::fail("safetensors header is not a JSON object");
	uint64_t data_len = d.size() - 8 - n;
	struct span_info {
		uint64_t begin, end;
		const std::string *name;
	};
	std::vector<span_info> spans;
	std::vector<std::string_view> names;
	for (size_t m = 0; m < root.keys.size(); m++) {
		const std::string &name = root.keys[m];
		const json &info = root.elems[m];
		names.push_back(name);
		if (name == "__metadata__") {
			if (info.k != json::kind::object)
				return status::fail("safetensors __metadata__ is not an object");
			for (size_t i = 0; i < info.keys.size(); i++)
				if (info.elems[i].k != json::kind::string)
					return status::fail("safetensors __metadata__ value '" + info.keys[i] +
							    "' is not a string");
			continue;
		}
		const json *dtype = info.k == json::kind::object ? member(info, "dtype") : nullptr;
		const json *shape = info.k == json::kind::object ? member(info, "shape") : nullptr;
		const json *offs = info.k == json::kind::object ? member(info, "data_offsets") : nullptr;
		if (!dtype || !shape || !offs || dtype->k != json::kind::string || shape->k != json::kind::array ||
		    offs->k != json::kind::array || offs->elems.size() != 2 || !offs->elems[0].is_uint ||
		    !offs->elems[1].is_uint)
			return status::fail("safetensors tensor '" + name +
					    "' needs dtype, shape and data_offsets [begin, end]");
		int bits = safetensors_bits(dtype->s);
		if (!bits)
			return status::fail("safetensors tensor '" + name + "' has unknown dtype '" + dtype->s + "'");
		uint64_t numel = 1;
		for (const json &dim : shape->elems) {
			if (!dim.is_uint)
				return status::fail("safetensors tensor '" + name + "' shape is not a list of sizes");
			if (dim.u && numel > UINT64_MAX / 64 / dim.u)
				return status::fail("safetensors tensor '" + name + "' size overflows");
			numel *= dim.u;
		}
		uint64_t b = offs->elems[0].u, e = offs->elems[1].u;
		if (b > e || e > data_len) {
			return status::fail("safetensors tensor '" + name + "' data_offsets [" + std::to_string(b) +
					    ", " + std::to_string(e) + "] lie outside the " + std::to_string(data_len) +
					    "-byte data section");
		}
		if ((numel * uint64_t(bits)) % 8 || e - b != numel * uint64_t(bits) / 8) {
			return status::fail("safetensors tensor '" + name + "' holds " + std::to_string(e - b) +
					    " bytes but " + dtype->s + " x " + std::to_string(numel) +
					    " elements needs " + std::to_string(numel * uint64_t(bits) / 8));
		}
		spans.push_back({b, e, &name});
	}
	std::sort(names.begin(), names.end());
	if (std::adjacent_find(names.begin(), names.end()) != names.end())
		return status::fail("safetensors header names a tensor twice");
	// As the reference loader: tensors tile the data section, in order,
	// with no gap or overlap, and nothing after the last.
	std::sort(spans.begin(), spans.end(), [](const span_info &a, const span_info &b) {
		return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
	});
	uint64_t expect = 0;
	for (const span_info &s : spans) {
		if (s.begin != expect) {
			return status::fail("safetensors tensor '" + *s.name + "' starts at " +
					    std::to_string(s.begin) + " but the previous ends at " +
					    std::to_string(expect) + " (overlap or gap)");
		}
		expect = s.end;
	}
	if (expect != data_len)
		return status::fail("safetensors data section is " + std::to_string(data_len) +
				    " bytes but the tensors cover " + std::to_string(expect));
	return std::to_string(spans.size()) + " tensors";
}

// ---- GGUF ------------------------------------------------------------------------

bool looks_like_gguf(bytes d)
{
	return d.size() >= 4 && as_text(d.first(4)) == "GGUF";
}

namespace {

struct gguf_reader {
	byte_reader r;
	bool v1; // GGUF v1 used 32-bit lengths and counts
	bool count(uint64_t &n) { return v1 ? r.u32(n) : r.u64(n); }
	bool string(std::string *out)
	{
		uint64_t n;
		bytes b;
		if (!count(n) || !r.take(n, b))
			return false;
		if (out)
			*out = std::string(as_text(b));
		return true;
	}
	bool value(uint64_t type, int depth, uint64_t *num)
	{
		static const int sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
		if (type > 12)
			return false;
		if (type == 8)
			return string(nullptr);
		if (type == 9) {
			uint64_t et, n;
			if (depth > 2 || !r.u32(et) || !count(n) || et > 12)
				return false;
			// Every element takes at least one byte (a string at least its
			// length): a count beyond what is left is a lie.
			if (n > r.left())
				return false;
			if (et != 8 && et != 9)
				return r.skip(n * uint64_t(sizes[et]));
			for (uint64_t i = 0; i < n; i++)
				if (!value(et, depth + 1, nullptr))
					return false;
			return true;
		}
		uint64_t v;
		if (!r.le(unsigned(sizes[type]), v))
			return false;
		if (num)
			*num = v;
		return true;
	}
};

} // namespace

result<std::string> check_gguf(bytes d, const scan_limits &limits)
{
	gguf_reader g{byte_reader{d}, false};
	uint64_t version, tensors, kvs;
	g.r.skip(4);
	if (!g.r.u32(version) || version < 1 || version > 3)
		return status::fail("GGUF version is truncated or not 1-3");
	g.v1 = version == 1;
	if (!g.count(tensors) || !g.count(kvs))
		return status::fail("GGUF header is truncated");
	if (tensors > limits.max_archive_entries || kvs > limits.max_archive_entries)
		return status::fail("GGUF announces " + std::to_string(tensors) + " tensors and " +
				    std::to_string(kvs) + " metadata keys, over the limit");
	uint64_t alignment = 32;
	for (uint64_t i = 0; i < kvs; i++) {
		std::string key;
		uint64_t type, num = 0;
		if (!g.string(&key) || !g.r.u32(type) || !g.value(type, 0, &num))
			return status::fail("GGUF metadata entry " + std::to_string(i) + " is malformed or truncated");
		if (key == "general.alignment" && type == 4) {
			if (num == 0 || (num & (num - 1)))
				return status::fail("GGUF general.alignment is not a power of two");
			alignment = num;
		}
	}
	std::vector<uint64_t> offsets;
	for (uint64_t i = 0; i < tensors; i++) {
		uint64_t ndims, dim, type, offset;
		bool ok = g.string(nullptr) && g.r.u32(ndims) && ndims <= 8;
		for (uint64_t k = 0; ok && k < ndims; k++)
			ok = g.r.u64(dim);
		ok = ok && g.r.u32(type) && type < 256 && g.r.u64(offset);
		if (!ok)
			return status::fail("GGUF tensor info " + std::to_string(i) + " is malformed or truncated");
		offsets.push_back(offset);
	}
	uint64_t data_start = (g.r.pos + alignment - 1) / alignment * alignment;
	for (size_t i = 0; i < offsets.size(); i++)
		if (offsets[i] % alignment || data_start > d.size() || offsets[i] > d.size() - data_start)
			return status::fail("GGUF tensor " + std::to_string(i) + " data offset " +
					    std::to_string(offsets[i]) + " is misaligned or past the end");
	return "GGUF v" + std::to_string(version) + ", " + std::to_string(tensors) + " tensors, " +
	       std::to_string(kvs) + " metadata keys";
}

// ---- ONNX --------------------------------------------------------------------

bool is_onnx(bytes d, std::string &detail)
{
	if (d.empty() || d[0] != 0x08) // ModelProto starts with ir_version (field 1, varint)
		return false;
	std::vector<protobuf::field> fields;
	if (!pb_fields(d, fields, 1u << 16))
		return false;
	static const uint64_t model_fields[] = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26};
	uint64_t ir = 0;
	const protobuf::field *graph = nullptr;
	for (const protobuf::field &f : fields) {
		if (std::find(std::begin(model_fields), std::end(model_fields), f.number) == std::end(model_fields))
			return false;
		if (f.number == 1 && f.wire == 0)
			ir = f.num;
		if (f.number == 7 && f.wire == 2)
			graph = &f;
		if ((f.number == 7 || f.number == 8 || f.number == 2) && f.wire != 2)
			return false;
	}
	if (ir == 0 || ir > 100 || !graph)
		return false;
	std::vector<protobuf::field> gf;
	if (!pb_fields(graph->body, gf, 1u << 22))
		return false;
	size_t nodes = 0;
	for (const protobuf::field &f : gf) {
		if (f.number > 16)
			return false;
		nodes += f.number == 1;
	}
	detail = "ONNX IR version " + std::to_string(ir) + ", " + std::to_string(nodes) + " graph nodes";
	return true;
}

} // namespace ltrack::scanner
