// ltrackctl doctor: whether this host's kernel can enforce, one line per
// requirement with the fix, by the same probe ltrackd runs at start.
#include "commands.h"
#include "kernel_support.h"
#include "libbpf_call.h"

#include <unistd.h>

#include <cstdio>

namespace ltrack::ctl {

void add_doctor_command(CLI::App &app, context &ctx)
{
	app.add_subcommand("doctor", "Check that this kernel can enforce: BTF, bpf among the active LSMs, a trial "
				     "BPF LSM load and attach (needs root)")
		->callback([&ctx] {
			if (geteuid() != 0)
				std::fputs("note: not root, so the trial load will be refused; run as root for a real "
					   "answer\n",
					   stdout);
			route_libbpf_output(false); // libbpf's own words only with -v in ltrackd
			support_report r = probe_kernel_support();
			std::fputs(format_report(r).c_str(), stdout);
			ctx.exit_code = r.ok() ? 0 : 1;
		});
}

} // namespace ltrack::ctl
