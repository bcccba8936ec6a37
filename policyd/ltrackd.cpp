// ltrackd: compiles the policy, loads and pins ltrack's BPF LSM programs,
// writes the policy into their maps, and turns their decisions into the
// decision log.
#include "bpf_guard.h"
#include "cli.h"
#include "daemon.h"
#include "json.h"
#include "kernel_support.h"
#include "service_manager.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <unistd.h>

int main(int argc, char **argv)
{
	ltrack::daemon_options opt;
	bool unload = false;
	bool check_support = false;
	bool verbose = false;
	bool json = false;
	CLI::App app{"ltrackd: the ltrack policy daemon. Enforces a TOML policy with BPF LSM programs on "
		     "file_open, bprm_check_security and socket_connect, and logs every decision."};
	app.add_option("-p,--policy", opt.policy_path, "Policy file")->capture_default_str();
	app.add_option("--pin-dir", opt.pin_dir, "Where programs, links and maps are pinned (bpffs)")
		->capture_default_str();
	app.add_option("--socket", opt.socket_path, "Control socket for ltrackctl")->capture_default_str();
	app.add_option("--report-socket", opt.report_socket,
		       "Report socket for governed Python interpreters' audit hook (default: report.sock next to the "
		       "control socket)");
	app.add_option("--decision-log", opt.decision_log,
		       "Decision log file (overrides [log].output_path; '-' for stdout only)");
	app.add_flag("-f,--foreground", opt.foreground, "Also write decisions to stdout");
	app.add_flag("--unload", unload, "Remove everything ltrack pinned (detaching its programs) and exit");
	app.add_flag(
		"--check-support", check_support,
		"Check whether this kernel can enforce (BTF, bpf in the LSM list, trial load and attach) and exit");
	app.add_flag("-v,--verbose", verbose, "Debug output, including libbpf's");
	app.add_flag("--json", json,
		     "With --check-support or --unload: the report (or the error) as one JSON object on stdout");
	ltrack::add_version_flag(app, "ltrackd");
	if (auto code = ltrack::parse_command_line(app, argc, argv))
		return *code;

	ltrack::service::setup_logging("ltrackd", verbose);
	ltrack::route_libbpf_output(verbose);

	// --json is for the one-shot reports; the daemon's output is its log.
	if (json && !check_support && !unload) {
		std::fputs(
			"ltrackd: --json goes with --check-support or --unload\nRun with --help for more information.\n",
			stderr);
		return 2;
	}
	auto fail = [json](const std::string &msg) {
		if (json)
			std::printf("%s\n", ltrack::json_error(msg).c_str());
		spdlog::error("{}", msg);
		return 1;
	};
	if (geteuid() != 0)
		return fail("must run as root (it loads BPF LSM programs)");
	if (check_support) {
		ltrack::support_report r = ltrack::probe_kernel_support();
		std::fputs((json ? ltrack::format_report_json(r) : ltrack::format_report(r)).c_str(), stdout);
		return r.ok() ? 0 : 1;
	}
	if (unload) {
		auto s = ltrack::bpf_guard::unpin_all(opt.pin_dir);
		if (!s.ok())
			return fail(s.error);
		ltrack::bpf_guard::unpin_shared_if_unused();
		spdlog::info("removed everything pinned under {}; ltrack no longer enforces", opt.pin_dir);
		if (json)
			std::printf("%s\n", ltrack::json_object()
						    .boolean("unloaded", true)
						    .str("pin_dir", opt.pin_dir)
						    .text()
						    .c_str());
		return 0;
	}
	return ltrack::run_daemon(opt);
}
