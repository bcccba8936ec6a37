// Placeholder until the check command lands.
#include "commands.h"

namespace ltrack::ctl {
void add_check_command(CLI::App &app, context &ctx)
{
	app.add_subcommand("check", "not available yet")->callback([&ctx] { ctx.exit_code = 2; });
}
} // namespace ltrack::ctl
