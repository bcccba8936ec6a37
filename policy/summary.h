// What a compiled policy will enforce, for people (text) and tools (JSON).
#pragma once

#include "compiled_policy.h"
#include "diagnostic.h"
#include "escape.h"
#include "evaluate.h"

#include <ostream>
#include <string>
#include <vector>

namespace ltrack::policy {

std::string summary_text(const compiled_policy &p);
void summary_text(std::ostream &out, const compiled_policy &p); // the same, written to out

// {"ok":..., "diagnostics":[...], "policy":{...}}; policy is null when p is.
std::string summary_json(const compiled_policy *p, const std::vector<diagnostic> &diags);

std::string explanation_text(const compiled_policy &p, const explanation &ex);
std::string explanation_json(const compiled_policy &p, const explanation &ex);

} // namespace ltrack::policy
