// TOML -> validated policy model, for ltrack's own format and the ltrack
// (mxcrafts/ltrack) policy.toml format, told apart by their top-level tables.
#pragma once

#include "policy_model.h"
#include "toml_reader.h"

namespace ltrack::policy {

// Whether a document is in the ltrack format: it has [file_monitor],
// [exec_monitor] or [network_monitor] and none of ltrack's own keys.
bool is_ltrack_compat(const toml::table &doc);

// Problems go to ctx; the model holds whatever was valid.
policy_def parse_policy(parse_context &ctx, const toml::table &doc);
policy_def parse_ltrack_compat(parse_context &ctx, const toml::table &doc);

// The [log] table, shared by both formats.
void read_log(parse_context &ctx, table_reader &top, log_config &log);
// The [metrics] table (ltrack's own format).
void read_metrics(parse_context &ctx, table_reader &top, metrics_config &m);
// A duration key such as [log] stats_interval: "90s", "5m", "1h", or an
// integer number of seconds; 0 = none; at most 86400. Errors go to ctx.
std::optional<uint32_t> parse_interval(parse_context &ctx, const toml::node &n, const std::string &what);

} // namespace ltrack::policy
