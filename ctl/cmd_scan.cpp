// ltrackctl scan PATH...: run the model scanner offline over files and
// directories (recursively) and report format, verdict and the imports
// that decided it. Exit status: 0 all safe, 1 something unsafe or
// suspicious, 2 otherwise an error (unreadable, malformed, over limits).
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "commands.h"
#include "scanner.h"
#include "sha256.h"

namespace ltrack::ctl {
namespace {

namespace fs = std::filesystem;
namespace sc = ltrack::scanner;

struct scan_options {
	std::vector<std::string> paths;
	bool json = false;
	bool verbose = false;
	bool digest = false;
};

struct file_report {
	std::string path;
	sc::scan_result result;
	std::string sha256;
};

std::string json_string(std::string_view s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += char(c);
		} else if (c < 0x20) {
			char buf[8];
			snprintf(buf, sizeof buf, "\\u%04x", c);
			out += buf;
		} else {
			out += char(c);
		}
	}
	return out + "\"";
}

std::string_view kind_name(enum sc::import_ref::kind k)
{
	switch (k) {
	case sc::import_ref::kind::allowed: return "allowed";
	case sc::import_ref::kind::dangerous: return "dangerous";
	case sc::import_ref::kind::unknown: return "unknown";
	}
	return "unknown";
}

// Files under each path; directories recurse without following symlinked
// directories (no loops). A path that cannot be listed becomes an error row.
void collect(const std::string &path, std::vector<file_report> &out)
{
	std::error_code ec;
	if (!fs::is_directory(path, ec)) {
		out.push_back({path, sc::scan_file(path), {}});
		return;
	}
	std::vector<std::string> files;
	fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
	for (; !ec && it != end; it.increment(ec))
		if (it->is_regular_file(ec))
			files.push_back(it->path().string());
	if (ec) {
		sc::scan_result r;
		r.verdict = LTRACK_VERDICT_ERROR;
		r.error = path + ": cannot list directory: " + ec.message();
		out.push_back({path, r, {}});
	}
	std::sort(files.begin(), files.end());
	for (const std::string &f : files)
		out.push_back({f, sc::scan_file(f), {}});
}

void print_text(const file_report &f, bool verbose)
{
	const sc::scan_result &r = f.result;
	printf("%-10s %-14s %s\n", std::string(sc::verdict_name(r.verdict)).c_str(), std::string(sc::format_name(r.fmt)).c_str(), f.path.c_str());
	if (!f.sha256.empty())
		printf("    sha256: %s\n", f.sha256.c_str());
	if (r.verdict != LTRACK_VERDICT_SAFE)
		for (const std::string &d : r.deciding)
			printf("    decided by: %s\n", d.c_str());
	if (!r.error.empty() && (r.verdict != LTRACK_VERDICT_ERROR || r.deciding.empty() || r.deciding.front() != r.error))
		printf("    error: %s\n", r.error.c_str());
	if (verbose) {
		for (const sc::import_ref &i : r.imports)
			printf("    import %-9s %s.%s%s%s\n", std::string(kind_name(i.kind)).c_str(), i.module.c_str(), i.name.c_str(),
			       i.where.empty() ? "" : " in ", i.where.c_str());
		if (!r.detail.empty())
			printf("    detail: %s\n", r.detail.c_str());
	}
}

void print_json(const std::vector<file_report> &files)
{
	printf("[");
	for (size_t n = 0; n < files.size(); n++) {
		const file_report &f = files[n];
		const sc::scan_result &r = f.result;
		printf("%s\n  {\"path\": %s, \"format\": %s, \"verdict\": %s", n ? "," : "", json_string(f.path).c_str(),
		       json_string(sc::format_name(r.fmt)).c_str(), json_string(sc::verdict_name(r.verdict)).c_str());
		if (!f.sha256.empty())
			printf(", \"sha256\": %s", json_string(f.sha256).c_str());
		printf(", \"deciding\": [");
		for (size_t i = 0; i < r.deciding.size(); i++)
			printf("%s%s", i ? ", " : "", json_string(r.deciding[i]).c_str());
		printf("], \"imports\": [");
		for (size_t i = 0; i < r.imports.size(); i++) {
			const sc::import_ref &imp = r.imports[i];
			printf("%s{\"module\": %s, \"name\": %s, \"kind\": %s, \"where\": %s}", i ? ", " : "", json_string(imp.module).c_str(),
			       json_string(imp.name).c_str(), json_string(kind_name(imp.kind)).c_str(), json_string(imp.where).c_str());
		}
		printf("], \"error\": %s, \"detail\": %s}", json_string(r.error).c_str(), json_string(r.detail).c_str());
	}
	printf("%s]\n", files.empty() ? "" : "\n");
}

int run_scan(const scan_options &opt)
{
	std::vector<file_report> files;
	for (const std::string &p : opt.paths)
		collect(p, files);
	bool flagged = false, failed = false;
	for (file_report &f : files) {
		if (opt.digest && f.result.verdict != LTRACK_VERDICT_ERROR)
			f.sha256 = sc::sha256_file(f.path);
		flagged |= f.result.verdict == LTRACK_VERDICT_UNSAFE || f.result.verdict == LTRACK_VERDICT_SUSPICIOUS;
		failed |= f.result.verdict == LTRACK_VERDICT_ERROR;
	}
	if (opt.json) {
		print_json(files);
	} else {
		for (const file_report &f : files)
			print_text(f, opt.verbose);
		if (files.empty())
			fprintf(stderr, "ltrackctl scan: no files found under the given paths\n");
	}
	fflush(stdout);
	// Something unsafe or suspicious is the finding to act on; an error
	// alone (nothing flagged) is reported as 2.
	return flagged ? 1 : failed ? 2 : files.empty() ? 2 : 0;
}

} // namespace

void add_scan_command(CLI::App &app, context &ctx)
{
	auto opt = std::make_shared<scan_options>();
	CLI::App *cmd = app.add_subcommand("scan", "scan model files for code a loader would run (pickle imports); directories recurse");
	cmd->add_option("paths", opt->paths, "model files or directories")->required();
	cmd->add_flag("--json", opt->json, "print a JSON array, one object per file");
	cmd->add_flag("-v,--verbose", opt->verbose, "also list every import and what was seen");
	cmd->add_flag("--sha256", opt->digest, "also print each file's SHA-256 (for the policy's trusted list)");
	cmd->footer("Exit status: 0 all safe, 1 something unsafe or suspicious, 2 an error and nothing flagged.");
	cmd->callback([opt, &ctx] { ctx.exit_code = run_scan(*opt); });
}

} // namespace ltrack::ctl
