// The scan waiter's answers and records (runtime/scan_waiter.h), without a
// kernel: what a pending open is answered, and the record it leaves.
#include "scan_waiter.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace ltrack;
using namespace std::chrono_literals;

namespace {

ltrack_pending pending(bool deny_suspicious = true)
{
	ltrack_pending p{};
	p.dev = 8 << 20 | 1;
	p.ino = 42;
	p.pid = 100;
	p.ppid = 1;
	p.uid = 1000;
	p.gid = 1000;
	p.profile = 3;
	p.rule_id = 7;
	p.flags = LTRACK_EV_SLOT1;
	p.action = LTRACK_ACT_DENY;
	p.mode = LTRACK_MODE_ENFORCE;
	p.deny_suspicious = deny_suspicious;
	std::strcpy(p.comm, "python3");
	return p;
}

model_finding scanned(uint32_t verdict, bool withheld = false)
{
	model_finding f;
	f.scanned.verdict = verdict;
	f.withheld = withheld;
	return f;
}

} // namespace

TEST(ScanWaiter, LimitsComeBeforeTheScan)
{
	auto p = pending();
	// Within the limits and not scanned yet: scan it.
	EXPECT_EQ(decide_pending(p, 100, 1000, 0ms, 10s, nullptr).how, LTRACK_WAIT_NONE);
	auto big = decide_pending(p, 1001, 1000, 0ms, 10s, nullptr);
	EXPECT_EQ(big.how, LTRACK_WAIT_TOO_LARGE);
	EXPECT_FALSE(big.allow);
	EXPECT_EQ(big.verdict, LTRACK_VERDICT_UNSCANNED);
	auto late = decide_pending(p, 100, 1000, 11s, 10s, nullptr);
	EXPECT_EQ(late.how, LTRACK_WAIT_TIMEOUT);
	EXPECT_FALSE(late.allow);
	// A profile without a limit (0) never waits for anything but an empty file.
	EXPECT_EQ(decide_pending(p, 1, 0, 0ms, 10s, nullptr).how, LTRACK_WAIT_TOO_LARGE);
}

TEST(ScanWaiter, TheVerdictDecidesLikeTheKernel)
{
	auto strict = pending(true), lax = pending(false);
	for (uint32_t v : {LTRACK_VERDICT_SAFE, LTRACK_VERDICT_TRUSTED}) {
		auto f = scanned(v);
		auto a = decide_pending(strict, 10, 1000, 0ms, 10s, &f);
		EXPECT_TRUE(a.allow) << v;
		EXPECT_EQ(a.how, LTRACK_WAIT_SCANNED);
		EXPECT_EQ(a.verdict, v);
	}
	for (uint32_t v : {LTRACK_VERDICT_UNSAFE, LTRACK_VERDICT_ERROR}) {
		auto f = scanned(v);
		EXPECT_FALSE(decide_pending(lax, 10, 1000, 0ms, 10s, &f).allow) << v;
	}
	auto sus = scanned(LTRACK_VERDICT_SUSPICIOUS);
	EXPECT_FALSE(decide_pending(strict, 10, 1000, 0ms, 10s, &sus).allow);
	EXPECT_TRUE(decide_pending(lax, 10, 1000, 0ms, 10s, &sus).allow);
	// Safe bytes under a writer are not final: refused, not vouched for.
	auto held = scanned(LTRACK_VERDICT_SAFE, true);
	auto a = decide_pending(strict, 10, 1000, 0ms, 10s, &held);
	EXPECT_FALSE(a.allow);
	EXPECT_EQ(a.how, LTRACK_WAIT_FAILED);
}

TEST(ScanWaiter, RecordRepeatsTheKernelsDecision)
{
	auto p = pending();
	scan_wait_answer deny{false, LTRACK_VERDICT_UNSAFE, LTRACK_WAIT_SCANNED};
	ltrack_event e = pending_record(p, 101, deny, "/srv/models/x.pkl", 5);
	EXPECT_EQ(e.hook, LTRACK_HOOK_MODEL);
	EXPECT_EQ(e.outcome, LTRACK_OUT_DENIED);
	EXPECT_EQ(e.action, LTRACK_ACT_DENY);
	EXPECT_EQ(e.mode, LTRACK_MODE_ENFORCE);
	EXPECT_EQ(e.verdict, LTRACK_VERDICT_UNSAFE);
	EXPECT_EQ(e.cred_op, LTRACK_WAIT_SCANNED);
	EXPECT_EQ(e.pid, 100u);
	EXPECT_EQ(e.tid, 101u);
	EXPECT_EQ(e.profile, 3u);
	EXPECT_EQ(e.rule_id, 7u);
	EXPECT_EQ(e.flags, LTRACK_EV_SLOT1);
	EXPECT_EQ(e.dev, p.dev);
	EXPECT_EQ(e.ino, 42u);
	EXPECT_STREQ(e.path, "/srv/models/x.pkl");
	EXPECT_STREQ(e.comm, "python3");
	EXPECT_EQ(e.count, 1u);

	scan_wait_answer allow{true, LTRACK_VERDICT_SAFE, LTRACK_WAIT_SCANNED};
	e = pending_record(p, 101, allow, std::string(5000, 'a'), 5);
	EXPECT_EQ(e.outcome, LTRACK_OUT_ALLOWED);
	EXPECT_EQ(e.action, LTRACK_ACT_ALLOW);
	EXPECT_EQ(std::strlen(e.path), sizeof(e.path) - 1) << "a long path is cut, still terminated";
}
