// Issue 20, pickles that never touch a file, from the outside: Debian's
// /usr/bin/python3 with the shipped ltrack-pyhook.pth (python/, loaded the
// way site loads /usr/lib/python3/dist-packages) receives a malicious pickle
// over a loopback socket and pickle.loads it. One daemon start, one policy:
// - governed, enforce (cgroup A; its profile refuses every Unix socket by
//   rule, and allows exec, so only the hook stands between the payload and
//   os.system): refused with the hook's exception, the payload's marker never
//   appears, the decision record (hook python, the global, the process) is in
//   the log; a benign pickle loads; in-memory exec and subprocess are
//   recorded; the control socket stays refused (EPERM); a forged report
//   (SCM_CREDENTIALS naming pid 1) is attributed to its real sender;
// - governed, audit (cgroup B): would_deny recorded and the load proceeds;
// - ungoverned: the payload runs (ltrack is not involved) and nothing is
//   recorded about that process.
#include "support.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <sstream>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string hex(const std::string &bytes)
{
	static const char *digits = "0123456789abcdef";
	std::string out;
	for (unsigned char c : bytes) {
		out += digits[c >> 4];
		out += digits[c & 15];
	}
	return out;
}

std::map<std::string, json> steps_of(const std::string &out)
{
	std::map<std::string, json> steps;
	std::istringstream lines(out);
	for (std::string l; std::getline(lines, l);)
		if (l.starts_with("{\"step\""))
			if (json j = json::parse(l); j.kind == json::object_v)
				steps[j["step"].s()] = j;
	return steps;
}

std::string q(const std::string &s)
{
	return "\"" + s + "\"";
}

std::string dump(const std::vector<json> &records, int pid)
{
	std::string s;
	for (const json &r : records)
		if (r["process"]["pid"].i() == pid)
			s += r["hook"].s() + " " + r["outcome"].s() + " " + r["python"]["event"].s() + " " +
			     r["python"]["global"].s() + r["python"]["object"].s() + r["file"]["path"].s() + "\n";
	return s;
}

TEST(PythonHook, InMemoryPicklesRefusedRecordedAndAttributedByLabel)
{
	temp_dir t;
	test_cgroup enforced("pyhook-enforce"), audited("pyhook-audit");
	std::string sections = "[profile.NAME.file]\ndefault = \"allow\"\n[profile.NAME.exec]\ndefault = \"allow\"\n"
			       "[profile.NAME.network]\ndefault = \"allow\"\n";
	auto profile = [&](const std::string &name, const std::string &cg, const std::string &extra) {
		std::string s = sections;
		for (auto at = s.find("NAME"); at != std::string::npos; at = s.find("NAME"))
			s.replace(at, 4, name);
		return "[profile." + name + "]\ncgroups = [" + q(cg) + "]\n" + extra + s;
	};
	std::string policy = "mode = \"enforce\"\n" + profile("pyenforce", enforced.path, "") + "unix = \"deny\"\n" +
			     profile("pyaudit", audited.path, "mode = \"audit\"\n");
	ltrackd d(policy);
	ASSERT_TRUE(d.start()) << d.output();
	std::string report = fs::path(d.socket_path()).parent_path() / "report.sock";
	ASSERT_TRUE(fs::exists(report)) << d.output();

	std::string script = source_dir() + "/tests/vm/models/pyhook_workload.py";
	auto python = [&](const std::string &cgroup, const std::string &marker) {
		run_options o;
		o.cgroup = cgroup;
		o.timeout = std::chrono::seconds(130); // a python3 start: 5 s on an idle host, a minute on a busy one
		o.env["LTRACK_REPORT_SOCKET"] = report;
		auto t0 = std::chrono::steady_clock::now();
		run_result r = run({"/usr/bin/python3", script, build_dir() + "/python", hex(malicious_pickle(marker)),
				    hex(benign_pickle()), report, d.socket_path()},
				   o);
		std::printf("python3 in cgroup '%s': exit %d after %.1f s\n%s\n", cgroup.c_str(), r.exit_code,
			    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
			    r.out.c_str());
		std::fflush(stdout);
		return r;
	};

	// Governed, enforce.
	std::string marker = t / "enforce-payload-ran";
	run_result py = python(enforced.path, marker);
	EXPECT_EQ(py.exit_code, 0) << py.out;
	auto steps = steps_of(py.out);
	EXPECT_TRUE(steps["hook"]["imported"].b) << py.out;
	EXPECT_FALSE(steps["evil"]["loaded"].b) << py.out;
	EXPECT_EQ(steps["evil"]["error"].s(), "RefusedByLtrack") << py.out;
	EXPECT_FALSE(fs::exists(marker)) << "the payload ran";
	EXPECT_EQ(steps["benign"]["value"].kind, json::object_v) << py.out;
	EXPECT_EQ(steps["exec"]["value"].i(), 42) << py.out;
	EXPECT_EQ(steps["subprocess"]["rc"].i(), 0) << py.out;
	EXPECT_EQ(steps["control"]["errno"].i(), EPERM) << py.out;
	EXPECT_EQ(steps["forged"]["answer"].s(), "refuse") << py.out;

	json refused = d.wait_for([&](const json &r) {
		return decision_for(py.pid, "python", "denied")(r) && r["python"]["global"].s() == "posix.system";
	});
	ASSERT_EQ(refused.kind, json::object_v) << dump(d.decisions(), py.pid) << read_file(d.log_path());
	EXPECT_EQ(refused["python"]["event"].s(), "find_class");
	EXPECT_EQ(refused["profile"].s(), "pyenforce");
	EXPECT_EQ(refused["mode"].s(), "enforce");
	EXPECT_EQ(refused["severity"].s(), "critical");
	EXPECT_EQ(refused["builtin"].s(), "pickle_deny_list");
	EXPECT_NE(refused["process"]["exe"].s().find("python3"), std::string::npos) << refused["process"]["exe"].s();
	for (const char *event : {"subprocess"})
		EXPECT_EQ(d.wait_for([&](const json &r) {
				   return decision_for(py.pid, "python", "audited")(r) &&
					  r["python"]["event"].s() == event;
			   }).kind,
			  json::object_v)
			<< event << "\n"
			<< dump(d.decisions(), py.pid);
	EXPECT_EQ(d.wait_for([&](const json &r) {
			   return decision_for(py.pid, "python", "audited")(r) &&
				  (r["python"]["event"].s() == "exec" || r["python"]["event"].s() == "compile") &&
				  r["python"]["object"].s() == "<downloaded>";
		   }).kind,
		  json::object_v)
		<< dump(d.decisions(), py.pid);
	// The forged report: recorded as the real sender's, never pid 1's.
	json forged =
		d.wait_for([&](const json &r) { return r["python"]["global"].s() == "subprocess.forged_by_pid_1"; });
	ASSERT_EQ(forged.kind, json::object_v) << dump(d.decisions(), py.pid);
	EXPECT_EQ(forged["process"]["pid"].i(), py.pid) << steps["forged"]["sent"].s();
	EXPECT_EQ(forged["profile"].s(), "pyenforce");
	std::printf("forged report sent %s: attributed to pid %lld (the sender %d)\n",
		    steps["forged"]["sent"].s().c_str(), forged["process"]["pid"].i(), py.pid);
	// The control socket: a tamper record; the report socket: none.
	EXPECT_EQ(d.wait_for(decision_for(py.pid, "tamper", "denied")).kind, json::object_v);
	for (const json &r : d.decisions())
		if (r["process"]["pid"].i() == py.pid && r["hook"].s() == "net")
			ADD_FAILURE() << "a net record for the report socket: " << r["net"]["path"].s();

	// Governed, audit: would_deny, and the load proceeds.
	std::string audit_marker = t / "audit-payload-ran";
	run_result pa = python(audited.path, audit_marker);
	EXPECT_EQ(pa.exit_code, 0) << pa.out;
	auto asteps = steps_of(pa.out);
	EXPECT_TRUE(asteps["evil"]["loaded"].b) << pa.out;
	EXPECT_TRUE(fs::exists(audit_marker)) << "audit mode: the load proceeds";
	json would = d.wait_for([&](const json &r) {
		return decision_for(pa.pid, "python", "would_deny")(r) && r["python"]["global"].s() == "posix.system";
	});
	ASSERT_EQ(would.kind, json::object_v) << dump(d.decisions(), pa.pid);
	EXPECT_EQ(would["mode"].s(), "audit");
	EXPECT_EQ(would["profile"].s(), "pyaudit");

	// Ungoverned: not affected, nothing recorded.
	std::string free_marker = t / "ungoverned-payload-ran";
	run_result pu = python("", free_marker);
	EXPECT_EQ(pu.exit_code, 0) << pu.out;
	auto usteps = steps_of(pu.out);
	EXPECT_TRUE(usteps["evil"]["loaded"].b) << pu.out;
	EXPECT_TRUE(fs::exists(free_marker));
	d.wait_for([](const json &) { return false; }, std::chrono::milliseconds(1500)); // a flush tick
	for (const json &r : d.decisions())
		EXPECT_NE(r["process"]["pid"].i(), pu.pid)
			<< "a record about the ungoverned process: " << r["hook"].s();
}

} // namespace
