// Walks a pickle opcode stream without executing it: a small symbolic
// machine tracks just enough of the stack and memo to resolve what each
// GLOBAL / INST / STACK_GLOBAL imports. It reads the bytes the way one
// particular unpickler does (walk_options): CPython's C unpickler (pickle,
// numpy, torch) or the pure-Python one joblib subclasses, which frames
// differently and reads raw array bytes after a NumpyArrayWrapper BUILD.
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
	std::vector<import_ref> &imports;                       // distinct (module, name, where)
	std::string where;                                      // entry path recorded on new imports
	std::unordered_map<std::string, uint32_t> import_index; // where\0module\0name -> index
	uint64_t ops = 0;                                       // charged by every walk and by container parsing
	unsigned nested = 0;                                    // pickles inside pickles (joblib object arrays)
};

struct walk_options {
	// pickle._Unpickler (joblib's NumpyUnpickler): a FRAME is read whole
	// into a buffer and opcodes may not cross its end; out-of-band reads
	// (array bytes) come from the file after it. CPython's C unpickler
	// treats FRAME as a read-ahead hint only.
	bool python_unpickler = false;
	// joblib's NumpyUnpickler: raw array bytes follow each NumpyArrayWrapper BUILD.
	bool joblib_arrays = false;
	// torch sets persistent_load; plain pickle.load (and joblib, numpy)
	// raise at the first PERSID/BINPERSID.
	bool persistent_load = false;
};

struct pickle_outcome {
	bool ok = false;
	bool truncated = false; // failed because the data ended
	// Failed where the real unpickler might not have (a scanner limit, a
	// value the walker cannot resolve): nothing can be said about the rest.
	bool uncertain = false;
	std::string error;               // "offset N: what"
	size_t end = 0;                  // just past STOP when ok
	int protocol = 0;                // from PROTO, 0 if none
	uint64_t ops = 0;                // opcodes in this pickle
	bool joblib_arrays_read = false; // a NumpyArrayWrapper BUILD read array bytes
	// The unpickled value, as far as an equality test needs it.
	enum class value_kind { unknown, integer, other } top = value_kind::unknown;
	int64_t top_int = 0;                  // integer that fits 64 bits ...
	std::string top_long;                 // ... else its minimal little-endian two's complement bytes
	std::vector<std::string> top_globals; // "module.name" of imports directly in a top-level tuple

	// Could the value compare equal (Python ==) to the integer whose
	// minimal little-endian bytes are `le`?
	bool might_equal(std::string_view le) const;
	bool might_equal(int64_t v) const
	{
		return top == value_kind::unknown || (top == value_kind::integer && top_long.empty() && top_int == v);
	}
};

pickle_outcome walk_pickle(bytes data, size_t start, pickle_context &ctx, const walk_options &opt = {});

// Records (module, name) in ctx.imports unless already there; returns its index.
// py2_names: the pickle's protocol (its last PROTO opcode, 0 without one)
// is below 3, where the loader maps Python 2 names (classify_import_py2).
uint32_t record_import(pickle_context &ctx, std::string_view module, std::string_view name, bool py2_names);

} // namespace ltrack::scanner
