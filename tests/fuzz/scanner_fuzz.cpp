// libFuzzer target for the model scanner: any bytes, scanned from memory
// with the default limits (and, for variety, tight ones), must end in a
// verdict without crashing, hanging or tripping ASan/UBSan.
#include <cstddef>
#include <cstdint>

#include "scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	using namespace ltrack::scanner;
	scan_limits limits;
	// Keep one input's cost small so the fuzzer explores instead of
	// inflating: the real limits are exercised by the unit tests.
	limits.max_inflated_bytes = 64ull << 20;
	limits.max_pickle_ops = 2'000'000;
	// Every other input is also read as a site .pth file would be.
	scan_result r = scan_buffer({data, size}, limits, size % 2 ? "site.pth" : "");
	if (r.verdict < LTRACK_VERDICT_SAFE || r.verdict > LTRACK_VERDICT_ERROR)
		__builtin_trap(); // the scanner never leaves a file unscanned or "trusted"
	if (r.verdict == LTRACK_VERDICT_ERROR && r.error.empty())
		__builtin_trap(); // an error verdict always says why
	return 0;
}
