// ltrackctl scan PATH...: run the model scanner offline over files and
// directories (recursively) and report format, verdict and the imports
// that decided it. Exit status: 0 all safe, 1 something unsafe or
// suspicious, 2 otherwise an error (unreadable, malformed, over limits).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fnmatch.h>
#include <string>
#include <system_error>
#include <vector>

#include "commands.h"
#include "escape.h"
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
	std::vector<std::string> excludes;
};

// --exclude GLOB: a glob without '/' is matched against the name of every
// file and directory met (an excluded directory is not entered); one with
// '/' against the whole path as found ('*' also spans '/').
struct excluder {
	const std::vector<std::string> &globs;
	uint64_t excluded = 0;

	bool operator()(const fs::path &p)
	{
		std::string full = p.string(), name = p.filename().string();
		for (const std::string &g : globs)
			if (fnmatch(g.c_str(), g.find('/') == std::string::npos ? name.c_str() : full.c_str(), 0) ==
			    0) {
				excluded++;
				return true;
			}
		return false;
	}
};

struct file_report {
	std::string path;
	sc::scan_result result;
	std::string sha256;
};

std::string_view kind_name(enum sc::import_ref::kind k)
{
	switch (k) {
	case sc::import_ref::kind::allowed: return "allowed";
	case sc::import_ref::kind::dangerous: return "dangerous";
	case sc::import_ref::kind::unknown: return "unknown";
	}
	return "unknown";
}

// Files under each path, less what --exclude names; directories recurse without following symlinked
// directories (no loops). Only listed here: each is scanned as its turn comes, so its verdict is
// printed as soon as it is decided. A path that cannot be listed becomes an error row.
void collect(const std::string &path, std::vector<file_report> &out, std::vector<bool> &listed, excluder &skip)
{
	std::error_code ec;
	if (skip(path))
		return;
	if (!fs::is_directory(path, ec)) {
		out.push_back({path, {}, {}});
		listed.push_back(false);
		return;
	}
	std::vector<std::string> files;
	fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
	for (; !ec && it != end; it.increment(ec)) {
		if (skip(it->path())) {
			if (it->is_directory(ec))
				it.disable_recursion_pending();
			continue;
		}
		if (it->is_regular_file(ec))
			files.push_back(it->path().string());
	}
	if (ec) {
		sc::scan_result r;
		r.verdict = LTRACK_VERDICT_ERROR;
		r.error = path + ": cannot list directory: " + ec.message();
		out.push_back({path, r, {}});
		listed.push_back(true); // decided already: nothing to scan
	}
	std::sort(files.begin(), files.end());
	for (const std::string &f : files) {
		out.push_back({f, {}, {}});
		listed.push_back(false);
	}
}

void print_text(const file_report &f, bool verbose)
{
	const sc::scan_result &r = f.result;
	printf("%-10s %-14s %s\n", std::string(sc::verdict_name(r.verdict)).c_str(),
	       std::string(sc::format_name(r.fmt)).c_str(), f.path.c_str());
	if (!f.sha256.empty())
		printf("    sha256: %s\n", f.sha256.c_str());
	if (r.verdict != LTRACK_VERDICT_SAFE)
		for (const std::string &d : r.deciding)
			printf("    decided by: %s\n", d.c_str());
	if (!r.error.empty() &&
	    (r.verdict != LTRACK_VERDICT_ERROR || r.deciding.empty() || r.deciding.front() != r.error))
		printf("    error: %s\n", r.error.c_str());
	if (r.fmt == sc::format::python_pth && r.verdict == LTRACK_VERDICT_UNSAFE) {
		// A site .pth with import lines is code that every interpreter
		// reading its directory runs: unsafe as a model, but the site
		// directories of the system's own Python hold such files by design.
		struct stat st {};
		bool root_owned = ::stat(f.path.c_str(), &st) == 0 && st.st_uid == 0 &&
				  ::stat(fs::path(f.path).parent_path().c_str(), &st) == 0 && st.st_uid == 0 &&
				  !(st.st_mode & S_IWOTH);
		if (root_owned && fs::path(f.path).filename() == "ltrack-pyhook.pth")
			printf("    note: ltrack's own .pth: it imports ltrack_pyhook, the audit hook that refuses dangerous "
			       "pickle globals in governed interpreters (docs/models.md, \"Pickles in memory\")\n");
		else if (root_owned)
			printf("    note: a root-owned site .pth: its import lines run in every Python that reads this "
			       "directory; the shipped policies exclude the system's site-packages from the model layer "
			       "(`exclude` in policies/inference.toml), so it is not refused there\n");
		else
			printf("    note: a site .pth whose import lines run at every interpreter start: not the system's "
			       "(not root-owned): check who put it there\n");
	}
	if (verbose) {
		for (const sc::import_ref &i : r.imports)
			printf("    import %-9s %s.%s%s%s\n", std::string(kind_name(i.kind)).c_str(), i.module.c_str(),
			       i.name.c_str(), i.where.empty() ? "" : " in ", i.where.c_str());
		if (!r.detail.empty())
			printf("    detail: %s\n", r.detail.c_str());
	}
}

struct summary {
	uint64_t files = 0, bytes = 0, excluded = 0;
	uint64_t by_verdict[LTRACK_VERDICT_TRUSTED + 1] = {};
	double seconds = 0;
};

// --json: one document, written as the scan goes: the opening, then each
// file's object on a line of its own as soon as it is decided (the comma
// between two starts the next line, so every object's line is complete when
// it is written), then the summary.
void print_json_file(const file_report &f, bool first)
{
	const sc::scan_result &r = f.result;
	printf("%s{\"path\": %s, \"format\": %s, \"verdict\": %s", first ? "  " : " ,", json_string(f.path).c_str(),
	       json_string(sc::format_name(r.fmt)).c_str(), json_string(sc::verdict_name(r.verdict)).c_str());
	if (!f.sha256.empty())
		printf(", \"sha256\": %s", json_string(f.sha256).c_str());
	printf(", \"deciding\": [");
	for (size_t i = 0; i < r.deciding.size(); i++)
		printf("%s%s", i ? ", " : "", json_string(r.deciding[i]).c_str());
	printf("], \"imports\": [");
	for (size_t i = 0; i < r.imports.size(); i++) {
		const sc::import_ref &imp = r.imports[i];
		printf("%s{\"module\": %s, \"name\": %s, \"kind\": %s, \"where\": %s}", i ? ", " : "",
		       json_string(imp.module).c_str(), json_string(imp.name).c_str(),
		       json_string(kind_name(imp.kind)).c_str(), json_string(imp.where).c_str());
	}
	printf("], \"error\": %s, \"detail\": %s}\n", json_string(r.error).c_str(), json_string(r.detail).c_str());
}

void print_json_summary(const summary &sum)
{
	printf("],\n \"summary\": {\"files\": %llu, \"bytes\": %llu, \"excluded\": %llu, \"seconds\": %.3f",
	       (unsigned long long)sum.files, (unsigned long long)sum.bytes, (unsigned long long)sum.excluded,
	       sum.seconds);
	for (uint32_t v : {LTRACK_VERDICT_SAFE, LTRACK_VERDICT_SUSPICIOUS, LTRACK_VERDICT_UNSAFE, LTRACK_VERDICT_ERROR})
		printf(", %s: %llu", json_string(sc::verdict_name(v)).c_str(), (unsigned long long)sum.by_verdict[v]);
	printf("}}\n");
}

// Progress on stderr, only when stderr is a terminal and there are more
// than progress_min_files files: "[n/N] MiB path", redrawn at most ten
// times a second and wiped before each result line (stdout may be the same
// terminal), and at the end.
constexpr std::size_t progress_min_files = 20;

class progress_line {
public:
	explicit progress_line(std::size_t total)
	    : total_(total), on_(isatty(STDERR_FILENO) == 1 && total > progress_min_files)
	{
	}
	~progress_line() { wipe(); }

	void show(std::size_t done, uint64_t bytes, const std::string &path)
	{
		if (!on_)
			return;
		auto now = std::chrono::steady_clock::now();
		if (drawn_ && now - last_ < std::chrono::milliseconds(100))
			return;
		last_ = now;
		std::string name = text_escape(path);
		if (name.size() > 50)
			name = "..." + name.substr(name.size() - 47);
		fprintf(stderr, "\r\033[K[%zu/%zu] %.1f MiB %s", done, total_, double(bytes) / (1024.0 * 1024.0),
			name.c_str());
		fflush(stderr);
		drawn_ = true;
	}
	void wipe()
	{
		if (!drawn_)
			return;
		fputs("\r\033[K", stderr);
		fflush(stderr);
		drawn_ = false;
	}

private:
	std::size_t total_;
	bool on_;
	bool drawn_ = false;
	std::chrono::steady_clock::time_point last_{};
};

// One line at the end, as ClamAV's and other scanners' summaries read.
void print_summary(const summary &sum)
{
	double mib = double(sum.bytes) / (1024.0 * 1024.0);
	printf("scanned %llu file%s (%.1f MiB) in %.2f s: %llu safe, %llu suspicious, %llu unsafe, %llu error",
	       (unsigned long long)sum.files, sum.files == 1 ? "" : "s", mib, sum.seconds,
	       (unsigned long long)sum.by_verdict[LTRACK_VERDICT_SAFE],
	       (unsigned long long)sum.by_verdict[LTRACK_VERDICT_SUSPICIOUS],
	       (unsigned long long)sum.by_verdict[LTRACK_VERDICT_UNSAFE],
	       (unsigned long long)sum.by_verdict[LTRACK_VERDICT_ERROR]);
	if (sum.excluded)
		printf("; %llu excluded", (unsigned long long)sum.excluded);
	printf("\n");
}

int run_scan(const scan_options &opt)
{
	auto start = std::chrono::steady_clock::now();
	std::vector<file_report> files;
	std::vector<bool> decided;
	excluder skip{opt.excludes};
	for (const std::string &p : opt.paths)
		collect(p, files, decided, skip);
	bool flagged = false, failed = false;
	summary sum;
	sum.files = files.size();
	sum.excluded = skip.excluded;
	if (opt.json)
		printf("{\"files\": [\n");
	fflush(stdout);
	progress_line progress(files.size());
	for (std::size_t n = 0; n < files.size(); n++) {
		file_report &f = files[n];
		progress.show(n, sum.bytes, f.path);
		if (!decided[n])
			f.result = sc::scan_file(f.path);
		std::error_code ec;
		uint64_t size = fs::file_size(f.path, ec);
		sum.bytes += ec ? 0 : size;
		// A digest that cannot be read makes the file an error: the
		// trusted list must never be given a file without one.
		if (opt.digest && f.result.verdict != LTRACK_VERDICT_ERROR) {
			if (result<std::string> digest = sc::sha256_file(f.path)) {
				f.sha256 = std::move(*digest);
			} else {
				f.result.verdict = LTRACK_VERDICT_ERROR;
				f.result.error = "SHA-256: " + digest.failure().error;
			}
		}
		if (f.result.verdict <= LTRACK_VERDICT_TRUSTED)
			sum.by_verdict[f.result.verdict]++;
		flagged |= f.result.verdict == LTRACK_VERDICT_UNSAFE || f.result.verdict == LTRACK_VERDICT_SUSPICIOUS;
		failed |= f.result.verdict == LTRACK_VERDICT_ERROR;
		// The verdict is out as soon as it is decided, whatever comes next.
		progress.wipe();
		if (opt.json)
			print_json_file(f, n == 0);
		else
			print_text(f, opt.verbose);
		fflush(stdout);
		f.result = {}; // a big tree's imports are not kept until the end
	}
	progress.wipe();
	sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	if (opt.json) {
		print_json_summary(sum);
	} else {
		if (files.empty())
			fprintf(stderr, "ltrackctl scan: no files found under the given paths\n");
		print_summary(sum);
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
	CLI::App *cmd = app.add_subcommand(
		"scan", "scan model files for code a loader would run (pickle imports); directories recurse");
	cmd->add_option("paths", opt->paths, "model files or directories")->required();
	cmd->add_flag(
		"--json", opt->json,
		"print one JSON document: an object per file, each written as soon as it is decided, then a summary");
	cmd->add_flag("-v,--verbose", opt->verbose, "also list every import and what was seen");
	cmd->add_flag("--sha256", opt->digest, "also print each file's SHA-256 (for the policy's trusted list)");
	cmd->add_option(
		   "--exclude", opt->excludes,
		   "skip files and directories matching GLOB (repeatable; without '/' it matches names, with '/' whole paths)")
		->type_name("GLOB")
		->take_all()
		->allow_extra_args(false);
	cmd->footer(
		"Each verdict is printed as soon as the file is scanned; with more than 20 files and stderr a terminal, "
		"progress is shown on stderr.\nExit status: 0 all safe, 1 something unsafe or suspicious, 2 an error and "
		"nothing flagged.");
	cmd->callback([opt, &ctx] { ctx.exit_code = run_scan(*opt); });
}

} // namespace ltrack::ctl
