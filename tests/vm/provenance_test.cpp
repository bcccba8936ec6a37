// `ltrackctl export --provenance` from the outside: a governed shell forks,
// executes, opens and connects under ltrackd; the exported graph has every
// node once, edges only between its nodes, and the fork, exec, open and
// connect edges of exactly those processes, with ids stable across exports.
#include "support.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

using namespace ltrack::vmtest;

namespace {

struct graph {
	std::map<std::string, json> nodes;
	std::vector<json> edges;
	std::vector<std::string> problems;

	static graph parse(const std::string &text)
	{
		graph g;
		std::istringstream in(text);
		for (std::string line; std::getline(in, line);) {
			std::string err;
			json j = json::parse(line, &err);
			if (!err.empty()) {
				g.problems.push_back("not JSON (" + err + "): " + line);
			} else if (j["type"].s() == "node") {
				if (!g.nodes.emplace(j["id"].s(), j).second)
					g.problems.push_back("node twice: " + line);
			} else if (j["type"].s() == "edge") {
				for (const char *end : {"from", "to"})
					if (!g.nodes.count(j[end].s()))
						g.problems.push_back(std::string(end) +
								     " is not a node listed before it: " + line);
				g.edges.push_back(j);
			} else {
				g.problems.push_back("neither node nor edge: " + line);
			}
		}
		return g;
	}
	std::string id_of_pid(long long pid) const
	{
		for (const auto &[id, n] : nodes)
			if (n["kind"].s() == "process" && n["pid"].i() == pid)
				return id;
		return {};
	}
	std::vector<json> edges_of(const std::string &kind, const std::string &from, const std::string &to = "") const
	{
		std::vector<json> out;
		for (const auto &e : edges)
			if (e["kind"].s() == kind && e["from"].s() == from && (to.empty() || e["to"].s() == to))
				out.push_back(e);
		return out;
	}
	std::set<std::string> children_of(const std::string &parent) const
	{
		std::set<std::string> out;
		for (const auto &e : edges)
			if (e["kind"].s() == "fork" && e["from"].s() == parent)
				out.insert(e["to"].s());
		return out;
	}
};

TEST(Provenance, ForkExecOpenConnectOfAGovernedShell)
{
	temp_dir t;
	write_file(t / "data", "d");
	// dash is governed; whatever it starts stays governed. Explicit allow
	// rules so every operation is a logged decision (implicit allows are not).
	ltrackd d("mode = \"enforce\"\n[profile.shell]\nexecutables = [\"/usr/bin/dash\"]\n"
		  "[profile.shell.file]\nrules = [ { action = \"allow\", file = \"" +
		  t / "data" +
		  "\" } ]\n"
		  "[profile.shell.exec]\nrules = [ { action = \"allow\", file = \"/usr/bin/cat\" },\n"
		  "  { action = \"allow\", file = \"" +
		  actor_path() +
		  "\" } ]\n"
		  "[profile.shell.network]\nrules = [ { action = \"allow\", to = \"loopback\", ports = 9 } ]\n");
	ASSERT_TRUE(d.start()) << d.output();

	// sh forks C1 (cat: exec + open), C2 (actor: exec + connect) and C3
	// (actor: exec, then forks C4, which opens). The trailing true keeps dash
	// from exec'ing the last command in its own process.
	std::string a = actor_path(), data = t / "data";
	run_result sh = run({"/bin/sh", "-c",
			     "cat " + data + " >/dev/null; " + a + " connect 127.0.0.1 9; " + a + " child open " +
				     data + "; true"});
	ASSERT_EQ(sh.exit_code, 0) << sh.out;
	// The last decision (C4's open) is in the daemon's history.
	ASSERT_EQ(d.wait_for([&](const json &r) {
			   return r["hook"].s() == "file" && r["file"]["path"].s() == data &&
				  r["process"]["exe"].s() == a;
		   }).kind,
		  json::object_v)
		<< read_file(d.log_path());

	std::string out1 = t / "graph1.jsonl";
	run_result ex = d.ctl({"export", "--provenance", "--output", out1});
	ASSERT_EQ(ex.exit_code, 0) << ex.out;
	graph g = graph::parse(read_file(out1));
	EXPECT_TRUE(g.problems.empty()) << ::testing::PrintToString(g.problems);

	std::string s = g.id_of_pid(sh.pid);
	ASSERT_FALSE(s.empty()) << "the shell is a node (parent of its children)\n" << read_file(out1);
	std::set<std::string> kids = g.children_of(s);
	ASSERT_EQ(kids.size(), 3u) << "cat, actor, actor\n" << read_file(out1);

	std::string cat_file, actor_file, data_file, c1, c2, c3;
	for (const auto &[id, n] : g.nodes) {
		if (n["kind"].s() == "file" && n["path"].s() == "/usr/bin/cat")
			cat_file = id;
		if (n["kind"].s() == "file" && n["path"].s() == a)
			actor_file = id;
		if (n["kind"].s() == "file" && n["path"].s() == data)
			data_file = id;
	}
	ASSERT_FALSE(cat_file.empty() || actor_file.empty() || data_file.empty()) << read_file(out1);
	for (const auto &k : kids) {
		if (!g.edges_of("exec", k, cat_file).empty())
			c1 = k;
		else if (!g.edges_of("connect", k).empty())
			c2 = k;
		else if (!g.edges_of("exec", k, actor_file).empty())
			c3 = k;
	}
	ASSERT_FALSE(c1.empty() || c2.empty() || c3.empty()) << read_file(out1);
	EXPECT_EQ(g.nodes[c1]["exe"].s(), "/usr/bin/cat") << "after its exec";
	EXPECT_EQ(g.edges_of("open", c1, data_file).size(), 1u) << "cat opened the data";
	EXPECT_EQ(g.edges_of("exec", c2, actor_file).size(), 1u);
	auto conn = g.edges_of("connect", c2);
	ASSERT_EQ(conn.size(), 1u);
	EXPECT_EQ(conn[0]["to"].s(), "sock:tcp:127.0.0.1:9");
	EXPECT_EQ(g.nodes[conn[0]["to"].s()]["port"].i(), 9);
	EXPECT_EQ(conn[0]["outcome"].s(), "allowed");
	std::set<std::string> grandkids = g.children_of(c3);
	ASSERT_EQ(grandkids.size(), 1u) << "the actor's forked child";
	std::string c4 = *grandkids.begin();
	EXPECT_EQ(g.edges_of("open", c4, data_file).size(), 1u);
	EXPECT_TRUE(g.edges_of("exec", c4).empty()) << "the child did not exec";
	EXPECT_EQ(g.nodes[c4]["ppid"].i(), g.nodes[c3]["pid"].i());
	EXPECT_EQ(g.nodes[c4]["partial"].b, false);

	// The same history exported again names everything the same; a
	// selection keeps only the matching records (and their processes).
	run_result again = d.ctl({"export", "--provenance", "--path", data});
	ASSERT_EQ(again.exit_code, 0) << again.out;
	graph h = graph::parse(again.out);
	EXPECT_TRUE(h.problems.empty()) << ::testing::PrintToString(h.problems);
	EXPECT_EQ(h.edges_of("open", c1, data_file).size(), 1u) << "ids are stable across exports";
	EXPECT_EQ(h.edges_of("open", c4, data_file).size(), 1u);
	for (const auto &e : h.edges)
		EXPECT_TRUE(e["kind"].s() == "open" || e["kind"].s() == "fork") << e["kind"].s();

	// Errors are errors: no daemon, follow, and an unwritable output.
	EXPECT_NE(d.ctl({"export", "--provenance", "--output", "/proc/no/such/file"}).exit_code, 0);
	run_result nosock = run({ltrackctl_path(), "export", "--provenance", "--socket", t / "none.sock"});
	EXPECT_NE(nosock.exit_code, 0) << nosock.out;
}

} // namespace
