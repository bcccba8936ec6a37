// A bounded tar reader (ustar, pax and GNU long names): member names and
// where their bytes lie. Used for old PyTorch checkpoints and nested tars.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byte_reader.h"
#include "scanner.h"
#include "status.h"

namespace ltrack::scanner {

struct tar_entry {
	std::string name;
	bytes data;
	bool link = false; // hard or symbolic link: tarfile reads another file for it
};

// What CPython's tarfile.open accepts as a first header: a non-zero block
// whose checksum field matches the unsigned or the signed byte sum.
bool looks_like_tar(bytes data);

// Members tarfile reads as files (regular, contiguous, unknown types) and
// links, in archive order, with names and sizes as tarfile computes them
// (ustar prefix, GNU long names, pax path/size, global pax headers).
// Fails when a header is one tarfile would read but this reader cannot
// follow (sparse members), is corrupt, a member runs past the end or the
// entry limit is exceeded.
result<std::vector<tar_entry>> read_tar(bytes data, const scan_limits &limits);

} // namespace ltrack::scanner
