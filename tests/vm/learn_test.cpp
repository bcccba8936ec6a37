// Policy learning end to end (issue 20): a real workload (a shell script
// that reads files in a few directories, executes a program and connects to
// loopback) runs under an audit-mode profile; `ltrackctl learn` turns the
// decision log (a rotated, gzipped part included) into the policy; that
// policy, enforced, runs the same workload with no denial, `ltrackctl
// replay` agrees before it is deployed, and a step outside what was learned
// (a file the workload never read) is refused with EPERM and recorded.
// One ltrackd per mode: CI time is tight.
#include "support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

struct listener {
	int fd = -1, port = 0;
	listener()
	{
		sockaddr_in sin{};
		sin.sin_family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		socklen_t len = sizeof(sin);
		if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sin), len) < 0 || listen(fd, 16) < 0 ||
		    getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) < 0)
			return;
		port = ntohs(sin.sin_port);
	}
	~listener()
	{
		if (fd >= 0)
			close(fd);
	}
};

std::vector<json> records_of(const std::string &log)
{
	std::vector<json> out;
	std::istringstream in(read_file(log));
	for (std::string line; std::getline(in, line);) {
		json j = json::parse(line);
		if (j["type"].s() == "decision")
			out.push_back(j);
	}
	return out;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to)
{
	for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
		s.replace(at, from.size(), to);
	return s;
}

} // namespace

TEST(Learn, AuditRunLearnedPolicyEnforcedRunsTheWorkloadAndRefusesTheRest)
{
	temp_dir t;
	listener l;
	ASSERT_GT(l.port, 0);
	// The workload's interpreter: a copy of dash, so only it is governed.
	fs::copy_file("/bin/dash", t / "wsh");
	chmod((t / "wsh").c_str(), 0755);
	fs::create_directories(t / "data/batch");
	fs::create_directories(t / "conf");
	for (int i = 1; i <= 6; i++)
		write_file(t / ("data/batch/part" + std::to_string(i) + ".txt"), "row\n");
	write_file(t / "conf/app.conf", "threads=2\n");
	write_file(t / "data/secret.txt", "not for the workload\n");
	write_file(t / "work.sh", "for f in " + t.path +
					  "/data/batch/*; do read x < \"$f\"; done\n"
					  "read x < " +
					  t.path + "/conf/app.conf\n" + actor_path() + " connect 127.0.0.1 " +
					  std::to_string(l.port) + " || exit 10\n" + actor_path() + " open " + t.path +
					  "/conf/app.conf || exit 11\n"
					  "echo workload-ok\n");
	const std::string workload_marker = "workload-ok";

	std::string audit_policy = "mode = \"audit\"\n"
				   "[profile.work]\nexecutables = [" +
				   q(t / "wsh") +
				   "]\n"
				   "[profile.work.file]\ndefault = \"deny\"\nrules = [\n"
				   "  { action = \"deny\", set = \"sensitive-files\" },\n]\n"
				   "[profile.work.exec]\ndefault = \"deny\"\n"
				   "[profile.work.network]\ndefault = \"deny\"\n";
	std::string log = t / "audit.log";
	{
		ltrackd d(audit_policy);
		ASSERT_TRUE(d.start()) << d.output();
		run_result w = run({t / "wsh", t / "work.sh"});
		ASSERT_EQ(w.exit_code, 0) << w.out;
		ASSERT_NE(w.out.find(workload_marker), std::string::npos) << w.out;
		// The connect is the workload's last new decision but one.
		json rec = d.wait_for(
			[](const json &j) { return j["hook"].s() == "net" && j["outcome"].s() == "would_deny"; });
		ASSERT_EQ(rec.kind, json::object_v) << read_file(d.log_path());
		d.stop();
		// As rotation leaves it: the older half gzipped in LOG.1.gz.
		std::string all = read_file(d.log_path());
		std::size_t half = all.find('\n', all.size() / 2) + 1;
		write_file(t / "audit.log.1", all.substr(0, half));
		write_file(log, all.substr(half));
		run_result gz = run({"/bin/gzip", t / "audit.log.1"});
		ASSERT_EQ(gz.exit_code, 0) << gz.out;
	}
	std::vector<json> audited = records_of(t / "audit.log");
	ASSERT_TRUE(fs::exists(t / "audit.log.1.gz"));

	// Learn from the log (both files) into the policy that made it.
	write_file(t / "audit.toml", audit_policy);
	auto learn_start = std::chrono::steady_clock::now();
	run_result lr = run({ltrackctl_path(), "learn", "--policy", t / "audit.toml", "-o", t / "learned.toml", log});
	ASSERT_EQ(lr.exit_code, 0) << lr.out;
	std::printf("ltrackctl learn: %.1f s\n",
		    std::chrono::duration<double>(std::chrono::steady_clock::now() - learn_start).count());
	EXPECT_NE(lr.out.find("from 2 files"), std::string::npos) << lr.out;
	std::string learned = read_file(t / "learned.toml");
	std::printf("%s\n", learned.c_str());
	// Each directory's files, the program and the destination are learned,
	// the file the workload never read is not.
	EXPECT_NE(learned.find("file = " + q(t / "data/batch/part6.txt")), std::string::npos) << learned;
	EXPECT_NE(learned.find("file = " + q(t / "conf/app.conf")), std::string::npos) << learned;
	EXPECT_NE(learned.find("file = " + q(actor_path())), std::string::npos) << learned;
	EXPECT_NE(learned.find("to = \"127.0.0.1/32\", ports = " + std::to_string(l.port)), std::string::npos)
		<< learned;
	EXPECT_EQ(learned.find("secret.txt"), std::string::npos) << learned;
	std::string enforced = replace_all(learned, "mode = \"audit\"", "mode = \"enforce\"");
	write_file(t / "learned-enforce.toml", enforced);
	run_result check = run({ltrackctl_path(), "check", t / "learned-enforce.toml"});
	EXPECT_EQ(check.exit_code, 0) << check.out << "\n" << enforced;

	// Replay before deploying: the learned policy refuses nothing of the
	// log, the audit policy enforced would refuse what was learned.
	run_result rp = run({ltrackctl_path(), "replay", "--policy", t / "learned-enforce.toml", log});
	EXPECT_EQ(rp.exit_code, 0) << rp.out;
	write_file(t / "audit-enforce.toml", replace_all(audit_policy, "mode = \"audit\"", "mode = \"enforce\""));
	run_result rp2 = run({ltrackctl_path(), "replay", "--policy", t / "audit-enforce.toml", "--json", log});
	EXPECT_EQ(rp2.exit_code, 1) << rp2.out;
	EXPECT_NE(rp2.out.find("\"outcome\":\"denied\""), std::string::npos) << rp2.out;

	// Enforced: the workload runs with no denial; the step outside is refused.
	ltrackd d(enforced);
	ASSERT_TRUE(d.start()) << d.output();
	run_result w = run({t / "wsh", t / "work.sh"});
	EXPECT_EQ(w.exit_code, 0) << w.out << "\n" << enforced << "\n" << read_file(d.log_path());
	EXPECT_NE(w.out.find(workload_marker), std::string::npos) << w.out;
	run_result bad = run({t / "wsh", "-c", actor_path() + " open " + t.path + "/data/secret.txt"});
	EXPECT_EQ(bad.actor_errno(), EPERM) << bad.out;
	json refused = d.wait_for([&](const json &j) {
		return j["hook"].s() == "file" && j["outcome"].s() == "denied" &&
		       j["file"]["path"].s() == t / "data/secret.txt";
	});
	ASSERT_EQ(refused.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(refused["profile"].s(), "work");
	EXPECT_EQ(refused["rule"]["text"].s(), "file default deny");
	// Records arrive in order from one ring buffer: after the refusal's
	// record, the workload's would be there too.
	std::this_thread::sleep_for(std::chrono::milliseconds(500));
	int denials = 0;
	std::string which;
	for (const json &j : records_of(d.log_path()))
		if ((j["outcome"].s() == "denied" || j["outcome"].s() == "killed") &&
		    j["file"]["path"].s() != t / "data/secret.txt") {
			denials++;
			which += j["hook"].s() + " " + j["file"]["path"].s() + j["net"]["addr"].s() + "\n";
		}
	EXPECT_EQ(denials, 0) << which << "\n" << enforced;
	(void)audited;
}
