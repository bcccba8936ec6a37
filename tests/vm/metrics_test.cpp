// [metrics] from the outside, in one daemon start: a governed actor's denied
// and allowed opens (files and models), a model directory scanned, a
// reload; then GET /metrics over TCP counts exactly what `ltrackctl stats
// --json` counts, the textfile collector's file says the same, and hostile
// clients (silent, oversized, too many, wrong method) neither stall the
// daemon nor get anything but a refusal. The governed actor's connect to the
// metrics port is decided by its network rules like any other.
#include "support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

using namespace ltrack::vmtest;

namespace {

constexpr int port = 19464;

int connect_port()
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	timeval tv{5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

// What the server sent until it closed (or 5 s passed).
std::string read_all(int fd)
{
	std::string out;
	char buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		out.append(buf, n);
	return out;
}

// True when the server closed fd (EOF or reset), false when 5 s passed
// without it.
bool closed_by_server(int fd)
{
	char buf[256];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0 || errno == ECONNRESET;
}

std::string http(const std::string &request)
{
	int fd = connect_port();
	if (fd < 0)
		return "connect: " + std::string(strerror(errno));
	send(fd, request.data(), request.size(), MSG_NOSIGNAL);
	std::string out = read_all(fd);
	close(fd);
	return out;
}

// "name{labels}" -> value, from an exposition (the body after the head).
std::map<std::string, double> samples(const std::string &response)
{
	std::map<std::string, double> out;
	auto body = response.find("\r\n\r\n");
	std::istringstream in(body == std::string::npos ? response : response.substr(body + 4));
	for (std::string line; std::getline(in, line);) {
		if (line.empty() || line[0] == '#')
			continue;
		auto sp = line.rfind(' ');
		out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
	}
	return out;
}

std::string label(const std::string &key, const std::string &name)
{
	auto at = key.find(name + "=\"");
	if (at == std::string::npos)
		return "";
	at += name.size() + 2;
	return key.substr(at, key.find('"', at) - at);
}

// The metrics that must equal `ltrackctl stats --json` (everything but
// the endpoint's own request counters).
std::map<std::string, double> counted(const std::map<std::string, double> &m)
{
	std::map<std::string, double> out;
	for (const auto &[k, v] : m)
		if (k.rfind("ltrack_metrics_requests_total", 0) != 0)
			out[k] = v;
	return out;
}

TEST(Metrics, ScrapedCountersEqualStatsAndTheTextfile)
{
	temp_dir t;
	std::string models = t / "models";
	ASSERT_EQ(mkdir(models.c_str(), 0755), 0);
	write_file(models + "/benign.pkl", benign_pickle());
	write_file(models + "/malicious.pkl", malicious_pickle(t / "marker"));
	write_file(t / "secret", "s");
	write_file(t / "public", "p");
	ltrackd d("mode = \"enforce\"\n[metrics]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\ntextfile = \"" +
		  t / "ltrack.prom" +
		  "\"\ntextfile_interval = \"1s\"\n"
		  "[profile.worker]\nexecutables = [\"" +
		  actor_path() +
		  "\"]\n"
		  "[profile.worker.file]\nrules = [ { action = \"deny\", file = \"" +
		  t / "secret" +
		  "\" },\n"
		  "  { action = \"allow\", file = \"" +
		  t / "public" +
		  "\" } ]\n"
		  "[profile.worker.network]\ndefault = \"deny\"\n"
		  "[profile.worker.model]\ndirectories = [\"" +
		  models + "\"]\nallow = \"safe\"\n");
	ASSERT_TRUE(d.start()) << d.output();

	// The scripted decisions: 3 denied and 1 allowed file opens, a model
	// refused and one allowed, and a connect to the metrics port refused by
	// the profile's network rules.
	run_result flood = actor({"loop-open", "3", t / "secret"});
	EXPECT_NE(flood.out.find("denied=3"), std::string::npos) << flood.out;
	run_result pub = actor({"open", t / "public"});
	EXPECT_EQ(pub.exit_code, 0) << pub.out;
	run_result mal = actor({"open", models + "/malicious.pkl"});
	EXPECT_EQ(mal.actor_errno(), EPERM) << mal.out;
	run_result ben = actor({"open", models + "/benign.pkl"});
	EXPECT_EQ(ben.exit_code, 0) << ben.out;
	run_result scrape_try = actor({"connect", "127.0.0.1", std::to_string(port)});
	EXPECT_EQ(scrape_try.actor_errno(), EPERM) << "a governed process reaches the metrics port only if its network "
						      "rules allow it: "
						   << scrape_try.out;
	ASSERT_EQ(d.wait_for(decision_for(scrape_try.pid, "net", "denied")).kind, json::object_v)
		<< read_file(d.log_path());
	run_result reload = d.ctl({"reload"});
	ASSERT_EQ(reload.exit_code, 0) << reload.out;

	// Hostile clients first. A silent one does not hold the server: a
	// scrape made meanwhile is answered while the silent one is still open.
	int silent = connect_port();
	ASSERT_GE(silent, 0);
	EXPECT_EQ(http("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
	char byte;
	EXPECT_EQ(recv(silent, &byte, 1, MSG_DONTWAIT), -1) << "still open: its 2 s are not over";
	// As many as the server takes at once; one more is closed at accept,
	// and the control socket is answered meanwhile.
	std::vector<int> hold;
	for (int i = 0; i < 15; i++)
		hold.push_back(connect_port());
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	int extra = connect_port();
	ASSERT_GE(extra, 0);
	EXPECT_TRUE(closed_by_server(extra)) << "over the cap: closed at accept";
	close(extra);
	EXPECT_EQ(d.ctl({"status"}).exit_code, 0);
	EXPECT_TRUE(closed_by_server(silent)) << "a client that sends nothing is closed at its deadline";
	close(silent);
	for (int fd : hold)
		close(fd);
	std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(8000, 'a');
	EXPECT_EQ(http(big), "") << "a request head over 4 KiB is closed";
	EXPECT_EQ(http("POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
	EXPECT_EQ(http("GET /etc/shadow HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);

	// Scrape until two scrapes agree (records still in flight), with the
	// stats taken between them.
	std::map<std::string, double> m;
	json st;
	std::string response;
	for (int i = 0; i < 20; i++) {
		auto before = counted(samples(http("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
		st = json::parse(d.ctl({"stats", "--json"}).out);
		response = http("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
		m = samples(response);
		double scraped = 0;
		for (const auto &[k, v] : m)
			if (k.rfind("ltrack_decisions_total{", 0) == 0)
				scraped += v;
		// 6 decisions made above: 3 + 1 opens, a model, a connect.
		if (before == counted(m) && scraped == st["decisions"].i() && scraped >= 6)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(500));
	}
	ASSERT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
	EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << response;

	std::map<std::string, long long> hook, outcome, profile;
	long long total = 0;
	for (const auto &[k, v] : m)
		if (k.rfind("ltrack_decisions_total{", 0) == 0) {
			hook[label(k, "hook")] += v;
			outcome[label(k, "outcome")] += v;
			profile[label(k, "profile")] += v;
			total += v;
		}
	auto as_map = [](const json &j) {
		std::map<std::string, long long> out;
		for (const auto &[k, v] : j.fields)
			out[k] = v.i();
		return out;
	};
	EXPECT_EQ(total, st["decisions"].i()) << response;
	EXPECT_EQ(hook, as_map(st["by_hook"])) << response;
	EXPECT_EQ(outcome, as_map(st["by_outcome"])) << response;
	EXPECT_EQ(profile, as_map(st["by_profile"])) << response;
	// The script's own decisions, as the actor saw them.
	EXPECT_EQ((m["ltrack_decisions_total{hook=\"file\",outcome=\"denied\",profile=\"worker\"}"]), 3) << response;
	EXPECT_GE((m["ltrack_decisions_total{hook=\"file\",outcome=\"allowed\",profile=\"worker\"}"]), 1) << response;
	EXPECT_EQ((m["ltrack_decisions_total{hook=\"model\",outcome=\"denied\",profile=\"worker\"}"]), 1) << response;
	EXPECT_EQ((m["ltrack_decisions_total{hook=\"net\",outcome=\"denied\",profile=\"worker\"}"]), 1) << response;
	EXPECT_EQ(m["ltrack_decision_records_total"], st["records"].i());
	EXPECT_EQ(m["ltrack_ringbuf_drops_total"], st["ringbuf_drops"].i());
	EXPECT_EQ(m["ltrack_fail_closed_denials_total{reason=\"walk_limit\"}"], st["walk_limit_denials"].i());
	EXPECT_EQ(m["ltrack_fail_closed_denials_total{reason=\"disconnected\"}"], st["disconnected_denials"].i());
	EXPECT_EQ(m["ltrack_tamper_refusals_total"], st["tamper_refusals"].i());
	std::map<std::string, long long> scans;
	for (const auto &[k, v] : m)
		if (k.rfind("ltrack_model_scans_total{", 0) == 0)
			scans[label(k, "verdict")] = v;
	EXPECT_EQ(scans, as_map(st["scans_by_verdict"])) << response;
	EXPECT_GE(scans["safe"], 1) << response;
	EXPECT_GE(scans["unsafe"], 1) << response;
	EXPECT_EQ(m["ltrack_reloads_total{result=\"ok\"}"], 1) << response;
	EXPECT_EQ(m["ltrack_reloads_total{result=\"ok\"}"], st["reloads"]["ok"].i());
	EXPECT_EQ(m["ltrack_reload_duration_seconds_count"], 1);
	EXPECT_EQ(m["ltrack_reload_duration_seconds_bucket{le=\"+Inf\"}"], 1);
	EXPECT_GT(m["ltrack_reload_last_duration_seconds"], 0);
	EXPECT_DOUBLE_EQ(m["ltrack_reload_last_duration_seconds"], st["reloads"]["last_seconds"].num);
	// The hostile clients above, as the endpoint counted them.
	EXPECT_GE((m["ltrack_metrics_requests_total{result=\"shed\"}"]), 1) << response;
	EXPECT_GE((m["ltrack_metrics_requests_total{result=\"timed_out\"}"]), 1) << response;
	EXPECT_GE((m["ltrack_metrics_requests_total{result=\"rejected\"}"]), 3) << response;

	// The textfile (every second) says the same, and is never seen half-written.
	std::this_thread::sleep_for(std::chrono::milliseconds(2500));
	std::string file = read_file(t / "ltrack.prom");
	EXPECT_EQ(counted(samples(file)), counted(m)) << file;
	EXPECT_NE(file.find("# TYPE ltrack_decisions_total counter\n"), std::string::npos) << file;
	d.stop();
	EXPECT_EQ(counted(samples(read_file(t / "ltrack.prom"))), counted(m)) << "written again at exit";
}

} // namespace
