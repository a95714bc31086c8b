// SPDX-License-Identifier: GPL-2.0
/*
 * 9p_stale_size: a read through a 9p inode whose size is stale, because
 * the file shrank behind its back, must end at the server's end of file.
 * The host directory of $VIRTSTACK_9P is also exported under a second tag
 * (vshare2, boot.sh), so this test mounts it a second time, truncates the
 * file there, and reads through the first mount, which still has the old
 * size. On 6.12 the server's zero-byte reply past the real end counts as a
 * short read that made progress, netfs retries it, and the retries recurse
 * until the kernel stack overflows (patch 1012); the harness found it when
 * the guest read a file the host had replaced with a shorter one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define SECOND		"/tmp/9p-second"
#define NAME		"stale-size"
#define OLD_SIZE	(64 * 1024)
#define NEW_SIZE	(20 * 1024)

FIXTURE(stale)
{
	char path[256], second[256];
	char *buf;
	int fd;
};

FIXTURE_VARIANT(stale)
{
	int flags;
};

FIXTURE_VARIANT_ADD(stale, buffered)
{
	.flags = 0,
};

FIXTURE_VARIANT_ADD(stale, direct)
{
	.flags = O_DIRECT,
};

FIXTURE_SETUP(stale)
{
	const char *dir = getenv("VIRTSTACK_9P");
	struct stat st;
	int fd;

	self->fd = -1;
	ASSERT_NE(dir, NULL) TH_LOG("VIRTSTACK_9P is not set: run under the harness");
	snprintf(self->path, sizeof(self->path), "%s/" NAME, dir);
	snprintf(self->second, sizeof(self->second), SECOND "/" NAME);
	ASSERT_EQ(posix_memalign((void **)&self->buf, 4096, OLD_SIZE), 0);

	mkdir(SECOND, 0755);
	if (mount("vshare2", SECOND, "9p", 0, "trans=virtio,version=9p2000.L") && errno != EBUSY)
		ASSERT_EQ(errno, 0)
			TH_LOG("mount vshare2: %s (boot.sh adds it)", strerror(errno));

	fd = open(self->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_GE(fd, 0);
	memset(self->buf, 'x', OLD_SIZE);
	ASSERT_EQ(write(fd, self->buf, OLD_SIZE), OLD_SIZE);
	close(fd);

	self->fd = open(self->path, O_RDONLY | variant->flags);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(fstat(self->fd, &st), 0);
	ASSERT_EQ(st.st_size, OLD_SIZE);
	/* The same file, seen through the second mount, shrinks. */
	ASSERT_EQ(truncate(self->second, NEW_SIZE), 0)
		TH_LOG("truncate %s: %s", self->second, strerror(errno));
}

FIXTURE_TEARDOWN(stale)
{
	if (self->fd >= 0)
		close(self->fd);
	unlink(self->path);
	umount(SECOND);
	free(self->buf);
}

TEST_F(stale, read_ends_at_the_servers_eof)
{
	ssize_t n = pread(self->fd, self->buf, OLD_SIZE, 0);

	ASSERT_EQ(n, NEW_SIZE) TH_LOG("read %zd bytes: %s", n, n < 0 ? strerror(errno) : "");
	EXPECT_EQ(self->buf[NEW_SIZE - 1], 'x');
	/* And nothing past it. */
	EXPECT_EQ(pread(self->fd, self->buf, 4096, NEW_SIZE), 0);
}

TEST_HARNESS_MAIN
