// ltrackd's report socket (policyd/report_server.h) without a kernel guard:
// the label reader is the test's. Who the sender is comes from the
// connection, never the message; find_class is decided with the scanner's
// list in the profile's mode; an ungoverned sender is never recorded; a
// flooding client is read a bounded amount per wake-up and per second and
// its identical reports are one record with a count.
#include "report_server.h"

#include <gtest/gtest.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace ltrack;
using namespace std::string_literals;

namespace {

struct fixture {
	std::string path = "/tmp/ltrack-report-test-" + std::to_string(getpid()) + ".sock";
	int ep = epoll_create1(EPOLL_CLOEXEC);
	report_server srv;
	uint32_t profile = 7, mode = LTRACK_MODE_ENFORCE;
	std::vector<ltrack_event> records;

	fixture()
	{
		status s = srv.listen(
			path, ep, [this](int) { return profile; },
			[this](uint32_t) { return report_server::profile_view{mode, 1}; },
			[this](const ltrack_event &e) { records.push_back(e); });
		EXPECT_TRUE(s.ok()) << s.error;
	}
	~fixture() { close(ep); }

	int connect_client()
	{
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::strcpy(a.sun_path, path.c_str());
		EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0) << strerror(errno);
		return fd;
	}
	// One pass of the daemon's loop.
	void pump(int ms = 50)
	{
		epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, ms);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == srv.fd())
				srv.on_listen_ready();
			else if (srv.owns(evs[i].data.fd))
				srv.on_ready(evs[i].data.fd, evs[i].events);
		}
	}
	std::string ask(int fd, const std::string &msg)
	{
		EXPECT_EQ(send(fd, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
		for (int i = 0; i < 20; i++) {
			pump(20);
			char buf[64];
			ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (n > 0)
				return std::string(buf, n);
		}
		return "(no answer)";
	}
};

} // namespace

TEST(ReportServer, GovernedSenderIsNamedByItsConnectionNotItsMessage)
{
	fixture f;
	int c = f.connect_client();
	f.pump(); // accept
	EXPECT_EQ(f.ask(c, "hello"), "governed\0enforce"s);
	// A forged SCM_CREDENTIALS naming another pid (as root the kernel lets
	// it through): ignored, the record names the connecting process.
	std::string msg = "find_class\0posix\0system"s;
	iovec iov{msg.data(), msg.size()};
	char cbuf[CMSG_SPACE(sizeof(ucred))] = {};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(ucred));
	ucred forged{1, 0, 0};
	std::memcpy(CMSG_DATA(cm), &forged, sizeof forged);
	if (sendmsg(c, &mh, 0) < 0)
		ASSERT_EQ(send(c, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
	std::string answer;
	for (int i = 0; i < 20 && answer.empty(); i++) {
		f.pump(20);
		char buf[64];
		ssize_t n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			answer.assign(buf, n);
	}
	EXPECT_EQ(answer, "refuse");
	ASSERT_EQ(f.records.size(), 1u);
	const ltrack_event &e = f.records[0];
	EXPECT_EQ(e.pid, static_cast<uint32_t>(getpid()));
	EXPECT_EQ(e.profile, 7u);
	EXPECT_EQ(e.hook, LTRACK_HOOK_PYTHON);
	EXPECT_EQ(e.cred_op, static_cast<uint32_t>(LTRACK_PY_FIND_CLASS));
	EXPECT_EQ(e.outcome, LTRACK_OUT_DENIED);
	EXPECT_STREQ(e.path, "posix.system");
	EXPECT_TRUE(e.flags & LTRACK_EV_SLOT1);
	// Not on the list: proceed, nothing recorded (the server decides, not the client).
	EXPECT_EQ(f.ask(c, "find_class\0collections\0OrderedDict"s), "proceed");
	EXPECT_EQ(f.records.size(), 1u);
	// Audit mode: proceed, recorded as would_deny.
	f.mode = LTRACK_MODE_AUDIT;
	EXPECT_EQ(f.ask(c, "find_class\0builtins\0exec"s), "proceed");
	ASSERT_EQ(f.records.size(), 2u);
	EXPECT_EQ(f.records[1].outcome, LTRACK_OUT_WOULD_DENY);
	EXPECT_EQ(f.records[1].mode, LTRACK_MODE_AUDIT);
	// Malformed: counted, no record, no answer.
	send(c, "hello\0pid\0001", 13, 0);
	f.pump();
	EXPECT_EQ(f.srv.stats().malformed, 1u);
	close(c);
}

TEST(ReportServer, UngovernedSenderIsNeverRecorded)
{
	fixture f;
	f.profile = 0;
	int c = f.connect_client();
	f.pump();
	EXPECT_EQ(f.ask(c, "hello"), "ungoverned");
	EXPECT_EQ(f.ask(c, "find_class\0posix\0system"s), "proceed");
	send(c, "system\0id", 9, 0);
	f.pump();
	EXPECT_TRUE(f.records.empty());
	close(c);
}

TEST(ReportServer, AFloodIsBoundedPerWakeUpAndSecondAndCoalesced)
{
	fixture f;
	int c = f.connect_client();
	f.pump();
	int sent = 0;
	std::string msg = "system\0touch /tmp/x"s;
	while (sent < 100000 && send(c, msg.data(), msg.size(), MSG_DONTWAIT) > 0)
		sent++;
	ASSERT_GT(sent, 0);
	// One wake-up reads at most read_burst messages.
	auto t0 = std::chrono::steady_clock::now();
	f.pump();
	EXPECT_LE(f.srv.stats().records + f.srv.stats().coalesced, report_server::read_burst);
	// Within a second, no more than rate_per_s, then it is no longer watched.
	for (int i = 0; i < 200; i++)
		f.pump(1);
	EXPECT_LE(f.srv.stats().records + f.srv.stats().coalesced, report_server::rate_per_s);
	EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "the flood held the loop";
	EXPECT_GE(f.srv.stats().throttled, 1u);
	// One record so far; the tick sends the rest as one tally with a count,
	// and the counts add up to what was read.
	EXPECT_EQ(f.records.size(), 1u);
	std::this_thread::sleep_for(std::chrono::milliseconds(1050));
	f.srv.tick();
	uint64_t total = 0;
	for (const auto &e : f.records)
		total += e.count;
	EXPECT_EQ(total, f.srv.stats().records + f.srv.stats().coalesced);
	EXPECT_EQ(f.records.size(), 2u);
	EXPECT_TRUE(f.records.back().flags & LTRACK_EV_TALLY);
	close(c);
	for (int i = 0; i < 50; i++)
		f.pump(1);
}
