// Build-time tool: writes the Python audit hook module from its template
// with the scanner's deny list (one list: scanner/import_lists.cpp), and
// answers classify queries for the test that compares the Python port of
// classify_import with the C++ one.
//   pyhook_gen TEMPLATE OUT
//   pyhook_gen --classify < "module<TAB>name" lines  ->  "dangerous" / "other" lines
//     (classify_import_py2: what ltrackd decides for a pickle.find_class event)
//   pyhook_gen --compat  ->  the Python 2 name tables as "import<TAB>from<TAB>to" and
//     "name<TAB>module<TAB>name<TAB>module<TAB>name" lines (the drift test)
#include "import_lists.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

std::string py_tuple(std::span<const char *const> items)
{
	std::string out = "(";
	for (const char *s : items) {
		out += "\n    \"";
		for (const char *p = s; *p; ++p) {
			if (*p == '"' || *p == '\\' || static_cast<unsigned char>(*p) < 0x20)
				return {}; // never in a module name: refuse rather than quote
			out += *p;
		}
		out += "\",";
	}
	return out + "\n)";
}

bool quote(std::string &out, const char *s)
{
	out += '"';
	for (const char *p = s; *p; ++p) {
		if (*p == '"' || *p == '\\' || static_cast<unsigned char>(*p) < 0x20)
			return false;
		out += *p;
	}
	out += '"';
	return true;
}

// {"from": "to", ...} or {("m", "n"): ("m2", "n2"), ...}
template <size_t N>
std::string py_dict(std::span<const std::array<const char *, N>> items)
{
	std::string out = "{";
	for (const auto &m : items) {
		out += "\n    ";
		bool ok = true;
		if constexpr (N == 2) {
			ok = quote(out, m[0]) && (out += ": ", true) && quote(out, m[1]);
		} else {
			out += "(";
			ok = quote(out, m[0]) && (out += ", ", true) && quote(out, m[1]) && (out += "): (", true) &&
			     quote(out, m[2]) && (out += ", ", true) && quote(out, m[3]);
			out += ")";
		}
		if (!ok)
			return {};
		out += ",";
	}
	return out + "\n}";
}

bool replace(std::string &text, const std::string &key, const std::string &value)
{
	auto at = text.find(key);
	if (at == std::string::npos || value.empty())
		return false;
	text.replace(at, key.size(), value);
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	using namespace ltrack::scanner;
	if (argc == 2 && std::string(argv[1]) == "--classify") {
		std::string line;
		while (std::getline(std::cin, line)) {
			auto tab = line.find('\t');
			std::string module = line.substr(0, tab),
				    name = tab == std::string::npos ? "" : line.substr(tab + 1);
			bool bad = classify_import_py2(module, name) == import_ref::kind::dangerous;
			std::cout << (bad ? "dangerous" : "other") << "\n";
		}
		return 0;
	}
	if (argc == 2 && std::string(argv[1]) == "--compat") {
		for (const auto &m : python2_import_mapping())
			std::cout << "import\t" << m[0] << "\t" << m[1] << "\n";
		for (const auto &m : python2_name_mapping())
			std::cout << "name\t" << m[0] << "\t" << m[1] << "\t" << m[2] << "\t" << m[3] << "\n";
		return 0;
	}
	if (argc != 3) {
		std::cerr << "usage: pyhook_gen TEMPLATE OUT | pyhook_gen --classify\n";
		return 2;
	}
	std::ifstream in(argv[1]);
	std::stringstream buf;
	buf << in.rdbuf();
	std::string text = buf.str();
	if (!replace(text, "@LTRACK_DANGEROUS_MODULES@", py_tuple(dangerous_module_list())) ||
	    !replace(text, "@LTRACK_DANGEROUS_BUILTINS@", py_tuple(dangerous_builtin_list())) ||
	    !replace(text, "@LTRACK_PY2_IMPORT_MAPPING@", py_dict(python2_import_mapping())) ||
	    !replace(text, "@LTRACK_PY2_NAME_MAPPING@", py_dict(python2_name_mapping()))) {
		std::cerr << "pyhook_gen: " << argv[1] << " lacks a list placeholder (or a name needs quoting)\n";
		return 1;
	}
	std::ofstream out(argv[2]);
	out << text;
	return out ? 0 : 1;
}
