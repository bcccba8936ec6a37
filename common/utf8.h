// UTF-8 encoding of a code point, for the decoders that turn escapes into
// text (pickle's raw-unicode-escape strings, JSON's \u escapes in the
// scanner's data formats and in json_unescape).
#pragma once

#include <cstdint>
#include <string>

namespace ltrack {

inline void append_utf8(std::string &out, uint32_t cp)
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
		out += char(0xf0 | ((cp >> 18) & 0x07));
		out += char(0x80 | ((cp >> 12) & 0x3f));
		out += char(0x80 | ((cp >> 6) & 0x3f));
		out += char(0x80 | (cp & 0x3f));
	}
}

} // namespace ltrack
