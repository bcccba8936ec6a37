// Every libbpf call goes through here: NULL / negative returns and errno
// become one message naming the operation and the object, e.g.
// "loading program guard_file_open: Operation not permitted".
#pragma once

#include "status.h"

#include <cerrno>
#include <string>
#include <string_view>

namespace ltrack {

// "<what>: <strerror(err)>"; err is a libbpf return (negative) or errno.
status libbpf_fail(std::string_view what, int err);

// Checks a libbpf int return (0 or negative errno).
inline status check(int ret, std::string_view what)
{
	return ret < 0 ? libbpf_fail(what, ret) : status{};
}

// Checks a libbpf pointer return (NULL with errno set).
template <class T>
status check_ptr(T *p, std::string_view what)
{
	return p ? status{} : libbpf_fail(what, errno ? errno : EINVAL);
}

// Routes libbpf's own printing into the operational log (debug unless
// verbose) and keeps the tail of what it printed, so a failed load can
// quote the verifier's words.
void route_libbpf_output(bool verbose);
std::string libbpf_output_tail(std::size_t max_bytes = 4096);
void clear_libbpf_output();

} // namespace ltrack
