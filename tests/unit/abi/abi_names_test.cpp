// lsm/abi_names.h: every value of every ABI enum has a name that reads back
// to it, names are unique, and what the decision log writes for a value this
// build does not know ("unknown(N)") reads back to N.
#include "abi_names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <typeinfo>

namespace {

namespace abi = ltrack::abi; // not the global abi (cxxabi.h's alias)

template <typename E>
void round_trips()
{
	const char *enum_name = typeid(E).name();
	std::set<std::string> seen;
	for (const auto &e : abi::names<E>::table) {
		SCOPED_TRACE(std::string(enum_name) + " " + e.name);
		// value -> name -> value -> name
		const char *name = abi::name_of(e.value);
		ASSERT_NE(name, nullptr);
		EXPECT_STREQ(name, e.name);
		std::optional<E> back = abi::value_of<E>(name);
		ASSERT_TRUE(back.has_value());
		EXPECT_EQ(*back, e.value);
		EXPECT_STREQ(abi::name_of(*back), name);
		EXPECT_EQ(abi::name_or_number<E>(e.value), name);
		EXPECT_EQ(abi::value_or_number<E>(abi::name_or_number<E>(e.value)), e.value);
		EXPECT_TRUE(seen.insert(name).second) << "a name used twice";
	}
	// One past either end has no name, and is written and read as a number.
	const auto &t = abi::names<E>::table;
	uint64_t past = static_cast<uint64_t>(t[std::size(t) - 1].value) + 1;
	EXPECT_EQ(abi::name_of<E>(past), nullptr);
	EXPECT_EQ(abi::name_or_number<E>(past), "unknown(" + std::to_string(past) + ")");
	auto n = abi::value_or_number<E>(abi::name_or_number<E>(past));
	ASSERT_TRUE(n.has_value());
	EXPECT_EQ(static_cast<uint64_t>(*n), past);
	if (t[0].value != 0)
		EXPECT_EQ(abi::name_of<E>(static_cast<uint64_t>(t[0].value) - 1), nullptr);
	EXPECT_FALSE(abi::value_of<E>(""));
	EXPECT_FALSE(abi::value_of<E>(std::string(t[0].name) + "x"));
}

template <typename... E>
void round_trips_all()
{
	(round_trips<E>(), ...);
}

TEST(AbiNames, EveryValueRoundTrips)
{
	round_trips_all<ltrack_hook, ltrack_action, ltrack_mode, ltrack_outcome, ltrack_verdict, ltrack_model_policy,
			ltrack_cred_op, ltrack_fs_op, ltrack_python_op, ltrack_tamper_op, ltrack_sched_op,
			ltrack_scan_wait>();
}

// The names are an interface (the decision log, the policy, filter
// expressions): a rename is caught here, not by a reader of old logs.
TEST(AbiNames, NamesAsDocumented)
{
	EXPECT_STREQ(abi::name_of(LTRACK_OUT_WOULD_DENY), "would_deny");
	EXPECT_STREQ(abi::name_of(LTRACK_ACT_KILL), "kill");
	EXPECT_STREQ(abi::name_of(LTRACK_MODE_INHERIT), "inherit");
	EXPECT_STREQ(abi::name_of(LTRACK_HOOK_PYTHON), "python");
	EXPECT_STREQ(abi::name_of(LTRACK_FS_NEW_SB), "new_instance");
	EXPECT_STREQ(abi::name_of(LTRACK_SCHED_POLICY), "scheduler");
	EXPECT_STREQ(abi::name_of(LTRACK_MODEL_SAFE_ONLY), "safe");
	EXPECT_EQ(abi::names_list(LTRACK_OUT_ALLOWED, LTRACK_OUT_KILLED),
		  "allowed, audited, would_deny, denied or killed");
}

TEST(AbiNames, NumbersOnlyForUnnamedBytes)
{
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("unknown(3)")); // 3 is written "would_deny"
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("unknown(256)"));
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("unknown()"));
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("unknown(-1)"));
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("unknown(0"));
	EXPECT_FALSE(abi::value_or_number<ltrack_outcome>("Denied"));
	EXPECT_EQ(abi::value_or_number<ltrack_outcome>("unknown(0)"), static_cast<ltrack_outcome>(0));
}

TEST(AbiNames, Predicates)
{
	for (const auto &e : abi::names<ltrack_outcome>::table) {
		bool denial = e.value == LTRACK_OUT_DENIED || e.value == LTRACK_OUT_KILLED ||
			      e.value == LTRACK_OUT_WOULD_DENY;
		EXPECT_EQ(abi::is_denial(e.value), denial) << e.name;
		EXPECT_EQ(abi::is_refused(e.value), denial && e.value != LTRACK_OUT_WOULD_DENY) << e.name;
	}
	// An outcome this build has no name for (a newer ltrack's programs,
	// adopted after a downgrade) is counted as a violation, not as allowed.
	EXPECT_TRUE(abi::is_denial(static_cast<ltrack_outcome>(LTRACK_OUT_KILLED + 1)));
	EXPECT_TRUE(abi::is_denial(static_cast<ltrack_outcome>(255)));
	EXPECT_TRUE(abi::is_refusing(LTRACK_ACT_DENY));
	EXPECT_TRUE(abi::is_refusing(LTRACK_ACT_KILL));
	EXPECT_FALSE(abi::is_refusing(LTRACK_ACT_AUDIT));
	EXPECT_TRUE(abi::is_net(LTRACK_HOOK_SOCKET));
	EXPECT_FALSE(abi::is_net(LTRACK_HOOK_FILE));
}

} // namespace
