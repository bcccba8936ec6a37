#include "log_forward.h"

#include "record_fields.h"

// Without it sd_journal_sendv adds CODE_FILE/LINE/FUNC: this file's, not the decision's.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#include <syslog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace ltrack::tracing {

int parse_syslog_facility(const std::string &name)
{
	static const std::pair<const char *, int> names[] = {
		{"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
		{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
	for (const auto &[n, f] : names)
		if (name == n)
			return f;
	return -1;
}

struct log_forwarder::state {
	struct item {
		std::string json, text;
		int priority;
	};
	forward_config cfg;
	mutable std::mutex mu;
	std::condition_variable wake, drained;
	std::deque<item> queue;
	size_t queued_bytes = 0;
	bool stop = false, done = false;
	counters c;

	unsigned outputs() const { return unsigned(cfg.journald) + unsigned(cfg.syslog); }

	// One record to journald: MESSAGE (the text line), PRIORITY,
	// SYSLOG_IDENTIFIER and LTRACK_<FIELD> for every record field.
	bool to_journald(const item &it)
	{
		auto fields = flatten_record(it.json);
		if (!fields)
			return false;
		std::vector<std::string> parts;
		parts.reserve(fields->size() + 3);
		parts.push_back("MESSAGE=" + it.text);
		parts.push_back("PRIORITY=" + std::to_string(it.priority));
		parts.push_back("SYSLOG_IDENTIFIER=ltrackd");
		for (const auto &f : *fields)
			parts.push_back(journal_field_name(f.name) + "=" + f.value);
		std::vector<iovec> iov(parts.size());
		for (size_t i = 0; i < parts.size(); ++i)
			iov[i] = {parts[i].data(), parts[i].size()};
		return sd_journal_sendv(iov.data(), int(iov.size())) >= 0;
	}

	void run()
	{
		if (cfg.syslog)
			openlog("ltrackd", LOG_PID | LOG_NDELAY, cfg.syslog_facility);
		std::unique_lock lock(mu);
		for (;;) {
			wake.wait(lock, [&] { return stop || !queue.empty(); });
			if (queue.empty())
				break;
			item it = std::move(queue.front());
			queue.pop_front();
			queued_bytes -= it.json.size() + it.text.size();
			lock.unlock();
			uint64_t sent = 0, failed = 0;
			if (cfg.journald)
				(to_journald(it) ? sent : failed)++;
			if (cfg.syslog) {
				// syslog(3) reports nothing: what it cannot deliver it drops.
				syslog(cfg.syslog_facility | it.priority, "%s",
				       (cfg.syslog_json ? it.json : it.text).c_str());
				sent++;
			}
			lock.lock();
			c.sent += sent;
			c.dropped += failed;
		}
		done = true;
		drained.notify_all();
	}
};

log_forwarder::log_forwarder(const forward_config &cfg) : st_(std::make_shared<state>())
{
	st_->cfg = cfg;
	std::thread([st = st_] { st->run(); }).detach();
}

log_forwarder::~log_forwarder()
{
	std::unique_lock lock(st_->mu);
	st_->stop = true;
	st_->wake.notify_all();
	// The thread is detached and owns a reference to the state: if journald
	// hangs, the daemon still stops.
	st_->drained.wait_for(lock, std::chrono::seconds(2), [&] { return st_->done; });
}

void log_forwarder::send(std::string json, std::string text, int priority)
{
	std::lock_guard lock(st_->mu);
	size_t bytes = json.size() + text.size();
	if (st_->stop || st_->queue.size() >= st_->cfg.queue_max ||
	    st_->queued_bytes + bytes > st_->cfg.queue_max_bytes) {
		st_->c.dropped += st_->outputs();
		return;
	}
	st_->queued_bytes += bytes;
	st_->queue.push_back({std::move(json), std::move(text), priority});
	st_->wake.notify_one();
}

log_forwarder::counters log_forwarder::stats() const
{
	std::lock_guard lock(st_->mu);
	return st_->c;
}

const forward_config &log_forwarder::config() const
{
	return st_->cfg;
}

} // namespace ltrack::tracing
