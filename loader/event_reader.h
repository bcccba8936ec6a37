// Drains the decision ring buffer (map "events") and hands each record,
// validated in size, to a callback.
#pragma once

#include "abi.h"
#include "libbpf_call.h"

#include <functional>
#include <memory>

struct ring_buffer;

namespace ltrack {

class event_reader {
public:
	using handler = std::function<void(const ltrack_event &)>;

	status open(int events_fd, handler on_event);
	// Waits up to timeout_ms for records and handles all that are ready.
	// Returns the number handled, or a negative errno (EINTR is not an error).
	int poll(int timeout_ms);
	int fd() const; // epoll-able, for a daemon that waits on several things
	std::size_t malformed() const { return malformed_; }
	// One ring-buffer sample as the reader hands it on: false (an ABI
	// mismatch: never guess at the layout) when it is too short; the
	// strings are terminated whatever the producer wrote.
	static bool decode(const void *data, std::size_t size, ltrack_event &e);

private:
	static int on_sample(void *ctx, void *data, size_t size);
	struct rb_deleter {
		void operator()(ring_buffer *rb) const;
	};
	std::unique_ptr<ring_buffer, rb_deleter> rb_;
	handler on_event_;
	std::size_t malformed_ = 0;
	std::size_t batch_ = 0;
	static constexpr std::size_t batch_max = 1024;
};

} // namespace ltrack
