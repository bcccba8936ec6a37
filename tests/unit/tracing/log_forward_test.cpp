// [log] journald and syslog: records reach real sockets in the formats
// journald and syslogd read, one journald field per record field, and a
// receiver that does not keep up costs dropped (and counted) records, never
// a stalled writer. libsystemd sends to the fixed path
// /run/systemd/journal/socket and libc's syslog(3) to /dev/log, so the
// writer runs in a child with a private mount namespace whose /run and /dev
// are fresh tmpfs holding symlinks to this test's sockets.
#include "decision_log.h"
#include "log_forward.h"
#include "record_fields.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <syslog.h>
#include <thread>
#include <unistd.h>

using namespace ltrack::tracing;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
	fs::path path;
	temp_dir()
	{
		char tmpl[] = "/tmp/ltrack-forward-XXXXXX";
		path = mkdtemp(tmpl);
	}
	~temp_dir() { fs::remove_all(path); }
	std::string file(const std::string &name) const { return (path / name).string(); }
};

// A bound datagram socket, as journald's and syslogd's are.
int bind_dgram(const std::string &path, int rcvbuf = 0)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

// Receives datagrams until none comes for quiet_ms.
std::vector<std::string> receive_all(int fd, int quiet_ms)
{
	std::vector<std::string> out;
	std::vector<char> buf(1 << 20);
	for (;;) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, quiet_ms) <= 0)
			return out;
		ssize_t n = recv(fd, buf.data(), buf.size(), 0);
		if (n < 0)
			return out;
		out.emplace_back(buf.data(), size_t(n));
	}
}

// journald's native protocol (systemd's JOURNAL_NATIVE_PROTOCOL): "NAME=value\n",
// or for a value with a newline "NAME\n", its length as 64-bit little endian,
// the value and "\n". nullopt if the datagram breaks the protocol.
std::optional<std::multimap<std::string, std::string>> parse_native(const std::string &d)
{
	std::multimap<std::string, std::string> fields;
	size_t i = 0;
	while (i < d.size()) {
		size_t nl = d.find('\n', i);
		if (nl == std::string::npos)
			return std::nullopt;
		size_t eq = d.find('=', i);
		if (eq != std::string::npos && eq < nl) {
			fields.emplace(d.substr(i, eq - i), d.substr(eq + 1, nl - eq - 1));
			i = nl + 1;
			continue;
		}
		std::string name = d.substr(i, nl - i);
		i = nl + 1;
		if (i + 8 > d.size())
			return std::nullopt;
		uint64_t len = 0;
		for (int k = 7; k >= 0; --k)
			len = len << 8 | static_cast<unsigned char>(d[i + k]);
		i += 8;
		if (i + len + 1 > d.size() || d[i + len] != '\n')
			return std::nullopt;
		fields.emplace(name, d.substr(i, len));
		i += len + 1;
	}
	return fields;
}

// Runs fn in a child whose /run/systemd/journal/socket and /dev/log are
// the given sockets; returns the child's exit status (fn's result), or
// -1 with why when the namespace could not be made.
int run_redirected(const std::string &journal_sock, const std::string &log_sock, const std::function<int()> &fn,
		   std::string &why)
{
	int err[2];
	if (pipe(err) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(err[0]);
		auto fail = [&](const char *what) {
			std::string m = std::string(what) + ": " + std::strerror(errno);
			(void)!write(err[1], m.data(), m.size());
			_exit(100);
		};
		if (unshare(CLONE_NEWNS) < 0) {
			// Not root: a user namespace of our own makes the mounts possible.
			uid_t uid = getuid();
			gid_t gid = getgid();
			if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
				fail("unshare");
			std::ofstream("/proc/self/setgroups") << "deny";
			std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
			std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
		}
		if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
			fail("making / private");
		if (mount("tmpfs", "/run", "tmpfs", 0, "mode=755") < 0)
			fail("tmpfs on /run");
		if (mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
			fail("mkdir /run/systemd/journal");
		if (symlink(journal_sock.c_str(), "/run/systemd/journal/socket") < 0)
			fail("symlink journal socket");
		if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=755") < 0)
			fail("tmpfs on /dev");
		if (symlink(log_sock.c_str(), "/dev/log") < 0)
			fail("symlink /dev/log");
		close(err[1]);
		std::fflush(nullptr);
		_exit(fn());
	}
	close(err[1]);
	char buf[512];
	ssize_t n = read(err[0], buf, sizeof buf);
	close(err[0]);
	if (n > 0)
		why.assign(buf, size_t(n));
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 100 ? -1 : WEXITSTATUS(status);
}

decision_record hostile_denial()
{
	decision_record r = test_records::file_denial();
	r.path = "/tmp/evil\nPRIORITY=7\nMESSAGE=forged"; // a newline must not start a field of its own
	return r;
}

} // namespace

TEST(record_fields, flatten_gives_every_field_decoded)
{
	decision_record r = test_records::file_denial();
	auto f = flatten_record(format_json(r));
	ASSERT_TRUE(f);
	std::map<std::string, std::string> m;
	for (const auto &x : *f)
		m[x.name] = x.value;
	EXPECT_EQ(m["type"], "decision");
	EXPECT_EQ(m["host"], host_name());
	EXPECT_EQ(m["process.pid"], "4242");
	EXPECT_EQ(m["rule.text"], "deny = [\"/etc/shadow\"]");
	EXPECT_EQ(m["file.path"], "/etc/shadow");
	EXPECT_EQ(m["file.path_partial"], "false");
	EXPECT_EQ(m["process.container.runtime"], "docker");
	EXPECT_EQ(m["process.ancestry"], R"([{"pid":4000,"exe":"/usr/bin/bash"},{"pid":1,"exe":"/sbin/init"}])");
	auto h = flatten_record(format_json(hostile_denial()));
	ASSERT_TRUE(h);
	for (const auto &x : *h)
		if (x.name == "file.path") {
			EXPECT_EQ(x.value, hostile_denial().path);
		}
	EXPECT_FALSE(flatten_record("{\"a\":1"));
	EXPECT_FALSE(flatten_record("{\"a\":1} x"));
}

TEST(record_fields, journal_field_names)
{
	EXPECT_EQ(journal_field_name("process.pid"), "LTRACK_PROCESS_PID");
	EXPECT_EQ(journal_field_name("rule.text"), "LTRACK_RULE_TEXT");
	EXPECT_EQ(journal_field_name("by_hook"), "LTRACK_BY_HOOK");
	EXPECT_EQ(journal_field_name(std::string(80, 'a')).size(), 64u);
}

TEST(log_forward, syslog_facility_names)
{
	EXPECT_EQ(parse_syslog_facility("daemon"), LOG_DAEMON);
	EXPECT_EQ(parse_syslog_facility("authpriv"), LOG_AUTHPRIV);
	EXPECT_EQ(parse_syslog_facility("local7"), LOG_LOCAL7);
	EXPECT_EQ(parse_syslog_facility("kern"), -1);
}

// Records to journald and syslog over real datagram sockets: journald gets
// MESSAGE (the text line), PRIORITY from the severity, SYSLOG_IDENTIFIER and
// one LTRACK_ field per record field (a value with a newline in the binary
// form, so a hostile path cannot forge a field); syslog gets
// "<facility|priority>TIMESTAMP ltrackd[pid]: <json>" as libc writes it.
TEST(log_forward, journald_and_syslog_receive_every_record_field)
{
	temp_dir dir;
	std::string jpath = dir.file("journal.sock"), spath = dir.file("log.sock");
	int jfd = bind_dgram(jpath), sfd = bind_dgram(spath);
	ASSERT_GE(jfd, 0);
	ASSERT_GE(sfd, 0);
	std::string why;
	int rc = run_redirected(
		jpath, spath,
		[&] {
			log_config cfg;
			cfg.output_path = dir.file("decisions.log");
			cfg.forward.journald = true;
			cfg.forward.syslog = true;
			cfg.forward.syslog_facility = LOG_LOCAL3;
			auto opened = decision_log::open(cfg);
			if (!opened) {
				std::fprintf(stderr, "open: %s\n", opened.failure().error.c_str());
				return 1;
			}
			auto log = std::move(*opened);
			log->write(hostile_denial());
			log->write(test_records::model_refusal());
			log->write_loss(3, loss_source::ring_buffer);
			log.reset(); // drains the queue
			return 0;
		},
		why);
	ASSERT_EQ(rc, 0) << why;
	std::vector<std::string> journal = receive_all(jfd, 500), sys = receive_all(sfd, 200);
	close(jfd);
	close(sfd);

	ASSERT_EQ(journal.size(), 3u);
	const decision_record denial = hostile_denial();
	const std::string json[3] = {format_json(denial), format_json(test_records::model_refusal()), ""};
	const char *priority[3] = {"2", "4", "2"}; // critical, warn, a loss of records is critical
	for (size_t i = 0; i < 3; ++i) {
		auto f = parse_native(journal[i]);
		ASSERT_TRUE(f) << "not journald's native protocol: " << journal[i];
		auto one = [&](const std::string &k) {
			EXPECT_EQ(f->count(k), 1u) << k << " in record " << i;
			auto it = f->find(k);
			return it == f->end() ? std::string() : it->second;
		};
		EXPECT_EQ(one("PRIORITY"), priority[i]);
		EXPECT_EQ(one("SYSLOG_IDENTIFIER"), "ltrackd");
		EXPECT_EQ(one("LTRACK_HOST"), host_name());
		if (i == 0) {
			EXPECT_EQ(one("MESSAGE"), format_text(denial)); // one line: the path's newline escaped
			EXPECT_EQ(one("MESSAGE").find('\n'), std::string::npos);
			EXPECT_EQ(one("LTRACK_FILE_PATH"), denial.path);
		}
		if (i == 2) {
			EXPECT_EQ(one("LTRACK_TYPE"), "loss");
			EXPECT_EQ(one("LTRACK_COUNT"), "3");
			continue;
		}
		// One field per record field, with the record's value.
		auto rec = flatten_record(json[i]);
		ASSERT_TRUE(rec);
		for (const auto &x : *rec)
			EXPECT_EQ(one(journal_field_name(x.name)), x.value) << x.name;
		std::string names;
		for (const auto &[k, v] : *f)
			names += k + " ";
		EXPECT_EQ(f->size(), rec->size() + 3)
			<< "MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the record's fields: " << names;
	}

	ASSERT_EQ(sys.size(), 3u);
	// glibc: "<PRI>Mmm dd hh:mm:ss ltrackd[PID]: MESSAGE"; PRI = facility | severity.
	EXPECT_EQ(sys[0].rfind("<" + std::to_string(LOG_LOCAL3 | LOG_CRIT) + ">", 0), 0u) << sys[0];
	EXPECT_EQ(sys[1].rfind("<" + std::to_string(LOG_LOCAL3 | LOG_WARNING) + ">", 0), 0u) << sys[1];
	for (size_t i = 0; i < 2; ++i) {
		size_t tag = sys[i].find(" ltrackd[");
		ASSERT_NE(tag, std::string::npos) << sys[i];
		size_t colon = sys[i].find("]: ", tag);
		ASSERT_NE(colon, std::string::npos);
		EXPECT_EQ(sys[i].substr(colon + 3), json[i]);
	}
	EXPECT_NE(sys[2].find("\"type\":\"loss\""), std::string::npos);
}

// journald stalls (its socket is never read): writing the decision log
// stays fast, the file keeps every record, what journald could not take is
// counted as dropped and said in a "forward" loss record, and closing the
// log does not hang on the blocked sender.
TEST(log_forward, a_stalled_journald_costs_counted_drops_never_a_stall)
{
	temp_dir dir;
	std::string jpath = dir.file("journal.sock"), spath = dir.file("log.sock");
	int jfd = bind_dgram(jpath, 4096), sfd = bind_dgram(spath);
	ASSERT_GE(jfd, 0);
	ASSERT_GE(sfd, 0);
	std::string why;
	constexpr int records = 3000;
	int rc = run_redirected(
		jpath, spath,
		[&] {
			using clock = std::chrono::steady_clock;
			log_config cfg;
			cfg.output_path = dir.file("decisions.log");
			cfg.forward.journald = true;
			cfg.forward.queue_max = 256;
			auto opened = decision_log::open(cfg);
			if (!opened)
				return 1;
			auto log = std::move(*opened);
			auto t0 = clock::now();
			decision_record r = test_records::file_denial();
			for (int i = 0; i < records; ++i)
				log->write(r);
			double write_s = std::chrono::duration<double>(clock::now() - t0).count();
			// The loss is said at most once a second: wait for the next report.
			std::this_thread::sleep_for(std::chrono::milliseconds(1100));
			decision_log::counters c = log->stats();
			log->write(r); // says what was dropped so far
			auto t1 = clock::now();
			log.reset();
			double close_s = std::chrono::duration<double>(clock::now() - t1).count();
			std::fprintf(stderr, "%d records in %.3f s; %llu forwarded, %llu dropped; close %.3f s\n",
				     records, write_s, (unsigned long long)c.forwarded,
				     (unsigned long long)c.forward_dropped, close_s);
			int bad = 0;
			// Each record once (the second's loss record may be among them).
			if (c.forward_dropped == 0 || c.forwarded + c.forward_dropped > uint64_t(records) + 2)
				bad |= 2;
			if (write_s > 5 || close_s > 3.5)
				bad |= 4;
			std::ifstream in(cfg.output_path);
			std::string line;
			int decisions = 0, loss_records = 0;
			uint64_t lost = 0;
			while (std::getline(in, line)) {
				if (line.find("\"type\":\"decision\"") != std::string::npos)
					decisions++;
				if (size_t p = line.find("\"source\":\"forward\",\"count\":"); p != std::string::npos) {
					lost += std::stoull(line.substr(p + 27));
					loss_records++;
				}
			}
			if (decisions != records + 1)
				bad |= 8;
			if (lost < c.forward_dropped || loss_records > 3)
				bad |= 16;
			std::fprintf(stderr, "file: %d decisions, forward loss records count %llu\n", decisions,
				     (unsigned long long)lost);
			return bad;
		},
		why);
	close(jfd);
	close(sfd);
	EXPECT_EQ(rc, 0) << why << " (2: no drops counted, 4: too slow, 8: file lost records, 16: loss not said)";
}

// The queue is bounded by bytes too: a record can be ~250 KB (a chain of
// long executable paths of control bytes, each escaped to six), and 4,096
// of them held for a stalled journald would be a gigabyte of the daemon's.
TEST(log_forward, the_queue_is_bounded_by_bytes_as_well_as_records)
{
	temp_dir dir;
	std::string jpath = dir.file("journal.sock"), spath = dir.file("log.sock");
	int jfd = bind_dgram(jpath, 4096), sfd = bind_dgram(spath);
	ASSERT_GE(jfd, 0);
	ASSERT_GE(sfd, 0);
	std::string why;
	int rc = run_redirected(
		jpath, spath,
		[&] {
			forward_config cfg;
			cfg.journald = true;
			cfg.queue_max = 100000;
			cfg.queue_max_bytes = 1 << 20;
			log_forwarder f(cfg);
			decision_record r = test_records::file_denial();
			std::string json = format_json(r), text = format_text(r);
			json += "\n" + std::string(100 * 1024, 'x'); // ~100 KB a record
			for (int i = 0; i < 100; ++i)
				f.send(json, text, LOG_CRIT);
			log_forwarder::counters c = f.stats();
			std::fprintf(stderr, "%llu sent, %llu dropped of 100 records of 100 KB, 1 MiB queue\n",
				     (unsigned long long)c.sent, (unsigned long long)c.dropped);
			// At most 1 MiB (10 records) queued, a few in the socket: most dropped.
			return c.dropped >= 80 ? 0 : 1;
		},
		why);
	close(jfd);
	close(sfd);
	EXPECT_EQ(rc, 0) << why;
}
