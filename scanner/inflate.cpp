#include "inflate.h"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

namespace ltrack::scanner {

bool looks_compressed(bytes d)
{
	if (d.size() >= 10 && d[0] == 0x1f && d[1] == 0x8b && d[2] == 8)
		return true;
	// zlib: deflate method, 32K window max, header checksum, no preset dictionary.
	return d.size() >= 2 && (d[0] & 0x0f) == 8 && (d[0] >> 4) <= 7 && ((d[0] << 8) | d[1]) % 31 == 0 && !(d[1] & 0x20);
}

bool inflate_bounded(bytes in, stream_kind kind, uint64_t &budget, std::vector<unsigned char> &out, std::string &error,
                     size_t *consumed)
{
	z_stream zs{};
	int wbits = kind == stream_kind::raw_deflate ? -15 : kind == stream_kind::zlib ? 15 : kind == stream_kind::gzip ? 31 : 47;
	if (inflateInit2(&zs, wbits) != Z_OK) {
		error = "zlib could not be initialised";
		return false;
	}
	out.clear();
	const size_t chunk = 1 << 16;
	size_t in_pos = 0;
	int rc = Z_OK;
	while (rc != Z_STREAM_END) {
		if (zs.avail_in == 0) {
			if (in_pos == in.size()) {
				error = "compressed data is truncated";
				break;
			}
			// avail_in is 32-bit: feed very large inputs in slices.
			size_t n = std::min<size_t>(in.size() - in_pos, 1u << 30);
			zs.next_in = const_cast<Bytef *>(in.data() + in_pos);
			zs.avail_in = uInt(n);
			in_pos += n;
		}
		if (out.size() >= budget) {
			error = "decompressed size exceeds the limit (" + std::to_string(budget) + " bytes left)";
			break;
		}
		size_t grow = std::min<uint64_t>(chunk, budget - out.size());
		size_t old = out.size();
		out.resize(old + grow);
		zs.next_out = out.data() + old;
		zs.avail_out = uInt(grow);
		rc = inflate(&zs, Z_NO_FLUSH);
		out.resize(old + grow - zs.avail_out);
		if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_in == 0)) {
			error = std::string("corrupt compressed data: ") + (zs.msg ? zs.msg : "inflate failed");
			break;
		}
	}
	if (consumed)
		*consumed = in_pos - zs.avail_in;
	inflateEnd(&zs);
	budget -= std::min<uint64_t>(budget, out.size());
	return rc == Z_STREAM_END;
}

namespace {

// One streaming loop for libbz2 and liblzma: feed input in slices, grow
// the output in chunks up to the budget. `step` returns 1 at the end of
// the stream, 0 to go on, -1 on corrupt data.
template <class Step>
bool drain(bytes in, uint64_t &budget, std::vector<unsigned char> &out, std::string &error, size_t *consumed, Step step)
{
	out.clear();
	size_t in_pos = 0, in_left = 0;
	const size_t chunk = 1 << 16;
	int rc = 0;
	while (rc == 0) {
		if (in_left == 0 && in_pos < in.size()) {
			in_left = std::min<size_t>(in.size() - in_pos, 1u << 30);
			in_pos += in_left;
		}
		if (out.size() >= budget) {
			error = "decompressed size exceeds the limit (" + std::to_string(budget) + " bytes left)";
			break;
		}
		size_t grow = std::min<uint64_t>(chunk, budget - out.size());
		size_t old = out.size();
		out.resize(old + grow);
		size_t out_left = grow;
		size_t before = in_left;
		rc = step(in.data() + in_pos - in_left, in_left, out.data() + old, out_left);
		out.resize(old + grow - out_left);
		if (rc < 0)
			error = "corrupt compressed data";
		else if (rc == 0 && in_left == 0 && in_pos == in.size() && out_left == grow && before == 0) {
			error = "compressed data is truncated";
			rc = -1;
		}
	}
	if (consumed)
		*consumed = in_pos - in_left;
	budget -= std::min<uint64_t>(budget, out.size());
	return rc == 1;
}

} // namespace

bool bunzip_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, std::string &error, size_t *consumed)
{
	bz_stream bz{};
	if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) {
		error = "libbz2 could not be initialised";
		return false;
	}
	bool ok = drain(in, budget, out, error, consumed, [&](const unsigned char *src, size_t &src_left, unsigned char *dst, size_t &dst_left) {
		bz.next_in = const_cast<char *>(reinterpret_cast<const char *>(src));
		bz.avail_in = unsigned(src_left);
		bz.next_out = reinterpret_cast<char *>(dst);
		bz.avail_out = unsigned(dst_left);
		int rc = BZ2_bzDecompress(&bz);
		src_left = bz.avail_in;
		dst_left = bz.avail_out;
		return rc == BZ_STREAM_END ? 1 : rc == BZ_OK ? 0 : -1;
	});
	BZ2_bzDecompressEnd(&bz);
	return ok;
}

bool unxz_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, std::string &error, size_t *consumed)
{
	lzma_stream xz = LZMA_STREAM_INIT;
	if (lzma_auto_decoder(&xz, UINT64_MAX, 0) != LZMA_OK) {
		error = "liblzma could not be initialised";
		return false;
	}
	bool ok = drain(in, budget, out, error, consumed, [&](const unsigned char *src, size_t &src_left, unsigned char *dst, size_t &dst_left) {
		xz.next_in = src;
		xz.avail_in = src_left;
		xz.next_out = dst;
		xz.avail_out = dst_left;
		lzma_ret rc = lzma_code(&xz, src_left ? LZMA_RUN : LZMA_FINISH);
		src_left = xz.avail_in;
		dst_left = xz.avail_out;
		return rc == LZMA_STREAM_END ? 1 : (rc == LZMA_OK || (rc == LZMA_BUF_ERROR && dst_left == 0)) ? 0 : -1;
	});
	lzma_end(&xz);
	return ok;
}

} // namespace ltrack::scanner
