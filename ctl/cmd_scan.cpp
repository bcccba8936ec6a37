// Placeholder until the scan command lands.
#include "commands.h"

namespace ltrack::ctl {
void add_scan_command(CLI::App &app, context &ctx)
{
	app.add_subcommand("scan", "not available yet")->callback([&ctx] { ctx.exit_code = 2; });
}
} // namespace ltrack::ctl
