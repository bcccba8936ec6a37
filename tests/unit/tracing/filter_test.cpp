#include "filter.h"
#include "filter_expression.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <random>
#include <sys/socket.h>

using namespace ltrack::tracing;

namespace {

bool eval(const std::string &text, const decision_record &r)
{
	expression_parse p = parse_filter_expression(text);
	EXPECT_TRUE(p.expr) << text << ": " << p.error;
	return p.expr && evaluate(*p.expr, r);
}

std::string error_of(const std::string &text)
{
	expression_parse p = parse_filter_expression(text);
	EXPECT_FALSE(p.expr) << text;
	return p.error;
}

decision_record redis_connect(const char *addr, uint16_t port)
{
	decision_record r = test_records::connect(LTRACK_OUT_DENIED, AF_INET, addr, port);
	r.process.mut().container.name = "redis-cache";
	return r;
}

} // namespace

TEST(prefix, parse_and_contain)
{
	auto p = parse_prefix("10.0.0.0/8");
	ASSERT_TRUE(p);
	EXPECT_EQ(p->bits, 104u);
	EXPECT_TRUE(prefix_contains(*p, redis_connect("10.200.1.1", 80).addr));
	EXPECT_FALSE(prefix_contains(*p, redis_connect("11.0.0.1", 80).addr));
	p = parse_prefix("2001:db8::/32");
	ASSERT_TRUE(p);
	EXPECT_TRUE(prefix_contains(*p, test_records::connect(LTRACK_OUT_DENIED, AF_INET6, "2001:db8:1::5", 1).addr));
	EXPECT_FALSE(prefix_contains(*p, test_records::connect(LTRACK_OUT_DENIED, AF_INET6, "2001:db9::5", 1).addr));
	p = parse_prefix("10.1.2.3");
	ASSERT_TRUE(p);
	EXPECT_EQ(p->bits, 128u);
	p = parse_prefix("0.0.0.0/0");
	ASSERT_TRUE(p);
	EXPECT_TRUE(prefix_contains(*p, redis_connect("8.8.8.8", 53).addr));
	EXPECT_FALSE(prefix_contains(*p, test_records::connect(LTRACK_OUT_DENIED, AF_INET6, "2001:db8::1", 1).addr))
		<< "an IPv4 prefix never matches a native IPv6 address";

	auto why = [](std::string_view text) {
		auto r = parse_prefix(text);
		return r.ok() ? std::string("accepted") : r.failure().error;
	};
	EXPECT_EQ(why("10.0.0.1/8"), "\"10.0.0.1/8\" has host bits set below the prefix length");
	EXPECT_EQ(why("10.0.0.0/33"), "prefix length /33 is over 32 for IPv4 address 10.0.0.0");
	EXPECT_EQ(why("redis"), "\"redis\" is not an IPv4 or IPv6 address");
	EXPECT_EQ(why("10.0.0.0/"), "\"10.0.0.0/\" has no valid prefix length after '/'");
}

TEST(event_filter, options)
{
	decision_record file = test_records::file_denial();
	decision_record net = redis_connect("10.1.2.3", 6379);
	event_filter f;
	EXPECT_TRUE(matches(f, file));

	f.profile = "inference";
	EXPECT_TRUE(matches(f, file));
	f.profile = "other";
	EXPECT_FALSE(matches(f, file));

	f = {};
	f.action = "deny";
	EXPECT_TRUE(matches(f, file));
	f.action = "denied";
	EXPECT_TRUE(matches(f, file));
	f.action = "killed";
	EXPECT_FALSE(matches(f, file));

	f = {};
	f.min_severity = severity::critical;
	EXPECT_TRUE(matches(f, file));
	EXPECT_FALSE(matches(f, test_records::model_refusal()));

	f = {};
	f.pid = 4242;
	EXPECT_TRUE(matches(f, file));
	f.pid = 1;
	EXPECT_FALSE(matches(f, file));

	f = {};
	f.exe_substring = "python";
	EXPECT_TRUE(matches(f, file));
	f.exe_substring = "java";
	EXPECT_FALSE(matches(f, file));

	f = {};
	f.path_prefix = "/etc";
	EXPECT_TRUE(matches(f, file));
	f.path_prefix = "/et";
	EXPECT_FALSE(matches(f, file)) << "prefixes match whole components";
	EXPECT_FALSE(matches(f, net));

	f = {};
	f.dest = *parse_prefix("10.0.0.0/8");
	EXPECT_TRUE(matches(f, net));
	EXPECT_FALSE(matches(f, file));
	f.port = 6379;
	EXPECT_TRUE(matches(f, net));
	f.port = 80;
	EXPECT_FALSE(matches(f, net));

	f = {};
	f.container = "4f3c";
	EXPECT_TRUE(matches(f, file));
	f.container = "redis";
	EXPECT_TRUE(matches(f, net));
	EXPECT_FALSE(matches(f, file));
	f.container = "docker";
	EXPECT_TRUE(matches(f, file));

	f = {};
	f.expression = parse_filter_expression("hook=net").expr;
	EXPECT_TRUE(matches(f, net));
	EXPECT_FALSE(matches(f, file));
}

TEST(filter_expression, the_documented_example)
{
	const std::string ex = R"(dport=80 && dip="10.0.0.0/8"; container="redis")";
	EXPECT_TRUE(eval(ex, redis_connect("10.1.2.3", 80)));
	EXPECT_TRUE(eval(ex, redis_connect("192.168.1.1", 6379))) << "redis container";
	decision_record plain = test_records::connect(LTRACK_OUT_DENIED, AF_INET, "10.9.9.9", 80);
	EXPECT_TRUE(eval(ex, plain));
	plain = test_records::connect(LTRACK_OUT_DENIED, AF_INET, "11.9.9.9", 80);
	EXPECT_FALSE(eval(ex, plain));
	EXPECT_FALSE(eval(ex, test_records::file_denial()));
}

TEST(filter_expression, precedence_and_negation)
{
	decision_record r = test_records::file_denial();
	EXPECT_TRUE(eval("hook=net || hook=file && pid=4242", r));
	EXPECT_FALSE(eval("(hook=net || hook=file) && pid=1", r));
	EXPECT_TRUE(eval("hook=file && pid=1 || uid=1000", r)) << "&& binds tighter than ||";
	EXPECT_TRUE(eval("!hook=net", r));
	EXPECT_FALSE(eval("!!hook=net", r));
	EXPECT_TRUE(eval("!(hook=net ; pid=1)", r));
	EXPECT_TRUE(eval("  hook == file  ", r));
}

TEST(filter_expression, fields)
{
	decision_record r = test_records::file_denial();
	decision_record n = redis_connect("10.1.2.3", 443);
	EXPECT_TRUE(eval("pid=4242", r));
	EXPECT_TRUE(eval("pid>4000 && pid<=4242", r));
	EXPECT_FALSE(eval("pid>4242", r));
	EXPECT_TRUE(eval("uid!=0", r));
	EXPECT_TRUE(eval("dport=443", n));
	EXPECT_TRUE(eval("dport>=443 && dport<1024", n));
	EXPECT_FALSE(eval("dport=443", r)) << "a file decision has no port";
	EXPECT_TRUE(eval("dport!=443", r));
	EXPECT_TRUE(eval("dip=10.1.2.3", n));
	EXPECT_TRUE(eval("dip!=192.168.0.0/16", n));
	EXPECT_TRUE(eval("keyword=serve.py", r));
	EXPECT_TRUE(eval("keyword=python3.11", r));
	EXPECT_FALSE(eval("keyword=java", r));
	EXPECT_TRUE(eval("container=4f3c9a", r));
	EXPECT_TRUE(eval("container=redis", n));
	EXPECT_TRUE(eval("profile=inference && profile!=batch", r));
	EXPECT_TRUE(eval("profile=3", r));
	EXPECT_TRUE(eval("action=deny && action=denied && outcome=denied", r));
	EXPECT_TRUE(eval("path=/etc", r));
	EXPECT_TRUE(eval("path=\"/etc/shadow\"", r));
	EXPECT_FALSE(eval("path=/etc/shad", r));
	EXPECT_TRUE(eval("severity=warn", r)) << "severity= means at least";
	EXPECT_TRUE(eval("severity>=critical", r));
	EXPECT_FALSE(eval("severity!=warn", r));
	EXPECT_TRUE(eval("severity=critical", r));
	decision_record m = test_records::model_refusal();
	EXPECT_FALSE(eval("severity=critical", m));
	EXPECT_TRUE(eval("severity<critical && hook=model", m));
}

TEST(filter_expression, quoted_strings)
{
	decision_record r = test_records::file_denial();
	r.path = "/srv/a \"b\"\\c";
	EXPECT_TRUE(eval(R"(path="/srv/a \"b\"\\c")", r));
	r.process.mut().cmdline = "run && then || ;";
	EXPECT_TRUE(eval(R"(keyword="&& then ||")", r));
}

TEST(filter_expression, errors_say_where_and_what)
{
	EXPECT_EQ(error_of(""), "column 1: expected a field name, '!' or '(', found end of expression");
	EXPECT_EQ(error_of("dport=80 &&"), "column 12: expected a field name, '!' or '(', found end of expression");
	EXPECT_EQ(error_of("dprt=80"), "column 1: unknown field \"dprt\"; known fields: action, container, dip, "
				       "dport, hook, keyword, outcome, path, pid, profile, severity, uid");
	EXPECT_EQ(error_of("sport=22"), "column 1: field \"sport\" is not recorded: connect decisions carry only the "
					"destination; known fields: action, container, dip, dport, hook, keyword, "
					"outcome, path, pid, profile, severity, uid");
	EXPECT_EQ(error_of("dport 80"),
		  "column 7: expected a comparison (=, !=, <, <=, >, >=) after \"dport\", found \"80\"");
	EXPECT_EQ(error_of("dport="), "column 7: expected a value after '=', found end of expression");
	EXPECT_EQ(error_of("dport=http"), "column 7: dport wants a port number 0-65535, found \"http\"");
	EXPECT_EQ(error_of("dport=70000"), "column 7: dport wants a port number 0-65535, found \"70000\"");
	EXPECT_EQ(error_of("dip=\"10.0.0.1/8\""), "column 5: dip wants an address or CIDR (\"10.0.0.1/8\" has host "
						  "bits set below the prefix length), found string \"10.0.0.1/8\"");
	EXPECT_EQ(error_of("dip<10.0.0.0/8"), "column 4: dip supports only = and !=, found '<'");
	EXPECT_EQ(error_of("(hook=net"),
		  "column 10: expected ')' to close the '(' at column 1, found end of expression");
	EXPECT_EQ(error_of("hook=net)"), "column 9: expected '&&', '||', ';' or end of expression, found ')'");
	EXPECT_EQ(error_of("hook=net & pid=1"), "column 10: expected '&&', '||', ';' or end of expression, found '&'");
	EXPECT_EQ(error_of("hook=net | pid=1"), "column 10: expected '&&', '||', ';' or end of expression, found '|'");
	EXPECT_EQ(
		error_of("hook=sock"),
		"column 6: hook wants file, exec, net, model, priv, socket, link, mount, tamper or python, found \"sock\"");
	EXPECT_EQ(error_of("action=block"), "column 8: action wants an action (allow, audit, deny, kill) or an outcome "
					    "(allowed, audited, would_deny, denied, killed), found \"block\"");
	EXPECT_EQ(error_of("severity=loud"), "column 10: severity wants info, warn or critical, found \"loud\"");
	EXPECT_EQ(error_of("path=\"/tmp"), "column 6: unterminated string; close it with '\"'");
	EXPECT_EQ(error_of("pid=1 pid=2"), "column 7: expected '&&', '||', ';' or end of expression, found \"pid\"");
	EXPECT_EQ(error_of("&& pid=1"), "column 1: expected a field name, '!' or '(', found '&&'");
	EXPECT_EQ(error_of("pid=1;;"), "column 7: expected a field name, '!' or '(', found ';'");
	EXPECT_EQ(error_of("path="), "column 6: expected a value after '=', found end of expression");
	EXPECT_EQ(error_of("path=\"\""), "column 6: path wants a non-empty value, found string \"\"");

	expression_parse p = parse_filter_expression("pid=1 && (hook=x)");
	EXPECT_EQ(p.column, 16u);
}

TEST(filter_expression, nesting_is_bounded)
{
	std::string deep(10000, '(');
	EXPECT_EQ(error_of(deep), "column 65: expression nested deeper than 64 levels");
	std::string nots(10000, '!');
	EXPECT_EQ(error_of(nots + "pid=1"), "column 65: expression nested deeper than 64 levels");
	std::string ok = std::string(63, '(') + "pid=4242" + std::string(63, ')');
	EXPECT_TRUE(eval(ok, test_records::file_denial()));
	// Long flat chains are not nesting.
	std::string chain = "pid=4242";
	for (int i = 0; i < 5000; ++i)
		chain += " && uid=1000";
	EXPECT_TRUE(eval(chain, test_records::file_denial()));
}

TEST(filter_expression, garbage_never_crashes)
{
	decision_record r = test_records::file_denial();
	const std::string alphabet = "()!&|;=<>\" \\ab0.:/-\x01\xff";
	std::mt19937 rng(12345);
	for (int i = 0; i < 20000; ++i) {
		std::string s;
		size_t len = rng() % 40;
		for (size_t k = 0; k < len; ++k)
			s += alphabet[rng() % alphabet.size()];
		if (rng() % 3 == 0)
			s = "pid" + s;
		expression_parse p = parse_filter_expression(s);
		if (p.expr) {
			evaluate(*p.expr, r);
			EXPECT_TRUE(p.error.empty());
		} else {
			EXPECT_TRUE(p.error.starts_with("column ")) << s;
			EXPECT_GE(p.column, 1u);
			EXPECT_LE(p.column, s.size() + 1);
		}
	}
	for (const char *s :
	     {"\"", "\\", "!", "(", ")", "=", "!=", "a=\"\\", "a=\"\\\"", "pid=\"1", "pid=-1", "pid=1e3"}) {
		expression_parse p = parse_filter_expression(s);
		EXPECT_FALSE(p.expr) << s;
	}
}
