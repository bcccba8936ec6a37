// The decision log's bytes for a replayed batch of ring-buffer records, pinned:
// every hook and flag the records carry, counts, built-in rules, rules of
// both policy slots, hostile bytes in names, processes known from the exec
// tracepoint, gone, or never seen, repeated so that cached state is reused.
// The batch goes through the daemon's own path (event_reader::decode,
// decision_pipeline::on_event, the decision log) in the JSON and the text
// format, and the files must equal pipeline_replay.{jsonl,txt} byte for byte:
// a faster pipeline writes the same log. LTRACK_UPDATE_GOLDEN=1 rewrites them
// (only for a deliberate format change, documented in docs/decision-log.md).
#include "decision_pipeline.h"
#include "event_reader.h"
#include "model_watch.h"
#include "policy.h"
#include "record_format.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using namespace ltrack;

// Beyond any pid_max (2^22): no live process can ever have these pids, so
// /proc never answers for them and the output does not depend on the host.
constexpr uint32_t pid_base = 4194304 + 1000;
constexpr int64_t offset_2023 = 1700000000ll * 1000000000;

const char *policy_text = R"(mode = "enforce"
[profile.inference]
executables = ["/usr/bin/python3.11"]
[profile.inference.file]
default = "allow"
rules = [
  { action = "deny", file = "/etc/shadow" },
  { action = "deny", dir = "/srv/data/private" },
  { action = "audit", name = "*.pem" },
]
[profile.inference.exec]
default = "deny"
rules = [ { action = "allow", dir = "/usr/bin" } ]
[profile.inference.network]
default = "deny"
unix = "allow"
rules = [ { action = "deny", to = "10.0.0.0/8", proto = "tcp" } ]
[profile.inference.model]
directories = ["/srv/models"]
allow = "safe"
[profile.batch]
cgroups = ["/sys/fs/cgroup/batch"]
[profile.batch.file]
default = "deny"
)";

// The same policy reloaded into slot 1 with one more rule (ids move on).
std::string slot1_text()
{
	std::string t = policy_text;
	t.replace(t.find("  { action = \"deny\", file = \"/etc/shadow\" },"), 0,
		  "  { action = \"deny\", file = \"/etc/ssh/ssh_host_ed25519_key\" },\n");
	return t;
}

std::shared_ptr<const policy::compiled_policy> compile(const std::string &text)
{
	policy::compile_options o;
	o.resolve_paths = false;
	auto r = policy::compile_string(text, "/etc/ltrack/policy.toml", o);
	if (!r.ok())
		ADD_FAILURE() << policy::format_all(r.diagnostics);
	return r.ok() ? std::make_shared<const policy::compiled_policy>(std::move(*r.policy)) : nullptr;
}

ltrack_event base(uint32_t k, uint64_t ts)
{
	ltrack_event e{};
	e.ts_ns = ts;
	e.cgroup_id = 777 + k % 2;
	e.pid = pid_base + k;
	e.tid = e.pid + (k % 3 == 0 ? 0 : 1);
	e.ppid = pid_base - 1;
	e.uid = k % 2 ? 0 : 1000;
	e.gid = 1000;
	e.profile = 1;
	e.rule_id = 2;
	e.hook = LTRACK_HOOK_FILE;
	e.action = LTRACK_ACT_DENY;
	e.mode = LTRACK_MODE_ENFORCE;
	e.outcome = LTRACK_OUT_DENIED;
	std::strcpy(e.comm, "python3");
	e.dev = (8ull << 20) | 1;
	e.ino = 1000 + k;
	std::strcpy(e.path, "/etc/shadow");
	return e;
}

void set_addr(ltrack_event &e, int family, const char *a)
{
	if (family == AF_INET) {
		e.addr[10] = e.addr[11] = 0xff;
		inet_pton(AF_INET, a, e.addr + 12);
	} else {
		inet_pton(AF_INET6, a, e.addr);
	}
}

// One of each kind of record (k picks the process and the variant).
std::vector<ltrack_event> batch()
{
	std::vector<ltrack_event> out;
	uint64_t ts = 5000000000ull;
	for (uint32_t round = 0; round < 3; round++) {
		for (uint32_t v = 0; v < 24; v++) {
			uint32_t k = (v + round) % 6;
			ltrack_event e = base(k, ts += 999999937ull * (v % 4) + 17);
			switch (v) {
			case 0: break; // a plain file denial
			case 1:
				e.rule_id = 3;
				std::snprintf(e.path, sizeof e.path, "/srv/data/private/part-%u.parquet", round);
				e.count = 17;
				break;
			case 2: // audit mode, a name rule, a hostile name
				e.rule_id = 4;
				e.action = LTRACK_ACT_AUDIT;
				e.mode = LTRACK_MODE_AUDIT;
				e.outcome = LTRACK_OUT_WOULD_DENY;
				std::strcpy(e.path, "/home/u/\"key\"\n\xff\xfe\\x.pem \xe2\x80\xa8 caf\xc3\xa9");
				break;
			case 3: // the final name only, walk limit
				e.flags = LTRACK_EV_PATH_PARTIAL | LTRACK_EV_WALK_LIMIT;
				e.rule_id = 0;
				std::strcpy(e.path, "deep.txt");
				break;
			case 4: // no path at all
				e.path[0] = 0;
				e.flags = LTRACK_EV_DISCONNECTED;
				e.rule_id = 0;
				break;
			case 5:
				e.hook = LTRACK_HOOK_EXEC;
				e.rule_id = 5;
				std::strcpy(e.path, "/usr/local/bin/miner");
				break;
			case 6:
				e.hook = LTRACK_HOOK_NET;
				e.rule_id = 9;
				e.dev = e.ino = 0;
				e.family = AF_INET;
				e.proto = 6;
				e.port = 443;
				set_addr(e, AF_INET, "10.1.2.3");
				e.path[0] = 0;
				break;
			case 7:
				e.hook = LTRACK_HOOK_NET;
				e.rule_id = 7;
				e.dev = e.ino = 0;
				e.family = AF_INET6;
				e.proto = 17;
				e.port = 53;
				set_addr(e, AF_INET6, "2001:db8::1");
				e.path[0] = 0;
				break;
			case 8:
				e.hook = LTRACK_HOOK_NET;
				e.rule_id = 0;
				e.dev = e.ino = 0;
				e.family = AF_UNIX;
				std::strcpy(e.path, "/run/docker.sock");
				break;
			case 9:
				e.hook = LTRACK_HOOK_SOCKET;
				e.rule_id = 0;
				e.dev = e.ino = 0;
				e.family = AF_NETLINK;
				e.sock_type = SOCK_RAW;
				e.proto = 12; // NETLINK_NETFILTER
				e.path[0] = 0;
				break;
			case 10:
				e.hook = LTRACK_HOOK_MODEL;
				e.rule_id = 10;
				e.verdict = LTRACK_VERDICT_UNSAFE;
				e.cred_op = 1; // scanned at open
				std::strcpy(e.path, "/srv/models/evil.pkl");
				break;
			case 11:
				e.hook = LTRACK_HOOK_PRIV;
				e.rule_id = 0;
				e.cred_op = LTRACK_CRED_SETUID;
				e.old_ids[0] = e.old_ids[1] = e.old_ids[2] = 1000;
				e.new_ids[0] = 1000;
				e.path[0] = 0;
				break;
			case 12:
				e.hook = LTRACK_HOOK_PRIV;
				e.rule_id = 0;
				e.cred_op = LTRACK_CRED_EXEC;
				e.old_caps = 0;
				e.new_caps = 1ull << 21;
				std::strcpy(e.path, "/usr/bin/sudo");
				break;
			case 13:
				e.hook = LTRACK_HOOK_TAMPER;
				e.rule_id = 0;
				e.tamper_op = LTRACK_TAMPER_SIGNAL;
				e.target_pid = 321;
				e.tamper_arg = 9;
				e.dev = e.ino = 0;
				e.path[0] = 0;
				break;
			case 14:
				e.hook = LTRACK_HOOK_TAMPER;
				e.rule_id = 0;
				e.tamper_op = LTRACK_TAMPER_BPF;
				e.tamper_arg = 7;
				e.path[0] = 0;
				e.dev = e.ino = 0;
				break;
			case 15:
				e.hook = LTRACK_HOOK_LINK;
				e.rule_id = 3;
				e.cred_op = LTRACK_FS_RENAME;
				e.flags = LTRACK_EV_ANCESTOR;
				std::strcpy(e.path, "/srv/data");
				break;
			case 16:
				e.hook = LTRACK_HOOK_LINK;
				e.rule_id = 10;
				e.cred_op = LTRACK_FS_LINK;
				e.flags = LTRACK_EV_BY_MODEL;
				e.verdict = LTRACK_VERDICT_SUSPICIOUS;
				std::strcpy(e.path, "/srv/models/x.pkl");
				break;
			case 17:
				e.hook = LTRACK_HOOK_MOUNT;
				e.rule_id = 0;
				e.cred_op = LTRACK_FS_NEW_SB;
				std::strcpy(e.path, "overlay");
				break;
			case 18:
				e.hook = LTRACK_HOOK_PYTHON;
				e.rule_id = 0;
				e.cred_op = LTRACK_PY_FIND_CLASS;
				std::strcpy(e.path, "os.system");
				e.dev = e.ino = 0;
				break;
			case 19:
				e.hook = LTRACK_HOOK_PYTHON;
				e.rule_id = 0;
				e.cred_op = LTRACK_PY_SUBPROCESS;
				e.action = LTRACK_ACT_ALLOW;
				e.outcome = LTRACK_OUT_ALLOWED;
				std::strcpy(e.path, "/bin/sh -c id");
				e.dev = e.ino = 0;
				break;
			case 20: // decided by slot 1's policy (its first rule is new)
				e.flags = LTRACK_EV_SLOT1;
				e.rule_id = 2;
				std::strcpy(e.path, "/etc/ssh/ssh_host_ed25519_key");
				break;
			case 21: // a profile the policy does not have, a rule id past its symbols
				e.profile = 77;
				e.rule_id = 9999;
				break;
			case 22: // built-in launch point, cgroup control
				e.flags = LTRACK_EV_LAUNCH_POINT;
				e.rule_id = 0;
				e.mode = LTRACK_MODE_AUDIT;
				e.outcome = LTRACK_OUT_WOULD_DENY;
				std::strcpy(e.path, "/proc/sys/kernel/core_pattern");
				break;
			case 23:
				e.flags = LTRACK_EV_CGROUP_CONTROL;
				e.rule_id = 0;
				e.profile = 2;
				std::strcpy(e.path, "/sys/fs/cgroup/ltrack/cgroup.procs");
				// a comm filling its field, a pid never seen
				std::memset(e.comm, 'c', sizeof e.comm);
				e.pid = pid_base + 99;
				break;
			}
			out.push_back(e);
		}
	}
	return out;
}

// The processes: known from the exec tracepoint (not live: their pids are
// beyond pid_max), with a container, a unit, an ancestry and a command line.
void feed_processes(tracing::process_cache &pc)
{
	for (uint32_t k = 0; k < 6; k++) {
		tracing::process_info p;
		p.pid = pid_base + k;
		p.ppid = pid_base - 1;
		p.uid = p.gid = 1000;
		p.comm = "python3";
		p.exe = k == 3 ? "/usr/bin/python3.11 (deleted)" : "/usr/bin/python3.11";
		p.cmdline = "python3 serve.py --model \"/srv/models/m.pt\" \t--port " + std::to_string(8080 + k);
		p.cmdline_truncated = k == 4;
		p.start_boot_ns = 1000000000ull + k;
		p.cgroup_id = 777 + k % 2;
		p.cgroup_path =
			k % 2 ? "/system.slice/docker-4f3c9a1e2b7d8c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e.scope"
			      : "/system.slice/inference.service";
		p.container = tracing::parse_container(p.cgroup_path);
		p.ancestry = {{pid_base - 1, "/usr/bin/bash"}, {1, "/sbin/init"}};
		if (k == 5)
			p.unreadable = {"cmdline: permission denied"};
		pc.on_exec_event(p);
	}
}

std::string read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// The host's name is the machine's: written as HOST in the pinned file.
std::string without_host(std::string s)
{
	std::string h = "\"host\":" + json_string(tracing::host_name());
	for (size_t at = 0; (at = s.find(h, at)) != std::string::npos;)
		s.replace(at, h.size(), "\"host\":\"HOST\"");
	return s;
}

std::string replay(const std::string &format)
{
	auto p0 = compile(policy_text);
	auto p1 = compile(slot1_text());
	if (!p0 || !p1)
		return {};
	std::string dir = ::testing::TempDir() + "ltrack-replay-" + format + "-" + std::to_string(getpid());
	std::filesystem::remove_all(dir);
	std::filesystem::create_directories(dir);
	setenv("LTRACK_LOG_FORMAT", format.c_str(), 1);
	unsetenv("LTRACK_LOG_LEVEL");
	std::string out;
	{
		decision_pipeline pipeline;
		pipeline.set_boot_offset(offset_2023);
		EXPECT_EQ(pipeline.configure(p0.get(), dir + "/decisions.log", false), "");
		pipeline.on_policy_applied(0, p0);
		pipeline.on_policy_applied(1, p1);
		feed_processes(pipeline.processes());
		model_watch models;
		for (const ltrack_event &ev : batch()) {
			// As the ring buffer holds it: the bytes, decoded.
			std::vector<unsigned char> sample(sizeof ev);
			std::memcpy(sample.data(), &ev, sizeof ev);
			ltrack_event e;
			EXPECT_TRUE(event_reader::decode(sample.data(), sample.size(), e));
			pipeline.on_event(e, models);
		}
		pipeline.flush();
		EXPECT_EQ(pipeline.decisions(), batch().size());
	}
	unsetenv("LTRACK_LOG_FORMAT");
	out = read_file(dir + "/decisions.log");
	std::filesystem::remove_all(dir);
	return without_host(out);
}

void check(const std::string &format, const char *golden)
{
	std::string got = replay(format);
	ASSERT_FALSE(got.empty());
	std::string path = std::string(LTRACK_TEST_DATA) + "/" + golden;
	if (const char *u = std::getenv("LTRACK_UPDATE_GOLDEN"); u && *u == '1') {
		std::ofstream(path, std::ios::binary) << got;
		GTEST_SKIP() << "rewrote " << path;
	}
	std::string want = read_file(path);
	ASSERT_FALSE(want.empty()) << path << " is missing (LTRACK_UPDATE_GOLDEN=1 writes it)";
	// Line by line, so a difference names its record.
	std::istringstream g(got), w(want);
	std::string gl, wl;
	for (int n = 1;; n++) {
		bool more_g = static_cast<bool>(std::getline(g, gl)), more_w = static_cast<bool>(std::getline(w, wl));
		if (!more_g && !more_w)
			break;
		ASSERT_EQ(gl, wl) << golden << " line " << n;
	}
	EXPECT_EQ(got, want);
}

TEST(PipelineReplay, JsonLogBytesArePinned)
{
	check("json", "pipeline_replay.jsonl");
}

TEST(PipelineReplay, TextLogBytesArePinned)
{
	check("text", "pipeline_replay.txt");
}

} // namespace
