// Commands that talk to a running ltrackd over its control socket. The
// daemon does the work (it holds the maps and the decision history); these
// only carry the request and print the reply.
#include "commands.h"
#include "control_protocol.h"
#include "daemon_client.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace ltrack::ctl {
namespace {

struct daemon_opts {
	std::string socket = control::default_socket;
	bool json = false;
};

int show(const daemon_reply &r)
{
	if (!r.ok) {
		std::cerr << "ltrackctl: " << r.body;
		if (!r.body.empty() && r.body.back() != '\n')
			std::cerr << '\n';
		return 1;
	}
	std::cout << r.body << std::flush;
	return 0;
}

} // namespace

void add_selection_options(CLI::App *c, std::shared_ptr<std::vector<std::string>> filters)
{
	for (const char *key : {"profile", "action", "severity", "pid", "exe", "path", "dest", "port", "container"})
		c->add_option_function<std::string>(
			std::string("--") + key,
			[filters, key](const std::string &v) { filters->push_back(std::string(key) + "=" + v); },
			std::string("Only records whose ") + key + " matches");
	c->add_option_function<std::string>(
		"--filter", [filters](const std::string &v) { filters->push_back("expr=" + v); },
		"Filter expression, e.g. 'dport=80 && dip=\"10.0.0.0/8\"; container=\"redis\"'");
}

void add_daemon_commands(CLI::App &app, context &ctx)
{
	auto opts = std::make_shared<daemon_opts>();
	auto socket_opt = [opts](CLI::App *c) {
		c->add_option("--socket", opts->socket, "ltrackd's control socket")->capture_default_str();
	};

	auto *status = app.add_subcommand("status", "Mode, policy and its digest, profiles, rule counts, "
						    "programs, kernel support, uptime, drops");
	socket_opt(status);
	status->add_flag("--json", opts->json, "JSON output");
	status->callback([&ctx, opts] {
		std::vector<std::string> f{"status"};
		if (opts->json)
			f.push_back("json");
		ctx.exit_code = show(ask_daemon(opts->socket, f));
	});

	auto policy = std::make_shared<std::string>();
	auto *reload = app.add_subcommand("reload", "Compile a policy and swap it in atomically; a policy with "
						    "any error is rejected and the active one stays");
	socket_opt(reload);
	reload->add_option("policy", *policy, "Policy file (default: the one ltrackd runs)");
	reload->callback([&ctx, opts, policy] {
		std::vector<std::string> f{"reload"};
		if (!policy->empty()) {
			char *abs = realpath(policy->c_str(), nullptr);
			f.push_back(abs ? abs : *policy);
			free(abs);
		}
		ctx.exit_code = show(ask_daemon(opts->socket, f));
	});

	auto mode = std::make_shared<std::string>();
	auto profile = std::make_shared<std::string>();
	auto *mode_cmd = app.add_subcommand("mode", "Switch to enforce or audit at once (no reload)");
	socket_opt(mode_cmd);
	mode_cmd->add_option("mode", *mode, "enforce | audit | inherit (inherit: only with --profile)")
		->required()
		->check(CLI::IsMember({"enforce", "audit", "inherit"}));
	mode_cmd->add_option("--profile", *profile, "Only this profile");
	mode_cmd->callback([&ctx, opts, mode, profile] {
		std::vector<std::string> f{"mode", *mode};
		if (!profile->empty())
			f.push_back(*profile);
		ctx.exit_code = show(ask_daemon(opts->socket, f));
	});

	auto *stats = app.add_subcommand("stats", "Decision counters per hook, profile, action and rule, and drops");
	socket_opt(stats);
	stats->add_flag("--json", opts->json, "JSON output");
	stats->callback([&ctx, opts] {
		std::vector<std::string> f{"stats"};
		if (opts->json)
			f.push_back("json");
		ctx.exit_code = show(ask_daemon(opts->socket, f));
	});

	struct events_opts {
		bool follow = false;
		std::string format = "text";
		std::vector<std::string> filters;
	};
	auto ev = std::make_shared<events_opts>();
	auto *events = app.add_subcommand("events", "Show decisions (recent ones, or --follow as they happen)");
	socket_opt(events);
	events->add_flag("-F,--follow", ev->follow, "Keep streaming new decisions");
	events->add_option("--format", ev->format, "json | text | table")
		->check(CLI::IsMember({"json", "text", "table"}))
		->capture_default_str();
	add_selection_options(events, std::shared_ptr<std::vector<std::string>>(ev, &ev->filters));
	events->callback([&ctx, opts, ev] {
		std::vector<std::string> f{"events", ev->follow ? "follow" : "recent", ev->format};
		for (const auto &flt : ev->filters)
			f.push_back(flt);
		ctx.exit_code = show(stream_daemon(opts->socket, f, [](const std::string &line) {
			std::cout << line << std::endl;
			return static_cast<bool>(std::cout);
		}));
	});

	auto *unload = app.add_subcommand("unload", "Stop enforcing: detach and unpin everything, stop ltrackd");
	socket_opt(unload);
	unload->callback([&ctx, opts] { ctx.exit_code = show(ask_daemon(opts->socket, {"unload"})); });
}

} // namespace ltrack::ctl
