// A listening Unix socket at a path, watched in an epoll set: the control
// socket and the Python hook's report socket are made the same way.
#pragma once

#include "libbpf_call.h"
#include "unique_fd.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ltrack {

// Creates path's directory, removes a stale socket there (a daemon that
// died), binds a non-blocking socket of type (SOCK_STREAM, SOCK_SEQPACKET),
// sets the socket file's mode (who may connect; the check at accept decides
// who is served), listens and adds it to epoll_fd for EPOLLIN. On failure
// the status names what (e.g. "control socket") and the step; out is empty.
status listen_unix(const std::string &path, int type, int backlog, mode_t mode, int epoll_fd, std::string_view what,
		   unique_fd &out);

} // namespace ltrack
