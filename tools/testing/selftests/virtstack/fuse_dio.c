// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_dio: direct I/O through FUSE, served by a small raw /dev/fuse
 * server of our own (no libfuse, so the server reads and writes /dev/fuse
 * with plain read() and writev(), never splice).
 *
 * The server (fuse_server.h) exports one file, "data", opened with
 * FOPEN_DIRECT_IO, backed by memory; READ replies can be delayed. Two copies of every payload are
 * made by the kernel: the client's buffer is pinned by fuse's direct I/O
 * (fs/fuse/file.c), and /dev/fuse copies the request into, or the reply out
 * of, the server's buffer (fs/fuse/dev.c). The latter is CPU access to user
 * memory behind the owner's back (pin_user_pages.rst, case 5): with the
 * stack it pins the server's pages too. Every case checks the data and
 * that all pins were released.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "fuse_server.h"
#include "pins.h"

#define FILE_SIZE	(1024UL * 1024)
#define MNT		"/tmp/fuse_dio"

static unsigned char pattern(unsigned long off, unsigned int seed)
{
	return (unsigned char)(off * 11 + (off >> 12) + seed);
}

/* The server's file, shared so that the client can check what it stored. */
static struct fuse_server srv = { .size = FILE_SIZE };

FIXTURE(fuse)
{
	pid_t server;
	int fd;		/* the client's open "data" */
	unsigned char *buf;
	size_t len;
	bool mounted;
};

FIXTURE_VARIANT(fuse)
{
	unsigned int read_delay_ms;
};

FIXTURE_VARIANT_ADD(fuse, immediate)
{
	.read_delay_ms = 0,
};

FIXTURE_VARIANT_ADD(fuse, delayed)
{
	.read_delay_ms = 20,
};

/*
 * Undoes the setup; the harness runs no teardown after a failed setup. The
 * server goes first: its end of /dev/fuse closed, the connection is
 * aborted and nothing of the client can wait for it any more.
 */
static void fuse_undo(struct _test_data_fuse *self)
{
	kill_child(&self->server);
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	if (self->mounted)
		umount2(MNT, MNT_DETACH);
	self->mounted = false;
	if (srv.data && srv.data != MAP_FAILED)
		munmap(srv.data, FILE_SIZE);
	srv.data = NULL;
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	self->buf = NULL;
}

FIXTURE_SETUP(fuse)
{
	const char *why = pins_unavailable();
	char opts[128];
	unsigned long i;
	int dev, ret, err;
	bool ok;

	self->server = 0;
	self->fd = -1;
	self->len = 16 * getpagesize();
	if (geteuid())
		SKIP(return, "not root: the test mounts a FUSE file system of its own");
	if (why)
		SKIP(return, "%s", why);
	dev = open("/dev/fuse", O_RDWR);
	if (dev < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO) &&
	    !load_module("fuse"))
		dev = open("/dev/fuse", O_RDWR);
	if (dev < 0)
		SKIP(return, "/dev/fuse: %m (CONFIG_FUSE_FS, module fuse)");

	srv.data = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (srv.data == MAP_FAILED)
		close(dev);
	ASSERT_NE(srv.data, MAP_FAILED);
	for (i = 0; i < FILE_SIZE; i++)
		srv.data[i] = pattern(i, 0);
	srv.read_delay_ms = variant->read_delay_ms;

	mkdir(MNT, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	ret = mount("virtstack", MNT, "fuse", 0, opts);
	err = errno;
	if (ret) {
		close(dev);
		fuse_undo(self);
	}
	ASSERT_EQ(ret, 0) TH_LOG("mount fuse: %s", strerror(err));
	self->mounted = true;

	self->server = fork();
	if (!self->server) {
		/* Dies with the test, whatever ends it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fuse_server_run(dev, &srv);
	}
	err = errno;
	close(dev);
	if (self->server < 0)
		fuse_undo(self);
	ASSERT_GT(self->server, 0) TH_LOG("fork: %s", strerror(err));

	self->fd = open(MNT "/data", O_RDWR);
	err = errno;
	if (self->fd < 0)
		fuse_undo(self);
	ASSERT_GE(self->fd, 0) TH_LOG("open " MNT "/data: %s", strerror(err));
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok = self->buf != MAP_FAILED;
	if (!ok)
		fuse_undo(self);
	ASSERT_TRUE(ok);
	memset(self->buf, 0, self->len);
}

FIXTURE_TEARDOWN(fuse)
{
	fuse_undo(self);
}

TEST_F(fuse, direct_read_data)
{
	unsigned long off = 3 * 4096 + 100;
	struct pins before;
	size_t i;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pread(self->fd, self->buf, self->len, off), (ssize_t)self->len);
	for (i = 0; i < self->len; i++)
		if (self->buf[i] != pattern(off + i, 0))
			break;
	EXPECT_EQ(i, self->len) TH_LOG("read data differs at byte %zu", i);
	EXPECT_EQ(pins_outstanding(&before), 0);
}

TEST_F(fuse, direct_write_reaches_server)
{
	unsigned long off = 65536;
	struct pins before;
	size_t i;

	for (i = 0; i < self->len; i++)
		self->buf[i] = pattern(off + i, 5);
	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, off), (ssize_t)self->len);
	EXPECT_EQ(memcmp(srv.data + off, self->buf, self->len), 0);
	EXPECT_EQ(pins_outstanding(&before), 0);

	memset(self->buf, 0, self->len);
	ASSERT_EQ(pread(self->fd, self->buf, self->len, off), (ssize_t)self->len);
	EXPECT_EQ(memcmp(srv.data + off, self->buf, self->len), 0);
}

/*
 * A write of 16 pages: the client's buffer is pinned (16 pins) and the
 * server's read() of the request copies the 16 pages of payload into its
 * buffer through /dev/fuse, which pins them too, one page at a time.
 */
TEST_F(fuse, dev_copy_pins_server_buffer)
{
	long pages = self->len / getpagesize();
	struct pins before, after;

	memset(self->buf, 0x3c, self->len);
	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	ASSERT_EQ(read_pins(&after), 0);
	EXPECT_GE(after.acquired - before.acquired, 2 * pages)
		TH_LOG("%ld pins for a %ld-page write: the server's buffer was not pinned",
		       after.acquired - before.acquired, pages);
	EXPECT_EQ(after.released - before.released, after.acquired - before.acquired);
}

TEST_HARNESS_MAIN
