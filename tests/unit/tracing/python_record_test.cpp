// Records of a governed interpreter's audit hook (hook python, reported over
// the report socket, runtime/report_server.cpp): the event and its object,
// a refused global critical, and the JSON and text forms.
#include "record.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

decision_record python_record(uint32_t op, const char *object, uint8_t action, uint8_t outcome)
{
	ltrack_event ev = file_event();
	ev.hook = LTRACK_HOOK_PYTHON;
	ev.action = action;
	ev.outcome = outcome;
	ev.rule_id = 0;
	ev.cred_op = op;
	ev.dev = ev.ino = 0;
	std::memset(ev.path, 0, sizeof ev.path);
	std::strncpy(ev.path, object, sizeof ev.path - 1);
	return make_record(ev, python_process(), {}, {}, 1, offset_2023);
}

} // namespace

TEST(python_record, refused_global_is_critical_with_its_own_json_object)
{
	EXPECT_EQ(python_op_name(LTRACK_PY_FIND_CLASS), "find_class");
	EXPECT_EQ(python_op_name(LTRACK_PY_EXECV), "execv");
	EXPECT_EQ(python_op_name(42), "unknown(42)");
	decision_record r = python_record(LTRACK_PY_FIND_CLASS, "posix.system", LTRACK_ACT_DENY, LTRACK_OUT_DENIED);
	EXPECT_EQ(r.hook, LTRACK_HOOK_PYTHON);
	EXPECT_EQ(r.op, "find_class");
	EXPECT_EQ(r.path, "posix.system");
	EXPECT_EQ(r.level, severity::critical);
	EXPECT_EQ(r.builtin, "pickle_deny_list");
	EXPECT_EQ(python_record(LTRACK_PY_FIND_CLASS, "os.system", LTRACK_ACT_DENY, LTRACK_OUT_WOULD_DENY).level,
		  severity::critical);
	std::string j = format_json(r);
	EXPECT_NE(j.find("\"hook\":\"python\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"python\":{\"event\":\"find_class\",\"global\":\"posix.system\"}"), std::string::npos) << j;
	EXPECT_EQ(j.find("\"file\":{\"path\""), std::string::npos) << j;
	EXPECT_NE(format_text(r).find(" denied python find_class posix.system by "), std::string::npos)
		<< format_text(r);
}

TEST(python_record, audited_events_name_their_object)
{
	decision_record r = python_record(LTRACK_PY_SUBPROCESS, "/bin/sh -c id", LTRACK_ACT_AUDIT, LTRACK_OUT_AUDITED);
	EXPECT_EQ(r.op, "subprocess");
	EXPECT_EQ(r.builtin, "python_audit");
	EXPECT_EQ(r.level, severity::warn);
	std::string j = format_json(r);
	EXPECT_NE(j.find("\"python\":{\"event\":\"subprocess\",\"object\":\"/bin/sh -c id\"}"), std::string::npos) << j;
	EXPECT_EQ(object_text(r), "subprocess /bin/sh -c id");
}
