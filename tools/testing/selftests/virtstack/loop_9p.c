// SPDX-License-Identifier: GPL-2.0
/*
 * loop_9p: a loop device in direct I/O mode over a file on virtio-9p.
 *
 * The loop driver hands the bio's pages to 9p as a bvec iterator, so the 9p
 * transport sees kernel pages: user pages the block layer pinned for an
 * O_DIRECT caller, or page-cache pages of the loop device. Upstream crashed
 * here once the transport refcounted such pages. Each case moves data
 * through /dev/loopN, checks it against the backing file read over 9p (and
 * the other way round), and checks that every pin taken on the way was
 * released.
 *
 * The backing file is created in the directory VIRTSTACK_9P names.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "pins.h"

#define DEV_SIZE	(4UL << 20)
#define CHUNK		(64UL << 10)

static unsigned char pattern(unsigned long off, unsigned int seed)
{
	return (unsigned char)(off * 13 + (off >> 12) * 7 + seed);
}

static void fill(unsigned char *buf, unsigned long off, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static long mismatch(const unsigned char *buf, unsigned long off, size_t len,
		     unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i, seed))
			return (long)(off + i);
	return -1;
}

FIXTURE(loop9p)
{
	char file[4096];
	char dev[64];
	int backing;	/* the file on 9p, no O_DIRECT: reads go to the host */
	int loop;	/* /dev/loopN, opened O_DIRECT */
	unsigned char *buf;
	struct pins before;
};

/*
 * Undoes the setup; the harness runs no teardown after a failed setup. The
 * loop device is also set to clear itself once its last user is gone, so
 * that a test killed on its timeout does not leave it bound.
 */
static void loop9p_undo(struct _test_data_loop9p *self)
{
	/*
	 * Detach through our own fd: the device is then released at its last
	 * close (it is bound with LO_FLAGS_AUTOCLEAR too). Reopening it by
	 * name after the close could reach a device someone else bound since.
	 */
	if (self->loop >= 0) {
		ioctl(self->loop, LOOP_CLR_FD, 0);
		close(self->loop);
	}
	self->loop = -1;
	self->dev[0] = '\0';
	if (self->backing >= 0) {
		close(self->backing);
		unlink(self->file);
	}
	self->backing = -1;
	if (self->buf != MAP_FAILED)
		munmap(self->buf, CHUNK);
	self->buf = MAP_FAILED;
}

/* Binds a free loop device to @backing in direct I/O mode; its fd, or -1. */
static int loop_bind(struct _test_data_loop9p *self, int ctl)
{
	struct loop_config cfg;
	int n, fd, tries;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = self->backing;
	cfg.info.lo_flags = LO_FLAGS_DIRECT_IO | LO_FLAGS_AUTOCLEAR;
	/* Another user of the machine may take the free device first. */
	for (tries = 0; tries < 5; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -1;
		snprintf(self->dev, sizeof(self->dev), "/dev/loop%d", n);
		fd = open(self->dev, O_RDWR);
		if (fd < 0)
			return -1;
		if (!ioctl(fd, LOOP_CONFIGURE, &cfg))
			return fd;
		close(fd);
		if (errno != EBUSY)
			break;
	}
	self->dev[0] = '\0';
	return -1;
}

FIXTURE_SETUP(loop9p)
{
	const char *dir = getenv("VIRTSTACK_9P");
	const char *why = pins_unavailable();
	struct loop_info64 info = { 0 };
	unsigned long off;
	int ctl, fd, err;
	bool ok = false;
	char dev[64];

	self->backing = -1;
	self->loop = -1;
	self->buf = MAP_FAILED;
	if (!dir || access(dir, W_OK))
		SKIP(return, "VIRTSTACK_9P unset or not a writable directory: %s",
		     "no 9p mount (run under the virtstack guest or set it)");
	if (why)
		SKIP(return, "%s", why);
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0 && errno == ENOENT && !load_module("loop"))
		ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		SKIP(return, "/dev/loop-control: %m (CONFIG_BLK_DEV_LOOP, module loop)");
	ASSERT_EQ(read_pins(&self->before), 0);

	self->buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED)
		goto out;

	snprintf(self->file, sizeof(self->file), "%s/loop_9p.img", dir);
	self->backing = open(self->file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (self->backing < 0)
		goto out;
	for (off = 0; off < DEV_SIZE; off += CHUNK) {
		fill(self->buf, off, CHUNK, 0);
		if (pwrite(self->backing, self->buf, CHUNK, off) != (ssize_t)CHUNK)
			goto out;
	}
	if (fsync(self->backing))
		goto out;

	fd = loop_bind(self, ctl);
	if (fd < 0)
		goto out;
	if (ioctl(fd, LOOP_GET_STATUS64, &info)) {
		close(fd);
		goto out;
	}
	/* Opened before the first fd is closed: that would clear the device. */
	self->loop = open(self->dev, O_RDWR | O_DIRECT);
	close(fd);
	ok = self->loop >= 0;
out:
	err = errno;
	close(ctl);
	snprintf(dev, sizeof(dev), "%s", self->dev[0] ? self->dev : "it");
	if (!ok)
		loop9p_undo(self);
	ASSERT_TRUE(ok) TH_LOG("create %s, bind a loop device to it, open %s: %s",
			       self->file, dev, strerror(err));
	/* Without this the loop driver would use the page cache of the file. */
	if (!(info.lo_flags & LO_FLAGS_DIRECT_IO))
		loop9p_undo(self);
	ASSERT_TRUE(info.lo_flags & LO_FLAGS_DIRECT_IO)
		TH_LOG("the loop device did not switch to direct I/O on 9p");
}

FIXTURE_TEARDOWN(loop9p)
{
	loop9p_undo(self);
}

static void expect_no_pins_held(struct __test_metadata *_metadata, const struct pins *before)
{
	EXPECT_EQ(pins_outstanding(before), 0)
		TH_LOG("pins taken during the test and not released");
}

TEST_F(loop9p, direct_read_matches_file)
{
	unsigned long off;
	long bad;

	for (off = 0; off < DEV_SIZE; off += CHUNK) {
		memset(self->buf, 0, CHUNK);
		ASSERT_EQ(pread(self->loop, self->buf, CHUNK, off), (ssize_t)CHUNK);
		bad = mismatch(self->buf, off, CHUNK, 0);
		ASSERT_EQ(bad, -1) TH_LOG("%s differs from the file at %ld", self->dev, bad);
	}
	expect_no_pins_held(_metadata, &self->before);
}

TEST_F(loop9p, direct_write_reaches_file)
{
	/* Aligned writes of several sizes, some crossing 64 KiB chunks. */
	static const struct { unsigned long off, len; } io[] = {
		{ 0, 4096 }, { 8192, 65536 }, { 126976, 8192 },
		{ 1048576, 61440 }, { DEV_SIZE - 4096, 4096 },
	};
	unsigned int i;
	long bad;

	for (i = 0; i < ARRAY_SIZE(io); i++) {
		fill(self->buf, io[i].off, io[i].len, 1);
		ASSERT_EQ(pwrite(self->loop, self->buf, io[i].len, io[i].off),
			  (ssize_t)io[i].len);
	}
	for (i = 0; i < ARRAY_SIZE(io); i++) {
		memset(self->buf, 0, io[i].len);
		ASSERT_EQ(pread(self->backing, self->buf, io[i].len, io[i].off),
			  (ssize_t)io[i].len);
		bad = mismatch(self->buf, io[i].off, io[i].len, 1);
		EXPECT_EQ(bad, -1) TH_LOG("the file lacks the write at %lu (first bad byte %ld)",
					  io[i].off, bad);
	}
	/* The bytes between the writes are untouched. */
	ASSERT_EQ(pread(self->backing, self->buf, 4096, 4096), 4096);
	EXPECT_EQ(mismatch(self->buf, 4096, 4096, 0), -1);
	expect_no_pins_held(_metadata, &self->before);
}

TEST_F(loop9p, buffered_write_reaches_file)
{
	unsigned long off = 2UL << 20;
	int fd;

	/* Page-cache pages of the loop device, written back through 9p. */
	fd = open(self->dev, O_RDWR);
	ASSERT_GE(fd, 0);
	fill(self->buf, off, CHUNK, 2);
	ASSERT_EQ(pwrite(fd, self->buf, CHUNK, off), (ssize_t)CHUNK);
	ASSERT_EQ(fsync(fd), 0);
	close(fd);

	memset(self->buf, 0, CHUNK);
	ASSERT_EQ(pread(self->backing, self->buf, CHUNK, off), (ssize_t)CHUNK);
	EXPECT_EQ(mismatch(self->buf, off, CHUNK, 2), -1);
	expect_no_pins_held(_metadata, &self->before);
}

TEST_HARNESS_MAIN
