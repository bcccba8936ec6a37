// The shared ABI as the compiled BPF object sees it: every struct's size
// and every member's offset in the object's BTF must equal what the C++
// compiler made of lsm/abi.h. Catches a drift between clang -target bpf
// and g++ (packing, alignment) that static_asserts alone cannot.
#include "abi.h"

#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>

namespace {

struct btf_deleter {
	void operator()(btf *b) const { btf__free(b); }
};

class Abi : public ::testing::Test {
protected:
	void SetUp() override
	{
		obj_.reset(btf__parse_elf(LTRACK_BPF_OBJECT, nullptr));
		ASSERT_NE(obj_, nullptr) << "cannot read BTF of " << LTRACK_BPF_OBJECT;
	}

	const btf_type *find(const char *name)
	{
		int id = btf__find_by_name_kind(obj_.get(), name, BTF_KIND_STRUCT);
		if (id < 0)
			return nullptr;
		return btf__type_by_id(obj_.get(), id);
	}

	// Byte offset of a member in the BPF object's struct, -1 if absent.
	long member_offset(const btf_type *t, const char *member)
	{
		const btf_member *m = btf_members(t);
		for (int i = 0; i < btf_vlen(t); i++, m++)
			if (std::string(btf__name_by_offset(obj_.get(), m->name_off)) == member)
				return btf_member_bit_offset(t, i) / 8;
		return -1;
	}

	std::unique_ptr<btf, btf_deleter> obj_;
};

#define EXPECT_MEMBER(type, member)                                                                                    \
	EXPECT_EQ(member_offset(t, #member), static_cast<long>(offsetof(struct type, member))) << #type "." #member

TEST_F(Abi, DecisionRecordMatchesBpfObject)
{
	const btf_type *t = find("ltrack_event");
	ASSERT_NE(t, nullptr) << "struct ltrack_event not in the BPF object's BTF";
	EXPECT_EQ(t->size, sizeof(ltrack_event));
	EXPECT_MEMBER(ltrack_event, ts_ns);
	EXPECT_MEMBER(ltrack_event, cgroup_id);
	EXPECT_MEMBER(ltrack_event, pid);
	EXPECT_MEMBER(ltrack_event, ppid);
	EXPECT_MEMBER(ltrack_event, profile);
	EXPECT_MEMBER(ltrack_event, rule_id);
	EXPECT_MEMBER(ltrack_event, hook);
	EXPECT_MEMBER(ltrack_event, outcome);
	EXPECT_MEMBER(ltrack_event, flags);
	EXPECT_MEMBER(ltrack_event, verdict);
	EXPECT_MEMBER(ltrack_event, comm);
	EXPECT_MEMBER(ltrack_event, dev);
	EXPECT_MEMBER(ltrack_event, ino);
	EXPECT_MEMBER(ltrack_event, family);
	EXPECT_MEMBER(ltrack_event, port);
	EXPECT_MEMBER(ltrack_event, proto);
	EXPECT_MEMBER(ltrack_event, addr);
	EXPECT_MEMBER(ltrack_event, path);
	EXPECT_MEMBER(ltrack_event, count);
	EXPECT_MEMBER(ltrack_event, tamper_op);
	EXPECT_MEMBER(ltrack_event, target_pid);
	EXPECT_MEMBER(ltrack_event, tamper_arg);
}

TEST_F(Abi, MapKeysAndValuesMatchBpfObject)
{
	struct expect {
		const char *name;
		std::size_t size;
	};
	for (auto e : {expect{"ltrack_state", sizeof(ltrack_state)},
		       expect{"ltrack_slot", sizeof(ltrack_slot)},
		       expect{"ltrack_profile_key", sizeof(ltrack_profile_key)},
		       expect{"ltrack_profile", sizeof(ltrack_profile)},
		       expect{"ltrack_inode_key", sizeof(ltrack_inode_key)},
		       expect{"ltrack_inode_rule", sizeof(ltrack_inode_rule)},
		       expect{"ltrack_rule", sizeof(ltrack_rule)},
		       expect{"ltrack_guardian", sizeof(ltrack_guardian)},
		       expect{"ltrack_file_key", sizeof(ltrack_file_key)},
		       expect{"ltrack_name_key", sizeof(ltrack_name_key)},
		       expect{"ltrack_net_key", sizeof(ltrack_net_key)},
		       expect{"ltrack_net_val", sizeof(ltrack_net_val)},
		       expect{"ltrack_exe_key", sizeof(ltrack_exe_key)},
		       expect{"ltrack_cgroup_key", sizeof(ltrack_cgroup_key)},
		       expect{"ltrack_model_key", sizeof(ltrack_model_key)},
		       expect{"ltrack_model_val", sizeof(ltrack_model_val)},
		       expect{"ltrack_content", sizeof(ltrack_content)},
		       expect{"ltrack_task", sizeof(ltrack_task)},
		       expect{"ltrack_proc_event", sizeof(ltrack_proc_event)},
		       expect{"ltrack_coalesce_key", sizeof(ltrack_coalesce_key)},
		       expect{"ltrack_coalesce_val", sizeof(ltrack_coalesce_val)},
		       expect{"ltrack_flush_args", sizeof(ltrack_flush_args)}}) {
		const btf_type *t = find(e.name);
		ASSERT_NE(t, nullptr) << e.name << " not in the BPF object's BTF";
		EXPECT_EQ(t->size, e.size) << e.name;
	}
	const btf_type *t = find("ltrack_net_key");
	EXPECT_MEMBER(ltrack_net_key, scope);
	EXPECT_MEMBER(ltrack_net_key, addr);
	t = find("ltrack_profile");
	EXPECT_MEMBER(ltrack_profile, flags);
	EXPECT_MEMBER(ltrack_profile, model_policy);
	EXPECT_MEMBER(ltrack_profile, model_rule);
	t = find("ltrack_model_val");
	EXPECT_MEMBER(ltrack_model_val, content_gen);
	t = find("ltrack_content");
	EXPECT_MEMBER(ltrack_content, scan_gen);
	EXPECT_MEMBER(ltrack_content, writers);
}

// The name hash is computed by the compiler (user space) and by file_open
// (BPF) independently; both follow ltrack_name_hash_step from the end of
// the name. A fixed vector pins the definition so neither side drifts.
TEST(NameHash, BackwardFnv1aOfSuffix)
{
	std::string s = ".pkl";
	__u64 h = LTRACK_NAME_HASH_INIT;
	for (auto it = s.rbegin(); it != s.rend(); ++it)
		h = ltrack_name_hash_step(h, static_cast<unsigned char>(*it));
	// FNV-1a 64 of the bytes "lkp.", computed independently in Python:
	// h = 14695981039346656037; for c in b"lkp.": h = ((h ^ c) * 1099511628211) % 2**64
	EXPECT_EQ(h, 0xad4e8cad5eeea03aULL);
}

} // namespace
