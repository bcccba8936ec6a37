// Walks a pickle opcode stream without executing it: a small symbolic
// machine tracks just enough of the stack and memo to resolve what each
// GLOBAL / INST / STACK_GLOBAL imports, and to step over the raw array
// bytes joblib interleaves with the pickle.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "byte_reader.h"
#include "scanner.h"

namespace ltrack::scanner {

// Shared by every pickle of one scan: the opcode budget and the import list.
struct pickle_context {
	const scan_limits &limits;
	std::vector<import_ref> &imports; // distinct (module, name, where)
	std::string where;                // entry path recorded on new imports
	std::unordered_map<std::string, uint32_t> import_index; // where\0module\0name -> index
	uint64_t ops = 0;
	bool saw_joblib_wrapper = false;
	unsigned nested = 0; // pickles inside pickles (joblib object arrays)
};

struct pickle_outcome {
	bool ok = false;
	bool truncated = false; // failed because the data ended
	std::string error;      // "offset N: what"
	size_t end = 0;         // just past STOP when ok
	int protocol = 0;       // from PROTO, 0 if none
	uint64_t ops = 0;       // opcodes in this pickle
	bool top_is_int = false; // the unpickled value is an integer ...
	int64_t top_int = 0;     // ... that fits 64 bits
	std::string top_long;    // LONG1/LONG4 little-endian bytes of the value
	std::vector<std::string> top_globals; // "module.name" of imports directly in a top-level tuple
};

pickle_outcome walk_pickle(bytes data, size_t start, pickle_context &ctx);

// Records (module, name) in ctx.imports unless already there; returns its index.
uint32_t record_import(pickle_context &ctx, std::string_view module, std::string_view name);

} // namespace ltrack::scanner
