// The allowlist and the known-dangerous list of pickle imports.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "scanner.h"

namespace ltrack::scanner {

// allowed: on the allowlist (exact module + name, or an allowed module).
// dangerous: the module (or a parent package) or module.name is on the
// dangerous list, or a dotted name reaches into one. unknown otherwise.
enum import_ref::kind classify_import(std::string_view module, std::string_view name);

// The name CPython's unpickler resolves for a Python 2 global: below
// protocol 3 with fix_imports (the default of pickle.load/loads, numpy,
// joblib and torch.load) Unpickler.find_class maps (module, name) through
// _compat_pickle.NAME_MAPPING, else the module through IMPORT_MAPPING,
// AFTER the pickle.find_class audit event. "cStringIO.StringIO" resolves
// io.StringIO, "__builtin__.intern" sys.intern. nullopt: no mapping.
std::optional<std::pair<std::string_view, std::string_view>> python2_name(std::string_view module,
									  std::string_view name);

// A global in a pickle of protocol < 3 (or of a protocol not known, as the
// audit hook's pickle.find_class): the worse of classify_import() of the
// name as written (a loader with fix_imports=False) and of python2_name()
// (every default loader). dangerous > unknown > allowed.
enum import_ref::kind classify_import_py2(std::string_view module, std::string_view name);

// The mapping tables, for pyhook_gen (the hook and its drift test).
std::span<const std::array<const char *, 2>> python2_import_mapping();
std::span<const std::array<const char *, 4>> python2_name_mapping();

// The deny list itself, for the generated Python audit hook
// (python/ltrack_pyhook.py.in, built by python/pyhook_gen.cpp).
std::span<const char *const> dangerous_module_list();
std::span<const char *const> dangerous_builtin_list();

} // namespace ltrack::scanner
