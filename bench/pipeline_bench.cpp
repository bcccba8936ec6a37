// ltrack_pipeline_bench: the user-space decision pipeline on the host, no
// kernel. bench/host.sh runs it for docs/performance-host.md.
//
//   ltrack_pipeline_bench [--records N] [--reps R] [--procs P] [--dir DIR] [--format json|text]
//
// Builds N decision records as the kernel writes them into the ring buffer
// (struct ltrack_event of lsm/abi.h, each behind the ring buffer's 8-byte
// header, 8-byte aligned): refusals of distinct files, connects, execs, model
// opens and audit-mode would-denies by P live processes (forks of this one
// that wait, so their context comes from /proc as a real process's would),
// each naming a rule of a compiled policy. Then replays them R times through
// the daemon's own code: event_reader::decode, decision_pipeline::on_event
// (process context from the process cache, the rule's origin from the
// policy's symbols, the record, the counters, the recent history) and the
// decision log (format, rotating file sink: 100 MB files, gzip in the
// background as configured by default) in DIR (default: a new directory under
// /tmp; in a given DIR only decisions.log* files are replaced). Prints one JSON object:
//   {"records":N,"procs":P,"format":"json",
//    "record_size":432,"reps":[{"wall_s":W,"cpu_s":C},...]}
// cpu_s is the replaying thread's CPU time (CLOCK_THREAD_CPUTIME_ID): records
// per CPU second is the rate of one core, whatever else the host runs.
#include "decision_pipeline.h"
#include "event_reader.h"
#include "model_watch.h"
#include "policy.h"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &what)
{
	std::fprintf(stderr, "ltrack_pipeline_bench: %s\n", what.c_str());
	std::exit(2);
}

double clock_s(clockid_t id)
{
	timespec ts{};
	clock_gettime(id, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

const char *policy_text = R"(mode = "enforce"
[profile.inference]
executables = ["/usr/bin/python3.11"]
[profile.inference.file]
default = "allow"
rules = [
  { action = "deny", file = "/etc/shadow" },
  { action = "deny", dir = "/srv/data/private" },
  { action = "deny", name = "*.pem" },
  { action = "audit", dir = "/srv/data/shared" },
]
[profile.inference.exec]
default = "allow"
rules = [ { action = "deny", file = "/usr/bin/curl" } ]
[profile.inference.network]
default = "deny"
unix = "allow"
rules = [
  { action = "allow", to = "loopback", proto = "tcp" },
  { action = "deny", to = "10.0.0.0/8", proto = "tcp" },
]
[profile.inference.model]
directories = ["/srv/models"]
allow = "safe"
)";

// The rule whose text (as the policy wrote it) contains what.
uint32_t rule_of(const ltrack::policy::compiled_policy &p, const std::string &what)
{
	for (const auto &s : p.symbols)
		if (s.text.find(what) != std::string::npos)
			return s.id;
	die("the bench policy has no rule '" + what + "'");
}

// Record i of the replayed batch: what a governed inference service's
// refusals look like, every one a decision of its own (another file, another
// destination), so none would have been coalesced.
ltrack_event make_event(uint64_t i, uint64_t ts, const std::vector<pid_t> &pids, uint32_t profile,
			const uint32_t rules[5])
{
	ltrack_event e{};
	e.ts_ns = ts;
	e.pid = static_cast<uint32_t>(pids[i % pids.size()]);
	e.tid = e.pid;
	e.ppid = static_cast<uint32_t>(getpid());
	e.uid = e.gid = 1000;
	e.cgroup_id = 4242;
	e.profile = profile;
	e.mode = LTRACK_MODE_ENFORCE;
	e.action = LTRACK_ACT_DENY;
	e.outcome = LTRACK_OUT_DENIED;
	std::strcpy(e.comm, "python3");
	e.dev = (8ull << 20) | 1;
	e.ino = 100000 + i;
	switch (i % 20) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
	case 6:
	case 7:
	case 8:
	case 9:
	case 10:
	case 11:
		e.hook = LTRACK_HOOK_FILE;
		e.rule_id = rules[0];
		std::snprintf(e.path, sizeof e.path, "/srv/data/private/shard-%03llu/part-%06llu.parquet",
			      (unsigned long long)(i % 997), (unsigned long long)i);
		break;
	case 12:
	case 13:
	case 14:
		e.hook = LTRACK_HOOK_NET;
		e.rule_id = rules[1];
		e.dev = e.ino = 0;
		e.family = AF_INET;
		e.proto = 6;
		e.port = 443;
		e.addr[10] = e.addr[11] = 0xff;
		e.addr[12] = 10;
		e.addr[13] = uint8_t(i >> 16);
		e.addr[14] = uint8_t(i >> 8);
		e.addr[15] = uint8_t(i);
		break;
	case 15:
	case 16:
		e.hook = LTRACK_HOOK_FILE;
		e.rule_id = rules[2];
		e.action = LTRACK_ACT_AUDIT;
		e.mode = LTRACK_MODE_AUDIT;
		e.outcome = LTRACK_OUT_WOULD_DENY;
		std::snprintf(e.path, sizeof e.path, "/srv/data/shared/cache/%016llx.bin",
			      (unsigned long long)(i * 2654435761u));
		break;
	case 17:
	case 18:
		e.hook = LTRACK_HOOK_EXEC;
		e.rule_id = rules[3];
		std::strcpy(e.path, "/usr/bin/curl");
		e.ino = 4711;
		break;
	default:
		e.hook = LTRACK_HOOK_MODEL;
		e.rule_id = rules[4];
		e.verdict = LTRACK_VERDICT_UNSCANNED;
		std::snprintf(e.path, sizeof e.path, "/srv/models/checkpoint-%llu.pt", (unsigned long long)i);
		break;
	}
	return e;
}

} // namespace

int main(int argc, char **argv)
{
	long records = 200000, reps = 5, procs = 16;
	std::string dir, format = "json";
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> std::string {
			if (i + 1 >= argc)
				die(a + " needs a value");
			return argv[++i];
		};
		if (a == "--records")
			records = std::stol(value());
		else if (a == "--reps")
			reps = std::stol(value());
		else if (a == "--procs")
			procs = std::stol(value());
		else if (a == "--dir")
			dir = value();
		else if (a == "--format")
			format = value();
		else
			die("unknown argument '" + a + "' (see the head of bench/pipeline_bench.cpp)");
	}
	if (records < 1 || reps < 1 || procs < 1)
		die("--records, --reps and --procs must be at least 1");
	spdlog::set_level(spdlog::level::warn);

	ltrack::policy::compile_options copts;
	copts.resolve_paths = false; // the policy's paths need not exist here
	auto compiled = ltrack::policy::compile_string(policy_text, "/etc/ltrack/policy.toml", copts);
	if (!compiled.ok())
		die("the bench policy does not compile: " + ltrack::policy::format_all(compiled.diagnostics));
	auto policy = std::make_shared<const ltrack::policy::compiled_policy>(std::move(*compiled.policy));
	const uint32_t rules[5] = {rule_of(*policy, "/srv/data/private"), rule_of(*policy, "10.0.0.0/8"),
				   rule_of(*policy, "/srv/data/shared"), rule_of(*policy, "/usr/bin/curl"),
				   rule_of(*policy, "safe")};
	const auto *prof = policy->find_profile("inference");
	uint32_t profile = prof ? prof->id : 1;

	// The processes the records are about: alive, so /proc describes them.
	std::vector<pid_t> pids;
	for (long k = 0; k < procs; k++) {
		pid_t pid = fork();
		if (pid < 0)
			die(std::string("fork: ") + std::strerror(errno));
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pause();
			_exit(0);
		}
		pids.push_back(pid);
	}
	usleep(20000); // let the children settle (their /proc entries complete)
	uint64_t ts0 = ltrack::tracing::boot_time_now_ns();

	// The ring buffer's bytes: an 8-byte header (length, flags) per sample,
	// samples 8-byte aligned.
	const size_t stride = (8 + sizeof(ltrack_event) + 7) & ~size_t(7);
	std::vector<unsigned char> ring(stride * size_t(records));
	for (long i = 0; i < records; i++) {
		ltrack_event e = make_event(uint64_t(i), ts0 + uint64_t(i), pids, profile, rules);
		uint32_t len = sizeof e;
		std::memcpy(&ring[stride * size_t(i)], &len, sizeof len);
		std::memcpy(&ring[stride * size_t(i) + 8], &e, sizeof e);
	}

	bool own_dir = dir.empty();
	if (own_dir) {
		char tmpl[] = "/tmp/ltrack-pipeline-bench.XXXXXX";
		if (!mkdtemp(tmpl))
			die(std::string("mkdtemp: ") + std::strerror(errno));
		dir = tmpl;
	}
	std::string log_path = dir + "/decisions.log";
	setenv("LTRACK_LOG_FORMAT", format.c_str(), 1);
	unsetenv("LTRACK_LOG_LEVEL");

	ltrack::model_watch models; // not started: no findings, as for a file no scan has named
	std::printf("{\"records\":%ld,\"procs\":%ld,\"format\":\"%s\",\"record_size\":%zu,\"reps\":[", records, procs,
		    format.c_str(), sizeof(ltrack_event));
	for (long r = 0; r < reps; r++) {
		std::error_code ec;
		for (const auto &f : std::filesystem::directory_iterator(dir, ec)) // the last repetition's log
			if (f.path().filename().string().rfind("decisions.log", 0) == 0)
				std::filesystem::remove(f.path(), ec);
		// A fresh pipeline each repetition: its process cache starts empty.
		ltrack::decision_pipeline pipeline;
		if (std::string err = pipeline.configure(policy.get(), log_path, false); !err.empty())
			die(err);
		pipeline.on_policy_applied(0, policy);
		double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < records; i++) {
			const unsigned char *s = &ring[stride * size_t(i)];
			uint32_t len;
			std::memcpy(&len, s, sizeof len);
			ltrack_event e;
			if (!ltrack::event_reader::decode(s + 8, len, e))
				die("a record did not decode");
			pipeline.on_event(e, models);
		}
		pipeline.flush();
		double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		if (pipeline.decisions() != uint64_t(records))
			die("the pipeline did not take every record");
		std::printf("%s{\"wall_s\":%.4f,\"cpu_s\":%.4f}", r ? "," : "", w1 - w0, c1 - c0);
		std::fflush(stdout);
	}
	std::printf("]}\n");
	for (pid_t pid : pids) {
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
	}
	if (own_dir) {
		std::error_code ec;
		std::filesystem::remove_all(dir, ec);
	}
	return 0;
}
