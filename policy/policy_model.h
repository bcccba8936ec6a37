// The validated policy model: what the TOML said, checked for types, ranges
// and spelling, before any path is resolved. Every rule remembers where it
// was written and its rule id (assigned in source order).
#pragma once

#include "diagnostic.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ltrack::policy {

struct log_config {
	std::string level = "info";  // spdlog level name
	std::string format = "json"; // "json" | "text"
	std::string output_path = "/var/log/ltrack/decisions.log";
	uint32_t max_size_mb = 100;
	uint32_t max_age_days = 7;
	uint32_t max_backups = 5;
	bool compress = true;
	uint32_t stats_interval_s = 0; // [log] stats_interval: a "stats" record this often; 0 = none
	bool journald = false;         // [log] journald: also each record to journald, one field per record field
	bool syslog = false;           // [log] syslog: also each record to syslog (/dev/log)
	std::string syslog_facility = "daemon";
};

// [metrics]: Prometheus text exposition, served and/or written for
// node_exporter's textfile collector (runtime/metrics.h). Both empty: off.
struct metrics_config {
	std::string listen; // "ADDR:PORT" (IPv4, or [IPv6]:PORT); validated: loopback unless allow_remote
	bool allow_remote = false;
	std::string textfile; // absolute path ending in .prom
	uint32_t textfile_interval_s = 15;
	bool operator==(const metrics_config &) const = default;
};

// file, dir and name: file and exec rules; unix: a network rule on a Unix
// socket (a path, or "@name" for an abstract socket).
enum class target_kind { file, dir, name, unix_socket };

// A file or exec rule, before resolution.
struct path_rule {
	target_kind kind = target_kind::file;
	std::string target; // absolute path, or the name pattern as written
	uint8_t action = 0; // enum ltrack_action
	bool missing_warn = false;
	source_pos pos;
	uint32_t id = 0;
	std::string set; // the shipped rule set this rule came from (rule_sets.h), else empty
};

// A path that selects or marks something (executable, cgroup, model dir).
struct path_entry {
	std::string path;
	bool missing_warn = false;
	source_pos pos;
	uint32_t id = 0; // model dirs only
};

struct cidr {
	std::array<uint8_t, 16> addr{}; // IPv6, IPv4 mapped into ::ffff:0:0/96
	int len = 0;                    // prefix length over the 128 bits
	std::string text;
};

struct port_range {
	uint16_t lo = 0, hi = 65535;
};

struct net_rule {
	std::vector<cidr> cidrs; // never empty: a port-only rule holds ::/0
	std::vector<port_range> ports;
	uint8_t proto = 0; // 0 any, 6 tcp, 17 udp
	uint8_t action = 0;
	source_pos pos;
	uint32_t id = 0;
};

// [profile.X.network] sockets: the kinds of socket the profile may create
// and use (ltrack_profile.sock_families, sock_inet, netlink_protocols).
struct socket_list {
	bool written = false; // else the default: unix, inet, inet6, netlink-route
	uint64_t families = 0;
	uint32_t inet = 0;
	uint32_t netlink = 0;
	std::vector<std::string> names; // as written, for the rule's text
	source_pos pos;
	uint32_t id = 0;
};

// A default (or unix verdict): written in the policy or implicit.
struct default_rule {
	uint8_t action = 0; // NONE = not written
	source_pos pos;
	uint32_t id = 0;
};

struct model_ext {
	std::string suffix; // ".pt"
	source_pos pos;
	uint32_t id = 0;
};

struct model_section {
	bool present = false;
	uint8_t policy = 0; // enum ltrack_model_policy
	bool deny_suspicious = true;
	uint8_t action = 3; // LTRACK_ACT_DENY or LTRACK_ACT_AUDIT
	std::vector<path_entry> dirs;
	std::vector<model_ext> extensions;
	std::vector<path_entry> excludes;        // directories whose files are no model files by name or directory
	std::vector<std::string> trusted_sha256; // lower-case hex
	bool scan_at_open = false;               // an unscanned model's first open waits for its scan
	uint64_t scan_at_open_max_mb = 1024;     // larger files are refused unscanned at once
	source_pos pos;
	uint32_t id = 0;
};

struct profile_def {
	std::string name;
	source_pos pos;
	uint32_t mode = 0; // enum ltrack_mode, INHERIT unless overridden
	bool all = false;
	std::vector<path_entry> executables;
	std::vector<path_entry> cgroups;
	std::vector<path_entry> except_cgroups; // with all = true: the administrator's, not governed
	default_rule file_default, exec_default, net_default, unix_rule;
	default_rule priv_default;         // [profile.X.privilege] default: what an escalation does
	default_rule mount_default;        // [profile.X.mount] default: mount, umount, move, pivot_root (absent: deny)
	std::vector<path_rule> file_rules; // file, dir and name rules
	std::vector<path_rule> exec_rules; // file and dir rules
	std::vector<net_rule> net_rules;
	std::vector<path_rule> unix_rules; // kind unix_socket: network rules on Unix sockets
	socket_list sockets;
	model_section model;
	source_pos network_pos; // where [profile.X.network] starts
};

struct policy_def {
	std::string file;
	bool ltrack_compat = false;
	uint32_t mode = 2; // LTRACK_MODE_AUDIT unless the policy says enforce
	bool unload_on_exit = false;
	log_config log;
	metrics_config metrics;
	std::vector<profile_def> profiles; // source order
};

} // namespace ltrack::policy
