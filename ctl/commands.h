// ltrackctl's subcommands. Each cmd_<name>.cpp registers one subcommand on
// the app; its callback leaves the process exit status in ctx.exit_code.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ltrack::ctl {

struct context {
	int exit_code = 0;
};

void add_check_command(CLI::App &app, context &ctx);   // cmd_check.cpp: offline policy check, explain
void add_scan_command(CLI::App &app, context &ctx);    // cmd_scan.cpp: model file scanner
void add_daemon_commands(CLI::App &app, context &ctx); // cmd_daemon.cpp: status, reload, mode, ...
void add_doctor_command(CLI::App &app, context &ctx);  // cmd_doctor.cpp: can this kernel enforce?
void add_export_command(CLI::App &app, context &ctx);  // cmd_export.cpp: decision history as a provenance graph
void add_run_command(CLI::App &app, context &ctx);     // cmd_run.cpp: one command under a profile, summarised
void add_learn_commands(CLI::App &app, context &ctx);  // cmd_learn.cpp: learn a policy from the log, replay a log

// The record selection of `events` and `export` (--profile ... --filter), as
// the "key=value" fields the daemon's events request takes (cmd_daemon.cpp).
void add_selection_options(CLI::App *c, std::shared_ptr<std::vector<std::string>> filters);

} // namespace ltrack::ctl
