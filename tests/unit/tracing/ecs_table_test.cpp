// docs/decision-log.md maps every record field to its ECS name. This builds
// a record of every kind and shape the writer has (each hook's object, with
// and without a container, loss and stats records), flattens each the way
// the journald output does, and checks the table names every field written,
// and names no field that is no longer written.
#include "periodic_stats.h"
#include "record_fields.h"
#include "record_format.h"
#include "test_records.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace ltrack::tracing;

namespace {

std::vector<std::string> every_kind_of_record()
{
	std::vector<std::string> out;
	decision_record f = test_records::file_denial();
	out.push_back(format_json(f));

	decision_record link = f; // no container, unreadable parts, a built-in rule, an ancestor
	link.hook = LTRACK_HOOK_LINK;
	link.op = "rename";
	link.ancestor = true;
	link.builtin = "launch_point";
	link.model.verdict = "unsafe";
	link.process.mut().container = {};
	link.process.mut().unreadable = {"exe: Permission denied"};
	out.push_back(format_json(link));

	out.push_back(format_json(test_records::connect(LTRACK_OUT_DENIED, AF_INET, "10.1.2.3", 443)));
	decision_record unix_net = f;
	unix_net.hook = LTRACK_HOOK_NET;
	unix_net.family = "unix";
	unix_net.path = "/run/docker.sock";
	out.push_back(format_json(unix_net));
	decision_record sock = f;
	sock.hook = LTRACK_HOOK_SOCKET;
	sock.family = "netlink";
	sock.sock_type = "raw";
	sock.proto = "audit";
	out.push_back(format_json(sock));

	decision_record model = test_records::model_refusal();
	model.model.at_open = "scanned";
	out.push_back(format_json(model));

	decision_record priv = f;
	priv.hook = LTRACK_HOOK_PRIV;
	priv.cred_op = "setuid";
	priv.old_ids = {1000, 1000, 1000};
	priv.new_ids = {1000, 0, 0};
	out.push_back(format_json(priv));

	decision_record tamper = f;
	tamper.hook = LTRACK_HOOK_TAMPER;
	tamper.tamper_op = "signal";
	tamper.tamper_arg = "SIGKILL";
	tamper.target_pid = 1;
	out.push_back(format_json(tamper));

	decision_record py = f;
	py.hook = LTRACK_HOOK_PYTHON;
	py.op = "find_class";
	py.path = "os.system";
	out.push_back(format_json(py));
	py.op = "exec";
	py.path = "<string>";
	out.push_back(format_json(py));

	loss_record l;
	l.count = 3;
	out.push_back(format_json(l));

	stats_window w;
	w.add(f);
	out.push_back(w.take_json(1, "T", 60, {1, 0}));
	return out;
}

// The first cell of each row of the "ECS field names" table.
std::set<std::string> table_fields(std::string &error)
{
	std::ifstream in(LTRACK_SOURCE_DIR "/docs/decision-log.md");
	if (!in) {
		error = "cannot read docs/decision-log.md";
		return {};
	}
	std::set<std::string> names;
	std::string line;
	bool in_section = false, in_table = false;
	while (std::getline(in, line)) {
		if (line.rfind("## ", 0) == 0) {
			if (in_section)
				break;
			in_section = line.find("ECS field names") != std::string::npos;
			continue;
		}
		if (!in_section)
			continue;
		if (line.rfind("| ltrack field |", 0) == 0) {
			in_table = true;
			continue;
		}
		if (!in_table || line.rfind("| `", 0) != 0)
			continue;
		std::string cell = line.substr(2, line.find(" |", 2) - 2);
		static const std::regex name("`([^`]+)`");
		for (std::sregex_iterator it(cell.begin(), cell.end(), name), end; it != end; ++it)
			names.insert((*it)[1]);
	}
	if (names.empty())
		error = "no table under a \"## ECS field names\" heading in docs/decision-log.md";
	return names;
}

} // namespace

TEST(ecs_table, names_every_record_field)
{
	std::string error;
	std::set<std::string> documented = table_fields(error);
	ASSERT_TRUE(error.empty()) << error;
	std::set<std::string> written;
	for (const std::string &json : every_kind_of_record()) {
		auto fields = flatten_record(json);
		ASSERT_TRUE(fields) << json;
		for (const auto &f : *fields)
			written.insert(f.name);
	}
	for (const auto &w : written)
		EXPECT_TRUE(documented.count(w)) << "docs/decision-log.md's ECS table has no row for `" << w << "`";
	for (const auto &d : documented)
		EXPECT_TRUE(written.count(d))
			<< "docs/decision-log.md's ECS table names `" << d
			<< "`, which no record has (stale row, or this test builds no such record)";
}
