// Keeps the kernel's "models" map true: every regular file under the
// policy's model directories is scanned at start and again whenever it is
// written or replaced (inotify), and its verdict is stored with the size
// and change time it had when scanned. The kernel treats a file whose size
// or change time moved as unscanned, so a file modified after its scan is
// never trusted on an old verdict, even before this watcher catches up.
#pragma once

#include "abi.h"
#include "libbpf_call.h"
#include "scanner.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ltrack {

class bpf_guard;

struct model_finding {
	std::string path;
	scanner::scan_result result;
	ltrack_model_val scanned{}; // size and change time the verdict holds for
};

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
	// Scans one file now and stores its verdict; returns what the scanner said.
	// only_models: store nothing for a file the scanner does not recognise as
	// a model format (a verdict makes a file a model file under any name).
	const model_finding *scan_path(const std::string &path, bool only_models = false);
	// Rescans every known model file whose size or change time moved without
	// an event in a watched directory (written through a hard link or a bind
	// mount elsewhere). Until then the kernel already treats it as unscanned.
	void recheck();
	// What the scanner said of a file, by identity (for decision records).
	const model_finding *find(uint64_t dev, uint64_t ino) const;
	std::size_t scanned() const { return findings_.size(); }

private:
	void add_tree(const std::string &dir);
	bpf_guard *guard_ = nullptr;
	std::set<std::string> trusted_;
	int inotify_fd_ = -1;
	std::map<int, std::string> watches_; // wd -> directory
	std::map<std::pair<uint64_t, uint64_t>, model_finding> findings_;
};

// The kernel's internal dev_t encoding of a stat(2) st_dev (MKDEV: major << 20 | minor).
uint64_t kernel_dev(uint64_t st_dev);

} // namespace ltrack
