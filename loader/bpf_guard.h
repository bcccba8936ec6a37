// The loaded BPF side of ltrack: one skeleton (lsm/*.bpf.c linked), its
// programs attached, and the policy maps written with an atomic slot flip.
#pragma once

#include "abi.h"
#include "libbpf_call.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <memory>
#include <string>
#include <set>
#include <vector>

struct guard; // the generated skeleton (guard.skel.h)

namespace ltrack::policy {
struct compiled_policy;
}

namespace ltrack {

struct skel_deleter {
	void operator()(struct ::guard *s) const;
};

// What a swap did, for the reload report.
struct apply_stats {
	uint32_t slot = 0;       // the slot now live
	std::size_t written = 0; // entries written to the new slot
	std::size_t removed = 0; // entries of the old slot deleted after the flip
	double write_ms = 0, flip_ms = 0, cleanup_ms = 0;
};

struct counters {
	uint64_t values[LTRACK_CNT_MAX] = {};
};

class bpf_guard {
public:
	// open -> configure -> load -> attach. The error names the step and the
	// program, and quotes the verifier when a load fails.
	//
	// With a pin directory (normally /sys/fs/bpf/ltrack), maps are pinned
	// there and reused when already pinned, and each program's link is
	// pinned: a program whose link is already pinned (a previous ltrackd
	// that exited or crashed) is adopted, not attached a second time, so a
	// restart leaves no gap and no duplicate.
	static status start(bpf_guard &out, const std::string &pin_dir = {});

	// Removes every pin under pin_dir: programs detach once nothing else
	// holds their links. Safe to call when nothing is pinned.
	static status unpin_all(const std::string &pin_dir);

	// `ltrackctl run` pins its private guard for the run's lifetime, so the
	// command stays governed even if its supervisor is killed:
	// /sys/fs/bpf/ltrack-run/<pid>-<start time in clock ticks> of the supervisor.
	static std::string run_pin_dir(int pid);
	// Removes the pins of runs whose supervisor is gone and whose every
	// governed process has exited (a process still governed keeps its run's
	// guard). Returns how many runs were cleaned.
	static unsigned clean_stale_runs();
	// After an unload: removes the self-protection pins shared by every
	// guard (LTRACK_SELF_PIN_DIR) unless an `ltrackctl run` still has its
	// guard pinned. A guard still loaded keeps its maps; they are only
	// unpinned.
	static void unpin_shared_if_unused();

	// Which programs were adopted from pinned links at start.
	const std::vector<std::string> &adopted() const { return adopted_; }

	// Writes every map entry of the policy into the inactive slot, then flips
	// the state word the hooks read once per decision, then deletes the old
	// slot's entries. At every instant each hook decides wholly by one policy.
	// progress, if given, is called as each step starts: "fill" (the new
	// slot is about to be written), "flip" (written; write_ms is set),
	// "cleanup" (live; flip_ms is set). slot: the slot being filled.
	using apply_progress = std::function<void(std::string_view step, uint32_t slot, const apply_stats &)>;
	status apply(const policy::compiled_policy &p, uint32_t daemon_tgid, apply_stats *stats = nullptr,
		     const apply_progress &progress = {});

	// Switches the global mode at once (no reload).
	status set_mode(uint32_t mode);
	// Overrides one profile's mode in the live slot (LTRACK_MODE_INHERIT clears it).
	status set_profile_mode(uint32_t profile, uint32_t mode);

	status read_state(ltrack_state &out) const;
	counters read_counters() const;
	// Decisions whose record the full ring buffer refused, by profile id
	// (only the profiles with any).
	std::map<uint32_t, uint64_t> read_profile_drops() const;
	// Sends the tally records of coalesced decisions whose window has ended
	// (all: every pending count, when the daemon stops). Once a second.
	status flush_coalesced(bool all, uint32_t *sent = nullptr);

	// Records a verdict of the scanner for a file (models map).
	status set_model_verdict(const ltrack_model_key &key, const ltrack_model_val &val);
	status clear_model_verdict(const ltrack_model_key &key);
	// The verdict stored for a file, if any.
	bool model_verdict(const ltrack_model_key &key, ltrack_model_val &out) const;
	// The content generation of the file open as fd (model_content, set up
	// by the daemon's own open of it in lsm/model.bpf.c); false if it has none.
	bool model_content(int fd, ltrack_content &out) const;

	int events_fd() const;
	// The scan waiter's maps (abi.h, "first open of an unscanned model").
	int waiter_fd() const;
	int wait_dirs_fd() const;
	int pending_fd() const;
	// Governs one process (and, through task_alloc, everything it starts)
	// by a profile, whatever the policy's selectors say: `ltrackctl run`.
	status govern_task(int pidfd, uint32_t profile);
	// The profile governing a process by its task label, 0 if none.
	uint32_t task_profile(int pidfd) const;
	// Labels a process as one of ltrack's own (enum ltrack_guardian_kind):
	// never governed, and no governed process may signal, trace or
	// reprioritise it. By pidfd, so the label is on exactly that process
	// and dies with it; call it before the process starts threads.
	status mark_guardian(int pidfd, uint32_t kind);
	uint32_t guardian_kind(int pidfd) const; // 0: not one
	// Whether this process carries its guardian label (self-protection on).
	bool self_protected() const;
	// The files no governed process may connect to, unlink, rename, truncate
	// or open for writing, by inode: replaces the set this guard protected
	// before (the map is shared with other guards; their entries stay).
	// Every directory on the way is marked too (LTRACK_PROTECT_ANCESTOR);
	// those marks stay, as do a crashed guard's entries (over-protection of a
	// reused inode number, never a protection lost).
	// report_socket (if any) may not be unlinked or renamed either, but a
	// governed process may connect to it (LTRACK_PROTECT_REPORT).
	status protect_files(const std::vector<std::string> &paths, const std::string &report_socket = {});
	// The mode a profile's decisions take now: its own, else the global one.
	uint32_t profile_mode(uint32_t profile) const;
	std::vector<std::string> attached_programs() const;

private:
	std::unique_ptr<struct ::guard, skel_deleter> skel_;
	std::vector<std::string> adopted_;
	// (dev, ino) of the files this guard wrote into the shared protected_files.
	std::set<std::pair<uint64_t, uint64_t>> protected_;
};

// Where `ltrackctl run` guards are pinned (see bpf_guard::run_pin_dir).
inline constexpr const char *run_pins_root = "/sys/fs/bpf/ltrack-run";

// A process's start time (clock ticks after boot, /proc/PID/stat field
// 22), 0 when there is no such process: with the pid, it names a process
// that a reused pid cannot impersonate.
uint64_t process_start_ticks(int pid);

// Labels the calling process as ltrack's own (mark_guardian on its pidfd).
status label_self(bpf_guard &guard, uint32_t kind);

} // namespace ltrack
