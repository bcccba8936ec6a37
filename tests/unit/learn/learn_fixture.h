// Shared by the learn tests: a temporary directory and decision records as
// the decision log holds them (hook, outcome, profile, the deciding rule).
#pragma once

#include "record.h"
#include "record_format.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace learn_test {

using ltrack::tracing::decision_record;

struct temp_dir {
	std::string path;
	temp_dir()
	{
		char tmpl[] = "/tmp/ltrack-learn-test-XXXXXX";
		path = mkdtemp(tmpl);
	}
	~temp_dir() { std::filesystem::remove_all(path); }
	std::string operator/(const std::string &name) const { return path + "/" + name; }
};

inline void write(const std::string &path, const std::string &text)
{
	std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline decision_record rec(const std::string &hook, const std::string &object,
			   const std::string &outcome = "would_deny", const std::string &rule_text = "",
			   uint64_t count = 1, const std::string &profile = "work")
{
	decision_record r;
	r.time = "2026-12-02T10:00:00.000000001Z";
	r.hook = ltrack::abi::value_of<ltrack_hook>(hook).value();
	r.outcome = ltrack::abi::value_of<ltrack_outcome>(outcome).value();
	r.action = LTRACK_ACT_DENY;
	r.mode = r.outcome == LTRACK_OUT_WOULD_DENY ? LTRACK_MODE_AUDIT : LTRACK_MODE_ENFORCE;
	r.count = count;
	r.rule.profile = profile;
	r.rule.rule_id = 3;
	r.rule.file = "/etc/ltrack/policy.toml";
	r.rule.line = 9;
	r.rule.text = rule_text.empty() ? (hook == "exec"  ? "exec default deny"
					   : hook == "net" ? "network default deny"
							   : "file default deny")
					: rule_text;
	r.pid = 42;
	r.comm = "wsh";
	r.process.mut().exe = "/usr/bin/wsh";
	if (hook == "net") {
		// object: "unix:PATH" or "ADDR PORT PROTO"
		if (object.rfind("unix:", 0) == 0) {
			r.family = "unix";
			r.path = object.substr(5);
		} else {
			std::size_t a = object.find(' '), b = object.rfind(' ');
			r.addr_text = object.substr(0, a);
			r.family = r.addr_text.find(':') != std::string::npos ? "inet6" : "inet";
			r.port = uint16_t(std::stoul(object.substr(a + 1, b - a - 1)));
			r.proto = object.substr(b + 1);
		}
	} else if (hook == "socket") {
		// object: FAMILY/TYPE/PROTO
		std::size_t a = object.find('/'), b = object.rfind('/');
		r.family = object.substr(0, a);
		r.sock_type = object.substr(a + 1, b - a - 1);
		r.proto = object.substr(b + 1);
	} else {
		r.path = object;
		r.dev = "8:1";
		r.ino = 1234;
	}
	return r;
}

inline std::string line(const decision_record &r)
{
	return ltrack::tracing::format_json(r) + "\n";
}

} // namespace learn_test
