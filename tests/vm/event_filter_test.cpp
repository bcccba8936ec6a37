// `ltrackctl events --filter` from the outside: real decisions of a governed
// process, and an expression (dport and a dip CIDR, or a keyword) returns
// exactly the matching ones; a bad expression exits non-zero naming its
// column. The destinations are loopback addresses: nothing leaves the guest.
#include "support.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using namespace ltrack::vmtest;

namespace {

std::vector<json> json_lines(const std::string &text)
{
	std::vector<json> out;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);)
		if (!line.empty() && line[0] == '{')
			out.push_back(json::parse(line));
	return out;
}

TEST(EventFilter, ExpressionReturnsExactlyTheMatchingDecisions)
{
	temp_dir t;
	std::string marker = t / "keyword-marker-7f3a";
	write_file(marker, "m");
	write_file(t / "plain", "p");
	ltrackd d("mode = \"enforce\"\n[profile.worker]\nexecutables = [\"" + actor_path() +
		  "\"]\n"
		  "[profile.worker.file]\nrules = [ { action = \"audit\", dir = \"" +
		  t.path +
		  "\" } ]\n"
		  "[profile.worker.network]\nrules = [ { action = \"audit\", to = \"loopback\" } ]\n");
	ASSERT_TRUE(d.start()) << d.output();

	// Four connects (nothing listens: ECONNREFUSED after the decision) and
	// two opens; each is an "audited" decision.
	struct dest {
		const char *addr, *port;
	};
	std::vector<int> pids;
	for (dest x :
	     {dest{"127.1.2.3", "80"}, dest{"127.0.0.1", "80"}, dest{"127.1.2.3", "443"}, dest{"127.2.0.1", "80"}})
		pids.push_back(actor({"connect", x.addr, x.port, "tcp"}).pid);
	int keyword_pid = actor({"open", marker}).pid;
	int plain_pid = actor({"open", t / "plain"}).pid;
	ASSERT_EQ(d.wait_for(decision_for(plain_pid, "file", "audited")).kind, json::object_v)
		<< read_file(d.log_path());
	ASSERT_EQ(d.wait_for(decision_for(pids[3], "net", "audited")).kind, json::object_v) << read_file(d.log_path());

	auto shown = [&](const std::string &expr) {
		run_result r = d.ctl({"events", "--format", "json", "--filter", expr});
		EXPECT_EQ(r.exit_code, 0) << expr << ": " << r.out;
		std::multiset<long long> out;
		for (const auto &j : json_lines(r.out))
			out.insert(j["process"]["pid"].i());
		return out;
	};
	using pids_t = std::multiset<long long>;
	// dport and a CIDR together, or a keyword of the command line.
	EXPECT_EQ(shown("dport=80 && dip=\"127.1.0.0/16\"; keyword=\"keyword-marker-7f3a\""),
		  (pids_t{pids[0], keyword_pid}));
	EXPECT_EQ(shown("dip=\"127.0.0.0/8\" && dport != 443"), (pids_t{pids[0], pids[1], pids[3]}));
	EXPECT_EQ(shown("dip=\"127.1.2.3\""), (pids_t{pids[0], pids[2]})) << "a bare address is a /32";
	EXPECT_EQ(shown("!(hook=net) && path=\"" + t.path + "\""), (pids_t{keyword_pid, plain_pid}));
	EXPECT_EQ(shown("(dport=80 || dport=443) && dip=\"127.2.0.0/16\""), (pids_t{pids[3]}));
	EXPECT_EQ(shown("dport=81"), pids_t{});
	// Filters and options combine (all must match).
	run_result both =
		d.ctl({"events", "--format", "json", "--pid", std::to_string(pids[1]), "--filter", "dport=80"});
	ASSERT_EQ(json_lines(both.out).size(), 1u) << both.out;

	// A bad expression: non-zero exit, the column, nothing else printed.
	run_result bad = d.ctl({"events", "--filter", "dport=80 &&& dip=\"127.0.0.0/8\""});
	EXPECT_NE(bad.exit_code, 0) << bad.out;
	EXPECT_NE(bad.out.find("--filter: column 12: "), std::string::npos) << bad.out;
	EXPECT_TRUE(json_lines(bad.out).empty()) << bad.out;
	run_result cidr = d.ctl({"events", "--filter", "dip=\"127.0.0.1/8\""});
	EXPECT_NE(cidr.exit_code, 0) << cidr.out;
	EXPECT_NE(cidr.out.find("column 5"), std::string::npos) << cidr.out;
	run_result field = d.ctl({"events", "--filter", "dport=80 && sprt=1"});
	EXPECT_NE(field.exit_code, 0) << field.out;
	EXPECT_NE(field.out.find("column 13: unknown field \"sprt\""), std::string::npos) << field.out;
}

} // namespace
