// A decision log written and read back gives the same record: every hook
// (and a hook, outcome, action and mode this build has no name for), each
// with the fields it writes, through format_json and parse_decision_line;
// the record read back writes the same JSON and text lines and keeps the
// ABI's values, not their names.
#include "log_reader.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstring>
#include <vector>

using namespace test_records;

namespace {

ltrack_event event_for(uint8_t hook)
{
	ltrack_event ev = file_event();
	ev.hook = hook;
	switch (hook) {
	case LTRACK_HOOK_NET:
		ev.family = AF_INET;
		ev.addr[10] = ev.addr[11] = 0xff;
		ev.addr[12] = 10, ev.addr[15] = 7;
		ev.port = 443;
		ev.proto = 6;
		break;
	case LTRACK_HOOK_SOCKET:
		ev.family = AF_NETLINK;
		ev.sock_type = SOCK_RAW;
		ev.proto = 9;
		break;
	case LTRACK_HOOK_PRIV:
		ev.cred_op = LTRACK_CRED_EXEC;
		ev.old_ids[0] = ev.old_ids[1] = ev.old_ids[2] = 1000;
		ev.new_ids[1] = 0;
		ev.old_caps = 0;
		ev.new_caps = 0x1000;
		std::strcpy(ev.path, "/usr/bin/su");
		break;
	case LTRACK_HOOK_LINK:
		ev.cred_op = LTRACK_FS_RENAME;
		ev.flags = LTRACK_EV_BY_MODEL | LTRACK_EV_ANCESTOR;
		ev.verdict = LTRACK_VERDICT_UNSAFE;
		break;
	case LTRACK_HOOK_MOUNT:
		ev.cred_op = LTRACK_FS_NEW_SB;
		ev.rule_id = 0; // the built-in default
		std::strcpy(ev.path, "tmpfs");
		break;
	case LTRACK_HOOK_TAMPER:
		ev.tamper_op = LTRACK_TAMPER_SIGNAL;
		ev.tamper_arg = 9;
		ev.target_pid = 77;
		break;
	case LTRACK_HOOK_PYTHON:
		ev.cred_op = LTRACK_PY_FIND_CLASS;
		std::strcpy(ev.path, "os.system");
		break;
	case LTRACK_HOOK_MODEL:
		ev.cred_op = LTRACK_WAIT_TIMEOUT;
		ev.verdict = LTRACK_VERDICT_SUSPICIOUS;
		ev.flags = LTRACK_EV_PATH_PARTIAL | LTRACK_EV_WALK_LIMIT;
		break;
	}
	return ev;
}

std::vector<decision_record> every_kind_of_record()
{
	std::vector<decision_record> out;
	// Escapes of every kind in valid UTF-8 (invalid bytes are written as
	// U+FFFD: what is read back is that, by design).
	rule_origin rule{12, "inference", "/etc/ltrack/policy.toml",
			 40, 5,           "deny = [\"/etc/\\\"sh\nadow\xe2\x80\xa8\t\"]"};
	model_info model;
	model.imports = {"posix.system", "builtins.eval"};
	process_info proc = python_process();
	proc.unreadable = {"environ: gone"};
	proc.cmdline_truncated = true;
	// Every hook named, one past them, and a byte no table has.
	for (unsigned hook = 0; hook <= LTRACK_HOOK_ANCESTOR + 1; ++hook)
		out.push_back(make_record(event_for(uint8_t(hook)), proc, rule, model, 3, offset_2023));
	ltrack_event odd = event_for(200);
	odd.outcome = 0;
	odd.action = 9;
	odd.mode = 255;
	out.push_back(make_record(odd, proc, {}, {}, 1, offset_2023));
	// Every outcome with its action and mode.
	for (const auto &o : ltrack::abi::names<ltrack_outcome>::table) {
		ltrack_event ev = event_for(LTRACK_HOOK_EXEC);
		ev.outcome = o.value;
		ev.action = o.value == LTRACK_OUT_KILLED ? LTRACK_ACT_KILL : LTRACK_ACT_AUDIT;
		ev.mode = o.value == LTRACK_OUT_WOULD_DENY ? LTRACK_MODE_AUDIT : LTRACK_MODE_ENFORCE;
		out.push_back(make_record(ev, process_info{}, {}, {}, 1, offset_2023));
	}
	ltrack_event v6 = event_for(LTRACK_HOOK_NET);
	v6.family = AF_INET6;
	std::memset(v6.addr, 0, sizeof v6.addr);
	v6.addr[0] = 0x20, v6.addr[1] = 0x01, v6.addr[15] = 1;
	out.push_back(make_record(v6, proc, rule, {}, 1, offset_2023));
	ltrack_event unix_net = event_for(LTRACK_HOOK_NET);
	unix_net.family = AF_UNIX;
	std::strcpy(unix_net.path, "/run/docker.sock");
	out.push_back(make_record(unix_net, proc, rule, {}, 1, offset_2023));
	ltrack_event py = event_for(LTRACK_HOOK_PYTHON);
	py.cred_op = LTRACK_PY_SUBPROCESS;
	std::strcpy(py.path, "/bin/sh -c id");
	out.push_back(make_record(py, proc, rule, {}, 1, offset_2023));
	return out;
}

} // namespace

TEST(RecordRoundTrip, ALogWrittenAndReadBackGivesTheSameRecord)
{
	for (const decision_record &r : every_kind_of_record()) {
		std::string json = format_json(r);
		SCOPED_TRACE(json);
		decision_record back;
		std::string kind, error;
		uint64_t loss = 0;
		bool real = false;
		ASSERT_TRUE(parse_decision_line(json, back, kind, loss, real, error)) << error;
		EXPECT_EQ(kind, "decision");
		EXPECT_EQ(back.hook, r.hook);
		EXPECT_EQ(back.action, r.action);
		EXPECT_EQ(back.mode, r.mode);
		EXPECT_EQ(back.outcome, r.outcome);
		EXPECT_EQ(back.level, r.level);
		EXPECT_EQ(back.addr, r.addr);
		EXPECT_EQ(format_json(back), json);
		EXPECT_EQ(format_text(back), format_text(r));
		EXPECT_EQ(format_table(back), format_table(r));
	}
}

TEST(RecordRoundTrip, UnknownNamesAreRefused)
{
	decision_record r = file_denial();
	std::string json = format_json(r);
	auto swap = [&](const std::string &from, const std::string &to) {
		std::string j = json;
		j.replace(j.find(from), from.size(), to);
		return j;
	};
	decision_record back;
	std::string kind, error;
	uint64_t loss = 0;
	bool real = false;
	EXPECT_FALSE(parse_decision_line(swap("\"outcome\":\"denied\"", "\"outcome\":\"Denied\""), back, kind, loss,
					 real, error));
	EXPECT_EQ(error, "a decision record with an unknown outcome \"Denied\"");
	EXPECT_FALSE(parse_decision_line(swap("\"hook\":\"file\"", "\"hook\":\"unknown(1)\""), back, kind, loss, real,
					 error));
	EXPECT_EQ(error, "a decision record with an unknown hook \"unknown(1)\"");
	EXPECT_FALSE(parse_decision_line(swap("\"action\":\"deny\"", "\"action\":\"block\""), back, kind, loss, real,
					 error));
	EXPECT_EQ(error, "a decision record with an unknown action \"block\"");
}
