// The daemon's watch on rule targets (runtime/target_watch.h): which
// directories and names it watches, when a target counts as replaced, the
// debounce, and real inotify on a temporary directory: a replaced target
// arms it, churn of other names does not.
#include "target_watch.h"

#include "policy.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace ltrack;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

policy::resolved_target target(std::string role, std::string written, std::string resolved = "", uint64_t ino = 0)
{
	policy::resolved_target t;
	t.role = std::move(role);
	t.written = std::move(written);
	t.resolved = std::move(resolved);
	t.found = !t.resolved.empty();
	t.dev = t.found ? 0x800001 : 0;
	t.ino = ino;
	return t;
}

} // namespace

TEST(target_watch, plans_every_directory_on_the_way_with_the_next_name_only)
{
	policy::compiled_policy p;
	p.targets = {target("file", "/etc/shadow", "/etc/shadow", 1),
		     target("dir", "/etc/ssl/certs", "/etc/ssl/certs", 2),
		     // a symlink: both ways are watched
		     target("file", "/etc/resolv.conf", "/run/systemd/resolve/stub-resolv.conf", 3),
		     // missing at load: its nearest existing directory sees it appear
		     target("file", "/opt/app/./conf/../secret", "", 0), target("name", "*.pkl"), // not a path
		     target("executable", "/usr/bin/python3", "/usr/bin/python3.11", 4)};
	watch_plan w = plan_watches(p);
	EXPECT_EQ(w["/"], (std::set<std::string>{"etc", "run", "opt", "usr"}));
	EXPECT_EQ(w["/etc"], (std::set<std::string>{"shadow", "ssl", "resolv.conf"}));
	EXPECT_EQ(w["/etc/ssl"], (std::set<std::string>{"certs"}));
	EXPECT_EQ(w["/run/systemd/resolve"], (std::set<std::string>{"stub-resolv.conf"}));
	EXPECT_EQ(w["/opt/app"], (std::set<std::string>{"secret"}));
	EXPECT_EQ(w["/usr/bin"], (std::set<std::string>{"python3", "python3.11"}));
	EXPECT_FALSE(w.count("/etc/ssl/certs")) << "a dir target's own entries change nothing";
	EXPECT_FALSE(w.count("/opt/app/conf"));
	EXPECT_EQ(w.size(), 10u)
		<< "/, /etc, /etc/ssl, /run, /run/systemd, /run/systemd/resolve, /opt, /opt/app, /usr, /usr/bin";
}

TEST(target_watch, a_target_is_stale_when_its_path_names_another_object_now)
{
	policy::compiled_policy p;
	p.targets = {target("file", "/etc/shadow", "/etc/shadow", 1), target("file", "/etc/passwd", "/etc/passwd", 2),
		     target("file", "/etc/missing", "", 0), target("file", "/etc/gone", "/etc/gone", 5),
		     target("file", "/etc/shadow", "/etc/shadow", 1)}; // the same path in two profiles
	std::map<std::string, uint64_t> host = {{"/etc/shadow", 1}, {"/etc/passwd", 2}};
	auto resolve = [&](const std::string &path) -> policy::resolve_result {
		auto it = host.find(path);
		if (it == host.end())
			return status::fail("No such file or directory", ENOENT);
		return policy::path_identity{path, 0x800001, it->second, false, true};
	};
	EXPECT_EQ(stale_targets(p, resolve), std::vector<std::string>{"/etc/gone"});
	host["/etc/gone"] = 5;
	EXPECT_TRUE(stale_targets(p, resolve).empty());
	host["/etc/shadow"] = 7;  // renamed over
	host["/etc/missing"] = 9; // appeared
	EXPECT_EQ(stale_targets(p, resolve), (std::vector<std::string>{"/etc/shadow", "/etc/missing"}));
}

TEST(target_watch, debounce_makes_a_burst_one_reapply_within_the_ceiling)
{
	debounce d;
	auto t0 = debounce::clock::now();
	EXPECT_FALSE(d.fire(t0));
	d.note(t0);
	EXPECT_FALSE(d.fire(t0 + 199ms));
	EXPECT_TRUE(d.fire(t0 + 200ms));
	EXPECT_FALSE(d.fire(t0 + 300ms)) << "fires once";
	// A package manager's burst: an event every 50 ms for 3 s fires at the
	// ceiling (1 s after the first), not never, and then once per second.
	int fired = 0;
	for (auto t = t0; t < t0 + 3s; t += 50ms) {
		d.note(t);
		if (d.fire(t))
			++fired;
	}
	EXPECT_EQ(fired, 2) << "at 1 s and 2 s";
	EXPECT_TRUE(d.armed);
	EXPECT_TRUE(d.fire(d.deadline()));
}

namespace {

struct temp_tree {
	std::string path;
	temp_tree()
	{
		char tmpl[] = "/tmp/ltrack-target-watch-XXXXXX";
		path = mkdtemp(tmpl);
	}
	~temp_tree() { fs::remove_all(path); }
	std::string operator/(const std::string &n) const { return path + "/" + n; }
};

void write(const std::string &p, const std::string &text)
{
	std::ofstream(p) << text;
}

// Waits for inotify to have something and reads it.
void settle(target_watch &w)
{
	pollfd pfd{w.fd(), POLLIN, 0};
	poll(&pfd, 1, 100);
	w.handle_events();
}

} // namespace

TEST(target_watch, real_inotify_replacement_arms_churn_does_not)
{
	temp_tree t;
	fs::create_directories(t / "etc");
	write(t / "etc/denied", "old");
	write(t / "etc/allowed", "old");
	std::string text = "mode = \"enforce\"\n[profile.p]\nexecutables = [\"/proc/self/exe\"]\n[profile.p.file]\n"
			   "default = \"allow\"\nrules = [\n"
			   "  { action = \"deny\", file = \"" +
			   (t / "etc/denied") +
			   "\" },\n"
			   "  { action = \"allow\", file = \"" +
			   (t / "etc/allowed") +
			   "\" },\n"
			   "  { action = \"deny\", file = \"" +
			   (t / "etc/later") + "\", missing = \"warn\" },\n]\n";
	policy::compile_result r = policy::compile_string(text, "test.toml");
	ASSERT_TRUE(r.ok()) << policy::format_all(r.diagnostics);
	target_watch w;
	ASSERT_TRUE(w.start(*r.policy).ok());
	EXPECT_EQ(w.triggers(), 0u) << "nothing changed since the compile";
	EXPECT_GE(w.watched_dirs(), 3u);

	// Churn of other names in a watched directory, and anywhere else: nothing.
	for (int i = 0; i < 200; i++) {
		std::string n = t / ("etc/tmp" + std::to_string(i));
		write(n, "x");
		std::rename(n.c_str(), (n + ".moved").c_str());
		unlink((n + ".moved").c_str());
	}
	write(t / "unrelated", "x");
	settle(w);
	EXPECT_EQ(w.triggers(), 0u);
	EXPECT_TRUE(w.on_timer(*r.policy).empty());

	// ldconfig's way: a new file renamed over the target.
	write(t / "etc/denied.new", "new");
	ASSERT_EQ(std::rename((t / "etc/denied.new").c_str(), (t / "etc/denied").c_str()), 0);
	settle(w);
	EXPECT_GT(w.triggers(), 0u);
	EXPECT_TRUE(w.on_timer(*r.policy).empty()) << "not due before the debounce";
	std::this_thread::sleep_for(250ms);
	EXPECT_EQ(w.on_timer(*r.policy), std::vector<std::string>{t / "etc/denied"});

	// A target missing at load appears; the directory above is replaced.
	uint64_t before = w.triggers();
	write(t / "etc/later", "x");
	settle(w);
	EXPECT_GT(w.triggers(), before);
	std::this_thread::sleep_for(250ms);
	EXPECT_EQ(w.on_timer(*r.policy), (std::vector<std::string>{t / "etc/denied", t / "etc/later"}));
	before = w.triggers();
	fs::rename(t / "etc", t / "etc.old");
	fs::create_directories(t / "etc");
	write(t / "etc/allowed", "new");
	settle(w);
	EXPECT_GT(w.triggers(), before);
	std::this_thread::sleep_for(250ms);
	// denied went with the old directory, allowed is another file, later
	// is missing again.
	EXPECT_EQ(w.on_timer(*r.policy), (std::vector<std::string>{t / "etc/denied", t / "etc/allowed"}));
	write(t / "etc/denied", "new");

	// Compiled again, the policy holds; the watches follow the new directory.
	policy::compile_result again = policy::compile_string(text, "test.toml");
	ASSERT_TRUE(again.ok()) << policy::format_all(again.diagnostics);
	before = w.triggers();
	ASSERT_TRUE(w.start(*again.policy).ok());
	EXPECT_EQ(w.triggers(), before);
	write(t / "etc/allowed.new", "x");
	std::rename((t / "etc/allowed.new").c_str(), (t / "etc/allowed").c_str());
	settle(w);
	EXPECT_GT(w.triggers(), before) << "the new etc is watched";
	before = w.triggers();
	write(t / "etc.old/denied.new", "x");
	std::rename((t / "etc.old/denied.new").c_str(), (t / "etc.old/denied").c_str());
	settle(w);
	EXPECT_EQ(w.triggers(), before) << "the old directory is no longer watched";
}

// A target whose inode changes by itself (procfs) must not make every
// re-apply ask for another: start() checks the policy at most 3 times in a
// row without an event for a target's name.
TEST(target_watch, a_target_that_never_holds_does_not_reapply_in_a_loop)
{
	temp_tree t;
	write(t / "f", "x");
	policy::compiled_policy p;
	p.targets = {target("file", t / "f", t / "f", 1)}; // inode 1: never what stat says
	target_watch w;
	for (int i = 0; i < 5; i++)
		ASSERT_TRUE(w.start(p).ok());
	EXPECT_EQ(w.triggers(), 3u);
}
