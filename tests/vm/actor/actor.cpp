// ltrack_vm_actor: the process a VM test governs. It performs one operation
// and reports what the kernel said, so the test sees exactly the errno a
// real governed program would see.
//
//   ltrack_vm_actor open PATH
//   ltrack_vm_actor create PATH                      (open O_WRONLY|O_CREAT|O_TRUNC, write a line)
//   ltrack_vm_actor setresuid R E S                  (-1 keeps an id; reports setresuid's errno)
//   ltrack_vm_actor setresgid R E S
//   ltrack_vm_actor regain-root UID                  (root: seteuid(UID), then seteuid(0); reports the second)
//   ltrack_vm_actor regain-cap N                     (root: drop capability N from the effective set
//                                                     with capset(2), then raise it again; reports the second)
//   ltrack_vm_actor exec PATH [ARGS...]
//   ltrack_vm_actor connect ADDR PORT [tcp|udp]     (ADDR: IPv4, IPv6 or v4-mapped v6)
//   ltrack_vm_actor connect-unix PATH                (PATH "@name": an abstract socket)
//   ltrack_vm_actor send-unix PATH                   (one datagram to a named datagram socket)
//   ltrack_vm_actor resolve HOST                     (getaddrinfo(AI_ADDRCONFIG) and if_nameindex)
//   ltrack_vm_actor socket FAMILY TYPE PROTO         (numbers; reports socket(2)'s errno)
//   ltrack_vm_actor net OP FAMILY TYPE PROTO ADDR_FAMILY ADDR PORT LEN
//                                                    (socket(FAMILY, TYPE, PROTO), then an address
//                                                     laid out for ADDR (IPv4 or IPv6) with
//                                                     sa_family ADDR_FAMILY and length LEN; OP:
//                                                     connect, sendto (one byte), or connect-send
//                                                     (connect, then send one byte unaddressed))
//   ltrack_vm_actor child OP ARGS...                 (fork; the child performs OP)
//   ltrack_vm_actor map-exec PATH OP ARGS...         (map PATH readable, mprotect it executable, then OP:
//                                                     running a program's code without exec or ld.so)
//   ltrack_vm_actor open-each PATH...                (open each PATH for reading once; prints
//                                                     "ERRNO PATH" per path, 0 when it opened)
//   ltrack_vm_actor loop-open N PATH...              (open each PATH in turn, N rounds)
//   ltrack_vm_actor loop-open-for SECONDS PATH...    (the same, as many rounds as fit in SECONDS;
//                                                     prints allowed=A denied=D seconds=S)
//   ltrack_vm_actor ctl SOCKET FIELD...              (connect to ltrackd's control socket, send one
//                                                     request, print the reply; exit 0 for "ok", 1 for
//                                                     "error", 100 + errno when connect/send fails)
//   ltrack_vm_actor ctl-fd FD FIELD...               (the same on an already connected socket FD)
//   ltrack_vm_actor tamper OP ARGS...                (an attempt on ltrack itself, see do_tamper)
//   ltrack_vm_actor open-per-line PATH               (for each line read on stdin, open PATH and report;
//                                                     one process deciding more than once)
//   ltrack_vm_actor link FROM TO                     (link(2))
//   ltrack_vm_actor rename FROM TO                   (rename(2))
//   ltrack_vm_actor exchange A B                     (renameat2(RENAME_EXCHANGE))
//   ltrack_vm_actor unlink PATH                      (unlink(2))
//   ltrack_vm_actor rmdir PATH                       (rmdir(2))
//   ltrack_vm_actor write PATH TEXT                  (open O_WRONLY|O_TRUNC, write TEXT: a sysctl)
//   ltrack_vm_actor mount FSTYPE SOURCE TARGET [OPTIONS]  (mount(2) of a filesystem)
//   ltrack_vm_actor bind SOURCE TARGET               (mount(2) MS_BIND)
//   ltrack_vm_actor umount TARGET                    (umount2(2))
//   ltrack_vm_actor move-mount SOURCE TARGET         (open_tree(OPEN_TREE_CLONE) + move_mount(2))
//   ltrack_vm_actor fsopen FSTYPE KEY=VALUE...       (fsopen + fsconfig + FSCONFIG_CMD_CREATE; reports
//                                                     the create, the step that makes the instance)
//   ltrack_vm_actor open-by-handle DIR NAME          (name_to_handle_at of DIR/NAME, drop the dentry
//                                                     and inode caches, then open_by_handle_at)
//   ltrack_vm_actor link-by-handle DIR NAME TO       (the same with O_PATH, then linkat(AT_EMPTY_PATH) to TO)
//   ltrack_vm_actor slow-copy-open SRC DST CHUNKS PAUSE_MS BUSY MB
//                                                    (write SRC into DST in place in CHUNKS writes with
//                                                     PAUSE_MS between, write MB MiB of zeros to BUSY,
//                                                     close DST and open it for reading at once)
//
// Prints "ok" or "errno=N (text)" and exits 0 or 100 + errno (capped), so
// the caller can tell "denied" from "crashed" or "killed".
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

static int report(int err)
{
	if (err == 0) {
		std::printf("ok\n");
		return 0;
	}
	std::printf("errno=%d (%s)\n", err, std::strerror(err));
	return 100 + (err > 100 ? 100 : err);
}

static int do_open_mode(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd < 0)
		return report(errno);
	close(fd);
	return report(0);
}

static int do_open(const char *path)
{
	return do_open_mode(path, O_RDONLY);
}

static int do_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return report(errno);
	bool ok = write(fd, "secret\n", 7) == 7;
	int err = ok ? 0 : errno;
	close(fd);
	return report(err);
}

// Both setuid steps print the ids after them, for the test's message.
static int do_regain_root(uid_t uid)
{
	if (seteuid(uid) != 0) {
		std::printf("seteuid(%u) failed: %s\n", uid, std::strerror(errno));
		return 2;
	}
	std::printf("euid %u\n", geteuid());
	int r = seteuid(0);
	int err = r < 0 ? errno : 0;
	std::printf("euid %u\n", geteuid());
	return report(err);
}

static int capset_effective(int cap, bool on)
{
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2]{};
	if (syscall(SYS_capget, &hdr, data) != 0)
		return errno;
	if (on)
		data[cap / 32].effective |= 1u << (cap % 32);
	else
		data[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : errno;
}

static int do_regain_cap(int cap)
{
	if (int err = capset_effective(cap, false)) {
		std::printf("dropping capability %d failed: %s\n", cap, std::strerror(err));
		return 2;
	}
	return report(capset_effective(cap, true));
}

static int do_connect(const char *addr, const char *port, const char *proto)
{
	bool udp = proto && std::strcmp(proto, "udp") == 0;
	sockaddr_storage ss{};
	socklen_t len;
	int family;
	auto *in4 = reinterpret_cast<sockaddr_in *>(&ss);
	auto *in6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		family = in4->sin_family = AF_INET;
		in4->sin_port = htons(std::atoi(port));
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		family = in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(std::atoi(port));
		len = sizeof(*in6);
	} else {
		std::fprintf(stderr, "bad address %s\n", addr);
		return 2;
	}
	int s = socket(family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (s < 0)
		return report(errno);
	int r = connect(s, reinterpret_cast<sockaddr *>(&ss), len);
	int err = r < 0 ? errno : 0;
	close(s);
	// Nothing listening is the network's answer, not ltrack's: report it
	// as such so tests can tell it from EPERM.
	return report(err);
}

// "@name" is the abstract socket "\0name" (its length is exactly that).
static socklen_t unix_address(const char *path, sockaddr_un &sun)
{
	sun = {};
	sun.sun_family = AF_UNIX;
	if (path[0] != '@') {
		std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		return sizeof(sun);
	}
	std::size_t n = std::min(std::strlen(path + 1), sizeof(sun.sun_path) - 1);
	std::memcpy(sun.sun_path + 1, path + 1, n);
	return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

static int do_connect_unix(const char *path, int type)
{
	sockaddr_un sun;
	socklen_t len = unix_address(path, sun);
	int s = socket(AF_UNIX, type, 0);
	if (s < 0)
		return report(errno);
	int r = type == SOCK_STREAM ? connect(s, reinterpret_cast<sockaddr *>(&sun), len)
				    : static_cast<int>(sendto(s, "x", 1, 0, reinterpret_cast<sockaddr *>(&sun), len));
	int err = r < 0 ? errno : 0;
	close(s);
	return report(err);
}

// What glibc asks netlink for: the host's addresses (getaddrinfo with
// AI_ADDRCONFIG) and its interfaces (if_nameindex).
static int do_resolve(const char *host)
{
	addrinfo hints{}, *res = nullptr;
	hints.ai_flags = AI_ADDRCONFIG;
	hints.ai_socktype = SOCK_STREAM;
	if (int e = getaddrinfo(host, "80", &hints, &res)) {
		std::printf("getaddrinfo: %s (errno %d)\n", gai_strerror(e), errno);
		return 3;
	}
	freeaddrinfo(res);
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return report(errno);
	if_freenameindex(ifs);
	return report(0);
}

static int do_socket(int family, int type, int protocol)
{
	int s = socket(family, type, protocol);
	if (s < 0)
		return report(errno);
	close(s);
	return report(0);
}

// An address as a program that has read the kernel might pass it: any
// sa_family over an IPv4 or IPv6 layout, any length.
static int do_net(const char *op, int family, int type, int protocol, int addr_family, const char *addr,
		  const char *port, int len)
{
	sockaddr_storage ss{};
	auto *in4 = reinterpret_cast<sockaddr_in *>(&ss);
	auto *in6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_port = htons(std::atoi(port));
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_port = htons(std::atoi(port));
	} else {
		std::fprintf(stderr, "bad address %s\n", addr);
		return 2;
	}
	ss.ss_family = static_cast<sa_family_t>(addr_family);
	int s = socket(family, type, protocol);
	if (s < 0)
		return report(errno);
	auto *sa = reinterpret_cast<sockaddr *>(&ss);
	int r;
	if (std::strcmp(op, "sendto") == 0) {
		r = static_cast<int>(sendto(s, "x", 1, 0, sa, static_cast<socklen_t>(len)));
	} else {
		r = connect(s, sa, static_cast<socklen_t>(len));
		if (r == 0 && std::strcmp(op, "connect-send") == 0) {
			std::printf("connected\n");
			r = static_cast<int>(send(s, "x", 1, 0));
		}
	}
	int err = r < 0 ? errno : 0;
	close(s);
	return report(err);
}

static int do_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return report(errno);
	ssize_t n = write(fd, text, std::strlen(text));
	int err = n < 0 ? errno : 0;
	close(fd);
	return report(err);
}

// Writes a copy of src to dst (created) and opens it for reading at once,
// as a download that finishes and is loaded: the errno of that last open
// (or of the copy, which then fails first), and how long the open took, in
// microseconds, on stdout before the report. With tmp, the copy is written
// there and renamed to dst (how downloaders finish a file).
static int do_copy_open(const char *src, const char *dst, const char *tmp = nullptr)
{
	char buf[65536];
	int in = open(src, O_RDONLY);
	if (in < 0)
		return report(errno);
	ssize_t n = read(in, buf, sizeof(buf));
	close(in);
	if (n < 0)
		return report(errno);
	int out = open(tmp ? tmp : dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return report(errno);
	bool ok = write(out, buf, static_cast<size_t>(n)) == n;
	int werr = errno;
	close(out);
	if (!ok)
		return report(werr);
	if (tmp && rename(tmp, dst) < 0)
		return report(errno);
	timespec t0{}, t1{};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = open(dst, O_RDONLY);
	int err = fd < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fd >= 0) {
		char c;
		if (read(fd, &c, 1) < 0)
			err = errno;
		close(fd);
	}
	printf("open_us %lld\n", (long long)((t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000));
	fflush(stdout);
	return report(err);
}

// A model written in place, slowly, as a download into its final name: DST
// is created and src's bytes written in `chunks` writes with `pause_ms`
// between (ltrackd's watcher sees DST at IN_CREATE, half written, while
// this process holds it open for writing). Before DST is closed, `busy_mb`
// MiB of zeros are written to `busy` (closed at once: the watcher then
// spends a second or more scanning it, so the open below does not race
// the watcher's close-after-write scan of DST). Then DST is closed and
// opened for reading at once: the errno of that open and its time, as
// copy-open prints them.
static int do_slow_copy_open(const char *src, const char *dst, const char *chunks_s, const char *pause_s,
			     const char *busy, const char *busy_mb_s)
{
	char buf[65536];
	int in = open(src, O_RDONLY);
	if (in < 0)
		return report(errno);
	ssize_t n = read(in, buf, sizeof(buf));
	close(in);
	if (n < 0)
		return report(errno);
	long chunks = std::max(1L, std::strtol(chunks_s, nullptr, 10));
	long pause_ms = std::strtol(pause_s, nullptr, 10);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return report(errno);
	ssize_t done = 0;
	for (long i = 0; i < chunks; i++) {
		ssize_t end = i + 1 == chunks ? n : n * (i + 1) / chunks;
		if (end > done && write(out, buf + done, static_cast<size_t>(end - done)) != end - done) {
			int err = errno;
			close(out);
			return report(err);
		}
		done = end;
		timespec ts{pause_ms / 1000, (pause_ms % 1000) * 1000000L};
		nanosleep(&ts, nullptr);
	}
	long busy_mb = std::strtol(busy_mb_s, nullptr, 10);
	if (busy_mb > 0) {
		int b = open(busy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (b < 0) {
			int err = errno;
			close(out);
			return report(err);
		}
		std::string zeros(1u << 20, '\0');
		for (long i = 0; i < busy_mb; i++)
			if (write(b, zeros.data(), zeros.size()) != static_cast<ssize_t>(zeros.size()))
				break;
		close(b);
	}
	close(out);
	timespec t0{}, t1{};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int fd = open(dst, O_RDONLY);
	int err = fd < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fd >= 0) {
		char c;
		if (read(fd, &c, 1) < 0)
			err = errno;
		close(fd);
	}
	printf("open_us %lld\n", (long long)((t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000));
	fflush(stdout);
	return report(err);
}

// Opens (read-only) and closes path n times; prints the mean time of one
// open+close in nanoseconds ("open_ns N") before the report.
static int do_open_repeat(const char *path, const char *count)
{
	long n = std::strtol(count, nullptr, 10);
	timespec t0{}, t1{};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return report(errno);
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("open_ns %lld\n", n > 0 ? ns / n : 0);
	fflush(stdout);
	return report(0);
}

// The new mount API (glibc 2.36 wraps it in <sys/mount.h>).
static int do_move_mount(const char *source, const char *target)
{
	int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		std::printf("open_tree: %s\n", std::strerror(errno));
		return report(errno);
	}
	int r = move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	int err = r < 0 ? errno : 0;
	close(tree);
	return report(err);
}

static int do_fsopen(const char *fstype, int nopts, char **opts)
{
	int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return report(errno);
	for (int i = 0; i < nopts; i++) {
		std::string kv = opts[i];
		std::size_t eq = kv.find('=');
		std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
		if (fsconfig(fs, FSCONFIG_SET_STRING, k.c_str(), v.c_str(), 0) < 0) {
			std::printf("fsconfig %s: %s\n", kv.c_str(), std::strerror(errno));
			close(fs);
			return 2;
		}
	}
	int r = fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0);
	int err = r < 0 ? errno : 0;
	if (!err) {
		int m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
		if (m >= 0)
			close(m);
	}
	close(fs);
	return report(err);
}

static int do_open_by_handle(const char *dir, const char *name, const char *link_to)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		std::printf("open %s: %s\n", dir, std::strerror(errno));
		return 2;
	}
	union {
		file_handle fh;
		char buf[sizeof(file_handle) + MAX_HANDLE_SZ];
	} h{};
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	if (name_to_handle_at(dfd, name, &h.fh, &mount_id, 0) < 0) {
		std::printf("name_to_handle_at: %s\n", std::strerror(errno));
		return 2;
	}
	// Forget the file's dentry: the handle then opens a disconnected one.
	sync();
	int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (dc < 0 || write(dc, "2", 1) != 1) {
		std::printf("drop_caches: %s\n", std::strerror(errno));
		return 2;
	}
	close(dc);
	int fd = open_by_handle_at(dfd, &h.fh, link_to ? O_PATH : O_RDONLY);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0 && link_to) {
		// An O_PATH open passes no file_open: the name comes from linkat.
		if (linkat(fd, "", AT_FDCWD, link_to, AT_EMPTY_PATH) < 0)
			err = errno;
	}
	if (fd >= 0)
		close(fd);
	close(dfd);
	return report(err);
}

// Attempts on ltrack itself, each reported like any other op:
//   tamper kill PID SIG            kill(2)
//   tamper sigio PID SIG           a pipe's I/O signal (F_SETOWN PID, F_SETSIG SIG, O_ASYNC) raised by
//                                  a write: "ok" whether or not the signal was sent
//   tamper ptrace PID              PTRACE_SEIZE (detached again when it worked)
//   tamper vm-write PID            process_vm_writev of one byte to address 1: EFAULT
//                                  when permitted (never mapped, nothing written)
//   tamper proc-mem PID            open /proc/PID/mem read-write
//   tamper pidfd-getfd PID FD      pidfd_getfd(2) of the target's FD
//   tamper nice PID N              setpriority(2)
//   tamper bpf-get PATH...         bpf(BPF_OBJ_GET) of each pinned object
//   tamper bpf-update PATH         BPF_OBJ_GET, then BPF_MAP_UPDATE_ELEM of an all-zero key/value
//   tamper bpf-cmd CMD             bpf(CMD) with a zeroed attribute (reports bpf's errno)
//   tamper unlink PATH | rename FROM TO
//   tamper mount-tmpfs PATH | umount PATH   (umount2 with MNT_DETACH)
//   tamper control SOCKET REQUEST  connect, send REQUEST + newline, print the reply
static long sys_bpf(int cmd, bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int bpf_obj_get(const char *path)
{
	bpf_attr a{};
	a.pathname = reinterpret_cast<uintptr_t>(path);
	return static_cast<int>(sys_bpf(BPF_OBJ_GET, &a));
}

static int do_bpf_update(const char *path)
{
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return report(errno);
	bpf_attr info_attr{};
	bpf_map_info info{};
	info_attr.info.bpf_fd = fd;
	info_attr.info.info_len = sizeof(info);
	info_attr.info.info = reinterpret_cast<uintptr_t>(&info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &info_attr) < 0)
		return report(errno);
	std::string key(info.key_size, '\0'), value(info.value_size, '\0');
	bpf_attr a{};
	a.map_fd = fd;
	a.key = reinterpret_cast<uintptr_t>(key.data());
	a.value = reinterpret_cast<uintptr_t>(value.data());
	return report(sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0 ? 0 : errno);
}

static int do_control(const char *path, const char *request)
{
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || connect(s, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0)
		return report(errno);
	std::string line = std::string(request) + "\n";
	if (write(s, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
		return report(errno);
	char buf[4096];
	for (ssize_t n; (n = read(s, buf, sizeof buf)) > 0;)
		std::fwrite(buf, 1, n, stdout);
	close(s);
	return report(0);
}

static int do_tamper(int argc, char **argv)
{
	std::string op = argc > 1 ? argv[1] : "";
	pid_t pid = argc > 2 ? std::atoi(argv[2]) : 0;
	if (op == "kill" && argc == 4)
		return report(kill(pid, std::atoi(argv[3])) == 0 ? 0 : errno);
	if (op == "sigio" && argc == 4) {
		// A pipe whose I/O signal (F_SETSIG: any signal) goes to PID,
		// raised by a write: the signal is sent without kill(2).
		int p[2];
		if (pipe(p) != 0)
			return report(errno);
		if (fcntl(p[0], F_SETOWN, pid) != 0 || fcntl(p[0], F_SETSIG, std::atoi(argv[3])) != 0 ||
		    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC) != 0)
			return report(errno);
		return report(write(p[1], "x", 1) == 1 ? 0 : errno);
	}
	if (op == "fanotify-mark" && argc == 4) {
		// fanotify-mark PATH perm|plain: a content group marking PATH (a
		// directory) for open permission events, or for plain FAN_OPEN.
		bool perm = std::string(argv[3]) == "perm";
		int g = fanotify_init((perm ? FAN_CLASS_CONTENT : FAN_CLASS_NOTIF) | FAN_CLOEXEC, O_RDONLY);
		if (g < 0)
			return report(errno);
		uint64_t mask = (perm ? FAN_OPEN_PERM : FAN_OPEN) | FAN_EVENT_ON_CHILD;
		int rc = fanotify_mark(g, FAN_MARK_ADD, mask, AT_FDCWD, argv[2]);
		return report(rc == 0 ? 0 : errno);
	}
	if (op == "mount-tmpfs" && argc == 3)
		return report(mount("tmpfs", argv[2], "tmpfs", 0, nullptr) == 0 ? 0 : errno);
	if (op == "umount" && argc == 3)
		return report(umount2(argv[2], MNT_DETACH) == 0 ? 0 : errno);
	if (op == "ptrace" && argc == 3) {
		if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0)
			return report(errno);
		ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
		return report(0);
	}
	if (op == "vm-write" && argc == 3) {
		char byte = 0;
		iovec local{&byte, 1}, remote{reinterpret_cast<void *>(1), 1};
		return report(process_vm_writev(pid, &local, 1, &remote, 1, 0) == 1 ? 0 : errno);
	}
	if (op == "proc-mem" && argc == 3)
		return do_open_mode(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDWR);
	if (op == "reopen-pipe" && argc == 2) { // what `cat /dev/stdin` does when stdin is a pipe
		int p[2];
		if (pipe(p) != 0)
			return report(errno);
		return do_open_mode(("/proc/self/fd/" + std::to_string(p[0])).c_str(), O_RDONLY | O_NONBLOCK);
	}
	if (op == "pidfd-open" && argc == 3) {
		int pfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
		return report(pfd >= 0 ? 0 : errno);
	}
	if (op == "pidfd-getfd" && argc == 4) {
		int pfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
		if (pfd < 0)
			return report(errno);
		int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pfd, std::atoi(argv[3]), 0));
		return report(fd >= 0 ? 0 : errno);
	}
	if (op == "nice" && argc == 4)
		return report(setpriority(PRIO_PROCESS, pid, std::atoi(argv[3])) == 0 ? 0 : errno);
	if (op == "bpf-get" && argc >= 3) {
		// Each path in turn; the first failure decides the exit status.
		int first = 0;
		for (int i = 2; i < argc; i++) {
			int err = bpf_obj_get(argv[i]) >= 0 ? 0 : errno;
			std::printf("%s: %s\n", argv[i], err ? std::strerror(err) : "ok");
			first = first ? first : err;
		}
		return report(first);
	}
	if (op == "bpf-update" && argc == 3)
		return do_bpf_update(argv[2]);
	if (op == "bpf-cmd" && argc == 3) {
		bpf_attr a{};
		return report(sys_bpf(std::atoi(argv[2]), &a) >= 0 ? 0 : errno);
	}
	if (op == "unlink" && argc == 3)
		return report(unlink(argv[2]) == 0 ? 0 : errno);
	if (op == "rename" && argc == 4)
		return report(rename(argv[2], argv[3]) == 0 ? 0 : errno);
	if (op == "control" && argc == 4)
		return do_control(argv[2], argv[3]);
	std::fprintf(stderr, "usage: see do_tamper in actor.cpp\n");
	return 2;
}

static int run(int argc, char **argv);

// One round of opens (loop-open, loop-open-for), counted.
static void open_each(int n, char **paths, long &allowed, long &denied)
{
	for (int a = 0; a < n; a++) {
		int fd = open(paths[a], O_RDONLY);
		if (fd >= 0) {
			close(fd);
			allowed++;
		} else {
			denied++;
		}
	}
}

// One control request ("ltrack/1" TAB fields... LF) and its reply.
static int do_ctl_on(int fd, int argc, char **argv)
{
	std::string req = "ltrack/1";
	for (int i = 0; i < argc; i++)
		req += std::string("\t") + argv[i];
	req += "\n";
	if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
		return report(errno);
	std::string reply;
	char buf[4096];
	for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;)
		reply.append(buf, n);
	std::printf("%s", reply.c_str());
	return reply.rfind("ok\n", 0) == 0 ? 0 : 1;
}

static int do_ctl(const char *path, int argc, char **argv)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		return report(errno);
	return do_ctl_on(fd, argc, argv);
}

static int do_child(int argc, char **argv)
{
	std::fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return report(errno);
	if (pid == 0)
		_exit(run(argc, argv));
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) {
		std::printf("child killed by signal %d\n", WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}

static int do_map_exec(const char *path, int argc, char **argv)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return report(errno);
	void *p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	int err = p == MAP_FAILED ? errno : 0;
	close(fd);
	if (err)
		return report(err);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		return report(errno);
	return run(argc, argv);
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	std::string op = argv[1];
	if (op == "open" && argc == 3)
		return do_open(argv[2]);
	if (op == "open-each" && argc >= 3) {
		for (int i = 2; i < argc; i++) {
			int fd = open(argv[i], O_RDONLY);
			std::printf("%d %s\n", fd < 0 ? errno : 0, argv[i]);
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	if (op == "create" && argc == 3)
		return do_create(argv[2]);
	if (op == "setresuid" && argc == 5)
		return report(setresuid(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4])) == 0 ? 0 : errno);
	if (op == "setresgid" && argc == 5)
		return report(setresgid(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4])) == 0 ? 0 : errno);
	if (op == "regain-root" && argc == 3)
		return do_regain_root(static_cast<uid_t>(std::atoi(argv[2])));
	if (op == "regain-cap" && argc == 3)
		return do_regain_cap(std::atoi(argv[2]));
	if (op == "exec" && argc >= 3) {
		std::fflush(stdout);
		execv(argv[2], argv + 2);
		return report(errno);
	}
	if (op == "connect" && (argc == 4 || argc == 5))
		return do_connect(argv[2], argv[3], argc == 5 ? argv[4] : nullptr);
	if (op == "connect-unix" && argc == 3)
		return do_connect_unix(argv[2], SOCK_STREAM);
	if (op == "ctl" && argc >= 4)
		return do_ctl(argv[2], argc - 3, argv + 3);
	if (op == "ctl-fd" && argc >= 4)
		return do_ctl_on(std::atoi(argv[2]), argc - 3, argv + 3);
	if (op == "send-unix" && argc == 3)
		return do_connect_unix(argv[2], SOCK_DGRAM);
	if (op == "resolve" && argc == 3)
		return do_resolve(argv[2]);
	if (op == "socket" && argc == 5)
		return do_socket(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]));
	if (op == "net" && argc == 10)
		return do_net(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]),
			      argv[7], argv[8], std::atoi(argv[9]));
	if (op == "link" && argc == 4)
		return report(link(argv[2], argv[3]) == 0 ? 0 : errno);
	if (op == "rename" && argc == 4)
		return report(rename(argv[2], argv[3]) == 0 ? 0 : errno);
	if (op == "exchange" && argc == 4)
		return report(renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_EXCHANGE) == 0 ? 0 : errno);
	if (op == "unlink" && argc == 3)
		return report(unlink(argv[2]) == 0 ? 0 : errno);
	if (op == "rmdir" && argc == 3)
		return report(rmdir(argv[2]) == 0 ? 0 : errno);
	if (op == "write" && argc == 4)
		return do_write(argv[2], argv[3]);
	if (op == "open-repeat" && argc == 4)
		return do_open_repeat(argv[2], argv[3]);
	if (op == "copy-open" && argc == 4)
		return do_copy_open(argv[2], argv[3]);
	if (op == "copy-rename-open" && argc == 5)
		return do_copy_open(argv[2], argv[4], argv[3]);
	if (op == "slow-copy-open" && argc == 8)
		return do_slow_copy_open(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
	if (op == "mount" && (argc == 5 || argc == 6))
		return report(mount(argv[3], argv[4], argv[2], 0, argc == 6 ? argv[5] : nullptr) == 0 ? 0 : errno);
	if (op == "bind" && argc == 4)
		return report(mount(argv[2], argv[3], nullptr, MS_BIND, nullptr) == 0 ? 0 : errno);
	if (op == "umount" && argc == 3)
		return report(umount2(argv[2], 0) == 0 ? 0 : errno);
	if (op == "move-mount" && argc == 4)
		return do_move_mount(argv[2], argv[3]);
	if (op == "fsopen" && argc >= 3)
		return do_fsopen(argv[2], argc - 3, argv + 3);
	if (op == "open-by-handle" && argc == 4)
		return do_open_by_handle(argv[2], argv[3], nullptr);
	if (op == "link-by-handle" && argc == 5)
		return do_open_by_handle(argv[2], argv[3], argv[4]);
	if (op == "tamper" && argc >= 3)
		return do_tamper(argc - 1, argv + 1);
	if (op == "child" && argc >= 3)
		return do_child(argc - 1, argv + 1);
	if (op == "map-exec" && argc >= 4)
		return do_map_exec(argv[2], argc - 2, argv + 2);
	if (op == "open-per-line" && argc == 3) {
		std::setvbuf(stdout, nullptr, _IOLBF, 0);
		int rc = 0;
		for (int c; (c = std::getchar()) != EOF;)
			if (c == '\n')
				rc = do_open(argv[2]);
		return rc;
	}
	if (op == "loop-open-for" && argc >= 4) {
		time_t start = time(nullptr), until = start + std::atol(argv[2]);
		long denied = 0, allowed = 0;
		while (time(nullptr) < until)
			open_each(argc - 3, argv + 3, allowed, denied);
		std::printf("allowed=%ld denied=%ld seconds=%ld\n", allowed, denied, (long)(time(nullptr) - start));
		return 0;
	}
	if (op == "loop-open" && argc >= 4) {
		long n = std::atol(argv[2]);
		long denied = 0, allowed = 0;
		for (long i = 0; i < n; i++)
			open_each(argc - 3, argv + 3, allowed, denied);
		std::printf("allowed=%ld denied=%ld\n", allowed, denied);
		return 0;
	}
	std::fprintf(stderr, "usage: see the comment at the top of actor.cpp\n");
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, nullptr, _IOLBF, 0);
	return run(argc, argv);
}
