// file_open enforcement from the outside (issue 4): a governed process (the
// actor, selected by its executable) opens files and sees EPERM where the
// policy denies, whatever way it names the file: a file created after the
// policy was loaded, a symlink from outside the subtree, a bind mount, a
// mount inside the subtree, "..", a path too long for the record, a name
// pattern; the precedence of docs/policy.md (exact file > nearest directory
// > name > default); the fail-closed walk bound (LTRACK_MAX_WALK); and the
// directory memo, which must follow renames, mount moves and reloads. Every
// denial is checked twice: the errno the process saw and the decision record.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

// 1-based line of the first occurrence of needle in text (0 if absent).
int line_of(const std::string &text, const std::string &needle)
{
	std::size_t at = text.find(needle);
	if (at == std::string::npos)
		return 0;
	return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

// The actor governed by profile p, with these file rules (one per line).
std::string file_policy(const std::vector<std::string> &rules, const std::string &def = "allow",
			const std::string &mode = "enforce")
{
	std::string out = "mode = " + q(mode) + "\n[profile.p]\nexecutables = [" + q(actor_path()) +
			  "]\n[profile.p.file]\ndefault = " + q(def) + "\nrules = [\n";
	for (const auto &r : rules)
		out += "  " + r + ",\n";
	return out + "]\n";
}

std::string rule(const std::string &action, const std::string &kind, const std::string &target)
{
	return "{ action = " + q(action) + ", " + kind + " = " + q(target) + " }";
}

std::string log_of(const ltrackd &d)
{
	return "decision log:\n" + read_file(d.log_path());
}

// Checks a file record: hook, outcome, action, the deciding rule (text and
// line in the policy) and the object.
void expect_file_record(const json &r, const ltrackd &d, const std::string &policy, const std::string &outcome,
			const std::string &action, const std::string &rule_text, const std::string &rule_needle,
			const std::string &path)
{
	ASSERT_EQ(r.kind, json::object_v) << "no record for " << path << "\n" << log_of(d);
	EXPECT_EQ(r["hook"].s(), "file");
	EXPECT_EQ(r["outcome"].s(), outcome);
	EXPECT_EQ(r["action"].s(), action);
	EXPECT_EQ(r["mode"].s(), "enforce");
	EXPECT_EQ(r["profile"].s(), "p");
	EXPECT_EQ(r["rule"]["text"].s(), rule_text);
	EXPECT_EQ(r["rule"]["line"].i(), line_of(policy, rule_needle)) << rule_needle;
	EXPECT_EQ(r["rule"]["file"].s(), d.policy_path());
	EXPECT_GT(r["rule"]["id"].i(), 0);
	EXPECT_EQ(r["file"]["path"].s(), path);
	EXPECT_FALSE(r["walk_limit"].b);
	struct stat st {};
	if (stat(path.c_str(), &st) == 0) {
		EXPECT_EQ(static_cast<unsigned long long>(r["file"]["ino"].i()),
			  static_cast<unsigned long long>(st.st_ino))
			<< path;
	}
}

// pid's file record with this outcome about this path.
std::function<bool(const json &)> record_of(int pid, const std::string &outcome, const std::string &path)
{
	return [=](const json &r) { return decision_for(pid, "file", outcome)(r) && r["file"]["path"].s() == path; };
}

// The actor opens path: EPERM, and the record says which rule denied it.
void expect_denied(const ltrackd &d, const std::string &policy, const std::string &path, const std::string &rule_text,
		   const std::string &rule_needle, const std::string &record_path = "")
{
	run_result r = actor({"open", path});
	EXPECT_EQ(r.actor_errno(), EPERM) << path << ": " << r.out;
	std::string want = record_path.empty() ? path : record_path;
	expect_file_record(d.wait_for(record_of(r.pid, "denied", want)), d, policy, "denied", "deny", rule_text,
			   rule_needle, want);
}

// The actor opens path and succeeds; an explicit allow rule is recorded.
void expect_allowed_by_rule(const ltrackd &d, const std::string &policy, const std::string &path,
			    const std::string &rule_text, const std::string &rule_needle,
			    const std::string &record_path = "")
{
	run_result r = actor({"open", path});
	EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out;
	// The actor's own libraries may be allowed by rules too: pick this file.
	std::string want = record_path.empty() ? path : record_path;
	expect_file_record(d.wait_for(record_of(r.pid, "allowed", want)), d, policy, "allowed", "allow", rule_text,
			   rule_needle, want);
}

void expect_opens(const std::string &path)
{
	run_result r = actor({"open", path});
	EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out;
}

// Unmounts at the end of the test, before the temp_dir goes.
struct mount_guard {
	std::string where;
	bool mounted = false;
	~mount_guard()
	{
		if (mounted)
			umount2(where.c_str(), MNT_DETACH);
	}
};

TEST(FileEnforce, DeniedSubtreeIncludingFilesCreatedAfterLoad)
{
	temp_dir t;
	fs::create_directories(t / "denied/sub/deeper");
	fs::create_directories(t / "other");
	write_file(t / "denied/old.txt", "old");
	write_file(t / "denied/sub/deeper/nested.bin", "nested");
	write_file(t / "other/fine.txt", "fine");
	std::string policy = file_policy({rule("deny", "dir", t / "denied")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	// Created after ltrackd compiled and loaded the policy: the rule is on
	// the directory's identity, so the new inodes are covered.
	write_file(t / "denied/new.txt", "new");
	fs::create_directories(t / "denied/later/dir");
	write_file(t / "denied/later/dir/new2.txt", "new2");

	std::string text = "deny dir " + (t / "denied");
	for (const char *f :
	     {"denied/old.txt", "denied/sub/deeper/nested.bin", "denied/new.txt", "denied/later/dir/new2.txt"})
		expect_denied(d, policy, t / f, text, "dir = " + q(t / "denied"));
	// The directory itself (opening it for reading) is in the subtree too.
	expect_denied(d, policy, t / "denied", text, "dir = " + q(t / "denied"));
	expect_opens(t / "other/fine.txt");
	// The test process is not governed.
	EXPECT_EQ(read_file(t / "denied/new.txt"), "new");
}

TEST(FileEnforce, SymlinkFromOutsideTheSubtreeCannotDodge)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	fs::create_directories(t / "outside");
	write_file(t / "denied/f.txt", "secret");
	fs::create_symlink(t / "denied/f.txt", t / "outside/link-to-file");
	fs::create_symlink(t / "denied", t / "outside/link-to-dir");
	fs::create_symlink("../denied/f.txt", t / "outside/relative-link");
	std::string policy = file_policy({rule("deny", "dir", t / "denied")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	std::string text = "deny dir " + (t / "denied");
	std::string needle = "dir = " + q(t / "denied");
	// The record names the file the kernel opened, not the link.
	expect_denied(d, policy, t / "outside/link-to-file", text, needle, t / "denied/f.txt");
	expect_denied(d, policy, t / "outside/link-to-dir/f.txt", text, needle, t / "denied/f.txt");
	expect_denied(d, policy, t / "outside/relative-link", text, needle, t / "denied/f.txt");
}

TEST(FileEnforce, BindMountAndMountInsideTheSubtreeCannotDodge)
{
	temp_dir t;
	fs::create_directories(t / "denied/mnt");
	fs::create_directories(t / "elsewhere/bind");
	write_file(t / "denied/f.txt", "secret");
	std::string policy = file_policy({rule("deny", "dir", t / "denied")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string text = "deny dir " + (t / "denied");
	std::string needle = "dir = " + q(t / "denied");

	{
		// The denied directory bound elsewhere: the walk goes up from the
		// bind source's dentries, so the rule still holds.
		mount_guard bind{t / "elsewhere/bind"};
		ASSERT_EQ(mount((t / "denied").c_str(), bind.where.c_str(), nullptr, MS_BIND, nullptr), 0)
			<< std::strerror(errno);
		bind.mounted = true;
		ASSERT_EQ(read_file(t / "elsewhere/bind/f.txt"), "secret"); // the bind works (ungoverned)
		expect_denied(d, policy, t / "elsewhere/bind/f.txt", text, needle);
		// A file created through the bind mount is in the subtree as well.
		write_file(t / "elsewhere/bind/made-through-bind.txt", "x");
		expect_denied(d, policy, t / "denied/made-through-bind.txt", text, needle);
		expect_denied(d, policy, t / "elsewhere/bind/made-through-bind.txt", text, needle);
	}
	EXPECT_EQ(umount2((t / "elsewhere/bind").c_str(), 0), -1) << "unmounted at the end of the block";

	{
		// Another filesystem mounted inside the subtree: the walk reaches
		// that filesystem's root and continues at its mountpoint.
		mount_guard inner{t / "denied/mnt"};
		ASSERT_EQ(mount("tmpfs", inner.where.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
		inner.mounted = true;
		fs::create_directories(t / "denied/mnt/a/b");
		write_file(t / "denied/mnt/a/b/inner.txt", "inner");
		expect_denied(d, policy, t / "denied/mnt/a/b/inner.txt", text, needle);
	}
}

TEST(FileEnforce, DotDotAndLongPathsCannotDodge)
{
	temp_dir t;
	fs::create_directories(t / "allowed/sub");
	fs::create_directories(t / "denied");
	write_file(t / "denied/f.txt", "secret");
	write_file(t / "allowed/ok.txt", "ok");
	// Deep but well under the walk bound (41 levels below the rule), with
	// long names so the path (about 2.5 KB) is far past the record's
	// 256-byte path buffer.
	std::string deep = t / "denied";
	for (int i = 0; i < 40; i++)
		deep += "/" + std::string(58, static_cast<char>('a' + i % 26)) + std::to_string(i % 10);
	fs::create_directories(deep);
	write_file(deep + "/long.txt", "long");
	ASSERT_GT(deep.size(), 2000u);

	std::string policy = file_policy({rule("allow", "dir", t / "allowed"), rule("deny", "dir", t / "denied")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string text = "deny dir " + (t / "denied");
	std::string needle = "dir = " + q(t / "denied");

	// d_path resolves "..": the record names the canonical path.
	expect_denied(d, policy, t / "allowed/../denied/f.txt", text, needle, t / "denied/f.txt");
	expect_denied(d, policy, t / "allowed/sub/../../denied/./f.txt", text, needle, t / "denied/f.txt");
	expect_allowed_by_rule(d, policy, t / "denied/../allowed/ok.txt", "allow dir " + (t / "allowed"),
			       "dir = " + q(t / "allowed"), t / "allowed/ok.txt");

	run_result r = actor({"open", deep + "/long.txt"});
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	json rec = d.wait_for(decision_for(r.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << log_of(d);
	EXPECT_EQ(rec["rule"]["text"].s(), text);
	EXPECT_EQ(rec["rule"]["line"].i(), line_of(policy, needle));
	EXPECT_FALSE(rec["walk_limit"].b) << "41 levels is under the bound";
	// Too long for the record: only the final name, flagged as partial;
	// device and inode still identify the file exactly.
	EXPECT_TRUE(rec["file"]["path_partial"].b) << rec["file"]["path"].s();
	EXPECT_EQ(rec["file"]["path"].s(), "long.txt");
	struct stat st {};
	ASSERT_EQ(stat((deep + "/long.txt").c_str(), &st), 0);
	EXPECT_EQ(static_cast<unsigned long long>(rec["file"]["ino"].i()), static_cast<unsigned long long>(st.st_ino));
}

TEST(FileEnforce, NamePatterns)
{
	temp_dir t;
	fs::create_directories(t / "sub");
	for (const char *f : {"model.pkl", "model.txt", "sub/other.pkl", "pkl", ".pkl", "model.pkl.txt", "a.b.pkl",
			      "x.tar.gz", "x.gz", "id_rsa", "id_rsa.pub"})
		write_file(t / f, "content");
	std::string policy = file_policy({rule("deny", "name", "*.pkl"), rule("deny", "name", "*.gz"),
					  rule("allow", "name", "*.tar.gz"), rule("deny", "name", "id_rsa")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	std::string pkl = "deny name *.pkl";
	std::string pkl_needle = "name = \"*.pkl\"";
	expect_denied(d, policy, t / "model.pkl", pkl, pkl_needle);
	expect_denied(d, policy, t / "sub/other.pkl", pkl, pkl_needle);
	expect_denied(d, policy, t / "a.b.pkl", pkl, pkl_needle);
	// Right next to it, a .txt opens (no rule, default allow: no record).
	expect_opens(t / "model.txt");
	expect_opens(t / "model.pkl.txt");
	// A suffix needs a dot that is not the first byte, and is a suffix.
	expect_opens(t / "pkl");
	expect_opens(t / ".pkl");
	// The longest suffix decides: *.tar.gz (allow) before *.gz (deny).
	expect_allowed_by_rule(d, policy, t / "x.tar.gz", "allow name *.tar.gz", "name = \"*.tar.gz\"");
	expect_denied(d, policy, t / "x.gz", "deny name *.gz", "name = \"*.gz\"");
	// An exact name matches only that name.
	expect_denied(d, policy, t / "id_rsa", "deny name id_rsa", "name = \"id_rsa\"");
	expect_opens(t / "id_rsa.pub");
}

// ---- precedence (docs/policy.md, "Files") ----------------------------------

TEST(FilePrecedence, ExactFileBeatsDirectory)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	fs::create_directories(t / "allowed");
	write_file(t / "denied/keep.txt", "keep");
	write_file(t / "denied/other.txt", "other");
	write_file(t / "allowed/secret.txt", "secret");
	write_file(t / "allowed/plain.txt", "plain");
	std::string policy =
		file_policy({rule("deny", "dir", t / "denied"), rule("allow", "file", t / "denied/keep.txt"),
			     rule("allow", "dir", t / "allowed"), rule("deny", "file", t / "allowed/secret.txt")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	expect_allowed_by_rule(d, policy, t / "denied/keep.txt", "allow file " + (t / "denied/keep.txt"),
			       "file = " + q(t / "denied/keep.txt"));
	expect_denied(d, policy, t / "denied/other.txt", "deny dir " + (t / "denied"), "dir = " + q(t / "denied"));
	expect_denied(d, policy, t / "allowed/secret.txt", "deny file " + (t / "allowed/secret.txt"),
		      "file = " + q(t / "allowed/secret.txt"));
	expect_allowed_by_rule(d, policy, t / "allowed/plain.txt", "allow dir " + (t / "allowed"),
			       "dir = " + q(t / "allowed"));
}

TEST(FilePrecedence, NearestDirectoryBeatsFarther)
{
	temp_dir t;
	fs::create_directories(t / "outer/pub/deeper");
	fs::create_directories(t / "open/priv/deeper");
	write_file(t / "outer/x.txt", "x");
	write_file(t / "outer/pub/deeper/y.txt", "y");
	write_file(t / "open/z.txt", "z");
	write_file(t / "open/priv/deeper/w.txt", "w");
	std::string policy = file_policy({rule("deny", "dir", t / "outer"), rule("allow", "dir", t / "outer/pub"),
					  rule("allow", "dir", t / "open"), rule("deny", "dir", t / "open/priv")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	expect_allowed_by_rule(d, policy, t / "outer/pub/deeper/y.txt", "allow dir " + (t / "outer/pub"),
			       "dir = " + q(t / "outer/pub"));
	expect_denied(d, policy, t / "outer/x.txt", "deny dir " + (t / "outer"), "dir = " + q(t / "outer"));
	expect_denied(d, policy, t / "open/priv/deeper/w.txt", "deny dir " + (t / "open/priv"),
		      "dir = " + q(t / "open/priv"));
	expect_allowed_by_rule(d, policy, t / "open/z.txt", "allow dir " + (t / "open"), "dir = " + q(t / "open"));
}

TEST(FilePrecedence, DirectoryBeatsName)
{
	temp_dir t;
	fs::create_directories(t / "models");
	fs::create_directories(t / "locked");
	write_file(t / "models/m.pkl", "m");
	write_file(t / "loose.pkl", "l");
	write_file(t / "locked/a.txt", "a");
	write_file(t / "b.txt", "b");
	std::string policy = file_policy({rule("deny", "name", "*.pkl"), rule("allow", "dir", t / "models"),
					  rule("allow", "name", "*.txt"), rule("deny", "dir", t / "locked")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	expect_allowed_by_rule(d, policy, t / "models/m.pkl", "allow dir " + (t / "models"),
			       "dir = " + q(t / "models"));
	expect_denied(d, policy, t / "loose.pkl", "deny name *.pkl", "name = \"*.pkl\"");
	expect_denied(d, policy, t / "locked/a.txt", "deny dir " + (t / "locked"), "dir = " + q(t / "locked"));
	expect_allowed_by_rule(d, policy, t / "b.txt", "allow name *.txt", "name = \"*.txt\"");
}

TEST(FilePrecedence, NameBeatsDefault)
{
	temp_dir t;
	write_file(t / "a.txt", "a");
	write_file(t / "a.bin", "b");
	// Default deny: the actor's own libraries (/usr, via the /lib symlinks)
	// and the loader's cache (/etc) are allowed by directory.
	std::string policy = file_policy(
		{rule("allow", "dir", "/usr"), rule("allow", "dir", "/etc"), rule("allow", "name", "*.txt")}, "deny");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	expect_allowed_by_rule(d, policy, t / "a.txt", "allow name *.txt", "name = \"*.txt\"");
	run_result r = actor({"open", t / "a.bin"});
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	json rec = d.wait_for(decision_for(r.pid, "file", "denied"));
	expect_file_record(rec, d, policy, "denied", "deny", "file default deny", "default = \"deny\"", t / "a.bin");
}

// ---- the walk bound ----------------------------------------------------------

// Makes `levels` nested directories "d" under base with a file "f" at the
// bottom, with mkdirat/openat so no long path is ever needed; returns the
// file's path.
std::string deep_file(const std::string &base, int levels)
{
	int fd = open(base.c_str(), O_DIRECTORY | O_RDONLY);
	std::string path = base;
	for (int i = 0; i < levels && fd >= 0; i++) {
		if (mkdirat(fd, "d", 0755) < 0 && errno != EEXIST)
			return "";
		int next = openat(fd, "d", O_DIRECTORY | O_RDONLY);
		close(fd);
		fd = next;
		path += "/d";
	}
	if (fd < 0)
		return "";
	int f = openat(fd, "f", O_CREAT | O_WRONLY, 0644);
	close(fd);
	if (f < 0)
		return "";
	close(f);
	return path + "/f";
}

TEST(FileEnforce, DeeperThanTheWalkBoundFailsClosed)
{
	temp_dir t;
	fs::create_directories(t / "shallow");
	fs::create_directories(t / "deep");
	std::string ok = deep_file(t / "shallow", 40);    // the rule's directory is 42 steps up
	std::string too_deep = deep_file(t / "deep", 80); // 82 steps: past LTRACK_MAX_WALK (64)
	ASSERT_FALSE(ok.empty());
	ASSERT_FALSE(too_deep.empty());
	// An allow rule over everything: only the bound can deny.
	std::string policy = file_policy({rule("allow", "dir", t.path)});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	expect_allowed_by_rule(d, policy, ok, "allow dir " + t.path, "dir = " + q(t.path));

	run_result r = actor({"open", too_deep});
	EXPECT_EQ(r.actor_errno(), EPERM) << "fail closed past the walk bound: " << r.out;
	json rec = d.wait_for(decision_for(r.pid, "file", "denied"));
	ASSERT_EQ(rec.kind, json::object_v) << log_of(d);
	EXPECT_TRUE(rec["walk_limit"].b);
	EXPECT_EQ(rec["action"].s(), "deny");
	EXPECT_EQ(rec["mode"].s(), "enforce");
	EXPECT_EQ(rec["severity"].s(), "critical");
	EXPECT_EQ(rec["file"]["path"].s(), too_deep);
	// The test process (ungoverned) reads it.
	EXPECT_TRUE(fs::exists(too_deep));

	// ltrackd counts it too (it polls the kernel counter).
	long long denials = -1;
	for (auto until = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < until;) {
		run_result st = d.ctl({"stats", "--json"});
		denials = json::parse(st.out)["walk_limit_denials"].i();
		if (denials >= 1)
			break;
		std::this_thread::sleep_for(200ms);
	}
	EXPECT_EQ(denials, 1);
}

// docs/policy.md: "A file with more than 64 directories above it (/ included;
// mount crossings do not count) is refused". A file
// 60 directories below / (tmp, the temp dir, 58 more) is not: with default
// allow and no rule on its path it must open. Mount crossings (here /tmp's
// tmpfs root and the directory it covers) are not directories of the path.
// Regression (fixed): the walk spent one of its 64 steps on every mount
// crossing (here /tmp's tmpfs root and the directory it covers, and the
// guest's chroot over its initramfs), so this file took 65 steps and was denied.
TEST(FileEnforce, WalkBoundCountsDirectoriesNotMountCrossings)
{
	temp_dir t;
	fs::create_directories(t / "ruled");
	std::string sixty = deep_file(t.path, 58);
	ASSERT_FALSE(sixty.empty());
	ASSERT_EQ(std::count(sixty.begin(), sixty.end(), '/'), 61) << sixty; // 60 directories, then the file
	std::string policy = file_policy({rule("deny", "dir", t / "ruled")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	run_result r = actor({"open", sixty});
	EXPECT_EQ(r.exit_code, 0) << "60 directories deep is under the bound of 64: " << r.out;
	if (r.exit_code != 0) {
		json rec = d.wait_for(decision_for(r.pid, "file", "denied"));
		EXPECT_FALSE(rec["walk_limit"].b) << "denied by the walk bound:\n" << read_file(d.log_path());
	}
}

// ---- the directory memo -------------------------------------------------------

// Ancestor walks the kernel has run (lookups the directory memos did not answer).
long long ancestor_walks(const ltrackd &d)
{
	run_result st = d.ctl({"status", "--json"});
	return json::parse(st.out)["ancestor_walks"].i();
}

// What the walk above a directory found is remembered in the directory
// (lsm/walk.bpf.h, "the directory memo"). The memo must never outlive
// what it was computed from: a directory moved under a rule by rename, a
// mount moved under a rule, and a reload each change the next decision.
TEST(DirectoryMemo, RepeatedOpensDoNotWalkAndRenamesMountMovesAndReloadsAreSeenAtOnce)
{
	temp_dir t;
	fs::create_directories(t / "denied");
	fs::create_directories(t / "free/a/b");
	fs::create_directories(t / "mnt");
	write_file(t / "free/a/b/f.txt", "f");
	std::string policy = file_policy({rule("deny", "dir", t / "denied")});
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string text = "deny dir " + (t / "denied");
	std::string needle = "dir = " + q(t / "denied");

	// One governed process opening the file 50 times (shell and seq are not
	// governed). Without the memo each open walks; with it, the first does.
	auto opens_in_one_process = [&](int n) {
		run_result r = run({"/bin/sh", "-c",
				    "seq " + std::to_string(n) + " | " + actor_path() + " open-per-line " +
					    (t / "free/a/b/f.txt")});
		EXPECT_EQ(r.exit_code, 0) << r.out;
		EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), n) << r.out;
		EXPECT_EQ(r.out.find("errno"), std::string::npos) << r.out;
	};
	opens_in_one_process(1); // the actor's libraries and b get their memo
	long long before = ancestor_walks(d);
	ASSERT_GE(before, 1);
	opens_in_one_process(50);
	EXPECT_LT(ancestor_walks(d) - before, 10) << "the directory memo is not answering repeated opens";

	// b's memo says "no rule above"; moved (by an ungoverned process) under
	// the denied directory, the same directory must now be denied.
	fs::rename(t / "free/a", t / "denied/a");
	expect_denied(d, policy, t / "denied/a/b/f.txt", text, needle);
	fs::rename(t / "denied/a", t / "free/a");
	expect_opens(t / "free/a/b/f.txt");

	{
		// A mount moved (same mount, same dentries) under the denied
		// directory: only the mount tree changed.
		fs::create_directories(t / "denied/moved");
		mount_guard m{t / "mnt"};
		ASSERT_EQ(mount("tmpfs", m.where.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
		m.mounted = true;
		fs::create_directories(t / "mnt/x/y");
		write_file(t / "mnt/x/y/g.txt", "g");
		expect_opens(t / "mnt/x/y/g.txt");
		expect_opens(t / "mnt/x/y/g.txt");
		ASSERT_EQ(mount(m.where.c_str(), (t / "denied/moved").c_str(), nullptr, MS_MOVE, nullptr), 0)
			<< std::strerror(errno);
		m.where = t / "denied/moved";
		expect_denied(d, policy, t / "denied/moved/x/y/g.txt", text, needle);
	}

	// A reload that puts a rule above b.
	std::string p2 = file_policy({rule("deny", "dir", t / "free")});
	write_file(t / "p2.toml", p2);
	run_result rl = d.ctl({"reload", t / "p2.toml"});
	ASSERT_EQ(rl.exit_code, 0) << rl.out;
	run_result r = actor({"open", t / "free/a/b/f.txt"});
	EXPECT_EQ(r.actor_errno(), EPERM) << r.out;
	json rec = d.wait_for(record_of(r.pid, "denied", t / "free/a/b/f.txt"));
	ASSERT_EQ(rec.kind, json::object_v) << log_of(d);
	EXPECT_EQ(rec["rule"]["text"].s(), "deny dir " + (t / "free"));
}

} // namespace
