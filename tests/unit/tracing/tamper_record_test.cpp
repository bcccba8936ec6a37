// Records of attempts on ltrack itself (hook tamper, lsm/self.bpf.c):
// decoding of the op and its argument, always critical, and the JSON and
// text forms.
#include "record.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace ltrack::tracing;
using namespace test_records;

namespace {

decision_record tamper(uint32_t op, uint64_t arg, uint32_t target, uint8_t outcome = LTRACK_OUT_DENIED)
{
	ltrack_event ev = file_event();
	ev.hook = LTRACK_HOOK_TAMPER;
	ev.action = LTRACK_ACT_DENY;
	ev.outcome = outcome;
	ev.rule_id = 0;
	ev.tamper_op = op;
	ev.tamper_arg = arg;
	ev.target_pid = target;
	if (op != LTRACK_TAMPER_UNLINK) {
		ev.path[0] = 0;
		ev.dev = ev.ino = 0;
	}
	return make_record(ev, python_process(), {}, {}, 1, offset_2023);
}

} // namespace

TEST(tamper_record, decodes_op_and_argument)
{
	EXPECT_EQ(hook_name(LTRACK_HOOK_TAMPER), "tamper");
	EXPECT_EQ(tamper_op_name(LTRACK_TAMPER_PTRACE), "ptrace");
	EXPECT_EQ(tamper_op_name(42), "unknown(42)");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_BPF, 7), "BPF_OBJ_GET");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_BPF, 2), "BPF_MAP_UPDATE_ELEM");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_BPF, 999), "bpf command 999");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_SIGNAL, SIGKILL), "SIGKILL");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_SIGNAL, 0), "signal 0");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_PTRACE, 0x02 | 0x08), "attach");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_PTRACE, 0x01 | 0x08), "read");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_SCHED, LTRACK_SCHED_NICE), "nice");
	EXPECT_EQ(tamper_arg_text(LTRACK_TAMPER_UNLINK, 0), "");
}

TEST(tamper_record, critical_whatever_the_mode_with_its_own_json_object)
{
	decision_record r = tamper(LTRACK_TAMPER_SIGNAL, SIGKILL, 812);
	EXPECT_EQ(r.level, severity::critical);
	EXPECT_EQ(r.tamper_op, "signal");
	EXPECT_EQ(r.tamper_arg, "SIGKILL");
	EXPECT_EQ(r.target_pid, 812u);
	EXPECT_EQ(tamper(LTRACK_TAMPER_BPF, 7, 0, LTRACK_OUT_WOULD_DENY).level, severity::critical);
	std::string j = format_json(r);
	EXPECT_NE(j.find("\"hook\":\"tamper\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"tamper\":{\"op\":\"signal\",\"arg\":\"SIGKILL\",\"target_pid\":812}"), std::string::npos)
		<< j;
	EXPECT_NE(format_text(r).find(" denied tamper signal SIGKILL to pid 812 by "), std::string::npos)
		<< format_text(r);
	// A file operation names the file.
	decision_record u = tamper(LTRACK_TAMPER_UNLINK, 0, 0);
	EXPECT_EQ(object_text(u).rfind("unlink ", 0), 0u) << object_text(u);
	EXPECT_NE(object_text(u).find(u.path), std::string::npos) << object_text(u);
}
