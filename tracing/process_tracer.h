// The tracepoints of tracing/process.bpf.c, loaded and attached, and their
// events fed into a process_cache: a decision about a process that has
// already exited still names its program, arguments and parent.
#pragma once

#include "process_cache.h"

#include <memory>
#include <string>

struct tracer;
struct ring_buffer;

namespace ltrack::tracing {

class process_tracer {
public:
	process_tracer();
	~process_tracer();
	// Loads and attaches the tracepoints; "" or what failed.
	std::string start(process_cache &cache);
	int fd() const; // epoll-able
	// Handles every event that is ready (non-blocking).
	void poll();
	uint64_t drops() const;

private:
	static int on_event(void *ctx, void *data, size_t size);
	struct state;
	std::unique_ptr<state> s_;
};

} // namespace ltrack::tracing
