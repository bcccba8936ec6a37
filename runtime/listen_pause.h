// A listening socket whose accept failed for want of a descriptor or of
// memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) stays readable: left in epoll, it
// would wake the loop again at once, for ever, while the connection waits
// in the backlog. It is taken out of epoll for `pause` instead and watched
// again by resume() (called from the loop's expire/tick); one warning per
// pause. accept_next() is the one accept loop step every listener uses.
#pragma once

#include <spdlog/spdlog.h>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ltrack {

class listen_pause {
public:
	using clock = std::chrono::steady_clock;
	static constexpr std::chrono::milliseconds pause{250};

	static bool out_of_resources(int err)
	{
		return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	}
	// After accept4 failed with err on listener fd: stops watching it when
	// err says the daemon is out of descriptors or memory.
	void on_accept_error(int epoll_fd, int fd, int err, const char *what)
	{
		if (!out_of_resources(err) || paused_)
			return;
		epoll_event ev{}; // no events: not watched, still registered
		ev.data.fd = fd;
		epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
		paused_ = true;
		until_ = clock::now() + pause;
		++count_;
		spdlog::warn("{}: accept failed ({}); not accepting for {} ms", what, std::strerror(err),
			     pause.count());
	}
	// Watches the listener again when its pause is over. Returns the ms
	// until then, -1 when not paused.
	int resume(int epoll_fd, int fd, clock::time_point now = clock::now())
	{
		if (!paused_)
			return -1;
		if (now < until_)
			return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until_ - now).count());
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
		paused_ = false;
		return -1;
	}
	// The next pending connection on listener fd (non-blocking, close on
	// exec), or -1 when there is none now: EAGAIN (all taken) or out of
	// resources, after which the listener is paused (on_accept_error).
	// A connection that was aborted before it was taken is skipped.
	int accept_next(int epoll_fd, int fd, const char *what)
	{
		for (;;) {
			int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (c >= 0)
				return c;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			on_accept_error(epoll_fd, fd, errno, what);
			return -1;
		}
	}
	bool paused() const { return paused_; }
	uint64_t count() const { return count_; }

private:
	bool paused_ = false;
	clock::time_point until_{};
	uint64_t count_ = 0;
};

// The smaller of two expire() waits where -1 is "none".
inline int min_wait(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

// A listener's connections past their deadline (fd -> a value with a
// `deadline`), and the ms until the earliest of the others (-1: none): the
// first half of every listener's expire().
struct expiry {
	std::vector<int> late;
	int next_ms = -1;
};
template <class Connections>
expiry expired(const Connections &conns, listen_pause::clock::time_point now)
{
	expiry e;
	auto next = listen_pause::clock::time_point::max();
	for (const auto &[fd, c] : conns) {
		if (now >= c.deadline)
			e.late.push_back(fd);
		else
			next = std::min(next, c.deadline);
	}
	if (next != listen_pause::clock::time_point::max())
		e.next_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
	return e;
}

} // namespace ltrack
