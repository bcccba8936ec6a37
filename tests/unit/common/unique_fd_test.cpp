// unique_fd closes its descriptor exactly once, wherever it is moved.
#include "unique_fd.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <utility>

using ltrack::unique_fd;

namespace {

bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

} // namespace

TEST(UniqueFd, ClosesWhenDestroyed)
{
	int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(raw, 0);
	{
		unique_fd fd(raw);
		EXPECT_TRUE(fd);
		EXPECT_EQ(fd.get(), raw);
	}
	EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, AMoveHandsOverWithoutClosing)
{
	int raw = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(raw, 0);
	unique_fd a(raw);
	unique_fd b(std::move(a));
	EXPECT_FALSE(a);
	EXPECT_TRUE(is_open(raw));
	unique_fd c;
	c = std::move(b);
	EXPECT_TRUE(is_open(raw));
	EXPECT_EQ(c.get(), raw);
	c = unique_fd(); // assigning an empty one closes the old
	EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, ResetClosesTheOldAndReleaseGivesUp)
{
	int first = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int second = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(first, 0);
	ASSERT_GE(second, 0);
	unique_fd fd(first);
	fd.reset(second);
	EXPECT_FALSE(is_open(first));
	EXPECT_EQ(fd.release(), second);
	EXPECT_FALSE(fd);
	EXPECT_TRUE(is_open(second)); // released: still the caller's
	close(second);
}
