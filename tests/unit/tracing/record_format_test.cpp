#include "record.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <sys/socket.h>

using namespace ltrack;
using namespace ltrack::tracing;

TEST(decode, names)
{
	EXPECT_EQ(hook_name(LTRACK_HOOK_FILE), "file");
	EXPECT_EQ(hook_name(LTRACK_HOOK_MODEL), "model");
	EXPECT_EQ(hook_name(LTRACK_HOOK_TAMPER), "tamper");
	EXPECT_EQ(hook_name(LTRACK_HOOK_PYTHON), "python");
	EXPECT_EQ(hook_name(LTRACK_HOOK_ANCESTOR + 1), "unknown(12)"); // ANCESTOR is named, though never in a record
	EXPECT_EQ(action_name(LTRACK_ACT_KILL), "kill");
	EXPECT_EQ(mode_name(LTRACK_MODE_AUDIT), "audit");
	EXPECT_EQ(outcome_name(LTRACK_OUT_WOULD_DENY), "would_deny");
	EXPECT_EQ(outcome_name(0), "unknown(0)");
	EXPECT_EQ(verdict_name(LTRACK_VERDICT_TRUSTED), "trusted");
	EXPECT_EQ(proto_name(6), "tcp");
	EXPECT_EQ(proto_name(17), "udp");
	EXPECT_EQ(proto_name(0), "");
	EXPECT_EQ(proto_name(99), "99");
	EXPECT_EQ(family_name(AF_INET6), "inet6");
	EXPECT_EQ(fs_op_name(LTRACK_FS_EXCHANGE), "exchange");
	EXPECT_EQ(fs_op_name(LTRACK_FS_NEW_SB), "new_instance");
	EXPECT_EQ(fs_op_name(LTRACK_FS_UNLINK), "unlink");
	EXPECT_EQ(fs_op_name(LTRACK_FS_RMDIR), "rmdir");
	EXPECT_EQ(fs_op_name(LTRACK_FS_REPLACE), "replace");
	EXPECT_EQ(fs_op_name(LTRACK_FS_REPLACE + 1), "unknown(15)");
}

TEST(decode, addresses_devices_times)
{
	uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	EXPECT_EQ(format_addr(v4, AF_INET), "10.1.2.3");
	EXPECT_EQ(format_addr(v4, 0), "10.1.2.3");
	EXPECT_EQ(format_addr(v4, AF_INET6), "::ffff:10.1.2.3");
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	EXPECT_EQ(format_addr(v6, AF_INET6), "2001:db8::1");

	EXPECT_EQ(format_dev((8ull << 20) | 1), "8:1");
	EXPECT_EQ(format_dev((259ull << 20) | 0xfffff), "259:1048575");

	EXPECT_EQ(format_rfc3339(123, 1700000000ll * 1000000000), "2023-11-14T22:13:20.000000123Z");
	EXPECT_EQ(format_rfc3339(1999999999, 0), "1970-01-01T00:00:01.999999999Z");
	// The offset from the real clocks gives a time near now.
	std::string now = format_rfc3339(boot_time_now_ns(), boot_to_realtime_offset_ns());
	time_t t = time(nullptr);
	tm utc{};
	gmtime_r(&t, &utc);
	char year[16];
	std::snprintf(year, sizeof year, "%04d-", utc.tm_year + 1900);
	EXPECT_TRUE(now.starts_with(year)) << now;
}

TEST(severity, from_outcome_and_names)
{
	EXPECT_EQ(severity_of_outcome(LTRACK_OUT_ALLOWED), severity::info);
	EXPECT_EQ(severity_of_outcome(LTRACK_OUT_AUDITED), severity::warn);
	EXPECT_EQ(severity_of_outcome(LTRACK_OUT_WOULD_DENY), severity::warn);
	EXPECT_EQ(severity_of_outcome(LTRACK_OUT_DENIED), severity::critical);
	EXPECT_EQ(severity_of_outcome(LTRACK_OUT_KILLED), severity::critical);
	EXPECT_EQ(parse_severity("debug"), severity::info);
	EXPECT_EQ(parse_severity("INFO"), severity::info);
	EXPECT_EQ(parse_severity("warning"), severity::warn);
	EXPECT_EQ(parse_severity("error"), severity::critical);
	EXPECT_EQ(parse_severity("critical"), severity::critical);
	EXPECT_EQ(parse_severity("loud"), std::nullopt);
	EXPECT_EQ(parse_severity(""), std::nullopt);
}

TEST(json, escaping_hostile_strings)
{
	auto esc = [](std::string_view s) {
		std::string out;
		json_escape(out, s);
		return out;
	};
	EXPECT_EQ(esc("a\"b\\c"), "a\\\"b\\\\c");
	EXPECT_EQ(esc("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
	EXPECT_EQ(esc(std::string("\x01\x1f\x7f", 3)), "\\u0001\\u001f\\u007f");
	EXPECT_EQ(esc(std::string("a\0b", 3)), "a\\u0000b");
	EXPECT_EQ(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	EXPECT_EQ(esc("\xff"), "\\ufffd");
	EXPECT_EQ(esc("\xc0\xaf"), "\\ufffd\\ufffd");                       // overlong '/'
	EXPECT_EQ(esc("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");            // surrogate
	EXPECT_EQ(esc("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd"); // above U+10FFFF
	EXPECT_EQ(esc("x\xe2\x82"), "x\\ufffd\\ufffd");                     // truncated
	EXPECT_EQ(esc("\xe2\x80\xa8\xe2\x80\xa9"), "\\u2028\\u2029");
}

TEST(text, escaping_hostile_strings)
{
	EXPECT_EQ(text_escape("/tmp/a b"), "/tmp/a b");
	EXPECT_EQ(text_escape("x\ny"), "x\\ny");
	EXPECT_EQ(text_escape("back\\slash"), "back\\\\slash");
	EXPECT_EQ(text_escape(std::string("\x1b[31m", 5)), "\\x1b[31m");
	EXPECT_EQ(text_escape("\xff\xfe"), "\\xff\\xfe");
	EXPECT_EQ(text_escape("caf\xc3\xa9"), "caf\xc3\xa9");
	EXPECT_EQ(text_escape("\xc2\x85"), "\\xc2\\x85"); // C1 NEL
	EXPECT_EQ(text_escape("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");
}

TEST(json, file_denial_exact_line)
{
	decision_record r = test_records::file_denial();
	EXPECT_EQ(
		format_json(r),
		R"({"type":"decision","time":"2023-11-14T22:13:20.000000123Z","host":)" + json_string(host_name()) +
			R"(,"ts_boot_ns":123,"severity":"critical",)"
			R"("hook":"file","action":"deny","mode":"enforce","outcome":"denied","count":1,"profile":"inference",)"
			R"("profile_id":3,"rule":{"id":12,"file":"/etc/ltrack/policy.toml","line":40,"column":5,)"
			R"("text":"deny = [\"/etc/shadow\"]"},"process":{"pid":4242,"tid":4243,"ppid":4000,"uid":1000,)"
			R"("gid":1000,"comm":"python3","exe":"/usr/bin/python3.11","cmdline":"python3 serve.py --port 8080",)"
			R"("cmdline_truncated":false,"start_boot_ns":100,"exited":false,"cgroup_id":777,)"
			R"("cgroup":"/system.slice/docker-4f3c9a1e2b7d.scope","container":{"runtime":"docker",)"
			R"("id":"4f3c9a1e2b7d","pod_uid":"","name":"","conmon":false},"unit":"",)"
			R"("ancestry":[{"pid":4000,"exe":"/usr/bin/bash"},{"pid":1,"exe":"/sbin/init"}]},)"
			R"("file":{"path":"/etc/shadow","path_partial":false,"dev":"8:1","ino":1234},"walk_limit":false})");
}

TEST(json, net_and_model_sections)
{
	decision_record n = test_records::connect(LTRACK_OUT_KILLED, AF_INET, "10.1.2.3", 443);
	std::string j = format_json(n);
	EXPECT_NE(j.find(R"("net":{"family":"inet","addr":"10.1.2.3","port":443,"proto":"tcp"})"), std::string::npos)
		<< j;
	EXPECT_EQ(j.find("\"file\":{\"path\""), std::string::npos);
	EXPECT_NE(j.find(R"("outcome":"killed")"), std::string::npos);

	decision_record m = test_records::model_refusal();
	j = format_json(m);
	EXPECT_NE(j.find(R"("model":{"verdict":"unsafe","imports":["os.system","builtins.eval"]})"), std::string::npos)
		<< j;
	EXPECT_NE(j.find(R"("severity":"warn")"), std::string::npos);
}

TEST(json, hostile_path_stays_one_valid_line)
{
	decision_record r = test_records::file_denial();
	r.path = "/tmp/evil\n{\"type\":\"decision\"}\x01\xff";
	r.process.mut().cmdline = "x\r\ny";
	r.comm = "a\"b";
	std::string j = format_json(r);
	EXPECT_EQ(j.find('\n'), std::string::npos);
	EXPECT_EQ(j.find('\r'), std::string::npos);
	EXPECT_NE(j.find(R"("path":"/tmp/evil\n{\"type\":\"decision\"}\u0001\ufffd")"), std::string::npos) << j;
	EXPECT_NE(j.find(R"("comm":"a\"b")"), std::string::npos);
}

TEST(text, one_line)
{
	decision_record r = test_records::file_denial();
	EXPECT_EQ(format_text(r),
		  "2023-11-14T22:13:20.000000123Z CRITICAL denied file /etc/shadow by /usr/bin/python3.11[4242] "
		  "(parent /usr/bin/bash[4000]) in docker:4f3c9a1e2b7d rule /etc/ltrack/policy.toml:40 "
		  "profile inference \"deny = [\\\"/etc/shadow\\\"]\"");
	decision_record n = test_records::connect(LTRACK_OUT_WOULD_DENY, AF_INET6, "2001:db8::1", 8080);
	n.count = 7;
	EXPECT_EQ(format_text(n),
		  "2023-11-14T22:13:20.000000123Z WARN would_deny net [2001:db8::1]:8080/tcp by "
		  "/usr/bin/python3.11[4242] (parent /usr/bin/bash[4000]) in docker:4f3c9a1e2b7d rule "
		  "/etc/ltrack/policy.toml:41 profile inference x7 \"connect.deny = [\\\"0.0.0.0/0\\\"]\"");
	r.path = "/tmp/a\nFAKE";
	EXPECT_EQ(format_text(r).find('\n'), std::string::npos);
}

TEST(table, fixed_columns)
{
	std::string h = format_table_header();
	std::string row = format_table(test_records::file_denial());
	EXPECT_EQ(h.find("RULE"), row.find("/etc/ltrack/policy.toml:40"));
	EXPECT_EQ(h.find("OBJECT"), row.find("/etc/shadow"));
	EXPECT_TRUE(row.starts_with("2023-11-14T22:13:20.000 critical denied     file  4242   "));
	decision_record r = test_records::file_denial();
	r.path = "/very/long/" + std::string(100, 'x') + "/model.pkl";
	row = format_table(r);
	EXPECT_EQ(h.find("RULE"), row.find("/etc/ltrack/policy.toml:40"));
	EXPECT_NE(row.find("...xxx"), std::string::npos);
	EXPECT_NE(row.find("/model.pkl "), std::string::npos);
}

TEST(record, make_record_decodes_event)
{
	ltrack_event ev = test_records::file_event();
	ev.flags = LTRACK_EV_PATH_PARTIAL | LTRACK_EV_WALK_LIMIT;
	process_info p;
	p.exe = "/usr/bin/python3.11";
	rule_origin rule{99, "inference", "/etc/ltrack/policy.toml", 40, 5, "deny"};
	decision_record r = make_record(ev, p, rule, {}, 0, 1700000000ll * 1000000000);
	EXPECT_EQ(r.rule.rule_id, 12u) << "the event's rule id wins";
	EXPECT_EQ(r.count, 1u);
	EXPECT_EQ(r.comm, "python3");
	EXPECT_EQ(r.path, "/etc/shadow");
	EXPECT_TRUE(r.path_partial);
	EXPECT_TRUE(r.walk_limit);
	EXPECT_EQ(r.dev, "8:1");
	EXPECT_EQ(r.level, severity::critical);

	// A comm and path filling their arrays without a NUL stay bounded.
	std::memset(ev.comm, 'c', sizeof ev.comm);
	std::memset(ev.path, 'p', sizeof ev.path);
	r = make_record(ev, p, rule, {}, 1, 0);
	EXPECT_EQ(r.comm.size(), sizeof ev.comm);
	EXPECT_EQ(r.path.size(), sizeof ev.path);
}

TEST(loss, formats)
{
	loss_record l;
	l.time = "2023-11-14T22:13:20.000000123Z";
	l.ts_boot_ns = 123;
	l.count = 17;
	EXPECT_EQ(format_json(l),
		  R"({"type":"loss","time":"2023-11-14T22:13:20.000000123Z","host":)" + json_string(host_name()) +
			  R"(,"ts_boot_ns":123,)"
			  R"("severity":"critical","source":"ring_buffer","count":17,"message":"17 decision )"
			  R"(records were dropped in the kernel: the ring buffer was full"})");
	l.source = loss_source::coalesced;
	EXPECT_EQ(format_text(l), "2023-11-14T22:13:20.000000123Z INFO loss coalesced 17 identical decisions were "
				  "coalesced into earlier records");
}

// A directory refused as the way to a rule's target (lsm/file.bpf.c,
// ancestor_of_target) says so; other link records do not carry the key.
TEST(json, link_record_of_an_ancestor)
{
	ltrack_event ev = test_records::file_event();
	ev.hook = LTRACK_HOOK_LINK;
	ev.cred_op = LTRACK_FS_RENAME;
	ev.flags = LTRACK_EV_ANCESTOR;
	std::strcpy(ev.path, "/srv/secret");
	decision_record r = make_record(ev, test_records::python_process(), {}, {}, 1, test_records::offset_2023);
	EXPECT_TRUE(r.ancestor);
	std::string j = format_json(r);
	EXPECT_NE(
		j.find(R"("file":{"path":"/srv/secret","path_partial":false,"dev":"8:1","ino":1234,"ancestor":true})"),
		std::string::npos)
		<< j;
	EXPECT_NE(j.find(R"("op":"rename")"), std::string::npos) << j;
	EXPECT_NE(format_text(r).find("rename /srv/secret (on the way to the rule's target)"), std::string::npos)
		<< format_text(r);
	ev.flags = 0;
	decision_record plain = make_record(ev, test_records::python_process(), {}, {}, 1, test_records::offset_2023);
	EXPECT_EQ(format_json(plain).find("ancestor"), std::string::npos) << format_json(plain);
}
