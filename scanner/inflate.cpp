#include "inflate.h"

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

} // namespace ltrack::scanner
