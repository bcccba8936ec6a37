#include "session.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ltrack {

status session::start_guard(const std::string &pin_dir, uint32_t guardian)
{
	if (status s = bpf_guard::start(guard_, pin_dir); !s.ok())
		return s;
	return label_self(guard_, guardian);
}

status session::read_events()
{
	return events_.open(guard_.events_fd(), [this](const ltrack_event &e) { pipeline_.on_event(e, models_); });
}

status session::open_loop(sigset_t *old_mask)
{
	sigset_t mask;
	sigemptyset(&mask);
	for (int sig : {SIGINT, SIGTERM, SIGHUP})
		sigaddset(&mask, sig);
	sigprocmask(SIG_BLOCK, &mask, old_mask);
	sigfd_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
	timerfd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	itimerspec tick{{1, 0}, {1, 0}};
	if (timerfd_)
		timerfd_settime(timerfd_.get(), 0, &tick, nullptr);
	epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!sigfd_ || !timerfd_ || !epoll_)
		return status::fail(std::string("cannot create the event loop (signalfd, timerfd, epoll): ") +
				    std::strerror(errno));
	return {};
}

void session::watch(int fd)
{
	if (fd < 0 || !epoll_)
		return;
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev); // EEXIST: watched already
}

void session::watch_models()
{
	watch(models_.fd());
	watch(waiter_.fd());
}

status session::serve_reports(const std::string &path)
{
	auto labels = [this](int pidfd) { return guard_.task_profile(pidfd); };
	auto modes = [this](uint32_t profile) {
		report_server::profile_view v;
		ltrack_state st{};
		if (guard_.read_state(st).ok())
			v.slot = st.active_slot;
		v.mode = guard_.profile_mode(profile);
		return v;
	};
	reports_ = std::make_unique<report_server>();
	status s = reports_->listen(path, epoll_.get(), labels, modes,
				    [this](const ltrack_event &e) { pipeline_.on_event(e, models_); });
	if (!s.ok())
		reports_.reset();
	return s;
}

void session::finish_reports()
{
	if (!reports_)
		return;
	for (int round = 0; round < 4; round++) {
		epoll_event evs[8];
		int n = epoll_wait(epoll_.get(), evs, 8, 0);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			if (reports_->owns(evs[i].data.fd))
				reports_->on_ready(evs[i].data.fd, evs[i].events);
	}
	reports_.reset(); // closes its connections, unlinks the socket
}

void session::on_scan_results()
{
	for (auto &r : waiter_.take()) {
		if (r.finding)
			models_.adopt(std::move(*r.finding));
		pipeline_.on_event(r.event, models_);
	}
}

void session::stop_waiter()
{
	if (!waiter_.running())
		return;
	if (epoll_)
		epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, waiter_.fd(), nullptr);
	waiter_.stop();
	on_scan_results();
}

status session::tick()
{
	status s = guard_.flush_coalesced(false);
	if (reports_)
		reports_->tick();
	pipeline_.on_counters(guard_.read_counters());
	models_.recheck();
	return s;
}

void session::drain()
{
	tracer_.poll();
	while (events_.poll(0) > 0) {
	}
}

void session::on_signals(const loop_handlers &h)
{
	signalfd_siginfo si;
	while (read(sigfd_.get(), &si, sizeof si) == sizeof si)
		if (h.on_signal)
			h.on_signal(si);
}

status session::run(const loop_handlers &h, const bool &stop)
{
	watch(events_.fd());
	watch(tracer_.fd());
	watch(sigfd_.get());
	watch(timerfd_.get());
	watch_models();
	while (!stop) {
		epoll_event evs[16];
		int n = epoll_wait(epoll_.get(), evs, 16, h.timeout_ms ? h.timeout_ms() : -1);
		if (n < 0 && errno != EINTR)
			return status::fail(std::string("epoll_wait: ") + std::strerror(errno));
		tracer_.poll(); // process context before the decisions it explains
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == tracer_.fd())
				continue;
			if (fd == events_.fd())
				events_.poll(0);
			else if (fd == sigfd_.get())
				on_signals(h);
			else if (fd == models_.fd())
				models_.handle_events();
			else if (fd == waiter_.fd())
				on_scan_results();
			else if (reports_ && fd == reports_->fd())
				reports_->on_listen_ready();
			else if (reports_ && reports_->owns(fd))
				reports_->on_ready(fd, evs[i].events);
			else if (fd == timerfd_.get()) {
				uint64_t ticks;
				[[maybe_unused]] auto r = read(timerfd_.get(), &ticks, sizeof ticks);
				if (h.on_tick)
					h.on_tick();
			} else if (h.on_fd) {
				h.on_fd(fd, evs[i].events);
			}
		}
	}
	return {};
}

} // namespace ltrack
