#include "provenance.h"

#include "record_format.h"

#include <fstream>
#include <map>
#include <set>
#include <tuple>

namespace ltrack::tracing {
namespace {

// "key":value pairs appended in order; values already JSON.
struct fields {
	std::string body;
	fields &add(const char *key, const std::string &json_value)
	{
		body += body.empty() ? "{\"" : ",\"";
		body += key;
		body += "\":" + json_value;
		return *this;
	}
	fields &text(const char *key, std::string_view s) { return add(key, json_string(s)); }
	fields &number(const char *key, uint64_t v) { return add(key, std::to_string(v)); }
	std::string close() const { return body + "}"; }
};

uint64_t fnv1a64(std::string_view s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (unsigned char c : s) {
		h ^= c;
		h *= 0x100000001b3ull;
	}
	return h;
}

struct process_node {
	std::string id;
	uint32_t pid = 0, ppid = 0, uid = 0, gid = 0;
	uint64_t start = 0;
	std::string comm, cmdline, cgroup;
	std::vector<std::string> exes; // in the order seen (an exec changes it)
	container_info container;
	bool partial = false; // known only as someone's parent
};

struct edge {
	std::string kind, from, to;
	ltrack_hook hook;
	ltrack_outcome outcome;
	ltrack_action action;
	std::string profile, rule;
	uint64_t count = 0;
	std::string first_time, last_time;
};

class builder {
public:
	explicit builder(const provenance_options &opt) : opt_(opt) {}

	void add(const decision_record &r)
	{
		process_node &p = process_of(r);
		std::string target, kind;
		if (r.hook != LTRACK_HOOK_NET && r.hook != LTRACK_HOOK_FILE && r.hook != LTRACK_HOOK_EXEC &&
		    r.hook != LTRACK_HOOK_MODEL)
			return; // no object to link (e.g. privilege records): the process and its parents only
		if (r.hook == LTRACK_HOOK_NET) {
			target = socket_node_id(r);
			kind = "connect";
			if (!others_.count(target)) {
				fields f;
				f.text("type", "node")
					.text("id", target)
					.text("kind", "socket")
					.text("family", r.family);
				if (r.family == "unix")
					f.text("path", r.path);
				else
					f.text("proto", r.proto).text("addr", r.addr_text).number("port", r.port);
				add_other(target, f.close());
			}
		} else {
			target = file_node_id(r);
			kind = r.hook == LTRACK_HOOK_EXEC ? "exec" : "open";
			if (!others_.count(target)) {
				fields f;
				f.text("type", "node").text("id", target).text("kind", "file").text("path", r.path);
				if (r.path_partial)
					f.add("path_partial", "true");
				f.text("dev", r.dev).number("ino", r.ino);
				add_other(target, f.close());
			}
		}
		std::string rule = r.rule.file.empty() ? "" : r.rule.file + ":" + std::to_string(r.rule.line);
		auto key = std::make_tuple(kind, p.id, target, r.outcome, rule);
		auto [it, fresh] = edge_index_.try_emplace(key, edges_.size());
		if (fresh)
			edges_.push_back(
				{kind, p.id, target, r.hook, r.outcome, r.action, r.rule.profile, rule, 0, r.time, ""});
		edge &e = edges_[it->second];
		e.count += r.count;
		e.last_time = r.time;
	}

	std::vector<std::string> finish()
	{
		// Parents (and their parents, from the ancestry) after all the
		// records, so a parent that decided something itself is that node.
		for (size_t i = 0; i < order_.size(); ++i)
			link_parent(order_[i]);
		std::vector<std::string> out;
		for (const auto &key : order_)
			out.push_back(process_json(procs_.at(key)));
		for (const auto &id : other_order_)
			out.push_back(others_.at(id));
		for (const auto &e : forks_)
			out.push_back(fields().text("type", "edge")
					      .text("kind", "fork")
					      .text("from", e.first)
					      .text("to", e.second)
					      .close());
		for (const auto &e : edges_) {
			fields f;
			f.text("type", "edge")
				.text("kind", e.kind)
				.text("from", e.from)
				.text("to", e.to)
				.text("hook", hook_name(e.hook));
			f.text("outcome", outcome_name(e.outcome)).text("action", action_name(e.action));
			f.text("profile", e.profile).text("rule", e.rule);
			f.number("count", e.count).text("first_time", e.first_time).text("last_time", e.last_time);
			out.push_back(f.close());
		}
		return out;
	}

private:
	using proc_key = std::pair<uint32_t, uint64_t>; // pid, start

	process_node &node(uint32_t pid, uint64_t start)
	{
		proc_key key{pid, start};
		auto [it, fresh] = procs_.try_emplace(key);
		if (fresh) {
			order_.push_back(key);
			it->second.id = process_node_id(opt_.boot_id, pid, start);
			it->second.pid = pid;
			it->second.start = start;
			it->second.partial = true;
		}
		return it->second;
	}

	process_node &process_of(const decision_record &r)
	{
		const process_info &pi = *r.process;
		process_node &p = node(r.pid, pi.start_boot_ns);
		p.partial = false;
		p.ppid = r.ppid;
		p.uid = r.uid;
		p.gid = r.gid;
		p.comm = r.comm;
		if (!pi.cmdline.empty())
			p.cmdline = pi.cmdline;
		if (!pi.cgroup_path.empty())
			p.cgroup = pi.cgroup_path;
		if (pi.container.runtime != container_runtime::none)
			p.container = pi.container;
		if (!pi.exe.empty() && (p.exes.empty() || p.exes.back() != pi.exe))
			p.exes.push_back(pi.exe);
		if (!pi.ancestry.empty())
			ancestry_[{r.pid, pi.start_boot_ns}] = pi.ancestry;
		return p;
	}

	// The node of the process that had pid when a child started at `at`:
	// one seen in the records (the latest that started by then), else one
	// made from what the caller's lookup knows.
	process_node &parent_node(uint32_t pid, uint64_t at)
	{
		const process_node *best = nullptr;
		for (auto it = procs_.lower_bound({pid, 0}); it != procs_.end() && it->first.first == pid; ++it)
			if (it->first.second <= at || at == 0)
				best = &it->second;
		if (best)
			return procs_.at({best->pid, best->start});
		uint64_t start = opt_.start_of ? opt_.start_of(pid, at) : 0;
		return node(pid, start);
	}

	void link_parent(proc_key key)
	{
		process_node *child = &procs_.at(key);
		auto anc = ancestry_.find(key);
		std::vector<ancestor> chain = anc == ancestry_.end() ? std::vector<ancestor>{} : anc->second;
		uint32_t ppid = child->ppid ? child->ppid : (chain.empty() ? 0 : chain.front().pid);
		// Walk up while the ancestry names the parents (parent first).
		for (size_t depth = 0; ppid != 0; ++depth) {
			if (child->ppid == 0)
				child->ppid = ppid;
			process_node &parent = parent_node(ppid, child->start);
			if (parent.id == child->id || !fork_seen_.insert({parent.id, child->id}).second)
				return;
			forks_.push_back({parent.id, child->id});
			if (parent.exes.empty() && depth < chain.size() && chain[depth].pid == ppid)
				parent.exes.push_back(chain[depth].exe);
			if (!parent.partial)
				return; // a process of its own: its parent is linked from its own record
			child = &parent;
			ppid = depth + 1 < chain.size() ? chain[depth + 1].pid : 0;
		}
	}

	std::string process_json(const process_node &p) const
	{
		fields f;
		f.text("type", "node").text("id", p.id).text("kind", "process").number("pid", p.pid);
		f.number("ppid", p.ppid).number("start_boot_ns", p.start).text("boot_id", opt_.boot_id);
		f.text("exe", p.exes.empty() ? "" : p.exes.back());
		std::string exes = "[";
		for (size_t i = 0; i < p.exes.size(); ++i)
			exes += (i ? "," : "") + json_string(p.exes[i]);
		f.add("exes", exes + "]");
		if (!p.partial)
			f.text("comm", p.comm).text("cmdline", p.cmdline).number("uid", p.uid).number("gid", p.gid);
		f.text("cgroup", p.cgroup);
		const container_info &c = p.container;
		if (c.runtime != container_runtime::none)
			f.add("container", fields().text("runtime", runtime_name(c.runtime))
						   .text("id", c.id)
						   .text("name", c.name)
						   .text("pod_uid", c.pod_uid)
						   .close());
		else
			f.add("container", "null");
		f.add("partial", p.partial ? "true" : "false");
		return f.close();
	}

	void add_other(const std::string &id, std::string json)
	{
		others_.emplace(id, std::move(json));
		other_order_.push_back(id);
	}

	const provenance_options &opt_;
	std::map<proc_key, process_node> procs_;
	std::vector<proc_key> order_;
	std::map<proc_key, std::vector<ancestor>> ancestry_;
	std::map<std::string, std::string> others_; // files and sockets
	std::vector<std::string> other_order_;
	std::vector<std::pair<std::string, std::string>> forks_;
	std::set<std::pair<std::string, std::string>> fork_seen_;
	std::vector<edge> edges_;
	std::map<std::tuple<std::string, std::string, std::string, ltrack_outcome, std::string>, size_t> edge_index_;
};

} // namespace

std::string process_node_id(const std::string &boot_id, uint32_t pid, uint64_t start_boot_ns)
{
	char buf[24];
	std::snprintf(buf, sizeof buf, "%016llx",
		      static_cast<unsigned long long>(
			      fnv1a64(boot_id + "/" + std::to_string(pid) + "/" + std::to_string(start_boot_ns))));
	return std::string("proc:") + buf;
}

std::string file_node_id(const decision_record &r)
{
	if (r.ino != 0 && !r.dev.empty())
		return "file:" + r.dev + ":" + std::to_string(r.ino);
	return "path:" + r.path;
}

std::string socket_node_id(const decision_record &r)
{
	if (r.family == "unix")
		return "sock:unix:" + r.path;
	std::string addr = r.family == "inet6" && r.addr_text.find(':') != std::string::npos ? "[" + r.addr_text + "]"
											     : r.addr_text;
	return "sock:" + (r.proto.empty() ? std::string("ip") : r.proto) + ":" + addr + ":" + std::to_string(r.port);
}

std::vector<std::string> provenance_graph(const std::vector<decision_record> &records, const provenance_options &opt)
{
	builder b(opt);
	for (const auto &r : records)
		b.add(r);
	return b.finish();
}

std::string read_boot_id()
{
	std::ifstream in("/proc/sys/kernel/random/boot_id");
	std::string id;
	std::getline(in, id);
	return id;
}

} // namespace ltrack::tracing
