// Modes from the outside (issue 4): in audit mode (global, or a profile's
// override inside an enforcing policy) the attempts enforce mode refuses all
// succeed and each is logged as would_deny, kill rules included (nobody is
// killed); `ltrackctl mode` switches the global mode and a profile's mode at
// once, without a reload.
#include "support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

struct tcp_listener {
	int fd = -1;
	int port = 0;
	tcp_listener()
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
	~tcp_listener()
	{
		if (fd >= 0)
			close(fd);
	}
	std::string p() const { return std::to_string(port); }
};

struct unix_listener {
	int fd = -1;
	explicit unix_listener(const std::string &path)
	{
		sockaddr_un sun{};
		sun.sun_family = AF_UNIX;
		std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path.c_str());
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) == 0)
			listen(fd, 16);
	}
	~unix_listener()
	{
		if (fd >= 0)
			close(fd);
	}
};

// One profile's worth of denials on every hook: a file, a directory, a
// program, a connect, a Unix connect, and kill rules for exec and connect.
struct scenario {
	temp_dir t;
	tcp_listener denied_l, killing_l;
	std::unique_ptr<unix_listener> sock;
	scenario()
	{
		fs::create_directories(t / "denied");
		write_file(t / "denied/f.txt", "f");
		write_file(t / "file.txt", "x");
		fs::copy_file("/usr/bin/true", t / "killing-true");
		chmod((t / "killing-true").c_str(), 0755);
		sock = std::make_unique<unix_listener>(t / "s.sock");
	}
	// The profile's sections (name: the profile).
	std::string sections(const std::string &name) const
	{
		std::string P = "[profile." + name;
		return P + ".file]\nrules = [\n  { action = \"deny\", dir = " + q(t / "denied") +
		       " },\n  { action = \"deny\", file = " + q(t / "file.txt") + " },\n]\n" + P +
		       ".exec]\nrules = [\n  { action = \"deny\", file = \"/usr/bin/true\" },\n  { action = \"kill\", file = " +
		       q(t / "killing-true") + " },\n]\n" + P +
		       ".network]\nunix = \"deny\"\nrules = [\n  { action = \"deny\", to = \"127.0.0.1/32\", ports = " +
		       denied_l.p() + " },\n  { action = \"kill\", to = \"127.0.0.1/32\", ports = " + killing_l.p() +
		       " },\n]\n";
	}
	struct attempt {
		std::vector<std::string> args;
		std::string hook, action;
	};
	std::vector<attempt> attempts() const
	{
		return {{{"open", t / "denied/f.txt"}, "file", "deny"},
			{{"open", t / "file.txt"}, "file", "deny"},
			{{"exec", "/usr/bin/true"}, "exec", "deny"},
			{{"exec", t / "killing-true"}, "exec", "kill"},
			{{"connect", "127.0.0.1", denied_l.p()}, "net", "deny"},
			{{"connect", "::ffff:127.0.0.1", denied_l.p()}, "net", "deny"},
			{{"connect", "127.0.0.1", killing_l.p()}, "net", "kill"},
			{{"connect-unix", t / "s.sock"}, "net", "deny"}};
	}
};

// Every attempt by `program`: it succeeds and is logged as would_deny.
void expect_all_would_deny(const ltrackd &d, const scenario &s, const std::string &program, const std::string &profile)
{
	for (const auto &a : s.attempts()) {
		std::vector<std::string> argv{program};
		argv.insert(argv.end(), a.args.begin(), a.args.end());
		run_result r = run(argv);
		std::string what = a.args[0] + " " + a.args[1];
		EXPECT_EQ(r.signal, 0) << what << ": audit mode kills nobody";
		EXPECT_EQ(r.exit_code, 0) << what << ": " << r.out;
		json rec = d.wait_for(decision_for(r.pid, a.hook, "would_deny"));
		ASSERT_EQ(rec.kind, json::object_v) << what << "\n" << read_file(d.log_path());
		EXPECT_EQ(rec["action"].s(), a.action) << what;
		EXPECT_EQ(rec["mode"].s(), "audit") << what;
		EXPECT_EQ(rec["severity"].s(), "warn") << what;
		EXPECT_EQ(rec["profile"].s(), profile) << what;
		EXPECT_GT(rec["rule"]["line"].i(), 0) << what;
	}
}

// Every attempt by `program` is refused (EPERM, or SIGKILL for kill rules).
void expect_all_refused(const ltrackd &d, const scenario &s, const std::string &program, const std::string &profile)
{
	for (const auto &a : s.attempts()) {
		std::vector<std::string> argv{program};
		argv.insert(argv.end(), a.args.begin(), a.args.end());
		run_result r = run(argv);
		std::string what = a.args[0] + " " + a.args[1];
		bool kill = a.action == "kill";
		if (kill)
			EXPECT_EQ(r.signal, 9) << what << ": " << r.out;
		else
			EXPECT_EQ(r.exit_code, 100 + EPERM) << what << ": " << r.out;
		json rec = d.wait_for(decision_for(r.pid, a.hook, kill ? "killed" : "denied"));
		ASSERT_EQ(rec.kind, json::object_v) << what << "\n" << read_file(d.log_path());
		EXPECT_EQ(rec["action"].s(), a.action) << what;
		EXPECT_EQ(rec["mode"].s(), "enforce") << what;
		EXPECT_EQ(rec["profile"].s(), profile) << what;
	}
}

TEST(Modes, GlobalAuditAllowsEverythingAndLogsWouldDeny)
{
	scenario s;
	std::string policy =
		"mode = \"audit\"\n[profile.p]\nexecutables = [" + q(actor_path()) + "]\n" + s.sections("p");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	expect_all_would_deny(d, s, actor_path(), "p");
}

TEST(Modes, ProfileAuditOverrideInsideAnEnforcingPolicy)
{
	scenario s;
	// Two copies of the actor: one profile audits, the other enforces.
	fs::copy_file(actor_path(), s.t / "audited-actor");
	chmod((s.t / "audited-actor").c_str(), 0755);
	std::string policy = "mode = \"enforce\"\n"
			     "[profile.aud]\nexecutables = [" +
			     q(s.t / "audited-actor") + "]\nmode = \"audit\"\n" + s.sections("aud") +
			     "[profile.enf]\nexecutables = [" + q(actor_path()) + "]\n" + s.sections("enf");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	expect_all_would_deny(d, s, s.t / "audited-actor", "aud");
	expect_all_refused(d, s, actor_path(), "enf");
}

json status_of(const ltrackd &d)
{
	run_result st = d.ctl({"status", "--json"});
	return json::parse(st.out);
}

// Opens the denied file with the actor: 0 or the errno; the record's
// outcome must say the same.
void expect_open(const ltrackd &d, const std::string &path, bool refused, const std::string &step)
{
	run_result r = actor({"open", path});
	if (refused)
		EXPECT_EQ(r.actor_errno(), EPERM) << step << ": " << r.out;
	else
		EXPECT_EQ(r.exit_code, 0) << step << ": " << r.out;
	json rec = d.wait_for(decision_for(r.pid, "file", refused ? "denied" : "would_deny"));
	ASSERT_EQ(rec.kind, json::object_v) << step << "\n" << read_file(d.log_path());
	EXPECT_EQ(rec["mode"].s(), refused ? "enforce" : "audit") << step;
	EXPECT_EQ(rec["action"].s(), "deny") << step;
}

TEST(Modes, CtlModeSwitchesAtOnceWithoutReload)
{
	scenario s;
	std::string policy =
		"mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(actor_path()) + "]\n" + s.sections("p");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	json st0 = status_of(d);
	std::string f = s.t / "denied/f.txt";

	expect_open(d, f, true, "enforce at start");

	ASSERT_EQ(d.ctl({"mode", "audit"}).exit_code, 0);
	expect_open(d, f, false, "after mode audit");
	// Audit covers every hook, kill rules included.
	run_result k = actor({"exec", s.t / "killing-true"});
	EXPECT_EQ(k.exit_code, 0) << k.out;
	EXPECT_EQ(d.wait_for(decision_for(k.pid, "exec", "would_deny")).kind, json::object_v);

	ASSERT_EQ(d.ctl({"mode", "enforce"}).exit_code, 0);
	expect_open(d, f, true, "after mode enforce");

	// Per profile: audit for p only, then back to the global mode.
	run_result m = d.ctl({"mode", "audit", "--profile", "p"});
	ASSERT_EQ(m.exit_code, 0) << m.out;
	expect_open(d, f, false, "after mode audit --profile p");
	m = d.ctl({"mode", "inherit", "--profile", "p"});
	ASSERT_EQ(m.exit_code, 0) << m.out;
	expect_open(d, f, true, "after mode inherit --profile p");

	// The profile's override beats the global mode both ways.
	ASSERT_EQ(d.ctl({"mode", "audit"}).exit_code, 0);
	ASSERT_EQ(d.ctl({"mode", "enforce", "--profile", "p"}).exit_code, 0);
	expect_open(d, f, true, "global audit, profile enforce");
	ASSERT_EQ(d.ctl({"mode", "inherit", "--profile", "p"}).exit_code, 0);
	expect_open(d, f, false, "global audit, profile inherits");

	// None of this was a reload: the same slot is live.
	json st1 = status_of(d);
	EXPECT_EQ(st1["slot"].i(), st0["slot"].i());
	EXPECT_EQ(st1["mode"].s(), "audit");
}

} // namespace
