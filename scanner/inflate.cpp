#include "inflate.h"

#include <cerrno>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

namespace ltrack::scanner {
namespace {

// One streaming loop for zlib, libbz2 and liblzma: feed input in slices, grow
// the output in chunks up to the budget. `step` returns 1 at the end of
// the stream, 0 to go on, -1 on corrupt data (after setting `why` when it
// knows more than that).
template <class Step>
status drain(bytes in, uint64_t &budget, std::vector<unsigned char> &out, status &why, size_t *consumed, Step step)
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
			why = status::fail("decompressed size exceeds the limit (" + std::to_string(budget) +
						   " bytes left)",
					   EFBIG);
			break;
		}
		size_t grow = std::min<uint64_t>(chunk, budget - out.size());
		size_t old = out.size();
		out.resize(old + grow);
		size_t out_left = grow;
		size_t before = in_left;
		rc = step(in.data() + in_pos - in_left, in_left, out.data() + old, out_left);
		out.resize(old + grow - out_left);
		if (rc < 0 && why.ok())
			why = status::fail("corrupt compressed data", EBADMSG);
		else if (rc == 0 && in_left == 0 && in_pos == in.size() && out_left == grow && before == 0) {
			why = status::fail("compressed data is truncated", EBADMSG);
			rc = -1;
		}
	}
	if (consumed)
		*consumed = in_pos - in_left;
	budget -= std::min<uint64_t>(budget, out.size());
	return rc == 1 ? status{} : why;
}

} // namespace

status inflate_bounded(bytes in, stream_kind kind, uint64_t &budget, std::vector<unsigned char> &out, size_t *consumed)
{
	z_stream zs{};
	int wbits = kind == stream_kind::raw_deflate ? -15
		    : kind == stream_kind::zlib      ? 15
		    : kind == stream_kind::gzip      ? 31
						     : 47;
	if (inflateInit2(&zs, wbits) != Z_OK) {
		return status::fail("zlib could not be initialised", ENOMEM);
	}
	status why;
	status done = drain(in, budget, out, why, consumed,
			    [&](const unsigned char *src, size_t &src_left, unsigned char *dst, size_t &dst_left) {
				    zs.next_in = const_cast<Bytef *>(src);
				    zs.avail_in = uInt(src_left);
				    zs.next_out = dst;
				    zs.avail_out = uInt(dst_left);
				    int rc = inflate(&zs, Z_NO_FLUSH);
				    src_left = zs.avail_in;
				    dst_left = zs.avail_out;
				    if (rc == Z_STREAM_END)
					    return 1;
				    if (rc == Z_OK || (rc == Z_BUF_ERROR && src_left == 0))
					    return 0;
				    why = status::fail(std::string("corrupt compressed data: ") +
							       (zs.msg ? zs.msg : "inflate failed"),
						       EBADMSG);
				    return -1;
			    });
	inflateEnd(&zs);
	return done;
}

status bunzip_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, size_t *consumed)
{
	bz_stream bz{};
	if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) {
		return status::fail("libbz2 could not be initialised", ENOMEM);
	}
	status why;
	status done = drain(in, budget, out, why, consumed,
			    [&](const unsigned char *src, size_t &src_left, unsigned char *dst, size_t &dst_left) {
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
	return done;
}

status unxz_bounded(bytes in, uint64_t &budget, std::vector<unsigned char> &out, size_t *consumed)
{
	// A hostile header can ask for a dictionary of gigabytes: cap what the
	// decoder may allocate (xz -9 needs 65 MiB), past that the stream fails.
	constexpr uint64_t memlimit = 128ull << 20;
	lzma_stream xz = LZMA_STREAM_INIT;
	if (lzma_auto_decoder(&xz, memlimit, 0) != LZMA_OK) {
		return status::fail("liblzma could not be initialised", ENOMEM);
	}
	status why;
	status done =
		drain(in, budget, out, why, consumed,
		      [&](const unsigned char *src, size_t &src_left, unsigned char *dst, size_t &dst_left) {
			      xz.next_in = src;
			      xz.avail_in = src_left;
			      xz.next_out = dst;
			      xz.avail_out = dst_left;
			      lzma_ret rc = lzma_code(&xz, src_left ? LZMA_RUN : LZMA_FINISH);
			      src_left = xz.avail_in;
			      dst_left = xz.avail_out;
			      // Python's lzma has no such limit: the stream is not trailing
			      // garbage the loader would skip, so say "limit" (an error verdict).
			      if (rc == LZMA_MEMLIMIT_ERROR || rc == LZMA_MEM_ERROR)
				      why = status::fail(
					      "the stream's dictionary exceeds the scanner's decoder memory limit (" +
						      std::to_string(memlimit >> 20) + " MiB)",
					      EFBIG);
			      return rc == LZMA_STREAM_END                                        ? 1
				     : (rc == LZMA_OK || (rc == LZMA_BUF_ERROR && dst_left == 0)) ? 0
												  : -1;
		      });
	lzma_end(&xz);
	return done;
}

} // namespace ltrack::scanner
