// A scratch directory of real files for tests that resolve paths on the host.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

namespace fs = std::filesystem;

class scratch_dir {
public:
	scratch_dir()
	{
		std::string tmpl = (fs::temp_directory_path() / "ltrack-policy-XXXXXX").string();
		if (!mkdtemp(tmpl.data()))
			throw std::runtime_error("mkdtemp failed");
		root_ = fs::canonical(tmpl);
	}
	~scratch_dir() { fs::remove_all(root_); }
	std::string path(const std::string &rel = "") const
	{
		return rel.empty() ? root_.string() : (root_ / rel).string();
	}
	std::string file(const std::string &rel, const std::string &content = "x") const
	{
		fs::create_directories((root_ / rel).parent_path());
		std::ofstream(root_ / rel) << content;
		return path(rel);
	}
	std::string dir(const std::string &rel) const
	{
		fs::create_directories(root_ / rel);
		return path(rel);
	}

private:
	fs::path root_;
};

inline struct stat stat_of(const std::string &p)
{
	struct stat st {};
	EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
	return st;
}
