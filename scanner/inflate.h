// Bounded decompression (zlib, bz2, xz/lzma): a bomb is an error, not an OOM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"

namespace ltrack::scanner {

enum class stream_kind {
	raw_deflate, // zip method 8
	zlib_or_gzip, // header auto-detected
	zlib,         // RFC 1950 only (joblib's "zlib", zlib.decompress)
	gzip,         // RFC 1952 only (joblib's "gzip")
};

// Inflates `in` into `out`. `budget` is what may still be produced in this
// scan; it is reduced by what was produced. False with `error` set when the
// stream is corrupt, truncated, or would exceed the budget.
// `consumed`, when given, receives the input bytes the stream used.
bool inflate_bounded(bytes in, stream_kind kind, uint64_t &budget, std::vector<unsigned char> &out, std::string &error,
                     size_t *consumed = nullptr);

// bz2 (BZ2File) and xz/lzma-alone (LZMAFile's FORMAT_AUTO), joblib's other
// compressors: one stream, bounded and reporting the input it used, as above.
bool bunzip_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, std::string &error, size_t *consumed = nullptr);
bool unxz_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, std::string &error, size_t *consumed = nullptr);

} // namespace ltrack::scanner
