// Bounded decompression (zlib, bz2, xz/lzma): a bomb is an error, not an OOM.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "status.h"

namespace ltrack::scanner {

enum class stream_kind {
	raw_deflate,  // zip method 8
	zlib_or_gzip, // header auto-detected
	zlib,         // RFC 1950 only (joblib's "zlib", zlib.decompress)
	gzip,         // RFC 1952 only (joblib's "gzip")
};

// Inflates `in` into `out`. `budget` is what may still be produced in this
// scan; it is reduced by what was produced. Fails when the stream is corrupt
// or truncated (err EBADMSG), or would exceed the budget or the decoder's
// memory limit (err EFBIG, see is_limit); `out` keeps what came out before.
// `consumed`, when given, receives the input bytes the stream used.
status inflate_bounded(bytes in, stream_kind kind, uint64_t &budget, std::vector<unsigned char> &out,
		       size_t *consumed = nullptr);

// bz2 (BZ2File) and xz/lzma-alone (LZMAFile's FORMAT_AUTO), joblib's other
// compressors: one stream, bounded and reporting the input it used, as above.
status bunzip_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, size_t *consumed = nullptr);
status unxz_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, size_t *consumed = nullptr);

// The stream stopped at one of the scanner's limits, not at bad data: the
// loader, which has no such limit, would read on.
inline bool is_limit(const status &s)
{
	return s.err == EFBIG;
}

} // namespace ltrack::scanner
