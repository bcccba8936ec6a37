// Every VM test starts with no BPF LSM program attached. The runner removes
// what the previous test pinned, but the kernel frees an unpinned link only
// after an RCU grace period and a work item, so for a moment the previous
// test's programs can still decide: under its `all = true` policy they govern
// this test's processes and refuse them bpf() (seen on 6.12, where a daemon
// then reported the ring buffer "not supported"). Each test process waits for
// them to go before its first test.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

namespace {

// 1: some LSM program is loaded; 0: none; -errno: cannot tell (bpf() refused,
// which itself means a guard still governs this process).
int lsm_program_loaded()
{
	__u32 id = 0;
	for (;;) {
		if (bpf_prog_get_next_id(id, &id) != 0)
			return errno == ENOENT ? 0 : -errno;
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; // freed meanwhile
			return -errno;
		}
		bpf_prog_info info{};
		__u32 len = sizeof(info);
		int err = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (err == 0 && info.type == BPF_PROG_TYPE_LSM)
			return 1;
	}
}

class clean_slate : public ::testing::Environment {
public:
	void SetUp() override
	{
		auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
		int state;
		while ((state = lsm_program_loaded()) != 0 && std::chrono::steady_clock::now() < give_up)
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		if (state != 0)
			std::fprintf(
				stderr,
				"ltrack-vm: a BPF LSM program from an earlier test is still loaded after 30 s (%s)\n",
				state > 0 ? "seen by id" : std::strerror(-state));
	}
};

const auto *registered = ::testing::AddGlobalTestEnvironment(new clean_slate);

} // namespace
