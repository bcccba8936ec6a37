// Command-line conventions both programs share: --version, and exit status 2
// for a usage error (CLI11's own codes, 105 to 109, mean nothing to a shell).
#pragma once

#include "version.h"

#include <CLI/CLI.hpp>

#include <optional>

namespace ltrack {

inline void add_version_flag(CLI::App &app, const char *program)
{
	app.set_version_flag("--version", std::string(program) + " " + LTRACK_VERSION);
}

// Parses argv. nullopt: go on; otherwise exit with this status: 0 after
// --help or --version, 2 after a usage error (printed with the usage hint).
inline std::optional<int> parse_command_line(CLI::App &app, int argc, char **argv)
{
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int code = app.exit(e);
		return code == 0 ? 0 : 2;
	}
	return std::nullopt;
}

} // namespace ltrack
