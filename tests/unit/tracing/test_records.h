// Decision records built the way the daemon builds them (make_record from
// an ltrack_event), shared by the tracing tests.
#pragma once

#include "record.h"

#include <arpa/inet.h>
#include <cstring>

namespace test_records {

using namespace ltrack::tracing;

constexpr int64_t offset_2023 = 1700000000ll * 1000000000; // ts 123 -> 2023-11-14T22:13:20.000000123Z

inline ltrack_event file_event()
{
	ltrack_event ev{};
	ev.ts_ns = 123;
	ev.cgroup_id = 777;
	ev.pid = 4242;
	ev.tid = 4243;
	ev.ppid = 4000;
	ev.uid = 1000;
	ev.gid = 1000;
	ev.profile = 3;
	ev.rule_id = 12;
	ev.hook = LTRACK_HOOK_FILE;
	ev.action = LTRACK_ACT_DENY;
	ev.mode = LTRACK_MODE_ENFORCE;
	ev.outcome = LTRACK_OUT_DENIED;
	std::strcpy(ev.comm, "python3");
	ev.dev = (8ull << 20) | 1;
	ev.ino = 1234;
	std::strcpy(ev.path, "/etc/shadow");
	return ev;
}

inline process_info python_process()
{
	process_info p;
	p.pid = 4242;
	p.ppid = 4000;
	p.uid = p.gid = 1000;
	p.comm = "python3";
	p.exe = "/usr/bin/python3.11";
	p.cmdline = "python3 serve.py --port 8080";
	p.start_boot_ns = 100;
	p.cgroup_id = 777;
	p.cgroup_path = "/system.slice/docker-4f3c9a1e2b7d.scope";
	p.container = parse_container(p.cgroup_path);
	p.ancestry = {{4000, "/usr/bin/bash"}, {1, "/sbin/init"}};
	return p;
}

inline decision_record file_denial()
{
	rule_origin rule{12, "inference", "/etc/ltrack/policy.toml", 40, 5, "deny = [\"/etc/shadow\"]"};
	return make_record(file_event(), python_process(), rule, {}, 1, offset_2023);
}

inline decision_record connect(uint8_t outcome, int family, const char *addr, uint16_t port)
{
	ltrack_event ev = file_event();
	ev.hook = LTRACK_HOOK_NET;
	ev.action = outcome == LTRACK_OUT_KILLED ? LTRACK_ACT_KILL : LTRACK_ACT_DENY;
	ev.mode = outcome == LTRACK_OUT_WOULD_DENY ? LTRACK_MODE_AUDIT : LTRACK_MODE_ENFORCE;
	ev.outcome = outcome;
	ev.rule_id = 13;
	ev.dev = ev.ino = 0;
	ev.path[0] = 0;
	ev.family = static_cast<uint16_t>(family);
	ev.port = port;
	ev.proto = 6;
	if (family == AF_INET) {
		ev.addr[10] = ev.addr[11] = 0xff;
		inet_pton(AF_INET, addr, ev.addr + 12);
	} else {
		inet_pton(AF_INET6, addr, ev.addr);
	}
	rule_origin rule{13, "inference", "/etc/ltrack/policy.toml", 41, 1, "connect.deny = [\"0.0.0.0/0\"]"};
	return make_record(ev, python_process(), rule, {}, 1, offset_2023);
}

inline decision_record model_refusal()
{
	ltrack_event ev = file_event();
	ev.hook = LTRACK_HOOK_MODEL;
	ev.mode = LTRACK_MODE_AUDIT;
	ev.outcome = LTRACK_OUT_WOULD_DENY;
	ev.verdict = LTRACK_VERDICT_UNSAFE;
	std::strcpy(ev.path, "/models/evil.pkl");
	rule_origin rule{14, "inference", "/etc/ltrack/policy.toml", 50, 1, "models.require = \"safe\""};
	model_info m{"", {"os.system", "builtins.eval"}, ""};
	return make_record(ev, python_process(), rule, m, 1, offset_2023);
}

} // namespace test_records
