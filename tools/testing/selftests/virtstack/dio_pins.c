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
 * sunrpc and through LOCALIO), VIRTSTACK_BINDFS (Debian's bindfs with
 * -o direct_io, a libfuse server). Unpatched 6.12 takes references for
 * NFS, so the NFS variants fail there. On bindfs the server's buffer is
 * pinned too, while the kernel copies the request into it or the reply
 * out of it (patch 1009): there, at least one pin per page of the call,
 * and every pin released.
 *
 * read_dirties_thp reads into a transparent huge page whose dirty flag
 * MADV_FREE cleared: the read must mark the folio dirty again
 * (KPF_DIRTY in /proc/kpageflags), or reclaim may free the data as a
 * clean lazily-freed page. NFS skipped large folios until patch 1008.
 *
 * read_into_shared_map_racing_truncate reads into a MAP_SHARED mapping of
 * a file of the same backend (of /tmp for the disk) while a thread
 * truncates that file to nothing and back: the read pins the mapping's
 * page-cache folios and dirties them when it completes, which must happen
 * under the folio lock (patch 1008) or ->dirty_folio races the truncate.
 * Each read returns the length, a short count or EFAULT; the pins balance
 * and the debug kernel reports nothing (the harness fails on any splat).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "pins.h"

#define NR_PAGES	16

FIXTURE(dio)
{
	int fd;
	size_t len;
	unsigned char *buf;
	unsigned char *check;
	char path[4096];	/* the file the test created, or "" */
	char map_path[4096];	/* read_into_shared_map_racing_truncate's file */
};

FIXTURE_VARIANT(dio)
{
	const char *env;	/* names the device or directory */
	const char *file;	/* created in that directory; NULL: use the device */
	bool server;		/* a FUSE server's buffer is pinned as well */
};

/* A scratch disk: the test overwrites its first NR_PAGES pages. */
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

FIXTURE_VARIANT_ADD(dio, bindfs)
{
	.env = "VIRTSTACK_BINDFS",
	.file = "dio_pins.img",
	.server = true,
};

FIXTURE_SETUP(dio)
{
	const char *where = getenv(variant->env);
	const char *why = pins_unavailable();
	char path[4096];
	bool ok;
	int err;

	self->fd = -1;
	self->buf = MAP_FAILED;
	if (why)
		SKIP(return, "%s", why);
	if (!where || access(where, F_OK))
		SKIP(return, "%s unset or not an existing path: %s", variant->env,
		     "no such device or mount (run under the virtstack guest or set it)");
	if (variant->file)
		snprintf(path, sizeof(path), "%s/%s", where, variant->file);
	else
		snprintf(path, sizeof(path), "%s", where);

	self->len = NR_PAGES * getpagesize();
	self->fd = open(path, O_RDWR | O_DIRECT | (variant->file ? O_CREAT : 0), 0600);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s with O_DIRECT: %m", path);
	if (variant->file)
		snprintf(self->path, sizeof(self->path), "%s", path);
	self->buf = mmap(NULL, 2 * self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok = self->buf != MAP_FAILED;
	if (ok) {
		self->check = self->buf + self->len;
		/* Fault every page in: a pin of the zero page would not be counted. */
		memset(self->buf, 0x5a, 2 * self->len);
		if (variant->file)
			ok = pwrite(self->fd, self->buf, self->len, 0) == (ssize_t)self->len;
	}
	err = errno;
	if (!ok) {
		/* The harness runs no teardown after a failed setup. */
		close(self->fd);
		if (self->path[0])
			unlink(self->path);
	}
	ASSERT_TRUE(ok) TH_LOG("map the buffers or write %s: %s", path, strerror(err));
}

FIXTURE_TEARDOWN(dio)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->len);
	if (self->fd >= 0)
		close(self->fd);
	if (self->path[0])
		unlink(self->path);
	if (self->map_path[0])
		unlink(self->map_path);
}

static void expect_pins(struct __test_metadata *_metadata, bool server,
			const struct pins *before, long pages)
{
	struct pins after;
	long acquired;

	ASSERT_EQ(read_pins(&after), 0);
	acquired = after.acquired - before->acquired;
	if (server) {
		EXPECT_GE(acquired, pages + 1)
			TH_LOG("pages pinned by one O_DIRECT call of %ld pages and its FUSE server",
			       pages);
	} else {
		EXPECT_EQ(acquired, pages)
			TH_LOG("pages pinned by one O_DIRECT call of %ld pages", pages);
	}
	EXPECT_EQ(after.released - before->released, acquired)
		TH_LOG("pages unpinned once the call returned");
}

TEST_F(dio, read_pins_each_page)
{
	struct pins before;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pread(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	expect_pins(_metadata, variant->server, &before, NR_PAGES);
}

TEST_F(dio, write_pins_each_page)
{
	struct pins before;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len);
	expect_pins(_metadata, variant->server, &before, NR_PAGES);
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

#define KPF_DIRTY	4
#define KPF_THP		22
#define THP_SIZE	(2UL << 20)

/* The /proc/kpageflags word of the page mapped at @addr; -1 if unknown. */
static int64_t page_flags(void *addr)
{
	uint64_t pm, flags;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &pm, sizeof(pm), (uintptr_t)addr / getpagesize() * sizeof(pm));
	close(fd);
	/* Present, with a PFN (root only). */
	if (n != sizeof(pm) || !(pm & (1ULL << 63)) || !(pm & ((1ULL << 55) - 1)))
		return -1;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, &flags, sizeof(flags), (pm & ((1ULL << 55) - 1)) * sizeof(flags));
	close(fd);
	return n == sizeof(flags) ? (int64_t)flags : -1;
}

TEST_F(dio, read_dirties_thp)
{
	unsigned char *map, *thp;
	int64_t flags;

	map = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(map, MAP_FAILED);
	thp = (unsigned char *)(((uintptr_t)map + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (madvise(thp, THP_SIZE, MADV_HUGEPAGE)) {
		munmap(map, 2 * THP_SIZE);
		SKIP(return, "MADV_HUGEPAGE: %m (no THP in this kernel)");
	}
	memset(thp, 0x33, THP_SIZE);
	flags = page_flags(thp);
	if (flags < 0 || !(flags & (1LL << KPF_THP))) {
		munmap(map, 2 * THP_SIZE);
		SKIP(return, "no transparent huge page behind the buffer (flags %#llx): %s",
		     (long long)flags, "THP disabled, or no huge page free");
	}
	/* MADV_FREE of a whole huge page clears the folio's dirty flag. */
	ASSERT_EQ(madvise(thp, THP_SIZE, MADV_FREE), 0);
	flags = page_flags(thp);
	ASSERT_GE(flags, 0) TH_LOG("the huge page went away after MADV_FREE");
	ASSERT_TRUE(flags & (1LL << KPF_THP));
	ASSERT_FALSE(flags & (1LL << KPF_DIRTY)) TH_LOG("MADV_FREE left the folio dirty");

	ASSERT_EQ(pread(self->fd, thp, self->len, 0), (ssize_t)self->len);
	flags = page_flags(thp);
	ASSERT_GE(flags, 0) TH_LOG("the huge page went away during the read");
	EXPECT_TRUE(flags & (1LL << KPF_THP));
	EXPECT_TRUE(flags & (1LL << KPF_DIRTY))
		TH_LOG("a direct read into a huge page left the folio clean (flags %#llx)",
		       (long long)flags);
	/* And it read what the file holds. */
	ASSERT_EQ(pread(self->fd, self->check, self->len, 0), (ssize_t)self->len);
	EXPECT_EQ(memcmp(thp, self->check, self->len), 0);
	munmap(map, 2 * THP_SIZE);
}

struct truncator {
	int fd;
	size_t len;
	atomic_int stop;
	int rounds;
};

static void *truncate_loop(void *arg)
{
	struct truncator *t = arg;

	while (!atomic_load(&t->stop)) {
		if (ftruncate(t->fd, 0) || ftruncate(t->fd, t->len))
			break;
		t->rounds++;
		/* Let some reads find the pages in place. */
		usleep(3000);
	}
	return NULL;
}

TEST_F(dio, read_into_shared_map_racing_truncate)
{
	const char *where = getenv(variant->env);
	struct truncator t = { .len = self->len };
	int full = 0, part = 0, efault = 0, i;
	char path[4096];
	struct pins before;
	pthread_t thread;
	void *map;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/dio_pins.map", variant->file ? where : "/tmp");
	t.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(t.fd, 0) TH_LOG("create %s: %m", path);
	snprintf(self->map_path, sizeof(self->map_path), "%s", path);
	ASSERT_EQ(ftruncate(t.fd, self->len), 0);
	map = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, t.fd, 0);
	if (map == MAP_FAILED && (errno == ENODEV || errno == EINVAL)) {
		close(t.fd);
		/*
		 * 9p without a cache, FUSE direct_io without
		 * FUSE_DIRECT_IO_ALLOW_MMAP (libfuse 2)
		 */
		SKIP(return, "a file of %s cannot be mapped shared", variant->env);
	}
	ASSERT_NE(map, MAP_FAILED) TH_LOG("mmap %s: %m", path);

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(pthread_create(&thread, NULL, truncate_loop, &t), 0);
	for (i = 0; i < 100; i++) {
		n = pread(self->fd, map, self->len, 0);
		if (n == (ssize_t)self->len)
			full++;
		else if (n >= 0)
			part++;
		else if (errno == EFAULT)
			efault++;
		else
			break;
	}
	atomic_store(&t.stop, 1);
	pthread_join(thread, NULL);
	EXPECT_EQ(i, 100) TH_LOG("read %d failed: %m", i);
	TH_LOG("%d full reads, %d short, %d EFAULT; %d truncations", full, part, efault,
	       t.rounds);
	EXPECT_EQ(pins_outstanding(&before), 0) TH_LOG("pins left behind");
	munmap(map, self->len);
	close(t.fd);
}

TEST_HARNESS_MAIN
