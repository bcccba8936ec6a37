// What every VM test needs to prove behaviour from the outside: a real
// ltrackd with a policy written by the test, real processes (the actor,
// python3, a shell) that open, exec and connect, and the decision log read
// back as JSON by a parser of its own (not the daemon's formatter).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ltrack::vmtest {

std::string build_dir();
std::string source_dir();
std::string ltrackd_path();
std::string ltrackctl_path();
std::string actor_path();

// A fresh directory under /tmp, removed (recursively) at the end.
struct temp_dir {
	temp_dir();
	~temp_dir();
	temp_dir(const temp_dir &) = delete;
	std::string path;
	std::string operator/(const std::string &name) const { return path + "/" + name; }
};

void write_file(const std::string &path, const std::string &content);
std::string read_file(const std::string &path);

// ---- processes ------------------------------------------------------------

struct run_options {
	std::string cgroup;     // join this cgroup (its directory) before exec
	int uid = -1, gid = -1; // drop to these ids before exec
	std::chrono::seconds timeout{60};
	std::map<std::string, std::string> env; // added to the environment
};

struct run_result {
	int pid = 0;
	int exit_code = -1; // -1 when killed by a signal
	int signal = 0;
	std::string out; // stdout and stderr together
	// The actor reports errno as exit code 100 + errno.
	int actor_errno() const { return exit_code >= 100 ? exit_code - 100 : 0; }
};

run_result run(const std::vector<std::string> &argv, const run_options &opt = {});
// The actor (tests/vm/actor/actor.cpp) with these arguments.
run_result actor(const std::vector<std::string> &args, const run_options &opt = {});

// A cgroup v2 directory created for the test and removed at the end.
struct test_cgroup {
	explicit test_cgroup(const std::string &name);
	~test_cgroup();
	std::string path;
};

// ---- JSON (the decision log) ----------------------------------------------

// A parsed JSON value: enough to read decision records.
struct json {
	enum kind_t { null_v, bool_v, number_v, string_v, array_v, object_v } kind = null_v;
	bool b = false;
	double num = 0;
	std::string str;
	std::vector<json> items;
	std::map<std::string, json> fields;

	const json &operator[](const std::string &key) const; // null when absent
	std::string s() const { return str; }
	long long i() const { return static_cast<long long>(num); }
	bool has(const std::string &key) const { return fields.count(key) != 0; }
	static json parse(const std::string &text, std::string *error = nullptr);
};

// ---- the daemon -----------------------------------------------------------

struct daemon_options {
	std::vector<std::string> extra_args;
	std::map<std::string, std::string> env;
	bool keep_pins = false; // do not --unload at the end (a test that restarts)
	std::string executable; // run this copy of ltrackd (default: ltrackd_path())
};

// ltrackd with its own policy file, decision log, socket and pin directory,
// started and readied (sd_notify READY=1) by start().
class ltrackd {
public:
	explicit ltrackd(const std::string &policy_text, daemon_options opt = {});
	~ltrackd();

	// Starts ltrackd and waits until it enforces; false (with output()) if
	// it exited or did not get ready in time.
	bool start(std::chrono::seconds timeout = std::chrono::seconds(60));
	void stop();  // SIGTERM and wait
	void kill9(); // SIGKILL and wait: what a crash looks like
	bool running() const;
	int pid() const { return pid_; }
	int exit_status() const { return exit_status_; }
	std::string output() const; // what ltrackd printed (stdout + stderr)

	run_result ctl(const std::vector<std::string> &args, const run_options &opt = {}) const;

	const std::string &policy_path() const { return policy_; }
	const std::string &log_path() const { return log_; }
	const std::string &socket_path() const { return socket_; }
	const std::string &pin_dir() const { return pins_; }
	const std::string &dir() const { return dir_.path; }

	// Every decision record written so far (lines with "type":"decision").
	std::vector<json> decisions() const;
	// Waits until a decision record satisfies pred; returns it (or null).
	json wait_for(const std::function<bool(const json &)> &pred,
		      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const;

private:
	temp_dir dir_;
	daemon_options opt_;
	std::string policy_, log_, socket_, pins_, out_;
	int pid_ = -1;
	int exit_status_ = -1;
};

// A record about this process and object, for wait_for().
std::function<bool(const json &)> decision_for(int pid, const std::string &hook, const std::string &outcome);

// ---- model files ----------------------------------------------------------

// Pickles (protocol 2) byte for byte as tests/vm/models/model_tool.py writes
// them (a python3 start costs 20-60 s in the emulated guest):
// malicious_pickle's load runs os.system("touch MARKER") (GLOBAL posix.system:
// the scanner calls it unsafe); benign_pickle is plain data (safe);
// appended_pickle is pickle.dumps({"appended": True}).
std::string binunicode(const std::string &s);
std::string malicious_pickle(const std::string &marker);
std::string benign_pickle();
std::string appended_pickle();

} // namespace ltrack::vmtest
