// A small, bounded zip reader: central directory (zip64 too), stored and
// deflated members. Only what checkpoints and .npz files use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "scanner.h"

namespace ltrack::scanner {

struct zip_entry {
	std::string name;
	uint16_t method = 0; // 0 stored, 8 deflate
	uint16_t flags = 0;
	uint64_t compressed_size = 0;
	uint64_t size = 0;
	uint64_t local_offset = 0;
};

bool looks_like_zip(bytes data);

// Reads the central directory. False with `error` when it is missing,
// inconsistent, points outside the data or exceeds the entry limit.
bool read_zip_directory(bytes data, const scan_limits &limits, std::vector<zip_entry> &entries, std::string &error);

// The member's (still compressed) bytes, located through its local header.
bool zip_member_bytes(bytes data, const zip_entry &e, bytes &out, std::string &error);

} // namespace ltrack::scanner
