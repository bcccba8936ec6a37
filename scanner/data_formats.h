// Validators for the formats that are data only (safetensors, GGUF, ONNX)
// and for the .npy header, which decides whether a pickle follows.
#pragma once

#include <cstdint>
#include <string>

#include "byte_reader.h"
#include "scanner.h"
#include "status.h"

namespace ltrack::scanner {

// numpy.dtype(<string>) as numpy parses it, for the spellings this knows
// ('f8', '<i4', 'float64', 'd', 'U5', 'M8[ns]', 'O', ...): the item size in
// bytes and whether items are Python objects. False for anything else
// (callers then cannot tell how many bytes a loader reads: not safe).
struct numpy_dtype {
	uint64_t itemsize = 0;
	bool object = false;   // items are pickled Python objects
	bool flexible = false; // S, U, V: the size is part of the spelling
};
bool parse_numpy_dtype(std::string_view spelling, numpy_dtype &out);

bool looks_like_npy(bytes data);
struct npy_info {
	bool has_object = false; // dtype holds Python objects: a pickle follows the header
	uint64_t data_offset = 0;
	std::string descr; // for the report
};
// Parses and checks the header (and, without objects, that the array's
// bytes are all there).
result<npy_info> parse_npy(bytes data, const scan_limits &limits);

// 8-byte little-endian header length, then a JSON object.
// Checks the header as the loader reads it; its one-line summary.
bool looks_like_safetensors(bytes data);
result<std::string> check_safetensors(bytes data, const scan_limits &limits);

bool looks_like_gguf(bytes data);
result<std::string> check_gguf(bytes data, const scan_limits &limits);

// True when the bytes parse as an ONNX ModelProto envelope: well-formed
// protobuf, only ModelProto fields, an ir_version and a well-formed graph.
bool is_onnx(bytes data, std::string &detail);

} // namespace ltrack::scanner
