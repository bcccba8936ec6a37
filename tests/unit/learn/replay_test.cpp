// Replay: recorded decisions through the policy evaluator against a
// candidate, with counts; what cannot be replayed is said, never dropped.
#include "learn_fixture.h"

#include "learn.h"
#include "policy.h"

#include <gtest/gtest.h>

using namespace ltrack;
using namespace learn_test;

namespace {

policy::compiled_policy candidate(const std::string &text)
{
	policy::compile_options o;
	o.resolve_paths = false;
	auto c = policy::compile_string(text, "candidate.toml", o);
	EXPECT_TRUE(c.ok()) << policy::format_all(c.diagnostics);
	return *c.policy;
}

const std::string cand = R"(mode = "enforce"
[profile.work]
all = true
[profile.work.file]
default = "deny"
rules = [{ action = "allow", dir = "/srv/app" }]
[profile.work.exec]
default = "kill"
rules = [{ action = "allow", file = "/usr/bin/id" }]
[profile.work.network]
default = "deny"
rules = [{ action = "allow", to = "loopback", ports = 8080, proto = "tcp" }]
)";

} // namespace

TEST(replay, counts_what_the_candidate_would_refuse)
{
	learn::replayer rp;
	rp.add(rec("file", "/srv/app/a.txt", "would_deny", "", 3));
	rp.add(rec("file", "/srv/app/a.txt", "would_deny", "", 2)); // the same decision again
	rp.add(rec("file", "/srv/other/b.txt", "would_deny", "", 4));
	rp.add(rec("exec", "/usr/bin/id"));
	rp.add(rec("exec", "/usr/bin/curl", "would_deny", "", 2));
	rp.add(rec("net", "127.0.0.1 8080 tcp"));
	rp.add(rec("net", "127.0.0.1 9090 tcp"));
	rp.add(rec("socket", "packet/raw/"));
	rp.add(rec("file", "/srv/app/x", "would_deny", "", 1, "gone"));
	decision_record partial = rec("file", "y.txt");
	partial.path_partial = true;
	rp.add(partial);
	decision_record priv = rec("priv", "");
	priv.cred_op = "setuid";
	rp.add(priv);
	auto r = rp.run(candidate(cand), policy::resolve_synthetic);
	EXPECT_EQ(r.records, 11u);
	EXPECT_EQ(r.decisions, 18u);
	ASSERT_EQ(r.refused.size(), 4u) << learn::replay_text(r, "c");
	EXPECT_EQ(r.refused_decisions, 4u + 2u + 1u + 1u);
	std::string text = learn::replay_text(r, "candidate.toml");
	EXPECT_NE(text.find("killed exec /usr/bin/curl x2"), std::string::npos) << text;
	EXPECT_NE(text.find("denied file /srv/other/b.txt x4"), std::string::npos) << text;
	EXPECT_NE(text.find("denied net 127.0.0.1:9090/tcp x1"), std::string::npos) << text;
	EXPECT_NE(text.find("denied socket packet/raw"), std::string::npos) << text;
	EXPECT_EQ(text.find("a.txt"), std::string::npos) << text;
	ASSERT_EQ(r.not_replayed.size(), 3u);
	EXPECT_NE(text.find("no profile \"gone\""), std::string::npos) << text;
	EXPECT_NE(text.find("path_partial"), std::string::npos) << text;
	EXPECT_NE(text.find("priv setuid"), std::string::npos) << text;
	std::string json = learn::replay_json(r, "candidate.toml");
	EXPECT_NE(json.find("\"refused_decisions\":8"), std::string::npos) << json;
	EXPECT_NE(json.find("{\"profile\":\"work\",\"hook\":\"exec\",\"object\":\"/usr/bin/curl\",\"recorded_outcome\":"
			    "\"would_deny\",\"decisions\":2,\"records\":1,\"outcome\":\"killed\""),
		  std::string::npos)
		<< json;
}

TEST(replay, an_audit_candidate_reports_would_deny_and_nothing_refused_is_empty)
{
	learn::replayer rp;
	rp.add(rec("file", "/srv/other/b.txt"));
	std::string audit = cand;
	audit.replace(audit.find("enforce"), 7, "audit");
	auto r = rp.run(candidate(audit), policy::resolve_synthetic);
	ASSERT_EQ(r.refused.size(), 1u);
	EXPECT_EQ(r.refused[0].outcome, "would_deny");

	learn::replayer ok;
	ok.add(rec("file", "/srv/app/b.txt"));
	auto r2 = ok.run(candidate(cand), policy::resolve_synthetic);
	EXPECT_TRUE(r2.refused.empty());
	EXPECT_NE(learn::replay_text(r2, "c").find("nothing would be refused"), std::string::npos);
}
