#include "event_reader.h"

#include <bpf/libbpf.h>

#include <cstring>

namespace ltrack {

void event_reader::rb_deleter::operator()(ring_buffer *rb) const
{
	ring_buffer__free(rb);
}

bool event_reader::decode(const void *data, std::size_t size, ltrack_event &e)
{
	if (size < sizeof(ltrack_event))
		return false;
	std::memcpy(&e, data, sizeof(e));
	e.comm[sizeof(e.comm) - 1] = 0;
	e.path[sizeof(e.path) - 1] = 0;
	return true;
}

int event_reader::on_sample(void *ctx, void *data, size_t size)
{
	auto *self = static_cast<event_reader *>(ctx);
	ltrack_event e;
	if (!decode(data, size, e)) {
		++self->malformed_; // an ABI mismatch; never guess at the layout
		return 0;
	}
	self->on_event_(e);
	// A bounded batch: under a flood the ring never empties, and the
	// daemon must still answer its control socket. Returning an error
	// stops libbpf after this record (which counts as consumed).
	if (++self->batch_ >= batch_max)
		return -EAGAIN;
	return 0;
}

status event_reader::open(int events_fd, handler on_event)
{
	on_event_ = std::move(on_event);
	rb_.reset(ring_buffer__new(events_fd, on_sample, this, nullptr));
	return check_ptr(rb_.get(), "opening the decision ring buffer");
}

int event_reader::poll(int timeout_ms)
{
	batch_ = 0;
	int n = ring_buffer__poll(rb_.get(), timeout_ms);
	if (n == -EAGAIN)
		return static_cast<int>(batch_); // more is waiting; epoll reports it again
	return n == -EINTR ? 0 : n;
}

int event_reader::fd() const
{
	return ring_buffer__epoll_fd(rb_.get());
}

} // namespace ltrack
