// The scanner against a corpus made by real libraries (pickle, numpy,
// joblib, torch) and hand-assembled hostile files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scanner.h"
#include "sha256.h"

#include <sys/wait.h>

#include "corpus_fixture.h"

namespace {

TEST_F(scanner_corpus, benign_pickles_of_every_protocol_are_safe)
{
	for (int p = 0; p <= 5; p++) {
		SCOPED_TRACE("protocol " + std::to_string(p));
		scan_result r = scan("benign_p" + std::to_string(p) + ".pkl");
		EXPECT_SCAN(r, pickle, LTRACK_VERDICT_SAFE);
		bool ordered_dict = false;
		for (auto &i : r.imports)
			ordered_dict |= i.module == "collections" && i.name == "OrderedDict" &&
					i.kind == import_ref::kind::allowed;
		EXPECT_TRUE(ordered_dict) << "the OrderedDict import was not seen";
	}
}

TEST_F(scanner_corpus, every_dangerous_import_is_unsafe)
{
	std::ifstream listing(path("dangerous.txt"));
	std::string line;
	int n = 0;
	while (std::getline(listing, line)) {
		std::istringstream in(line);
		std::string file, module, name;
		in >> file >> module >> name;
		SCOPED_TRACE(line);
		scan_result r = scan(file);
		EXPECT_SCAN(r, pickle, LTRACK_VERDICT_UNSAFE);
		EXPECT_TRUE(deciding_has(r, module + "." + name)) << show(r);
		n++;
	}
	EXPECT_GE(n, 30);
}

TEST_F(scanner_corpus, reduce_to_os_system_is_unsafe)
{
	for (const char *f : {"evil_reduce.pkl", "evil_reduce_p0.pkl", "inst_os.pkl"}) {
		SCOPED_TRACE(f);
		scan_result r = scan(f);
		EXPECT_SCAN(r, pickle, LTRACK_VERDICT_UNSAFE);
		EXPECT_TRUE(deciding_has(r, "system")) << show(r);
	}
}

TEST_F(scanner_corpus, import_outside_both_lists_is_suspicious)
{
	scan_result r = scan("unknown_import.pkl");
	EXPECT_SCAN(r, pickle, LTRACK_VERDICT_SUSPICIOUS);
	EXPECT_TRUE(deciding_has(r, "mypackage.layers.CustomLayer")) << show(r);
	EXPECT_SCAN(scan("ext_code.pkl"), pickle, LTRACK_VERDICT_SUSPICIOUS);
}

TEST_F(scanner_corpus, memo_tricks_are_resolved)
{
	struct {
		const char *file, *decides;
	} cases[] = {
		{"memo_stack_global.pkl", "os.system"},  {"memo_long.pkl", "subprocess.getoutput"},
		{"memo_proto0_escape.pkl", "os.system"}, {"memo_unicode_escape.pkl", "os.system"},
		{"dotted_globals.pkl", "__globals__"},
	};
	for (auto &c : cases) {
		SCOPED_TRACE(c.file);
		scan_result r = scan(c.file);
		EXPECT_SCAN(r, pickle, LTRACK_VERDICT_UNSAFE);
		EXPECT_TRUE(deciding_has(r, c.decides)) << show(r);
	}
	EXPECT_SCAN(scan("memo_benign.pkl"), pickle, LTRACK_VERDICT_SAFE);
}

TEST_F(scanner_corpus, numpy_arrays)
{
	EXPECT_SCAN(scan("float.npy"), numpy_npy, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("record.npy"), numpy_npy, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("object_benign.npy"), numpy_npy, LTRACK_VERDICT_SAFE);
	scan_result evil = scan("object_evil.npy");
	EXPECT_SCAN(evil, numpy_npy, LTRACK_VERDICT_UNSAFE);
	EXPECT_TRUE(deciding_has(evil, "system")) << show(evil);
	EXPECT_SCAN(scan("float_truncated.npy"), numpy_npy, LTRACK_VERDICT_ERROR);
	EXPECT_SCAN(scan("plain.npz"), numpy_npz, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("compressed.npz"), numpy_npz, LTRACK_VERDICT_SAFE);
	scan_result npz = scan("object_evil.npz");
	EXPECT_SCAN(npz, numpy_npz, LTRACK_VERDICT_UNSAFE);
	EXPECT_TRUE(deciding_has(npz, "in o.npy")) << show(npz);
}

TEST_F(scanner_corpus, joblib_streams_with_interleaved_arrays)
{
	if (!have("model.joblib"))
		GTEST_SKIP() << "joblib is not installed for /usr/bin/python3 (apt-get install python3-joblib)";
	for (const char *f : {"model.joblib", "model_zlib.joblib", "model_gzip.joblib", "objarray.joblib"}) {
		SCOPED_TRACE(f);
		scan_result r = scan(f);
		EXPECT_SCAN(r, joblib, LTRACK_VERDICT_SAFE);
	}
	for (const char *f : {"evil.joblib", "evil_objarray.joblib"}) {
		SCOPED_TRACE(f);
		scan_result r = scan(f);
		EXPECT_SCAN(r, joblib, LTRACK_VERDICT_UNSAFE);
		EXPECT_TRUE(deciding_has(r, "system")) << show(r);
	}
}

TEST_F(scanner_corpus, safetensors_header_is_validated)
{
	EXPECT_SCAN(scan("good.safetensors"), safetensors, LTRACK_VERDICT_SAFE);
	struct {
		const char *file, *error;
	} bad[] = {
		{"bad_json.safetensors", "JSON"},       {"bad_overlap.safetensors", "overlap"},
		{"bad_size.safetensors", "needs 12"},   {"bad_dtype.safetensors", "unknown dtype"},
		{"bad_outside.safetensors", "outside"}, {"bad_length.safetensors", "exceeds"},
		{"truncated.safetensors", "outside"},
	};
	for (auto &b : bad) {
		SCOPED_TRACE(b.file);
		scan_result r = scan(b.file);
		EXPECT_SCAN(r, safetensors, LTRACK_VERDICT_ERROR);
		EXPECT_NE(r.error.find(b.error), std::string::npos) << show(r);
	}
}

TEST_F(scanner_corpus, gguf_and_onnx_are_data)
{
	EXPECT_SCAN(scan("model.gguf"), gguf, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("huge_count.gguf"), gguf, LTRACK_VERDICT_ERROR);
	EXPECT_SCAN(scan("bad_offset.gguf"), gguf, LTRACK_VERDICT_ERROR);
	EXPECT_SCAN(scan("truncated.gguf"), gguf, LTRACK_VERDICT_ERROR);
	EXPECT_SCAN(scan("model.onnx"), onnx, LTRACK_VERDICT_SAFE);
}

TEST_F(scanner_corpus, nested_archives_are_scanned)
{
	scan_result evil = scan("nested_evil.zip");
	EXPECT_SCAN(evil, zip_archive, LTRACK_VERDICT_UNSAFE);
	EXPECT_TRUE(deciding_has(evil, "inner.zip/deep/model.pkl")) << show(evil);
	EXPECT_SCAN(scan("nested_benign.tar"), tar_archive, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("text_only.zip"), zip_archive, LTRACK_VERDICT_SUSPICIOUS);
	scan_result deep = scan("too_deep.zip");
	EXPECT_EQ(deep.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(deep);
	EXPECT_NE(deep.error.find("nested deeper"), std::string::npos) << show(deep);
}

TEST_F(scanner_corpus, archive_limits)
{
	scan_limits small;
	small.max_inflated_bytes = 1 << 20;
	scan_result bomb = scan("zip_bomb.zip", small);
	EXPECT_EQ(bomb.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(bomb);
	EXPECT_NE(bomb.error.find("exceeds the limit"), std::string::npos) << show(bomb);
	EXPECT_EQ(scan("zip_bomb.zip").verdict, uint32_t(LTRACK_VERDICT_SAFE))
		<< "within default limits it is a plain pickle";
	small.max_archive_entries = 100;
	scan_result many = scan("many_entries.zip", small);
	EXPECT_EQ(many.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(many);
	EXPECT_SCAN(scan("zip_truncated.zip"), zip_archive, LTRACK_VERDICT_ERROR);
}

TEST_F(scanner_corpus, old_torch_tar_format)
{
	EXPECT_SCAN(scan("torch_legacy.tar"), pytorch_tar, LTRACK_VERDICT_SAFE);
	scan_result r = scan("torch_legacy_evil.tar");
	EXPECT_SCAN(r, pytorch_tar, LTRACK_VERDICT_UNSAFE);
	EXPECT_TRUE(deciding_has(r, "(in pickle)")) << show(r);
}

TEST_F(scanner_corpus, real_torch_checkpoints)
{
	if (!have("torch_benign.pt"))
		GTEST_SKIP()
			<< "torch is not installed for /usr/bin/python3 (apt-get install --no-install-recommends python3-torch)";
	scan_result benign = scan("torch_benign.pt");
	EXPECT_SCAN(benign, pytorch_zip, LTRACK_VERDICT_SAFE);
	bool rebuild = false;
	for (auto &i : benign.imports)
		rebuild |= i.name == "_rebuild_tensor_v2";
	EXPECT_TRUE(rebuild) << "tensor rebuild import not seen";
	scan_result evil = scan("torch_evil.pt");
	EXPECT_SCAN(evil, pytorch_zip, LTRACK_VERDICT_UNSAFE);
	EXPECT_TRUE(deciding_has(evil, "system")) << show(evil);
	EXPECT_SCAN(scan("torch_benign_legacy.pt"), pytorch_legacy, LTRACK_VERDICT_SAFE);
	EXPECT_SCAN(scan("torch_evil_legacy.pt"), pytorch_legacy, LTRACK_VERDICT_UNSAFE);
	EXPECT_EQ(scan("torch_truncated.pt").verdict, uint32_t(LTRACK_VERDICT_ERROR));
}

TEST_F(scanner_corpus, hostile_and_truncated_inputs_are_errors)
{
	struct {
		const char *file, *error;
	} cases[] = {
		{"huge_len.pkl", "truncated"},       {"deep_marks.pkl", "MARKs nested deeper"},
		{"stack_bomb.pkl", "stack exceeds"}, {"memo_missing.pkl", "memo key 5"},
		{"truncated_p4.pkl", "truncated"},   {"empty_stack_global.pkl", "underflow"},
		{"bad_proto.pkl", "protocol 9"},
	};
	for (auto &c : cases) {
		SCOPED_TRACE(c.file);
		scan_result r = scan(c.file);
		EXPECT_SCAN(r, pickle, LTRACK_VERDICT_ERROR);
		EXPECT_NE(r.error.find(c.error), std::string::npos) << show(r);
	}
}

TEST_F(scanner_corpus, unrecognised_content_is_suspicious)
{
	scan_result r = scan("garbage.bin");
	EXPECT_SCAN(r, unknown, LTRACK_VERDICT_SUSPICIOUS);
	EXPECT_TRUE(deciding_has(r, "unrecognised format"));
}

// ltrackctl scan: output and exit status (0 safe, 1 flagged, 2 error).
struct cli_run {
	int status;
	std::string out;
};

cli_run ltrackctl_scan(const std::string &args)
{
#ifdef LTRACK_TEST_LTRACKCTL
	std::string cmd = std::string(LTRACK_TEST_LTRACKCTL) + " scan " + args + " 2>&1";
	FILE *p = popen(cmd.c_str(), "r");
	cli_run run{-1, {}};
	if (!p)
		return run;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		run.out.append(buf, n);
	int st = pclose(p);
	run.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return run;
#else
	(void)args;
	return {-1, {}};
#endif
}

TEST_F(scanner_corpus, ltrackctl_scan_exit_status_and_output)
{
#ifndef LTRACK_TEST_LTRACKCTL
	GTEST_SKIP() << "ltrackctl is not part of this build";
#endif
	cli_run safe = ltrackctl_scan(path("good.safetensors") + " " + path("float.npy") + " " + path("model.gguf"));
	EXPECT_EQ(safe.status, 0) << safe.out;
	EXPECT_NE(safe.out.find("safe       safetensors"), std::string::npos) << safe.out;

	cli_run unsafe = ltrackctl_scan(path("nested_evil.zip") + " " + path("truncated_p4.pkl"));
	EXPECT_EQ(unsafe.status, 1) << unsafe.out;
	EXPECT_NE(unsafe.out.find("decided by: posix.system (in inner.zip/deep/model.pkl)"), std::string::npos)
		<< unsafe.out;

	cli_run suspicious = ltrackctl_scan(path("unknown_import.pkl"));
	EXPECT_EQ(suspicious.status, 1) << suspicious.out;

	cli_run error = ltrackctl_scan(path("truncated_p4.pkl") + " " + path("good.safetensors"));
	EXPECT_EQ(error.status, 2) << error.out;
	EXPECT_NE(error.out.find("truncated"), std::string::npos) << error.out;

	// a directory recurses: the whole corpus holds unsafe files
	cli_run all = ltrackctl_scan("--json " + dir);
	EXPECT_EQ(all.status, 1);
	EXPECT_EQ(all.out.substr(0, 11), "{\"files\": [") << all.out.substr(0, 200);
	EXPECT_NE(all.out.find("\"summary\": {\"files\": "), std::string::npos);
	EXPECT_NE(all.out.find("\"verdict\": \"unsafe\""), std::string::npos);
	EXPECT_NE(all.out.find("\"kind\": \"dangerous\""), std::string::npos);
	EXPECT_NE(all.out.find("torch_legacy.tar"), std::string::npos);
	EXPECT_NE(all.out.find("COMPLETE"), std::string::npos) << "every regular file is listed";

	// --exclude (names without '/', whole paths with it) and the summary line
	cli_run hf = ltrackctl_scan("--exclude '*.json' --exclude pytorch_model.bin --exclude '" + dir +
				    "/hf/vocab.*' " + dir + "/hf");
	EXPECT_EQ(hf.status, 0) << hf.out;
	EXPECT_EQ(hf.out.find(".json"), std::string::npos) << hf.out;
	EXPECT_EQ(hf.out.find("vocab.txt"), std::string::npos) << hf.out;
	EXPECT_NE(hf.out.find("safe       text           " + dir + "/hf/README.md"), std::string::npos) << hf.out;
	EXPECT_NE(hf.out.find("scanned 4 files ("), std::string::npos) << hf.out;
	EXPECT_NE(hf.out.find("4 safe, 0 suspicious, 0 unsafe, 0 error; 9 excluded\n"), std::string::npos) << hf.out;

	cli_run digest = ltrackctl_scan("--sha256 " + path("good.safetensors"));
	EXPECT_NE(digest.out.find("sha256: " + *sha256_file(path("good.safetensors"))), std::string::npos)
		<< digest.out;
}

TEST(scanner_file_io, missing_and_special_files_are_errors)
{
	scan_result r = scan_file("/nonexistent/ltrack/model.pt");
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_ERROR));
	EXPECT_NE(r.error.find("cannot open"), std::string::npos) << r.error;
	EXPECT_EQ(scan_file("/dev/null").verdict, uint32_t(LTRACK_VERDICT_ERROR));
	scan_limits tiny;
	tiny.max_file_size = 4;
	EXPECT_NE(scan_file("/etc/passwd", tiny).error.find("over the scan size limit"), std::string::npos);
}

} // namespace
