// The control socket's `events` request (ltrackctl events, export): the
// recent decisions that match its filters and, with --follow, every new one
// streamed on the connection. A subscriber of the decision pipeline
// (runtime/decision_pipeline.h): the pipeline publishes records, this side
// parses the protocol's filters, renders and keeps the connections.
#pragma once

#include "decision_pipeline.h"
#include "filter.h"
#include "record.h"
#include "unique_fd.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ltrack {

class event_stream {
public:
	// `events FORMAT [key=value...]`: the matching recent records (the
	// reply's body) in q, or an error message for a bad filter or format.
	struct query {
		tracing::event_filter filter;
		std::string format;
		std::string body;
	};
	static std::string parse(decision_pipeline &pipeline, const std::string &format,
				 const std::vector<std::string> &filters, bool follow, query &q);
	// `events --follow`: takes the connection fd and streams new matches on
	// it after q.body until the client leaves. Writes never block: what the
	// client does not take waits in a queue of its own, and a client whose
	// queue passes queue_max is dropped (and counted).
	void follow(int fd, query q);
	// The pipeline's subscriber: each new record to the followers it matches.
	void publish(const tracing::decision_record &r);
	// From the 1 s tick: sends what followers' queues hold, closes the ones
	// whose client left.
	void service();
	uint64_t dropped() const { return dropped_; }
	std::size_t count() const { return followers_.size(); }
	static constexpr std::size_t queue_max = 1 << 20;

private:
	struct follower {
		unique_fd fd;
		tracing::event_filter filter;
		std::string format;
		std::string queue;     // written as the socket takes it
		std::size_t limit = 0; // the queue may not grow past this
	};
	// Sends what it can without blocking; false when the follower is gone
	// (client left) or dropped (too far behind).
	bool send_queued(follower &f);

	std::vector<follower> followers_;
	uint64_t dropped_ = 0;
};

} // namespace ltrack
