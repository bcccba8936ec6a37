// Bounds-checked cursor over an untrusted buffer: every read says whether
// the bytes were there, so parsers never index past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace ltrack::scanner {

using bytes = std::span<const unsigned char>;

inline uint64_t load_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= uint64_t(p[i]) << (8 * i);
	return v;
}

struct byte_reader {
	bytes data;
	size_t pos = 0;

	size_t left() const { return data.size() - pos; }
	bool have(uint64_t n) const { return n <= left(); }
	bool skip(uint64_t n)
	{
		if (!have(n))
			return false;
		pos += size_t(n);
		return true;
	}
	bool le(unsigned n, uint64_t &out)
	{
		if (!have(n))
			return false;
		out = load_le(data.data() + pos, n);
		pos += n;
		return true;
	}
	bool u8(uint64_t &out) { return le(1, out); }
	bool u16(uint64_t &out) { return le(2, out); }
	bool u32(uint64_t &out) { return le(4, out); }
	bool u64(uint64_t &out) { return le(8, out); }
	bool take(uint64_t n, bytes &out)
	{
		if (!have(n))
			return false;
		out = data.subspan(pos, size_t(n));
		pos += size_t(n);
		return true;
	}
};

inline std::string_view as_text(bytes b)
{
	return {reinterpret_cast<const char *>(b.data()), b.size()};
}

} // namespace ltrack::scanner
