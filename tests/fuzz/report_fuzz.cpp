// libFuzzer target: the report protocol parser (runtime/report_protocol.h),
// which reads what any local process sends to ltrackd's report socket. A
// message it accepts must format back to the same bytes and stay within
// the protocol's bounds.
#include "report_protocol.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	using namespace ltrack::report;
	std::string_view bytes(reinterpret_cast<const char *>(data), size);
	auto m = parse(bytes);
	if (!m)
		return 0;
	if (format(*m) != bytes || m->a.size() > max_field || m->b.size() > max_field)
		std::abort();
	return 0;
}
