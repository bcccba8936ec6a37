// ltrackctl run [--profile NAME] [--policy FILE] [--audit] [--kill-on-violation]
//   -- COMMAND ARGS...
// Runs one command governed by a profile and reports what it did. The run
// loads its own private, unpinned instance of the guard: its maps hold only
// this policy, its task label goes on the command's process alone (by
// pidfd, before the command is executed) and passes to everything the
// command starts, so the policy's selectors (executables, cgroups, all) play
// no part and no other process is governed by it. A running ltrackd is not
// touched and keeps governing by its own policy. The guard is pinned under
// /sys/fs/bpf/ltrack-run for the run's lifetime and the supervisor is
// ltrack's own (lsm/self.bpf.c), so the command can neither kill it nor
// free itself; if the supervisor is killed anyway (by the administrator)
// the command stays governed. When the run ends, whatever the command left
// running is killed, then the pins go and the programs detach.
//
// The run serves its own report socket (runtime/report_server.h) for the
// Python audit hook (python/ltrack_pyhook.py): the command gets
// LTRACK_REPORT_SOCKET naming it, so an interpreter the command starts asks
// the run, which knows it by this guard's label, whether it is governed,
// and its in-memory pickles are decided and recorded in the run's stream.
#include "commands.h"
#include "kernel_support.h"
#include "model_trial_policy.h"
#include "policy.h"
#include "record_format.h"
#include "run_summary.h"
#include "scanner.h"
#include "session.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace ltrack::ctl {
namespace {

namespace fs = std::filesystem;
namespace tr = ltrack::tracing;

struct run_options {
	std::string profile;
	std::string policy_path; // empty: the built-in model-trial policy
	bool audit = false;
	bool kill_on_violation = false;
	bool quiet = false;
	std::string format = "text";
	std::string log_path;
	std::vector<std::string> command;
};

void say(const std::string &msg)
{
	std::string line = "ltrackctl run: " + msg + "\n";
	[[maybe_unused]] auto n = write(STDERR_FILENO, line.data(), line.size());
}

int pidfd_open(pid_t pid)
{
	return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// The profile to run under: named, the built-in one, or the policy's only one.
const policy::compiled_profile *pick_profile(const policy::compiled_policy &p, const run_options &o,
					     const std::string &policy_name, std::string &err)
{
	std::string names;
	for (const auto &prof : p.profiles)
		names += (names.empty() ? "" : ", ") + prof.name;
	std::string want = o.profile;
	if (want.empty() && o.policy_path.empty())
		want = "model-trial";
	if (want.empty()) {
		if (p.profiles.size() == 1)
			return &p.profiles.front();
		err = policy_name + " has " + std::to_string(p.profiles.size()) + " profiles (" + names +
		      "): choose one with --profile NAME";
		return nullptr;
	}
	if (const auto *prof = p.find_profile(want))
		return prof;
	err = "profile '" + want + "' is not in " + policy_name + (names.empty() ? "" : "; its profiles: " + names);
	return nullptr;
}

// Every process the run governs (its task label in this guard's map): the
// command and whatever it started, wherever it moved. Signals each new one
// until a pass finds none; returns how many were signalled.
unsigned kill_governed(const bpf_guard &guard, std::set<pid_t> &signalled)
{
	unsigned killed = 0;
	for (int pass = 0; pass < 50; pass++) {
		unsigned found = 0;
		std::error_code ec;
		for (const auto &e : fs::directory_iterator("/proc", ec)) {
			const std::string name = e.path().filename();
			if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
				continue;
			pid_t pid = std::stoi(name);
			if (pid == getpid() || signalled.count(pid))
				continue;
			int fd = pidfd_open(pid);
			if (fd < 0)
				continue;
			if (guard.task_profile(fd)) {
				syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
				signalled.insert(pid);
				++found;
			}
			close(fd);
		}
		killed += found;
		if (!found)
			break;
	}
	return killed;
}

class run_session {
public:
	explicit run_session(const run_options &o) : o_(o) {}
	// The guard detaches once nothing the run started is left (see
	// wait_for_command) or when the run could not start.
	~run_session()
	{
		stop_reports();
		if (!pin_dir_.empty())
			if (status s = bpf_guard::unpin_all(pin_dir_); !s.ok())
				say(s.error);
	}
	int run();

private:
	bool prepare_policy();
	bool start_guard();
	void scan_arguments();
	bool model_by_name(const std::string &path) const;
	bool start_command();
	void wait_for_command();
	void on_record(const tr::decision_record &r);
	void forward_signal(const signalfd_siginfo &si);
	void start_reports();
	void stop_reports();

	run_options o_;
	std::string policy_name_;
	std::string pin_dir_; // this run's pins, removed at the end
	std::shared_ptr<policy::compiled_policy> policy_;
	const policy::compiled_profile *profile_ = nullptr;
	// The guard, the pipeline, the model watcher and scan waiter, the
	// tracer, the report socket and the event loop (runtime/session.h).
	session session_;
	bpf_guard &guard_ = session_.guard();
	decision_pipeline &pipeline_ = session_.pipeline();
	model_watch &models_ = session_.models();
	scan_waiter &waiter_ = session_.waiter();
	std::string report_dir_; // holds the report socket; removed at the end
	tr::run_summary summary_;
	tr::run_end end_;
	sigset_t old_mask_{};
	pid_t child_ = -1;
	int pidfd_ = -1, exec_err_fd_ = -1;
	std::set<pid_t> signalled_;
	std::chrono::steady_clock::time_point started_;
};

int run_session::run()
{
	// stdout is the command's: ltrackctl's own messages go to stderr.
	spdlog::set_default_logger(spdlog::stderr_color_mt("ltrackctl-run"));
	spdlog::set_pattern("ltrackctl run: %^%l%$: %v");
	spdlog::set_level(spdlog::level::warn);
	route_libbpf_output(false);
	if (geteuid() != 0) {
		say("must run as root: it loads BPF programs into the kernel (try: sudo ltrackctl run ...)");
		return tr::run_exit_error;
	}
	// Signals wait in a signalfd from here on; the command gets the old mask.
	if (status s = session_.open_loop(&old_mask_); !s.ok()) {
		say(s.error);
		return tr::run_exit_error;
	}

	if (!prepare_policy())
		return tr::run_exit_error;
	if (support_report sup = probe_kernel_support(); !sup.ok()) {
		say("cannot enforce on this kernel: " + sup.first_failure() + " (ltrackctl doctor shows every check)");
		return tr::run_exit_error;
	}
	if (!start_guard())
		return tr::run_exit_error;
	scan_arguments();
	if (!start_command())
		return tr::run_exit_error;
	wait_for_command();

	std::string report = (o_.format == "json" ? summary_.json(end_) : summary_.text(end_)) + "\n";
	[[maybe_unused]] auto n = write(STDERR_FILENO, report.data(), report.size());
	return summary_.exit_status(end_);
}

bool run_session::prepare_policy()
{
	policy::compile_result r;
	if (o_.policy_path.empty()) {
		policy_name_ = "built-in model-trial policy";
		r = policy::compile_string(model_trial_policy, model_trial_policy_name);
	} else {
		policy_name_ = o_.policy_path;
		r = policy::compile_file(o_.policy_path);
		for (const auto &d : r.diagnostics)
			if (!d.error)
				say(policy::format(d));
	}
	if (!r.ok()) {
		say("policy " + policy_name_ + " has errors; nothing was run:\n" + policy::format_all(r.diagnostics));
		return false;
	}
	policy_ = std::make_shared<policy::compiled_policy>(std::move(*r.policy));
	std::string err;
	profile_ = pick_profile(*policy_, o_, policy_name_, err);
	if (!profile_) {
		say(err + "; nothing was run");
		return false;
	}
	// Only the command is governed, and in the mode asked for: selectors go,
	// and every profile's mode is the run's (none but one is ever used).
	policy_->all_profile = 0;
	policy_->exe_profiles.clear();
	policy_->cgroup_profiles.clear();
	policy_->mode = o_.audit ? LTRACK_MODE_AUDIT : LTRACK_MODE_ENFORCE;
	for (auto &prof : policy_->profiles) {
		prof.all = false;
		prof.value.mode = LTRACK_MODE_INHERIT;
	}
	policy_->log.stats_interval_s = 0;
	// A model the command writes and then loads is decided by its content
	// at that first open, not refused as unscanned (docs/models.md,
	// scan_at_open): the run's own scan waiter answers it.
	if (!o_.audit)
		for (auto &prof : policy_->profiles)
			if (prof.value.model_policy != LTRACK_MODEL_OFF) {
				prof.value.flags |= LTRACK_PF_MODEL_WAIT;
				if (!prof.scan_at_open_max_bytes)
					prof.scan_at_open_max_bytes = 1024ull << 20;
			}
	return true;
}

// The run's models are named by extension anywhere, so its waiter marks
// whole filesystems: every one mounted that can hold regular files (not
// proc, sysfs, /dev and the like). For the run's lifetime, every open on
// them, by any process, waits for the waiter's reader thread (answered at
// once unless the kernel passed it as a governed first open).
void mark_filesystems(scan_waiter &w)
{
	static const std::set<std::string> pseudo{
		"proc",       "sysfs",    "devtmpfs", "devpts",      "cgroup",     "cgroup2", "bpf",
		"securityfs", "debugfs",  "tracefs",  "mqueue",      "hugetlbfs",  "pstore",  "configfs",
		"fusectl",    "efivarfs", "autofs",   "binfmt_misc", "rpc_pipefs", "nsfs",    "selinuxfs"};
	std::ifstream in("/proc/self/mountinfo");
	std::set<std::string> done;
	for (std::string line; std::getline(in, line);) {
		std::istringstream f(line);
		std::string id, parent, devno, root, point, field;
		f >> id >> parent >> devno >> root >> point;
		while (f >> field && field != "-") {
		}
		std::string type;
		f >> type;
		if (pseudo.count(type) || !done.insert(devno).second)
			continue;
		// mountinfo escapes space, tab, newline and backslash as \ooo.
		std::string path;
		for (std::size_t i = 0; i < point.size(); i++) {
			if (point[i] == '\\' && i + 3 < point.size()) {
				path += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
				i += 3;
			} else {
				path += point[i];
			}
		}
		w.mark_filesystem(path);
	}
}

bool run_session::start_guard()
{
	// Pinned for the run's lifetime: killing the supervisor does not free
	// the command. Runs that ended without cleaning up are cleaned first.
	bpf_guard::clean_stale_runs();
	if (mkdir(run_pins_root, 0700) < 0 && errno != EEXIST) {
		say(std::string("creating ") + run_pins_root + ": " + std::strerror(errno) +
		    " (is bpffs mounted on /sys/fs/bpf?)");
		return false;
	}
	pin_dir_ = bpf_guard::run_pin_dir(getpid());
	// The supervisor is ltrack's own: the command cannot kill, stop or trace it.
	if (status s = session_.start_guard(pin_dir_, LTRACK_GUARDIAN_RUN); !s.ok()) {
		say(s.error);
		return false;
	}
	apply_stats st;
	if (status s = guard_.apply(*policy_, getpid(), &st); !s.ok()) {
		say("applying the policy: " + s.error);
		return false;
	}
	// The run's log is --log or none: never the policy's (the daemon's) file.
	if (!o_.log_path.empty())
		if (std::string err = pipeline_.configure(policy_.get(), o_.log_path, false); !err.empty()) {
			say("--log: " + err);
			return false;
		}
	pipeline_.on_policy_applied(st.slot, policy_);
	pipeline_.subscribe([this](const tr::decision_record &r) { on_record(r); });
	if (std::string err = session_.start_tracer(); !err.empty())
		say("warning: no process context in the records: " + err);
	if (status s = models_.start(guard_, policy_->model_dirs, policy_->trusted_digests); !s.ok())
		say("warning: models: " + s.error);
	if (profile_->value.flags & LTRACK_PF_MODEL_WAIT) {
		scan_wait_limits limits;
		limits.max_bytes[profile_->id] = profile_->scan_at_open_max_bytes;
		if (status s = waiter_.start(guard_, limits, policy_->trusted_digests); !s.ok())
			say("warning: " + s.error + "; models the command writes are refused until scanned");
		else
			mark_filesystems(waiter_);
	}
	if (status s = session_.read_events(); !s.ok()) {
		say(s.error);
		return false;
	}
	start_reports();
	return true;
}

// The report socket of this run, in a directory of its own under the
// temporary directory ($TMPDIR or /tmp; mode 0711: the socket is reached by
// its name only). The guard lets the command connect to it whatever its
// unix rules say and never unlink or rename it (LTRACK_PROTECT_REPORT), nor
// touch its directory (LTRACK_PROTECT_FULL), as ltrackd's; the sender of a report is the process this guard labelled,
// read through its pidfd, never what the report says. Without it the
// command still runs: its interpreters then find no governor and install
// no hook (the kernel's decisions stay the boundary).
void run_session::start_reports()
{
	std::error_code ec;
	std::string tmpl = (fs::temp_directory_path(ec) / "ltrack-run-XXXXXX").string();
	if (ec)
		tmpl = "/tmp/ltrack-run-XXXXXX";
	std::vector<char> buf(tmpl.begin(), tmpl.end());
	buf.push_back('\0');
	if (!mkdtemp(buf.data())) {
		say(std::string("warning: no report socket for the Python audit hook: mkdtemp ") + tmpl + ": " +
		    std::strerror(errno));
		return;
	}
	report_dir_ = buf.data();
	chmod(report_dir_.c_str(), 0711);
	std::string path = report_dir_ + "/report.sock";
	status s = session_.serve_reports(path);
	if (s.ok())
		s = guard_.protect_files({report_dir_}, path); // as ltrackd's socket directory
	if (!s.ok()) {
		say("warning: no report socket for the Python audit hook: " + s.error);
		stop_reports();
		return;
	}
	// The command's environment: the hook asks this socket, not ltrackd's.
	setenv("LTRACK_REPORT_SOCKET", path.c_str(), 1);
}

// What the command's interpreters sent before they exited is read, then
// the socket and its directory go.
void run_session::stop_reports()
{
	session_.finish_reports();
	if (!report_dir_.empty()) {
		rmdir(report_dir_.c_str());
		report_dir_.clear();
	}
}

// Whether the run's profile calls this file a model by its name (a model
// extension, compared as the kernel does, without case).
bool run_session::model_by_name(const std::string &path) const
{
	auto lower = [](std::string s) {
		for (auto &c : s)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		return s;
	};
	std::string name = lower(fs::path(path).filename().string());
	const std::string prefix = "model extension ";
	for (const auto &sym : policy_->symbols) {
		if (sym.profile != profile_->name || sym.kind != "model-ext" || sym.text.rfind(prefix, 0) != 0)
			continue;
		std::string ext = lower(std::string(sym.text.substr(prefix.size())));
		if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
			return true;
	}
	return false;
}

// The model a command is given on its command line is scanned before it
// starts, so a safe one is not refused as unscanned. Only files the scanner
// recognises as a model format get a verdict. A Python script (`.py`, no
// model by its name) keeps a verdict only when the scan found it dangerous
// (unsafe, suspicious: the kernel then refuses it under any name), not
// `error`: a script whose first line reads as a pickle opcode (`import` is
// INST) is a broken pickle, and `python3 load.py model.pt` would be refused
// its own script. Any other file keeps `error` (a pickle the scanner cannot
// follow, whatever its name, is not let through by this scan).
void run_session::scan_arguments()
{
	for (std::size_t i = 1; i < o_.command.size(); i++) {
		const std::string &arg = o_.command[i];
		std::error_code ec;
		if (arg.empty() || arg[0] == '-' || !fs::is_regular_file(arg, ec))
			continue;
		const model_finding *f = models_.scan_path(arg, true);
		if (!f)
			continue;
		std::string kept;
		bool script = arg.size() > 3 && arg.compare(arg.size() - 3, 3, ".py") == 0;
		if (f->scanned.verdict == LTRACK_VERDICT_ERROR && script && !model_by_name(arg)) {
			status s = guard_.clear_model_verdict({f->dev, f->ino});
			kept = s.ok() ? "; a Python script, not a model by its name: no verdict is kept"
				      : "; a Python script, but its error verdict stays (" + s.error + ")";
		}
		say("scanned " + text_escape(arg) + ": " + std::string(scanner::format_name(f->result.fmt)) + ", " +
		    std::string(scanner::verdict_name(f->scanned.verdict)) +
		    (f->result.deciding.empty() ? "" : " (" + text_escape(f->result.deciding.front()) + ")") + kept);
	}
}

bool run_session::start_command()
{
	int go[2], exec_err[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(exec_err, O_CLOEXEC) < 0) {
		say(std::string("pipe: ") + std::strerror(errno));
		return false;
	}
	std::vector<char *> argv;
	for (auto &a : o_.command)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);

	child_ = fork();
	if (child_ < 0) {
		say(std::string("fork: ") + std::strerror(errno));
		return false;
	}
	if (child_ == 0) {
		// Wait until the parent has labelled this process: the command must
		// never run a single instruction ungoverned.
		close(go[1]);
		close(exec_err[0]);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv.data());
		int e = errno;
		[[maybe_unused]] auto n = write(exec_err[1], &e, sizeof e);
		_exit(127);
	}
	close(go[0]);
	close(exec_err[1]);
	exec_err_fd_ = exec_err[0];
	pidfd_ = pidfd_open(child_);
	status s = pidfd_ < 0 ? status::fail(std::string("pidfd_open: ") + std::strerror(errno))
			      : guard_.govern_task(pidfd_, profile_->id);
	if (!s.ok()) {
		say(s.error + "; the command was not started");
		kill(child_, SIGKILL);
		waitpid(child_, nullptr, 0);
		return false;
	}
	end_.command = o_.command;
	end_.profile = profile_->name;
	end_.policy = policy_name_;
	end_.mode = o_.audit ? "audit" : "enforce";
	say("running " + text_escape(o_.command.front()) + " (pid " + std::to_string(child_) + ") under profile " +
	    profile_->name + " of the " + policy_name_ + ", " + end_.mode + " mode" +
	    (o_.kill_on_violation ? ", killed at the first violation" : ""));
	started_ = std::chrono::steady_clock::now();
	if (write(go[1], "g", 1) != 1) {
		say(std::string("starting the command: ") + std::strerror(errno));
		close(go[1]);
		return false;
	}
	close(go[1]);
	return true;
}

void run_session::on_record(const tr::decision_record &r)
{
	summary_.add(r);
	if (!o_.quiet) {
		std::string line = (o_.format == "json" ? tr::format_json(r) : "ltrack: " + tr::format_text(r)) + "\n";
		[[maybe_unused]] auto n = write(STDERR_FILENO, line.data(), line.size());
	}
	if (o_.kill_on_violation && !end_.killed_on_violation && abi::is_denial(r.outcome)) {
		end_.killed_on_violation = true;
		unsigned n = kill_governed(guard_, signalled_);
		say("violation (" + tr::outcome_name(r.outcome) + " " + tr::hook_name(r.hook) + " " +
		    tr::object_text(r) + "): killed " + std::to_string(n) + " process(es) of the run");
	}
}

// Signals someone sent ltrackctl go to the command; a terminal's ^C reached
// the command already (same process group).
void run_session::forward_signal(const signalfd_siginfo &si)
{
	if (si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE)
		kill(child_, static_cast<int>(si.ssi_signo));
}

void run_session::wait_for_command()
{
	bool exited = false;
	session::loop_handlers loop;
	loop.on_signal = [this](const signalfd_siginfo &si) { forward_signal(si); };
	loop.on_tick = [this] { (void)session_.tick(); }; // the last flush reports its error
	loop.on_fd = [this, &exited](int fd, uint32_t) {
		if (fd == pidfd_)
			exited = true;
	};
	session_.watch(pidfd_);
	(void)session_.run(loop, exited); // epoll failed: waitpid below waits for the command
	int wstatus = 0;
	waitpid(child_, &wstatus, 0);
	end_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
	if (WIFEXITED(wstatus))
		end_.exit_code = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		end_.signal = WTERMSIG(wstatus);
	int exec_errno = 0;
	if (read(exec_err_fd_, &exec_errno, sizeof exec_errno) == sizeof exec_errno && exec_errno) {
		end_.exec_failed = true;
		end_.exec_error =
			"cannot execute " + text_escape(o_.command.front()) + ": " + std::strerror(exec_errno);
	}
	// Unscanned files are refused again; what still waits is answered FAN_DENY.
	session_.stop_waiter();
	stop_reports();
	session_.drain();
	// The guard detaches when ltrackctl exits: nothing the command started
	// may outlive it ungoverned.
	signalled_.insert(child_);
	end_.leftover_killed = kill_governed(guard_, signalled_);
	if (status s = guard_.flush_coalesced(true); !s.ok()) // every coalesced decision into the summary
		say("the last tallies of coalesced decisions are lost: " + s.error);
	session_.drain();
	counters k = guard_.read_counters();
	pipeline_.on_counters(k);
	pipeline_.flush();
	end_.records_dropped = k.values[LTRACK_CNT_RINGBUF_DROPS];
}

} // namespace

void add_run_command(CLI::App &app, context &ctx)
{
	auto o = std::make_shared<run_options>();
	CLI::App *c = app.add_subcommand(
		"run", "Run one command governed by a profile, stream its decisions and summarise them on exit");
	c->footer("Example: ltrackctl run --audit -- python3 load.py model.pt\n"
		  "Exit status: 0 nothing refused and the command succeeded; 1 the command could not be run; "
		  "2 nothing refused but the command failed; 3 something was refused (or, with --audit, would "
		  "have been); 4 --kill-on-violation killed the command; 5 decision records were dropped, so the "
		  "record of what the command did is incomplete.");
	c->add_option("--profile", o->profile,
		      "Profile to run under (default: the policy's only profile; model-trial "
		      "for the built-in policy)");
	c->add_option("--policy", o->policy_path, "Policy file (default: the built-in model-trial policy)")
		->check(CLI::ExistingFile);
	c->add_flag("--audit", o->audit, "Refuse nothing; report what enforce mode would refuse");
	c->add_flag("--kill-on-violation", o->kill_on_violation,
		    "Kill the command (and all it started) at the first violation");
	c->add_option("--format", o->format, "Decisions and summary as text or json")
		->check(CLI::IsMember({"text", "json"}));
	c->add_flag("-q,--quiet", o->quiet, "Print only the summary, not each decision");
	c->add_option("--log", o->log_path, "Also write every decision to this file (the policy's [log] format)");
	c->add_option("command", o->command, "The command and its arguments, after --")->required();
	c->callback([o, &ctx] { ctx.exit_code = run_session(*o).run(); });
}

} // namespace ltrack::ctl
