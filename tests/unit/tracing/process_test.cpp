#include "process.h"
#include "process_cache.h"
#include "record.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace ltrack::tracing;
using namespace std::chrono_literals;

namespace {

std::string self_exe()
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
	return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A real child running /bin/sleep with the given extra argument; killed and
// reaped by the destructor unless reap() ran.
struct sleeper {
	pid_t pid = -1;
	explicit sleeper(const std::string &arg = "")
	{
		pid = fork();
		if (pid == 0) {
			if (arg.empty())
				execl("/bin/sleep", "sleep", "30", nullptr);
			else
				execl("/bin/sleep", "sleep", "30", arg.c_str(), nullptr);
			_exit(127);
		}
		// Wait until the exec completed: the exe link changes before the
		// new arguments are in place, so wait for the command line too.
		std::string proc = "/proc/" + std::to_string(pid);
		for (int i = 0; i < 500; ++i) {
			char buf[4096];
			ssize_t n = readlink((proc + "/exe").c_str(), buf, sizeof buf);
			std::ifstream cmd(proc + "/cmdline");
			std::string args((std::istreambuf_iterator<char>(cmd)), {});
			if (n > 0 && std::string(buf, static_cast<size_t>(n)).ends_with("/sleep") &&
			    args.starts_with("sleep"))
				break;
			std::this_thread::sleep_for(2ms);
		}
	}
	void reap()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
			pid = -1;
		}
	}
	~sleeper() { reap(); }
};

} // namespace

TEST(read_process, own_process)
{
	process_info p = read_process(static_cast<uint32_t>(getpid()));
	EXPECT_EQ(p.pid, static_cast<uint32_t>(getpid()));
	EXPECT_EQ(p.ppid, static_cast<uint32_t>(getppid()));
	EXPECT_EQ(p.uid, getuid());
	EXPECT_EQ(p.gid, getgid());
	EXPECT_EQ(p.exe, self_exe());
	EXPECT_NE(p.cmdline.find("tracing_test"), std::string::npos) << p.cmdline;
	EXPECT_FALSE(p.exited);
	EXPECT_GT(p.start_boot_ns, 0u);
	EXPECT_LE(p.start_boot_ns, boot_time_now_ns());
	ASSERT_FALSE(p.ancestry.empty());
	EXPECT_EQ(p.ancestry.front().pid, static_cast<uint32_t>(getppid()));
	EXPECT_FALSE(p.ancestry.front().exe.empty());
	std::ifstream cg("/proc/self/cgroup");
	if (cg) {
		EXPECT_FALSE(p.cgroup_path.empty());
		EXPECT_EQ(p.cgroup_path.front(), '/');
	}
}

TEST(read_process, child_and_cmdline_bound)
{
	sleeper child("1"); // sleep adds its arguments up
	process_info p = read_process(static_cast<uint32_t>(child.pid));
	EXPECT_TRUE(p.exe.ends_with("/sleep")) << p.exe;
	EXPECT_EQ(p.cmdline, "sleep 30 1");
	EXPECT_FALSE(p.cmdline_truncated);
	EXPECT_EQ(p.comm, "sleep");
	EXPECT_EQ(p.ppid, static_cast<uint32_t>(getpid()));
	ASSERT_FALSE(p.ancestry.empty());
	EXPECT_EQ(p.ancestry.front().pid, static_cast<uint32_t>(getpid()));
	EXPECT_EQ(p.ancestry.front().exe, self_exe());
	EXPECT_TRUE(p.unreadable.empty());

	read_options small;
	small.cmdline_max = 8;
	small.max_ancestry = 1;
	p = read_process(static_cast<uint32_t>(child.pid), small);
	EXPECT_EQ(p.cmdline, "sleep 30");
	EXPECT_TRUE(p.cmdline_truncated);
	EXPECT_EQ(p.ancestry.size(), 1u);
}

TEST(read_process, vanished_process_says_so)
{
	sleeper child;
	uint32_t pid = static_cast<uint32_t>(child.pid);
	child.reap();
	process_info p = read_process(pid);
	EXPECT_TRUE(p.exited);
	ASSERT_FALSE(p.unreadable.empty());
	EXPECT_NE(p.unreadable.front().find("stat"), std::string::npos) << p.unreadable.front();
	EXPECT_EQ(read_start_boot_ns(pid), 0u);
}

TEST(process_cache, keeps_what_it_knew_after_exit)
{
	process_cache cache;
	sleeper child("2");
	uint32_t pid = static_cast<uint32_t>(child.pid);
	cache.on_fork(static_cast<uint32_t>(getpid()), pid);
	uint64_t ts = boot_time_now_ns();
	child.reap();
	cache.on_exit(pid);

	process_info p = cache.lookup(pid, ts);
	EXPECT_TRUE(p.exe.ends_with("/sleep"));
	EXPECT_EQ(p.cmdline, "sleep 30 2");
	EXPECT_TRUE(p.exited);
}

TEST(process_cache, notices_exit_without_an_exit_event)
{
	process_cache cache;
	sleeper child;
	uint32_t pid = static_cast<uint32_t>(child.pid);
	EXPECT_FALSE(cache.lookup(pid).exited);
	child.reap();
	process_info p = cache.lookup(pid);
	EXPECT_TRUE(p.exited);
	EXPECT_TRUE(p.exe.ends_with("/sleep"));
}

TEST(process_cache, event_older_than_the_live_process_is_not_attributed_to_it)
{
	process_cache cache;
	sleeper child;
	uint32_t pid = static_cast<uint32_t>(child.pid);
	uint64_t start = read_start_boot_ns(pid);
	ASSERT_GT(start, 0u);
	// An event stamped before this process started belongs to an earlier
	// holder of the pid that the cache never saw.
	process_info p = cache.lookup(pid, start - 1);
	EXPECT_TRUE(p.exited);
	EXPECT_TRUE(p.exe.empty());
	ASSERT_FALSE(p.unreadable.empty());
	EXPECT_EQ(p.unreadable.front(), "process exited before it was seen");
	// At or after its start, it is this process.
	p = cache.lookup(pid, boot_time_now_ns());
	EXPECT_TRUE(p.exe.ends_with("/sleep"));
}

TEST(process_cache, capacity_and_ttl)
{
	process_cache::options opt;
	opt.capacity = 2;
	opt.exited_ttl = 0s;
	process_cache cache(opt);
	sleeper a, b;
	cache.on_exec(static_cast<uint32_t>(getpid()));
	cache.on_exec(static_cast<uint32_t>(a.pid));
	cache.on_exec(static_cast<uint32_t>(b.pid));
	EXPECT_EQ(cache.size(), 2u);

	cache.on_exit(static_cast<uint32_t>(b.pid));
	std::this_thread::sleep_for(2ms);
	cache.expire();
	EXPECT_EQ(cache.size(), 1u);
}
