#include "event_stream.h"

#include "filter_expression.h"
#include "record_format.h"

#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/socket.h>

#include <charconv>

namespace ltrack {
namespace {

// Parses the "key=value" filters ltrackctl sends (ctl/cmd_daemon.cpp).
std::string parse_filters(const std::vector<std::string> &in, tracing::event_filter &f)
{
	for (const auto &kv : in) {
		auto eq = kv.find('=');
		if (eq == std::string::npos)
			return "bad filter '" + kv + "'";
		std::string key = kv.substr(0, eq), v = kv.substr(eq + 1);
		if (key == "profile")
			f.profile = v;
		else if (key == "action")
			f.action = v;
		else if (key == "severity") {
			f.min_severity = tracing::parse_severity(v);
			if (!f.min_severity)
				return "--severity: '" + v + "' is not one of info, warn, critical";
		} else if (key == "pid" || key == "port") {
			unsigned long n = 0;
			auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
			if (ec != std::errc() || p != v.data() + v.size() || (key == "port" && n > 65535))
				return "--" + key + ": '" + v + "' is not a number" + (key == "port" ? " 0-65535" : "");
			if (key == "pid")
				f.pid = n;
			else
				f.port = n;
		} else if (key == "exe")
			f.exe_substring = v;
		else if (key == "path")
			f.path_prefix = v;
		else if (key == "dest") {
			result<tracing::ip_prefix> dest = tracing::parse_prefix(v);
			if (!dest)
				return "--dest: " + dest.failure().error;
			f.dest = *dest;
		} else if (key == "container")
			f.container = v;
		else if (key == "expr") {
			auto parsed = tracing::parse_filter_expression(v);
			if (!parsed.expr)
				return "--filter: " + parsed.error;
			f.expression = parsed.expr;
		} else
			return "unknown filter '" + key + "'";
	}
	return {};
}

std::string render(const tracing::decision_record &r, const std::string &format)
{
	if (format == "json")
		return tracing::format_json(r);
	if (format == "table")
		return tracing::format_table(r);
	return tracing::format_text(r);
}

} // namespace

std::string event_stream::parse(decision_pipeline &pipeline, const std::string &format,
				const std::vector<std::string> &filters, bool follow, query &q)
{
	q.format = format;
	if (std::string err = parse_filters(filters, q.filter); !err.empty())
		return err;
	if (format == "provenance") {
		if (follow)
			return "a provenance graph is built from the recent decisions: it cannot follow";
		q.body = pipeline.provenance_text(q.filter);
		return {};
	}
	if (format == "table")
		q.body += tracing::format_table_header() + "\n";
	for (const auto &r : pipeline.recent())
		if (tracing::matches(q.filter, r))
			q.body += render(r, format) + "\n";
	return {};
}

void event_stream::follow(int fd, query q)
{
	follower f{unique_fd(fd), std::move(q.filter), std::move(q.format), "ok\n" + q.body, 0};
	f.limit = f.queue.size() + queue_max;
	followers_.push_back(std::move(f));
	if (!send_queued(followers_.back()))
		followers_.pop_back();
}

void event_stream::publish(const tracing::decision_record &r)
{
	for (auto it = followers_.begin(); it != followers_.end();) {
		bool keep = true;
		if (tracing::matches(it->filter, r)) {
			it->queue += render(r, it->format) + "\n";
			keep = send_queued(*it);
		}
		it = keep ? it + 1 : followers_.erase(it);
	}
}

bool event_stream::send_queued(follower &f)
{
	while (!f.queue.empty()) {
		ssize_t n = send(f.fd.get(), f.queue.data(), f.queue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return false; // the client left (closed as it is erased)
		f.queue.erase(0, n);
	}
	if (f.queue.size() > f.limit) {
		++dropped_;
		spdlog::warn("dropped an `events --follow` client that stopped reading ({} bytes waiting for it); "
			     "{} dropped so far",
			     f.queue.size(), dropped_);
		return false;
	}
	if (f.limit > f.queue.size() + queue_max)
		f.limit = f.queue.size() + queue_max; // the first answer was taken: back to the plain bound
	return true;
}

void event_stream::service()
{
	for (auto it = followers_.begin(); it != followers_.end();) {
		pollfd p{it->fd.get(), POLLRDHUP, 0};
		bool left = poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
		it = !left && send_queued(*it) ? it + 1 : followers_.erase(it);
	}
}

} // namespace ltrack
