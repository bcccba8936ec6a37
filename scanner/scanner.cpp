// Format recognition by content and the walk through containers: which
// bytes are pickles (scanned), which are data (validated), which are raw
// tensor storage (skipped), and how the findings become one verdict.
#include "scanner.h"

#include "abi_names.h"
#include "unique_fd.h"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>
#include <unordered_set>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_formats.h"
#include "inflate.h"
#include "pickle_walker.h"
#include "tar_reader.h"
#include "text_formats.h"
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
	bool pth_name = false;         // the file is named *.pth
	std::vector<std::string> code; // site .pth lines exec()'d at interpreter start
	// Archive member spans already read one way (offset, stored size,
	// method, how): a directory of many entries naming one member costs one read.
	std::set<std::tuple<uint64_t, uint64_t, uint64_t, int>> seen;

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
	// Container parsing draws on the same budget as the pickle walks.
	bool charge(uint64_t work, const std::string &where)
	{
		pctx.ops += work;
		if (pctx.ops <= limits.max_pickle_ops)
			return true;
		error(where,
		      "more than " + std::to_string(limits.max_pickle_ops) + " units of work (the scan's budget)");
		return false;
	}
};

std::string join(const std::string &where, const std::string &name)
{
	return where.empty() ? name : where + "/" + name;
}

// torch's legacy MAGIC_NUMBER 0x1950a86a20f9469cfc6c, minimal little-endian bytes.
const std::string_view legacy_magic_le("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t legacy_protocol_version = 1001;

bool starts_with_proto(bytes d, size_t at = 0)
{
	return d.size() > at + 1 && d[at] == 0x80 && d[at + 1] <= 5;
}

std::string lower(std::string_view s)
{
	std::string out(s);
	for (char &c : out)
		if (c >= 'A' && c <= 'Z')
			c = char(c - 'A' + 'a');
	return out;
}

// One pickle at `pos`. A failure is an error when `must_read` (the bytes
// are a pickle for the loader that reads them) or when the walker could not
// follow the unpickler; otherwise the loader fails there too, having run
// only what was recorded before.
bool walk(bytes d, size_t &pos, const std::string &where, scan_state &st, const walk_options &opt, bool must_read,
	  pickle_outcome *out = nullptr)
{
	st.pctx.where = where;
	pickle_outcome o = walk_pickle(d, pos, st.pctx, opt);
	if (!o.ok && (must_read || o.uncertain))
		st.error(where, "pickle " + o.error);
	if (o.ok)
		pos = o.end;
	bool ok = o.ok;
	if (out)
		*out = std::move(o);
	return ok;
}

walk_options joblib_reader()
{
	walk_options o;
	o.python_unpickler = true;
	o.joblib_arrays = true;
	return o;
}

// What CPython's unpickler (pickle.load, numpy.load with allow_pickle,
// torch.load's legacy path) reads from `first`, the first pickle at byte
// 0: torch reads on while the values could be its magic number and
// protocol version (sys info, the data with persistent_load, the storage
// keys); a caller of pickle.load may read further stacked pickles.
format continue_pickle_stream(bytes d, size_t pos, const pickle_outcome &first, const std::string &where,
			      scan_state &st, bool must_read)
{
	bool legacy = first.top == pickle_outcome::value_kind::integer && first.top_long == legacy_magic_le;
	if (first.might_equal(legacy_magic_le)) {
		static const char *const parts[] = {"protocol version", "sys info", "data", "storage keys"};
		bool strict = must_read && legacy;
		for (int i = 0; i < 4; i++) {
			walk_options o;
			o.persistent_load = i == 2;
			pickle_outcome p;
			if (!walk(d, pos, where, st, o, strict, &p)) {
				if (strict)
					st.error(where, std::string("legacy checkpoint ") + parts[i] +
								" pickle is unreadable");
				return legacy ? format::pytorch_legacy : format::pickle;
			}
			if (i == 0 && !p.might_equal(legacy_protocol_version)) {
				if (strict)
					st.error(where, "legacy checkpoint protocol version is not 1001");
				return legacy ? format::pytorch_legacy : format::pickle;
			}
		}
		if (legacy) {
			st.note(where, std::to_string(d.size() - pos) + " bytes of raw storages (not interpreted)");
			return format::pytorch_legacy;
		}
	}
	unsigned count = 1;
	while (pos < d.size() && starts_with_proto(d, pos) && walk(d, pos, where, st, {}, false))
		count++;
	if (count > 1)
		st.note(where, std::to_string(count) + " stacked pickles");
	if (pos < d.size())
		st.note(where, std::to_string(d.size() - pos) + " bytes after the pickle's STOP were not scanned");
	return format::pickle;
}

// Every reading of the bytes as a pickle from byte 0: CPython's unpickler
// (pickle, numpy, torch legacy) and joblib's (array bytes after each
// NumpyArrayWrapper). `claimed`: another format owns the bytes, so a walk
// that fails is only the loader failing. Returns pickle/joblib/legacy, or
// unknown when neither reading looks like a pickle.
format scan_raw_pickles(bytes d, const std::string &where, scan_state &st, bool claimed, bool joblib_raw)
{
	size_t errors_before = st.errors.size(), imports_before = st.imports.size();
	pickle_outcome j, c;
	size_t jpos = 0, cpos = 0;
	if (joblib_raw)
		walk(d, jpos, where, st, joblib_reader(), false, &j);
	// Without array reads both unpicklers take the same path up to STOP.
	bool same = joblib_raw && j.ok && !j.joblib_arrays_read;
	if (same) {
		c = j;
		cpos = jpos;
	} else {
		walk(d, cpos, where, st, {}, false, &c);
	}
	if (claimed) {
		if (c.ok)
			continue_pickle_stream(d, cpos, c, where, st, false);
		return format::unknown;
	}
	// Unclaimed: a pickle if either reading completes or gets far enough
	// (or imports anything) before failing; then a failure is an error.
	bool joblib = j.ok && j.joblib_arrays_read;
	bool looks = c.ok || j.ok || (!d.empty() && d[0] == 0x80) || c.ops >= 3 || st.imports.size() > imports_before;
	if (!looks)
		return format::unknown;
	if (!c.ok && !j.ok && st.errors.size() == errors_before)
		st.error(where, "pickle " + (j.joblib_arrays_read ? j.error : c.error));
	if (joblib)
		return format::joblib;
	return c.ok ? continue_pickle_stream(d, cpos, c, where, st, true) : format::pickle;
}

format scan_node(bytes d, const std::string &where, unsigned depth, scan_state &st, bool top);

format scan_npy(bytes d, const std::string &where, scan_state &st)
{
	result<npy_info> parsed = parse_npy(d, st.limits);
	if (!parsed) {
		st.error(where, parsed.failure().error);
		return format::numpy_npy;
	}
	const npy_info &info = *parsed;
	if (info.has_object) {
		// numpy.load(allow_pickle=True): pickle.load after the header.
		st.note(where, "object array: pickle follows the header");
		size_t pos = size_t(info.data_offset);
		walk(d, pos, where, st, {}, true);
	}
	return format::numpy_npy;
}

// A member's bytes, inflated when deflated; false (error recorded) if unreadable.
bool member_content(bytes d, const zip_entry &e, const std::string &where, scan_state &st,
		    std::vector<unsigned char> &buf, bytes &content)
{
	result<bytes> raw = zip_member_bytes(d, e);
	if (!raw) {
		st.error(where, raw.failure().error);
		return false;
	}
	content = *raw;
	if (e.method == 8) {
		if (status s = inflate_bounded(*raw, stream_kind::raw_deflate, st.inflate_budget, buf); !s.ok()) {
			st.error(join(where, e.name), s.error);
			return false;
		}
		content = buf;
	}
	if (content.size() != e.size) {
		st.error(join(where, e.name), "member is " + std::to_string(content.size()) +
						      " bytes but the directory says " + std::to_string(e.size));
		return false;
	}
	return true;
}

// A zip as both loaders read one: torch (miniz) unpickles <archive>/data.pkl,
// looked up case-insensitively, with persistent_load; numpy (CPython's
// zipfile) reads every member that starts like an .npy, whatever its name.
// Members of any other zip are scanned as files of their own.
format scan_zip(bytes d, const std::string &where, unsigned depth, scan_state &st)
{
	std::vector<zip_entry> entries, py;
	status mz = read_zip_directory(d, st.limits, zip_flavour::miniz, entries);
	status cpy = read_zip_directory(d, st.limits, zip_flavour::cpython, py);
	// Where one reader fails the other may still load members: scan what
	// either finds, and the failure keeps the verdict from being safe.
	if (!mz.ok())
		st.error(where, mz.error + " (as torch's miniz reads it)");
	if (!cpy.ok())
		st.error(where, cpy.error + " (as CPython's zipfile reads it)");
	// The two readers differ only for shifted or zip64-relocated directories.
	std::unordered_set<uint64_t> offsets;
	for (const zip_entry &e : entries)
		offsets.insert(e.local_offset);
	for (const zip_entry &e : py)
		if (offsets.insert(e.local_offset).second)
			entries.push_back(e);
	if (!st.charge(16 * entries.size(), where))
		return format::zip_archive;
	// Members whose data overlap (many entries naming one member: a zip
	// bomb's trick, refused by newer zipfile) are read once each, and the
	// archive is not one a loader can be trusted to read as written.
	std::vector<std::pair<uint64_t, uint64_t>> spans;
	for (const zip_entry &e : entries)
		spans.emplace_back(e.local_offset, e.local_offset + 30 + e.compressed_size);
	std::sort(spans.begin(), spans.end());
	for (size_t i = 1; i < spans.size(); i++)
		if (spans[i].first < spans[i - 1].second) {
			st.error(where, "zip members overlap (entries at offsets " +
						std::to_string(spans[i - 1].first) + " and " +
						std::to_string(spans[i].first) + ")");
			break;
		}
	bool torch = false, npz = !entries.empty();
	for (const zip_entry &e : entries) {
		std::string n = lower(e.name);
		torch = torch || n == "data.pkl" || n.ends_with("/data.pkl");
		npz = npz && e.name.ends_with(".npy");
	}
	format fmt = torch ? format::pytorch_zip : npz ? format::numpy_npz : format::zip_archive;
	size_t recognised = 0, skipped = 0;
	for (const zip_entry &e : entries) {
		std::string ew = join(where, e.name);
		bool pkl = lower(e.name).ends_with(".pkl");
		int how = pkl ? 0 : torch ? 1 : 2;
		if (!st.seen.emplace(e.local_offset, e.compressed_size, e.method, how).second)
			continue;
		std::vector<unsigned char> buf;
		bytes content;
		if (!member_content(d, e, where, st, buf, content) || !st.charge(content.size() / 4096, ew))
			continue;
		if (looks_like_npy(content)) {
			scan_npy(content, ew, st);
			recognised++;
		} else if (pkl) {
			walk_options o;
			o.persistent_load = true;
			size_t pos = 0;
			walk(content, pos, ew, st, o, true);
			recognised++;
		} else if (torch) {
			skipped++; // storages and metadata: read as bytes by torch and numpy
		} else if (fmt == format::numpy_npz) {
			st.error(ew, "npz member is not a .npy array");
		} else if (scan_node(content, ew, depth + 1, st, false) != format::unknown) {
			recognised++;
		}
	}
	if (torch)
		st.note(where, std::to_string(skipped) +
				       " storage and metadata members (not unpickled by torch, not interpreted)");
	if (fmt == format::zip_archive && recognised == 0 && st.errors.empty())
		st.unrecognised = true;
	return fmt;
}

const std::pair<std::string_view, uint64_t> legacy_storage_sizes[] = {
	{"DoubleStorage", 8}, {"FloatStorage", 4}, {"HalfStorage", 2},         {"BFloat16Storage", 2},
	{"LongStorage", 8},   {"IntStorage", 4},   {"ShortStorage", 2},        {"CharStorage", 1},
	{"ByteStorage", 1},   {"BoolStorage", 1},  {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16},
	{"QUInt8Storage", 1}, {"QInt8Storage", 1}, {"QInt32Storage", 4},
};

// The pre-1.0 tar checkpoint: "storages" and "tensors" interleave small
// pickles with raw records; walk both (their pickles import the storage
// types) and step over the raw parts as torch's legacy loader reads them.
void scan_torch_tar_member(bytes d, const std::string &where, bool storages, scan_state &st)
{
	size_t pos = 0;
	pickle_outcome o;
	if (!walk(d, pos, where, st, {}, true, &o))
		return;
	if (o.top != pickle_outcome::value_kind::integer || !o.top_long.empty() || o.top_int < 0 ||
	    uint64_t(o.top_int) > st.limits.max_archive_entries)
		return st.error(where, "record count is not a small integer");
	byte_reader r{d, pos};
	for (int64_t i = 0; i < o.top_int; i++) {
		pickle_outcome rec;
		if (!walk(d, r.pos, where, st, {}, true, &rec))
			return;
		uint64_t n;
		if (storages) {
			// (key, location, storage type): the type gives the element size.
			uint64_t elem = 0;
			for (const auto &[name, size] : legacy_storage_sizes)
				if (rec.top_globals.size() == 1 && rec.top_globals[0] == "torch." + std::string(name))
					elem = size;
			if (!elem)
				return st.error(where,
						"storage record " + std::to_string(i) + " has no known storage type");
			if (!r.u64(n) || n > UINT64_MAX / elem || !r.skip(n * elem))
				return st.error(where, "storage " + std::to_string(i) + " data is truncated");
		} else {
			if (!r.u32(n) || n > 64 || !r.skip(4) || !r.skip(16 * n + 8))
				return st.error(where,
						"tensor record " + std::to_string(i) + " is truncated or malformed");
		}
	}
	if (storages)
		walk(d, r.pos, where, st, {}, true); // storage views
}

// tarfile as torch's legacy loader uses it: getmember() takes the last
// member of a name, so every member of the three names is read.
format scan_tar(bytes d, const std::string &where, unsigned depth, scan_state &st)
{
	result<std::vector<tar_entry>> read = read_tar(d, st.limits);
	if (!read) {
		st.error(where, read.failure().error);
		return format::tar_archive;
	}
	const std::vector<tar_entry> &entries = *read;
	if (!st.charge(16 * entries.size(), where))
		return format::tar_archive;
	auto base = [](const std::string &n) { return n.starts_with("./") ? n.substr(2) : n; };
	bool has_pickle = false, has_storages = false, has_tensors = false;
	for (const tar_entry &e : entries) {
		std::string b = base(e.name);
		has_pickle = has_pickle || b == "pickle";
		has_storages = has_storages || b == "storages";
		has_tensors = has_tensors || b == "tensors";
	}
	bool torch = has_pickle && has_storages && has_tensors;
	size_t recognised = 0;
	for (const tar_entry &e : entries) {
		std::string ew = join(where, e.name), b = base(e.name);
		bool checkpoint_name = b == "pickle" || b == "storages" || b == "tensors" || b == "sys_info";
		bool torch_member = torch && checkpoint_name;
		// torch extracts a member of these names and unpickles what it
		// extracted: a link makes that another file, in whatever tar,
		// whether or not the other checkpoint members are there.
		if (e.link) {
			if (checkpoint_name)
				st.error(
					ew,
					"checkpoint member is a link (torch would extract it and unpickle the file it names)");
			continue;
		}
		if (torch_member && b == "pickle") {
			walk_options o;
			o.persistent_load = true;
			size_t pos = 0;
			walk(e.data, pos, ew, st, o, true);
		} else if (torch_member && b == "sys_info") {
			size_t pos = 0;
			walk(e.data, pos, ew, st, {}, true);
		} else if (torch_member) {
			scan_torch_tar_member(e.data, ew, b == "storages", st);
		} else if (scan_node(e.data, ew, depth + 1, st, false) != format::unknown) {
			recognised++;
		}
	}
	if (!torch && recognised == 0 && st.errors.empty())
		st.unrecognised = true;
	return torch ? format::pytorch_tar : format::tar_archive;
}

// joblib.load looks at the first bytes: "ZF" is its old zfile format,
// then the registered compressors' prefixes; anything else is unpickled raw.
enum class joblib_compression { none, zlib, gzip, bz2, lzma, zfile, lz4 };

joblib_compression joblib_compressor(bytes d)
{
	auto starts = [&](std::string_view p) { return d.size() >= p.size() && as_text(d.first(p.size())) == p; };
	if (starts("ZF"))
		return joblib_compression::zfile;
	if (starts("x"))
		return joblib_compression::zlib;
	if (starts("\x1f\x8b"))
		return joblib_compression::gzip;
	if (starts("BZ"))
		return joblib_compression::bz2;
	if (starts(std::string_view("]\0", 2)) || starts("\xfd"
							 "7zXZ"))
		return joblib_compression::lzma; // LZMAFile, FORMAT_AUTO: lzma-alone or xz
	if (starts("\x04\x22\x4d\x18"))
		return joblib_compression::lz4;
	return joblib_compression::none;
}

// joblib's BinaryZlibFile/BinaryGzipFile, BZ2File, LZMAFile: streams back
// to back, read until one fails (the unpickler only meets that failure if
// it reads so far).
status joblib_decompress(bytes d, joblib_compression jc, scan_state &st, std::vector<unsigned char> &out)
{
	out.clear();
	size_t pos = 0;
	while (pos < d.size()) {
		std::vector<unsigned char> part;
		size_t used = 0;
		bytes rest = d.subspan(pos);
		status s = jc == joblib_compression::bz2 ? bunzip_bounded(rest, st.inflate_budget, part, &used)
			   : jc == joblib_compression::lzma
				   ? unxz_bounded(rest, st.inflate_budget, part, &used)
				   : inflate_bounded(rest,
						     jc == joblib_compression::zlib ? stream_kind::zlib
										    : stream_kind::gzip,
						     st.inflate_budget, part, &used);
		out.insert(out.end(), part.begin(), part.end());
		if (!s.ok())
			return pos > 0 && part.empty() && !is_limit(s) ? status{} : s;
		pos += used;
		if (used == 0)
			break;
	}
	return {};
}

// What joblib.load reads. The decompressed stream is read by joblib alone.
void scan_joblib(bytes d, const std::string &where, scan_state &st, bool claimed, format &fmt)
{
	joblib_compression jc = joblib_compressor(d);
	std::vector<unsigned char> out;
	static const char *const names[] = {"", "zlib", "gzip", "bz2", "lzma/xz", "zfile", "lz4"};
	if (jc == joblib_compression::zlib || jc == joblib_compression::gzip || jc == joblib_compression::bz2 ||
	    jc == joblib_compression::lzma) {
		status s = joblib_decompress(d, jc, st, out);
		if (!s.ok() && (!claimed || !out.empty()))
			st.error(where, std::string("joblib ") + names[int(jc)] + " stream: " + s.error);
		if (out.empty())
			return;
		if (!claimed)
			st.note(where, "compressed stream of " + std::to_string(out.size()) + " bytes");
		size_t pos = 0;
		walk(out, pos, where, st, joblib_reader(), !claimed);
		if (!claimed)
			fmt = format::joblib;
	} else if (jc == joblib_compression::zfile) {
		// "ZF", the length in hex padded to 19 bytes, an optional space, a zlib stream.
		// joblib inflates it whole (zlib.decompress) before unpickling: a
		// stream that is not zlib from its first byte is a joblib failure,
		// but one the scanner stops at its limit is one joblib reads on,
		// and one that yields output before failing is not the scanner's
		// to dismiss: both are errors, and what came out is walked.
		size_t at = d.size() > 21 && d[21] == ' ' ? 22 : 21;
		if (d.size() > at) {
			status s = inflate_bounded(d.subspan(at), stream_kind::zlib, st.inflate_budget, out);
			if (!s.ok() && (!out.empty() || is_limit(s)))
				st.error(where, "joblib zfile stream: " + s.error);
			if (!out.empty()) {
				walk_options o;
				o.python_unpickler = true; // ZipNumpyUnpickler reads no array bytes
				size_t pos = 0;
				walk(out, pos, where, st, o, false);
			}
		}
	} else if (jc == joblib_compression::lz4) {
		st.error(where, "joblib would decompress this (lz4), which the scanner does not");
	}
}

// What a model folder or a Python installation holds besides weights. The
// format only says what the bytes are: they are still walked as pickles
// below (as claimed bytes: a walk that fails is only that loader failing,
// what it imported before still decides).
format scan_data(bytes d, const std::string &where, scan_state &st)
{
	std::string detail;
	if (is_text(d)) {
		if (!st.charge(d.size() / 4096, where))
			return format::text;
		if (st.pth_name) {
			// The import lines themselves are found for every file (scan_buffer).
			uint64_t paths = 0;
			std::vector<pth_line> code = pth_code_lines(d, paths);
			st.note(where, "Python site .pth: " + std::to_string(paths) + " path lines, " +
					       std::to_string(code.size()) + " import lines (code)");
			return format::python_pth;
		}
		if (is_json(d, st.limits.max_data_json_depth, detail)) {
			st.note(where, detail);
			return format::json;
		}
		return format::text;
	}
	if (is_sentencepiece(d, detail)) {
		st.note(where, detail);
		return format::sentencepiece;
	}
	return format::unknown;
}

format scan_node(bytes d, const std::string &where, unsigned depth, scan_state &st, bool top)
{
	if (depth > st.limits.max_depth) {
		st.error(where, "archives nested deeper than " + std::to_string(st.limits.max_depth) + " levels");
		return format::unknown;
	}
	format fmt = format::unknown;
	// A header the loader would read as given: its summary, or why it is not.
	auto check_header = [&](const result<std::string> &r) {
		if (r)
			st.note(where, *r);
		else
			st.error(where, r.failure().error);
	};
	if (looks_like_zip(d)) {
		fmt = scan_zip(d, where, depth, st);
	} else if (looks_like_npy(d)) {
		fmt = scan_npy(d, where, st);
	} else if (looks_like_gguf(d)) {
		check_header(check_gguf(d, st.limits));
		fmt = format::gguf;
	} else if (looks_like_tar(d)) {
		fmt = scan_tar(d, where, depth, st);
	} else if (looks_like_safetensors(d)) {
		check_header(check_safetensors(d, st.limits));
		fmt = format::safetensors;
	}
	// Data beside the weights, recognised only for a file itself: in an
	// archive, text members do not make it a model format.
	format data = top && fmt == format::unknown ? scan_data(d, where, st) : format::unknown;
	// Whatever else they are, the bytes are what pickle.load, joblib.load,
	// numpy.load (unless "PK"/"\x93NUMPY") and torch.load (unless "PK\3\4",
	// once tarfile gives up) unpickle from byte 0. A pickle that reads as
	// one (it completes, or gets far) is a pickle even when it is also text.
	joblib_compression jc = joblib_compressor(d);
	scan_joblib(d, where, st, fmt != format::unknown || data != format::unknown, fmt);
	format raw = scan_raw_pickles(d, where, st, fmt != format::unknown, jc == joblib_compression::none);
	if (fmt != format::unknown)
		return fmt;
	if (raw != format::unknown && data != format::python_pth)
		return raw;
	if (data != format::unknown)
		return data;
	if (std::string detail; is_onnx(d, detail)) {
		st.note(where, detail);
		return format::onnx;
	}
	if (top)
		st.unrecognised = true;
	return format::unknown;
}

std::string describe(const import_ref &i)
{
	std::string s = i.module + "." + i.name;
	if (!i.loads_as.empty())
		s += " (a Python 2 name: the loader resolves " + i.loads_as + ")";
	if (!i.where.empty())
		s += " (in " + i.where + ")";
	return s;
}

} // namespace

scan_result scan_buffer(std::span<const unsigned char> data, const scan_limits &limits, std::string_view name)
{
	scan_state st(limits);
	st.pth_name = lower(name).ends_with(".pth");
	scan_result res;
	res.fmt = scan_node(data, "", 0, st, true);
	// What site.py would exec() if these bytes were a site .pth file, read
	// raw whatever their format (pth_import_lines: every CPython's reading).
	// Named *.pth, every import line is code: as final as a dangerous
	// import. Under any other name the verdict must not be safe either when
	// a line carries code of its own (more than "import a.b as c"): the
	// verdict is kept per inode, and a hard link or rename into a site
	// directory as x.pth would run it.
	std::vector<std::string> pth_suspicious;
	for (const pth_line &l : pth_import_lines(data)) {
		if (st.pth_name)
			st.code.push_back("line " + std::to_string(l.number) +
					  " runs at every interpreter start: " + l.text);
		else if (!l.plain)
			pth_suspicious.push_back(
				"line " + std::to_string(l.number) +
				" would run at every interpreter start if this file were a site .pth file "
				"(a link or rename into a site directory): " +
				l.text);
	}
	std::vector<std::string> dangerous = st.code, unknown = std::move(pth_suspicious);
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

scan_result scan_file(const std::string &path, const scan_limits &limits, std::string_view name)
{
	if (name.empty())
		name = std::string_view(path).substr(path.rfind('/') + 1);
	scan_result res;
	res.verdict = LTRACK_VERDICT_ERROR;
	unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
	if (!fd) {
		res.error = path + ": cannot open: " + strerror(errno);
		return res;
	}
	struct stat sb;
	if (fstat(fd.get(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		res.error = path + ": not a regular file";
		return res;
	}
	if (uint64_t(sb.st_size) > limits.max_file_size) {
		res.error = path + ": " + std::to_string(sb.st_size) + " bytes is over the scan size limit of " +
			    std::to_string(limits.max_file_size);
		return res;
	}
	if (sb.st_size == 0) {
		res.error = path + ": file is empty (nothing a loader could read)";
		return res;
	}
	void *map = mmap(nullptr, size_t(sb.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
	fd.reset(); // the mapping keeps the file
	if (map == MAP_FAILED) {
		res.error = path + ": cannot map: " + strerror(errno);
		return res;
	}
	// Every byte is read once (the .pth reading): sequential read-ahead.
	madvise(map, size_t(sb.st_size), MADV_SEQUENTIAL);
	res = scan_buffer({static_cast<const unsigned char *>(map), size_t(sb.st_size)}, limits, name);
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
	case format::json: return "json";
	case format::text: return "text";
	case format::sentencepiece: return "sentencepiece";
	case format::python_pth: return "python-pth";
	}
	return "unknown";
}

std::string_view verdict_name(uint32_t v)
{
	const char *n = abi::name_of<ltrack_verdict>(v);
	return n ? n : "invalid";
}

} // namespace ltrack::scanner
