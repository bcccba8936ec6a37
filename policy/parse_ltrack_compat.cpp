// The ltrack (github.com/mxcrafts/ltrack) policy.toml, accepted as it is so
// its users can switch: every monitor becomes observe-only (audit) rules in
// one profile that governs all processes, in audit mode.
#include "parse_policy.h"

#include "abi.h"
#include "net_address.h"

#include <unistd.h>

namespace ltrack::policy {

namespace {

// ltrack watches commands by name; ltrack matches executables by identity,
// so a name is looked up where a service's PATH would find it.
const char *const search_path[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};

} // namespace

policy_def parse_ltrack_compat(parse_context &ctx, const toml::table &doc)
{
	policy_def pol;
	pol.file = ctx.file;
	pol.ltrack_compat = true;
	pol.mode = LTRACK_MODE_AUDIT;
	table_reader top(ctx, doc, "", {"file_monitor", "exec_monitor", "network_monitor", "log", "storage"});
	read_log(ctx, top, pol.log);
	if (top.has("storage"))
		ctx.warn(pos_of(*top.get("storage")), "[storage] is ltrack's event store and is ignored; ltrack writes "
						      "its decision log as [log] says");

	profile_def p;
	p.name = "ltrack-compat";
	p.pos = {1, 1};
	p.all = true;
	// Observe only: no socket kind is refused or recorded.
	p.sockets.written = true;
	p.sockets.families = ~0ull;
	p.sockets.inet = ~0u;
	p.sockets.netlink = ~0u;
	p.mode = LTRACK_MODE_AUDIT;

	auto enabled = [&](table_reader &r) { return r.boolean("enabled").value_or(true); };

	if (const toml::table *t = top.subtable("file_monitor")) {
		table_reader r(ctx, *t, "file_monitor", {"enabled", "directories"});
		if (enabled(r) && r.array("directories")) {
			for (const auto &n : *r.array("directories")) {
				auto s = string_value(ctx, n, "file_monitor.directories entry");
				if (!s)
					continue;
				if (s->empty() || (*s)[0] != '/') {
					ctx.error(pos_of(n),
						  "file_monitor.directories: \"" + *s + "\" is not an absolute path");
					continue;
				}
				p.file_rules.push_back(
					{target_kind::dir, *s, LTRACK_ACT_AUDIT, true, pos_of(n), 0, {}});
			}
		}
	}
	if (const toml::table *t = top.subtable("exec_monitor")) {
		table_reader r(ctx, *t, "exec_monitor", {"enabled", "watch_commands"});
		if (enabled(r) && r.array("watch_commands")) {
			for (const auto &n : *r.array("watch_commands")) {
				auto s = string_value(ctx, n, "exec_monitor.watch_commands entry");
				if (!s || s->empty())
					continue;
				if ((*s)[0] == '/') {
					p.exec_rules.push_back(
						{target_kind::file, *s, LTRACK_ACT_AUDIT, true, pos_of(n), 0, {}});
					continue;
				}
				if (s->find('/') != std::string::npos) {
					ctx.error(pos_of(n), "exec_monitor.watch_commands: \"" + *s +
								     "\" must be a command name or "
								     "an absolute path");
					continue;
				}
				bool found = false;
				for (const char *dir : search_path) {
					std::string full = std::string(dir) + "/" + *s;
					if (access(full.c_str(), X_OK) == 0) {
						p.exec_rules.push_back({target_kind::file,
									full,
									LTRACK_ACT_AUDIT,
									true,
									pos_of(n),
									0,
									{}});
						found = true;
						break;
					}
				}
				if (!found)
					ctx.warn(
						pos_of(n),
						"exec_monitor.watch_commands: no command \"" + *s +
							"\" in /usr/local/sbin, "
							"/usr/local/bin, /usr/sbin, /usr/bin, /sbin or /bin; not watched "
							"(write its absolute path)");
			}
		}
	}
	if (const toml::table *t = top.subtable("network_monitor")) {
		table_reader r(ctx, *t, "network_monitor", {"enabled", "ports", "protocols"});
		uint8_t proto = 0;
		if (const toml::array *a = r.array("protocols")) {
			bool tcp = false, udp = false;
			for (const auto &n : *a) {
				auto s = string_value(ctx, n, "network_monitor.protocols entry");
				if (s && (*s == "tcp" || *s == "TCP"))
					tcp = true;
				else if (s && (*s == "udp" || *s == "UDP"))
					udp = true;
				else if (s)
					ctx.error(pos_of(n), "network_monitor.protocols: \"" + *s +
								     "\" is not \"tcp\" or \"udp\"");
			}
			proto = tcp && !udp ? 6 : udp && !tcp ? 17 : 0;
		}
		if (enabled(r) && r.array("ports")) {
			for (const auto &n : *r.array("ports")) {
				const auto *i = n.as_integer();
				if (!i || i->get() < 0 || i->get() > 65535) {
					ctx.error(pos_of(n),
						  "network_monitor.ports: expected a port from 0 to 65535, found " +
							  (i ? std::to_string(i->get()) : type_name(n)));
					continue;
				}
				net_rule nr;
				nr.cidrs.push_back(*parse_cidr("::/0"));
				nr.cidrs.back().text = "any";
				nr.ports.push_back({uint16_t(i->get()), uint16_t(i->get())});
				nr.proto = proto;
				nr.action = LTRACK_ACT_AUDIT;
				nr.pos = pos_of(n);
				p.net_rules.push_back(std::move(nr));
			}
		}
	}
	pol.profiles.push_back(std::move(p));
	return pol;
}

} // namespace ltrack::policy
