#include "diagnostic.h"

#include <algorithm>
#include <tuple>

namespace ltrack::policy {

std::string format(const diagnostic &d)
{
	std::string out = d.file;
	if (d.line > 0)
		out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
	out += d.error ? ": error: " : ": warning: ";
	out += d.message;
	return out;
}

void sort_diagnostics(std::vector<diagnostic> &ds)
{
	std::stable_sort(ds.begin(), ds.end(), [](const diagnostic &a, const diagnostic &b) {
		return std::tie(a.file, a.line, a.column, a.message) < std::tie(b.file, b.line, b.column, b.message);
	});
}

bool has_errors(const std::vector<diagnostic> &ds)
{
	return std::any_of(ds.begin(), ds.end(), [](const diagnostic &d) { return d.error; });
}

} // namespace ltrack::policy
