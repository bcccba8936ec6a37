// The one error convention of ltrack's user space. A step that can fail
// returns a `status` (success, or a message saying what failed and where, with
// the errno when there is one), or a `result<T>` (the value, or that status).
// Messages are whole sentences for the user: "<what/where>: <why>", so a caller
// adds its own context in front and never parses them.
#pragma once

#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace ltrack {

// A failed step, or success (empty message).
struct [[nodiscard]] status {
	std::string error;
	int err = 0; // positive errno, 0 when the failure has none

	bool ok() const { return error.empty(); }
	static status fail(std::string msg, int err = 0) { return {std::move(msg), err}; }
	// The failure errno describes now: "<what>: <strerror(errno)>" (the
	// strerror text alone without `what`), errno kept.
	static status from_errno(const std::string &what = {})
	{
		int e = errno;
		return {what.empty() ? std::strerror(e) : what + ": " + std::strerror(e), e};
	}
};

// A value, or the status that says why there is none.
template <class T>
class [[nodiscard]] result {
public:
	result(T value) : value_(std::move(value)) {}
	result(status failure) : failure_(std::move(failure)) { assert(!failure_.ok()); }

	bool ok() const { return value_.has_value(); }
	explicit operator bool() const { return ok(); }

	T &operator*() { return *value_; }
	const T &operator*() const { return *value_; }
	T *operator->() { return &*value_; }
	const T *operator->() const { return &*value_; }

	// Why there is no value (ok() is false); the message is failure().error.
	const status &failure() const { return failure_; }
	// For a caller to whom the reason does not matter.
	const std::optional<T> &as_optional() const { return value_; }

private:
	std::optional<T> value_;
	status failure_;
};

} // namespace ltrack
