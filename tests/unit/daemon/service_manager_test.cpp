// What ltrackd tells systemd, read from a real NOTIFY_SOCKET as systemd
// would: the datagrams libsystemd sends for each state, and the journal
// detection that decides where log lines go.
#include "service_manager.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace ltrack;

namespace {

struct notify_socket {
	int fd = -1;
	std::string path;
	notify_socket()
	{
		path = "/tmp/ltrack-notify-" + std::to_string(getpid());
		unlink(path.c_str());
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
		EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
		setenv("NOTIFY_SOCKET", path.c_str(), 1);
	}
	~notify_socket()
	{
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		close(fd);
		unlink(path.c_str());
	}
	std::vector<std::string> drain()
	{
		std::vector<std::string> out;
		pollfd p{fd, POLLIN, 0};
		while (poll(&p, 1, 100) == 1) {
			char buf[4096];
			ssize_t n = recv(fd, buf, sizeof buf, 0);
			if (n <= 0)
				break;
			out.emplace_back(buf, n);
		}
		return out;
	}
};

TEST(service_manager, sends_each_state_with_a_one_line_status)
{
	notify_socket ns;
	service::extend_start_timeout(std::chrono::seconds(30), "scanning model directories: 3 files, now /srv/models");
	service::ready("enforcing /etc/ltrack/policy.toml (enforce mode, 2 profiles, 40 rules)");
	service::reloading();
	service::reloaded("enforcing /etc/ltrack/policy.toml\nsecond line is dropped");
	service::stopping();
	std::vector<std::string> got = ns.drain();
	ASSERT_EQ(got.size(), 5u);
	EXPECT_EQ(got[0], "EXTEND_TIMEOUT_USEC=30000000\nSTATUS=scanning model directories: 3 files, now /srv/models");
	EXPECT_EQ(got[1], "READY=1\nSTATUS=enforcing /etc/ltrack/policy.toml (enforce mode, 2 profiles, 40 rules)");
	EXPECT_EQ(got[2], "RELOADING=1\nSTATUS=reloading the policy");
	EXPECT_EQ(got[3], "READY=1\nSTATUS=enforcing /etc/ltrack/policy.toml");
	EXPECT_EQ(got[4], "STOPPING=1\nSTATUS=stopping");
}

TEST(service_manager, watchdog_beats_at_half_its_interval_only_when_asked)
{
	notify_socket ns;
	{
		service::watchdog none;
		EXPECT_FALSE(none.enabled());
		none.beat();
	}
	EXPECT_TRUE(ns.drain().empty());
	setenv("WATCHDOG_USEC", "4000000", 1);
	setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
	service::watchdog w;
	ASSERT_TRUE(w.enabled());
	EXPECT_EQ(w.interval_us(), 4000000u);
	w.beat();
	w.beat(); // within half the interval: no second beat
	EXPECT_EQ(ns.drain(), std::vector<std::string>{"WATCHDOG=1"});
	// For another process (WATCHDOG_PID not ours): no watchdog.
	setenv("WATCHDOG_PID", "1", 1);
	service::watchdog other;
	EXPECT_FALSE(other.enabled());
}

TEST(service_manager, journal_stream_must_name_the_fd)
{
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	struct stat st;
	ASSERT_EQ(fstat(fds[1], &st), 0);
	std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
	EXPECT_TRUE(service::journal_stream_is(mine.c_str(), fds[1]));
	EXPECT_FALSE(service::journal_stream_is((std::to_string(st.st_dev) + ":1").c_str(), fds[1]));
	EXPECT_FALSE(service::journal_stream_is("", fds[1]));
	EXPECT_FALSE(service::journal_stream_is(nullptr, fds[1]));
	EXPECT_FALSE(service::journal_stream_is("garbage", fds[1]));
	close(fds[0]);
	close(fds[1]);
}

TEST(service_manager, outside_systemd_nothing_is_sent_and_nothing_fails)
{
	unsetenv("NOTIFY_SOCKET");
	service::ready("x");
	service::stopping();
	SUCCEED();
}

} // namespace
