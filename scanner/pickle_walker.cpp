#include "pickle_walker.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>

#include "data_formats.h"
#include "import_lists.h"
#include "utf8.h"

namespace ltrack::scanner {
namespace {

constexpr uint32_t none_ref = UINT32_MAX;
// Only small values matter (module/name strings, dtype codes, shapes):
// longer strings and containers are kept truncated and marked "cut".
constexpr size_t max_text = 512;
constexpr size_t max_items = 64;
constexpr size_t max_retained = 1u << 22; // container items kept per pickle

// other: unknown (a float, a REDUCE result, a persistent id: may be anything)
enum class vk : uint8_t { other, none, boolean, integer, str, bytes, global, object, tuple, list, dict, set };

struct value {
	vk k = vk::other;
	bool cut = false;
	int64_t num = 0;         // integer (when text is null), boolean
	uint32_t ref = none_ref; // global: import index; containers/objects: node index
	// str/bytes: the text; integer: set for values beyond 64 bits, holding
	// the minimal little-endian two's complement bytes.
	// Shared so DUP, memo GET and container copies cost no string memory:
	// a hostile pickle can copy one value millions of times cheaply.
	std::shared_ptr<const std::string> text;
	std::string_view str() const { return text ? std::string_view(*text) : std::string_view(); }
};

// Containers live in an arena and values refer to them by index, so
// mutation through a memo alias is seen everywhere (as in Python) and
// self-referencing structures cannot leak.
struct node {
	uint32_t cls = none_ref;  // object: import index of its class/callable
	std::vector<value> items; // tuple/list/set items, dict k,v pairs, object args
	std::vector<value> state; // object: BUILD state (0 or 1)
	bool cut = false;
	bool newobj = false; // object made by NEWOBJ(_EX): cls.__new__, no __init__
	uint32_t builds = 0; // BUILDs applied to this object
};

enum op : unsigned char {
	MARK = '(',
	STOP = '.',
	POP = '0',
	POP_MARK = '1',
	DUP = '2',
	FLOAT = 'F',
	INT = 'I',
	BININT = 'J',
	BININT1 = 'K',
	LONG = 'L',
	BININT2 = 'M',
	NONE = 'N',
	PERSID = 'P',
	BINPERSID = 'Q',
	REDUCE = 'R',
	STRING = 'S',
	BINSTRING = 'T',
	SHORT_BINSTRING = 'U',
	UNICODE = 'V',
	BINUNICODE = 'X',
	APPEND = 'a',
	BUILD = 'b',
	GLOBAL = 'c',
	DICT = 'd',
	EMPTY_DICT = '}',
	APPENDS = 'e',
	GET = 'g',
	BINGET = 'h',
	INST = 'i',
	LONG_BINGET = 'j',
	LIST = 'l',
	EMPTY_LIST = ']',
	OBJ = 'o',
	PUT = 'p',
	BINPUT = 'q',
	LONG_BINPUT = 'r',
	SETITEM = 's',
	TUPLE = 't',
	EMPTY_TUPLE = ')',
	SETITEMS = 'u',
	BINFLOAT = 'G',
	PROTO = 0x80,
	NEWOBJ = 0x81,
	EXT1 = 0x82,
	EXT2 = 0x83,
	EXT4 = 0x84,
	TUPLE1 = 0x85,
	TUPLE2 = 0x86,
	TUPLE3 = 0x87,
	NEWTRUE = 0x88,
	NEWFALSE = 0x89,
	LONG1 = 0x8a,
	LONG4 = 0x8b,
	BINBYTES = 'B',
	SHORT_BINBYTES = 'C',
	SHORT_BINUNICODE = 0x8c,
	BINUNICODE8 = 0x8d,
	BINBYTES8 = 0x8e,
	EMPTY_SET = 0x8f,
	ADDITEMS = 0x90,
	FROZENSET = 0x91,
	NEWOBJ_EX = 0x92,
	STACK_GLOBAL = 0x93,
	MEMOIZE = 0x94,
	FRAME = 0x95,
	BYTEARRAY8 = 0x96,
	NEXT_BUFFER = 0x97,
	READONLY_BUFFER = 0x98,
};

struct failure {
	bool truncated;
	std::string what;
	bool uncertain = false;
};

// Minimal little-endian two's complement bytes of a signed integer given
// as little-endian bytes (LONG1/LONG4 may carry redundant sign bytes).
std::string minimal_le(std::string b)
{
	while (b.size() > 1) {
		unsigned char last = (unsigned char)b.back(), prev = (unsigned char)b[b.size() - 2];
		if ((last == 0 && !(prev & 0x80)) || (last == 0xff && (prev & 0x80)))
			b.pop_back();
		else
			break;
	}
	return b;
}

// Decimal text (as int() reads INT/LONG lines) to minimal little-endian
// bytes; false when it is not a plain decimal integer.
bool decimal_to_le(std::string_view s, std::string &out)
{
	bool neg = false;
	if (!s.empty() && (s[0] == '-' || s[0] == '+'))
		neg = s[0] == '-', s.remove_prefix(1);
	if (s.empty() || s.size() > 400)
		return false;
	std::vector<uint8_t> mag{0};
	for (char c : s) {
		if (c < '0' || c > '9')
			return false;
		unsigned carry = unsigned(c - '0');
		for (uint8_t &b : mag) {
			unsigned v = b * 10u + carry;
			b = uint8_t(v);
			carry = v >> 8;
		}
		if (carry)
			mag.push_back(uint8_t(carry));
	}
	mag.push_back(0); // room for the sign bit
	if (neg) {        // two's complement
		unsigned carry = 1;
		for (uint8_t &b : mag) {
			unsigned v = uint8_t(~b) + carry;
			b = uint8_t(v);
			carry = v >> 8;
		}
	}
	out = minimal_le(std::string(mag.begin(), mag.end()));
	return true;
}

// No NUL and well-formed UTF-8.
bool importable(std::string_view s)
{
	for (size_t i = 0; i < s.size();) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (c == 0 || n == 0 || (n > 1 && c < 0xc2) || i + n > s.size())
			return false;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)s[i + k] >> 6) != 2)
				return false;
		i += n;
	}
	return true;
}

bool is_wrapper_class(const import_ref &i)
{
	return i.name == "NumpyArrayWrapper" &&
	       (i.module == "joblib.numpy_pickle" || i.module == "sklearn.externals.joblib.numpy_pickle");
}

int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// Python's escape_decode for STRING: an attacker can spell "os" as 'o\x73'.
std::string unescape_string(std::string_view s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] != '\\' || i + 1 == s.size()) {
			out += s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case 'n': out += '\n'; break;
		case 't': out += '\t'; break;
		case 'r': out += '\r'; break;
		case 'a': out += '\a'; break;
		case 'b': out += '\b'; break;
		case 'f': out += '\f'; break;
		case 'v': out += '\v'; break;
		case '\n': break;
		case 'x':
			if (i + 2 < s.size() + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
				out += char(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
				i += 2;
			} else {
				out += "\\x";
			}
			break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';
				for (int n = 0; n < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; n++)
					v = v * 8 + (s[++i] - '0');
				out += char(v & 0xff);
			} else {
				out += c; // \\ \' \" and unknown escapes keep the char
				if (c != '\\' && c != '\'' && c != '"')
					out.insert(out.size() - 1, 1, '\\');
			}
		}
	}
	return out;
}

// raw-unicode-escape for UNICODE: only \uXXXX and \UXXXXXXXX are escapes.
std::string unescape_raw_unicode(std::string_view s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		size_t n = 0;
		if (s[i] == '\\' && i + 1 < s.size())
			n = s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0;
		uint32_t cp = 0;
		bool ok = n && i + 2 + n <= s.size();
		for (size_t j = 0; ok && j < n; j++) {
			int h = hexval(s[i + 2 + j]);
			ok = h >= 0;
			cp = cp * 16 + uint32_t(h);
		}
		if (ok && cp <= 0x10ffff) {
			append_utf8(out, cp);
			i += 1 + n;
		} else {
			out += s[i];
		}
	}
	return out;
}

bool parse_int(std::string_view s, int64_t &out)
{
	while (!s.empty() && (s.back() == 'L' || s.back() == '\r' || s.back() == ' '))
		s.remove_suffix(1);
	if (!s.empty() && s.front() == '+')
		s.remove_prefix(1);
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	return ec == std::errc() && p == s.data() + s.size();
}

class walker {
public:
	walker(bytes data, size_t start, pickle_context &ctx, const walk_options &opt)
	    : r{data, start}, ctx(ctx), opt(opt)
	{
	}

	pickle_outcome run()
	{
		pickle_outcome out;
		loop(out);
		out.protocol = protocol;
		out.ops = ops;
		out.joblib_arrays_read = arrays_read;
		if (err) {
			out.truncated = err->truncated;
			out.uncertain = err->uncertain;
			out.error = "offset " + std::to_string(op_pos) + ": " + err->what;
		} else {
			out.ok = true;
			out.end = r.pos;
		}
		return out;
	}

private:
	byte_reader r; // r.pos: where the unpickler reads its next byte
	pickle_context &ctx;
	const walk_options &opt;
	// pickle._Unpickler's frame: [r.pos, frame_end) is left in the frame
	// buffer while the file itself stands at file_pos.
	bool in_frame = false;
	size_t frame_end = 0, file_pos = 0;
	bool arrays_read = false;
	std::vector<value> stack;
	std::vector<size_t> marks; // stack heights at each MARK
	std::unordered_map<uint64_t, value> memo;
	std::vector<node> nodes;
	std::optional<failure> err; // first failure; later ones are consequences
	value scratch;              // what top() hands out after a failure
	size_t retained = 0;        // container items kept so far
	int protocol = 0;
	uint64_t ops = 0;
	size_t op_pos = 0;

	// The first failure is kept and ends the walk at the next opcode; until
	// then helpers return harmless placeholders, so no case reads past them.
	void fail(std::string what)
	{
		if (!err)
			err = failure{false, std::move(what)};
	}
	// A failure the real unpickler need not share: a scanner limit or a
	// value the walker cannot resolve. Nothing can be said past it.
	void unsure(std::string what)
	{
		if (!err)
			err = failure{false, std::move(what), true};
	}
	void eof(const char *what)
	{
		if (!err)
			err = failure{true, std::string("truncated: ") + what};
	}

	// pickle._Unframer: a read that finds the frame empty leaves it and
	// reads the file; one the frame cannot fully serve is an error.
	bool frame_serves(uint64_t n)
	{
		if (!in_frame)
			return true;
		size_t left = frame_end - r.pos;
		if (left == 0 && n != 0) {
			in_frame = false;
			r.pos = file_pos;
			return true;
		}
		if (left < n) {
			fail("pickle exhausted before end of frame");
			return false;
		}
		return true;
	}
	bytes take(uint64_t n, const char *what)
	{
		bytes b;
		if (err || !frame_serves(n) || !r.take(n, b))
			eof(what);
		return b;
	}
	uint64_t le(unsigned n, const char *what)
	{
		uint64_t v = 0;
		if (err || !frame_serves(n) || !r.le(n, v))
			eof(what);
		return v;
	}
	std::string_view line(const char *what)
	{
		if (err || !frame_serves(1))
			return {};
		bytes rest = r.data.subspan(r.pos, (in_frame ? frame_end : r.data.size()) - r.pos);
		const void *nl = rest.empty() ? nullptr : memchr(rest.data(), '\n', rest.size());
		if (!nl) {
			if (in_frame) {
				fail("pickle exhausted before end of frame");
			} else if (opt.python_unpickler) {
				// pickle._Unpickler: file.readline() returns the unterminated
				// rest at the end, and [:-1] drops its last byte whatever it
				// is ("cposix\ns" at EOF imports posix, name "").
				r.pos += rest.size();
				return as_text(rest.first(rest.empty() ? 0 : rest.size() - 1));
			} else {
				eof(what);
			}
			return {};
		}
		size_t n = size_t(static_cast<const unsigned char *>(nl) - rest.data());
		r.pos += n + 1;
		return as_text(rest.first(n));
	}
	// FRAME: the C unpickler only checks the frame is there and reads on;
	// pickle._Unpickler reads it whole into a buffer.
	void frame(uint64_t n)
	{
		if (err)
			return;
		if (!opt.python_unpickler) {
			if (n > r.left())
				eof("FRAME is longer than the data");
			return;
		}
		if (in_frame && r.pos != frame_end)
			return fail("beginning of a new frame before end of current frame");
		if (n > uint64_t(INT64_MAX))
			return fail("frame size > sys.maxsize");
		size_t start = in_frame ? file_pos : r.pos;
		r.pos = start;
		frame_end = start + size_t(std::min<uint64_t>(n, r.data.size() - start));
		file_pos = frame_end;
		in_frame = true;
	}
	// Out-of-band reads (joblib's array bytes) come from the file itself.
	size_t &file_cursor() { return in_frame ? file_pos : r.pos; }

	uint32_t new_node(uint32_t cls = none_ref)
	{
		if (nodes.size() >= uint64_t(ctx.limits.max_pickle_stack) + ctx.limits.max_pickle_memo) {
			unsure("too many objects");
			return none_ref;
		}
		nodes.push_back(node{cls, {}, {}, false, false, 0});
		return uint32_t(nodes.size() - 1);
	}
	void add_item(uint32_t n, value v)
	{
		if (n == none_ref)
			return;
		node &nd = nodes[n];
		// Past the per-container and per-pickle caps items are dropped, not
		// an error: only small structures (dtype, shape, records) are read.
		if (nd.items.size() < max_items && retained < max_retained) {
			nd.items.push_back(std::move(v));
			retained++;
		} else {
			nd.cut = true;
		}
	}
	value container(vk k, std::vector<value> items)
	{
		value v;
		v.k = k;
		v.ref = new_node();
		for (auto &i : items)
			add_item(v.ref, std::move(i));
		return v;
	}
	value text_value(vk k, std::string s)
	{
		value v;
		v.k = k;
		if (s.size() > max_text) {
			s.resize(max_text);
			v.cut = true;
		}
		v.text = std::make_shared<const std::string>(std::move(s));
		return v;
	}
	value int_value(int64_t n)
	{
		value v;
		v.k = vk::integer;
		v.num = n;
		return v;
	}
	// INT/LONG text; a value int() may read differently stays unknown.
	value int_text(std::string_view s)
	{
		int64_t n = 0;
		if (parse_int(s, n))
			return int_value(n);
		while (!s.empty() && (s.back() == 'L' || s.back() == '\r' || s.back() == ' '))
			s.remove_suffix(1);
		value v;
		std::string le;
		if (decimal_to_le(s, le)) {
			v.k = vk::integer;
			v.text = std::make_shared<const std::string>(std::move(le));
		}
		return v;
	}

	void push(value v)
	{
		if (err)
			return;
		if (stack.size() >= ctx.limits.max_pickle_stack)
			return unsure("stack exceeds the limit of " + std::to_string(ctx.limits.max_pickle_stack) +
				      " values");
		stack.push_back(std::move(v));
	}
	size_t base() const { return marks.empty() ? 0 : marks.back(); }
	value pop()
	{
		if (err || stack.size() <= base()) {
			fail("stack underflow");
			return {};
		}
		value v = std::move(stack.back());
		stack.pop_back();
		return v;
	}
	value &top()
	{
		if (err || stack.size() <= base()) {
			fail("stack underflow");
			scratch = value{};
			return scratch;
		}
		return stack.back();
	}
	std::vector<value> pop_mark()
	{
		if (err || marks.empty()) {
			fail("no MARK to pop to");
			return {};
		}
		size_t b = marks.back();
		marks.pop_back();
		std::vector<value> items(std::make_move_iterator(stack.begin() + ptrdiff_t(b)),
					 std::make_move_iterator(stack.end()));
		stack.resize(b);
		return items;
	}
	void memo_put(uint64_t key)
	{
		value v = top();
		if (err)
			return;
		if (memo.size() >= ctx.limits.max_pickle_memo && !memo.count(key))
			return unsure("memo exceeds the limit of " + std::to_string(ctx.limits.max_pickle_memo) +
				      " entries");
		memo[key] = std::move(v);
	}
	void memo_get(uint64_t key)
	{
		auto it = memo.find(key);
		if (it != memo.end())
			return push(it->second);
		fail("memo key " + std::to_string(key) + " is not defined");
	}
	value global(std::string_view module, std::string_view name)
	{
		if (err)
			return {};
		// The unpickler decodes both as UTF-8 and imports: a NUL or bytes
		// that are not UTF-8 fail there (binary data read as a GLOBAL line).
		if (!importable(module) || !importable(name)) {
			fail("import of a name no module can have (the loader raises)");
			return {};
		}
		if (module.size() > max_text || name.size() > max_text) {
			unsure("import name longer than " + std::to_string(max_text) + " bytes");
			return {};
		}
		value v;
		v.k = vk::global;
		// CPython's find_class maps Python 2 names below protocol 3
		// (fix_imports, every loader's default): classify what it resolves.
		v.ref = record_import(ctx, module, name, protocol < 3);
		return v;
	}
	value object_of(const value &callable, std::vector<value> args, bool newobj = false)
	{
		value v;
		v.k = vk::object;
		v.ref = new_node(callable.k == vk::global ? callable.ref : none_ref);
		if (v.ref != none_ref)
			nodes[v.ref].newobj = newobj;
		for (auto &a : args)
			add_item(v.ref, std::move(a));
		return v;
	}
	std::vector<value> items_of(const value &v)
	{
		if (v.ref == none_ref || v.k == vk::global || v.k == vk::other)
			return {};
		return nodes[v.ref].items;
	}
	// As Python's dict: of duplicate keys the last one wins.
	const value *dict_get(uint32_t n, std::string_view key)
	{
		const auto &it = nodes[n].items;
		const value *found = nullptr;
		for (size_t i = 0; i + 1 < it.size(); i += 2)
			if (it[i].k == vk::str && !it[i].cut && it[i].str() == key)
				found = &it[i + 1];
		return found;
	}
	bool is_global(const value &v, bool (*pred)(const import_ref &)) const
	{
		return v.k == vk::global && v.ref != none_ref && pred(ctx.imports[v.ref]);
	}

	// PUT/GET text keys go through int(): text with other characters than
	// int() accepts fails in the loader too; a form parse_int does not read
	// (underscores, inner spaces) is one the walker cannot follow.
	bool memo_key(std::string_view s, int64_t &k)
	{
		if (err)
			return false;
		if (s.find_first_not_of("0123456789+-_ \t\r\f\v") != std::string_view::npos)
			return fail("memo key is not a number (the loader raises)"), false;
		if (!parse_int(s, k) || k < 0)
			return unsure("memo key is not a number the scanner reads as Python does"), false;
		return true;
	}

	void loop(pickle_outcome &out);
	void build(value state);
	void joblib_array(uint32_t wrapper);
	bool joblib_dtype(const value &dtype, numpy_dtype &dt);
};

void walker::loop(pickle_outcome &out)
{
	for (;;) {
		if (err)
			return;
		if (++ctx.ops > ctx.limits.max_pickle_ops)
			return unsure("more than " + std::to_string(ctx.limits.max_pickle_ops) + " pickle opcodes");
		ops++;
		op_pos = r.pos;
		unsigned char c = static_cast<unsigned char>(le(1, "pickle ends without STOP"));
		switch (c) {
		case PROTO: {
			uint64_t p = le(1, "PROTO");
			if (p > 5)
				return fail("unsupported pickle protocol " + std::to_string(p));
			protocol = int(p);
			break;
		}
		case FRAME: frame(le(8, "FRAME length")); break;
		case STOP: {
			value v = pop();
			if (err)
				break;
			using k = pickle_outcome::value_kind;
			out.top = v.k == vk::integer                                             ? k::integer
				  : (v.k == vk::other || v.k == vk::object || v.k == vk::global) ? k::unknown
												 : k::other;
			if (v.k == vk::integer && v.text)
				out.top_long = *v.text;
			else
				out.top_int = v.num;
			if (v.k == vk::tuple && v.ref != none_ref)
				for (const value &item : nodes[v.ref].items)
					if (item.k == vk::global)
						out.top_globals.push_back(ctx.imports[item.ref].module + "." +
									  ctx.imports[item.ref].name);
			return;
		}
		case MARK:
			if (marks.size() >= ctx.limits.max_pickle_marks)
				return unsure("MARKs nested deeper than " +
					      std::to_string(ctx.limits.max_pickle_marks));
			marks.push_back(stack.size());
			break;
		case POP:
			if (stack.size() > base())
				stack.pop_back();
			else
				pop_mark();
			break;
		case POP_MARK: pop_mark(); break;
		case DUP: push(value(top())); break;
		case NONE: {
			value v;
			v.k = vk::none;
			push(v);
			break;
		}
		case NEWTRUE:
		case NEWFALSE: {
			value v;
			v.k = vk::boolean;
			v.num = c == NEWTRUE;
			push(v);
			break;
		}
		case INT: {
			std::string_view s = line("INT");
			if (s == "01" || s == "00") {
				value v;
				v.k = vk::boolean;
				v.num = s == "01";
				push(v);
			} else {
				push(int_text(s));
			}
			break;
		}
		case LONG: push(int_text(line("LONG"))); break;
		case BININT: push(int_value(int32_t(uint32_t(le(4, "BININT"))))); break;
		case BININT1: push(int_value(int64_t(le(1, "BININT1")))); break;
		case BININT2: push(int_value(int64_t(le(2, "BININT2")))); break;
		case LONG1:
		case LONG4: {
			uint64_t n = le(c == LONG1 ? 1 : 4, "LONG length");
			if (c == LONG4 && n > INT32_MAX)
				return fail("negative LONG4 length");
			bytes b = take(n, "LONG data");
			if (err)
				break;
			value v;
			if (n <= 8) {
				uint64_t u = load_le(b.data(), unsigned(n));
				if (n && n < 8 && (b[n - 1] & 0x80))
					u |= ~0ull << (8 * n); // sign-extend
				v = int_value(int64_t(u));
			} else if (n <= 64) {
				std::string le = minimal_le(std::string(as_text(b)));
				if (le.size() <= 8) {
					uint64_t u = load_le(reinterpret_cast<const unsigned char *>(le.data()),
							     unsigned(le.size()));
					if (le.size() < 8 && (le.back() & 0x80))
						u |= ~0ull << (8 * le.size());
					v = int_value(int64_t(u));
				} else {
					v.k = vk::integer;
					v.text = std::make_shared<const std::string>(std::move(le));
				}
			}
			push(v);
			break;
		}
		case FLOAT:
			line("FLOAT");
			push(value{});
			break;
		case BINFLOAT:
			take(8, "BINFLOAT");
			push(value{});
			break;
		case STRING: {
			std::string_view s = line("STRING");
			while (!s.empty() && s.back() == '\r')
				s.remove_suffix(1);
			if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front())
				return fail("STRING is not quoted");
			push(text_value(vk::str, unescape_string(s.substr(1, s.size() - 2))));
			break;
		}
		case BINSTRING:
		case SHORT_BINSTRING:
		case BINUNICODE:
		case SHORT_BINUNICODE:
		case BINUNICODE8:
		case BINBYTES:
		case SHORT_BINBYTES:
		case BINBYTES8:
		case BYTEARRAY8: {
			unsigned w = (c == SHORT_BINSTRING || c == SHORT_BINUNICODE || c == SHORT_BINBYTES) ? 1
				     : (c == BINUNICODE8 || c == BINBYTES8 || c == BYTEARRAY8)              ? 8
													    : 4;
			uint64_t n = le(w, "string length");
			if (c == BINSTRING && n > INT32_MAX)
				return fail("negative BINSTRING length");
			bytes b = take(n, "string data");
			bool is_str = c == BINSTRING || c == SHORT_BINSTRING || c == BINUNICODE ||
				      c == SHORT_BINUNICODE || c == BINUNICODE8;
			push(text_value(is_str ? vk::str : vk::bytes,
					std::string(as_text(b.first(std::min<size_t>(b.size(), max_text + 1))))));
			break;
		}
		case UNICODE: push(text_value(vk::str, unescape_raw_unicode(line("UNICODE")))); break;
		case EMPTY_LIST: push(container(vk::list, {})); break;
		case EMPTY_DICT: push(container(vk::dict, {})); break;
		case EMPTY_SET: push(container(vk::set, {})); break;
		case EMPTY_TUPLE: push(container(vk::tuple, {})); break;
		case LIST: push(container(vk::list, pop_mark())); break;
		case DICT: {
			auto items = pop_mark();
			if (items.size() % 2)
				return fail("DICT with an odd number of items");
			push(container(vk::dict, std::move(items)));
			break;
		}
		case TUPLE: push(container(vk::tuple, pop_mark())); break;
		case FROZENSET: push(container(vk::set, pop_mark())); break;
		case TUPLE1:
		case TUPLE2:
		case TUPLE3: {
			size_t n = c - TUPLE1 + 1;
			std::vector<value> items(n);
			for (size_t i = n; i-- > 0;)
				items[i] = pop();
			push(container(vk::tuple, std::move(items)));
			break;
		}
		case APPEND: {
			value v = pop();
			value &t = top();
			if (t.ref != none_ref && t.k != vk::global)
				add_item(t.ref, std::move(v));
			break;
		}
		case APPENDS:
		case ADDITEMS: {
			auto items = pop_mark();
			value &t = top();
			if (t.ref != none_ref && t.k != vk::global)
				for (auto &i : items)
					add_item(t.ref, std::move(i));
			break;
		}
		case SETITEM: {
			value v = pop();
			value k = pop();
			value &t = top();
			if (t.ref != none_ref && t.k != vk::global) {
				add_item(t.ref, std::move(k));
				add_item(t.ref, std::move(v));
			}
			break;
		}
		case SETITEMS: {
			auto items = pop_mark();
			if (items.size() % 2)
				return fail("SETITEMS with an odd number of items");
			value &t = top();
			if (t.ref != none_ref && t.k != vk::global)
				for (auto &i : items)
					add_item(t.ref, std::move(i));
			break;
		}
		case GLOBAL: {
			std::string module(line("GLOBAL module"));
			std::string_view name = line("GLOBAL name");
			push(global(module, name));
			break;
		}
		case INST: {
			std::string module(line("INST module"));
			std::string_view name = line("INST name");
			value cls = global(module, name);
			push(object_of(cls, pop_mark()));
			break;
		}
		case STACK_GLOBAL: {
			value name = pop();
			value module = pop();
			if (err)
				break;
			// A value the walker did not follow (a call's result) may be a str.
			auto maybe_str = [](const value &v) {
				return v.k == vk::other || v.k == vk::object || v.k == vk::global;
			};
			if (maybe_str(module) || maybe_str(name))
				return unsure("STACK_GLOBAL of a value the scanner cannot resolve");
			if (module.k != vk::str || name.k != vk::str)
				return fail("STACK_GLOBAL needs two strings on the stack");
			if (module.cut || name.cut) {
				if (module.str().find('\0') != std::string_view::npos ||
				    name.str().find('\0') != std::string_view::npos)
					return fail("import of a name no module can have (the loader raises)");
				return unsure("import name longer than " + std::to_string(max_text) + " bytes");
			}
			push(global(module.str(), name.str()));
			break;
		}
		case EXT1:
		case EXT2:
		case EXT4: {
			// copyreg's extension registry maps codes to arbitrary callables.
			uint64_t code = le(c == EXT1 ? 1 : c == EXT2 ? 2 : 4, "EXT code");
			push(global("<copyreg extension>", std::to_string(code)));
			break;
		}
		case REDUCE: {
			value args = pop();
			value fn = pop();
			push(object_of(fn, items_of(args)));
			break;
		}
		case NEWOBJ: {
			value args = pop();
			value cls = pop();
			push(object_of(cls, items_of(args), true));
			break;
		}
		case NEWOBJ_EX: {
			pop();
			value args = pop();
			value cls = pop();
			push(object_of(cls, items_of(args), true));
			break;
		}
		case OBJ: {
			auto items = pop_mark();
			if (items.empty())
				return fail("OBJ without a class");
			value cls = items.front();
			items.erase(items.begin());
			push(object_of(cls, std::move(items)));
			break;
		}
		case BUILD: build(pop()); break;
		case PERSID:
			line("PERSID");
			if (!opt.persistent_load)
				return fail("PERSID without a persistent_load (the loader raises)");
			push(value{});
			break;
		case BINPERSID:
			pop();
			if (!opt.persistent_load)
				return fail("BINPERSID without a persistent_load (the loader raises)");
			push(value{});
			break;
		case PUT: {
			int64_t k = 0;
			if (!memo_key(line("PUT"), k))
				return;
			memo_put(uint64_t(k));
			break;
		}
		case BINPUT: memo_put(le(1, "BINPUT")); break;
		case LONG_BINPUT: memo_put(le(4, "LONG_BINPUT")); break;
		case MEMOIZE: memo_put(memo.size()); break;
		case GET: {
			int64_t k = 0;
			if (!memo_key(line("GET"), k))
				return;
			memo_get(uint64_t(k));
			break;
		}
		case BINGET: memo_get(le(1, "BINGET")); break;
		case LONG_BINGET: memo_get(le(4, "LONG_BINGET")); break;
		case NEXT_BUFFER: push(value{}); break;
		case READONLY_BUFFER: top(); break;
		default: {
			static const char hex[] = "0123456789abcdef";
			return fail(std::string("invalid opcode 0x") + hex[c >> 4] + hex[c & 15]);
		}
		}
	}
}

void walker::build(value state)
{
	value &t = top();
	if (err || t.k != vk::object || t.ref == none_ref)
		return;
	uint32_t n = t.ref;
	node &nd = nodes[n];
	nd.state.assign(1, std::move(state));
	nd.builds++;
	if (!opt.joblib_arrays)
		return;
	// joblib's NumpyUnpickler reads array bytes after the BUILD of any
	// NumpyArrayWrapper instance. Only the way joblib.dump writes one is
	// followed (NEWOBJ, then one BUILD of a state dict); an instance made any
	// other way would move the stream where the walker cannot follow.
	uint32_t cls = nd.cls;
	bool wrapper = cls != none_ref && is_wrapper_class(ctx.imports[cls]);
	bool maybe = false;
	for (const value &a : nd.items)
		maybe = maybe || is_global(a, is_wrapper_class);
	if (wrapper && nd.newobj && nd.builds == 1)
		return joblib_array(n);
	if (wrapper || maybe)
		unsure("joblib NumpyArrayWrapper made or built other than joblib.dump writes it");
}

// joblib writes each numpy array's bytes into the file right after the
// BUILD of its NumpyArrayWrapper (outside any frame); NumpyUnpickler reads
// them there: an optional padding length byte and padding, then
// count * itemsize bytes. Object arrays are a pickle.load of the file
// instead, which is walked with CPython's unpickler.
void walker::joblib_array(uint32_t wrapper)
{
	const node &w = nodes[wrapper];
	if (w.state.empty() || w.state[0].k != vk::dict || w.state[0].ref == none_ref || nodes[w.state[0].ref].cut)
		return unsure("joblib NumpyArrayWrapper state is not a small dict");
	uint32_t d = w.state[0].ref;
	const value *shape = dict_get(d, "shape");
	const value *dtype = dict_get(d, "dtype");
	if (!shape || (shape->k != vk::tuple && shape->k != vk::list) || shape->ref == none_ref || !dtype)
		return unsure("joblib NumpyArrayWrapper without a shape tuple and a dtype");
	numpy_dtype dt;
	if (!joblib_dtype(*dtype, dt))
		return;
	arrays_read = true;
	size_t &pos = file_cursor();
	if (dt.object) {
		if (ctx.nested >= ctx.limits.max_depth)
			return unsure("joblib object arrays nested too deeply");
		ctx.nested++;
		walk_options inner_opt; // pickle.load: the C unpickler, no persistent_load
		pickle_outcome inner = walk_pickle(r.data, pos, ctx, inner_opt);
		ctx.nested--;
		if (!inner.ok) {
			err = failure{inner.truncated, "in joblib object array: " + inner.error, inner.uncertain};
			return;
		}
		pos = inner.end;
		return;
	}
	uint64_t total = dt.itemsize;
	const node &sn = nodes[shape->ref];
	if (sn.cut)
		return unsure("joblib array has too many dimensions");
	for (const value &dim : sn.items) {
		if (dim.k != vk::integer || dim.text || dim.num < 0)
			return unsure("joblib array shape is not a tuple of sizes");
		if (dim.num && total > UINT64_MAX / uint64_t(dim.num))
			return unsure("joblib array size overflows");
		total *= uint64_t(dim.num);
	}
	const value *align = dict_get(d, "numpy_array_alignment_bytes");
	uint64_t skip = total;
	if (align && align->k != vk::none) {
		if (pos >= r.data.size())
			return eof("joblib array padding");
		uint64_t pad = r.data[pos];
		if (skip > UINT64_MAX - pad - 1)
			return unsure("joblib array size overflows");
		skip += pad + 1;
	}
	if (skip > r.data.size() - pos)
		return eof("joblib array data");
	pos += size_t(skip);
}

// The wrapper's dtype: numpy.dtype(spelling, ...) with an optional BUILD
// state of the version-3/4 tuple numpy writes for a plain (non-record) type.
bool walker::joblib_dtype(const value &dtype, numpy_dtype &dt)
{
	if (dtype.k != vk::object || dtype.ref == none_ref) {
		unsure("joblib array dtype is not a numpy.dtype");
		return false;
	}
	const node &dn = nodes[dtype.ref];
	if (dn.cls == none_ref || ctx.imports[dn.cls].module != "numpy" || ctx.imports[dn.cls].name != "dtype" ||
	    dn.newobj || dn.items.empty() || dn.items[0].k != vk::str || dn.items[0].cut || dn.builds > 1) {
		unsure("joblib array dtype is not a numpy.dtype of a string");
		return false;
	}
	std::string spelling(dn.items[0].str());
	if (!parse_numpy_dtype(spelling, dt)) {
		unsure("joblib array dtype '" + spelling + "' is not one the scanner knows");
		return false;
	}
	if (dn.state.empty())
		return true;
	// (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
	const value &st = dn.state[0];
	const std::vector<value> *f = st.k == vk::tuple && st.ref != none_ref ? &nodes[st.ref].items : nullptr;
	if (!f || (f->size() != 8 && f->size() != 9) || (*f)[2].k != vk::none || (*f)[3].k != vk::none ||
	    (*f)[4].k != vk::none || (*f)[5].k != vk::integer || (*f)[5].text || (*f)[7].k != vk::integer) {
		unsure("joblib array dtype '" + spelling +
		       "' has a state the scanner does not follow (record, subarray)");
		return false;
	}
	int64_t elsize = (*f)[5].num;
	bool obj_flag = (*f)[7].num & 1; // NPY_ITEM_REFCOUNT
	if ((elsize != -1 && uint64_t(elsize) != dt.itemsize) || obj_flag != dt.object) {
		unsure("joblib array dtype '" + spelling + "' state disagrees with its spelling");
		return false;
	}
	return true;
}

} // namespace

uint32_t record_import(pickle_context &ctx, std::string_view module, std::string_view name, bool py2_names)
{
	std::string key = ctx.where + '\0' + std::string(module) + '\0' + std::string(name) +
			  (py2_names ? "\0"
				       "2"
				     : "");
	auto [it, fresh] = ctx.import_index.emplace(std::move(key), uint32_t(ctx.imports.size()));
	if (!fresh)
		return it->second;
	import_ref ref;
	ref.module = std::string(module);
	ref.name = std::string(name);
	ref.kind = py2_names ? classify_import_py2(module, name) : classify_import(module, name);
	if (py2_names)
		if (auto mapped = python2_name(module, name))
			ref.loads_as = std::string(mapped->first) + "." + std::string(mapped->second);
	ref.where = ctx.where;
	ctx.imports.push_back(std::move(ref));
	return uint32_t(ctx.imports.size() - 1);
}

pickle_outcome walk_pickle(bytes data, size_t start, pickle_context &ctx, const walk_options &opt)
{
	walker w(data, start, ctx, opt);
	return w.run();
}

bool pickle_outcome::might_equal(std::string_view le) const
{
	return top == value_kind::unknown || (top == value_kind::integer && top_long == le);
}

} // namespace ltrack::scanner
