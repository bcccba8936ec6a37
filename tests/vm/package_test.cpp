// The Debian package from the outside. The guest's root is the host's,
// read-only over 9p, so the package is installed into an overlay of it (a
// tmpfs upper layer) with dpkg -i in a chroot: a copy of the host's dpkg
// status checks its Depends, and its maintainer scripts run. Then the installed
// unit's ExecStart is run in that root as systemd would (systemd is not
// PID 1 in the guest), with NOTIFY_SOCKET: it must send READY=1, and
// ltrackctl status must answer in audit mode with the installed policy.
// ExecStart runs in the unit's sandbox as far as it can be had without
// systemd (tests/vm/unit_sandbox.h): its capability bounding set, no new
// privileges, umask, system call filter, address families, W^X memory, and a
// read-only root with only ReadWritePaths= and RuntimeDirectory= writable.
// With a stand-in for systemctl, the maintainer scripts' enable, start,
// try-restart and stop are checked, and policy-rc.d's veto. Then the unit
// under the real systemd (real_systemd: PID 1 of a PID namespace of its own):
// started by systemctl, its STATUS=, its errors at journald priority 3.
// Not exercised: upgrades from an earlier version.
#include "support.h"
#include "unit_sandbox.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

const std::string deb = LTRACK_DEB;

// dpkg runs take 10-60 s under emulation on a busy host: a wider limit
// than run()'s default minute.
std::string sh(const std::string &cmd, std::chrono::seconds limit = std::chrono::seconds(60))
{
	run_options opt;
	opt.timeout = limit;
	return run({"/bin/sh", "-c", cmd + " 2>&1"}, opt).out;
}

// overlay.ko of the running guest kernel, from the kernel tests/vm/run
// unpacked into the build tree (decompressed if it ships .ko.xz).
bool load_overlay(std::string &why)
{
	if (read_file("/proc/filesystems").find("overlay") != std::string::npos)
		return true;
	utsname u{};
	uname(&u);
	for (const auto &k : fs::directory_iterator(build_dir() + "/vm/kernels")) {
		std::string dir = k.path().string() + "/root/lib/modules/" + u.release + "/kernel/fs/overlayfs/";
		for (const char *name : {"overlay.ko", "overlay.ko.xz"}) {
			std::string ko = dir + name;
			if (!fs::exists(ko))
				continue;
			std::string cmd = std::string(name).ends_with(".xz")
						  ? "xz -dc " + ko + " > /tmp/overlay.ko && insmod /tmp/overlay.ko"
						  : "insmod " + ko;
			why = sh(cmd);
			return read_file("/proc/filesystems").find("overlay") != std::string::npos;
		}
	}
	why = "no overlay.ko for " + std::string(u.release) + " under " + build_dir() + "/vm/kernels";
	return false;
}

// An overlay of / with the mounts a daemon needs, undone at the end.
struct overlay_root {
	std::string base = "/tmp/ltrack-pkg-" + std::to_string(getpid()), root = base + "/root";
	std::vector<std::string> mounts; // innermost last
	std::string error;

	overlay_root()
	{
		fs::create_directories(base + "/upper");
		fs::create_directories(base + "/work");
		fs::create_directories(root);
		std::string opts = "lowerdir=/,upperdir=" + base + "/upper,workdir=" + base + "/work";
		if (mount("overlay", root.c_str(), "overlay", 0, opts.c_str()) != 0) {
			error = "mount -t overlay: " + std::string(strerror(errno));
			return;
		}
		mounts.push_back(root);
		struct m {
			const char *src, *dir, *type;
		};
		for (m x : {m{"proc", "/proc", "proc"}, m{"sysfs", "/sys", "sysfs"}, m{"devtmpfs", "/dev", "devtmpfs"},
			    m{"tmpfs", "/run", "tmpfs"}, m{"tmpfs", "/tmp", "tmpfs"}, m{"bpf", "/sys/fs/bpf", "bpf"},
			    m{"securityfs", "/sys/kernel/security", "securityfs"},
			    // systemd mounts it at boot; the unit's ltrackd may not mount
			    m{"tracefs", "/sys/kernel/tracing", "tracefs"}}) {
			std::string target = root + x.dir;
			if (mount(x.src, target.c_str(), x.type, 0, nullptr) != 0) {
				error = std::string("mount ") + x.type + " on " + target + ": " + strerror(errno);
				return;
			}
			mounts.push_back(target);
		}
	}
	~overlay_root()
	{
		for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
			umount2(it->c_str(), MNT_DETACH);
		fs::remove_all(base);
	}
	// dpkg ARGS in the root, "exit=N" and its messages. Its database is a
	// copy of the host's status file, so Depends are checked against what
	// the host has installed, without the thousands of per-package file
	// lists (reading them over 9p under emulation takes over a minute) and
	// without file triggers (man-db would index the whole host); the
	// warning dpkg gives once per package about its missing list is left out.
	std::string dpkg(const std::string &args) const
	{
		in("test -f /tmp/dpkg/status || { mkdir -p /tmp/dpkg/info /tmp/dpkg/updates /tmp/dpkg/triggers && "
		   "cp /var/lib/dpkg/status /tmp/dpkg/status; }");
		auto t0 = std::chrono::steady_clock::now();
		std::string out =
			in("dpkg --admindir=/tmp/dpkg " + args +
				   " >/tmp/dpkg.out 2>&1; echo exit=$?; grep -v \"files list file\" /tmp/dpkg.out",
			   std::chrono::seconds(240));
		std::printf("dpkg %s: %.1f s\n", args.c_str(),
			    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
		return out;
	}
	::testing::AssertionResult install_deb() const
	{
		std::string out = dpkg("-i " + deb);
		if (out.find("exit=0") == std::string::npos)
			return ::testing::AssertionFailure() << "dpkg -i failed:\n" << out;
		return ::testing::AssertionSuccess();
	}
	// cmd (no single quotes) run by sh in the root, as root's login shell would.
	std::string in(const std::string &cmd, std::chrono::seconds limit = std::chrono::seconds(60)) const
	{
		return sh("chroot " + root + " " + env + " /bin/sh -c '" + cmd + "'", limit);
	}
	int status(const std::string &cmd) const
	{
		return run({"/usr/sbin/chroot", root, "/usr/bin/env", path, "/bin/sh", "-c", cmd}).exit_code;
	}
	const std::string path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const std::string env = "/usr/bin/env " + path;
};

TEST(Package, DebHasTheProgramsUnitPoliciesManPagesAndDepends)
{
	ASSERT_TRUE(fs::exists(deb)) << deb << " missing: cmake --build BUILD --target ltrack_deb";
	std::string contents = sh("dpkg-deb -c " + deb);
	for (const char *f :
	     {"./usr/sbin/ltrackd", "./usr/sbin/ltrackctl", "./usr/lib/systemd/system/ltrackd.service",
	      "./etc/ltrack/policy.toml", "./usr/share/ltrack/policies/default.toml",
	      "./usr/share/ltrack/policies/inference.toml", "./usr/share/man/man8/ltrackd.8.gz",
	      "./usr/share/man/man8/ltrackctl.8.gz", "./usr/share/doc/ltrack/operations.md",
	      "./usr/share/doc/ltrack/copyright", "./usr/share/doc/ltrack/changelog.Debian.gz",
	      "./usr/lib/tmpfiles.d/ltrack.conf", "./usr/share/man/man5/ltrack.toml.5.gz",
	      "./usr/share/bash-completion/completions/ltrackctl", "./usr/share/bash-completion/completions/ltrackd",
	      // the Python audit hook for governed interpreters (docs/models.md)
	      "./usr/lib/python3/dist-packages/ltrack-pyhook.pth", "./usr/lib/python3/dist-packages/ltrack_pyhook.py"})
		EXPECT_NE(contents.find(std::string(f) + "\n"), std::string::npos) << f << " not in\n" << contents;
	std::string control = sh("dpkg-deb -f " + deb + " Package Version Depends");
	EXPECT_NE(control.find("Package: ltrack"), std::string::npos) << control;
	for (const char *dep : {"libbpf1", "zlib1g", "libspdlog", "libc6", "init-system-helpers"})
		EXPECT_NE(control.find(dep), std::string::npos) << dep << " not a dependency: " << control;
	EXPECT_EQ(sh("dpkg-deb --ctrl-tarfile " + deb + " | tar -xOf - ./conffiles"), "/etc/ltrack/policy.toml\n");
}

// The host's systemd (the guest's root is the host's) as PID 1 of a PID
// namespace of its own, in a mount namespace chrooted into root, booted to
// basic.target, with container= set so it treats the guest as a container.
// The guest's own PID 1 is the harness, so this is the only way a test
// meets the real service manager. Killing it (SIGKILL to a namespace's PID
// 1) ends everything it started.
struct real_systemd {
	pid_t pid = -1;   // systemd, as the guest sees it
	pid_t child = -1; // the unshare()d parent, reaped at the end
	std::string error;

	explicit real_systemd(const std::string &root)
	{
		int p[2];
		if (pipe(p) != 0) {
			error = "pipe";
			return;
		}
		child = fork();
		if (child == 0) {
			close(p[0]);
			if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0)
				_exit(120);
			pid_t init = fork();
			if (init == 0) {
				if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
				    mount("proc", (root + "/proc").c_str(), "proc", 0, nullptr) != 0 ||
				    chroot(root.c_str()) != 0 || chdir("/") != 0)
					_exit(121);
				const char *env[] = {"container=ltrack-vm", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
						     nullptr};
				execle("/lib/systemd/systemd", "systemd", "--system", "--unit=basic.target",
				       "--log-target=kmsg", "--show-status=no", nullptr, env);
				_exit(122);
			}
			(void)!write(p[1], &init, sizeof init);
			int st = 0;
			waitpid(init, &st, 0);
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], &pid, sizeof pid) != sizeof pid)
			error = "systemd did not start";
		close(p[0]);
	}
	~real_systemd()
	{
		if (pid > 0)
			kill(pid, SIGKILL);
		if (child > 0)
			waitpid(child, nullptr, 0);
	}
	// cmd (no single quotes) run by sh in systemd's namespaces and root.
	std::string in(const std::string &cmd, std::chrono::seconds limit = std::chrono::seconds(120)) const
	{
		return sh("nsenter -t " + std::to_string(pid) + " -m -p -r -w /usr/bin/env " +
				  "PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMD_COLORS=0 /bin/sh -c '" + cmd + "'",
			  limit);
	}
	// Waits for the boot to finish: "running" or "degraded" (a unit failed).
	std::string wait_booted(std::chrono::seconds limit) const
	{
		std::string state;
		auto until = std::chrono::steady_clock::now() + limit;
		while (std::chrono::steady_clock::now() < until) {
			state = in("systemctl is-system-running 2>/dev/null");
			if (state == "running\n" || state == "degraded\n")
				break;
			std::this_thread::sleep_for(std::chrono::seconds(1));
		}
		return state;
	}
};

// One overlay, one life cycle (each dpkg run costs 30-60 s under emulation):
// install, the service in its sandbox, an upgrade, removal and purge.
// The maintainer scripts are checked against what dh_installsystemd's
// promise, with a stand-in for systemctl (systemd is not PID 1 in the
// guest) that logs the calls meant for a running systemd, answers
// is-enabled from the enable symlink and hands the offline ones
// (deb-systemd-helper's `systemctl --root=/ preset`) to the real systemctl,
// /run/systemd/system present as on a systemd host, and a policy-rc.d of
// the test's own (the guest's root has Docker's, which says 101 to all).
TEST(Package, InstallRunUpgradeRemovePurge)
{
	ASSERT_TRUE(fs::exists(deb)) << deb;
	std::string why;
	ASSERT_TRUE(load_overlay(why)) << why;
	overlay_root r;
	ASSERT_TRUE(r.error.empty()) << r.error;
	const std::string wants = "/etc/systemd/system/multi-user.target.wants/ltrackd.service";
	write_file(r.root + "/usr/local/sbin/systemctl",
		   "#!/bin/sh\ncase \"$*\" in\n*--root=*) exec /usr/bin/systemctl \"$@\";;\nesac\n"
		   "echo \"$*\" >> /tmp/systemctl.log\ncase \"$*\" in\n"
		   "*is-enabled*) if [ -L " +
			   wants +
			   " ]; then echo enabled; exit 0; fi; echo disabled; exit 1;;\n"
			   "*is-active*) exit 3;;\nesac\nexit 0\n");
	chmod((r.root + "/usr/local/sbin/systemctl").c_str(), 0755);
	fs::create_directories(r.root + "/run/systemd/system");
	// policy-rc.d: logs what it is asked, then allows (0) or forbids (101).
	auto policy_rc_d = [&](int answer) {
		write_file(r.root + "/usr/sbin/policy-rc.d",
			   "#!/bin/sh\necho \"$*\" >> /tmp/policy-rc.d.log\nexit " + std::to_string(answer) + "\n");
		chmod((r.root + "/usr/sbin/policy-rc.d").c_str(), 0755);
	};
	auto take = [&](const char *log) {
		std::string text = read_file(r.root + "/tmp/" + log);
		fs::remove(r.root + "/tmp/" + log);
		return text;
	};
	policy_rc_d(0);

	ASSERT_TRUE(r.install_deb());
	EXPECT_EQ(r.in("dpkg-query --admindir=/tmp/dpkg -W -f \"\\${Status}\" ltrack"), "install ok installed");
	EXPECT_EQ(read_file(r.root + "/etc/ltrack/policy.toml"), read_file(source_dir() + "/policies/default.toml"));
	EXPECT_NE(read_file(r.root + "/tmp/dpkg/info/ltrack.conffiles").find("/etc/ltrack/policy.toml"),
		  std::string::npos);
	EXPECT_TRUE(fs::is_directory(r.root + "/var/log/ltrack")) << "made by postinst";
	// 0750 root:adm (tmpfiles.d), so a log shipper in adm reads decisions.
	EXPECT_EQ(r.in("stat -c %a:%U:%G /var/log/ltrack"), "750:root:adm\n");
	// Enabled (deb-systemd-helper) and started on a first installation.
	EXPECT_TRUE(fs::is_symlink(r.root + wants)) << "a first installation enables";
	std::string calls = take("systemctl.log");
	EXPECT_NE(calls.find("--system daemon-reload"), std::string::npos) << calls;
	EXPECT_NE(calls.find("--quiet --system start ltrackd.service"), std::string::npos) << calls;
	EXPECT_EQ(r.status("gzip -t /usr/share/man/man8/ltrackd.8.gz && gzip -t /usr/share/man/man8/ltrackctl.8.gz && "
			   "gzip -t /usr/share/man/man5/ltrack.toml.5.gz"),
		  0);
	// The installed completion offers the commands (as bash-completion loads it).
	EXPECT_EQ(
		r.in("bash --norc -c \". /usr/share/bash-completion/completions/ltrackctl; COMP_WORDS=(ltrackctl st); "
		     "COMP_CWORD=1; _ltrackctl; echo \\${COMPREPLY[*]}\""),
		"status stats\n");
	// The programs that were built (stripped): the same options.
	auto usage_as_installed = [](std::string help, const std::string &built, const std::string &installed) {
		size_t at = help.find(built);
		return at == std::string::npos ? help : help.replace(at, built.size(), installed);
	};
	EXPECT_EQ(r.in("/usr/sbin/ltrackd --help"),
		  usage_as_installed(sh(ltrackd_path() + " --help"), ltrackd_path(), "/usr/sbin/ltrackd"));
	EXPECT_EQ(r.in("/usr/sbin/ltrackctl --help"),
		  usage_as_installed(sh(ltrackctl_path() + " --help"), ltrackctl_path(), "/usr/sbin/ltrackctl"));

	// The installed unit's ExecStart, as systemd would run it.
	std::string unit = read_file(r.root + "/usr/lib/systemd/system/ltrackd.service");
	std::string exec_start;
	std::istringstream in(unit);
	for (std::string line; std::getline(in, line);)
		if (line.rfind("ExecStart=", 0) == 0)
			exec_start = line.substr(10);
	ASSERT_EQ(exec_start, "/usr/sbin/ltrackd --policy /etc/ltrack/policy.toml") << unit;
	EXPECT_NE(unit.find("Type=notify"), std::string::npos);
	unit_sandbox sandbox;
	ASSERT_EQ(sandbox.prepare(unit_file::parse(unit)), "");
	std::printf("the unit's sandbox: %s\n", sandbox.summary.c_str());

	// NOTIFY_SOCKET, inside the root as the daemon sees it.
	int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::string notify_host = r.root + "/run/notify.sock";
	std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_host.c_str());
	ASSERT_EQ(bind(ns, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0) << strerror(errno);

	std::string out_path = r.base + "/ltrackd.out";
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		if (std::string err = sandbox.apply_mounts(r.root); !err.empty()) {
			std::fprintf(stderr, "sandbox: %s\n", err.c_str());
			_exit(125);
		}
		if (chroot(r.root.c_str()) != 0 || chdir("/") != 0)
			_exit(126);
		if (std::string err = sandbox.apply_process(); !err.empty()) {
			std::fprintf(stderr, "sandbox: %s\n", err.c_str());
			_exit(125);
		}
		setenv("NOTIFY_SOCKET", "/run/notify.sock", 1);
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execl("/bin/sh", "sh", "-c", ("exec " + exec_start).c_str(), nullptr);
		_exit(127);
	}
	// Whatever fails below, the daemon stops as the service would (SIGTERM).
	struct stop_daemon {
		pid_t pid;
		~stop_daemon()
		{
			if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
				kill(pid, SIGTERM);
				waitpid(pid, nullptr, 0);
			}
		}
	} guard{pid};
	// READY=1 (with the STATUS= systemctl status shows), or the daemon's
	// exit, within 60 s; other notifications (start-up progress) may come first.
	std::string ready;
	int st = 0;
	bool exited = false;
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < 60 && ready.empty() && !exited; i++) {
		pollfd p{ns, POLLIN, 0};
		while (ready.empty() && poll(&p, 1, 1000) == 1) {
			char buf[1024];
			ssize_t n = recv(ns, buf, sizeof buf, 0);
			std::string msg(buf, n > 0 ? n : 0);
			if (msg.rfind("READY=1", 0) == 0)
				ready = msg;
		}
		exited = waitpid(pid, &st, WNOHANG) == pid;
	}
	close(ns);
	std::printf("ltrackd from the package: %s after %.1f s\n", ready.empty() ? "no READY" : ready.c_str(),
		    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
	ASSERT_EQ(ready.rfind("READY=1\nSTATUS=enforcing /etc/ltrack/policy.toml (audit mode", 0), 0u)
		<< (exited ? "ltrackd exited:\n" : "no READY=1 in 60 s:\n") << ready << "\n"
		<< read_file(out_path);

	std::string status = r.in("/usr/sbin/ltrackctl status");
	EXPECT_NE(status.find("audit"), std::string::npos) << status;
	EXPECT_NE(status.find("/etc/ltrack/policy.toml"), std::string::npos) << status;
	// The daemon ran in that sandbox: its bounding set is the unit's, no
	// new privileges, seccomp on; and it still finds the kernel symbols the
	// directory memo needs (CAP_SYSLOG) and was refused nothing it needs.
	std::string proc_status = read_file("/proc/" + std::to_string(pid) + "/status");
	uint64_t want = 0;
	for (int c : sandbox.keep_caps)
		want |= uint64_t(1) << c;
	char bnd[64];
	std::snprintf(bnd, sizeof bnd, "CapBnd:\t%016llx\n", (unsigned long long)want);
	EXPECT_NE(proc_status.find(bnd), std::string::npos) << bnd << proc_status;
	EXPECT_NE(proc_status.find("NoNewPrivs:\t1"), std::string::npos) << proc_status;
	if (sandbox.seccomp_available()) {
		EXPECT_NE(proc_status.find("Seccomp:\t2"), std::string::npos) << proc_status;
	}
	std::string log_so_far = read_file(out_path);
	EXPECT_EQ(log_so_far.find("rename_lock/mount_lock not found"), std::string::npos) << log_so_far;
	EXPECT_EQ(log_so_far.find("process context:"), std::string::npos) << log_so_far;

	// The service stops as systemd stops it (SIGTERM); the default policy
	// unloads its programs.
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(out_path);
	EXPECT_FALSE(fs::exists(r.root + "/sys/fs/bpf/ltrack")) << "on_daemon_exit = unload";
	EXPECT_TRUE(fs::exists(r.root + "/var/log/ltrack/decisions.log"));
	struct stat log_st {};
	ASSERT_EQ(stat((r.root + "/var/log/ltrack/decisions.log").c_str(), &log_st), 0);
	EXPECT_EQ(log_st.st_mode & 07777, 0640u) << "UMask=0027 keeps the log group-readable, not world-readable";
	std::printf("ltrackd's own messages:\n%s\n", read_file(out_path).c_str());

	// The packaged unit under a real systemd: systemctl start returns once
	// ltrackd sent READY=1 (Type=notify), systemctl show has its STATUS=, and
	// an error ltrackd logs (a reload of a broken policy) is in the journal at
	// priority 3 (err), not 6 as a line on stderr would be.
	{
		// systemd-tmpfiles-setup would empty /tmp, which holds this test's
		// dpkg database (the upgrade below would then be a first install).
		fs::create_directories(r.root + "/etc/systemd/system");
		fs::create_symlink("/dev/null", r.root + "/etc/systemd/system/systemd-tmpfiles-setup.service");
		if (read_file(r.root + "/etc/machine-id").size() < 32)
			write_file(r.root + "/etc/machine-id", "4c747261636b766d7465737400000001\n");
		auto t_sd = std::chrono::steady_clock::now();
		real_systemd sd(r.root);
		ASSERT_TRUE(sd.error.empty()) << sd.error;
		std::string state = sd.wait_booted(std::chrono::seconds(240));
		std::printf("systemd as PID 1 of a PID namespace: %s after %.1f s\n", state.c_str(),
			    std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sd).count());
		ASSERT_TRUE(state == "running\n" || state == "degraded\n")
			<< state << sd.in("systemctl --failed --no-pager; journalctl -b --no-pager | tail -40");
		std::string start =
			sd.in("/bin/systemctl start ltrackd.service; echo exit=$?", std::chrono::seconds(180));
		std::string show =
			sd.in("/bin/systemctl show -p ActiveState -p SubState -p StatusText ltrackd.service");
		std::printf("systemctl start ltrackd: %s%s", start.c_str(), show.c_str());
		ASSERT_EQ(start, "exit=0\n") << start << sd.in("journalctl -b --no-pager -u ltrackd | tail -40");
		EXPECT_NE(show.find("ActiveState=active\n"), std::string::npos) << show;
		EXPECT_NE(show.find("SubState=running\n"), std::string::npos) << show;
		EXPECT_NE(show.find("StatusText=enforcing /etc/ltrack/policy.toml (audit mode"), std::string::npos)
			<< show;
		// ltrackd logs to journald with priorities; its start message is info (6).
		std::string info = sd.in("journalctl -b --no-pager -u ltrackd -p info..info -o cat");
		EXPECT_NE(info.find("enforcing /etc/ltrack/policy.toml"), std::string::npos) << info;
		const std::string good = read_file(r.root + "/etc/ltrack/policy.toml");
		write_file(r.root + "/etc/ltrack/policy.toml", good + "\nnot toml = = 1\n");
		std::string reload = sd.in("/bin/systemctl reload ltrackd.service >/dev/null 2>&1; echo exit=$?");
		EXPECT_NE(reload, "exit=0\n") << "a broken policy is rejected";
		std::string err = sd.in("journalctl -b --no-pager -u ltrackd -p err..err -o cat");
		EXPECT_NE(err.find("/etc/ltrack/policy.toml:"), std::string::npos)
			<< "the rejection at priority 3:\n"
			<< err << sd.in("journalctl -b --no-pager -u ltrackd -o verbose | tail -60");
		write_file(r.root + "/etc/ltrack/policy.toml", good);
		EXPECT_EQ(sd.in("/bin/systemctl is-active ltrackd.service"), "active\n") << "the old policy stays";
		std::string stop = sd.in("/bin/systemctl stop ltrackd.service; echo exit=$?");
		EXPECT_EQ(stop, "exit=0\n") << stop;
		std::printf("real systemd scenario: %.1f s\n",
			    std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sd).count());
	}

	// The administrator disables the unit (what systemctl disable removes)
	// and policy-rc.d forbids actions (an image build): an upgrade (the same
	// package again) neither enables it again nor restarts anything.
	fs::remove(r.root + wants);
	policy_rc_d(101);
	take("policy-rc.d.log");
	ASSERT_TRUE(r.install_deb());
	EXPECT_FALSE(fs::exists(r.root + wants)) << "an upgrade re-enabled a unit the administrator disabled";
	std::string asked = take("policy-rc.d.log");
	EXPECT_NE(asked.find("ltrackd.service try-restart"), std::string::npos) << "an upgrade try-restarts: " << asked;
	calls = take("systemctl.log");
	EXPECT_EQ(calls.find("restart"), std::string::npos) << "policy-rc.d said 101:\n" << calls;
	EXPECT_EQ(calls.find(" start"), std::string::npos) << calls;

	// Removal stops the service (policy-rc.d allowing it now) and keeps an
	// edited policy (a conffile); purge removes it, the logs and the enable state.
	policy_rc_d(0);
	std::string edited = read_file(r.root + "/etc/ltrack/policy.toml") + "# edited by the operator\n";
	write_file(r.root + "/etc/ltrack/policy.toml", edited);
	std::string remove = r.dpkg("-r ltrack");
	EXPECT_NE(remove.find("exit=0"), std::string::npos) << remove;
	calls = take("systemctl.log");
	EXPECT_NE(calls.find("stop ltrackd.service"), std::string::npos) << calls;
	EXPECT_FALSE(fs::exists(r.root + "/usr/sbin/ltrackd"));
	EXPECT_FALSE(fs::exists(r.root + "/usr/share/ltrack/policies/default.toml"));
	EXPECT_EQ(read_file(r.root + "/etc/ltrack/policy.toml"), edited) << "a conffile stays until purge";
	std::string purge = r.dpkg("-P ltrack");
	EXPECT_NE(purge.find("exit=0"), std::string::npos) << purge;
	EXPECT_FALSE(fs::exists(r.root + "/etc/ltrack/policy.toml"));
	EXPECT_FALSE(fs::exists(r.root + "/var/log/ltrack")) << "purge removes the logs (postrm)";
	EXPECT_FALSE(fs::exists(r.root + "/var/lib/systemd/deb-systemd-helper-enabled/ltrackd.service.dsh-also"))
		<< "purge forgets the enable state";
}

} // namespace
