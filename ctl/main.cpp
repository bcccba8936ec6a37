// ltrackctl: the operator's command line for ltrack.
#include "cli.h"
#include "commands.h"

int main(int argc, char **argv)
{
	CLI::App app{"ltrackctl: control and inspect ltrack, the BPF LSM guard for model-serving hosts"};
	app.require_subcommand(1);
	ltrack::add_version_flag(app, "ltrackctl");
	ltrack::ctl::context ctx;
	ltrack::ctl::add_check_command(app, ctx);
	ltrack::ctl::add_scan_command(app, ctx);
	ltrack::ctl::add_daemon_commands(app, ctx);
	ltrack::ctl::add_doctor_command(app, ctx);
	ltrack::ctl::add_export_command(app, ctx);
	ltrack::ctl::add_run_command(app, ctx);
	ltrack::ctl::add_learn_commands(app, ctx);
	if (auto code = ltrack::parse_command_line(app, argc, argv))
		return *code;
	return ctx.exit_code;
}
