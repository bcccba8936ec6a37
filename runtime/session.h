// One running guard and everything that serves it, composed once: the
// programs and maps (bpf_guard), the ring buffer's reader, the decision
// pipeline, the model watcher and scan-at-open waiter, the process tracer,
// the Python hook's report socket and the event loop that feeds them
// (epoll, a signalfd for SIGINT/SIGTERM/SIGHUP, a 1 s timerfd).
//
// ltrackd (policyd/daemon.cpp) is a session plus the policy in force, the
// control socket, metrics and the service manager; `ltrackctl run`
// (ctl/cmd_run.cpp) is a session plus its one command. Each adds its own
// descriptors to the loop (watch) and handles them in on_fd.
#pragma once

#include "bpf_guard.h"
#include "decision_pipeline.h"
#include "event_reader.h"
#include "model_watch.h"
#include "process_tracer.h"
#include "report_server.h"
#include "scan_waiter.h"
#include "unique_fd.h"

#include <sys/signalfd.h>

#include <csignal>
#include <functional>
#include <memory>
#include <string>

namespace ltrack {

class session {
public:
	session() = default;
	session(const session &) = delete;
	session &operator=(const session &) = delete;

	bpf_guard &guard() { return guard_; }
	const bpf_guard &guard() const { return guard_; }
	decision_pipeline &pipeline() { return pipeline_; }
	const decision_pipeline &pipeline() const { return pipeline_; }
	model_watch &models() { return models_; }
	const model_watch &models() const { return models_; }
	scan_waiter &waiter() { return waiter_; }
	// The report socket, or null when none is served.
	const report_server *reports() const { return reports_.get(); }

	// Loads, attaches (or adopts) and pins the programs under pin_dir and
	// labels this process as ltrack's own (guardian: lsm/abi.h): never
	// governed, signalled or traced by a governed one.
	status start_guard(const std::string &pin_dir, uint32_t guardian);
	// Each event of the ring buffer into the pipeline.
	status read_events();
	// Process context for the records (the process tracepoints).
	std::string start_tracer() { return tracer_.start(pipeline_.processes()); }

	// From here on SIGINT, SIGTERM and SIGHUP wait in the loop's signalfd
	// (the mask before is left in old_mask); the epoll and the 1 s tick.
	status open_loop(sigset_t *old_mask = nullptr);
	int epoll_fd() const { return epoll_.get(); }
	// Adds fd to the loop (EPOLLIN); one watched already stays as it is.
	void watch(int fd);
	// After the model watcher or the scan waiter (re)started: their
	// descriptors on the loop.
	void watch_models();

	// The report socket at path for governed Python interpreters
	// (report_server.h): the sender is who this guard labelled, decided in
	// its profile's mode, its records into the pipeline.
	status serve_reports(const std::string &path);
	// What the interpreters sent before they exited is read (a few rounds,
	// each closed connection dropped, which sends its coalesced counts),
	// then the socket closes and its name is removed.
	void finish_reports();

	// Records of the opens the scan waiter answered.
	void on_scan_results();
	// Unscanned files are refused again; what waits is answered FAN_DENY
	// and recorded.
	void stop_waiter();

	// The 1 s tick's common part: coalesced decisions whose window ended
	// go to the ring (its error is returned), the report socket's counts,
	// ring-buffer drops and walk limits reported, changed models rescanned.
	status tick();
	// Process events, then every record already in the ring.
	void drain();

	struct loop_handlers {
		std::function<int()> timeout_ms;                         // epoll timeout (none: -1)
		std::function<void(const signalfd_siginfo &)> on_signal; // one per signal received
		std::function<void()> on_tick;                           // the 1 s timer
		std::function<void(int fd, uint32_t events)> on_fd;      // a descriptor the caller watched
	};
	// Watches the session's own descriptors and runs until stop is true:
	// process events first (an exec is then known before the decisions its
	// program made), then decisions, model events, scan results and
	// reports, then the caller's. Fails only if epoll_wait does.
	status run(const loop_handlers &h, const bool &stop);

private:
	void on_signals(const loop_handlers &h);

	bpf_guard guard_;
	decision_pipeline pipeline_;
	event_reader events_;
	model_watch models_;
	scan_waiter waiter_;
	tracing::process_tracer tracer_;
	std::unique_ptr<report_server> reports_;
	unique_fd epoll_, sigfd_, timerfd_;
};

} // namespace ltrack
