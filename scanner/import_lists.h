// The allowlist and the known-dangerous list of pickle imports.
#pragma once

#include <span>
#include <string_view>

#include "scanner.h"

namespace ltrack::scanner {

// allowed: on the allowlist (exact module + name, or an allowed module).
// dangerous: the module (or a parent package) or module.name is on the
// dangerous list, or a dotted name reaches into one. unknown otherwise.
enum import_ref::kind classify_import(std::string_view module, std::string_view name);

// The deny list itself, for the generated Python audit hook
// (python/ltrack_pyhook.py.in, built by python/pyhook_gen.cpp).
std::span<const char *const> dangerous_module_list();
std::span<const char *const> dangerous_builtin_list();

} // namespace ltrack::scanner
