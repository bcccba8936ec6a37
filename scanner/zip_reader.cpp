#include "zip_reader.h"

namespace ltrack::scanner {
namespace {

constexpr uint32_t sig_local = 0x04034b50, sig_central = 0x02014b50, sig_eocd = 0x06054b50, sig_eocd64 = 0x06064b50,
		   sig_locator64 = 0x07064b50;

uint32_t u32_at(bytes d, size_t at)
{
	return uint32_t(load_le(d.data() + at, 4));
}

} // namespace

bool looks_like_zip(bytes d)
{
	return d.size() >= 22 && d[0] == 'P' && d[1] == 'K' && ((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6));
}

status read_zip_directory(bytes d, const scan_limits &limits, zip_flavour flavour, std::vector<zip_entry> &entries)
{
	if (d.size() < 22)
		return status::fail("zip is too short for an end-of-central-directory record");
	// The EOCD is the last record, followed by a comment of at most 64 KiB.
	size_t eocd = SIZE_MAX;
	size_t lowest = d.size() - 22 > 0xffff ? d.size() - 22 - 0xffff : 0;
	for (size_t at = d.size() - 22 + 1; at-- > lowest;)
		if (u32_at(d, at) == sig_eocd) {
			eocd = at;
			break;
		}
	if (eocd == SIZE_MAX)
		return status::fail("zip end-of-central-directory record not found (truncated archive?)");
	uint64_t count = load_le(d.data() + eocd + 10, 2);
	uint64_t cd_size = load_le(d.data() + eocd + 12, 4);
	uint64_t cd_offset = load_le(d.data() + eocd + 16, 4);
	uint64_t dir_end = eocd; // where the directory (and any zip64 records) end
	if (eocd >= 20 && u32_at(d, eocd - 20) == sig_locator64) {
		uint64_t at =
			flavour == zip_flavour::miniz ? load_le(d.data() + eocd - 20 + 8, 8) : uint64_t(eocd) - 20 - 56;
		bool found =
			eocd >= 20 + 56 && at <= d.size() && d.size() - at >= 56 && u32_at(d, size_t(at)) == sig_eocd64;
		// miniz fails without the record; zipfile quietly keeps the 32-bit values.
		if (!found && flavour == zip_flavour::miniz)
			return status::fail("zip64 end-of-central-directory record is missing or out of bounds");
		if (found) {
			count = load_le(d.data() + at + 32, 8);
			cd_size = load_le(d.data() + at + 40, 8);
			cd_offset = load_le(d.data() + at + 48, 8);
			dir_end = eocd - 20 - 56;
		}
	} else if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff)
		return status::fail("zip64 archive without a zip64 locator");
	// zipfile: concat = where the directory ends - its size - its offset.
	uint64_t shift = 0;
	if (flavour == zip_flavour::cpython) {
		if (cd_size > dir_end || cd_offset > dir_end - cd_size)
			return status::fail("zip central directory lies outside the file");
		shift = dir_end - cd_size - cd_offset;
		cd_offset += shift;
	}
	if (count > limits.max_archive_entries)
		return status::fail("zip has " + std::to_string(count) + " entries, over the limit of " +
				    std::to_string(limits.max_archive_entries));
	if (cd_offset > d.size() || cd_size > d.size() - cd_offset)
		return status::fail("zip central directory lies outside the file");
	byte_reader r{d.subspan(size_t(cd_offset), size_t(cd_size))};
	entries.clear();
	entries.reserve(size_t(count));
	for (uint64_t i = 0; i < count; i++) {
		uint64_t sig, flags, method, csize, usize, nlen, elen, clen, lho;
		bytes name, extra;
		bool ok = r.u32(sig) && sig == sig_central && r.skip(4) && r.u16(flags) && r.u16(method) && r.skip(8) &&
			  r.u32(csize) && r.u32(usize) && r.u16(nlen) && r.u16(elen) && r.u16(clen) && r.skip(8) &&
			  r.u32(lho) && r.take(nlen, name) && r.take(elen, extra) && r.skip(clen);
		if (!ok)
			return status::fail("zip central directory entry " + std::to_string(i) + " is malformed");
		// zip64 extended information: only the fields saturated above follow.
		byte_reader x{extra};
		uint64_t id, len;
		while (x.u16(id) && x.u16(len)) {
			bytes body;
			if (!x.take(len, body))
				break;
			if (id != 1)
				continue;
			byte_reader z{body};
			if ((usize == 0xffffffff && !z.u64(usize)) || (csize == 0xffffffff && !z.u64(csize)) ||
			    (lho == 0xffffffff && !z.u64(lho)))
				return status::fail("zip64 extra field of entry " + std::to_string(i) + " is short");
		}
		zip_entry e;
		e.name = std::string(as_text(name));
		e.method = uint16_t(method);
		e.flags = uint16_t(flags);
		e.compressed_size = csize;
		e.size = usize;
		e.local_offset = lho + shift;
		if (e.local_offset < lho)
			return status::fail("zip entry " + std::to_string(i) + " offset overflows");
		entries.push_back(std::move(e));
	}
	return {};
}

result<bytes> zip_member_bytes(bytes d, const zip_entry &e)
{
	if (e.flags & 1)
		return status::fail("zip entry '" + e.name + "' is encrypted");
	if (e.method != 0 && e.method != 8)
		return status::fail("zip entry '" + e.name + "' uses unsupported compression method " +
				    std::to_string(e.method));
	if (e.method == 0 && e.compressed_size != e.size)
		return status::fail("zip entry '" + e.name + "' is stored but its sizes disagree");
	if (e.local_offset > d.size() || d.size() - e.local_offset < 30 ||
	    u32_at(d, size_t(e.local_offset)) != sig_local)
		return status::fail("zip entry '" + e.name + "' has no local header where the directory says");
	uint64_t start = e.local_offset + 30 + load_le(d.data() + e.local_offset + 26, 2) +
			 load_le(d.data() + e.local_offset + 28, 2);
	if (start > d.size() || e.compressed_size > d.size() - start)
		return status::fail("zip entry '" + e.name + "' data runs past the end of the archive (truncated?)");
	return d.subspan(size_t(start), size_t(e.compressed_size));
}

} // namespace ltrack::scanner
