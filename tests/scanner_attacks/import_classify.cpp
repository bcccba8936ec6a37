// Test-only tool: the scanner's allowlist as an oracle for the loader
// harness. Reads "module<TAB>name" lines on stdin and prints, per line,
// how scanner/import_lists.cpp classifies that import: allowed, dangerous
// or unknown. The harness compares it with what real loaders resolved.
#include <iostream>
#include <string>

#include "import_lists.h"

int main()
{
	namespace sc = ltrack::scanner;
	std::string line;
	while (std::getline(std::cin, line)) {
		size_t tab = line.find('\t');
		if (tab == std::string::npos) {
			std::cerr << "import_classify: expected module<TAB>name, got '" << line << "'\n";
			return 2;
		}
		switch (sc::classify_import(std::string_view(line).substr(0, tab),
					    std::string_view(line).substr(tab + 1))) {
		case sc::import_ref::kind::allowed: std::cout << "allowed\n"; break;
		case sc::import_ref::kind::dangerous: std::cout << "dangerous\n"; break;
		case sc::import_ref::kind::unknown: std::cout << "unknown\n"; break;
		}
	}
	return 0;
}
