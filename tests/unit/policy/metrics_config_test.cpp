// [metrics]: where the endpoint listens and the textfile goes, refused with
// file:line:column when it would expose the metrics or cannot work.
#include "policy.h"

#include <gtest/gtest.h>

using namespace ltrack::policy;

namespace {

compile_result with_metrics(const std::string &body)
{
	return compile_string("mode = \"audit\"\n[metrics]\n" + body + "\n[profile.a]\nall = true\n", "m.toml");
}

std::string errors_of(const std::string &body)
{
	compile_result r = with_metrics(body);
	EXPECT_FALSE(r.ok()) << body;
	return format_all(r.diagnostics);
}

TEST(MetricsConfig, AbsentIsOff)
{
	compile_result r = compile_string("mode = \"audit\"\n[profile.a]\nall = true\n", "m.toml");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_TRUE(r.policy->metrics.listen.empty());
	EXPECT_TRUE(r.policy->metrics.textfile.empty());
}

TEST(MetricsConfig, LoopbackListenAndTextfile)
{
	compile_result r =
		with_metrics("listen = \"127.0.0.1:9464\"\ntextfile = "
			     "\"/var/lib/prometheus/node-exporter/ltrack.prom\"\ntextfile_interval = \"30s\"");
	ASSERT_TRUE(r.ok()) << format_all(r.diagnostics);
	EXPECT_EQ(r.policy->metrics.listen, "127.0.0.1:9464");
	EXPECT_EQ(r.policy->metrics.textfile, "/var/lib/prometheus/node-exporter/ltrack.prom");
	EXPECT_EQ(r.policy->metrics.textfile_interval_s, 30u);
	for (const char *ok : {"[::1]:9464", "127.1.2.3:1", "[::ffff:127.0.0.1]:65535"}) {
		compile_result o = with_metrics(std::string("listen = \"") + ok + "\"");
		EXPECT_TRUE(o.ok()) << ok << ": " << format_all(o.diagnostics);
	}
	compile_result t = with_metrics("textfile = \"/x/ltrack.prom\"");
	ASSERT_TRUE(t.ok());
	EXPECT_EQ(t.policy->metrics.textfile_interval_s, 15u) << "the default interval";
}

TEST(MetricsConfig, ANonLocalAddressNeedsAllowRemote)
{
	for (const char *addr : {"0.0.0.0:9464", "10.1.2.3:9464", "[::]:9464", "[2001:db8::1]:9464"}) {
		std::string e = errors_of(std::string("listen = \"") + addr + "\"");
		EXPECT_NE(e.find("m.toml:3:10: error: metrics.listen"), std::string::npos) << e;
		EXPECT_NE(e.find("not a loopback address"), std::string::npos) << e;
		compile_result r = with_metrics(std::string("listen = \"") + addr + "\"\nallow_remote = true");
		EXPECT_TRUE(r.ok()) << addr << ": " << format_all(r.diagnostics);
	}
}

TEST(MetricsConfig, BadValuesNameTheKeyAndPosition)
{
	struct bad {
		const char *body, *where, *says;
	} cases[] = {
		{"listen = \"localhost:9464\"", "m.toml:3:10: error: metrics.listen", "host names are not resolved"},
		{"listen = \"127.0.0.1\"", "m.toml:3:10: error: metrics.listen", "ADDR:PORT"},
		{"listen = \"127.0.0.1:0\"", "m.toml:3:10: error: metrics.listen", "1-65535"},
		{"listen = \"127.0.0.1:65536\"", "m.toml:3:10: error: metrics.listen", "1-65535"},
		{"listen = \"127.0.0.1:94x\"", "m.toml:3:10: error: metrics.listen", "1-65535"},
		{"listen = \"::1:9464\"", "m.toml:3:10: error: metrics.listen", "ADDR:PORT"},
		{"listen = \"[::1]9464\"", "m.toml:3:10: error: metrics.listen", "[ADDR]:PORT"},
		{"listen = \"127.0.0.1:9464\\nx\"", "m.toml:3:10: error: metrics.listen", "1-65535"},
		{"listen = 9464", "m.toml:3:10: error: metrics.listen", "string"},
		{"textfile = \"ltrack.prom\"", "m.toml:3:12: error: metrics.textfile", "absolute"},
		{"textfile = \"/var/lib/x/ltrack.txt\"", "m.toml:3:12: error: metrics.textfile", ".prom"},
		{"textfile = \"/var/lib/x/.prom\"", "m.toml:3:12: error: metrics.textfile", ".prom"},
		{"textfile = \"/x.prom\"\ntextfile_interval = \"0\"", "m.toml:4:21: error: metrics.textfile_interval",
		 "at least 1s"},
		{"textfile = \"/x.prom\"\ntextfile_interval = \"1d\"", "m.toml:4:21: error: metrics.textfile_interval",
		 "duration"},
		{"listen = \"127.0.0.1:9464\"\nallow_remote = \"yes\"", "m.toml:4:16: error: metrics.allow_remote", ""},
		{"listen = \"127.0.0.1:9464\"\nport = 1", "m.toml:4:1: error:", "port"},
		{"allow_remote = true\ntextfile = \"/x.prom\"", "error: metrics.allow_remote goes with listen", ""},
		{"", "m.toml:2:1: error: [metrics] needs listen", ""},
	};
	for (const auto &c : cases) {
		std::string e = errors_of(c.body);
		EXPECT_NE(e.find(c.where), std::string::npos) << c.body << "\n" << e;
		EXPECT_NE(e.find(c.says), std::string::npos) << c.body << "\n" << e;
	}
}

} // namespace
