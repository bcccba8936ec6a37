// Format recognition by content and the walk through containers: which
// bytes are pickles (scanned), which are data (validated), which are raw
// tensor storage (skipped), and how the findings become one verdict.
#include "scanner.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_formats.h"
#include "inflate.h"
#include "pickle_walker.h"
#include "tar_reader.h"
#include "zip_reader.h"

namespace ltrack::scanner {
namespace {

struct scan_state {
	const scan_limits &limits;
	std::vector<import_ref> imports;
	pickle_context pctx{limits, imports, {}, {}};
	uint64_t inflate_budget;
	std::vector<std::string> errors;
	std::vector<std::string> notes;
	bool unrecognised = false;

	explicit scan_state(const scan_limits &l) : limits(l), inflate_budget(l.max_inflated_bytes) {}
	void error(const std::string &where, const std::string &what)
	{
		errors.push_back(where.empty() ? what : where + ": " + what);
	}
	void note(const std::string &where, const std::string &what)
	{
		if (notes.size() < 32)
			notes.push_back(where.empty() ? what : where + ": " + what);
	}
};

std::string join(const std::string &where, const std::string &name)
{
	return where.empty() ? name : where + "/" + name;
}

// torch.save's legacy format starts with this pickled magic number.
constexpr unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                          0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};

bool starts_with_proto(bytes d, size_t at = 0)
{
	return d.size() > at + 1 && d[at] == 0x80 && d[at + 1] <= 5;
}

// One pickle at `start`; false (error recorded) if it did not reach STOP.
bool one_pickle(bytes d, size_t &pos, const std::string &where, scan_state &st, pickle_outcome *out = nullptr)
{
	st.pctx.where = where;
	pickle_outcome o = walk_pickle(d, pos, st.pctx);
	if (!o.ok) {
		st.error(where, "pickle " + o.error);
		return false;
	}
	pos = o.end;
	if (out)
		*out = std::move(o);
	return true;
}

// A pickle file: one pickle, plus any further pickles stacked after it
// (a loader calling pickle.load repeatedly would run them too).
format scan_pickle_stream(bytes d, size_t pos, const std::string &where, scan_state &st)
{
	bool joblib_before = st.pctx.saw_joblib_wrapper;
	st.pctx.saw_joblib_wrapper = false;
	unsigned count = 0;
	while (one_pickle(d, pos, where, st)) {
		count++;
		if (pos >= d.size())
			break;
		if (!starts_with_proto(d, pos)) {
			st.note(where, std::to_string(d.size() - pos) + " bytes after the pickle's STOP were not scanned");
			break;
		}
	}
	bool joblib = st.pctx.saw_joblib_wrapper;
	st.pctx.saw_joblib_wrapper = joblib_before || joblib;
	if (count > 1)
		st.note(where, std::to_string(count) + " stacked pickles");
	return joblib ? format::joblib : format::pickle;
}

// Protocol 0 and 1 pickles have no header: try a walk in isolation and
// call it a pickle if it completes, imports anything, or runs several
// opcodes before the data ends (a truncated pickle).
bool plausible_old_pickle(bytes d, const scan_limits &limits)
{
	static const std::string_view openers = "(]})cKJMINLFSVXTUGlditp";
	if (d.empty() || openers.find(char(d[0])) == std::string_view::npos)
		return false;
	std::vector<import_ref> imports;
	scan_limits trial = limits;
	trial.max_pickle_ops = std::min<uint64_t>(limits.max_pickle_ops, 1'000'000);
	pickle_context ctx{trial, imports, {}, {}};
	pickle_outcome o = walk_pickle(d, 0, ctx);
	return o.ok || !imports.empty() || (o.truncated && o.ops >= 3) ||
	       o.error.find("more than") != std::string::npos;
}

format scan_node(bytes d, const std::string &where, unsigned depth, scan_state &st, bool top);

format scan_npy(bytes d, const std::string &where, scan_state &st)
{
	npy_info info;
	std::string error;
	if (!parse_npy(d, st.limits, info, error)) {
		st.error(where, error);
		return format::numpy_npy;
	}
	if (info.has_object) {
		st.note(where, "object array: pickle follows the header");
		scan_pickle_stream(d, size_t(info.data_offset), where, st);
	}
	return format::numpy_npy;
}

format scan_zip(bytes d, const std::string &where, unsigned depth, scan_state &st)
{
	std::vector<zip_entry> entries;
	std::string error;
	if (!read_zip_directory(d, st.limits, entries, error)) {
		st.error(where, error);
		return format::zip_archive;
	}
	// A checkpoint holds <archive>/data.pkl. torch unpickles only its *.pkl
	// members: <archive>/data/ holds raw storages, the rest is metadata or
	// TorchScript source, none of it interpreted here.
	std::string prefix;
	bool torch = false, npz = !entries.empty();
	for (const zip_entry &e : entries) {
		if (!torch && (e.name == "data.pkl" || e.name.ends_with("/data.pkl"))) {
			torch = true;
			prefix = e.name.substr(0, e.name.size() - 8);
		}
		npz = npz && e.name.ends_with(".npy");
	}
	format fmt = torch ? format::pytorch_zip : npz ? format::numpy_npz : format::zip_archive;
	size_t recognised = 0, skipped = 0;
	for (const zip_entry &e : entries) {
		std::string ew = join(where, e.name);
		if (e.name.ends_with("/"))
			continue;
		if (torch && !e.name.ends_with(".pkl")) {
			skipped++;
			continue;
		}
		bytes raw;
		if (!zip_member_bytes(d, e, raw, error)) {
			st.error(where, error);
			continue;
		}
		std::vector<unsigned char> inflated;
		bytes content = raw;
		if (e.method == 8) {
			if (!inflate_bounded(raw, stream_kind::raw_deflate, st.inflate_budget, inflated, error)) {
				st.error(ew, error);
				continue;
			}
			content = inflated;
		}
		if (content.size() != e.size) {
			st.error(ew, "member is " + std::to_string(content.size()) + " bytes but the directory says " + std::to_string(e.size));
			continue;
		}
		if (torch) {
			scan_pickle_stream(content, 0, ew, st);
			recognised++;
		} else if (fmt == format::numpy_npz) {
			if (!looks_like_npy(content))
				st.error(ew, "npz member is not a .npy array");
			else
				scan_npy(content, ew, st);
			recognised++;
		} else if (scan_node(content, ew, depth + 1, st, false) != format::unknown) {
			recognised++;
		}
	}
	if (torch)
		st.note(where, std::to_string(skipped) + " storage and metadata members (not unpickled by torch, not interpreted)");
	if (fmt == format::zip_archive && recognised == 0 && st.errors.empty())
		st.unrecognised = true;
	return fmt;
}

const std::pair<std::string_view, uint64_t> legacy_storage_sizes[] = {
	{"DoubleStorage", 8}, {"FloatStorage", 4}, {"HalfStorage", 2}, {"BFloat16Storage", 2},
	{"LongStorage", 8}, {"IntStorage", 4}, {"ShortStorage", 2}, {"CharStorage", 1},
	{"ByteStorage", 1}, {"BoolStorage", 1}, {"ComplexFloatStorage", 8},
	{"ComplexDoubleStorage", 16}, {"QUInt8Storage", 1}, {"QInt8Storage", 1}, {"QInt32Storage", 4},
};

// The pre-1.0 tar checkpoint: "storages" and "tensors" interleave small
// pickles with raw records; walk both (their pickles import the storage
// types) and step over the raw parts as torch's legacy loader reads them.
void scan_torch_tar_member(bytes d, const std::string &where, bool storages, scan_state &st)
{
	size_t pos = 0;
	pickle_outcome o;
	if (!one_pickle(d, pos, where, st, &o))
		return;
	if (!o.top_is_int || o.top_int < 0 || uint64_t(o.top_int) > st.limits.max_archive_entries)
		return st.error(where, "record count is not a small integer");
	byte_reader r{d, pos};
	for (int64_t i = 0; i < o.top_int; i++) {
		pickle_outcome rec;
		if (!one_pickle(d, r.pos, where, st, &rec))
			return;
		uint64_t n;
		if (storages) {
			// (key, location, storage type): the type gives the element size.
			uint64_t elem = 0;
			for (const auto &[name, size] : legacy_storage_sizes)
				if (rec.top_globals.size() == 1 && rec.top_globals[0] == "torch." + std::string(name))
					elem = size;
			if (!elem)
				return st.error(where, "storage record " + std::to_string(i) + " has no known storage type");
			if (!r.u64(n) || n > UINT64_MAX / elem || !r.skip(n * elem))
				return st.error(where, "storage " + std::to_string(i) + " data is truncated");
		} else {
			if (!r.u32(n) || n > 64 || !r.skip(4) || !r.skip(16 * n + 8))
				return st.error(where, "tensor record " + std::to_string(i) + " is truncated or malformed");
		}
	}
	if (storages)
		one_pickle(d, r.pos, where, st); // storage views
}

format scan_tar(bytes d, const std::string &where, unsigned depth, scan_state &st)
{
	std::vector<tar_entry> entries;
	std::string error;
	if (!read_tar(d, st.limits, entries, error)) {
		st.error(where, error);
		return format::tar_archive;
	}
	auto base = [](const std::string &n) { return n.starts_with("./") ? n.substr(2) : n; };
	int torch_members = 0;
	for (const tar_entry &e : entries) {
		std::string b = base(e.name);
		torch_members += b == "pickle" || b == "storages" || b == "tensors";
	}
	bool torch = torch_members == 3;
	size_t recognised = 0;
	for (const tar_entry &e : entries) {
		std::string ew = join(where, e.name), b = base(e.name);
		if (torch && (b == "pickle" || b == "sys_info")) {
			scan_pickle_stream(e.data, 0, ew, st);
		} else if (torch && (b == "storages" || b == "tensors")) {
			scan_torch_tar_member(e.data, ew, b == "storages", st);
		} else if (scan_node(e.data, ew, depth + 1, st, false) != format::unknown) {
			recognised++;
		}
	}
	if (!torch && recognised == 0 && st.errors.empty())
		st.unrecognised = true;
	return torch ? format::pytorch_tar : format::tar_archive;
}

// torch.save(..., _use_new_zipfile_serialization=False): five pickles
// (magic, protocol version, sys info, the data, storage keys), then raw
// storages that are never unpickled.
format scan_legacy(bytes d, const std::string &where, scan_state &st)
{
	size_t pos = 0;
	static const char *const parts[] = {"magic number", "protocol version", "sys info", "data", "storage keys"};
	for (int i = 0; i < 5; i++) {
		pickle_outcome o;
		if (!one_pickle(d, pos, where, st, &o)) {
			st.error(where, std::string("legacy checkpoint ") + parts[i] + " pickle is unreadable");
			return format::pytorch_legacy;
		}
		if (i == 1 && (!o.top_is_int || o.top_int != 1001))
			st.error(where, "legacy checkpoint protocol version is not 1001");
	}
	st.note(where, std::to_string(d.size() - pos) + " bytes of raw storages (not interpreted)");
	return format::pytorch_legacy;
}

format scan_node(bytes d, const std::string &where, unsigned depth, scan_state &st, bool top)
{
	if (depth > st.limits.max_depth) {
		st.error(where, "archives nested deeper than " + std::to_string(st.limits.max_depth) + " levels");
		return format::unknown;
	}
	std::string error, detail;
	if (looks_like_zip(d))
		return scan_zip(d, where, depth, st);
	if (looks_like_npy(d))
		return scan_npy(d, where, st);
	if (looks_like_gguf(d)) {
		if (!check_gguf(d, st.limits, error, detail))
			st.error(where, error);
		else
			st.note(where, detail);
		return format::gguf;
	}
	if (looks_like_tar(d))
		return scan_tar(d, where, depth, st);
	if (looks_like_safetensors(d)) {
		if (!check_safetensors(d, st.limits, error, detail))
			st.error(where, error);
		else
			st.note(where, detail);
		return format::safetensors;
	}
	if (looks_compressed(d)) {
		if (depth + 1 > st.limits.max_depth) {
			st.error(where, "compression nested deeper than " + std::to_string(st.limits.max_depth) + " levels");
			return format::unknown;
		}
		std::vector<unsigned char> out;
		uint64_t budget = st.inflate_budget;
		bool ok = inflate_bounded(d, stream_kind::zlib_or_gzip, budget, out, error);
		// Two bytes can look like a zlib header by chance (a protocol 0
		// pickle may): only a stream that inflates something is one.
		if (ok || !out.empty()) {
			st.inflate_budget = budget;
			if (!ok) {
				st.error(where, error);
				return format::joblib;
			}
			st.note(where, "compressed stream of " + std::to_string(out.size()) + " bytes");
			format inner = scan_node(out, where, depth + 1, st, top);
			return inner == format::pickle ? format::joblib : inner;
		}
	}
	if (d.size() >= sizeof legacy_magic && memcmp(d.data(), legacy_magic, sizeof legacy_magic) == 0)
		return scan_legacy(d, where, st);
	if (!d.empty() && d[0] == 0x80) // PROTO: a pickle of protocol 2 or later
		return scan_pickle_stream(d, 0, where, st);
	if (is_onnx(d, detail)) {
		st.note(where, detail);
		return format::onnx;
	}
	if (plausible_old_pickle(d, st.limits))
		return scan_pickle_stream(d, 0, where, st);
	if (top)
		st.unrecognised = true;
	return format::unknown;
}

std::string describe(const import_ref &i)
{
	std::string s = i.module + "." + i.name;
	if (!i.where.empty())
		s += " (in " + i.where + ")";
	return s;
}

} // namespace

scan_result scan_buffer(std::span<const unsigned char> data, const scan_limits &limits)
{
	scan_state st(limits);
	scan_result res;
	res.fmt = scan_node(data, "", 0, st, true);
	std::vector<std::string> dangerous, unknown;
	for (const import_ref &i : st.imports) {
		if (i.kind == import_ref::kind::dangerous)
			dangerous.push_back(describe(i));
		else if (i.kind == import_ref::kind::unknown)
			unknown.push_back(describe(i));
	}
	for (size_t i = 0; i < st.errors.size() && i < 8; i++)
		res.error += (i ? "; " : "") + st.errors[i];
	if (st.errors.size() > 8)
		res.error += "; and " + std::to_string(st.errors.size() - 8) + " more";
	for (size_t i = 0; i < st.notes.size(); i++)
		res.detail += (i ? "; " : "") + st.notes[i];
	// A known-dangerous import decides even in a damaged file: the loader
	// runs it before reaching the damage.
	if (!dangerous.empty()) {
		res.verdict = LTRACK_VERDICT_UNSAFE;
		res.deciding = std::move(dangerous);
	} else if (!st.errors.empty()) {
		res.verdict = LTRACK_VERDICT_ERROR;
		res.deciding = {st.errors.front()};
	} else if (!unknown.empty()) {
		res.verdict = LTRACK_VERDICT_SUSPICIOUS;
		res.deciding = std::move(unknown);
	} else if (st.unrecognised) {
		res.verdict = LTRACK_VERDICT_SUSPICIOUS;
		res.deciding = {"unrecognised format"};
	} else {
		res.verdict = LTRACK_VERDICT_SAFE;
	}
	res.imports = std::move(st.imports);
	return res;
}

scan_result scan_file(const std::string &path, const scan_limits &limits)
{
	scan_result res;
	res.verdict = LTRACK_VERDICT_ERROR;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		res.error = path + ": cannot open: " + strerror(errno);
		return res;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		res.error = path + ": not a regular file";
		close(fd);
		return res;
	}
	if (uint64_t(sb.st_size) > limits.max_file_size) {
		res.error = path + ": " + std::to_string(sb.st_size) + " bytes is over the scan size limit of " + std::to_string(limits.max_file_size);
		close(fd);
		return res;
	}
	if (sb.st_size == 0) {
		res.error = path + ": file is empty (nothing a loader could read)";
		close(fd);
		return res;
	}
	void *map = mmap(nullptr, size_t(sb.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		res.error = path + ": cannot map: " + strerror(errno);
		return res;
	}
	res = scan_buffer({static_cast<const unsigned char *>(map), size_t(sb.st_size)}, limits);
	munmap(map, size_t(sb.st_size));
	return res;
}

std::string_view format_name(format f)
{
	switch (f) {
	case format::unknown: return "unknown";
	case format::pickle: return "pickle";
	case format::pytorch_zip: return "pytorch-zip";
	case format::pytorch_tar: return "pytorch-tar";
	case format::pytorch_legacy: return "pytorch-legacy";
	case format::numpy_npy: return "npy";
	case format::numpy_npz: return "npz";
	case format::joblib: return "joblib";
	case format::safetensors: return "safetensors";
	case format::gguf: return "gguf";
	case format::onnx: return "onnx";
	case format::zip_archive: return "zip";
	case format::tar_archive: return "tar";
	}
	return "unknown";
}

std::string_view verdict_name(uint32_t v)
{
	switch (v) {
	case LTRACK_VERDICT_UNSCANNED: return "unscanned";
	case LTRACK_VERDICT_SAFE: return "safe";
	case LTRACK_VERDICT_SUSPICIOUS: return "suspicious";
	case LTRACK_VERDICT_UNSAFE: return "unsafe";
	case LTRACK_VERDICT_ERROR: return "error";
	case LTRACK_VERDICT_TRUSTED: return "trusted";
	}
	return "invalid";
}

} // namespace ltrack::scanner
