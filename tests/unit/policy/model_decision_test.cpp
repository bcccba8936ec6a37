// The model decision (lsm/model_decision.h), the one function the kernel and
// the explainer share: its whole truth table, written out and compared with
// the checked-in model_decision_table.txt, so a change to what it decides is
// a visible diff in review, not a silent change in the kernel. To accept a
// deliberate change: LTRACK_UPDATE_TABLE=1 ./policy_test
// --gtest_filter='ModelDecision.*' rewrites the file; review its diff.
#include "model_decision.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

const char *const policies[] = {"off", "safe", "unscanned", "any"};
const char *const verdicts[] = {"unscanned", "safe", "suspicious", "unsafe", "error", "trusted"};
const char *const dirs[] = {"-", "model", "exclude"};
const char *const accesses[] = {"read", "write-only", "name"};
const char why_letter[] = {'-', 'n', 'd', 'x', 'v'};

constexpr uint32_t name_rule = 11, dir_rule = 12, exclude_rule = 13;

std::string table_path()
{
	return std::string(LTRACK_SOURCE_DIR) + "/tests/unit/policy/model_decision_table.txt";
}

// One cell: why it is (not) a model file, then what the layer does.
//   -/-       no model rule      n d x v / -: why (name, dir, excluded, verdict, none)
//   x:file    not a model file: the file rules decide
//   d:ok      acceptable: the file rules decide
//   d:unread  scan_at_open, write-only: the file rules decide
//   d:rec@R   let through, recorded (audit) with rule R
//   d:deny@R  refused with action deny (audit@R: the model action is audit)
//   +wait     the scan waiter may take the open over
std::string cell(const ltrack_model_decision &d)
{
	std::string s(1, d.why < sizeof(why_letter) ? why_letter[d.why] : '?');
	s += ':';
	switch (d.outcome) {
	case LTRACK_MD_OFF: return "-/-";
	case LTRACK_MD_NOT_MODEL: return s + "file";
	case LTRACK_MD_ACCEPTABLE: return s + "ok";
	case LTRACK_MD_UNREAD: return s + "unread";
	case LTRACK_MD_RECORD: s += "rec"; break;
	case LTRACK_MD_REFUSE:
		s += d.action == LTRACK_ACT_DENY ? "deny" : d.action == LTRACK_ACT_AUDIT ? "audit" : "?";
		break;
	default: return "?";
	}
	s += "@" + std::to_string(d.rule_id);
	if (d.may_wait)
		s += "+wait";
	return s;
}

ltrack_profile profile(uint8_t policy, bool deny_suspicious, uint8_t action, bool wait, uint32_t model_rule)
{
	ltrack_profile p{};
	p.model_policy = policy;
	p.model_action = action;
	p.model_rule = model_rule;
	p.flags = LTRACK_PF_MODEL_NAMES | LTRACK_PF_MODEL_DIRS | LTRACK_PF_MODEL_EXCLUDES;
	if (deny_suspicious)
		p.flags |= LTRACK_PF_DENY_SUSPICIOUS;
	if (wait)
		p.flags |= LTRACK_PF_MODEL_WAIT;
	return p;
}

ltrack_model_facts facts(bool by_name, uint8_t dir, uint32_t verdict, uint8_t access, uint32_t mode)
{
	ltrack_model_facts f{};
	f.verdict = verdict;
	f.mode = mode;
	f.by_name = by_name;
	f.name_rule = by_name ? name_rule : 0;
	f.dir = dir;
	f.dir_rule = dir == LTRACK_MD_DIR_MODEL ? dir_rule : dir == LTRACK_MD_DIR_EXCLUDE ? exclude_rule : 0;
	f.access = access;
	return f;
}

std::string truth_table()
{
	std::ostringstream o;
	o << "# lsm/model_decision.h, every input (tests/unit/policy/model_decision_test.cpp writes it).\n"
	     "# Cells: WHY:WHAT. WHY: n name, d model dir, x under an exclude dir, v a bad verdict, - none.\n"
	     "# WHAT: file (not a model: file rules), ok (acceptable: file rules), unread (scan_at_open,\n"
	     "# write-only: file rules), rec@R (let through, recorded, rule R), deny@R / audit@R (refused with\n"
	     "# the model action), +wait (scan_at_open may hand the open to the scan waiter).\n"
	     "# Rules: 11 the extension, 12 the model dir, 13 the exclude dir; the profile's model_rule is 0\n"
	     "# here (with one, it is the rule of every rec/deny/audit: checked by the test).\n\n";

	o << "## ltrack_model_acceptable(policy, deny_suspicious, verdict)\n";
	o << "policy     deny_susp";
	for (const char *v : verdicts)
		o << " " << v;
	o << "\n";
	for (uint8_t pol = 0; pol < 4; pol++)
		for (int ds = 0; ds < 2; ds++) {
			o << policies[pol] << std::string(11 - std::string(policies[pol]).size(), ' ') << ds
			  << "        ";
			for (uint32_t v = 0; v < 6; v++)
				o << " " << std::string(std::string(verdicts[v]).size() - 1, ' ')
				  << ltrack_model_acceptable(pol, ds, v);
			o << "\n";
		}

	o << "\n## ltrack_model_walk_needed(flags, by_name)\n";
	for (int names = 0; names < 2; names++)
		for (int dirs_ = 0; dirs_ < 2; dirs_++)
			for (int ex = 0; ex < 2; ex++)
				for (int by_name = 0; by_name < 2; by_name++) {
					ltrack_profile p{};
					p.flags = (names ? LTRACK_PF_MODEL_NAMES : 0) |
						  (dirs_ ? LTRACK_PF_MODEL_DIRS : 0) |
						  (ex ? LTRACK_PF_MODEL_EXCLUDES : 0);
					o << "names=" << names << " dirs=" << dirs_ << " excludes=" << ex
					  << " by_name=" << by_name << ": " << ltrack_model_walk_needed(&p, by_name)
					  << "\n";
				}

	o << "\n## ltrack_model_decide: one line per profile and location, one column per verdict\n"
	     "# (allow off, no model rule: every input is -/-, checked by the test)\n";
	o << "profile                                   location            access     |";
	for (const char *v : verdicts)
		o << " " << v;
	o << "\n";
	for (uint8_t pol = 1; pol < 4; pol++)
		for (int ds = 0; ds < 2; ds++)
			for (uint8_t act : {uint8_t(LTRACK_ACT_DENY), uint8_t(LTRACK_ACT_AUDIT)})
				for (int wait = 0; wait < 2; wait++)
					for (uint32_t mode :
					     {uint32_t(LTRACK_MODE_ENFORCE), uint32_t(LTRACK_MODE_AUDIT)})
						for (int by_name = 0; by_name < 2; by_name++)
							for (uint8_t dir = 0; dir < 3; dir++)
								for (uint8_t acc = 0; acc < 3; acc++) {
									ltrack_profile p =
										profile(pol, ds, act, wait, 0);
									// The callers walk only when it is needed.
									if (dir &&
									    !ltrack_model_walk_needed(&p, by_name))
										continue;
									char head[128];
									std::snprintf(
										head, sizeof(head),
										"%-9s ds=%d %-5s wait=%d %-7s  name=%d dir=%-7s  %-10s |",
										policies[pol], ds,
										act == LTRACK_ACT_DENY ? "deny"
												       : "audit",
										wait,
										mode == LTRACK_MODE_ENFORCE ? "enforce"
													    : "audit",
										by_name, dirs[dir], accesses[acc]);
									o << head;
									for (uint32_t v = 0; v < 6; v++) {
										ltrack_model_facts f = facts(
											by_name, dir, v, acc, mode);
										o << " "
										  << cell(ltrack_model_decide(&p, &f));
									}
									o << "\n";
								}
	return o.str();
}

} // namespace

TEST(ModelDecision, TruthTableIsTheCheckedInOne)
{
	std::string now = truth_table();
	if (std::getenv("LTRACK_UPDATE_TABLE")) {
		std::ofstream(table_path()) << now;
		GTEST_SKIP() << "rewrote " << table_path() << ": review its diff";
	}
	std::ifstream in(table_path());
	ASSERT_TRUE(in) << "cannot read " << table_path();
	std::stringstream want;
	want << in.rdbuf();
	if (now == want.str())
		return;
	// The first line that differs, for the failure message.
	std::istringstream a(want.str()), b(now);
	std::string la, lb;
	int n = 0;
	while (true) {
		n++;
		bool ga = bool(std::getline(a, la)), gb = bool(std::getline(b, lb));
		if (!ga && !gb)
			break;
		if (la != lb || ga != gb) {
			ADD_FAILURE()
				<< "lsm/model_decision.h decides differently from " << table_path() << " at line " << n
				<< ":\n  table:  " << (ga ? la : "(end)") << "\n  header: " << (gb ? lb : "(end)")
				<< "\nIf the change is meant, rerun with LTRACK_UPDATE_TABLE=1 and review the diff.";
			return;
		}
	}
	ADD_FAILURE() << "tables differ";
}

// A profile's model rule (compiled for every [profile.X.model]) is the rule
// of every model decision; nothing else changes. Without a model rule
// (allow off) the layer decides nothing, whatever the file.
TEST(ModelDecision, TheModelRuleNamesEveryModelDecision)
{
	for (uint8_t pol = 0; pol < 4; pol++)
		for (int ds = 0; ds < 2; ds++)
			for (uint8_t act : {uint8_t(LTRACK_ACT_DENY), uint8_t(LTRACK_ACT_AUDIT)})
				for (int wait = 0; wait < 2; wait++)
					for (int by_name = 0; by_name < 2; by_name++)
						for (uint8_t dir = 0; dir < 3; dir++)
							for (uint8_t acc = 0; acc < 3; acc++)
								for (uint32_t v = 0; v < 6; v++)
									for (uint32_t mode :
									     {uint32_t(LTRACK_MODE_ENFORCE),
									      uint32_t(LTRACK_MODE_AUDIT)}) {
										ltrack_profile p0 =
											profile(pol, ds, act, wait, 0);
										ltrack_profile p1 =
											profile(pol, ds, act, wait, 7);
										ltrack_model_facts f = facts(
											by_name, dir, v, acc, mode);
										ltrack_model_decision a =
											ltrack_model_decide(&p0, &f);
										ltrack_model_decision b =
											ltrack_model_decide(&p1, &f);
										EXPECT_EQ(a.outcome, b.outcome);
										EXPECT_EQ(a.why, b.why);
										EXPECT_EQ(a.action, b.action);
										EXPECT_EQ(a.may_wait, b.may_wait);
										if (pol == LTRACK_MODEL_OFF) {
											EXPECT_EQ(b.outcome,
												  LTRACK_MD_OFF);
										}
										bool decides =
											b.outcome == LTRACK_MD_RECORD ||
											b.outcome == LTRACK_MD_REFUSE;
										EXPECT_EQ(b.rule_id, decides ? 7u : 0u);
									}
}

// What matters most, said outright (the table holds it too): under
// allow = "safe" an unsafe file is refused wherever it is, by any name.
TEST(ModelDecision, UnsafeIsRefusedEverywhereUnderSafe)
{
	ltrack_profile p = profile(LTRACK_MODEL_SAFE_ONLY, true, LTRACK_ACT_DENY, false, 0);
	for (int by_name = 0; by_name < 2; by_name++)
		for (uint8_t dir = 0; dir < 3; dir++)
			for (uint8_t acc = 0; acc < 3; acc++) {
				ltrack_model_facts f =
					facts(by_name, dir, LTRACK_VERDICT_UNSAFE, acc, LTRACK_MODE_ENFORCE);
				ltrack_model_decision d = ltrack_model_decide(&p, &f);
				EXPECT_EQ(d.outcome, LTRACK_MD_REFUSE) << by_name << " " << int(dir) << " " << int(acc);
				EXPECT_EQ(d.action, LTRACK_ACT_DENY);
			}
}
