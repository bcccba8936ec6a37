// The owner of one file descriptor: closes it when destroyed or given a new
// one, moves but never copies (a copy would close the same number twice,
// the second time perhaps someone else's descriptor). -1 is "none".
#pragma once

#include <unistd.h>

#include <utility>

namespace ltrack {

class unique_fd {
public:
	unique_fd() = default;
	explicit unique_fd(int fd) : fd_(fd) {}
	unique_fd(unique_fd &&o) noexcept : fd_(o.release()) {}
	unique_fd &operator=(unique_fd &&o) noexcept
	{
		if (this != &o)
			reset(o.release());
		return *this;
	}
	unique_fd(const unique_fd &) = delete;
	unique_fd &operator=(const unique_fd &) = delete;
	~unique_fd() { reset(); }

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	// Closes the one held (if any) and holds fd.
	void reset(int fd = -1)
	{
		if (fd_ >= 0 && fd_ != fd)
			::close(fd_);
		fd_ = fd;
	}
	// Gives the descriptor up without closing it.
	int release() { return std::exchange(fd_, -1); }

private:
	int fd_ = -1;
};

} // namespace ltrack
