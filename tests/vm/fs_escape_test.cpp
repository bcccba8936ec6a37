// Ways around the file rules through the filesystem itself (issue 17, items
// 4, 5, 6 and 8), tried from the outside by real processes: a governed
// actor (enforce), a copy of it under an audit profile (the operation
// proceeds, the record says would_deny) and the test process itself
// (ungoverned: untouched, nothing recorded).
//   - links and renames: a hard link, a rename or a RENAME_EXCHANGE of an
//     object the actor may not open (denied directory, name rule, model
//     extension) into an allowed place or past a name rule;
//   - taking a name away (issue 17, "no way around the profile"): file and
//     dir rules are compiled to inodes, so renaming a new file over a denied
//     one, or unlinking it and creating it again, would leave a path no rule
//     covers: a rename over, an unlink or an rmdir of what the actor may not
//     open is refused; and when someone else (ldconfig, an admin) does it,
//     ltrackd resolves the policy's paths again so the rule covers the new
//     inode, with no reload;
//   - mounts: mount, overlay, bind, umount, move_mount, fsopen/fsconfig,
//     and ltrack's bpffs even for a profile that may mount;
//   - open_by_handle_at of a file whose dentry the cache dropped (ext4 on a
//     loop device: tmpfs pins its dentries, so it never disconnects);
//   - writes to host-wide helper launch points (core_pattern, modprobe,
//     binfmt_misc's register).
// Every refusal is checked twice: the errno the process saw and the record.
#include "support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

std::string log_of(const ltrackd &d)
{
	return "decision log:\n" + read_file(d.log_path());
}

bool exists(const std::string &p)
{
	struct stat st {};
	return lstat(p.c_str(), &st) == 0;
}

// A copy of the actor for a second profile (profiles select by executable).
std::string actor_copy(const temp_dir &t, const std::string &name)
{
	std::string p = t / name;
	fs::copy_file(actor_path(), p);
	chmod(p.c_str(), 0755);
	return p;
}

run_result run_as(const std::string &program, std::vector<std::string> args)
{
	args.insert(args.begin(), program);
	return run(args);
}

// pid's record of this hook, outcome and object path.
std::function<bool(const json &)> record_of(int pid, const std::string &hook, const std::string &outcome,
					    const std::string &path)
{
	return [=](const json &r) { return decision_for(pid, hook, outcome)(r) && r["file"]["path"].s() == path; };
}

// Nothing was recorded about pid (the ungoverned test process).
void expect_no_record(const ltrackd &d, int pid)
{
	for (const json &r : d.decisions())
		EXPECT_NE(r["process"]["pid"].i(), pid) << "an ungoverned process was recorded\n" << log_of(d);
}

struct mount_guard {
	std::string where;
	bool mounted = false;
	~mount_guard()
	{
		if (mounted)
			umount2(where.c_str(), MNT_DETACH);
	}
};

// Runs program args until done(result) or timeout; returns the last result
// and how long it took.
run_result run_until(const std::string &program, const std::vector<std::string> &args,
		     const std::function<bool(const run_result &)> &done, double &seconds)
{
	auto t0 = std::chrono::steady_clock::now();
	run_result r;
	do {
		r = run_as(program, args);
		seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		if (done(r))
			break;
		usleep(50000);
	} while (seconds < 10);
	return r;
}

// ---- links and renames ----------------------------------------------------

struct link_case {
	std::string what, op, from, to, rule_text; // rule_text: the rule the record names
};

TEST(FsEscape, LinksAndRenamesOfWhatCannotBeOpened)
{
	temp_dir t;
	for (const char *d : {"denied/sub", "denied/empty", "open/box/inner", "models", "keys/vault", "keys/other",
			      "vaults/outer/inner", "mroot/models", "spare"})
		fs::create_directories(t / d);
	// Ancestors of inode-bound targets (issue 17, "hard links and
	// renames"): a deny file, a deny dir and a model directory, each below
	// directories the actor may open.
	write_file(t / "keys/vault/key.txt", "the key");
	write_file(t / "keys/vault/notes.txt", "notes");
	write_file(t / "vaults/outer/inner/f.txt", "inner secret");
	write_file(t / "mroot/models/w.bin", "not scanned yet");
	write_file(t / "denied/secret.txt", "secret");
	write_file(t / "denied/sub/deep.txt", "deep");
	write_file(t / "open/x.pkl", "pickle");
	write_file(t / "open/w.pt", "not scanned");
	write_file(t / "open/fine.txt", "fine");
	write_file(t / "open/b.txt", "b");
	write_file(t / "open/box/inner/f.txt", "inner");
	// Replaced or unlinked: exact-file rules in an allowed directory, a model
	// file, and files the actor may open.
	for (const char *f : {"open/shadow", "open/preload", "open/m.pt", "open/ok.txt", "open/tmp.txt"})
		write_file(t / f, f);
	std::string audited = actor_copy(t, "audited-actor");
	std::string rules = "[profile.p.file]\ndefault = \"allow\"\nrules = [\n"
			    "  { action = \"deny\", dir = " +
			    q(t / "denied") +
			    " },\n"
			    "  { action = \"deny\", file = " +
			    q(t / "open/shadow") +
			    " },\n"
			    "  { action = \"deny\", file = " +
			    q(t / "open/preload") +
			    " },\n"
			    "  { action = \"deny\", dir = " +
			    q(t / "open/box/inner") +
			    " },\n"
			    "  { action = \"deny\", file = " +
			    q(t / "keys/vault/key.txt") +
			    " },\n"
			    "  { action = \"deny\", dir = " +
			    q(t / "vaults/outer/inner") +
			    " },\n"
			    "  { action = \"deny\", name = \"*.pkl\" },\n]\n"
			    "[profile.p.model]\nextensions = [\".pt\"]\ndirectories = [" +
			    q(t / "mroot/models") + "]\nallow = \"safe\"\n";
	std::string policy = "mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(actor_path()) + "]\n" + rules;
	std::string aud_rules = rules;
	for (std::size_t at; (at = aud_rules.find("profile.p.")) != std::string::npos;)
		aud_rules.replace(at, 10, "profile.aud.");
	policy += "[profile.aud]\nexecutables = [" + q(audited) + "]\nmode = \"audit\"\n" + aud_rules;
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	std::string deny_dir = "deny dir " + (t / "denied");
	std::string deny_pkl = "deny name *.pkl";
	// Each refused in enforce mode: EPERM, nothing moved, a link record
	// naming the operation, the object and the rule that refuses opening it.
	std::vector<link_case> refused = {
		{"hard link out of a denied directory", "link", t / "denied/secret.txt", t / "open/s.txt", deny_dir},
		{"rename out of a denied directory", "rename", t / "denied/secret.txt", t / "open/s2.txt", deny_dir},
		{"rename of a directory inside a denied one", "rename", t / "denied/sub", t / "open/sub", deny_dir},
		{"rename of the denied directory itself", "rename", t / "denied", t / "open/was-denied", deny_dir},
		{"rename past a name rule", "rename", t / "open/x.pkl", t / "open/x.dat", deny_pkl},
		{"rename to another case", "rename", t / "open/x.pkl", t / "open/x.PKL", deny_pkl},
		{"hard link past a name rule", "link", t / "open/x.pkl", t / "open/y.dat", deny_pkl},
		{"rename past the model extensions", "rename", t / "open/w.pt", t / "open/w.txt", ""},
		{"exchange with a denied file", "exchange", t / "open/fine.txt", t / "denied/secret.txt", deny_dir},
		// The target a rename replaces: the new file would take the name
		// with none of the denied file's rules.
		{"rename over a denied file", "replace", t / "open/b.txt", t / "open/shadow",
		 "deny file " + (t / "open/shadow")},
		{"rename over a file in a denied directory", "replace", t / "open/b.txt", t / "denied/secret.txt",
		 deny_dir},
		{"rename over a model file the model layer refuses", "replace", t / "open/b.txt", t / "open/m.pt", ""},
		{"rmdir of a directory in a denied one", "rmdir", t / "denied/empty", "", deny_dir},
		{"unlink of a denied file", "unlink", t / "open/preload", "", "deny file " + (t / "open/preload")},
		{"unlink of a file in a denied directory", "unlink", t / "denied/secret.txt", "", deny_dir},
		{"unlink past a name rule", "unlink", t / "open/x.pkl", "", deny_pkl},
	};
	for (const auto &c : refused) {
		std::string op = c.op == "replace" ? "rename" : c.op; // the actor's operation
		run_result r = c.to.empty() ? actor({op, c.from}) : actor({op, c.from, c.to});
		EXPECT_EQ(r.actor_errno(), EPERM) << c.what << ": " << r.out;
		// The exchange's and the replace's refused object is the target.
		std::string object = c.op == "exchange" || c.op == "replace" ? c.to : c.from;
		json rec = d.wait_for(record_of(r.pid, "link", "denied", object));
		ASSERT_EQ(rec.kind, json::object_v) << c.what << ": no record\n" << log_of(d);
		EXPECT_EQ(rec["op"].s(), c.op) << c.what;
		EXPECT_EQ(rec["action"].s(), "deny") << c.what;
		EXPECT_EQ(rec["profile"].s(), "p") << c.what;
		EXPECT_FALSE(rec["file"]["path_partial"].b) << c.what;
		if (c.rule_text.empty()) {
			// The model layer refused it: not scanned safe, under a model extension.
			EXPECT_NE(rec["model"]["verdict"].s(), "") << c.what;
			EXPECT_NE(rec["model"]["verdict"].s(), "safe") << c.what;
		} else {
			EXPECT_EQ(rec["rule"]["text"].s(), c.rule_text) << c.what;
		}
		EXPECT_TRUE(exists(c.from)) << c.what << ": the object moved or went";
		if (c.op != "exchange" && c.op != "replace" && !c.to.empty())
			EXPECT_FALSE(exists(c.to)) << c.what << ": the new name exists";
	}
	EXPECT_EQ(read_file(t / "open/fine.txt"), "fine") << "the exchange happened";
	// The actor opens the same file again: still the denied inode.
	EXPECT_EQ(actor({"open", t / "open/shadow"}).actor_errno(), EPERM);

	// An ancestor of a rule's target, which the actor may open itself:
	// moving it would leave the path the rule names to whatever is made
	// there next, and the re-resolved rule would bind to that (target_watch)
	// while the real object sits under a path no rule names. Refused, the
	// record names the rule whose target lies below; a rename over or an
	// exchange with it too. If one gets through, the attack is played out
	// (layout recreated, re-apply awaited, old object opened) to show what
	// it would have bought.
	std::string key_rule = "deny file " + (t / "keys/vault/key.txt");
	std::string inner_rule = "deny dir " + (t / "vaults/outer/inner");
	std::string model_rule = "model dir " + (t / "mroot/models");
	struct ancestor_case {
		std::string what, op, from, to, object, rule_text, recreate, old_object;
	};
	auto t_anc = std::chrono::steady_clock::now();
	std::vector<ancestor_case> ancestors = {
		{"rename the parent of a denied file", "rename", t / "keys/vault", t / "keys/moved", t / "keys/vault",
		 key_rule, t / "keys/vault", t / "keys/moved/key.txt"},
		{"rename its grandparent", "rename", t / "keys", t / "keys2", t / "keys", key_rule, t / "keys/vault",
		 t / "keys2/vault/key.txt"},
		{"rename the parent of a denied directory", "rename", t / "vaults/outer", t / "vaults/x",
		 t / "vaults/outer", inner_rule, t / "vaults/outer/inner", t / "vaults/x/inner/f.txt"},
		{"rename the parent of a model directory", "rename", t / "mroot", t / "mroot2", t / "mroot", model_rule,
		 t / "mroot/models", t / "mroot2/models/fresh.bin"},
		{"exchange a directory with the parent of a model directory", "exchange", t / "spare", t / "mroot",
		 t / "mroot", model_rule, "", ""},
	};
	for (const auto &c : ancestors) {
		run_result r = actor({c.op, c.from, c.to});
		EXPECT_EQ(r.actor_errno(), EPERM) << c.what << ": " << r.out;
		if (r.exit_code == 0 && !c.recreate.empty()) {
			fs::create_directories(c.recreate);
			if (c.recreate.find("keys") != std::string::npos)
				write_file(c.recreate + "/key.txt", "a decoy");
			usleep(1500000); // target_watch's debounce and swap
			// The old model directory is no model directory any more, and
			// no longer watched: a file written there now is never scanned.
			if (c.old_object.ends_with("fresh.bin"))
				actor({"create", c.old_object});
			run_result o = actor({"open", c.old_object});
			ADD_FAILURE() << c.what << " got through; then opening the old object " << c.old_object
				      << " under its new path: " << (o.exit_code == 0 ? "ALLOWED" : "refused") << " ("
				      << o.out << ")\n"
				      << d.output();
			continue;
		}
		json rec = d.wait_for(record_of(r.pid, "link", "denied", c.object));
		ASSERT_EQ(rec.kind, json::object_v) << c.what << ": no record\n" << log_of(d);
		EXPECT_EQ(rec["op"].s(), c.op) << c.what;
		EXPECT_EQ(rec["action"].s(), "deny") << c.what;
		EXPECT_EQ(rec["rule"]["text"].s(), c.rule_text) << c.what;
		EXPECT_TRUE(rec["file"]["ancestor"].b) << c.what;
		EXPECT_TRUE(exists(c.object)) << c.what;
	}
	// The same for the denied directory's parent in the allowed tree.
	run_result box = actor({"rename", t / "open/box", t / "open/box2"});
	EXPECT_EQ(box.actor_errno(), EPERM) << box.out;
	run_result inner = actor({"open", t / "open/box/inner/f.txt"});
	EXPECT_EQ(inner.actor_errno(), EPERM) << inner.out;
	// What a workload does stays allowed: renaming a directory that leads
	// to no target (a sibling of one), and renaming inside a directory that
	// does (a file, a subdirectory next to the target).
	EXPECT_EQ(actor({"rename", t / "keys/other", t / "keys/other2"}).exit_code, 0);
	EXPECT_EQ(actor({"rename", t / "keys/vault/notes.txt", t / "keys/vault/notes2.txt"}).exit_code, 0);
	fs::create_directories(t / "keys/vault/cache/a");
	EXPECT_EQ(actor({"rename", t / "keys/vault/cache", t / "keys/vault/cache2"}).exit_code, 0);
	EXPECT_EQ(actor({"rename", t / "keys/vault/cache2/a", t / "keys/vault/b"}).exit_code, 0);

	std::printf("ancestors: refusals and allowed renames took %.1f s (TCG)\n",
		    std::chrono::duration<double>(std::chrono::steady_clock::now() - t_anc).count());

	// What the actor may open it may move: rules on inodes go with it,
	// names only tighten.
	EXPECT_EQ(actor({"rename", t / "open/fine.txt", t / "open/fine2.txt"}).exit_code, 0);
	EXPECT_EQ(actor({"link", t / "open/b.txt", t / "open/b2.txt"}).exit_code, 0);
	EXPECT_EQ(actor({"rename", t / "open/b2.txt", t / "denied/b2.txt"}).exit_code, 0);
	// ... and may replace or remove: a rename over an allowed file, an
	// unlink of an allowed temporary file, an rmdir of an allowed directory.
	write_file(t / "open/ok.new", "new");
	run_result over = actor({"rename", t / "open/ok.new", t / "open/ok.txt"});
	EXPECT_EQ(over.exit_code, 0) << over.out;
	EXPECT_EQ(read_file(t / "open/ok.txt"), "new");
	run_result rm = actor({"unlink", t / "open/tmp.txt"});
	EXPECT_EQ(rm.exit_code, 0) << rm.out;
	EXPECT_FALSE(exists(t / "open/tmp.txt"));
	fs::create_directories(t / "open/scratch");
	run_result rd = actor({"rmdir", t / "open/scratch"});
	EXPECT_EQ(rd.exit_code, 0) << rd.out;
	EXPECT_FALSE(exists(t / "open/scratch"));

	// Audit: the same link and rename proceed, recorded as would_deny.
	run_result al = run_as(audited, {"link", t / "denied/secret.txt", t / "open/audited-link"});
	EXPECT_EQ(al.exit_code, 0) << al.out;
	EXPECT_TRUE(exists(t / "open/audited-link"));
	json arec = d.wait_for(record_of(al.pid, "link", "would_deny", t / "denied/secret.txt"));
	ASSERT_EQ(arec.kind, json::object_v) << "no would_deny record\n" << log_of(d);
	EXPECT_EQ(arec["mode"].s(), "audit");
	EXPECT_EQ(arec["op"].s(), "link");
	EXPECT_EQ(arec["rule"]["text"].s(), deny_dir);
	run_result ar = run_as(audited, {"rename", t / "open/x.pkl", t / "open/x.dat"});
	EXPECT_EQ(ar.exit_code, 0) << ar.out;
	EXPECT_TRUE(exists(t / "open/x.dat"));
	EXPECT_EQ(d.wait_for(record_of(ar.pid, "link", "would_deny", t / "open/x.pkl"))["op"].s(), "rename")
		<< log_of(d);
	// ... and so do a rename over a denied file and an unlink of one.
	write_file(t / "open/aud.new", "audited");
	run_result aro = run_as(audited, {"rename", t / "open/aud.new", t / "open/shadow"});
	EXPECT_EQ(aro.exit_code, 0) << aro.out;
	EXPECT_EQ(read_file(t / "open/shadow"), "audited");
	json arorec = d.wait_for(record_of(aro.pid, "link", "would_deny", t / "open/shadow"));
	EXPECT_EQ(arorec["op"].s(), "replace") << log_of(d);
	EXPECT_EQ(arorec["rule"]["text"].s(), "deny file " + (t / "open/shadow"));
	run_result au = run_as(audited, {"unlink", t / "open/preload"});
	EXPECT_EQ(au.exit_code, 0) << au.out;
	EXPECT_FALSE(exists(t / "open/preload"));
	EXPECT_EQ(d.wait_for(record_of(au.pid, "link", "would_deny", t / "open/preload"))["op"].s(), "unlink")
		<< log_of(d);

	// ... and a move of a target's ancestor.
	run_result aa = run_as(audited, {"rename", t / "mroot", t / "mroot-aud"});
	EXPECT_EQ(aa.exit_code, 0) << aa.out;
	json aarec = d.wait_for(record_of(aa.pid, "link", "would_deny", t / "mroot"));
	ASSERT_EQ(aarec.kind, json::object_v) << log_of(d);
	EXPECT_EQ(aarec["rule"]["text"].s(), model_rule);
	EXPECT_TRUE(aarec["file"]["ancestor"].b);
	ASSERT_EQ(rename((t / "mroot-aud").c_str(), (t / "mroot").c_str()), 0) << std::strerror(errno);

	// Ungoverned: the test process links and renames what the actor may not.
	ASSERT_EQ(link((t / "denied/secret.txt").c_str(), (t / "open/mine.txt").c_str()), 0) << std::strerror(errno);
	ASSERT_EQ(rename((t / "denied/sub").c_str(), (t / "open/sub-mine").c_str()), 0) << std::strerror(errno);
	// The administrator moves a denied directory's parent and makes the
	// layout again: ltrackd resolves the rule to the new directory, and the
	// marks follow (the new parent is refused to the actor). The audited
	// unlink above left a target missing, which no re-apply gets past:
	// give it back.
	write_file(t / "open/preload", "back");
	ASSERT_EQ(rename((t / "vaults/outer").c_str(), (t / "vaults/outer-admin").c_str()), 0) << std::strerror(errno);
	fs::create_directories(t / "vaults/outer/inner");
	write_file(t / "vaults/outer/inner/g.txt", "new secret");
	double secs = 0;
	run_result g = run_until(
		actor_path(), {"open", t / "vaults/outer/inner/g.txt"},
		[](const run_result &x) { return x.actor_errno() == EPERM; }, secs);
	EXPECT_EQ(g.actor_errno(), EPERM) << "not resolved again after " << secs << " s\n" << d.output();
	std::printf("administrator's move: re-applied and refused again after %.2f s (TCG)\n", secs);
	run_result again = actor({"rename", t / "vaults/outer", t / "vaults/y"});
	EXPECT_EQ(again.actor_errno(), EPERM) << again.out;
	expect_no_record(d, getpid());
}

// ---- targets replaced by someone else ---------------------------------------

std::size_t count_of(const std::string &text, const std::string &what)
{
	std::size_t n = 0;
	for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size())
		n++;
	return n;
}

// Anyone but a governed process (which is refused, above) replacing a
// rule's target: ldconfig renames a new /etc/ld.so.cache over the old one,
// an admin unlinks and recreates a file. file rules are inodes: ltrackd
// watches the targets' names and applies the policy again, resolved anew,
// so a deny rule covers the new inode and an allow rule lets it open, with
// no reload. Churn of other names triggers nothing.
TEST(FsEscape, TargetsReplacedByOthersAreResolvedAgain)
{
	temp_dir t;
	fs::create_directories(t / "etc");
	for (const char *f : {"etc/ld.so.preload", "etc/denied2", "etc/allowed"})
		write_file(t / f, "old");
	std::string strict = actor_copy(t, "strict-actor");
	std::string policy =
		"mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(actor_path()) +
		"]\n[profile.p.file]\ndefault = \"allow\"\nrules = [\n"
		"  { action = \"deny\", file = " +
		q(t / "etc/ld.so.preload") +
		" },\n"
		"  { action = \"deny\", file = " +
		q(t / "etc/denied2") +
		" },\n"
		"  { action = \"deny\", file = " +
		q(t / "etc/later") +
		", missing = \"warn\" },\n]\n"
		"[profile.q]\nexecutables = [" +
		q(strict) +
		"]\n[profile.q.file]\ndefault = \"deny\"\n"
		"rules = [\n  { action = \"allow\", dir = \"/usr\" },\n  { action = \"allow\", dir = \"/etc\" },\n"
		"  { action = \"allow\", file = " +
		q(t / "etc/allowed") + " },\n]\n";
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	ASSERT_EQ(actor({"open", t / "etc/ld.so.preload"}).actor_errno(), EPERM);
	ASSERT_EQ(run_as(strict, {"open", t / "etc/allowed"}).exit_code, 0);
	const std::string applied = " replaced: the policy's paths resolved again";
	// A mode switched at run time survives the re-applies (q: enforce by
	// the global mode, then explicitly).
	run_result m = d.ctl({"mode", "enforce", "--profile", "q"});
	ASSERT_EQ(m.exit_code, 0) << m.out;

	// Churn of other names, in a target's directory and in /tmp: nothing.
	for (int i = 0; i < 300; i++) {
		for (const std::string &dir : {t / "etc", std::string("/tmp")}) {
			std::string n = dir + "/ltrack-churn-" + std::to_string(i);
			write_file(n, "x");
			ASSERT_EQ(rename(n.c_str(), (n + ".moved").c_str()), 0);
			unlink((n + ".moved").c_str());
		}
	}
	usleep(1500000); // past the debounce and its ceiling
	EXPECT_EQ(count_of(d.output(), applied), 0u) << d.output();

	// ldconfig's way: a new file renamed over the denied one. Until ltrackd
	// applies the policy again the new inode has no rule; then it is refused.
	write_file(t / "etc/ld.so.preload.new", "new");
	ASSERT_EQ(rename((t / "etc/ld.so.preload.new").c_str(), (t / "etc/ld.so.preload").c_str()), 0);
	double secs = 0;
	auto refused = [](const run_result &r) { return r.actor_errno() == EPERM; };
	run_result r = run_until(actor_path(), {"open", t / "etc/ld.so.preload"}, refused, secs);
	EXPECT_EQ(r.actor_errno(), EPERM)
		<< "the replaced file is not covered after " << secs << " s: " << r.out << "\n"
		<< d.output();
	std::printf("rename over a denied file: refused again after %.2f s (TCG)\n", secs);
	json rec = d.wait_for(record_of(r.pid, "file", "denied", t / "etc/ld.so.preload"));
	ASSERT_EQ(rec.kind, json::object_v) << log_of(d);
	EXPECT_EQ(rec["rule"]["text"].s(), "deny file " + (t / "etc/ld.so.preload"));
	EXPECT_NE(d.output().find(t / "etc/ld.so.preload" + applied), std::string::npos) << d.output();

	// A burst, as a package manager makes: unlink and recreate a denied
	// file, replace an allowed one, create a target missing at load.
	ASSERT_EQ(unlink((t / "etc/denied2").c_str()), 0);
	write_file(t / "etc/denied2", "recreated");
	write_file(t / "etc/allowed.tmp", "new");
	ASSERT_EQ(rename((t / "etc/allowed.tmp").c_str(), (t / "etc/allowed").c_str()), 0);
	write_file(t / "etc/later", "appeared");
	r = run_until(actor_path(), {"open", t / "etc/denied2"}, refused, secs);
	EXPECT_EQ(r.actor_errno(), EPERM) << "recreated after " << secs << " s: " << r.out;
	std::printf("unlink and recreate: refused again after %.2f s (TCG)\n", secs);
	EXPECT_EQ(d.wait_for(record_of(r.pid, "file", "denied", t / "etc/denied2"))["rule"]["text"].s(),
		  "deny file " + (t / "etc/denied2"))
		<< log_of(d);
	r = run_until(
		strict, {"open", t / "etc/allowed"}, [](const run_result &x) { return x.exit_code == 0; }, secs);
	EXPECT_EQ(r.exit_code, 0) << "the replaced allowed file still refused after " << secs << " s: " << r.out;
	r = run_until(actor_path(), {"open", t / "etc/later"}, refused, secs);
	EXPECT_EQ(r.actor_errno(), EPERM) << "the target that appeared: " << r.out;
	std::printf("re-applies: %zu\n", count_of(d.output(), applied));
	std::string out = d.output();
	for (std::size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1)
		if (out.compare(at, end - at, applied) && out.substr(at, end - at).find(applied) != std::string::npos)
			std::printf("ltrackd: %s\n", out.substr(at, end - at).c_str());
	EXPECT_LE(count_of(d.output(), applied), 3u) << d.output();
	// The operator's policy file was not read again: the text in force was.
	EXPECT_EQ(count_of(d.output(), "reloaded "), 0u);
	run_result st = d.ctl({"status"});
	EXPECT_NE(st.out.find("q (id 2, enforce mode, overridden)"), std::string::npos) << st.out;
}

// ---- mounts, handles, launch points --------------------------------------------

// The actor's refusal of one operation: EPERM and its record.
json expect_refused(const ltrackd &d, const std::string &what, const std::vector<std::string> &args,
		    const std::string &hook, const std::string &path)
{
	run_result r = actor(args);
	EXPECT_EQ(r.actor_errno(), EPERM) << what << ": " << r.out;
	json rec = d.wait_for(record_of(r.pid, hook, "denied", path));
	EXPECT_EQ(rec.kind, json::object_v) << what << ": no record\n" << log_of(d);
	EXPECT_EQ(rec["profile"].s(), "p") << what;
	return rec;
}

int run_sh(const std::string &cmd)
{
	return run({"/bin/sh", "-c", cmd}).exit_code;
}

TEST(FsEscape, MountsHandlesAndLaunchPoints)
{
	temp_dir t;
	for (const char *dir : {"denied", "upper", "work", "mnt", "ovl", "pre", "ext"})
		fs::create_directories(t / dir);
	write_file(t / "denied/secret.txt", "secret");
	// ext4 on a loop device: a filesystem whose dentries the cache can drop
	// (tmpfs pins them), so a handle opens a disconnected one.
	ASSERT_EQ(run_sh("truncate -s 16M " + (t / "img") + " && mkfs.ext4 -q -F " + (t / "img") +
			 " && mount -o loop " + (t / "img") + " " + (t / "ext")),
		  0);
	mount_guard ext{t / "ext", true};
	fs::create_directories(t / "ext/denied");
	fs::create_directories(t / "ext/open");
	write_file(t / "ext/denied/secret.txt", "secret");
	write_file(t / "ext/open/x.pkl", "pickle");
	mount_guard pre{t / "pre"};
	ASSERT_EQ(mount("tmpfs", (t / "pre").c_str(), "tmpfs", 0, nullptr), 0) << std::strerror(errno);
	pre.mounted = true;
	std::string audited = actor_copy(t, "audited-actor");
	std::string mounter = actor_copy(t, "mounting-actor");
	std::string file_rules = "default = \"allow\"\nrules = [\n  { action = \"deny\", dir = " + q(t / "denied") +
				 " },\n  { action = \"deny\", dir = " + q(t / "ext/denied") +
				 " },\n  { action = \"deny\", name = \"*.pkl\" },\n]\n";
	std::string policy = "mode = \"enforce\"\n[profile.p]\nexecutables = [" + q(actor_path()) + "]\n" +
			     "[profile.p.file]\n" + file_rules + "[profile.aud]\nexecutables = [" + q(audited) +
			     "]\nmode = \"audit\"\n[profile.aud.file]\n" + file_rules + "[profile.m]\nexecutables = [" +
			     q(mounter) + "]\n[profile.m.mount]\ndefault = \"allow\"\n";
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();

	// ---- mounts: refused without a [mount] section, by the built-in rule.
	std::string overlay_opts =
		"lowerdir=" + (t / "denied") + ",upperdir=" + (t / "upper") + ",workdir=" + (t / "work");
	struct mount_case {
		std::string what, op;
		std::vector<std::string> args;
		std::string path;
	};
	std::vector<mount_case> mounts = {
		{"tmpfs mount", "mount", {"mount", "tmpfs", "none", t / "mnt"}, t / "mnt"},
		{"overlay over the denied directory",
		 "mount",
		 {"mount", "overlay", "overlay", t / "ovl", overlay_opts},
		 t / "ovl"},
		{"bind mount of the denied directory", "bind", {"bind", t / "denied", t / "mnt"}, t / "mnt"},
		{"umount", "umount", {"umount", t / "pre"}, t / "pre"},
		{"move_mount of a clone", "move", {"move-mount", t / "pre", t / "mnt"}, t / "mnt"},
		{"fsopen/fsconfig of an overlay",
		 "new_instance",
		 {"fsopen", "overlay", "lowerdir=" + (t / "denied"), "upperdir=" + (t / "upper"),
		  "workdir=" + (t / "work")},
		 "overlay"},
	};
	for (const auto &c : mounts) {
		json rec = expect_refused(d, c.what, c.args, "mount", c.path);
		EXPECT_EQ(rec["op"].s(), c.op) << c.what;
		EXPECT_EQ(rec["builtin"].s(), "mount_default") << c.what;
		EXPECT_EQ(rec["rule"]["text"].s(), "built-in: mounts refused (the profile has no [mount] section)");
	}
	EXPECT_FALSE(exists(t / "ovl/secret.txt")) << "the overlay was mounted";
	EXPECT_FALSE(exists(t / "mnt/secret.txt")) << "the bind mount was made";

	// Audit: the overlay is mounted, recorded as would_deny.
	run_result ao = run_as(audited, {"mount", "overlay", "overlay", t / "ovl", overlay_opts});
	EXPECT_EQ(ao.exit_code, 0) << ao.out;
	mount_guard ovl{t / "ovl", ao.exit_code == 0};
	json arec = d.wait_for(record_of(ao.pid, "mount", "would_deny", t / "ovl"));
	EXPECT_EQ(arec["mode"].s(), "audit") << log_of(d);
	EXPECT_EQ(arec["op"].s(), "mount");

	// A profile that may mount mounts, but never on ltrack's bpffs.
	run_result mm = run_as(mounter, {"mount", "tmpfs", "none", t / "mnt"});
	EXPECT_EQ(mm.exit_code, 0) << mm.out;
	mount_guard mnt{t / "mnt", mm.exit_code == 0};
	run_result mb = run_as(mounter, {"mount", "tmpfs", "none", d.pin_dir()});
	EXPECT_EQ(mb.actor_errno(), EPERM) << "mounted over the pin directory: " << mb.out;
	if (mb.exit_code == 0)
		umount2(d.pin_dir().c_str(), MNT_DETACH);
	json brec = d.wait_for(record_of(mb.pid, "mount", "denied", d.pin_dir()));
	EXPECT_EQ(brec["builtin"].s(), "bpffs") << log_of(d);
	EXPECT_EQ(brec["severity"].s(), "critical");
	EXPECT_EQ(brec["profile"].s(), "m");

	// Ungoverned: the test process mounts and unmounts.
	fs::create_directories(t / "own");
	EXPECT_EQ(mount("tmpfs", (t / "own").c_str(), "tmpfs", 0, nullptr), 0) << std::strerror(errno);
	EXPECT_EQ(umount2((t / "own").c_str(), 0), 0) << std::strerror(errno);

	// ---- open_by_handle_at of a file whose dentry was dropped: its path is
	// unknown, so the open fails closed whatever the rules (even for a file
	// the actor may open by name), counted and flagged: by the ancestor walk
	// for a profile with directory rules, by a built-in check for one
	// without (m).
	struct handle_case {
		std::string program, name, profile;
	};
	for (const handle_case &c :
	     {handle_case{actor_path(), "denied/secret.txt", "p"}, handle_case{actor_path(), "open/x.pkl", "p"},
	      handle_case{mounter, "open/x.pkl", "m"}}) {
		run_result r = run_as(c.program, {"open-by-handle", t / "ext", c.name});
		EXPECT_EQ(r.actor_errno(), EPERM) << c.name << ": " << r.out;
		json rec = d.wait_for(decision_for(r.pid, "file", "denied"));
		EXPECT_EQ(rec["builtin"].s(), "disconnected") << c.name << "\n" << log_of(d);
		EXPECT_EQ(rec["profile"].s(), c.profile);
		EXPECT_EQ(rec["rule"]["text"].s(), "built-in: an object reached without its path (open_by_handle_at) "
						   "fails closed");
	}
	// The same object through an O_PATH handle (no file_open) given a name by
	// linkat(AT_EMPTY_PATH): refused as a link of an object without its path.
	run_result lh = run_as(mounter, {"link-by-handle", t / "ext", "open/x.pkl", t / "ext/open/x.dat"});
	EXPECT_EQ(lh.actor_errno(), EPERM) << lh.out;
	EXPECT_FALSE(exists(t / "ext/open/x.dat"));
	json lrec = d.wait_for(decision_for(lh.pid, "link", "denied"));
	EXPECT_EQ(lrec["builtin"].s(), "disconnected") << log_of(d);
	EXPECT_EQ(lrec["op"].s(), "link");
	EXPECT_EQ(lrec["profile"].s(), "m");
	run_result ah = run_as(audited, {"open-by-handle", t / "ext", "denied/secret.txt"});
	EXPECT_EQ(ah.exit_code, 0) << ah.out;
	EXPECT_EQ(d.wait_for(decision_for(ah.pid, "file", "would_deny"))["builtin"].s(), "disconnected") << log_of(d);
	// Objects that never had a directory are not cut off: a pidfd (a pidfs
	// file on 6.9+), a namespace file (nsfs) and a pipe reopened through
	// /proc/self/fd (pipefs: `cat /dev/stdin`) open, with no record
	// (checked at the end, when the log has been flushed).
	std::vector<int> nameless;
	for (const std::vector<std::string> &args :
	     {std::vector<std::string>{"tamper", "pidfd-open", std::to_string(getpid())},
	      std::vector<std::string>{"open", "/proc/self/ns/net"},
	      std::vector<std::string>{"tamper", "reopen-pipe"}}) {
		run_result r = actor(args);
		EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.out;
		nameless.push_back(r.pid);
	}
	run_result st = d.ctl({"status"});
	std::size_t at = st.out.find("disconnected: ");
	ASSERT_NE(at, std::string::npos) << st.out;
	EXPECT_GE(std::atoi(st.out.c_str() + at + 14), 5) << st.out;

	// ---- host-wide launch points: a governed write is refused (critical),
	// an audited one proceeds, the ungoverned test process restores.
	const std::string core = "/proc/sys/kernel/core_pattern";
	std::string saved = read_file(core);
	json crec = expect_refused(d, "core_pattern pipe", {"write", core, "|/tmp/ltrack-helper %p"}, "file", core);
	EXPECT_EQ(crec["builtin"].s(), "launch_point");
	EXPECT_EQ(crec["severity"].s(), "critical");
	EXPECT_EQ(read_file(core), saved);
	expect_refused(d, "modprobe", {"write", "/proc/sys/kernel/modprobe", "/tmp/ltrack-helper"}, "file",
		       "/proc/sys/kernel/modprobe");
	run_result ac = run_as(audited, {"write", core, "|/tmp/ltrack-audited %p"});
	EXPECT_EQ(ac.exit_code, 0) << ac.out;
	json acrec = d.wait_for(record_of(ac.pid, "file", "would_deny", core));
	EXPECT_EQ(acrec["builtin"].s(), "launch_point") << log_of(d);
	EXPECT_EQ(acrec["severity"].s(), "critical");
	write_file(core, saved);
	EXPECT_EQ(read_file(core), saved);
	const std::string binfmt = "/proc/sys/fs/binfmt_misc";
	if (mount("binfmt_misc", binfmt.c_str(), "binfmt_misc", 0, nullptr) == 0 || errno == EBUSY) {
		json b = expect_refused(d, "binfmt_misc register",
					{"write", binfmt + "/register", ":ltrack:E::ltrk::/bin/sh:"}, "file",
					binfmt + "/register");
		EXPECT_EQ(b["builtin"].s(), "launch_point");
		EXPECT_FALSE(exists(binfmt + "/ltrack"));
		umount2(binfmt.c_str(), MNT_DETACH);
	} else {
		ADD_FAILURE() << "binfmt_misc: " << std::strerror(errno);
	}

	// ---- cgroup control: freezing, killing or moving processes through
	// cgroupfs (how a governed root process would stop ltrackd or a run's
	// supervisor without a signal) is refused, critical; audit records it.
	{
		test_cgroup victim("victim");
		for (const char *f : {"cgroup.freeze", "cgroup.kill", "cgroup.procs"}) {
			json c = expect_refused(d, std::string("cgroup ") + f, {"write", victim.path + "/" + f, "1"},
						"file", victim.path + "/" + f);
			EXPECT_EQ(c["builtin"].s(), "cgroup_control") << f;
			EXPECT_EQ(c["severity"].s(), "critical") << f;
		}
		EXPECT_NE(read_file(victim.path + "/cgroup.freeze").find('0'), std::string::npos);
		run_result af = run_as(audited, {"write", victim.path + "/cgroup.freeze", "0"});
		EXPECT_EQ(af.exit_code, 0) << af.out;
		EXPECT_EQ(d.wait_for(record_of(af.pid, "file", "would_deny", victim.path + "/cgroup.freeze"))["builtin"]
				  .s(),
			  "cgroup_control")
			<< log_of(d);
		// Reading them is not refused (a runtime reads its own cgroup).
		run_result rd = actor({"open", victim.path + "/cgroup.procs"});
		EXPECT_EQ(rd.exit_code, 0) << rd.out;
	}

	expect_no_record(d, getpid());
	for (int pid : nameless)
		expect_no_record(d, pid);
}

} // namespace
