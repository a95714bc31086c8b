// SPDX-License-Identifier: GPL-2.0
/*
 * dio_pins: O_DIRECT I/O must pin the user buffer (FOLL_PIN) for as long as
 * the device may touch it and unpin it when the I/O completes. Each case
 * reads nr_foll_pin_acquired and nr_foll_pin_released from /proc/vmstat
 * (after /proc/sys/vm/stat_refresh) around one synchronous O_DIRECT call:
 * both must grow by exactly the number of pages of the buffer. A path that
 * takes plain page references instead (FOLL_GET) shows a delta of zero.
 *
 * Backends, one fixture variant each, found through the environment the
 * virtstack guest sets: VIRTSTACK_BLK (a scratch virtio-blk disk),
 * VIRTSTACK_9P (a directory on a virtio-9p mount), VIRTSTACK_NFS and
 * VIRTSTACK_NFS_LOCALIO (an NFSv4.2 mount of the guest's own knfsd, over
 * sunrpc and through LOCALIO). Unpatched 6.12 takes references for NFS, so
 * the NFS variants fail there.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pins.h"

#define NR_PAGES	16

FIXTURE(dio)
{
	int fd;
	size_t len;
	unsigned char *buf;
	unsigned char *check;
};

FIXTURE_VARIANT(dio)
{
	const char *env;	/* names the device or directory */
	const char *file;	/* created in that directory; NULL: use the device */
};

FIXTURE_VARIANT_ADD(dio, virtio_blk)
{
	.env = "VIRTSTACK_BLK",
};

FIXTURE_VARIANT_ADD(dio, virtio_9p)
{
	.env = "VIRTSTACK_9P",
	.file = "dio_pins.img",
};

FIXTURE_VARIANT_ADD(dio, nfs)
{
	.env = "VIRTSTACK_NFS",
	.file = "dio_pins.img",
};

FIXTURE_VARIANT_ADD(dio, nfs_localio)
{
	.env = "VIRTSTACK_NFS_LOCALIO",
	.file = "dio_pins_localio.img",
};

FIXTURE_SETUP(dio)
{
	const char *where = getenv(variant->env);
	char path[4096];
	struct pins p;

	if (read_pins(&p))
		SKIP(return, "no nr_foll_pin_* in /proc/vmstat or no stat_refresh (not root?)");
	if (!where || access(where, F_OK))
		SKIP(return, "%s does not name an existing path", variant->env);
	if (variant->file)
		snprintf(path, sizeof(path), "%s/%s", where, variant->file);
	else
		snprintf(path, sizeof(path), "%s", where);

	self->len = NR_PAGES * getpagesize();
	self->fd = open(path, O_RDWR | O_DIRECT | (variant->file ? O_CREAT : 0), 0600);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s with O_DIRECT: %m", path);
	self->buf = mmap(NULL, 2 * self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->buf, MAP_FAILED);
	self->check = self->buf + self->len;
	/* Fault every page in: a pin of the zero page would not be counted. */
	memset(self->buf, 0x5a, 2 * self->len);
	if (variant->file)
		ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
}

FIXTURE_TEARDOWN(dio)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->len);
	if (self->fd > 0)
		close(self->fd);
}

static void expect_pins(struct __test_metadata *_metadata, const struct pins *before,
			long pages)
{
	struct pins after;

	ASSERT_EQ(read_pins(&after), 0);
	EXPECT_EQ(after.acquired - before->acquired, pages)
		TH_LOG("pages pinned by one O_DIRECT call of %ld pages", pages);
	EXPECT_EQ(after.released - before->released, pages)
		TH_LOG("pages unpinned once the call returned");
}

TEST_F(dio, read_pins_each_page)
{
	struct pins before;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pread(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	expect_pins(_metadata, &before, NR_PAGES);
}

TEST_F(dio, write_pins_each_page)
{
	struct pins before;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	expect_pins(_metadata, &before, NR_PAGES);
}

TEST_F(dio, data_round_trip)
{
	size_t i;

	for (i = 0; i < self->len; i++)
		self->buf[i] = (unsigned char)(i * 7 + i / 4096);
	memset(self->check, 0, self->len);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	ASSERT_EQ(pread(self->fd, self->check, self->len, 0), (ssize_t)self->len);
	EXPECT_EQ(memcmp(self->buf, self->check, self->len), 0);
}

TEST_HARNESS_MAIN
