// What ltrackd tells its service manager (systemd, Type=notify) through
// libsystemd: readiness with a status line, progress while model
// directories are scanned (extending the start timeout), reloads, stopping,
// and the watchdog's heartbeat. Outside systemd (no NOTIFY_SOCKET) every
// call does nothing. And where its log lines go: journald with their
// priority when stderr is the journal, stderr otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ltrack::service {

void status(const std::string &text);
// Start-up is still making progress: give it `more` beyond this moment.
void extend_start_timeout(std::chrono::seconds more, const std::string &status_text);
void ready(const std::string &status_text);
void reloading();
void reloaded(const std::string &status_text);
void stopping();

// WATCHDOG=1 at half the unit's WatchdogSec (sd_watchdog_enabled); beat()
// is called from the event loop's 1 s tick, so a hung loop stops the beats.
class watchdog {
public:
	watchdog();
	bool enabled() const { return interval_us_ != 0; }
	uint64_t interval_us() const { return interval_us_; }
	void beat();

private:
	uint64_t interval_us_ = 0;
	std::chrono::steady_clock::time_point last_{};
};

// spdlog's default logger for a daemon: journald (PRIORITY per level,
// SYSLOG_IDENTIFIER=ident) when stderr is connected to the journal
// (JOURNAL_STREAM names stderr's device and inode), else stderr as
// "ident: level: message". Returns true when logging to journald.
bool setup_logging(const char *ident, bool verbose);
// Whether JOURNAL_STREAM (its "DEV:INO") names the file open on fd.
bool journal_stream_is(const char *journal_stream, int fd);

} // namespace ltrack::service
