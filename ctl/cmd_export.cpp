// ltrackctl export --provenance: the daemon's recent decisions, selected as
// `events` selects them, as a provenance graph in JSON lines
// (docs/provenance.md). The daemon builds the graph: it holds the records
// and the process cache that resolves parents.
#include "commands.h"
#include "control_protocol.h"
#include "daemon_client.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace ltrack::ctl {

void add_export_command(CLI::App &app, context &ctx)
{
	struct export_opts {
		std::string socket = control::default_socket;
		bool provenance = false;
		std::string output;
		std::vector<std::string> filters;
	};
	auto o = std::make_shared<export_opts>();
	auto *cmd = app.add_subcommand("export", "Write the recent decisions as a provenance graph (JSON lines of "
						 "process, file and socket nodes and fork, exec, open, connect edges)");
	cmd->add_option("--socket", o->socket, "ltrackd's control socket")->capture_default_str();
	cmd->add_flag("--provenance", o->provenance, "Provenance graph (the only export format)")->required();
	cmd->add_option("-o,--output", o->output,
			"Write to this file (replaced whole, never half-written); default stdout");
	add_selection_options(cmd, std::shared_ptr<std::vector<std::string>>(o, &o->filters));
	cmd->callback([&ctx, o] {
		std::vector<std::string> f{"events", "recent", "provenance"};
		f.insert(f.end(), o->filters.begin(), o->filters.end());
		std::string graph;
		daemon_reply r = stream_daemon(o->socket, f, [&graph](const std::string &line) {
			graph += line + "\n";
			return true;
		});
		if (!r.ok) {
			std::cerr << "ltrackctl: " << r.body;
			if (!r.body.empty() && r.body.back() != '\n')
				std::cerr << '\n';
			ctx.exit_code = 1;
			return;
		}
		if (o->output.empty()) {
			std::cout << graph << std::flush;
			ctx.exit_code = std::cout ? 0 : 1;
			return;
		}
		std::string tmp = o->output + ".tmp." + std::to_string(getpid());
		std::ofstream out(tmp, std::ios::trunc);
		out << graph;
		out.close();
		if (!out || std::rename(tmp.c_str(), o->output.c_str()) != 0) {
			std::perror(("ltrackctl: writing " + o->output).c_str());
			std::remove(tmp.c_str());
			ctx.exit_code = 1;
		}
	});
}

} // namespace ltrack::ctl
