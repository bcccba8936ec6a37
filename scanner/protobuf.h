// The protobuf wire format, as far as the scanner reads it: ONNX graphs
// (data_formats.cpp) and SentencePiece models (text_formats.cpp) are both
// protobuf messages; their loaders parse them with libprotobuf, which
// refuses what next_field refuses here.
#pragma once

#include "byte_reader.h"

namespace ltrack::scanner::protobuf {

// A base-128 varint of at most 10 bytes.
inline bool varint(byte_reader &r, uint64_t &v)
{
	v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint64_t b;
		if (!r.u8(b))
			return false;
		v |= (b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

struct field {
	uint64_t number = 0;
	unsigned wire = 0;
	uint64_t num = 0; // varint value, or a length-delimited body's length
	bytes body;       // length-delimited body
};

// The next field of a message; false when it is not well-formed: field
// number 0 or past 2^29-1, a truncated value, or a group (wire types 3 and
// 4, in neither schema).
inline bool next_field(byte_reader &r, field &f)
{
	uint64_t tag;
	if (!varint(r, tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
		return false;
	f = {tag >> 3, unsigned(tag & 7), 0, {}};
	switch (f.wire) {
	case 0: return varint(r, f.num);
	case 1: return r.skip(8);
	case 2: return varint(r, f.num) && r.take(f.num, f.body);
	case 5: return r.skip(4);
	default: return false;
	}
}

} // namespace ltrack::scanner::protobuf
