// SPDX-License-Identifier: GPL-2.0
/*
 * 9p_stale_size: a read through a 9p inode whose size is stale, because
 * the file shrank behind its back, must end at the server's end of file.
 * The host directory of $VIRTSTACK_9P is also exported under a second tag
 * (vshare2, boot.sh), so this test mounts it a second time, truncates the
 * file there, and reads through the first mount, which still has the old
 * size. Each variant reads a range: across the server's end of file
 * (whole, straddle, unaligned: the server returns data and then zero
 * bytes, a short read that made progress), or past it (past_eof: zero
 * bytes only), and read_pos reads with read() and checks the file
 * position. Each must return exactly the bytes the server has (never
 * -ENODATA: patch 1013) and, as upstream 4acb665cf4f3 (patch 1012) has
 * it, a short read that made progress is not retried: the netfs_sreq_ref
 * trace shows no "GET RESUBMIT". The share is mounted cache=none, where
 * every read, O_DIRECT or not, is an unbuffered netfs read. A variant with
 * .loose set reads through a cache=loose mount of vshare2 instead (the
 * buffered netfs paths); none is enabled: with them, the next test's
 * cache=loose direct writes on vshare2 (fault_dio) failed with EIO after
 * fault injection in two full guest runs out of two.
 * On 6.12 without either, the server's
 * zero-byte reply past the real end counts as a short read that made
 * progress, netfs retries it, and the retries recurse until the kernel
 * stack overflows; the harness found it when the guest read a file the
 * host had replaced with a shorter one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"

#define SECOND		"/tmp/9p-second"
#define NAME		"stale-size"
#define OLD_SIZE	(64 * 1024)
#define NEW_SIZE	(20 * 1024)

FIXTURE(stale)
{
	char path[256], second[256];
	char *buf;
	int fd;
	bool mounted;
};

FIXTURE_VARIANT(stale)
{
	int flags;
	long off;	/* where the read starts */
	long len;	/* how much it asks for */
	bool use_read;	/* lseek() + read(), then check the file position */
	bool loose;	/* read through a cache=loose mount (buffered netfs) */
};

FIXTURE_VARIANT_ADD(stale, whole)
{
	.flags = 0,
	.len = OLD_SIZE,
};

FIXTURE_VARIANT_ADD(stale, direct)
{
	.flags = O_DIRECT,
	.len = OLD_SIZE,
};

FIXTURE_VARIANT_ADD(stale, straddle)
{
	.flags = O_DIRECT,
	.off = NEW_SIZE - 4096,
	.len = 16384,
};

FIXTURE_VARIANT_ADD(stale, unaligned)
{
	.flags = 0,
	.off = NEW_SIZE - 100,
	.len = 1000,
};

FIXTURE_VARIANT_ADD(stale, past_eof)
{
	.flags = O_DIRECT,
	.off = NEW_SIZE + 8192,
	.len = 4096,
};

FIXTURE_VARIANT_ADD(stale, read_pos)
{
	.flags = O_DIRECT,
	.off = NEW_SIZE - 4096,
	.len = 16384,
	.use_read = true,
};

/* Undoes the setup; the harness runs no teardown after a failed setup. */
static void stale_undo(struct _test_data_stale *self)
{
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	if (self->path[0])
		unlink(self->path);
	if (self->mounted)
		umount(SECOND);
	self->mounted = false;
	free(self->buf);
	self->buf = NULL;
}

FIXTURE_SETUP(stale)
{
	const char *dir = getenv("VIRTSTACK_9P");
	const char *opts = variant->loose ?
		"trans=virtio,version=9p2000.L,cache=loose" :
		"trans=virtio,version=9p2000.L";
	struct stat st;
	int fd, ret, err;
	long size;

	self->fd = -1;
	if (!dir)
		SKIP(return, "VIRTSTACK_9P unset: %s",
		     "no 9p mount (run under the virtstack guest or set it)");
	if (geteuid())
		SKIP(return, "not root: the test mounts the second 9p share (vshare2)");
	if (access(TRACING "events/netfs/netfs_sreq_ref/enable", W_OK))
		SKIP(return, "no " TRACING "events/netfs/netfs_sreq_ref: %s",
		     "the retry check needs tracefs (debugfs mounted) and the netfs tracepoints");
	snprintf(self->path, sizeof(self->path), "%s/" NAME, dir);
	snprintf(self->second, sizeof(self->second), SECOND "/" NAME);
	ASSERT_EQ(posix_memalign((void **)&self->buf, 4096, OLD_SIZE), 0);

	mkdir(SECOND, 0755);
	umount(SECOND);
	ret = mount("vshare2", SECOND, "9p", 0, opts);
	err = errno;
	if (ret)
		stale_undo(self);
	if (missing_outside_guest(!ret))
		SKIP(return, "mount 9p tag vshare2 at " SECOND ": %s (%s)", strerror(err),
		     "the virtstack guest's second share, boot.sh adds it");
	ASSERT_EQ(ret, 0) TH_LOG("mount 9p tag vshare2 at " SECOND ": %s", strerror(err));
	self->mounted = true;

	fd = open(self->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		stale_undo(self);
	ASSERT_GE(fd, 0) TH_LOG("create %s: %s", self->path, strerror(errno));
	memset(self->buf, 'x', OLD_SIZE);
	ret = write(fd, self->buf, OLD_SIZE);
	close(fd);
	if (ret != OLD_SIZE)
		stale_undo(self);
	ASSERT_EQ(ret, OLD_SIZE);

	/* Read through one mount; the same file, seen through the other, shrinks. */
	self->fd = open(variant->loose ? self->second : self->path,
			O_RDONLY | variant->flags);
	err = errno;
	if (self->fd < 0)
		stale_undo(self);
	ASSERT_GE(self->fd, 0) TH_LOG("open: %s", strerror(err));
	size = fstat(self->fd, &st) ? -1 : (long)st.st_size;
	if (size != OLD_SIZE)
		stale_undo(self);
	ASSERT_EQ(size, OLD_SIZE);
	ret = truncate(variant->loose ? self->path : self->second, NEW_SIZE);
	err = errno;
	if (ret)
		stale_undo(self);
	ASSERT_EQ(ret, 0) TH_LOG("truncate: %s", strerror(err));
}

FIXTURE_TEARDOWN(stale)
{
	write_str(TRACING "events/netfs/netfs_sreq_ref/enable", "0");
	stale_undo(self);
}

/* Lines of the netfs_sreq_ref trace that resubmit a subrequest; -1: no trace. */
static int resubmits(void)
{
	return trace_count("netfs_sreq_ref:", "GET RESUBMIT");
}

TEST_F(stale, read_ends_at_the_servers_eof)
{
	long want = NEW_SIZE - variant->off;
	long stale = OLD_SIZE - variant->off;
	ssize_t n;
	long i;

	if (want > variant->len)
		want = variant->len;
	if (want < 0)
		want = 0;
	if (stale > variant->len)
		stale = variant->len;
	ASSERT_EQ(write_str(TRACING "events/netfs/netfs_sreq_ref/enable", "1"), 0)
		TH_LOG("enable the netfs_sreq_ref trace event: %s", strerror(errno));
	ASSERT_EQ(write_str(TRACING "trace", ""), 0);
	if (variant->use_read) {
		ASSERT_EQ(lseek(self->fd, variant->off, SEEK_SET), variant->off);
		n = read(self->fd, self->buf, variant->len);
	} else {
		n = pread(self->fd, self->buf, variant->len, variant->off);
	}
	/* cache=loose trusts the size it has: zeroes up to it are allowed. */
	i = n;
	if (variant->loose && n == stale && n > want) {
		for (i = want; i < n; i++)
			if (self->buf[i])
				break;
	}
	ASSERT_EQ(n == want || (variant->loose && n == stale && i == n), 1)
		TH_LOG("read %ld bytes at %ld: %zd (%s), want %ld%s", variant->len,
		       variant->off, n, n < 0 ? strerror(errno) : "bytes", want,
		       variant->loose ?
		       " (or the stale length, zeroes past the server's end)" : "");
	for (i = 0; i < want; i++)
		if (self->buf[i] != 'x')
			break;
	EXPECT_EQ(i, want) TH_LOG("byte %ld of the read is not the file's", i);
	if (variant->use_read) {
		EXPECT_EQ(lseek(self->fd, 0, SEEK_CUR), variant->off + want)
			TH_LOG("the file position did not advance by the bytes read");
		EXPECT_EQ(read(self->fd, self->buf, 4096), 0);
	}
	/* And nothing past the end (cache=loose: nothing but zeroes). */
	n = pread(self->fd, self->buf, 4096, NEW_SIZE);
	for (i = 0; i < n; i++)
		if (self->buf[i])
			break;
	EXPECT_EQ(n == 0 || (variant->loose && n > 0 && i == n), 1)
		TH_LOG("a read at the server's end of file: %zd (%s)", n,
		       n < 0 ? strerror(errno) : "bytes");
	EXPECT_EQ(resubmits(), 0)
		TH_LOG("a short read that made progress was retried");
}

TEST_HARNESS_MAIN
