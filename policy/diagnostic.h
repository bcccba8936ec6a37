// Problems found in a policy: where (file:line:column) and what to do about
// it. The compiler collects every one of them in a run instead of stopping
// at the first.
#pragma once

#include <string>
#include <vector>

namespace ltrack::policy {

struct source_pos {
	int line = 0; // 1-based; 0 = no position (e.g. the file could not be read)
	int column = 0;
};

struct diagnostic {
	std::string file;
	int line = 0;
	int column = 0;
	bool error = true; // false: a warning, the policy still compiles
	std::string message;
};

// "file:line:col: error: message" (or "file: error: message" without a position).
std::string format(const diagnostic &d);

// Sorted by position, then text, so output is the same from run to run.
void sort_diagnostics(std::vector<diagnostic> &ds);

bool has_errors(const std::vector<diagnostic> &ds);

} // namespace ltrack::policy
