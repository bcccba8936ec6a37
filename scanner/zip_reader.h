// A small, bounded zip reader: central directory (zip64 too), stored and
// deflated members. Only what checkpoints and .npz files use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "scanner.h"
#include "status.h"

namespace ltrack::scanner {

struct zip_entry {
	std::string name;
	uint16_t method = 0; // 0 stored, 8 deflate
	uint16_t flags = 0;
	uint64_t compressed_size = 0;
	uint64_t size = 0;
	uint64_t local_offset = 0;
};

// numpy.load's test: "PK\3\4" or (an empty archive) "PK\5\6" at byte 0.
// torch.load's is "PK\3\4" only.
bool looks_like_zip(bytes data);

// The two zip readers the loaders use find members differently:
//  - miniz (torch): central directory where the end record says; a zip64
//    end record where the zip64 locator points.
//  - CPython's zipfile (numpy): a zip64 end record just before the
//    locator, and every offset shifted by the bytes found before the
//    directory beyond what it claims (data prepended to the archive).
// Both use the zip64 record whenever a locator is present.
enum class zip_flavour { miniz, cpython };

// Reads the central directory into `entries`. Fails when it is missing,
// inconsistent, points outside the data or exceeds the entry limit; `entries`
// then keeps the members read before the failure (a loader may still load them).
status read_zip_directory(bytes data, const scan_limits &limits, zip_flavour flavour, std::vector<zip_entry> &entries);

// The member's (still compressed) bytes, located through its local header.
result<bytes> zip_member_bytes(bytes data, const zip_entry &e);

} // namespace ltrack::scanner
