// ltrackctl check: compiles a policy offline (no root, no daemon), prints
// every problem or what will be enforced, and explains single decisions by
// evaluating the compiled entries as the kernel does.
#include "commands.h"

#include "evaluate.h"
#include "policy.h"
#include "summary.h"

#include <iostream>
#include <memory>

namespace ltrack::ctl {

namespace {

struct check_options {
	std::string policy;
	bool json = false;
	bool no_resolve = false;
	std::string profile;
	std::vector<std::string> paths; // --path, one or more
	std::string exec, connect, socket, link;
	bool mount = false;
	std::vector<std::string> verdicts{"unscanned"};
};

int run_check(const check_options &o)
{
	policy::compile_options copts;
	copts.resolve_paths = !o.no_resolve;
	policy::compile_result r = policy::compile_file(o.policy, copts);
	bool explaining = !o.profile.empty();

	if (!explaining || !r.ok()) {
		if (o.json) {
			std::cout << policy::summary_json(r.policy ? &*r.policy : nullptr, r.diagnostics) << "\n";
		} else {
			std::cerr << policy::format_all(r.diagnostics);
			if (r.ok())
				policy::summary_text(std::cout, *r.policy);
			else
				std::cerr << o.policy << ": not loadable; fix the errors above\n";
		}
		return r.ok() ? 0 : 1;
	}

	if (!o.json)
		std::cerr << policy::format_all(r.diagnostics);
	std::vector<uint32_t> verdicts;
	for (const auto &name : o.verdicts) {
		auto v = policy::parse_verdict(name);
		if (!v) {
			std::cerr << "--verdict " << name
				  << ": use unscanned, safe, suspicious, unsafe, error or trusted\n";
			return 2;
		}
		verdicts.push_back(*v);
	}
	policy::path_resolver resolve = o.no_resolve ? policy::path_resolver(policy::resolve_synthetic)
						     : policy::path_resolver(policy::resolve_on_host);
	// Several paths or verdicts: one explanation each, every verdict of the
	// first path, then of the next (one JSON object per line with --json).
	std::vector<policy::explain_result> all;
	if (!o.paths.empty()) {
		for (const auto &path : o.paths)
			for (uint32_t v : verdicts)
				all.push_back(policy::explain_file(*r.policy, o.profile, path, v, resolve));
	} else if (!o.exec.empty()) {
		all.push_back(policy::explain_exec(*r.policy, o.profile, o.exec, resolve));
	} else if (!o.link.empty()) {
		for (uint32_t v : verdicts)
			all.push_back(policy::explain_link(*r.policy, o.profile, o.link, v, resolve));
	} else if (o.mount) {
		all.push_back(policy::explain_mount(*r.policy, o.profile));
	} else if (!o.socket.empty()) {
		all.push_back(policy::explain_socket(*r.policy, o.profile, o.socket));
	} else {
		all.push_back(policy::explain_connect(*r.policy, o.profile, o.connect));
	}
	for (const auto &e : all)
		if (!e.ex) {
			std::cerr << "explain: " << e.error << "\n";
			return 2;
		}
	for (const auto &e : all)
		std::cout << (o.json ? policy::explanation_json(*r.policy, *e.ex) + "\n"
				     : policy::explanation_text(*r.policy, *e.ex));
	return 0;
}

} // namespace

void add_check_command(CLI::App &app, context &ctx)
{
	auto o = std::make_shared<check_options>();
	CLI::App *check = app.add_subcommand(
		"check",
		"Compile a policy offline and print its errors (exit 1) or what it will enforce; with "
		"--explain-profile, say which rule decides one file open, exec, connect, socket, link/rename or mount, and why");
	check->add_option("policy", o->policy, "Policy file (TOML)")->required();
	check->add_flag("--json", o->json, "Machine-readable output");
	check->add_flag("--no-resolve", o->no_resolve,
			"Do not look at this host's files: treat every path as existing (for a policy meant for "
			"another host)");
	auto *prof = check->add_option("--explain-profile", o->profile, "Profile to explain a decision for");
	auto *path = check->add_option("--path", o->paths,
				       "Explain opening this file (several: one explanation each, in order)");
	auto *exec = check->add_option("--exec", o->exec, "Explain executing this program");
	auto *conn = check->add_option("--connect", o->connect,
				       "Explain connecting to ADDR:PORT[/tcp|udp], [ADDR6]:PORT[/...] or unix:PATH");
	auto *sock =
		check->add_option("--socket", o->socket,
				  "Explain creating a socket: FAMILY[/TYPE[/PROTOCOL]] as the decision log names them "
				  "(packet, inet/raw/icmp, netlink/raw/audit) or numbers");
	auto *lnk = check->add_option(
		"--link", o->link, "Explain a link or rename of this file or directory (refused when opening it is)");
	auto *mnt =
		check->add_flag("--mount", o->mount, "Explain a mount change (mount, umount, move, pivot_root, ...)");
	check->add_option(
		"--verdict", o->verdicts,
		"Scanner verdict to assume for a model file with --path or --link: unscanned (default), safe, "
		"suspicious, unsafe, error, trusted (several: one explanation each, every verdict of a path "
		"before the next path)");
	path->needs(prof);
	exec->needs(prof);
	conn->needs(prof);
	sock->needs(prof);
	lnk->needs(prof);
	mnt->needs(prof);
	path->excludes(exec, conn, sock, lnk, mnt);
	lnk->excludes(exec, conn, sock, mnt);
	mnt->excludes(exec, conn, sock);
	exec->excludes(conn, sock);
	conn->excludes(sock);
	check->callback([o, &ctx, prof] {
		if (prof->count() && o->paths.empty() && o->exec.empty() && o->connect.empty() && o->socket.empty() &&
		    o->link.empty() && !o->mount) {
			std::cerr
				<< "check: --explain-profile needs one of --path, --exec, --connect, --socket, --link or "
				   "--mount\n";
			ctx.exit_code = 2;
			return;
		}
		ctx.exit_code = run_check(*o);
	});
}

} // namespace ltrack::ctl
