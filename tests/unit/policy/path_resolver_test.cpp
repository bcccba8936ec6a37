// The compiler's caching resolver must answer exactly as realpath(3) + stat(2)
// does, for every shape of path a policy can hold, on real files.
#include <gtest/gtest.h>

#include "path_resolver.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ltrack::policy;

namespace {

TEST(path_resolver, caching_resolver_answers_as_realpath_does)
{
	char tmpl[] = "/tmp/ltrack-resolve-XXXXXX";
	ASSERT_NE(mkdtemp(tmpl), nullptr);
	fs::path t = tmpl;
	fs::create_directories(t / "real/sub");
	std::ofstream(t / "real/f") << "x";
	std::ofstream(t / "real/sub/g") << "y";
	fs::create_symlink(t / "real", t / "link-dir");
	fs::create_symlink("f", t / "real/link-file");
	fs::create_symlink("missing", t / "real/dangling");
	fs::create_symlink("..", t / "real/sub/up");

	std::vector<std::string> paths = {
		(t / "real/f").string(),
		(t / "real/sub/g").string(),
		(t / "real").string(),
		(t / "real/").string(),
		(t / "link-dir/f").string(),
		(t / "link-dir/sub/g").string(),
		(t / "real/link-file").string(),
		(t / "real/dangling").string(),
		(t / "real/missing").string(),
		(t / "nodir/f").string(),
		(t / "real/f/under-a-file").string(),
		(t / "real/sub/..").string(),
		(t / "real/sub/.").string(),
		(t / "real/sub/up/f").string(),
		(t / "real//f").string(),
		"/etc",
		"/",
		"/etc/hostname",
	};
	path_resolver cached = caching_resolver_on_host();
	for (int round = 0; round < 2; round++) // the second round answers from the cache
		for (const auto &p : paths) {
			resolve_result want = resolve_on_host(p), got = cached(p);
			ASSERT_EQ(want.ok(), got.ok())
				<< p << ": " << want.failure().error << " vs " << got.failure().error;
			if (want) {
				EXPECT_EQ(got->real_path, want->real_path) << p;
				EXPECT_EQ(got->dev, want->dev) << p;
				EXPECT_EQ(got->ino, want->ino) << p;
				EXPECT_EQ(got->is_dir, want->is_dir) << p;
			} else {
				EXPECT_EQ(got.failure().error, want.failure().error) << p;
			}
		}
	fs::remove_all(t);
}

} // namespace
