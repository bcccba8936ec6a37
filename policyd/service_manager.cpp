#include "service_manager.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ltrack::service {
namespace {

// One line of a status is what systemctl status shows: keep it one line.
std::string one_line(const std::string &s)
{
	std::string out = s.substr(0, s.find('\n'));
	return out.size() > 200 ? out.substr(0, 200) : out;
}

void notify(const std::string &state)
{
	int r = sd_notify(0, state.c_str());
	if (r < 0)
		spdlog::debug("sd_notify({}): {}", state.substr(0, state.find('\n')), std::strerror(-r));
}

} // namespace

void status(const std::string &text)
{
	notify("STATUS=" + one_line(text));
}

void extend_start_timeout(std::chrono::seconds more, const std::string &status_text)
{
	notify("EXTEND_TIMEOUT_USEC=" + std::to_string(uint64_t(more.count()) * 1000000) +
	       "\nSTATUS=" + one_line(status_text));
}

void ready(const std::string &status_text)
{
	notify("READY=1\nSTATUS=" + one_line(status_text));
}
void reloading()
{
	notify("RELOADING=1\nSTATUS=reloading the policy");
}
void reloaded(const std::string &status_text)
{
	notify("READY=1\nSTATUS=" + one_line(status_text));
}
void stopping()
{
	notify("STOPPING=1\nSTATUS=stopping");
}

watchdog::watchdog()
{
	uint64_t us = 0;
	if (sd_watchdog_enabled(0, &us) > 0)
		interval_us_ = us;
}

void watchdog::beat()
{
	if (!enabled())
		return;
	auto now = std::chrono::steady_clock::now();
	if (now - last_ < std::chrono::microseconds(interval_us_ / 2))
		return;
	last_ = now;
	notify("WATCHDOG=1");
}

bool journal_stream_is(const char *journal_stream, int fd)
{
	if (!journal_stream || !*journal_stream)
		return false;
	uintmax_t dev = 0, ino = 0;
	if (std::sscanf(journal_stream, "%ju:%ju", &dev, &ino) != 2)
		return false;
	struct stat st;
	return fstat(fd, &st) == 0 && uintmax_t(st.st_dev) == dev && uintmax_t(st.st_ino) == ino;
}

bool setup_logging(const char *ident, bool verbose)
{
	bool journal = journal_stream_is(std::getenv("JOURNAL_STREAM"), 2);
	std::shared_ptr<spdlog::logger> logger;
	if (journal) {
		auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>(ident);
		sink->set_pattern("%v");
		logger = std::make_shared<spdlog::logger>(ident, sink);
	} else {
		auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
		sink->set_pattern(std::string(ident) + ": %l: %v");
		logger = std::make_shared<spdlog::logger>(ident, sink);
	}
	logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
	spdlog::set_default_logger(logger);
	return journal;
}

} // namespace ltrack::service
