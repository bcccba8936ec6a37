// ltrackd's report socket (runtime/report_server.h) without a kernel guard:
// the label reader is the test's. Who the sender is comes from the
// connection, never the message; find_class is decided with the scanner's
// list in the profile's mode; an ungoverned sender is never recorded; a
// flooding client is read a bounded amount per wake-up and per second and
// its identical reports are one record with a count.
#include "control_protocol.h"
#include "control_server.h"
#include "report_server.h"

#include <gtest/gtest.h>

#include <sys/epoll.h>
#include <sys/resource.h>
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
			[this](uint32_t) {
				return report_server::profile_view{mode, 1};
			},
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
	// The server closed its end: recv sees end of file.
	bool closed_by_server(int fd)
	{
		for (int i = 0; i < 20; i++) {
			char b[64];
			ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
			if (n == 0)
				return true;
			if (n < 0 && errno != EAGAIN)
				return true;
			pump(5);
		}
		return false;
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

TEST(ReportServer, UngovernedSenderIsNeverRecordedAndNotKept)
{
	fixture f;
	f.profile = 0;
	int c = f.connect_client();
	f.pump();
	EXPECT_EQ(f.ask(c, "hello"), "ungoverned");
	// Closed right after its answer: an ungoverned process holds no
	// descriptor of ltrackd's.
	EXPECT_TRUE(f.closed_by_server(c));
	EXPECT_EQ(f.srv.open_connections(), 0u);
	close(c);
	c = f.connect_client();
	EXPECT_EQ(f.ask(c, "find_class\0posix\0system"s), "proceed");
	EXPECT_TRUE(f.closed_by_server(c));
	close(c);
	c = f.connect_client();
	send(c, "system\0id", 9, 0);
	f.pump();
	f.pump();
	EXPECT_TRUE(f.closed_by_server(c));
	EXPECT_TRUE(f.records.empty());
	EXPECT_EQ(f.srv.open_connections(), 0u);
	close(c);
}

// The attack: one unprivileged user opens hundreds of idle connections
// (each costs ltrackd a socket and a pidfd) until ltrackd hits EMFILE.
TEST(ReportServer, ConnectionsAreCappedPerUidAndAcceptedInBoundedBursts)
{
	fixture f;
	std::vector<int> clients;
	for (int i = 0; i < 100; i++)
		clients.push_back(f.connect_client());
	// One wake-up accepts at most accept_burst.
	f.srv.on_listen_ready();
	EXPECT_EQ(f.srv.stats().connections + f.srv.stats().shed_uid,
		  static_cast<uint64_t>(report_server::accept_burst));
	f.srv.on_listen_ready();
	EXPECT_EQ(f.srv.stats().connections + f.srv.stats().shed_uid, 100u);
	// One uid: no more than max_per_uid kept, the rest closed at once.
	EXPECT_EQ(f.srv.open_connections(), report_server::max_per_uid);
	EXPECT_EQ(f.srv.stats().shed_uid, 100u - report_server::max_per_uid);
	int closed = 0;
	for (int c : clients) {
		char b;
		closed += recv(c, &b, 1, MSG_DONTWAIT) == 0;
	}
	EXPECT_EQ(closed, static_cast<int>(100 - report_server::max_per_uid));
	// A kept one still works; a slot freed is taken again.
	EXPECT_EQ(f.ask(clients[0], "hello"), "governed\0enforce"s);
	close(clients[0]);
	f.pump();
	EXPECT_EQ(f.srv.open_connections(), report_server::max_per_uid - 1);
	int again = f.connect_client();
	f.pump();
	EXPECT_EQ(f.srv.open_connections(), report_server::max_per_uid);
	EXPECT_EQ(f.ask(again, "hello"), "governed\0enforce"s);
	close(again);
	for (int c : clients)
		close(c);
	EXPECT_LE(report_server::max_connections * 2 + 64, 1024u)
		<< "the caps must stay far below the default fd limit";
}

TEST(ReportServer, IdleConnectionIsClosedButNotOneWithAMessageWaiting)
{
	fixture f;
	int idle = f.connect_client(), busy = f.connect_client();
	f.pump();
	EXPECT_EQ(f.ask(idle, "hello"), "governed\0enforce"s);
	EXPECT_EQ(f.ask(busy, "hello"), "governed\0enforce"s);
	f.srv.tick(); // not idle yet
	EXPECT_EQ(f.srv.open_connections(), 2u);
	std::string msg = "system\0id"s;
	ASSERT_EQ(send(busy, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
	f.srv.tick(std::chrono::steady_clock::now() + report_server::idle_timeout + std::chrono::seconds(1));
	EXPECT_EQ(f.srv.stats().idle_closed, 1u);
	EXPECT_TRUE(f.closed_by_server(idle));
	// The waiting message is read and recorded, not lost with its socket.
	f.pump();
	EXPECT_EQ(f.srv.open_connections(), 1u);
	ASSERT_EQ(f.records.size(), 1u);
	EXPECT_STREQ(f.records[0].path, "id");
	close(idle);
	close(busy);
}

// Many connections each under their own limits together are held to
// records_per_s new records a second; the rest are counted, not logged.
TEST(ReportServer, ReportsAcrossConnectionsHaveOneBudgetASecond)
{
	fixture f;
	constexpr int conns = 17; // 17 * 64 distinct keys > records_per_s
	std::vector<int> clients;
	for (int i = 0; i < conns; i++)
		clients.push_back(f.connect_client());
	f.pump();
	ASSERT_EQ(f.srv.open_connections(), static_cast<size_t>(conns));
	for (int i = 0; i < conns; i++)
		for (size_t k = 0; k < report_server::max_keys; k++) {
			std::string msg = "system\0cmd-"s + std::to_string(i) + "-" + std::to_string(k);
			ASSERT_EQ(send(clients[i], msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
		}
	for (int i = 0; i < 100; i++)
		f.pump(1);
	EXPECT_EQ(f.records.size(), report_server::records_per_s);
	EXPECT_EQ(f.srv.stats().over_budget, conns * report_server::max_keys - report_server::records_per_s);
	// The next second has a budget again.
	f.srv.tick();
	int next = f.connect_client();
	f.pump();
	std::string msg = "system\0next second"s;
	ASSERT_EQ(send(next, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
	f.pump();
	close(next);
	EXPECT_STREQ(f.records.back().path, "next second");
	for (int c : clients)
		close(c);
}

// Out of descriptors, the listening socket stays readable: watched, it
// would wake the loop for ever. It is not watched for a moment instead.
TEST(ReportServer, AcceptOutOfDescriptorsDoesNotSpinTheLoop)
{
	fixture f;
	int c = f.connect_client();
	rlimit old{};
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0); // every descriptor below this one is in use
	ASSERT_GE(lowest, 0);
	close(lowest);
	rlimit tight = old;
	tight.rlim_cur = static_cast<rlim_t>(lowest);
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
	epoll_event ev;
	int ready = epoll_wait(f.ep, &ev, 1, 100);
	ASSERT_EQ(ready, 1);
	f.srv.on_listen_ready(); // EMFILE
	bool paused = f.srv.paused();
	int spins = epoll_wait(f.ep, &ev, 1, 100);
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	EXPECT_TRUE(paused);
	EXPECT_EQ(f.srv.stats().paused, 1u);
	EXPECT_EQ(spins, 0) << "the listener woke the loop again while out of descriptors";
	// The next tick after the pause watches it again; the connection waited.
	f.srv.tick(std::chrono::steady_clock::now() + std::chrono::seconds(1));
	EXPECT_FALSE(f.srv.paused());
	f.pump();
	EXPECT_EQ(f.srv.open_connections(), 1u);
	EXPECT_EQ(f.ask(c, "hello"), "governed\0enforce"s);
	close(c);
}

// The control socket on the same loop still answers root while an
// unprivileged flood of report connections goes on.
TEST(ReportServer, ControlSocketStillAcceptsUnderAReportFlood)
{
	fixture f;
	control_server ctl;
	std::string cpath = "/tmp/ltrack-control-test-" + std::to_string(getpid()) + ".sock";
	status s = ctl.listen(
		cpath, f.ep, [](int) { return 0u; }, [&](control_request &r) { ctl.respond(r.fd, true, "pong"); });
	ASSERT_TRUE(s.ok()) << s.error;
	std::vector<int> flood;
	for (int i = 0; i < 120; i++)
		flood.push_back(f.connect_client());
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::strcpy(a.sun_path, cpath.c_str());
	ASSERT_EQ(connect(c, reinterpret_cast<sockaddr *>(&a), sizeof a), 0) << strerror(errno);
	std::string req = control::format_request({"version"});
	ASSERT_EQ(send(c, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
	std::string answer;
	for (int i = 0; i < 50 && answer.find("pong") == std::string::npos; i++) {
		epoll_event evs[16];
		int n = epoll_wait(f.ep, evs, 16, 20);
		for (int k = 0; k < n; k++) {
			int fd = evs[k].data.fd;
			if (fd == f.srv.fd())
				f.srv.on_listen_ready();
			else if (f.srv.owns(fd))
				f.srv.on_ready(fd, evs[k].events);
			else if (fd == ctl.fd())
				ctl.on_listen_ready();
			else if (ctl.owns(fd))
				ctl.on_ready(fd, evs[k].events);
		}
		ctl.expire();
		char buf[256];
		ssize_t got = recv(c, buf, sizeof buf, MSG_DONTWAIT);
		if (got > 0)
			answer.append(buf, got);
	}
	EXPECT_NE(answer.find("pong"), std::string::npos) << answer;
	EXPECT_EQ(f.srv.open_connections(), report_server::max_per_uid);
	close(c);
	for (int fd : flood)
		close(fd);
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

// The control socket out of descriptors: not watched for listen_pause::pause
// (the loop does not spin), then served again from expire().
TEST(ReportServer, ControlSocketOutOfDescriptorsPausesThenServes)
{
	fixture f;
	control_server ctl;
	std::string cpath = "/tmp/ltrack-control-pause-" + std::to_string(getpid()) + ".sock";
	ASSERT_TRUE(ctl.listen(
			       cpath, f.ep, [](int) { return 0u; },
			       [&](control_request &r) { ctl.respond(r.fd, true, "pong"); })
			    .ok());
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::strcpy(a.sun_path, cpath.c_str());
	ASSERT_EQ(connect(c, reinterpret_cast<sockaddr *>(&a), sizeof a), 0) << strerror(errno);
	rlimit old{};
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0);
	ASSERT_GE(lowest, 0);
	close(lowest);
	rlimit tight = old;
	tight.rlim_cur = static_cast<rlim_t>(lowest);
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
	ctl.on_listen_ready(); // EMFILE
	bool paused = ctl.paused();
	int wait_ms = ctl.expire();
	epoll_event ev;
	int spins = epoll_wait(f.ep, &ev, 1, 50);
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	EXPECT_TRUE(paused);
	EXPECT_GT(wait_ms, 0) << "the loop must wake to watch it again";
	EXPECT_LE(wait_ms, static_cast<int>(listen_pause::pause.count()));
	EXPECT_EQ(spins, 0) << "the listener woke the loop again while out of descriptors";
	std::this_thread::sleep_for(listen_pause::pause);
	ctl.expire();
	EXPECT_FALSE(ctl.paused());
	std::string req = control::format_request({"version"});
	ASSERT_EQ(send(c, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
	std::string answer;
	for (int i = 0; i < 50 && answer.find("pong") == std::string::npos; i++) {
		epoll_event evs[4];
		int n = epoll_wait(f.ep, evs, 4, 20);
		for (int k = 0; k < n; k++) {
			if (evs[k].data.fd == ctl.fd())
				ctl.on_listen_ready();
			else if (ctl.owns(evs[k].data.fd))
				ctl.on_ready(evs[k].data.fd, evs[k].events);
		}
		char buf[256];
		ssize_t got = recv(c, buf, sizeof buf, MSG_DONTWAIT);
		if (got > 0)
			answer.append(buf, got);
	}
	EXPECT_NE(answer.find("pong"), std::string::npos) << answer;
	close(c);
}
