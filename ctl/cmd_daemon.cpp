// Commands that talk to a running ltrackd.
#include "commands.h"

namespace ltrack::ctl {
void add_daemon_commands(CLI::App &, context &)
{
}
} // namespace ltrack::ctl
