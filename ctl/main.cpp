// ltrackctl: the operator's command line for ltrack.
#include "commands.h"

int main(int argc, char **argv)
{
	CLI::App app{"ltrackctl: control and inspect ltrack, the BPF LSM guard for model-serving hosts"};
	app.require_subcommand(1);
	ltrack::ctl::context ctx;
	ltrack::ctl::add_check_command(app, ctx);
	ltrack::ctl::add_scan_command(app, ctx);
	ltrack::ctl::add_daemon_commands(app, ctx);
	ltrack::ctl::add_doctor_command(app, ctx);
	ltrack::ctl::add_export_command(app, ctx);
	ltrack::ctl::add_run_command(app, ctx);
	ltrack::ctl::add_learn_commands(app, ctx);
	CLI11_PARSE(app, argc, argv);
	return ctx.exit_code;
}
