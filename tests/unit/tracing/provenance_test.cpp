// The provenance graph builder: stable ids, every node once and before the
// edges that name it, fork edges from the parent info, folded edges.
#include "provenance.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

std::string field(const std::string &line, const std::string &key)
{
	std::smatch m;
	std::regex re("\"" + key + "\":(\"((\\\\.|[^\"\\\\])*)\"|[0-9a-z]+)");
	if (!std::regex_search(line, m, re))
		return "<absent>";
	return m[2].matched ? m[2].str() : m[1].str();
}

struct graph {
	std::map<std::string, std::string> nodes; // id -> line
	std::vector<std::string> edges;
	std::vector<std::string> errors;

	explicit graph(const std::vector<std::string> &lines)
	{
		for (const auto &l : lines) {
			if (field(l, "type") == "node") {
				if (!nodes.emplace(field(l, "id"), l).second)
					errors.push_back("node twice: " + l);
				if (!edges.empty())
					errors.push_back("node after an edge: " + l);
			} else if (field(l, "type") == "edge") {
				for (const char *end : {"from", "to"})
					if (!nodes.count(field(l, end)))
						errors.push_back(std::string(end) + " names no earlier node: " + l);
				edges.push_back(l);
			} else {
				errors.push_back("neither node nor edge: " + l);
			}
		}
	}
	std::vector<std::string> edges_of(const std::string &kind) const
	{
		std::vector<std::string> out;
		for (const auto &e : edges)
			if (field(e, "kind") == kind)
				out.push_back(e);
		return out;
	}
};

decision_record exec_by_parent()
{
	ltrack_event ev = file_event();
	ev.pid = ev.tid = 4000;
	ev.ppid = 1;
	ev.hook = LTRACK_HOOK_EXEC;
	std::strcpy(ev.path, "/usr/bin/python3.11");
	ev.ino = 99;
	process_info p = python_process();
	p.pid = 4000;
	p.ppid = 1;
	p.exe = "/usr/bin/bash";
	p.start_boot_ns = 50;
	p.ancestry = {{1, "/sbin/init"}};
	return make_record(ev, p, {}, {}, 1, offset_2023);
}

TEST(Provenance, IdsAreStableAndDistinct)
{
	EXPECT_EQ(process_node_id("b1", 42, 7), process_node_id("b1", 42, 7));
	EXPECT_NE(process_node_id("b1", 42, 7), process_node_id("b2", 42, 7)) << "another boot";
	EXPECT_NE(process_node_id("b1", 42, 7), process_node_id("b1", 42, 8)) << "pid reused";
	EXPECT_NE(process_node_id("b1", 42, 7), process_node_id("b1", 43, 7));
	EXPECT_TRUE(std::regex_match(process_node_id("b1", 42, 7), std::regex("proc:[0-9a-f]{16}")));

	decision_record f = file_denial();
	EXPECT_EQ(file_node_id(f), "file:8:1:1234");
	f.ino = 0;
	EXPECT_EQ(file_node_id(f), "path:/etc/shadow");
	EXPECT_EQ(socket_node_id(connect(LTRACK_OUT_DENIED, AF_INET, "10.1.2.3", 80)), "sock:tcp:10.1.2.3:80");
	EXPECT_EQ(socket_node_id(connect(LTRACK_OUT_DENIED, AF_INET6, "2001:db8::1", 443)),
		  "sock:tcp:[2001:db8::1]:443");
}

TEST(Provenance, ForkExecOpenConnectEachNodeOnce)
{
	decision_record open1 = file_denial(), open2 = file_denial();
	open2.time = "2023-11-14T22:13:21.000000000Z";
	std::vector<decision_record> recs{exec_by_parent(), open1, open2,
					  connect(LTRACK_OUT_DENIED, AF_INET, "10.1.2.3", 80)};
	provenance_options opt;
	opt.boot_id = "boot-a";
	graph g(provenance_graph(recs, opt));
	EXPECT_TRUE(g.errors.empty()) << ::testing::PrintToString(g.errors);

	std::string parent = process_node_id("boot-a", 4000, 50), child = process_node_id("boot-a", 4242, 100);
	std::string init = process_node_id("boot-a", 1, 0);
	// bash, python, init (parent of bash, from the ancestry), two files, a socket.
	EXPECT_EQ(g.nodes.size(), 6u) << ::testing::PrintToString(g.nodes);
	ASSERT_TRUE(g.nodes.count(child));
	EXPECT_EQ(field(g.nodes[child], "exe"), "/usr/bin/python3.11");
	EXPECT_EQ(field(g.nodes[child], "cmdline"), "python3 serve.py --port 8080");
	EXPECT_EQ(field(g.nodes[child], "partial"), "false");
	EXPECT_EQ(field(g.nodes[init], "partial"), "true") << "known only as bash's parent";
	EXPECT_EQ(field(g.nodes[init], "exe"), "/sbin/init");
	EXPECT_EQ(field(g.nodes["sock:tcp:10.1.2.3:80"], "kind"), "socket");

	auto forks = g.edges_of("fork");
	ASSERT_EQ(forks.size(), 2u) << ::testing::PrintToString(g.edges);
	std::set<std::pair<std::string, std::string>> fork_ends;
	for (const auto &f : forks)
		fork_ends.insert({field(f, "from"), field(f, "to")});
	EXPECT_TRUE(fork_ends.count({parent, child}));
	EXPECT_TRUE(fork_ends.count({init, parent}));

	auto execs = g.edges_of("exec");
	ASSERT_EQ(execs.size(), 1u);
	EXPECT_EQ(field(execs[0], "from"), parent);
	EXPECT_EQ(field(execs[0], "to"), "file:8:1:99");

	auto opens = g.edges_of("open");
	ASSERT_EQ(opens.size(), 1u) << "the two identical opens fold into one edge";
	EXPECT_EQ(field(opens[0], "from"), child);
	EXPECT_EQ(field(opens[0], "to"), "file:8:1:1234");
	EXPECT_EQ(field(opens[0], "count"), "2");
	EXPECT_EQ(field(opens[0], "outcome"), "denied");
	EXPECT_EQ(field(opens[0], "rule"), "/etc/ltrack/policy.toml:40");
	EXPECT_NE(field(opens[0], "first_time"), field(opens[0], "last_time"));

	auto conns = g.edges_of("connect");
	ASSERT_EQ(conns.size(), 1u);
	EXPECT_EQ(field(conns[0], "from"), child);
	EXPECT_EQ(field(conns[0], "to"), "sock:tcp:10.1.2.3:80");
}

TEST(Provenance, UnseenParentIsDatedByTheLookupAndPidReuseIsTwoNodes)
{
	decision_record a = file_denial(), b = file_denial();
	b.process.mut().start_boot_ns = 900; // the same pid, a later process
	provenance_options opt;
	opt.boot_id = "boot-a";
	std::vector<std::pair<uint32_t, uint64_t>> asked;
	opt.start_of = [&](uint32_t pid, uint64_t at) {
		asked.push_back({pid, at});
		return pid == 4000 ? uint64_t(40) : uint64_t(0);
	};
	graph g(provenance_graph({a, b}, opt));
	EXPECT_TRUE(g.errors.empty()) << ::testing::PrintToString(g.errors);
	std::string first = process_node_id("boot-a", 4242, 100), second = process_node_id("boot-a", 4242, 900);
	std::string bash = process_node_id("boot-a", 4000, 40);
	ASSERT_TRUE(g.nodes.count(first) && g.nodes.count(second) && g.nodes.count(bash))
		<< ::testing::PrintToString(g.nodes);
	EXPECT_EQ(field(g.nodes[bash], "exe"), "/usr/bin/bash") << "named from the ancestry";
	EXPECT_EQ(g.edges_of("open").size(), 2u) << "one per process";
	std::set<std::string> children;
	for (const auto &f : g.edges_of("fork"))
		if (field(f, "from") == bash)
			children.insert(field(f, "to"));
	EXPECT_EQ(children, (std::set<std::string>{first, second}));
	ASSERT_FALSE(asked.empty());
	EXPECT_EQ(asked.front(), (std::pair<uint32_t, uint64_t>{4000, 100})) << "the parent at the child's start";
}

TEST(Provenance, RecordsWithoutAnObjectGiveOnlyTheirProcess)
{
	decision_record r = file_denial();
	r.hook = LTRACK_HOOK_PRIV;
	graph g(provenance_graph({r}, {}));
	EXPECT_TRUE(g.errors.empty()) << ::testing::PrintToString(g.errors);
	for (const auto &[id, line] : g.nodes)
		EXPECT_EQ(field(line, "kind"), "process") << line;
	for (const auto &e : g.edges)
		EXPECT_EQ(field(e, "kind"), "fork") << e;
	EXPECT_TRUE(g.nodes.count(process_node_id("", 4242, 100)));
}

TEST(Provenance, NoRecordsNoGraph)
{
	EXPECT_TRUE(provenance_graph({}, {}).empty());
}

} // namespace
