#include "tar_reader.h"

namespace ltrack::scanner {
namespace {

// tarfile's nti(): GNU base-256 (0x80 positive, 0xff negative, the rest
// big-endian), else int(text up to the first NUL, stripped, or "0", 8)
// with Python's int() syntax (a sign, 0o, underscores). Values that do not
// fit 64 bits signed are refused (tarfile would take them, and then fail
// or read past the end: an error either way).
bool number(bytes f, int64_t &out)
{
	out = 0;
	if (!f.empty() && (f[0] == 0x80 || f[0] == 0xff)) {
		uint64_t n = 0;
		for (size_t i = 1; i < f.size(); i++) {
			if (n >> 56)
				return false;
			n = n << 8 | f[i];
		}
		if (f[0] == 0x80) {
			if (n > uint64_t(INT64_MAX))
				return false;
			out = int64_t(n);
			return true;
		}
		// -(256 ** (len - 1) - n)
		size_t bits = 8 * (f.size() - 1);
		if (bits > 62)
			return false; // the 12-byte size field: far beyond any file
		out = -int64_t((uint64_t(1) << bits) - n);
		return true;
	}
	size_t n = 0;
	while (n < f.size() && f[n])
		n++;
	std::string_view t = as_text(f.first(n));
	auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); };
	while (!t.empty() && space(t.front()))
		t.remove_prefix(1);
	while (!t.empty() && space(t.back()))
		t.remove_suffix(1);
	if (t.empty())
		return true;
	bool negative = t.front() == '-';
	if (t.front() == '+' || t.front() == '-')
		t.remove_prefix(1);
	bool prefixed = t.size() >= 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O');
	if (prefixed)
		t.remove_prefix(2);
	uint64_t v = 0;
	bool any = false, last_underscore = !prefixed;
	for (char c : t) {
		if (c == '_') {
			if (last_underscore)
				return false;
			last_underscore = true;
			continue;
		}
		if (c < '0' || c > '7' || (v >> 59))
			return false;
		v = v * 8 + uint64_t(c - '0');
		any = true;
		last_underscore = false;
	}
	if (!any || last_underscore)
		return false;
	out = negative ? -int64_t(v) : int64_t(v);
	return true;
}

// A size or offset: a negative one is a header this reader refuses.
bool octal(bytes f, uint64_t &out)
{
	int64_t v;
	if (!number(f, v) || v < 0)
		return false;
	out = uint64_t(v);
	return true;
}

// calc_chksums(): 256 + the sum of the other 504 bytes, unsigned or signed
// (a negative signed sum matches a negative checksum field).
bool checksum_ok(bytes h)
{
	int64_t want;
	if (!number(h.subspan(148, 8), want))
		return false;
	int64_t sum = 0, ssum = 0;
	for (size_t i = 0; i < 512; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		sum += c;
		ssum += int8_t(c);
	}
	return sum == want || ssum == want;
}

std::string cstr(bytes f)
{
	size_t n = 0;
	while (n < f.size() && f[n])
		n++;
	return std::string(as_text(f.first(n)));
}

bool zero_block(bytes h)
{
	for (unsigned char c : h)
		if (c)
			return false;
	return true;
}

struct pax_info {
	std::string path;
	uint64_t size = 0;
	bool has_path = false, has_size = false, sparse = false;
};

// pax records: "<len> <key>=<value>\n". path and size matter here, and
// GNU.sparse.* (a sparse member this reader does not reassemble).
void pax_records(bytes body, pax_info &info)
{
	std::string_view t = as_text(body);
	while (!t.empty()) {
		size_t sp = t.find(' ');
		uint64_t len = 0;
		for (size_t i = 0; i < sp && i < t.size(); i++) {
			if (t[i] < '0' || t[i] > '9' || len > (1u << 30))
				return;
			len = len * 10 + uint64_t(t[i] - '0');
		}
		if (sp == std::string_view::npos || len <= sp + 1 || len > t.size())
			return;
		std::string_view rec = t.substr(sp + 1, size_t(len) - sp - 1);
		if (!rec.empty() && rec.back() == '\n')
			rec.remove_suffix(1);
		size_t eq = rec.find('=');
		if (eq != std::string_view::npos) {
			std::string_view k = rec.substr(0, eq), v = rec.substr(eq + 1);
			if (k.starts_with("GNU.sparse."))
				info.sparse = true;
			if (k == "path") {
				info.path = std::string(v);
				info.has_path = true;
			}
			if (k == "size") {
				uint64_t s = 0;
				bool ok = !v.empty() && v.size() < 20;
				for (char c : v)
					ok = ok && c >= '0' && c <= '9' && ((s = s * 10 + uint64_t(c - '0')), true);
				if (ok) {
					info.size = s;
					info.has_size = true;
				}
			}
		}
		t.remove_prefix(size_t(len));
	}
}

} // namespace

bool looks_like_tar(bytes d)
{
	return d.size() >= 512 && !zero_block(d.first(512)) && checksum_ok(d.first(512));
}

result<std::vector<tar_entry>> read_tar(bytes d, const scan_limits &limits)
{
	std::vector<tar_entry> entries;
	size_t pos = 0;
	std::string long_name;
	pax_info global, local;
	bool have_local = false;
	while (pos + 512 <= d.size()) {
		bytes h = d.subspan(pos, 512);
		if (zero_block(h))
			return entries;
		std::string at = "tar header at offset " + std::to_string(pos);
		if (!checksum_ok(h))
			return status::fail(at + " has a bad checksum");
		uint64_t size;
		if (!octal(h.subspan(124, 12), size))
			return status::fail(at + " has an unreadable size");
		char type = char(h[156]);
		bool pax = type == 'x' || type == 'g' || type == 'X';
		bool gnu = type == 'L' || type == 'K' || type == 'S';
		if (!pax && !gnu) {
			if (global.has_size)
				size = global.size;
			if (have_local && local.has_size)
				size = local.size;
		}
		std::string name = cstr(h.subspan(0, 100));
		if (type == '\0' && name.ends_with("/"))
			type = '5';
		if (type == '5')
			while (name.ends_with("/"))
				name.pop_back();
		std::string prefix = cstr(h.subspan(345, 155));
		if (!prefix.empty() && !gnu)
			name = prefix + "/" + name;
		// tarfile steps over data only for files and unknown types (read as files).
		static const std::string_view known("0\0"
						    "1234567LKSxgX",
						    15);
		bool regular = type == '0' || type == '\0' || type == '7' || known.find(type) == std::string_view::npos;
		bool has_data = regular || pax || gnu;
		uint64_t body = pos + 512;
		if (has_data && size > d.size() - body)
			return status::fail("tar member at offset " + std::to_string(pos) +
					    " runs past the end (truncated?)");
		bytes data = has_data ? d.subspan(size_t(body), size_t(size)) : bytes{};
		if (type == 'S' || (!pax && !gnu && (global.sparse || (have_local && local.sparse))))
			return status::fail(at + ": a sparse member (tarfile reassembles it; this scanner does not)");
		if (type == 'x' || type == 'X') {
			local = {};
			pax_records(data, local);
			have_local = true;
		} else if (type == 'g') {
			pax_records(data, global);
		} else if (type == 'L') {
			long_name = cstr(data);
		} else if (type != 'K') {
			if (!long_name.empty())
				name = long_name;
			if (global.has_path)
				name = global.path;
			if (have_local && local.has_path)
				name = local.path;
			bool link = type == '1' || type == '2';
			if (regular || link) {
				if (entries.size() >= limits.max_archive_entries)
					return status::fail("tar has more than " +
							    std::to_string(limits.max_archive_entries) + " members");
				entries.push_back({name, data, link});
			}
			long_name.clear();
			local = {};
			have_local = false;
		}
		uint64_t padded = has_data ? (size + 511) / 512 * 512 : 0;
		if (padded > d.size() - body)
			return entries; // last member's padding may be cut; its bytes were all there
		pos = size_t(body + padded);
	}
	return entries;
}

} // namespace ltrack::scanner
