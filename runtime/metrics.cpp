#include "metrics.h"

#include "net_address.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace ltrack::metrics {

void escape_label(std::string &out, std::string_view v)
{
	for (char c : v) {
		if (c == '\\')
			out += "\\\\";
		else if (c == '"')
			out += "\\\"";
		else if (c == '\n')
			out += "\\n";
		else
			out += c;
	}
}

void escape_help(std::string &out, std::string_view v)
{
	for (char c : v) {
		if (c == '\\')
			out += "\\\\";
		else if (c == '\n')
			out += "\\n";
		else
			out += c;
	}
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help)
{
	out_ += "# HELP ";
	out_ += name;
	out_ += ' ';
	escape_help(out_, help);
	out_ += "\n# TYPE ";
	out_ += name;
	out_ += ' ';
	out_ += type;
	out_ += '\n';
}

void exposition::head(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels)
{
	out_ += name;
	if (!labels.empty()) {
		out_ += '{';
		for (std::size_t i = 0; i < labels.size(); i++) {
			if (i)
				out_ += ',';
			out_ += labels[i].first;
			out_ += "=\"";
			escape_label(out_, labels[i].second);
			out_ += '"';
		}
		out_ += '}';
	}
	out_ += ' ';
}

void exposition::sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels,
			uint64_t value)
{
	head(name, labels);
	out_ += std::to_string(value);
	out_ += '\n';
}

void exposition::sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>> &labels,
			double value)
{
	head(name, labels);
	if (std::isnan(value))
		out_ += "NaN";
	else if (std::isinf(value))
		out_ += value > 0 ? "+Inf" : "-Inf";
	else
		out_ += fmt::format("{}", value); // shortest form that reads back the same
	out_ += '\n';
}

void reload_stats::add(bool accepted, double seconds)
{
	(accepted ? ok : rejected)++;
	sum_s += seconds;
	last_s = seconds;
	for (std::size_t i = 0; i < bounds.size(); i++)
		if (seconds <= bounds[i]) {
			buckets[i]++;
			break;
		}
}

std::string render(const snapshot &s)
{
	exposition e;
	e.family("ltrack_decisions_total", "counter",
		 "Decisions made for governed processes, by hook, outcome and profile (a coalesced record counts every "
		 "decision it stands for); the same counts as `ltrackctl stats`.");
	for (const auto &[k, n] : s.decisions)
		e.sample("ltrack_decisions_total",
			 {{"hook", std::get<0>(k)}, {"outcome", std::get<1>(k)}, {"profile", std::get<2>(k)}}, n);
	e.family("ltrack_decision_records_total", "counter", "Decision records received from the kernel.");
	e.sample("ltrack_decision_records_total", {}, s.records);
	e.family("ltrack_ringbuf_drops_total", "counter",
		 "Decision records lost because the ring buffer was full (the decisions were still enforced).");
	e.sample("ltrack_ringbuf_drops_total", {}, s.ringbuf_drops);
	e.family("ltrack_fail_closed_denials_total", "counter",
		 "Opens or execs denied because their path could not be known: deeper than the walk limit, or a "
		 "disconnected dentry.");
	e.sample("ltrack_fail_closed_denials_total", {{"reason", "walk_limit"}}, s.walk_limit_denials);
	e.sample("ltrack_fail_closed_denials_total", {{"reason", "disconnected"}}, s.disconnected_denials);
	e.family(
		"ltrack_tamper_refusals_total", "counter",
		"Attempts on ltrack itself (its programs, maps, pins, daemon, files) refused, or that would be in audit "
		"mode.");
	e.sample("ltrack_tamper_refusals_total", {}, s.tamper_refusals);
	e.family("ltrack_model_scans_total", "counter", "Model files scanned by ltrackd, by verdict.");
	for (const auto &[v, n] : s.scans)
		e.sample("ltrack_model_scans_total", {{"verdict", v}}, n);
	e.family(
		"ltrack_decision_log_forward_total", "counter",
		"Decision records sent to journald or syslog ([log] journald, syslog; per output), and those they did not "
		"get because they did not keep up.");
	e.sample("ltrack_decision_log_forward_total", {{"result", "sent"}}, s.log_forwarded);
	e.sample("ltrack_decision_log_forward_total", {{"result", "dropped"}}, s.log_forward_dropped);
	e.family("ltrack_reloads_total", "counter", "Policy reloads (ltrackctl reload, SIGHUP), by result.");
	e.sample("ltrack_reloads_total", {{"result", "ok"}}, s.reloads.ok);
	e.sample("ltrack_reloads_total", {{"result", "rejected"}}, s.reloads.rejected);
	e.family("ltrack_reload_duration_seconds", "histogram",
		 "Time a reload took, compile to swap (rejected ones included).");
	uint64_t cumulative = 0;
	for (std::size_t i = 0; i < s.reloads.bounds.size(); i++) {
		cumulative += s.reloads.buckets[i];
		std::string le = fmt::format("{}", s.reloads.bounds[i]);
		e.sample("ltrack_reload_duration_seconds_bucket", {{"le", le}}, cumulative);
	}
	e.sample("ltrack_reload_duration_seconds_bucket", {{"le", "+Inf"}}, s.reloads.count());
	e.sample("ltrack_reload_duration_seconds_sum", {}, s.reloads.sum_s);
	e.sample("ltrack_reload_duration_seconds_count", {}, s.reloads.count());
	e.family("ltrack_reload_last_duration_seconds", "gauge", "Time the last reload took (0: none yet).");
	e.sample("ltrack_reload_last_duration_seconds", {}, s.reloads.last_s);
	e.family("ltrack_metrics_requests_total", "counter",
		 "Requests to this endpoint: served, rejected (not GET /metrics, malformed or too large), timed out, "
		 "shed (too many connections).");
	e.sample("ltrack_metrics_requests_total", {{"result", "served"}}, s.http_served);
	e.sample("ltrack_metrics_requests_total", {{"result", "rejected"}}, s.http_rejected);
	e.sample("ltrack_metrics_requests_total", {{"result", "timed_out"}}, s.http_timed_out);
	e.sample("ltrack_metrics_requests_total", {{"result", "shed"}}, s.http_shed);
	return e.text();
}

// ---- the endpoint ----

server::~server()
{
	close_all();
}

void server::close_all()
{
	for (auto &[fd, c] : conns_)
		close(fd);
	conns_.clear();
	fd_.reset(); // closing removes it from epoll
	pause_ = {};
	addr_.clear();
}

status server::listen(const std::string &addr, int epoll_fd, std::function<std::string()> body)
{
	close_all();
	auto a = policy::parse_listen_address(addr);
	if (!a)
		return status::fail("metrics.listen \"" + addr + "\": " + a.failure().error);
	sockaddr_storage ss{};
	socklen_t len;
	if (a->v6) {
		auto *s6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		std::memcpy(&s6->sin6_addr, a->addr.data(), 16);
		len = sizeof(*s6);
	} else {
		auto *s4 = reinterpret_cast<sockaddr_in *>(&ss);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		std::memcpy(&s4->sin_addr, a->addr.data(), 4);
		len = sizeof(*s4);
	}
	unique_fd fd(socket(a->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!fd)
		return libbpf_fail("metrics: creating a TCP socket", errno);
	int one = 1;
	setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->v6)
		setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&ss), len) < 0 || ::listen(fd.get(), 16) < 0)
		return libbpf_fail("metrics: listening on " + addr, errno);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = fd.get();
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd.get(), &ev) < 0)
		return libbpf_fail("metrics: watching the socket", errno);
	fd_ = std::move(fd);
	epoll_ = epoll_fd;
	addr_ = addr;
	body_ = std::move(body);
	return {};
}

void server::drop(int fd)
{
	epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
	close(fd);
	conns_.erase(fd);
}

void server::on_listen_ready()
{
	for (int i = 0; i < accept_burst; i++) {
		int c = pause_.accept_next(epoll_, fd_.get(), "metrics endpoint");
		if (c < 0)
			return;
		if (conns_.size() >= max_connections) {
			++stats_.shed;
			close(c);
			continue;
		}
		connection conn;
		conn.deadline = clock::now() + deadline;
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = c;
		if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c, &ev) < 0) {
			close(c);
			continue;
		}
		conns_.emplace(c, std::move(conn));
	}
}

std::string server::answer(std::string_view head, const std::function<std::string()> &body)
{
	auto reply = [](std::string_view status, std::string_view extra, const std::string &text,
			std::string_view type = "text/plain; charset=utf-8") {
		return fmt::format(
			"HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
			status, type, text.size(), extra, text);
	};
	std::string_view line = head.substr(0, head.find("\r\n"));
	auto sp1 = line.find(' ');
	auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
	if (sp2 == std::string_view::npos || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0)
		return reply("400 Bad Request", "", "bad request\n");
	std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
	std::string_view path = target.substr(0, target.find('?'));
	if (path != "/metrics")
		return reply("404 Not Found", "", "only /metrics is served here\n");
	if (method != "GET")
		return reply("405 Method Not Allowed", "Allow: GET\r\n", "only GET\n");
	return reply("200 OK", "", body ? body() : std::string(), "text/plain; version=0.0.4; charset=utf-8");
}

void server::on_ready(int fd, uint32_t events)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	connection &c = it->second;
	if (c.writing) {
		if (events & (EPOLLERR | EPOLLHUP))
			drop(fd);
		else
			write_out(fd, c);
		return;
	}
	char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(fd); // gone before a whole request
		return;
	}
	c.in.append(buf, n);
	auto end = c.in.find("\r\n\r\n");
	if (end == std::string::npos) {
		if (c.in.size() > max_request) {
			++stats_.rejected;
			drop(fd);
		}
		return;
	}
	if (end + 4 > max_request) {
		++stats_.rejected;
		drop(fd);
		return;
	}
	c.out = answer(std::string_view(c.in).substr(0, end), body_);
	(c.out.compare(9, 3, "200") == 0 ? stats_.served : stats_.rejected)++;
	c.in.clear();
	c.writing = true;
	epoll_event ev{};
	ev.events = EPOLLOUT;
	ev.data.fd = fd;
	epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
	write_out(fd, c);
}

void server::write_out(int fd, connection &c)
{
	while (!c.out.empty()) {
		ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; // EPOLLOUT brings us back, until the deadline
		if (n <= 0)
			break;
		c.out.erase(0, n);
	}
	shutdown(fd, SHUT_WR);
	drop(fd);
}

int server::expire()
{
	auto now = clock::now();
	int resume_ms = fd_ ? pause_.resume(epoll_, fd_.get(), now) : -1;
	expiry due = expired(conns_, now);
	for (int fd : due.late) {
		++stats_.timed_out;
		drop(fd);
	}
	return min_wait(resume_ms, due.next_ms);
}

std::string write_textfile(const std::string &path, const std::string &text)
{
	// node_exporter reads *.prom only: the temporary name is never read half-written.
	std::string tmp = path + ".ltrack-tmp";
	unlink(tmp.c_str());
	int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return "creating " + tmp + ": " + std::strerror(errno);
	fchmod(fd, 0644); // readable by node_exporter whatever the daemon's umask
	std::size_t done = 0;
	while (done < text.size()) {
		ssize_t n = write(fd, text.data() + done, text.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			std::string err = "writing " + tmp + ": " + std::strerror(n < 0 ? errno : EIO);
			close(fd);
			unlink(tmp.c_str());
			return err;
		}
		done += n;
	}
	if (close(fd) < 0 || rename(tmp.c_str(), path.c_str()) < 0) {
		std::string err = "replacing " + path + ": " + std::strerror(errno);
		unlink(tmp.c_str());
		return err;
	}
	return {};
}

} // namespace ltrack::metrics
