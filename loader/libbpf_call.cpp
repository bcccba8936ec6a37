#include "libbpf_call.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace ltrack {
namespace {

std::mutex output_mutex;
std::string output; // bounded tail of libbpf's messages
bool verbose_output = false;

int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	// Whole, however long: a verifier log is one message, and what went
	// wrong is at its end.
	va_list again;
	va_copy(again, args);
	int n = vsnprintf(nullptr, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return n;
	std::string buf(static_cast<std::size_t>(n) + 1, '\0');
	vsnprintf(buf.data(), buf.size(), fmt, args);
	buf.resize(static_cast<std::size_t>(n));
	{
		std::lock_guard lock(output_mutex);
		output.append(buf);
		if (output.size() > 64 * 1024)
			output.erase(0, output.size() - 32 * 1024);
	}
	std::string_view line(buf);
	while (!line.empty() && line.back() == '\n')
		line.remove_suffix(1);
	if (level == LIBBPF_WARN)
		spdlog::debug("libbpf: {}", line); // failures are reported by the caller
	else if (verbose_output)
		spdlog::debug("libbpf: {}", line);
	return n;
}

} // namespace

status libbpf_fail(std::string_view what, int err)
{
	if (err < 0)
		err = -err;
	char msg[256];
	libbpf_strerror(err, msg, sizeof(msg));
	return status::fail(std::string(what) + ": " + msg, err);
}

void route_libbpf_output(bool verbose)
{
	verbose_output = verbose;
	libbpf_set_print(print_fn);
}

std::string libbpf_output_tail(std::size_t max_bytes)
{
	std::lock_guard lock(output_mutex);
	if (output.size() <= max_bytes)
		return output;
	return output.substr(output.size() - max_bytes);
}

void clear_libbpf_output()
{
	std::lock_guard lock(output_mutex);
	output.clear();
}

} // namespace ltrack
