// Issue 20 from the outside: a real inference host under the shipped
// policies/inference.toml, enforced, as it is shipped (only the decision log
// path is the test's). A Hugging Face-shaped folder in /srv/models
// (tests/vm/models/make_hf_folder.py: JSON config and tokenizer files, text,
// a SentencePiece model, model.safetensors, pytorch_model.bin written by the
// real torch.save) is loaded by Debian's /usr/bin/python3 the way transformers
// does (json, numpy for the safetensors, torch.load), which then computes
// with torch and numpy and serves a request on loopback
// (tests/vm/models/inference_workload.py), then writes a small checkpoint
// into /srv/models in place, slowly, and loads it the moment it is complete
// (a download finishing, then the load: the shipped policy's scan_at_open
// decides that first open by the file's content). Zero records other than
// "allowed" may name that process, Python's own site .pth files included;
// then the same process opens a pickle whose payload would touch a marker:
// refused with EPERM in the kernel, the payload never runs, and the record
// names the file, the verdict and the import. `import torch` costs a minute
// or more under emulation: this is the one test that pays it.
#include "support.h"

#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>

using namespace ltrack::vmtest;
namespace fs = std::filesystem;

namespace {

std::string dump(const std::vector<json> &records)
{
	std::string s;
	for (const json &r : records)
		s += r["hook"].s() + " " + r["outcome"].s() + " " + r["file"]["path"].s() + " rule `" +
		     r["rule"]["text"].s() + "` verdict " + r["model"]["verdict"].s() + "\n";
	return s;
}

// /srv is the host's, read-only over 9p: a tmpfs over it holds /srv/models
// for this test (the guest is the test's own).
struct srv_mount {
	bool ok = false;
	srv_mount() { ok = ::mount("tmpfs", "/srv", "tmpfs", 0, "mode=755") == 0; }
	~srv_mount()
	{
		if (ok)
			umount2("/srv", MNT_DETACH);
	}
};

TEST(InferenceHost, HuggingFaceFolderAndTorchWorkloadUnderShippedInferencePolicy)
{
	std::string hf = build_dir() + "/tests/vm/hf-model";
	if (!fs::exists("/usr/lib/python3/dist-packages/torch") || !fs::exists(hf + "/pytorch_model.bin"))
		GTEST_SKIP() << "python3-torch is not installed for /usr/bin/python3 (no pytorch_model.bin in " << hf
			     << ")";
	temp_dir t;
	srv_mount srv;
	ASSERT_TRUE(srv.ok) << "mount tmpfs on /srv: " << strerror(errno);
	fs::create_directories("/srv/models");
	fs::copy(hf, "/srv/models", fs::copy_options::recursive);
	std::string marker = t / "payload-ran";
	write_file("/srv/models/malicious.pkl", malicious_pickle(marker));
	std::string workload = t / "workload.py"; // /tmp: the policy allows it, as for a service's code
	fs::copy_file(source_dir() + "/tests/vm/models/inference_workload.py", workload);

	ltrackd d(read_file(source_dir() + "/policies/inference.toml"));
	ASSERT_TRUE(d.start()) << d.output();
	// ltrackd scanned the folder before it was ready: every file is data or a safe checkpoint.
	for (const char *line :
	     {"config.json: json safe", "tokenizer.json: json safe", "merges.txt: text safe", "README.md: text safe",
	      "tokenizer.model: sentencepiece safe", "model.safetensors: safetensors safe",
	      "pytorch_model.bin: pytorch-zip safe", "malicious.pkl: pickle unsafe"})
		EXPECT_NE(d.output().find(line), std::string::npos) << line << "\n" << d.output();

	run_options slow;
	slow.timeout = std::chrono::seconds(420); // import torch: 60-200 s under TCG on a busy host
	run_result py =
		run({"/usr/bin/python3", workload, "/srv/models", "--evil", "/srv/models/malicious.pkl", marker}, slow);
	EXPECT_EQ(py.exit_code, 0) << py.out;

	std::map<std::string, json> steps;
	std::istringstream lines(py.out);
	for (std::string l; std::getline(lines, l);)
		if (l.starts_with("{\"step\""))
			if (json j = json::parse(l); j.kind == json::object_v)
				steps[j["step"].s()] = j;
	for (const char *s : {"json", "text", "safetensors", "torch_load", "compute", "serve", "fresh"})
		EXPECT_TRUE(steps[s]["ok"].b) << s << ": " << py.out;
	EXPECT_TRUE(steps["fresh"]["same"].b) << py.out;
	EXPECT_TRUE(steps["torch_load"]["same_as_safetensors"].b) << py.out;
	EXPECT_EQ(steps["serve"]["reply"]["model"].s(), "gpt2") << py.out;
	// The CPU topology is readable: Python counts the CPUs this process does.
	EXPECT_EQ(steps["compute"]["cpu_count"].i(), sysconf(_SC_NPROCESSORS_ONLN)) << py.out;

	// The malicious pickle: refused at open, its payload never ran.
	EXPECT_FALSE(steps["evil"]["ok"].b) << py.out;
	EXPECT_EQ(steps["evil"]["errno"].i(), EPERM) << py.out;
	EXPECT_EQ(steps["evil"]["error"].s(), "PermissionError") << py.out;
	EXPECT_FALSE(fs::exists(marker));
	json evil = d.wait_for([&](const json &r) {
		return decision_for(py.pid, "model", "denied")(r) &&
		       r["file"]["path"].s() == "/srv/models/malicious.pkl";
	});
	ASSERT_EQ(evil.kind, json::object_v) << read_file(d.log_path());
	EXPECT_EQ(evil["model"]["verdict"].s(), "unsafe");
	bool named = false;
	for (const json &i : evil["model"]["imports"].items)
		named = named || i.s() == "posix.system";
	EXPECT_TRUE(named) << dump({evil});
	EXPECT_EQ(evil["rule"]["text"].s(), "model allow safe, deny the rest");
	EXPECT_EQ(evil["severity"].s(), "critical");

	// Everything else the process did was allowed: zero denials and zero
	// would-denies, and Python's own site .pth files were opened.
	std::vector<json> refused;
	bool site_pth = false;
	for (const json &r : d.decisions()) {
		if (r["process"]["pid"].i() != py.pid)
			continue;
		if (r["file"]["path"].s() == "/usr/lib/python3/dist-packages/distutils-precedence.pth")
			site_pth = site_pth || r["outcome"].s() == "allowed";
		if (r["outcome"].s() != "allowed" && r["file"]["path"].s() != "/srv/models/malicious.pkl")
			refused.push_back(r);
	}
	EXPECT_TRUE(refused.empty()) << refused.size() << " records besides the malicious pickle:\n" << dump(refused);
	// The fresh checkpoint: decided at its first open by the waiter's scan
	// (an allowed record, "at_open": "scanned"), unless the watcher's scan
	// after the writer's close came first (then the kernel allowed it by
	// that verdict, with no record). Either way, allowed.
	for (const json &r : d.decisions())
		if (r["process"]["pid"].i() == py.pid && r["file"]["path"].s() == "/srv/models/fresh.pt")
			std::printf("fresh.pt: %s, verdict %s, at_open %s\n", r["outcome"].s().c_str(),
				    r["model"]["verdict"].s().c_str(), r["model"]["at_open"].s().c_str());
	EXPECT_TRUE(site_pth) << "no allowed record for Python's own distutils-precedence.pth";
}

} // namespace
