// What ltrackd says about the kernel it runs on. On a kernel that can
// enforce, every requirement is met and the programs attach; on one that
// cannot (Debian 11's 5.10: no task storage for BPF LSM), ltrackd refuses at
// start with one sentence naming the missing feature, and never pretends
// to enforce. The VM suite runs this on each guest kernel.
#include "support.h"

#include <sys/utsname.h>

#include <gtest/gtest.h>

using namespace ltrack::vmtest;

namespace {

bool kernel_before(int major, int minor)
{
	utsname u{};
	uname(&u);
	int ma = 0, mi = 0;
	std::sscanf(u.release, "%d.%d", &ma, &mi);
	return ma < major || (ma == major && mi < minor);
}

TEST(KernelSupport, ProbeMatchesTheKernel)
{
	run_result r = run({ltrackd_path(), "--check-support"});
	run_result doctor = run({ltrackctl_path(), "doctor"});
	EXPECT_EQ(doctor.exit_code, r.exit_code) << "ltrackctl doctor and ltrackd share the probe";
	if (kernel_before(5, 11)) {
		EXPECT_EQ(r.exit_code, 1) << r.out;
		EXPECT_NE(r.out.find("cannot enforce: BPF task storage: not supported by this kernel"),
			  std::string::npos)
			<< r.out;
		return;
	}
	EXPECT_EQ(r.exit_code, 0) << r.out;
	for (const char *line : {"kernel BTF", "bpf in active LSMs", "bpf() system call", "BPF ring buffer",
				 "BPF task storage", "trial BPF LSM load", "trial BPF LSM attach"})
		EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
	EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(KernelSupport, DaemonRefusesOrEnforces)
{
	temp_dir t;
	write_file(t / "secret", "s");
	ltrackd d("mode = \"enforce\"\n[profile.p]\nexecutables = [\"" + actor_path() +
		  "\"]\n[profile.p.file]\nrules = [ { action = \"deny\", file = \"" + t / "secret" + "\" } ]\n");
	bool started = d.start(std::chrono::seconds(60));
	if (kernel_before(5, 11)) {
		EXPECT_FALSE(started);
		EXPECT_FALSE(d.running());
		EXPECT_EQ(d.exit_status(), 1);
		// One sentence, naming the feature and the fix; nothing attached.
		EXPECT_NE(d.output().find(
				  "cannot enforce on this kernel: BPF task storage: not supported by this kernel: "
				  "governed processes carry their profile in task storage (Linux 5.11+)"),
			  std::string::npos)
			<< d.output();
		run_result progs = run({"/usr/sbin/bpftool", "prog", "show"});
		EXPECT_EQ(progs.out.find("guard_file_open"), std::string::npos) << progs.out;
		EXPECT_EQ(actor({"open", t / "secret"}).exit_code, 0) << "nothing may pretend to enforce";
		return;
	}
	ASSERT_TRUE(started) << d.output();
	EXPECT_EQ(actor({"open", t / "secret"}).actor_errno(), EPERM);
}

} // namespace
