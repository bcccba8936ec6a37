#include "tar_reader.h"

namespace ltrack::scanner {
namespace {

bool octal(bytes f, uint64_t &out)
{
	out = 0;
	if (!f.empty() && (f[0] & 0x80)) { // GNU base-256 for sizes >= 8 GiB
		for (size_t i = 1; i < f.size(); i++) {
			if (out >> 56)
				return false;
			out = out << 8 | f[i];
		}
		return (f[0] & 0x7f) == 0;
	}
	size_t i = 0;
	while (i < f.size() && f[i] == ' ')
		i++;
	bool any = false;
	for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; i++) {
		if (out >> 60)
			return false;
		out = out * 8 + (f[i] - '0');
		any = true;
	}
	for (; i < f.size(); i++)
		if (f[i] != ' ' && f[i] != 0)
			return false;
	return any;
}

bool checksum_ok(bytes h)
{
	uint64_t want;
	if (!octal(h.subspan(148, 8), want))
		return false;
	uint64_t sum = 0;
	for (size_t i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
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

// pax records: "<len> <key>=<value>\n". Only path and size matter here.
void pax_records(bytes body, std::string &path, uint64_t &size, bool &has_size)
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
			if (k == "path")
				path = std::string(v);
			if (k == "size") {
				uint64_t s = 0;
				bool ok = !v.empty() && v.size() < 20;
				for (char c : v)
					ok = ok && c >= '0' && c <= '9' && ((s = s * 10 + uint64_t(c - '0')), true);
				if (ok) {
					size = s;
					has_size = true;
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

bool read_tar(bytes d, const scan_limits &limits, std::vector<tar_entry> &entries, std::string &error)
{
	entries.clear();
	size_t pos = 0;
	std::string next_name;
	uint64_t next_size = 0;
	bool next_has_size = false;
	while (pos + 512 <= d.size()) {
		bytes h = d.subspan(pos, 512);
		if (zero_block(h))
			return true;
		if (!checksum_ok(h)) {
			error = "tar header at offset " + std::to_string(pos) + " has a bad checksum";
			return false;
		}
		uint64_t size;
		if (!octal(h.subspan(124, 12), size)) {
			error = "tar header at offset " + std::to_string(pos) + " has an unreadable size";
			return false;
		}
		if (next_has_size)
			size = next_size;
		char type = char(h[156]);
		uint64_t body = pos + 512;
		if (size > d.size() - body) {
			error = "tar member at offset " + std::to_string(pos) + " runs past the end (truncated?)";
			return false;
		}
		bytes data = d.subspan(size_t(body), size_t(size));
		std::string name = cstr(h.subspan(0, 100));
		if (as_text(h.subspan(257, 5)) == "ustar") {
			std::string prefix = cstr(h.subspan(345, 155));
			if (!prefix.empty())
				name = prefix + "/" + name;
		}
		if (type == 'x') {
			pax_records(data, next_name, next_size, next_has_size);
		} else if (type == 'L') {
			next_name = cstr(data);
		} else if (type != 'g') {
			if (!next_name.empty())
				name = next_name;
			if (type == '0' || type == '\0' || type == '7') {
				if (entries.size() >= limits.max_archive_entries) {
					error = "tar has more than " + std::to_string(limits.max_archive_entries) + " members";
					return false;
				}
				entries.push_back({name, data});
			}
			next_name.clear();
			next_has_size = false;
		}
		uint64_t padded = (size + 511) / 512 * 512;
		if (padded > d.size() - body)
			return true; // last member's padding may be cut; its bytes were all there
		pos = size_t(body + padded);
	}
	return true;
}

} // namespace ltrack::scanner
