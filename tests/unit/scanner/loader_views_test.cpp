// Issue 23: `safe` is a claim about every loader the model layer covers.
// Each file here (make_corpus.py, "issue 23" section) is a technique that
// got an unsafe file called safe by a scanner that read it one way only.
#include <gtest/gtest.h>

#include <chrono>

#include "corpus_fixture.h"

namespace {

// Dangerous for some loader: unsafe, naming the payload's import.
void expect_unsafe(const scan_result &r, const char *file)
{
	SCOPED_TRACE(file);
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_UNSAFE)) << r.error << " / " << r.detail;
	bool named = false;
	for (auto &d : r.deciding)
		named = named || d.find("posix.system") != std::string::npos;
	EXPECT_TRUE(named) << (r.deciding.empty() ? "" : r.deciding.front());
}

TEST_F(scanner_corpus, polyglots_are_walked_as_pickles_from_byte_0)
{
	// a valid tar (tarfile opens it) whose first member name is a pickle
	scan_result tar = scan("poly_tar.pkl");
	EXPECT_EQ(tar.fmt, format::tar_archive);
	expect_unsafe(tar, "poly_tar.pkl");
	// a GGUF whose header fields are opcodes
	expect_unsafe(scan("poly_gguf.gguf"), "poly_gguf.gguf");
}

TEST_F(scanner_corpus, benign_files_that_start_with_opcodes_stay_safe)
{
	for (const char *f : {"opcode_len_c.safetensors", "opcode_len_i.safetensors"}) {
		SCOPED_TRACE(f);
		EXPECT_SCAN(scan(f), safetensors, LTRACK_VERDICT_SAFE);
	}
}

TEST_F(scanner_corpus, array_bytes_are_skipped_only_where_joblib_reads_them)
{
	// pickle.load and torch's data.pkl read no array bytes after the wrapper
	expect_unsafe(scan("wrapper_plain.pkl"), "wrapper_plain.pkl");
	expect_unsafe(scan("wrapper_torch.pt"), "wrapper_torch.pt");
	// numpy's 'float64' is 8 bytes; of duplicate keys Python keeps the last
	expect_unsafe(scan("wrapper_float64.joblib"), "wrapper_float64.joblib");
	expect_unsafe(scan("wrapper_dupkey.joblib"), "wrapper_dupkey.joblib");
	// pickle._Unpickler reads array bytes after the frame, opcodes inside it
	expect_unsafe(scan("wrapper_frame.joblib"), "wrapper_frame.joblib");
	// the exact joblib layout (padding byte, padding, items) is followed
	EXPECT_SCAN(scan("wrapper_exact.joblib"), joblib, LTRACK_VERDICT_SAFE);
	if (have("frames.joblib"))
		EXPECT_SCAN(scan("frames.joblib"), joblib, LTRACK_VERDICT_SAFE);
}

TEST_F(scanner_corpus, joblib_compressors_are_read_as_joblib_reads_them)
{
	if (!have("model_bz2.joblib"))
		GTEST_SKIP() << "joblib is not installed for /usr/bin/python3";
	for (const char *f : {"model_bz2.joblib", "model_lzma.joblib", "model_xz.joblib"}) {
		SCOPED_TRACE(f);
		EXPECT_SCAN(scan(f), joblib, LTRACK_VERDICT_SAFE);
	}
	expect_unsafe(scan("evil_bz2.joblib"), "evil_bz2.joblib");
}

TEST_F(scanner_corpus, torch_legacy_stream_is_read_by_value)
{
	// the magic number as LONG text / LONG1 with a sign byte: torch reads on
	expect_unsafe(scan("legacy_magic_long.pt"), "legacy_magic_long.pt");
	expect_unsafe(scan("legacy_magic_long1.pt"), "legacy_magic_long1.pt");
	EXPECT_EQ(scan("legacy_magic_long.pt").fmt, format::pytorch_legacy);
}

TEST_F(scanner_corpus, tar_members_as_tarfile_reads_them)
{
	// duplicate "storages": the checkpoint is still read as one
	scan_result dup = scan("tar_dup_storages.tar");
	EXPECT_EQ(dup.fmt, format::pytorch_tar);
	expect_unsafe(dup, "tar_dup_storages.tar");
	// a sparse member is not reassembled here: not safe
	scan_result sparse = scan("tar_sparse.tar");
	EXPECT_EQ(sparse.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(sparse);
	EXPECT_NE(sparse.error.find("sparse"), std::string::npos) << sparse.error;
}

TEST_F(scanner_corpus, zip_members_as_miniz_and_zipfile_find_them)
{
	expect_unsafe(scan("zip_data_upper.pt"), "zip_data_upper.pt");       // data.PKL
	expect_unsafe(scan("zip64_locator.pt"), "zip64_locator.pt");         // zip64 via the locator
	expect_unsafe(scan("zip_concat.npz"), "zip_concat.npz");             // zipfile's shifted offsets
	expect_unsafe(scan("npz_with_datapkl.npz"), "npz_with_datapkl.npz"); // numpy ignores data.pkl
	expect_unsafe(scan("npz_dir_member.npz"), "npz_dir_member.npz");     // "o.npy/" still loads
}

TEST_F(scanner_corpus, npy_descr_is_read_as_numpy_reads_it)
{
	expect_unsafe(scan("npy_descr_object.npy"), "npy_descr_object.npy");
}

TEST_F(scanner_corpus, one_budget_per_file)
{
	// 60,000 directory entries naming one member: one read, a verdict at once
	auto t0 = std::chrono::steady_clock::now();
	scan_result r = scan("hostile_many_entries.zip");
	double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	EXPECT_EQ(r.verdict, uint32_t(LTRACK_VERDICT_ERROR)) << show(r);
	EXPECT_NE(r.error.find("overlap"), std::string::npos) << r.error;
	EXPECT_LT(s, 1.0);
}

} // namespace
