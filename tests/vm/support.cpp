#include "support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace ltrack::vmtest {

std::string build_dir()
{
	return LTRACK_BUILD_DIR;
}
std::string source_dir()
{
	return LTRACK_SOURCE_DIR;
}
std::string ltrackd_path()
{
	return build_dir() + "/policyd/ltrackd";
}
std::string ltrackctl_path()
{
	return build_dir() + "/ctl/ltrackctl";
}
std::string actor_path()
{
	return build_dir() + "/tests/vm/ltrack_vm_actor";
}

temp_dir::temp_dir()
{
	char tmpl[] = "/tmp/ltrack-vmtest-XXXXXX";
	path = mkdtemp(tmpl);
	chmod(path.c_str(), 0755);
}

temp_dir::~temp_dir()
{
	std::error_code ec;
	fs::remove_all(path, ec);
}

void write_file(const std::string &path, const std::string &content)
{
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out << content;
}

std::string read_file(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// ---- processes ------------------------------------------------------------

run_result run(const std::vector<std::string> &argv, const run_options &opt)
{
	run_result r;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return r;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		if (!opt.cgroup.empty()) {
			std::ofstream procs(opt.cgroup + "/cgroup.procs");
			procs << "0" << std::flush;
			if (!procs)
				_exit(126);
		}
		for (const auto &[k, v] : opt.env)
			setenv(k.c_str(), v.c_str(), 1);
		if (opt.gid >= 0 && setgid(opt.gid) < 0)
			_exit(126);
		if (opt.uid >= 0 && setuid(opt.uid) < 0)
			_exit(126);
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	close(pipefd[1]);
	r.pid = pid;
	auto deadline = std::chrono::steady_clock::now() + opt.timeout;
	char buf[4096];
	while (true) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
										  std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			kill(pid, SIGKILL);
			r.out += "\n[killed by the test: timeout]\n";
			break;
		}
		pollfd p{pipefd[0], POLLIN, 0};
		if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
			continue;
		ssize_t n = read(pipefd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		r.out.append(buf, n);
	}
	close(pipefd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st))
		r.exit_code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		r.signal = WTERMSIG(st);
	return r;
}

run_result actor(const std::vector<std::string> &args, const run_options &opt)
{
	std::vector<std::string> argv{actor_path()};
	argv.insert(argv.end(), args.begin(), args.end());
	return run(argv, opt);
}

test_cgroup::test_cgroup(const std::string &name)
{
	// Under the cgroup the harness runs this test in, so tests never collide.
	std::string self = read_file("/proc/self/cgroup"); // "0::/path\n"
	std::string rel = self.substr(self.find("::") + 2);
	while (!rel.empty() && rel.back() == '\n')
		rel.pop_back();
	path = "/sys/fs/cgroup" + (rel == "/" ? "" : rel) + "/" + name;
	mkdir(path.c_str(), 0755);
}

test_cgroup::~test_cgroup()
{
	// Move anything left behind out, then remove.
	std::ifstream procs(path + "/cgroup.procs");
	for (std::string pid; std::getline(procs, pid);)
		kill(std::stoi(pid), SIGKILL);
	for (int i = 0; i < 50 && rmdir(path.c_str()) < 0 && errno == EBUSY; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// ---- JSON -----------------------------------------------------------------

namespace {

struct json_parser {
	const std::string &s;
	std::size_t i = 0;
	std::string error;

	void ws()
	{
		while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
			i++;
	}
	bool fail(const std::string &what)
	{
		if (error.empty())
			error = what + " at offset " + std::to_string(i);
		return false;
	}
	bool str(std::string &out)
	{
		if (s[i] != '"')
			return fail("expected string");
		for (i++; i < s.size() && s[i] != '"'; i++) {
			if (s[i] != '\\') {
				out += s[i];
				continue;
			}
			if (++i >= s.size())
				return fail("bad escape");
			switch (s[i]) {
			case 'n': out += '\n'; break;
			case 't': out += '\t'; break;
			case 'r': out += '\r'; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'u': {
				if (i + 4 >= s.size())
					return fail("bad \\u escape");
				unsigned cp = std::stoul(s.substr(i + 1, 4), nullptr, 16);
				i += 4;
				if (cp < 0x80) {
					out += static_cast<char>(cp);
				} else if (cp < 0x800) {
					out += static_cast<char>(0xc0 | cp >> 6);
					out += static_cast<char>(0x80 | (cp & 0x3f));
				} else {
					out += static_cast<char>(0xe0 | cp >> 12);
					out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
					out += static_cast<char>(0x80 | (cp & 0x3f));
				}
				break;
			}
			default: out += s[i];
			}
		}
		if (i >= s.size())
			return fail("unterminated string");
		i++;
		return true;
	}
	bool value(json &v)
	{
		ws();
		if (i >= s.size())
			return fail("unexpected end");
		char c = s[i];
		if (c == '{') {
			v.kind = json::object_v;
			i++;
			ws();
			if (s[i] == '}') {
				i++;
				return true;
			}
			while (true) {
				ws();
				std::string key;
				if (!str(key))
					return false;
				ws();
				if (s[i++] != ':')
					return fail("expected ':'");
				if (!value(v.fields[key]))
					return false;
				ws();
				if (s[i] == ',') {
					i++;
					continue;
				}
				if (s[i] == '}') {
					i++;
					return true;
				}
				return fail("expected ',' or '}'");
			}
		}
		if (c == '[') {
			v.kind = json::array_v;
			i++;
			ws();
			if (s[i] == ']') {
				i++;
				return true;
			}
			while (true) {
				v.items.emplace_back();
				if (!value(v.items.back()))
					return false;
				ws();
				if (s[i] == ',') {
					i++;
					continue;
				}
				if (s[i] == ']') {
					i++;
					return true;
				}
				return fail("expected ',' or ']'");
			}
		}
		if (c == '"') {
			v.kind = json::string_v;
			return str(v.str);
		}
		if (s.compare(i, 4, "true") == 0 || s.compare(i, 5, "false") == 0) {
			v.kind = json::bool_v;
			v.b = s[i] == 't';
			i += v.b ? 4 : 5;
			return true;
		}
		if (s.compare(i, 4, "null") == 0) {
			i += 4;
			return true;
		}
		std::size_t used = 0;
		try {
			v.num = std::stod(s.substr(i, 32), &used);
		} catch (...) {
			return fail("bad value");
		}
		v.kind = json::number_v;
		i += used;
		return true;
	}
};

} // namespace

const json &json::operator[](const std::string &key) const
{
	static const json null_json;
	auto it = fields.find(key);
	return it == fields.end() ? null_json : it->second;
}

json json::parse(const std::string &text, std::string *error)
{
	json v;
	json_parser p{text, 0, {}};
	if (!p.value(v) && error)
		*error = p.error;
	return v;
}

// ---- the daemon -----------------------------------------------------------

ltrackd::ltrackd(const std::string &policy_text, daemon_options opt) : opt_(std::move(opt))
{
	policy_ = dir_ / "policy.toml";
	log_ = dir_ / "decisions.jsonl";
	socket_ = dir_ / "ltrackd.sock";
	pins_ = "/sys/fs/bpf/ltrack-test-" + std::to_string(getpid()) + "-" +
		std::to_string(reinterpret_cast<uintptr_t>(this) & 0xffff);
	write_file(policy_, policy_text);
}

ltrackd::~ltrackd()
{
	if (running())
		stop();
	if (!opt_.keep_pins)
		run({ltrackd_path(), "--unload", "--pin-dir", pins_});
}

bool ltrackd::start(std::chrono::seconds timeout)
{
	std::string notify = dir_ / "notify.sock";
	unlink(notify.c_str());
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, notify.c_str(), sizeof(addr.sun_path) - 1);
	bind(nfd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));

	std::string out = dir_ / "ltrackd.out";
	pid_ = fork();
	if (pid_ == 0) {
		int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("NOTIFY_SOCKET", notify.c_str(), 1);
		for (const auto &[k, v] : opt_.env)
			setenv(k.c_str(), v.c_str(), 1);
		std::vector<std::string> argv{opt_.executable.empty() ? ltrackd_path() : opt_.executable,
					      "--policy",
					      policy_,
					      "--decision-log",
					      log_,
					      "--socket",
					      socket_,
					      "--pin-dir",
					      pins_};
		argv.insert(argv.end(), opt_.extra_args.begin(), opt_.extra_args.end());
		std::vector<char *> args;
		for (auto &a : argv)
			args.push_back(a.data());
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	auto deadline = std::chrono::steady_clock::now() + timeout;
	bool ready = false;
	while (!ready && std::chrono::steady_clock::now() < deadline && running()) {
		pollfd p{nfd, POLLIN, 0};
		if (poll(&p, 1, 200) > 0) {
			char buf[256];
			ssize_t n = recv(nfd, buf, sizeof(buf), 0);
			ready = n > 0 && std::string(buf, n).find("READY=1") != std::string::npos;
		}
	}
	close(nfd);
	return ready;
}

bool ltrackd::running() const
{
	if (pid_ <= 0)
		return false;
	int st;
	pid_t r = waitpid(pid_, &st, WNOHANG);
	if (r == pid_) {
		const_cast<ltrackd *>(this)->exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		const_cast<ltrackd *>(this)->pid_ = -1;
		return false;
	}
	return r == 0;
}

void ltrackd::stop()
{
	if (pid_ <= 0)
		return;
	kill(pid_, SIGTERM);
	int st;
	waitpid(pid_, &st, 0);
	exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	pid_ = -1;
}

void ltrackd::kill9()
{
	if (pid_ <= 0)
		return;
	kill(pid_, SIGKILL);
	int st;
	waitpid(pid_, &st, 0);
	exit_status_ = 128 + SIGKILL;
	pid_ = -1;
}

std::string ltrackd::output() const
{
	return read_file(dir_ / "ltrackd.out");
}

run_result ltrackd::ctl(const std::vector<std::string> &args, const run_options &opt) const
{
	std::vector<std::string> argv{ltrackctl_path()};
	argv.insert(argv.end(), args.begin(), args.end());
	argv.push_back("--socket");
	argv.push_back(socket_);
	return run(argv, opt);
}

std::vector<json> ltrackd::decisions() const
{
	std::vector<json> out;
	std::istringstream in(read_file(log_));
	for (std::string line; std::getline(in, line);) {
		json j = json::parse(line);
		if (j["type"].s() == "decision")
			out.push_back(std::move(j));
	}
	return out;
}

json ltrackd::wait_for(const std::function<bool(const json &)> &pred, std::chrono::milliseconds timeout) const
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	do {
		for (auto &j : decisions())
			if (pred(j))
				return j;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	} while (std::chrono::steady_clock::now() < deadline);
	return {};
}

std::function<bool(const json &)> decision_for(int pid, const std::string &hook, const std::string &outcome)
{
	return [=](const json &r) {
		return r["process"]["pid"].i() == pid && r["hook"].s() == hook && r["outcome"].s() == outcome;
	};
}

// ---- model files ---------------------------------------------------------

std::string binunicode(const std::string &s)
{
	std::string out = "X";
	for (int i = 0; i < 4; i++)
		out += static_cast<char>((s.size() >> (8 * i)) & 0xff);
	return out + s;
}

std::string malicious_pickle(const std::string &marker)
{
	using namespace std::string_literals;
	return "\x80\x02}q\x00("s + binunicode("name") + "q\x01"s + binunicode("malicious") + "q\x02"s +
	       binunicode("hook") + "q\x03"s + "cposix\nsystem\nq\x04"s + binunicode("touch " + marker) +
	       "q\x05\x85q\x06Rq\x07u."s;
}

std::string benign_pickle()
{
	using namespace std::string_literals;
	// BINFLOAT is 'G' and 8 big-endian bytes: 0.5, 1.5, 2.5.
	return "\x80\x02}q\x00("s + binunicode("name") + "q\x01"s + binunicode("benign") + "q\x02"s +
	       binunicode("weights") + "q\x03]q\x04("s + "G\x3f\xe0\x00\x00\x00\x00\x00\x00"s +
	       "G\x3f\xf8\x00\x00\x00\x00\x00\x00"s + "G\x40\x04\x00\x00\x00\x00\x00\x00"s + "e"s +
	       binunicode("layers") + "q\x05K\x03u."s;
}

// pickle.dumps({"appended": True}, protocol=2): a second, benign pickle.
std::string appended_pickle()
{
	using namespace std::string_literals;
	return "\x80\x02}q\x00"s + binunicode("appended") + "q\x01\x88s."s;
}

} // namespace ltrack::vmtest
