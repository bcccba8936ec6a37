// The decision log from the outside: denied opens, execs and connects of
// real processes appear with their process, parent, program, rule and policy
// line; the log rotates at the configured size into compressed backups;
// `ltrackctl events --follow` with a filter shows exactly the matching
// records; a flood the daemon cannot keep up with shows up as a drop count,
// never as records missing without a trace; and a flood of identical
// decisions is coalesced in the kernel (counted, not dropped) without
// hiding a different decision.
#include "support.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string governed(const std::string &rest)
{
	return "mode = \"enforce\"\n[profile.worker]\nexecutables = [\"" + actor_path() + "\"]\n" + rest;
}

TEST(DecisionLog, DeniedOpenExecConnectCarryProcessAndRule)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d(governed("[profile.worker.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", file = \"" +
			   t / "secret" +
			   "\" } ]\n"
			   "[profile.worker.exec]\ndefault = \"deny\"\n"
			   "[profile.worker.network]\ndefault = \"deny\"\n"));
	ASSERT_TRUE(d.start()) << d.output();

	// The actor is started by a shell, so its parent is known and distinct.
	run_result open = run({"/bin/sh", "-c", actor_path() + " open " + t / "secret" + "; true"});
	run_result exec = actor({"exec", "/usr/bin/true"});
	run_result conn = actor({"connect", "127.0.0.1", "9", "tcp"});
	EXPECT_EQ(exec.actor_errno(), EPERM) << exec.out;
	EXPECT_EQ(conn.actor_errno(), EPERM) << conn.out;

	json f = d.wait_for([&](const json &r) {
		return r["hook"].s() == "file" && r["outcome"].s() == "denied" && r["file"]["path"].s() == t / "secret";
	});
	ASSERT_EQ(f.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(f["process"]["exe"].s(), actor_path()) << read_file(d.log_path());
	EXPECT_NE(f["process"]["cmdline"].s().find("open " + t / "secret"), std::string::npos)
		<< f["process"]["cmdline"].s();
	EXPECT_EQ(f["process"]["ppid"].i(), open.pid) << "the actor's parent is the shell run() started";
	ASSERT_FALSE(f["process"]["ancestry"].items.empty());
	EXPECT_EQ(f["process"]["ancestry"].items[0]["exe"].s(), "/usr/bin/dash") << "the parent's program (sh -> dash)";
	EXPECT_EQ(f["rule"]["file"].s(), d.policy_path());
	EXPECT_EQ(f["rule"]["line"].i(), 6);
	EXPECT_EQ(f["rule"]["text"].s(), "deny file " + t / "secret");
	EXPECT_EQ(f["severity"].s(), "critical");

	json e = d.wait_for(decision_for(exec.pid, "exec", "denied"));
	ASSERT_EQ(e.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(e["file"]["path"].s(), "/usr/bin/true");
	EXPECT_EQ(e["process"]["exe"].s(), actor_path());
	EXPECT_EQ(e["process"]["ppid"].i(), getpid());
	EXPECT_EQ(e["rule"]["line"].i(), 8);

	json n = d.wait_for(decision_for(conn.pid, "net", "denied"));
	ASSERT_EQ(n.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(n["net"]["addr"].s(), "127.0.0.1");
	EXPECT_EQ(n["net"]["port"].i(), 9);
	EXPECT_EQ(n["net"]["proto"].s(), "tcp");
	EXPECT_EQ(n["process"]["exe"].s(), actor_path());
	EXPECT_EQ(n["rule"]["line"].i(), 10);
}

// Counts the lines of a gzip file, failing on a corrupt one.
long gzip_lines(const std::string &path)
{
	gzFile gz = gzopen(path.c_str(), "rb");
	if (!gz)
		return -1;
	long lines = 0;
	char buf[65536];
	int n;
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		for (int i = 0; i < n; i++)
			lines += buf[i] == '\n';
	int err;
	gzerror(gz, &err);
	gzclose(gz);
	return err == Z_OK || err == Z_STREAM_END ? lines : -1;
}

TEST(DecisionLog, RotatesAtSizeKeepingCompressedBackups)
{
	temp_dir t;
	// 4000 distinct denials (one file each): identical ones are coalesced
	// into one record a second and would never fill a log.
	fs::create_directory(t / "many");
	std::vector<std::string> args{"loop-open", "1"};
	for (int i = 0; i < 4000; i++) {
		args.push_back(t / ("many/f" + std::to_string(i)));
		write_file(args.back(), "s");
	}
	// The path is the test daemon's own (--decision-log); the rotation
	// settings are the policy's.
	ltrackd d(governed("[log]\nformat = \"json\"\nmax_size = 1\nmax_backups = 2\ncompress = true\n"
			   "[profile.worker.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", dir = \"" +
			   t / "many" + "\" } ]\n"));
	std::string log = d.log_path();
	std::string base = log.substr(log.rfind('/') + 1);
	ASSERT_TRUE(d.start()) << d.output();
	// About 1.3 KB a record: 4000 denials are about 5 MB, four or more rotations.
	run_result flood = actor(args, {.timeout = std::chrono::seconds(300)});
	ASSERT_EQ(flood.exit_code, 0) << flood.out;
	EXPECT_NE(flood.out.find("denied=4000"), std::string::npos) << flood.out;
	d.stop(); // flushes

	std::vector<std::string> backups;
	DIR *dir = opendir(d.dir().c_str());
	while (dirent *e = readdir(dir))
		if (std::string(e->d_name).rfind(base + ".", 0) == 0)
			backups.push_back(e->d_name);
	closedir(dir);
	std::sort(backups.begin(), backups.end());
	// Rotation is asynchronous for compression; stop() waited for the daemon.
	ASSERT_EQ(backups.size(), 2u) << "max_backups = 2";
	long total = 0;
	for (const auto &b : backups) {
		EXPECT_TRUE(b.size() > 3 && b.substr(b.size() - 3) == ".gz") << b << " is not compressed";
		long n = gzip_lines(d.dir() + "/" + b);
		EXPECT_GT(n, 0) << b << " is not valid gzip";
		total += n;
		struct stat st;
		stat((d.dir() + "/" + b).c_str(), &st);
		EXPECT_LT(st.st_size, 1024 * 1024) << b;
	}
	struct stat cur;
	ASSERT_EQ(stat(log.c_str(), &cur), 0);
	EXPECT_LE(cur.st_size, 1024 * 1024) << "the live file stays under max_size";
	EXPECT_GT(total, 1000) << "the backups hold full records";
}

TEST(DecisionLog, EventsFollowShowsExactlyTheMatchingRecords)
{
	temp_dir t;
	write_file(t / "secret", "s");
	write_file(t / "public", "p");
	ltrackd d(governed("[profile.worker.file]\ndefault = \"allow\"\nrules = [\n"
			   "  { action = \"deny\", file = \"" +
			   t / "secret" +
			   "\" },\n"
			   "  { action = \"allow\", file = \"" +
			   t / "public" + "\" },\n]\n"));
	ASSERT_TRUE(d.start()) << d.output();

	// Follow with a filter while the actor does four things, two matching.
	auto follow = std::async(std::launch::async, [&] {
		return d.ctl({"events", "--follow", "--format", "json", "--path", t / "secret", "--action", "denied"},
			     {.timeout = std::chrono::seconds(20)});
	});
	std::this_thread::sleep_for(std::chrono::seconds(4)); // ltrackctl connected
	std::vector<int> pids;
	for (int i = 0; i < 2; i++) {
		pids.push_back(actor({"open", t / "secret"}).pid);
		actor({"open", t / "public"});
	}
	ASSERT_EQ(d.wait_for(decision_for(pids[1], "file", "denied")).kind, json::object_v);
	run_result r = follow.get(); // ends at its timeout
	std::vector<json> shown;
	std::istringstream in(r.out);
	for (std::string line; std::getline(in, line);)
		if (!line.empty() && line[0] == '{')
			shown.push_back(json::parse(line));
	ASSERT_EQ(shown.size(), 2u) << r.out;
	for (std::size_t i = 0; i < shown.size(); i++) {
		EXPECT_EQ(shown[i]["process"]["pid"].i(), pids[i]);
		EXPECT_EQ(shown[i]["file"]["path"].s(), t / "secret");
		EXPECT_EQ(shown[i]["outcome"].s(), "denied");
	}
	// Both allowed opens were logged too: the filter, not the log, hid them.
	int allowed = 0;
	for (const auto &rec : d.decisions())
		allowed += rec["file"]["path"].s() == t / "public" && rec["outcome"].s() == "allowed";
	EXPECT_EQ(allowed, 2);
}

// Sum of the counts of the records about one process (one record may stand
// for many identical decisions).
long count_for(const ltrackd &d, int pid, long *records = nullptr)
{
	long sum = 0, n = 0;
	for (const auto &r : d.decisions())
		if (r["process"]["pid"].i() == pid) {
			sum += r["count"].i() ? r["count"].i() : 1;
			n++;
		}
	if (records)
		*records = n;
	return sum;
}

// Distinct decisions (one file each) the daemon cannot take while it is
// stopped overflow the ring: every one is a record or counted as dropped,
// in total and for its profile, and the log says so.
TEST(DecisionLog, FloodShowsDropsNotSilentLoss)
{
	temp_dir t;
	fs::create_directory(t / "many");
	const long attempts = 12000; // about 9,900 records fit in the 4 MB ring
	std::vector<std::string> args{"loop-open", "1"};
	for (long i = 0; i < attempts; i++) {
		args.push_back(t / ("many/f" + std::to_string(i)));
		int fd = open(args.back().c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		ASSERT_GE(fd, 0) << args.back();
		close(fd);
	}
	ltrackd d(governed("[profile.worker.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", dir = \"" +
			   t / "many" + "\" } ]\n"));
	ASSERT_TRUE(d.start()) << d.output();
	int daemon_pid = d.pid();
	ASSERT_GT(daemon_pid, 0);
	kill(daemon_pid, SIGSTOP);
	run_result flood = actor(args, {.timeout = std::chrono::seconds(300)});
	kill(daemon_pid, SIGCONT);
	ASSERT_EQ(flood.exit_code, 0) << flood.out;
	EXPECT_NE(flood.out.find("denied=" + std::to_string(attempts)), std::string::npos) << flood.out;

	// Every attempt is either in a record or counted as dropped.
	long drops = 0, logged = 0;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
	do {
		std::this_thread::sleep_for(std::chrono::seconds(2));
		json st = json::parse(d.ctl({"stats", "--json"}).out);
		drops = st["ringbuf_drops"].i();
		logged = count_for(d, flood.pid);
	} while (logged + drops < attempts && std::chrono::steady_clock::now() < deadline);
	EXPECT_GT(drops, 0) << "the ring buffer should have overflowed while the reader was stopped";
	EXPECT_EQ(logged + drops, attempts) << logged << " logged + " << drops << " drops";
	// Counted for the profile too, and the log itself says so.
	json st = json::parse(d.ctl({"status", "--json"}).out);
	EXPECT_EQ(st["drops_by_profile"]["worker"].i(), drops) << d.ctl({"status", "--json"}).out;
	std::string log = read_file(d.log_path());
	EXPECT_NE(log.find("\"type\":\"loss\""), std::string::npos);
	EXPECT_NE(log.find("\"source\":\"ring_buffer\""), std::string::npos);
}

// One governed process repeats one denied open as fast as it can for 5 s,
// while another makes one different denied open: that open is in the log,
// and the flood costs a record per second, whose counts sum to exactly the
// attempts the flooder counted: nothing dropped, nothing hidden.
TEST(DecisionLog, IdenticalDenialFloodIsCoalescedAndHidesNothing)
{
	temp_dir t;
	write_file(t / "secret", "s");
	write_file(t / "other", "o");
	ltrackd d(governed("[profile.worker.file]\ndefault = \"allow\"\nrules = [ { action = \"deny\", file = \"" +
			   t / "secret" + "\" }, { action = \"deny\", file = \"" + t / "other" + "\" } ]\n"));
	ASSERT_TRUE(d.start()) << d.output();

	auto flooding = std::async(std::launch::async, [&] {
		return actor({"loop-open-for", "5", t / "secret"}, {.timeout = std::chrono::seconds(120)});
	});
	std::this_thread::sleep_for(std::chrono::seconds(2));
	run_result other = actor({"open", t / "other"});
	EXPECT_EQ(other.actor_errno(), EPERM) << other.out;
	// From the same process as the flood: a different file is a different
	// decision, however many identical ones surround it.
	run_result mixed = actor({"loop-open", "2000", t / "secret", t / "secret", t / "secret", t / "other"},
				 {.timeout = std::chrono::seconds(120)});
	run_result flood = flooding.get();
	ASSERT_EQ(flood.exit_code, 0) << flood.out;
	long attempts = 0, seconds = 0;
	ASSERT_EQ(std::sscanf(flood.out.c_str(), "allowed=%*ld denied=%ld seconds=%ld", &attempts, &seconds), 2)
		<< flood.out;
	ASSERT_GT(attempts, 1000) << flood.out;

	json rec = d.wait_for(decision_for(other.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << "the different denial is not in the log";
	EXPECT_EQ(rec["file"]["path"].s(), t / "other");

	long records = 0, logged = 0;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while ((logged = count_for(d, flood.pid, &records)) < attempts && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(250));
	EXPECT_EQ(logged, attempts) << records << " records";
	EXPECT_LE(records, 2 * seconds + 4) << "one record per 1 s window, plus the flush's tallies";
	std::cout << "flood: " << attempts << " denied opens in " << seconds << " s ("
		  << attempts / std::max(1L, seconds) << "/s) -> " << records << " records, sum of counts " << logged
		  << "\n";

	// The mixed process: 6,000 + 2,000 attempts in at least one record each
	// for the two files, and every one counted.
	long secret_sum = 0, other_sum = 0;
	for (const auto &r : d.decisions())
		if (r["process"]["pid"].i() == mixed.pid)
			(r["file"]["path"].s() == t / "other" ? other_sum : secret_sum) += r["count"].i();
	deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while ((secret_sum != 6000 || other_sum != 2000) && std::chrono::steady_clock::now() < deadline) {
		std::this_thread::sleep_for(std::chrono::milliseconds(250));
		secret_sum = other_sum = 0;
		for (const auto &r : d.decisions())
			if (r["process"]["pid"].i() == mixed.pid)
				(r["file"]["path"].s() == t / "other" ? other_sum : secret_sum) += r["count"].i();
	}
	EXPECT_EQ(secret_sum, 6000);
	EXPECT_EQ(other_sum, 2000);

	json stats = json::parse(d.ctl({"stats", "--json"}).out);
	EXPECT_EQ(stats["ringbuf_drops"].i(), 0);
	json st = json::parse(d.ctl({"status", "--json"}).out);
	EXPECT_EQ(st["drops_by_profile"].fields.size(), 0u);
}

} // namespace
