#include "daemon.h"

#include "control_server.h"
#include "event_stream.h"
#include "json.h"
#include "kernel_support.h"
#include "metrics.h"
#include "policy_state.h"
#include "service_manager.h"
#include "session.h"
#include "target_watch.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string_view>

namespace ltrack {
namespace {

class daemon {
public:
	explicit daemon(const daemon_options &opt) : opt_(opt) {}
	int run();

private:
	void on_signal(const signalfd_siginfo &si);
	void handle(control_request &req);
	std::string add_daemon_status(std::string text, bool json) const;
	// A reload's phases as they start and end (compile, fill, swap), for
	// `ltrackctl reload` on a terminal; json, if given, receives the
	// successful outcome as one JSON object.
	using phase_fn = std::function<void(std::string_view phase, const std::string &text)>;
	std::string reload(const std::string &path, bool &ok, const phase_fn &phase = {}, std::string *json = nullptr);
	std::string reload_policy(const std::string &path, bool &ok, const phase_fn &phase, std::string *json);
	void watch_targets();
	void on_targets_timer();
	status protect_own_files();
	void check_counters();
	void start_models();
	void configure_metrics();
	std::string metrics_text() const;
	void write_metrics_file(bool now);

	daemon_options opt_;
	// The guard, the pipeline, the model watcher and scan waiter, the
	// tracer, the report socket and the event loop (runtime/session.h).
	session session_;
	bpf_guard &guard_ = session_.guard();
	decision_pipeline &pipeline_ = session_.pipeline();
	model_watch &models_ = session_.models();
	scan_waiter &waiter_ = session_.waiter();
	policy_state policy_;
	control_server control_;
	event_stream followers_; // `events --follow` clients, subscribed to the pipeline
	target_watch targets_;
	service::watchdog watchdog_;
	metrics::server metrics_;
	policy::metrics_config metrics_cfg_;
	std::chrono::steady_clock::time_point textfile_due_{};
	std::string textfile_error_; // the last one logged: a failing write warns once, not every interval
	bool stop_ = false, unload_ = false;
	std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

int daemon::run()
{
	// 1. Can this kernel enforce at all? Never pretend.
	support_report support = probe_kernel_support();
	if (!support.ok()) {
		spdlog::error("cannot enforce on this kernel: {}", support.first_failure());
		return 1;
	}

	// 2. The policy must compile cleanly before anything is loaded.
	if (std::string err = policy_.load(opt_.policy_path, guard_profile_ids{}); !err.empty()) {
		spdlog::error("{}", err);
		return 1;
	}
	if (std::string err = pipeline_.configure(policy_.active(), opt_.decision_log, opt_.foreground); !err.empty()) {
		spdlog::error("decision log: {}", err);
		return 1;
	}

	// 3. Load, attach (or adopt), pin; then swap the policy in.
	// Self-protection: this process is ltrack's own (never governed, never
	// signalled or traced by a governed one), by its task, not its pid.
	if (status s = session_.start_guard(opt_.pin_dir, LTRACK_GUARDIAN_DAEMON); !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	if (!guard_.adopted().empty())
		spdlog::info("adopted {} programs still attached from an earlier ltrackd", guard_.adopted().size());
	if (unsigned n = bpf_guard::clean_stale_runs())
		spdlog::info("removed the pins of {} ltrackctl run(s) that ended without cleaning up", n);
	apply_stats st;
	if (status s = guard_.apply(policy_.compiled(), getpid(), &st); !s.ok()) {
		spdlog::error("applying the policy: {}", s.error);
		return 1;
	}
	policy_.mark_applied(st);
	pipeline_.on_policy_applied(st.slot, policy_.shared());
	pipeline_.subscribe([this](const tracing::decision_record &r) { followers_.publish(r); });
	// Model directories are scanned before READY=1: each directory extends
	// systemd's start timeout, so a large model store is not a failed start.
	models_.on_progress([](const std::string &dir, std::size_t scanned) {
		service::extend_start_timeout(std::chrono::seconds(30),
					      "scanning model directories: " + std::to_string(scanned) +
						      " files, now " + dir);
	});
	start_models();
	models_.on_progress(nullptr);

	// Process context for the log: without it a record still carries the
	// kernel's pid, comm and ids, so this is worth a warning, not a refusal.
	if (std::string err = session_.start_tracer(); !err.empty())
		spdlog::warn("process context: {}", err);

	// 4. Event loop: decisions, signals, control requests, a 1 s tick.
	if (status s = session_.read_events(); !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (status s = session_.open_loop(); !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	// A caller is admitted when no ltrack profile labels it: read through
	// its pidfd, so the label is that process's, not its pid's.
	auto labels = [this](int pidfd) { return guard_.task_profile(pidfd); };
	if (status s = control_.listen(opt_.socket_path, session_.epoll_fd(), labels,
				       [this](control_request &r) { handle(r); });
	    !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	// Governed Python interpreters report here (report_server.h): named by
	// their label, decided with the scanner's list, in their profile's mode.
	if (opt_.report_socket.empty()) {
		std::string dir = std::filesystem::path(opt_.socket_path).parent_path();
		opt_.report_socket = (dir.empty() ? std::string(".") : dir) + "/report.sock";
	}
	if (status s = session_.serve_reports(opt_.report_socket); !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	if (status s = protect_own_files(); !s.ok()) {
		spdlog::error("{}", s.error);
		return 1;
	}
	watch_targets();
	configure_metrics();

	spdlog::info("enforcing {} ({} mode, {} profiles, {} rules; programs {}); control socket {}", opt_.policy_path,
		     policy_.mode_name(), policy_.profile_count(), policy_.rule_count(),
		     guard_.adopted().empty() ? "attached" : "adopted", opt_.socket_path);
	service::ready(fmt::format("enforcing {} ({} mode, {} profiles, {} rules)", opt_.policy_path,
				   policy_.mode_name(), policy_.profile_count(), policy_.rule_count()));
	if (watchdog_.enabled())
		spdlog::info("watchdog: a heartbeat every {} ms", watchdog_.interval_us() / 2000);

	session::loop_handlers loop;
	// Woken at the nearest control connection deadline at the latest.
	loop.timeout_ms = [this] {
		int wait_ms = control_.expire(), metrics_ms = metrics_.expire();
		return wait_ms < 0 || (metrics_ms >= 0 && metrics_ms < wait_ms) ? metrics_ms : wait_ms;
	};
	loop.on_signal = [this](const signalfd_siginfo &si) { on_signal(si); };
	loop.on_tick = [this] { check_counters(); };
	loop.on_fd = [this](int fd, uint32_t events) {
		if (fd == control_.fd())
			control_.on_listen_ready();
		else if (control_.owns(fd))
			control_.on_ready(fd, events);
		else if (fd == metrics_.fd())
			metrics_.on_listen_ready();
		else if (metrics_.owns(fd))
			metrics_.on_ready(fd, events);
		else if (fd == targets_.fd())
			targets_.handle_events();
		else if (fd == targets_.timer_fd())
			on_targets_timer();
	};
	if (status s = session_.run(loop, stop_); !s.ok())
		spdlog::error("{}", s.error);
	// Unscanned files are refused again; what waits is answered FAN_DENY.
	session_.stop_waiter();
	if (status s = guard_.flush_coalesced(true); !s.ok()) // every pending count, window open or not
		spdlog::warn("the last tallies of coalesced decisions are lost: {}", s.error);
	session_.drain(); // what is already in the ring still gets logged
	check_counters();
	pipeline_.flush();
	write_metrics_file(true);
	metrics_.close_all();
	if (status s = guard_.protect_files({}); !s.ok())
		spdlog::warn("ltrack's own files stay protected: {}", s.error);

	if (unload_ || policy_.unload_on_exit()) {
		if (status s = bpf_guard::unpin_all(opt_.pin_dir); !s.ok()) {
			spdlog::error("{}", s.error);
			return 1;
		}
		bpf_guard::unpin_shared_if_unused();
		spdlog::info("unloaded: programs detached, pins under {} removed", opt_.pin_dir);
	} else {
		spdlog::info("exiting; enforcement stays pinned under {} (ltrackd --unload removes it)", opt_.pin_dir);
	}
	return 0;
}

void daemon::on_signal(const signalfd_siginfo &si)
{
	if (si.ssi_signo == SIGHUP) {
		bool ok;
		std::string msg = reload(policy_.path(), ok);
		(ok ? spdlog::info("SIGHUP: {}", msg) : spdlog::error("SIGHUP: {}", msg));
		return;
	}
	spdlog::info("signal {}: stopping", strsignal(si.ssi_signo));
	service::stopping();
	stop_ = true;
}

std::string daemon::reload(const std::string &path, bool &ok, const phase_fn &phase, std::string *json)
{
	// systemd sees the reload (RELOADING=1) and, whatever its outcome, the
	// service ready again with what is enforced now.
	service::reloading();
	auto t0 = std::chrono::steady_clock::now();
	std::string result = reload_policy(path, ok, phase, json);
	pipeline_.on_reload(ok, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
	configure_metrics();
	service::reloaded(fmt::format("enforcing {} ({} mode, {} profiles, {} rules){}", policy_.path(),
				      policy_.mode_name(), policy_.profile_count(), policy_.rule_count(),
				      ok ? "" : "; the last reload was rejected"));
	return result;
}

std::string daemon::reload_policy(const std::string &path, bool &ok, const phase_fn &phase, std::string *json)
{
	ok = false;
	auto say = [&phase](std::string_view name, const std::string &text) {
		if (phase)
			phase(name, text);
	};
	say("compile", "compiling " + path);
	policy_state next;
	if (std::string err = next.load(path, policy_.profile_ids()); !err.empty())
		return "rejected " + path + "; the active policy stays in force:\n" + err;
	if (std::string err = pipeline_.configure(next.active(), opt_.decision_log, opt_.foreground); !err.empty())
		return "rejected " + path + ": decision log: " + err;
	say("compile", fmt::format("compiled in {:.1f} ms: {} profiles, {} rules, {} map entries", next.compile_ms(),
				   next.profile_count(), next.rule_count(), next.compiled().entry_count()));
	apply_stats st;
	auto t0 = std::chrono::steady_clock::now();
	auto on_step = [&](std::string_view step, uint32_t slot, const apply_stats &a) {
		if (step == "fill")
			say("fill",
			    fmt::format("writing {} map entries into slot {}", next.compiled().entry_count(), slot));
		else if (step == "flip") {
			say("fill", fmt::format("written in {:.1f} ms", a.write_ms));
			say("swap", fmt::format("flipping the live slot to {}", slot));
		} else if (step == "cleanup")
			say("swap", fmt::format("live in {:.3f} ms; removing the previous slot's entries", a.flip_ms));
	};
	if (status s =
		    guard_.apply(next.compiled(), getpid(), &st, phase ? bpf_guard::apply_progress(on_step) : nullptr);
	    !s.ok())
		return "applying " + path + " failed: " + s.error;
	next.mark_applied(st);
	pipeline_.on_policy_applied(st.slot, next.shared());
	policy_ = std::move(next);
	if (status s = protect_own_files(); !s.ok())
		spdlog::warn("self-protection: {}", s.error);
	start_models();
	watch_targets();
	double swap_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	ok = true;
	say("swap", fmt::format("done in {:.1f} ms ({} entries of the previous slot removed in {:.1f} ms)", swap_ms,
				st.removed, st.cleanup_ms));
	if (json)
		*json = json_object()
				.str("reloaded", path)
				.num("profiles", policy_.profile_count())
				.num("rules", policy_.rule_count())
				.num("map_entries", policy_.compiled().entry_count())
				.num("slot", st.slot)
				.num("compile_ms", policy_.compile_ms())
				.num("swap_ms", swap_ms)
				.num("write_ms", st.write_ms)
				.num("flip_ms", st.flip_ms)
				.num("cleanup_ms", st.cleanup_ms)
				.num("entries_written", st.written)
				.num("entries_removed", st.removed)
				.text();
	return fmt::format("reloaded {} ({} profiles, {} rules): compiled in {:.1f} ms, swapped in {:.1f} ms "
			   "(write {:.1f}, flip {:.3f}, cleanup {:.1f}), slot {}",
			   path, policy_.profile_count(), policy_.rule_count(), policy_.compile_ms(), swap_ms,
			   st.write_ms, st.flip_ms, st.cleanup_ms, st.slot);
}

// The directories on the way to every rule's target, watched so that a
// target replaced by anyone (package tools, an admin) is re-resolved
// (target_watch.h).
void daemon::watch_targets()
{
	if (status s = targets_.start(policy_.compiled()); !s.ok())
		spdlog::warn("rule targets: {}", s.error);
	session_.watch(targets_.fd());
	session_.watch(targets_.timer_fd());
}

// A target's name changed and the debounce ran out: if a target names
// another object now, compile the policy in force again (its text as
// loaded, not the file on disk) and swap it in as a reload does.
void daemon::on_targets_timer()
{
	std::vector<std::string> changed = targets_.on_timer(policy_.compiled());
	if (changed.empty())
		return;
	std::string what = changed[0] + (changed.size() > 1 ? fmt::format(" and {} more", changed.size() - 1) : "");
	auto t0 = std::chrono::steady_clock::now();
	policy_state next;
	if (std::string err = next.load_again(policy_); !err.empty()) {
		spdlog::warn("{} replaced or removed; its rules stay on the inode they named until the path resolves "
			     "again or a reload: {}",
			     what, err);
		return;
	}
	apply_stats st;
	if (status s = guard_.apply(next.compiled(), getpid(), &st); !s.ok()) {
		spdlog::error(
			"{} replaced; applying the re-resolved policy failed, its rules stay on the old inode: {}",
			what, s.error);
		return;
	}
	// The model watcher watches directories by inode too: a model directory
	// replaced is watched and scanned again.
	bool same_models = next.model_dirs() == policy_.model_dirs();
	for (const auto &t : next.compiled().targets)
		if (t.role == "model-dir" && std::find(changed.begin(), changed.end(), t.written) != changed.end())
			same_models = false;
	next.mark_applied(st);
	pipeline_.on_policy_applied(st.slot, next.shared());
	policy_ = std::move(next);
	if (status s = protect_own_files(); !s.ok())
		spdlog::warn("self-protection: {}", s.error);
	if (!same_models)
		start_models();
	watch_targets();
	spdlog::info("{} replaced: the policy's paths resolved again and applied in {:.1f} ms (slot {})", what,
		     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), st.slot);
}

// The watcher, and the scan waiter when a profile has scan_at_open (it
// marks each directory the watcher watches). On a reload the marks are
// placed again from scratch.
void daemon::start_models()
{
	scan_wait_limits limits;
	for (const auto &p : policy_.compiled().profiles)
		if (p.scan_at_open_max_bytes)
			limits.max_bytes[p.id] = p.scan_at_open_max_bytes;
	if (limits.max_bytes.empty()) {
		session_.stop_waiter();
		models_.on_directory(nullptr);
	} else {
		if (waiter_.running()) {
			waiter_.configure(limits, policy_.trusted_digests());
			waiter_.unmark_all();
		} else if (status s = waiter_.start(guard_, limits, policy_.trusted_digests()); !s.ok()) {
			spdlog::warn("scan_at_open: {}; unscanned model files are refused at first open", s.error);
		}
		if (waiter_.running())
			models_.on_directory([this](int fd, const std::string &path) { waiter_.mark(fd, path); });
	}
	if (status s = models_.start(guard_, policy_.model_dirs(), policy_.trusted_digests()); !s.ok())
		spdlog::warn("models: {}", s.error);
	session_.watch_models();
}

// What a governed process may not replace or rewrite (lsm/self.bpf.c): the
// control socket and its directory (moved away, a fake socket could take
// its place), the policy file in force and ltrackd's own executable.
status daemon::protect_own_files()
{
	std::string dir = std::filesystem::path(opt_.socket_path).parent_path();
	return guard_.protect_files({opt_.socket_path, dir.empty() ? "." : dir, policy_.path(), "/proc/self/exe"},
				    session_.reports() ? session_.reports()->path() : std::string());
}

// Once a second: report drops, and flush so the log on disk is at most a
// second behind.
void daemon::check_counters()
{
	// Coalesced decisions whose window ended: their tally records go to
	// the ring now and are read on the next wake-up.
	// The report socket's counts, drops reported, changed models rescanned.
	if (status s = session_.tick(); !s.ok())
		spdlog::warn("{}", s.error);
	followers_.service();
	pipeline_.flush();
	write_metrics_file(false);
	watchdog_.beat();
}

// [metrics] as the policy in force says: the endpoint is (re)bound when its
// address changes. A metrics problem is logged, never a reason to stop
// enforcing or to reject a reload.
void daemon::configure_metrics()
{
	const policy::metrics_config &want = policy_.compiled().metrics;
	if (want.listen != metrics_.address() || (want.listen.empty() && metrics_.fd() >= 0)) {
		metrics_.close_all();
		if (!want.listen.empty()) {
			if (status s = metrics_.listen(want.listen, session_.epoll_fd(),
						       [this] { return metrics_text(); });
			    !s.ok())
				spdlog::error("{}; no metrics endpoint (under systemd: see docs/operations.md#metrics)",
					      s.error);
			else
				spdlog::info("metrics: serving GET /metrics on {}", want.listen);
		}
	}
	if (want.textfile != metrics_cfg_.textfile || want.textfile_interval_s != metrics_cfg_.textfile_interval_s) {
		textfile_due_ = {}; // at the next tick
		textfile_error_.clear();
	}
	metrics_cfg_ = want;
}

std::string daemon::metrics_text() const
{
	metrics::snapshot s;
	pipeline_.fill(s);
	s.scans = models_.scans_by_verdict();
	const auto &h = metrics_.stats();
	s.http_served = h.served;
	s.http_rejected = h.rejected;
	s.http_timed_out = h.timed_out;
	s.http_shed = h.shed;
	return metrics::render(s);
}

// [metrics] textfile: every textfile_interval (and at exit), replaced whole.
void daemon::write_metrics_file(bool now)
{
	if (metrics_cfg_.textfile.empty())
		return;
	auto t = std::chrono::steady_clock::now();
	if (!now && t < textfile_due_)
		return;
	textfile_due_ = t + std::chrono::seconds(metrics_cfg_.textfile_interval_s);
	std::string err = metrics::write_textfile(metrics_cfg_.textfile, metrics_text());
	if (!err.empty() && err != textfile_error_)
		spdlog::warn("metrics textfile: {} (under systemd the directory needs ReadWritePaths=; see "
			     "docs/operations.md#metrics)",
			     err);
	else if (err.empty() && !textfile_error_.empty())
		spdlog::info("metrics textfile: {} written again", metrics_cfg_.textfile);
	textfile_error_ = err;
}

// The control socket's side of `ltrackctl status`: who was refused, and
// the followers dropped for not reading.
std::string daemon::add_daemon_status(std::string text, bool json) const
{
	const auto &c = control_.stats();
	static const report_server::counters none{};
	const auto &r = session_.reports() ? session_.reports()->stats() : none;
	// Decisions lost to a full ring buffer, by profile name.
	std::string drops_json = "{", drops_text;
	for (const auto &[id, n] : guard_.read_profile_drops()) {
		std::string name = std::to_string(id);
		if (policy_.active())
			for (const auto &p : policy_.active()->profiles)
				if (p.id == id)
					name = p.name;
		drops_json += fmt::format("{}\"{}\":{}", drops_json.size() > 1 ? "," : "", name, n);
		drops_text += fmt::format(" {} {}", name, n);
	}
	drops_json += "}";
	if (json) {
		if (!text.empty() && text.back() == '}')
			text.pop_back();
		return text +
		       fmt::format(",\"drops_by_profile\":{},\"control\":{{\"served\":{},\"refused_uid\":{},"
				   "\"refused_governed\":{},\"refused_gone\":{},\"timed_out\":{},\"too_large\":{},"
				   "\"shed\":{},\"followers\":{},\"followers_dropped\":{}}},\"reports\":{{"
				   "\"connections\":{},\"governed\":{},\"ungoverned\":{},\"records\":{},"
				   "\"coalesced\":{},\"dropped\":{},\"malformed\":{},\"throttled\":{},\"shed\":{},"
				   "\"replies_lost\":{},\"shed_uid\":{},\"idle_closed\":{},\"over_budget\":{},"
				   "\"paused\":{}}}}}",
				   drops_json, c.served, c.refused_uid, c.refused_governed, c.refused_gone, c.timed_out,
				   c.too_large, c.shed, followers_.count(), followers_.dropped(), r.connections,
				   r.governed, r.ungoverned, r.records, r.coalesced, r.dropped, r.malformed,
				   r.throttled, r.shed, r.replies_lost, r.shed_uid, r.idle_closed, r.over_budget,
				   r.paused);
	}
	return text +
	       fmt::format("drops by profile:{}\ncontrol:     {} served; refused {} non-root, {} governed, {} "
			   "gone; {} timed out, {} too large, {} shed\nfollowers:   {} streaming, {} dropped for "
			   "not reading\nreports:     {} connections, {} records ({} coalesced, {} dropped), {} "
			   "malformed, {} throttled, {} shed ({} per uid), {} replies lost, {} idle closed, {} over "
			   "budget, {} accept pauses\n",
			   drops_text.empty() ? " none" : drops_text, c.served, c.refused_uid, c.refused_governed,
			   c.refused_gone, c.timed_out, c.too_large, c.shed, followers_.count(), followers_.dropped(),
			   r.connections, r.records, r.coalesced, r.dropped, r.malformed, r.throttled, r.shed,
			   r.shed_uid, r.replies_lost, r.idle_closed, r.over_budget, r.paused);
}

// Every request is answered on the event loop at once: none of them waits
// for anything but the daemon's own state (reload compiles and swaps).
void daemon::handle(control_request &req)
{
	const auto &f = req.fields;
	const std::string &cmd = f[0];
	bool json = f.size() > 1 && f[1] == "json";
	if (cmd == "version") {
		control_.respond(req.fd, true, control::protocol);
	} else if (cmd == "status") {
		ltrack_state st{};
		if (status s = guard_.read_state(st); !s.ok()) {
			control_.respond(req.fd, false, s.error);
			return;
		}
		std::string text = policy_.status_text(st, guard_, pipeline_, json, started_);
		control_.respond(req.fd, true, add_daemon_status(text, json));
	} else if (cmd == "stats") {
		control_.respond(req.fd, true, pipeline_.stats_text(json, models_.scans_by_verdict()));
	} else if (cmd == "reload") {
		// reload [PATH] [json] [progress]: ltrackctl sends PATH absolute,
		// so it is never taken for an option word (a policy file named
		// "json" in the current directory arrives as /DIR/json).
		std::string path = policy_.path();
		bool want_json = false, want_progress = false;
		for (std::size_t i = 1; i < f.size(); i++) {
			if (f[i] == "json")
				want_json = true;
			else if (f[i] == "progress")
				want_progress = true;
			else
				path = f[i];
		}
		phase_fn phase;
		if (want_progress)
			phase = [this, fd = req.fd](std::string_view name, const std::string &text) {
				control_.progress(fd, name, text);
			};
		bool ok;
		std::string json;
		std::string msg = reload(path, ok, phase, want_json ? &json : nullptr);
		(ok ? spdlog::info("{}", msg) : spdlog::error("{}", msg));
		control_.respond(req.fd, ok, ok && want_json ? json : msg);
	} else if (cmd == "mode" && f.size() >= 2) {
		std::string err = policy_.switch_mode(guard_, f[1], f.size() > 2 ? f[2] : "");
		if (err.empty())
			spdlog::info("mode {}{}", f[1], f.size() > 2 ? " for profile " + f[2] : "");
		control_.respond(req.fd, err.empty(), err.empty() ? "mode " + f[1] : err);
	} else if (cmd == "events" && f.size() >= 3) {
		std::vector<std::string> filters(f.begin() + 3, f.end());
		bool follow = f[1] == "follow";
		event_stream::query q;
		if (std::string err = event_stream::parse(pipeline_, f[2], filters, follow, q); !err.empty())
			control_.respond(req.fd, false, err);
		else if (follow)
			followers_.follow(control_.release(req.fd), std::move(q)); // the stream owns it now
		else
			control_.respond(req.fd, true, q.body);
	} else if (cmd == "unload") {
		control_.respond(req.fd, true, "unloading: programs detach and ltrackd exits");
		spdlog::info("unload requested by pid {}", req.pid);
		service::stopping();
		unload_ = stop_ = true;
	} else {
		control_.respond(req.fd, false, "unknown request '" + cmd + "'");
	}
}

} // namespace

int run_daemon(const daemon_options &opt)
{
	return daemon(opt).run();
}

} // namespace ltrack
