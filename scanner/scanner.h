// ltrack's model file scanner: recognises a model file by its content and
// decides whether loading it can run code. Pickles are walked opcode by
// opcode without executing anything; every callable they would import is
// classified against an allowlist and a known-dangerous list
// (import_lists.cpp). Pure C++20 + zlib: the daemon and ltrackctl share it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "abi.h"

namespace ltrack::scanner {

enum class format {
	unknown,
	pickle,
	pytorch_zip,
	pytorch_tar,
	pytorch_legacy,
	numpy_npy,
	numpy_npz,
	joblib,
	safetensors,
	gguf,
	onnx,
	zip_archive, // a zip that is neither a checkpoint nor an .npz: entries scanned
	tar_archive, // likewise for tar
	// Data beside the weights (scanner/text_formats.h). Recognised only when
	// no model format claims the bytes, and still walked as pickles.
	json,
	text,
	sentencepiece,
	python_pth, // text named *.pth: a Python site file (import lines are code, in any file)
};

struct import_ref {
	std::string module, name;
	enum class kind { allowed, dangerous, unknown } kind = kind::unknown;
	std::string where; // archive entry path ("" = the file itself)
	// Below protocol 3 the loader maps Python 2 names (python2_name()):
	// the "module.name" it resolves when that differs, else empty. kind is
	// the worse of both names.
	std::string loads_as;
};

// Every bound that keeps a hostile file from costing unbounded memory or
// time. Exceeding one is an ERROR verdict, never a partial "safe".
struct scan_limits {
	uint64_t max_file_size = 1ull << 40;      // scan_file refuses bigger files
	uint64_t max_inflated_bytes = 1ull << 30; // total decompressed per scan
	uint64_t max_pickle_ops = 20'000'000;     // opcodes per scan, all pickles
	uint32_t max_pickle_stack = 1u << 20;     // values on the stack
	uint32_t max_pickle_marks = 1u << 16;     // nested MARKs
	uint32_t max_pickle_memo = 1u << 20;      // memo entries
	uint32_t max_archive_entries = 1u << 18;  // zip/tar members
	uint32_t max_depth = 4;                   // nested archives / compression
	uint64_t max_header_bytes = 100ull << 20; // safetensors JSON, npy header
	uint32_t max_json_depth = 64;             // safetensors JSON nesting
	uint32_t max_data_json_depth = 512;       // config/tokenizer JSON nesting
};

struct scan_result {
	format fmt = format::unknown;
	uint32_t verdict = LTRACK_VERDICT_UNSCANNED; // enum ltrack_verdict
	std::vector<import_ref> imports;             // every distinct import, in file order
	std::vector<std::string> deciding;           // "module.name" (or reason) that decided the verdict
	std::string error;                           // what went wrong, for ERROR (may be set alongside UNSAFE)
	std::string detail;                          // human-readable summary of what was seen
};

// name: the file's name, if known. It can only make a verdict stricter:
// every file's bytes are read as CPython's site module reads a .pth file;
// named *.pth, its import lines are code (unsafe), under another name one
// that carries code of its own is suspicious (the verdict is per inode: a
// link into a site directory would run it). Everything else is by content.
scan_result scan_buffer(std::span<const unsigned char> data, const scan_limits &limits = {},
			std::string_view name = {});
// Maps the file read-only; I/O problems are an ERROR verdict with the reason.
// name: as for scan_buffer; empty means the last component of path.
scan_result scan_file(const std::string &path, const scan_limits &limits = {}, std::string_view name = {});

std::string_view format_name(format f);
std::string_view verdict_name(uint32_t verdict);

} // namespace ltrack::scanner
