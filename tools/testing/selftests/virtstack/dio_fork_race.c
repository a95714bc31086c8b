// SPDX-License-Identifier: GPL-2.0
/*
 * dio_fork_race: fork() while an O_DIRECT read into an anonymous buffer is
 * in flight must not take the read's data away from the parent.
 *
 * A thread reads the file into the first half of each page of a private
 * anonymous buffer with O_DIRECT while the main thread forks and then
 * writes into the second half of each page. If the filesystem took plain
 * references on the buffer (FOLL_GET), fork() shares the pages with the
 * child copy-on-write, the parent's write moves it to a copy, and the data
 * the read delivers afterwards lands in the page the child got: the
 * parent's buffer lacks it. If the pages are pinned (FOLL_PIN), fork()
 * gives the child copies of the pinned pages up front and the parent keeps
 * the pages the read fills. Every page of every round must hold the file's
 * data.
 *
 * Unpatched 6.12 takes references for NFS direct I/O: the nfs variants
 * lose data there. 9p direct I/O goes through netfs, and FUSE's (bindfs
 * with -o direct_io) through fuse_get_user_pages(), which pin already.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"

#define NR_PAGES	64
#define ROUNDS		60

static unsigned char pattern(unsigned long off)
{
	return (unsigned char)(off * 7 + (off >> 11) + 1);
}

struct reader {
	int fd;
	struct iovec iov[NR_PAGES];
	size_t half;
	atomic_int go;
	ssize_t ret;
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->go))
		;
	r->ret = preadv(r->fd, r->iov, NR_PAGES, 0);
	return NULL;
}

/* Busy-waits @ns nanoseconds: long enough for the read to pin its pages. */
static void spin_ns(long ns)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

FIXTURE(fork_race)
{
	int fd;
	size_t page;
	unsigned char *buf;
	char path[4096];
};

FIXTURE_VARIANT(fork_race)
{
	const char *env;
};

FIXTURE_VARIANT_ADD(fork_race, nfs)
{
	.env = "VIRTSTACK_NFS",
};

FIXTURE_VARIANT_ADD(fork_race, nfs_localio)
{
	.env = "VIRTSTACK_NFS_LOCALIO",
};

FIXTURE_VARIANT_ADD(fork_race, virtio_9p)
{
	.env = "VIRTSTACK_9P",
};

FIXTURE_VARIANT_ADD(fork_race, bindfs)
{
	.env = "VIRTSTACK_BINDFS",
};

/* Writes the file's data; 0, or -1 with errno set. */
static int write_data(const char *path, size_t len)
{
	unsigned char *data = malloc(len);
	int fd, ret = -1;
	size_t i;

	if (!data)
		return -1;
	for (i = 0; i < len; i++)
		data[i] = pattern(i);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		ssize_t n = pwrite(fd, data, len, 0);

		if (n == (ssize_t)len)
			ret = fsync(fd);
		else if (n >= 0)
			errno = EIO;	/* short */
		close(fd);
	}
	free(data);
	return ret;
}

FIXTURE_SETUP(fork_race)
{
	const char *dir = getenv(variant->env);
	int ret, err;

	self->fd = -1;
	self->buf = MAP_FAILED;
	if (!dir || access(dir, W_OK))
		SKIP(return, "%s unset or not a writable directory: %s", variant->env,
		     "no such mount (run under the virtstack guest or set it)");
	self->page = getpagesize();

	snprintf(self->path, sizeof(self->path), "%s/dio_fork_race.dat", dir);
	ret = write_data(self->path, NR_PAGES * self->page / 2);
	err = errno;
	if (ret)
		unlink(self->path);
	ASSERT_EQ(ret, 0) TH_LOG("write %s: %s", self->path, strerror(err));
	self->fd = open(self->path, O_RDONLY | O_DIRECT);
	err = errno;
	if (self->fd < 0)
		unlink(self->path);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s with O_DIRECT: %s", self->path, strerror(err));
	self->buf = mmap(NULL, NR_PAGES * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED) {
		close(self->fd);
		unlink(self->path);
	}
	ASSERT_NE(self->buf, MAP_FAILED);
}

FIXTURE_TEARDOWN(fork_race)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, NR_PAGES * self->page);
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
}

/* Pages of the buffer whose first half lacks the file's data. */
static int lost_pages(unsigned char *buf, size_t page)
{
	size_t half = page / 2, i, k;
	int lost = 0;

	for (i = 0; i < NR_PAGES; i++)
		for (k = 0; k < half; k++)
			if (buf[i * page + k] != pattern(i * half + k)) {
				lost++;
				break;
			}
	return lost;
}

TEST_F(fork_race, parent_keeps_read_data)
{
	size_t half = self->page / 2;
	int round, lost = 0, bad_rounds = 0;

	for (round = 0; round < ROUNDS; round++) {
		struct reader r = { .fd = self->fd, .half = half };
		pthread_t thread;
		pid_t child;
		size_t i;
		int status;

		/* Fresh, written (not zero-page) anonymous pages each round. */
		memset(self->buf, 0, NR_PAGES * self->page);
		for (i = 0; i < NR_PAGES; i++) {
			r.iov[i].iov_base = self->buf + i * self->page;
			r.iov[i].iov_len = half;
		}
		ASSERT_EQ(pthread_create(&thread, NULL, read_thread, &r), 0);
		atomic_store(&r.go, 1);
		/* Vary the moment of the fork across the read's lifetime. */
		spin_ns((round % 12) * 25000L);

		child = fork();
		ASSERT_GE(child, 0);
		if (!child)
			_exit(0);
		/* The parent writes every page: with FOLL_GET this moves it to a copy. */
		for (i = 0; i < NR_PAGES; i++)
			self->buf[i * self->page + half + 1] = 0xff;

		ASSERT_EQ(wait_child(child, &status, 10), 0)
			TH_LOG("the child of round %d did not exit within 10 s", round);
		ASSERT_EQ(pthread_join(thread, NULL), 0);
		ASSERT_EQ(r.ret, (ssize_t)(NR_PAGES * half)) TH_LOG("preadv: %m");
		i = lost_pages(self->buf, self->page);
		if (i) {
			lost += i;
			bad_rounds++;
		}
	}
	EXPECT_EQ(lost, 0)
		TH_LOG("%d pages in %d of %d rounds lost their read data to the child",
		       lost, bad_rounds, ROUNDS);
}

TEST_HARNESS_MAIN
