// ltrack_bench: the workloads bench/guest.sh times inside the VM.
//
//   ltrack_bench [--cgroup DIR] open PATH ITERS REPS      open+read+close PATH
//   ltrack_bench [--cgroup DIR] write PATH ITERS REPS     open for writing+write+close PATH
//   ltrack_bench [--cgroup DIR] map PATH ITERS REPS       open+mmap (shared, writable)+munmap+close PATH
//   ltrack_bench [--cgroup DIR] exec PROG ITERS REPS      fork+exec PROG (no arguments), wait
//   ltrack_bench [--cgroup DIR] connect PORT ITERS REPS   TCP connect to 127.0.0.1:PORT, close
//   ltrack_bench [--cgroup DIR] watch PATH SECONDS [RATE] open+read+close PATH for SECONDS or
//                                                         until SIGTERM; at most RATE a second
//   ltrack_bench pairs [--cgroup DIR] [--exe PATH] OP ARG ITERS PAIRS
//                                                         OP (open, write, map, exec, connect) in two
//                                                         worker processes, one repetition at a time
//   ltrack_bench [--cgroup DIR] flood DIR FILES SECONDS RATE PROCS
//                                                         PROCS processes (forks) open+read+close
//                                                         DIR/0 .. DIR/FILES-1 in turn (worker w:
//                                                         w, w+PROCS, ...) for SECONDS, at most RATE
//                                                         a second in all (0: as fast as they can)
//   ltrack_bench [--cgroup DIR] burst DIR COUNT           open+read+close DIR/0 .. DIR/COUNT-1 once
//   ltrack_bench drain LOG LINES TIMEOUT PID              SIGCONT to PID, then the seconds until LOG
//                                                         has grown by LINES lines (polled every 1 ms)
//   ltrack_bench mkfiles DIR N                            create DIR/0 .. DIR/N-1 (empty)
//   ltrack_bench mktree DIR DEPTH                         DIR/d/d/.../d (DEPTH levels) + file f
//
// The timed workloads print one JSON object on stdout:
//   {"op":"open","ns_per_op":[r1,r2,...],"ok":N,"failed":N,"errno":E}
// one ns_per_op entry per repetition (each ITERS operations). "failed" counts
// operations that failed (a denied open fails with EPERM; that is the point of
// the denied case) and errno is the last failure's. watch prints
// {"op":"watch","ops":N,"ok":N,"failed":N,"errno":E,"seconds":S}; flood and
// burst print the same with "op":"flood" or "burst" (flood: summed over its
// processes, seconds the longest's), drain {"op":"drain","lines":N,"seconds":S}
// ("lines" short of LINES: it timed out).
//
// flood and burst are the decision pipeline's load: each open of another
// file is another decision (the kernel coalesces only repeats of one process,
// object and rule within a second, lsm/abi.h), so with FILES well above the
// rate every refusal is a record of its own.
// --cgroup moves the process into the cgroup v2 directory DIR first, so a
// policy governing that cgroup governs it. Exit status 0 unless the workload
// could not run at all (bad arguments, no listener, cannot join the cgroup).
//
// pairs is the interleaved measurement: it starts two workers, forks of this
// process, on the same file, a baseline one (A: stays in this process's
// cgroup) and a measured one (B: moved into --cgroup DIR first, and executing
// --exe PATH, a copy under an AppArmor profile, if given), warms
// both, then runs PAIRS pairs of one ITERS-operation repetition each, A then
// B or B then A (a fixed-seed coin per pair), over pipes; only one worker runs
// at a time, both pinned to the CPU the controller was on, and the
// controller waits blocked. Whatever drifts on the host
// (the emulator, other guests, the daemon's writing) hits both members of a
// pair alike, so the per-pair ratio B/A cancels it. It prints the measured
// series as the workloads above do, plus the baseline's:
//   {"op":"open","ns_per_op":[B1,...],"ok":N,"failed":N,"errno":E,
//    "baseline":{"ns_per_op":[A1,...],"ok":N,"failed":N,"errno":E},"b_first":[0,1,...],"cpu":C}
// Without --cgroup and --exe both workers are alike: an A/A control whose
// ratio must come out 1.0 within its interval.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <fcntl.h>
#include <netinet/in.h>
#include <random>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int)
{
	stop_requested = 1;
}

[[noreturn]] void die(const std::string &what)
{
	std::fprintf(stderr, "ltrack_bench: %s\n", what.c_str());
	std::exit(2);
}

long number(const char *s, const char *what)
{
	char *end = nullptr;
	errno = 0;
	long v = std::strtol(s, &end, 10);
	if (errno || !end || *end || v < 0)
		die(std::string("bad ") + what + " '" + s + "'");
	return v;
}

struct tally {
	long ok = 0, failed = 0;
	int last_errno = 0;
	void fail(int e)
	{
		failed++;
		last_errno = e;
	}
};

// One open+read+close; false with errno on failure.
bool open_read_close(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	close(fd);
	errno = e;
	return n >= 0;
}

bool open_write_close(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = write(fd, "w", 1);
	int e = errno;
	close(fd);
	errno = e;
	return n == 1;
}

// The file must be at least a page long.
bool open_map_close(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	void *p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);
	errno = e;
	return p != MAP_FAILED;
}

bool fork_exec(const char *prog)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		execl(prog, prog, static_cast<char *>(nullptr));
		_exit(100 + errno);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	errno = WIFEXITED(st) && WEXITSTATUS(st) >= 100 ? WEXITSTATUS(st) - 100 : ECHILD;
	return false;
}

bool tcp_connect(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return r == 0;
}

// A loopback listener on an ephemeral port that accepts and closes forever
// (a thread of this process; socket_connect is the only hook involved).
int start_listener()
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	if (l < 0 || bind(l, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0 || listen(l, 4096) < 0 ||
	    getsockname(l, reinterpret_cast<sockaddr *>(&a), &len) < 0)
		die(std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
	std::thread([l] {
		for (;;) {
			int c = accept(l, nullptr, nullptr);
			if (c >= 0)
				close(c);
		}
	}).detach();
	return ntohs(a.sin_port);
}

template <class Op>
void timed(const char *name, long iters, long reps, Op op)
{
	tally t;
	std::vector<double> per_op;
	for (long i = 0; i < iters / 10 + 1; i++) // warm caches and the dentry path
		if (!op())
			t.fail(errno);
	t = {};
	for (long r = 0; r < reps; r++) {
		auto start = clock_type::now();
		for (long i = 0; i < iters; i++) {
			if (op())
				t.ok++;
			else
				t.fail(errno);
		}
		auto ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
		per_op.push_back(ns / static_cast<double>(iters));
	}
	std::printf("{\"op\":\"%s\",\"ns_per_op\":[", name);
	for (size_t i = 0; i < per_op.size(); i++)
		std::printf("%s%.1f", i ? "," : "", per_op[i]);
	std::printf("],\"ok\":%ld,\"failed\":%ld,\"errno\":%d}\n", t.ok, t.failed, t.last_errno);
}

// The operation OP on ARG, as a callable (connect: ARG 0 starts a listener in
// this process).
std::function<bool()> operation(const std::string &op, const std::string &arg)
{
	if (op == "open")
		return [arg] { return open_read_close(arg.c_str()); };
	if (op == "write")
		return [arg] { return open_write_close(arg.c_str()); };
	if (op == "map")
		return [arg] { return open_map_close(arg.c_str()); };
	if (op == "exec")
		return [arg] { return fork_exec(arg.c_str()); };
	if (op == "connect") {
		long port = number(arg.c_str(), "PORT");
		if (port == 0)
			port = start_listener();
		return [port] { return tcp_connect(static_cast<int>(port)); };
	}
	die("unknown workload '" + op + "' (see the head of bench/driver.cpp)");
}

// One side of `pairs`: warms up, says "ready", then runs one repetition of
// ITERS operations per "r" line on stdin and answers "NS_PER_OP OK FAILED ERRNO".
void worker(const std::string &op, const std::string &arg, long iters)
{
	auto f = operation(op, arg);
	for (long i = 0; i < iters / 10 + 1; i++)
		f();
	std::printf("ready\n");
	std::fflush(stdout);
	char line[16];
	while (std::fgets(line, sizeof line, stdin) && line[0] == 'r') {
		tally t;
		auto start = clock_type::now();
		for (long i = 0; i < iters; i++) {
			if (f())
				t.ok++;
			else
				t.fail(errno);
		}
		auto ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
		std::printf("%.1f %ld %ld %d\n", ns / static_cast<double>(iters), t.ok, t.failed, t.last_errno);
		std::fflush(stdout);
	}
}

struct side {
	pid_t pid = -1;
	FILE *to = nullptr, *from = nullptr;
	tally t;
	std::vector<double> per_op;
};

void join_cgroup(const std::string &dir);

// Starts a worker with its stdin and stdout on pipes, joining CGROUP first
// (empty: stays here), and waits for it to be warm: a fork of this process,
// or with EXE `EXE worker OP ARG ITERS` (an exec costs a lot under emulation).
side start_worker(const std::string &exe, const std::string &cgroup, const std::string &op, const std::string &arg,
		  const std::string &iters)
{
	int down[2], up[2];
	if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0)
		die(std::string("pipe: ") + std::strerror(errno));
	std::fflush(nullptr);
	pid_t pid = fork();
	if (pid < 0)
		die(std::string("fork: ") + std::strerror(errno));
	if (pid == 0) {
		if (!cgroup.empty())
			join_cgroup(cgroup);
		if (dup2(down[0], 0) < 0 || dup2(up[1], 1) < 0)
			_exit(2);
		// Not the other worker's pipes (it would never see its end of input).
		if (close_range(3, ~0U, 0) < 0)
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
		if (exe.empty()) {
			worker(op, arg, number(iters.c_str(), "ITERS"));
			std::fflush(stdout);
			_exit(0);
		}
		execl(exe.c_str(), exe.c_str(), "worker", op.c_str(), arg.c_str(), iters.c_str(),
		      static_cast<char *>(nullptr));
		std::fprintf(stderr, "ltrack_bench: cannot execute %s: %s\n", exe.c_str(), std::strerror(errno));
		_exit(2);
	}
	close(down[0]);
	close(up[1]);
	side s;
	s.pid = pid;
	s.to = fdopen(down[1], "w");
	s.from = fdopen(up[0], "r");
	char line[64];
	if (!s.to || !s.from || !std::fgets(line, sizeof line, s.from) || std::string(line) != "ready\n")
		die("the worker " + (exe.empty() ? std::string("(fork)") : exe) + " did not start");
	return s;
}

void one_repetition(side &s)
{
	double ns = 0;
	long ok = 0, failed = 0;
	int e = 0;
	if (std::fprintf(s.to, "r\n") < 0 || std::fflush(s.to) != 0 ||
	    std::fscanf(s.from, "%lf %ld %ld %d", &ns, &ok, &failed, &e) != 4)
		die("a worker stopped answering");
	s.per_op.push_back(ns);
	s.t.ok += ok;
	s.t.failed += failed;
	if (failed)
		s.t.last_errno = e;
}

// The series' fields: "ns_per_op":[...],"ok":N,"failed":N,"errno":E
void print_fields(const side &s)
{
	std::printf("\"ns_per_op\":[");
	for (size_t i = 0; i < s.per_op.size(); i++)
		std::printf("%s%.1f", i ? "," : "", s.per_op[i]);
	std::printf("],\"ok\":%ld,\"failed\":%ld,\"errno\":%d", s.t.ok, s.t.failed, s.t.last_errno);
}

void pairs(const std::string &cgroup, const std::string &exe_b, const std::string &op, const std::string &arg,
	   const std::string &iters, long n)
{
	number(iters.c_str(), "ITERS");
	// Both workers on one CPU (the one this process runs on; they inherit
	// it): otherwise each tends to stay on its own vCPU, and on a busy host
	// the two vCPU threads get unequal shares, which no interleaving cancels.
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof set, &set) < 0)
		cpu = -1;
	side a = start_worker("", "", op, arg, iters);
	side b = start_worker(exe_b, cgroup, op, arg, iters);
	std::mt19937 coin(19);
	std::vector<int> b_first;
	for (long i = 0; i < n; i++) {
		bool bf = coin() & 1;
		b_first.push_back(bf);
		one_repetition(bf ? b : a);
		one_repetition(bf ? a : b);
	}
	for (side *s : {&a, &b}) {
		std::fclose(s->to);
		std::fclose(s->from);
		int st = 0;
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
		}
	}
	// The measured side in the workloads' own shape, the baseline beside it.
	std::printf("{\"op\":\"%s\",", op.c_str());
	print_fields(b);
	std::printf(",\"baseline\":{");
	print_fields(a);
	std::printf("},\"b_first\":[");
	for (size_t i = 0; i < b_first.size(); i++)
		std::printf("%s%d", i ? "," : "", b_first[i]);
	std::printf("],\"cpu\":%d}\n", cpu);
}

// Opens DIR/<first>, DIR/<first+step>, ... (wrapping at files) for seconds,
// paced at rate a second (0: unpaced), or count files once (seconds < 0).
tally open_files(const std::string &dir, long files, long first, long step, double seconds, double rate, long count,
		 double &took)
{
	tally t;
	auto start = clock_type::now();
	std::string path;
	long k = first;
	for (long n = 0;; n++) {
		took = std::chrono::duration<double>(clock_type::now() - start).count();
		if (count >= 0 ? n >= count : (stop_requested || took >= seconds))
			break;
		if (rate > 0) {
			auto due = start + std::chrono::duration_cast<clock_type::duration>(
						   std::chrono::duration<double>(double(n) / rate));
			if (due > clock_type::now())
				std::this_thread::sleep_until(due);
		}
		path = dir + "/" + std::to_string(k);
		if (open_read_close(path.c_str()))
			t.ok++;
		else
			t.fail(errno);
		k += step;
		if (k >= files)
			k = first % step;
	}
	took = std::chrono::duration<double>(clock_type::now() - start).count();
	return t;
}

void print_run(const char *op, const tally &t, double seconds)
{
	std::printf("{\"op\":\"%s\",\"ops\":%ld,\"ok\":%ld,\"failed\":%ld,\"errno\":%d,\"seconds\":%.3f}\n", op,
		    t.ok + t.failed, t.ok, t.failed, t.last_errno, seconds);
}

void flood(const std::string &dir, long files, double seconds, long rate, long procs)
{
	if (procs < 1 || files < procs)
		die("flood: PROCS must be at least 1 and at most FILES");
	std::vector<std::pair<pid_t, int>> kids;
	std::fflush(nullptr);
	for (long w = 0; w < procs; w++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			die(std::string("pipe: ") + std::strerror(errno));
		pid_t pid = fork();
		if (pid < 0)
			die(std::string("fork: ") + std::strerror(errno));
		if (pid == 0) {
			close(p[0]);
			double took = 0;
			tally t = open_files(dir, files, w, procs, seconds, double(rate) / double(procs), -1, took);
			char line[128];
			int len = std::snprintf(line, sizeof line, "%ld %ld %d %.6f\n", t.ok, t.failed, t.last_errno,
						took);
			if (write(p[1], line, static_cast<size_t>(len)) != len)
				_exit(2);
			_exit(0);
		}
		close(p[1]);
		kids.emplace_back(pid, p[0]);
	}
	tally all;
	double longest = 0;
	for (auto [pid, fd] : kids) {
		FILE *f = fdopen(fd, "r");
		long ok = 0, failed = 0;
		int e = 0;
		double took = 0;
		if (!f || std::fscanf(f, "%ld %ld %d %lf", &ok, &failed, &e, &took) != 4)
			die("a flood worker stopped answering");
		std::fclose(f);
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
		}
		all.ok += ok;
		all.failed += failed;
		if (failed)
			all.last_errno = e;
		longest = std::max(longest, took);
	}
	print_run("flood", all, longest);
}

// Newlines appended to fd since its offset *pos.
long count_new_lines(int fd, off_t &pos)
{
	char buf[1 << 16];
	long lines = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf, pos);
		if (n <= 0)
			return lines;
		pos += n;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
}

void drain(const std::string &log, long lines, double timeout, pid_t pid)
{
	int fd = open(log.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open " + log + ": " + std::strerror(errno));
	off_t pos = lseek(fd, 0, SEEK_END);
	long seen = 0;
	if (kill(pid, SIGCONT) < 0)
		die("cannot continue pid " + std::to_string(pid) + ": " + std::strerror(errno));
	auto start = clock_type::now(), last = start;
	while (seen < lines) {
		long more = count_new_lines(fd, pos);
		auto now = clock_type::now();
		if (more)
			last = now;
		seen += more;
		if (seen >= lines || std::chrono::duration<double>(now - start).count() > timeout)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	close(fd);
	// Until the last line came (not the poll that saw it).
	std::printf("{\"op\":\"drain\",\"lines\":%ld,\"seconds\":%.4f}\n", seen,
		    std::chrono::duration<double>(last - start).count());
}

void join_cgroup(const std::string &dir)
{
	std::string procs = dir + "/cgroup.procs";
	FILE *f = std::fopen(procs.c_str(), "w");
	if (!f || std::fprintf(f, "%d\n", getpid()) < 0 || std::fclose(f) != 0)
		die("cannot join cgroup " + dir + ": " + std::strerror(errno));
}

void mkfiles(const std::string &dir, long n)
{
	mkdir(dir.c_str(), 0755);
	for (long i = 0; i < n; i++) {
		std::string p = dir + "/" + std::to_string(i);
		int fd = open(p.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			die("cannot create " + p + ": " + std::strerror(errno));
		close(fd);
	}
}

void mktree(std::string dir, long depth)
{
	mkdir(dir.c_str(), 0755);
	for (long i = 0; i < depth; i++) {
		dir += "/d";
		if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
			die("cannot create " + dir + ": " + std::strerror(errno));
	}
	std::string f = dir + "/f";
	int fd = open(f.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "ltrack bench\n", 13) != 13)
		die("cannot write " + f);
	close(fd);
	std::printf("%s\n", f.c_str());
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.size() >= 2 && args[0] == "--cgroup") {
		if (args.size() >= 3 && args[2] == "pairs") // the baseline worker must stay where it is
			die("pairs takes --cgroup after the word pairs: it moves only the measured worker");
		join_cgroup(args[1]);
		args.erase(args.begin(), args.begin() + 2);
	}
	auto want = [&](size_t n) {
		if (args.size() != n)
			die("usage: see the head of bench/driver.cpp");
	};
	if (args.empty())
		die("usage: see the head of bench/driver.cpp");
	const std::string &cmd = args[0];
	if (cmd == "worker") {
		want(4);
		worker(args[1], args[2], number(args[3].c_str(), "ITERS"));
	} else if (cmd == "pairs") {
		std::string cgroup, exe;
		size_t i = 1;
		for (; i + 1 < args.size() && args[i].rfind("--", 0) == 0; i += 2) {
			if (args[i] == "--cgroup")
				cgroup = args[i + 1];
			else if (args[i] == "--exe")
				exe = args[i + 1];
			else
				die("pairs: unknown option '" + args[i] + "'");
		}
		if (args.size() - i != 4)
			die("usage: see the head of bench/driver.cpp");
		long n = number(args[i + 3].c_str(), "PAIRS");
		if (n < 1)
			die("pairs: PAIRS must be at least 1");
		pairs(cgroup, exe, args[i], args[i + 1], args[i + 2], n);
	} else if (cmd == "open") {
		want(4);
		std::string path = args[1];
		timed("open", number(args[2].c_str(), "ITERS"), number(args[3].c_str(), "REPS"),
		      [&] { return open_read_close(path.c_str()); });
	} else if (cmd == "write" || cmd == "map") {
		want(4);
		std::string path = args[1];
		bool map = cmd == "map";
		timed(cmd.c_str(), number(args[2].c_str(), "ITERS"), number(args[3].c_str(), "REPS"),
		      [&] { return map ? open_map_close(path.c_str()) : open_write_close(path.c_str()); });
	} else if (cmd == "exec") {
		want(4);
		std::string prog = args[1];
		timed("exec", number(args[2].c_str(), "ITERS"), number(args[3].c_str(), "REPS"),
		      [&] { return fork_exec(prog.c_str()); });
	} else if (cmd == "connect") {
		want(4);
		long port = number(args[1].c_str(), "PORT");
		if (port == 0)
			port = start_listener();
		timed("connect", number(args[2].c_str(), "ITERS"), number(args[3].c_str(), "REPS"),
		      [&] { return tcp_connect(static_cast<int>(port)); });
	} else if (cmd == "watch") {
		if (args.size() != 3 && args.size() != 4)
			die("usage: see the head of bench/driver.cpp");
		std::string path = args[1];
		double seconds = static_cast<double>(number(args[2].c_str(), "SECONDS"));
		long rate = args.size() == 4 ? number(args[3].c_str(), "RATE") : 0;
		tally t;
		auto start = clock_type::now();
		double took = 0;
		std::signal(SIGTERM, request_stop);
		while (!stop_requested &&
		       (took = std::chrono::duration<double>(clock_type::now() - start).count()) < seconds) {
			if (rate > 0) { // paced: operation n starts no earlier than n / RATE seconds in
				auto due =
					start +
					std::chrono::duration_cast<clock_type::duration>(
						std::chrono::duration<double>(double(t.ok + t.failed) / double(rate)));
				if (due > clock_type::now())
					std::this_thread::sleep_until(due);
			}
			if (open_read_close(path.c_str()))
				t.ok++;
			else
				t.fail(errno);
		}
		std::printf("{\"op\":\"watch\",\"ops\":%ld,\"ok\":%ld,\"failed\":%ld,\"errno\":%d,\"seconds\":%.3f}\n",
			    t.ok + t.failed, t.ok, t.failed, t.last_errno, took);
	} else if (cmd == "flood") {
		want(6);
		flood(args[1], number(args[2].c_str(), "FILES"),
		      static_cast<double>(number(args[3].c_str(), "SECONDS")), number(args[4].c_str(), "RATE"),
		      number(args[5].c_str(), "PROCS"));
	} else if (cmd == "burst") {
		want(3);
		long n = number(args[2].c_str(), "COUNT");
		double took = 0;
		tally t = open_files(args[1], n, 0, 1, 0, 0, n, took);
		print_run("burst", t, took);
	} else if (cmd == "drain") {
		want(5);
		drain(args[1], number(args[2].c_str(), "LINES"),
		      static_cast<double>(number(args[3].c_str(), "TIMEOUT")),
		      static_cast<pid_t>(number(args[4].c_str(), "PID")));
	} else if (cmd == "mkfiles") {
		want(3);
		mkfiles(args[1], number(args[2].c_str(), "N"));
	} else if (cmd == "mktree") {
		want(3);
		mktree(args[1], number(args[2].c_str(), "DEPTH"));
	} else {
		die("unknown workload '" + cmd + "' (see the head of bench/driver.cpp)");
	}
	return 0;
}
