// Commands that talk to a running ltrackd over its control socket. The
// daemon does the work (it holds the maps and the decision history); these
// only carry the request and print the reply.
#include "commands.h"

#include "abi_names.h"
#include "control_protocol.h"
#include "daemon_client.h"
#include "escape.h"
#include "json.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace ltrack::ctl {
namespace {

struct daemon_opts {
	std::string socket = control::default_socket;
	bool json = false;
};

// Prints the reply: the body on stdout, or the error on stderr (exit 1).
// Under --json an error is {"error": ...} on stdout instead, with the same
// exit status, and so is anything else: `as_json` turns a success reply
// that is not JSON itself (mode, unload) into its object.
int show(const daemon_reply &r, bool json = false, const std::function<std::string(const std::string &)> &as_json = {})
{
	if (!r.ok) {
		if (json) {
			std::cout << json_error(r.body) << std::endl;
			return 1;
		}
		std::cerr << "ltrackctl: " << r.body;
		if (!r.body.empty() && r.body.back() != '\n')
			std::cerr << '\n';
		return 1;
	}
	if (json && as_json)
		std::cout << as_json(r.body) << std::endl;
	else
		std::cout << r.body << std::flush;
	return 0;
}

// A daemon that did not understand "json" (an older ltrackd) answers in
// text: still one JSON document on stdout.
std::string json_or_message(const std::string &body)
{
	if (!body.empty() && body.front() == '{')
		return body.back() == '\n' ? body.substr(0, body.size() - 1) : body;
	std::string msg = body;
	while (!msg.empty() && msg.back() == '\n')
		msg.pop_back();
	return json_object().str("message", msg).text();
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
		ctx.exit_code = show(ask_daemon(opts->socket, f), opts->json);
	});

	auto policy = std::make_shared<std::string>();
	auto *reload = app.add_subcommand("reload", "Compile a policy and swap it in atomically; a policy with "
						    "any error is rejected and the active one stays");
	socket_opt(reload);
	reload->add_option("policy", *policy, "Policy file (default: the one ltrackd runs)");
	reload->add_flag("--json", opts->json,
			 "The outcome as one JSON object (counts and phase timings, or \"error\")");
	reload->callback([&ctx, opts, policy] {
		std::vector<std::string> f{"reload"};
		if (!policy->empty()) {
			// Always absolute: the daemon tells the path from the option
			// words by its leading '/' (control_protocol.h).
			char *abs = realpath(policy->c_str(), nullptr);
			std::error_code ec;
			f.push_back(abs ? std::string(abs) : std::filesystem::absolute(*policy, ec).string());
			free(abs);
		}
		if (opts->json)
			f.push_back("json");
		// On a terminal, each phase (compile, fill, swap) is shown as it
		// starts and ends; a script or systemd's ExecReload= gets none.
		bool tty = isatty(STDERR_FILENO) == 1;
		if (tty)
			f.push_back("progress");
		progress_fn on_progress;
		if (tty)
			on_progress = [](const std::string &phase, const std::string &text) {
				std::cerr << "reload: " << text_escape(phase) << ": " << text_escape(text) << std::endl;
			};
		daemon_reply r = ask_daemon(opts->socket, f, on_progress);
		// An ltrackd older than this ltrackctl (binaries upgraded, daemon
		// not restarted yet) takes the first field after "reload" for the
		// path: without a path, "json" or "progress" was compiled as a file
		// and rejected, nothing changed. Ask again the old way.
		if (!r.ok && policy->empty() && f.size() > 1 &&
		    (r.body.rfind("rejected json;", 0) == 0 || r.body.rfind("rejected progress;", 0) == 0))
			r = ask_daemon(opts->socket, {"reload"});
		ctx.exit_code = show(r, opts->json, json_or_message);
	});

	auto mode = std::make_shared<std::string>();
	auto profile = std::make_shared<std::string>();
	auto *mode_cmd = app.add_subcommand("mode", "Switch to enforce or audit at once (no reload)");
	socket_opt(mode_cmd);
	mode_cmd->add_option("mode", *mode, "enforce | audit | inherit (inherit: only with --profile)")
		->required()
		->check(CLI::IsMember(abi::names_of({LTRACK_MODE_ENFORCE, LTRACK_MODE_AUDIT, LTRACK_MODE_INHERIT})));
	mode_cmd->add_option("--profile", *profile, "Only this profile");
	mode_cmd->add_flag("--json", opts->json,
			   "The outcome as one JSON object (\"mode\", \"profile\", or \"error\")");
	mode_cmd->callback([&ctx, opts, mode, profile] {
		std::vector<std::string> f{"mode", *mode};
		if (!profile->empty())
			f.push_back(*profile);
		ctx.exit_code = show(ask_daemon(opts->socket, f), opts->json, [&](const std::string &) {
			json_object o;
			o.str("mode", *mode);
			if (!profile->empty())
				o.str("profile", *profile);
			return o.text();
		});
	});

	auto *stats = app.add_subcommand("stats", "Decision counters per hook, profile, action and rule, and drops");
	socket_opt(stats);
	stats->add_flag("--json", opts->json, "JSON output");
	stats->callback([&ctx, opts] {
		std::vector<std::string> f{"stats"};
		if (opts->json)
			f.push_back("json");
		ctx.exit_code = show(ask_daemon(opts->socket, f), opts->json);
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
		// --format json: JSON lines, and an error is one more JSON line.
		ctx.exit_code = show(stream_daemon(opts->socket, f,
						   [](const std::string &line) {
							   std::cout << line << std::endl;
							   return static_cast<bool>(std::cout);
						   }),
				     ev->format == "json");
	});

	auto *unload = app.add_subcommand("unload", "Stop enforcing: detach and unpin everything, stop ltrackd");
	socket_opt(unload);
	unload->add_flag("--json", opts->json, "The outcome as one JSON object (\"unloading\": true, or \"error\")");
	unload->callback([&ctx, opts] {
		ctx.exit_code = show(ask_daemon(opts->socket, {"unload"}), opts->json, [](const std::string &body) {
			std::string msg = body;
			while (!msg.empty() && msg.back() == '\n')
				msg.pop_back();
			return json_object().boolean("unloading", true).str("message", msg).text();
		});
	});
}

} // namespace ltrack::ctl
