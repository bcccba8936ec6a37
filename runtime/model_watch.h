// Keeps the kernel's "models" map true: every regular file under the
// policy's model directories is scanned at start and again whenever it is
// written or replaced (inotify, and a 1 s recheck), and its verdict is
// stored with the content generation its bytes were read at (the kernel's
// model_content, lsm/model.bpf.c). The kernel moves that generation on any
// open for writing, truncate or shared writable mapping, so a safe verdict
// stops holding at once, before this watcher catches up. No verdict at all
// is stored from a scan while someone held the file open for writing (its
// bytes were not final): the scan after the writer's close decides.
//
// The watcher never leaves a model directory: below the directory the
// policy names, no symlink is followed (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS), so a symlink to libc in a model directory gives libc
// no verdict. A hard link is another name of the same inode: a file linked
// into a model directory is in it and gets a verdict.
#pragma once

#include "abi.h"
#include "libbpf_call.h"
#include "scanner.h"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ltrack {

class bpf_guard;

struct model_finding {
	std::string path;
	std::string root; // the model directory it was found under; empty: named by a caller
	std::string rel;  // its path below that directory
	scanner::scan_result result;
	ltrack_model_val scanned{}; // the verdict stored and the content generation it holds for
	bool withheld = false;      // open for writing elsewhere (or written during the scan): nothing stored yet
	uint64_t dev = 0, ino = 0;  // its identity (kernel dev_t encoding)
};

// Scans the regular file open as fd and stores its verdict in the guard's
// models map (nothing while a writer holds it: f.withheld). fd must
// have been opened by this process, read-only with O_NOATIME, just before
// (lsm/model.bpf.c notes the content generation at that open). Fills f
// (path, result, scanned); false when nothing was scanned (no generation
// noted, truncated mid-scan, or only_models and not a model format). Safe
// to call from any thread: it touches no model_watch.
bool scan_and_store(bpf_guard &guard, int fd, const std::string &path, const std::set<std::string> &trusted,
		    bool only_models, model_finding &f);

class model_watch {
public:
	~model_watch();
	// Starts watching dirs (recursively) and scans everything in them.
	// trusted: lower-case hex SHA-256 digests whose files are TRUSTED.
	status start(bpf_guard &guard, const std::vector<std::string> &dirs, const std::set<std::string> &trusted);
	void stop();
	int fd() const { return inotify_fd_; }
	// Handles pending inotify events (non-blocking).
	void handle_events();
	// Scans one file named by a caller now (symlinks followed: the caller
	// chose it) and stores its verdict; returns what the scanner said.
	// only_models: store nothing for a file the scanner does not recognise as
	// a model format (a verdict makes a file a model file under any name).
	const model_finding *scan_path(const std::string &path, bool only_models = false);
	// Rescans every known file whose content generation moved without an
	// event in a watched directory (written through a hard link or a bind
	// mount elsewhere), and every safe file whose writers have gone. Until
	// then the kernel already treats a changed file as unscanned.
	void recheck();
	// Takes in a finding scanned elsewhere (the scan waiter), so records
	// name its imports and recheck() keeps it true.
	void adopt(model_finding f);
	// Called with each directory watched (opened beneath its model
	// directory, as the watch is placed): the scan waiter marks it.
	void on_directory(std::function<void(int dir_fd, const std::string &path)> f) { on_dir_ = std::move(f); }
	// What the scanner said of a file, by identity (for decision records).
	const model_finding *find(uint64_t dev, uint64_t ino) const;
	std::size_t scanned() const { return findings_.size(); }
	// Scans done (start, changes, rechecks, callers, the scan waiter's), by
	// the verdict stored: `ltrackctl stats` and the metrics.
	const std::map<std::string, uint64_t> &scans_by_verdict() const { return scans_by_verdict_; }
	// Called before each directory is scanned (start-up progress for systemd).
	void on_progress(std::function<void(const std::string &dir, std::size_t scanned)> f)
	{
		progress_ = std::move(f);
	}

private:
	void add_tree(int root, const std::string &rel);
	void scan_below(int root, const std::string &rel);
	const model_finding *scan_fd(int fd, const std::string &path, int root, const std::string &rel,
				     bool only_models);
	bpf_guard *guard_ = nullptr;
	std::vector<std::string> roots_; // the model directories, as the policy names them
	std::vector<int> root_fds_;
	std::set<std::string> trusted_;
	int inotify_fd_ = -1;
	std::map<int, std::pair<int, std::string>> watches_; // wd -> (root, directory below it)
	std::map<std::pair<uint64_t, uint64_t>, model_finding> findings_;
	std::function<void(const std::string &dir, std::size_t scanned)> progress_;
	std::function<void(int dir_fd, const std::string &path)> on_dir_;
	std::map<std::string, uint64_t> scans_by_verdict_;
};

// The kernel's internal dev_t encoding of a stat(2) st_dev (MKDEV: major << 20 | minor).
uint64_t kernel_dev(uint64_t st_dev);

} // namespace ltrack
