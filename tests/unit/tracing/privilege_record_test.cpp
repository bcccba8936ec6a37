// Privilege escalation records (hook priv, lsm/cred.bpf.c): decoding, the
// severity rule (critical unless allowed), and the JSON and text forms.
#include "record.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

ltrack_event priv_event(uint32_t op, uint8_t outcome)
{
	ltrack_event ev = file_event();
	ev.hook = LTRACK_HOOK_PRIV;
	ev.outcome = outcome;
	ev.action = outcome == LTRACK_OUT_AUDITED ? LTRACK_ACT_AUDIT : LTRACK_ACT_DENY;
	ev.cred_op = op;
	ev.old_ids[0] = 0, ev.old_ids[1] = 65534, ev.old_ids[2] = 0;
	ev.new_ids[0] = 0, ev.new_ids[1] = 0, ev.new_ids[2] = 0;
	ev.old_caps = 0;
	ev.new_caps = 1ull << 12;
	if (op != LTRACK_CRED_EXEC) {
		ev.path[0] = 0;
		ev.dev = ev.ino = 0;
	} else {
		std::strcpy(ev.path, "/usr/bin/su");
	}
	return ev;
}

decision_record priv_record(uint32_t op, uint8_t outcome)
{
	rule_origin rule{7, "worker", "/etc/ltrack/policy.toml", 9, 11, "privilege escalation deny"};
	return make_record(priv_event(op, outcome), python_process(), rule, {}, 1, offset_2023);
}

} // namespace

TEST(privilege_record, decodes_the_change_and_is_critical_unless_allowed)
{
	EXPECT_EQ(hook_name(LTRACK_HOOK_PRIV), "priv");
	EXPECT_EQ(cred_op_name(LTRACK_CRED_CAPSET), "capset");
	EXPECT_EQ(cred_op_name(9), "unknown(9)");
	decision_record r = priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_DENIED);
	EXPECT_EQ(r.hook, LTRACK_HOOK_PRIV);
	EXPECT_EQ(r.cred_op, "setuid");
	EXPECT_EQ(r.old_ids[1], 65534u);
	EXPECT_EQ(r.new_ids[1], 0u);
	EXPECT_EQ(r.level, severity::critical);
	EXPECT_TRUE(r.path.empty()); // a setuid has no object file
	// An audited escalation is still critical (a file audit would be warn).
	EXPECT_EQ(priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_AUDITED).level, severity::critical);
	EXPECT_EQ(priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_WOULD_DENY).level, severity::critical);
	EXPECT_EQ(priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_ALLOWED).level, severity::info);
	EXPECT_EQ(priv_record(LTRACK_CRED_EXEC, LTRACK_OUT_DENIED).path, "/usr/bin/su");
}

TEST(privilege_record, json_has_a_privilege_object)
{
	std::string j = format_json(priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_DENIED));
	EXPECT_NE(j.find("\"hook\":\"priv\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"severity\":\"critical\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"privilege\":{\"op\":\"setuid\",\"old\":{\"real\":0,\"effective\":65534,\"saved\":0},"
			 "\"new\":{\"real\":0,\"effective\":0,\"saved\":0},\"old_caps\":0,\"new_caps\":4096}"),
		  std::string::npos)
		<< j;
	// Other hooks carry no privilege object.
	EXPECT_EQ(format_json(file_denial()).find("\"privilege\""), std::string::npos);
}

TEST(privilege_record, text_names_the_change)
{
	std::string s = format_text(priv_record(LTRACK_CRED_SETUID, LTRACK_OUT_DENIED));
	EXPECT_NE(s.find(" CRITICAL denied priv setuid uid 0/65534/0 -> 0/0/0 by /usr/bin/python3.11[4242]"),
		  std::string::npos)
		<< s;
	EXPECT_NE(s.find("\"privilege escalation deny\""), std::string::npos) << s;
	EXPECT_NE(format_text(priv_record(LTRACK_CRED_CAPSET, LTRACK_OUT_DENIED))
			  .find("priv capset caps 0x0 -> 0x1000 by"),
		  std::string::npos);
	EXPECT_NE(format_text(priv_record(LTRACK_CRED_SETGID, LTRACK_OUT_DENIED))
			  .find("priv setgid gid 0/65534/0 -> 0/0/0"),
		  std::string::npos);
	EXPECT_NE(format_text(priv_record(LTRACK_CRED_EXEC, LTRACK_OUT_DENIED))
			  .find("priv exec /usr/bin/su uid 0/65534/0 -> 0/0/0 caps 0x0 -> 0x1000 by"),
		  std::string::npos);
}
