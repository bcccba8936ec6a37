// ltrackctl doctor: whether this host's kernel can enforce, one line per
// requirement with the fix, by the same probe ltrackd runs at start.
#include "commands.h"
#include "json.h"
#include "kernel_support.h"
#include "libbpf_call.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace ltrack::ctl {

void add_doctor_command(CLI::App &app, context &ctx)
{
	auto json = std::make_shared<bool>(false);
	auto *cmd =
		app.add_subcommand("doctor", "Check that this kernel can enforce: BTF, bpf among the active LSMs, a "
					     "trial BPF LSM load and attach (needs root)");
	cmd->add_flag("--json", *json, "The report as one JSON object (\"ok\", \"checks\")");
	cmd->callback([&ctx, json] {
		// The note goes to stderr under --json: stdout is one JSON document.
		if (geteuid() != 0)
			std::fputs("note: not root, so the trial load will be refused; run as root for a real answer\n",
				   *json ? stderr : stdout);
		route_libbpf_output(false); // libbpf's own words only with -v in ltrackd
		support_report r = probe_kernel_support();
		std::fputs((*json ? format_report_json(r) : format_report(r)).c_str(), stdout);
		ctx.exit_code = r.ok() ? 0 : 1;
	});
}

} // namespace ltrack::ctl
