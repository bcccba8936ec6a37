// A bounded tar reader (ustar, pax and GNU long names): member names and
// where their bytes lie. Used for old PyTorch checkpoints and nested tars.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "scanner.h"

namespace ltrack::scanner {

struct tar_entry {
	std::string name;
	bytes data;
};

// A first header block with a valid checksum (and usually "ustar").
bool looks_like_tar(bytes data);

// Regular files only. False with `error` when a header is corrupt, a
// member runs past the end or the entry limit is exceeded.
bool read_tar(bytes data, const scan_limits &limits, std::vector<tar_entry> &entries, std::string &error);

} // namespace ltrack::scanner
