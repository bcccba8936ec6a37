#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sha256.h"

using namespace ltrack::scanner;
using ltrack::result;

namespace {

std::string hex_of(const std::string &s)
{
	return sha256_hex({reinterpret_cast<const unsigned char *>(s.data()), s.size()});
}

// FIPS 180-4 / NIST example vectors.
TEST(scanner_sha256, known_vectors)
{
	EXPECT_EQ(hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(hex_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EXPECT_EQ(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	EXPECT_EQ(
		hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	EXPECT_EQ(hex_of(std::string(1000000, 'a')),
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(scanner_sha256, chunked_updates_match_one_shot)
{
	std::string msg;
	for (int i = 0; i < 1000; i++)
		msg += char(i * 7);
	for (size_t step : {1, 3, 63, 64, 65, 127}) {
		sha256 h;
		for (size_t i = 0; i < msg.size(); i += step)
			h.update({reinterpret_cast<const unsigned char *>(msg.data()) + i,
				  std::min(step, msg.size() - i)});
		auto d = h.finish();
		EXPECT_EQ(to_hex(d), hex_of(msg)) << "step " << step;
	}
}

TEST(scanner_sha256, file_digest)
{
	char name[] = "/tmp/ltrack-sha-XXXXXX";
	int fd = mkstemp(name);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "abc", 3), 3);
	close(fd);
	result<std::string> digest = sha256_file(name);
	ASSERT_TRUE(digest.ok()) << digest.failure().error;
	EXPECT_EQ(*digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(name);
	result<std::string> missing = sha256_file("/nonexistent/ltrack");
	ASSERT_FALSE(missing.ok());
	EXPECT_EQ(missing.failure().err, ENOENT);
	EXPECT_NE(missing.failure().error.find("No such file"), std::string::npos) << missing.failure().error;
}

} // namespace
