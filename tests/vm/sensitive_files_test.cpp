// The shipped rule set "sensitive-files" (docs/policy.md, "Rule sets") from
// the outside: a profile that names the set refuses a governed process
// /etc/shadow and credentials in a home directory, including a file created
// after the policy was loaded, and every record names the set in its rule.
#include "support.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string set_policy(const std::string &action)
{
	return "mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() +
	       "\"]\n[profile.p.file]\nrules = [\n  { action = \"" + action + "\", set = \"sensitive-files\" },\n]\n";
}

// The record of pid's open of path with this outcome: it names the set's
// rule (text, and the policy line that named the set) and the file.
void expect_set_record(const ltrackd &d, int pid, const std::string &outcome, const std::string &path,
		       const std::string &rule_text)
{
	json r = d.wait_for(
		[&](const json &j) { return decision_for(pid, "file", outcome)(j) && j["file"]["path"].s() == path; });
	ASSERT_EQ(r.kind, json::object_v) << "no " << outcome << " record for " << path << "\n"
					  << read_file(d.log_path());
	EXPECT_EQ(r["profile"].s(), "p");
	EXPECT_EQ(r["rule"]["text"].s(), rule_text);
	EXPECT_EQ(r["rule"]["line"].i(), 6); // the line that says set = "sensitive-files"
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
	if (outcome == "denied")
		EXPECT_EQ(r["severity"].s(), "critical");
}

TEST(SensitiveFiles, ShadowAndHomeCredentialsAreDeniedAndTheRecordNamesTheSet)
{
	temp_dir t;
	fs::create_directories(t / "home/u/.aws");
	fs::create_directories(t / "home/u/.ssh");
	write_file(t / "home/u/.aws/config", "[default]\n");
	ltrackd d(set_policy("deny"));
	ASSERT_TRUE(d.start()) << d.output();

	// /etc/shadow: an exact path, mapped to its inode when the policy compiled.
	run_result shadow = actor({"open", "/etc/shadow"});
	EXPECT_EQ(shadow.actor_errno(), EPERM) << shadow.out;
	expect_set_record(d, shadow.pid, "denied", "/etc/shadow", "deny file /etc/shadow (set sensitive-files)");

	// ~/.aws/credentials did not exist when the policy was compiled: the
	// governed process creating it is refused the open (the kernel made the
	// empty inode before asking), and reading it once the test has filled it
	// in is refused too, by its name.
	std::string creds = t / "home/u/.aws/credentials";
	run_result create = actor({"create", creds});
	EXPECT_EQ(create.actor_errno(), EPERM) << create.out;
	expect_set_record(d, create.pid, "denied", creds, "deny name credentials (set sensitive-files)");
	write_file(creds, "[default]\naws_secret_access_key = x\n");
	run_result read = actor({"open", creds});
	EXPECT_EQ(read.actor_errno(), EPERM) << read.out;
	expect_set_record(d, read.pid, "denied", creds, "deny name credentials (set sensitive-files)");

	write_file(t / "home/u/.ssh/id_ed25519", "key");
	write_file(t / "home/u/.bash_history", "ls\n");
	for (const auto &[rel, name] : {std::pair<std::string, std::string>{"home/u/.ssh/id_ed25519", "id_ed25519"},
					{"home/u/.bash_history", ".bash_history"}}) {
		run_result r = actor({"open", t / rel});
		EXPECT_EQ(r.actor_errno(), EPERM) << rel << ": " << r.out;
		expect_set_record(d, r.pid, "denied", t / rel, "deny name " + name + " (set sensitive-files)");
	}

	// Next to them, what the set does not name opens.
	run_result config = actor({"open", t / "home/u/.aws/config"});
	EXPECT_EQ(config.exit_code, 0) << config.out;
	// The test process is not governed: the file is there and readable.
	EXPECT_EQ(read_file(creds), "[default]\naws_secret_access_key = x\n");
}

TEST(SensitiveFiles, AuditActionRecordsWithoutRefusing)
{
	temp_dir t;
	fs::create_directories(t / "home/u");
	std::string netrc = t / "home/u/.netrc";
	write_file(netrc, "machine x login y password z\n");
	ltrackd d(set_policy("audit"));
	ASSERT_TRUE(d.start()) << d.output();

	run_result shadow = actor({"open", "/etc/shadow"});
	EXPECT_EQ(shadow.exit_code, 0) << shadow.out;
	expect_set_record(d, shadow.pid, "audited", "/etc/shadow", "audit file /etc/shadow (set sensitive-files)");
	run_result r = actor({"open", netrc});
	EXPECT_EQ(r.exit_code, 0) << r.out;
	expect_set_record(d, r.pid, "audited", netrc, "audit name .netrc (set sensitive-files)");
}

} // namespace
