// ltrackctl's subcommands. Each cmd_<name>.cpp registers one subcommand on
// the app; its callback leaves the process exit status in ctx.exit_code.
#pragma once

#include <CLI/CLI.hpp>

namespace ltrack::ctl {

struct context {
	int exit_code = 0;
};

void add_check_command(CLI::App &app, context &ctx);   // cmd_check.cpp: offline policy check, explain
void add_scan_command(CLI::App &app, context &ctx);    // cmd_scan.cpp: model file scanner
void add_daemon_commands(CLI::App &app, context &ctx); // cmd_daemon.cpp: status, reload, mode, ...
void add_doctor_command(CLI::App &app, context &ctx);  // cmd_doctor.cpp: can this kernel enforce?

} // namespace ltrack::ctl
