// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_dio: direct I/O through FUSE, served by a small raw /dev/fuse
 * server of our own (no libfuse, so the server reads and writes /dev/fuse
 * with plain read() and writev(), never splice).
 *
 * The server exports one file, "data", opened with FOPEN_DIRECT_IO, backed
 * by memory; READ replies can be delayed. Two copies of every payload are
 * made by the kernel: the client's buffer is pinned by fuse's direct I/O
 * (fs/fuse/file.c), and /dev/fuse copies the request into, or the reply out
 * of, the server's buffer (fs/fuse/dev.c). The latter is CPU access to user
 * memory behind the owner's back (pin_user_pages.rst, case 5): with the
 * stack it pins the server's pages too. Every case checks the data and
 * that all pins were released.
 */
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pins.h"

#define FILE_SIZE	(1024UL * 1024)
#define MAX_WRITE	(128UL * 1024)
#define BUF_SIZE	(MAX_WRITE + 4096)
#define DATA_INO	2
#define MNT		"/tmp/fuse_dio"

static unsigned char pattern(unsigned long off, unsigned int seed)
{
	return (unsigned char)(off * 11 + (off >> 12) + seed);
}

/* The server's state: the file's bytes and the READ delay. */
static unsigned char *file_data;
static unsigned int read_delay_ms;

static void fill_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = 1;
	a->blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->size = FILE_SIZE;
		a->blocks = FILE_SIZE / 512;
	}
}

static int reply(int fd, uint64_t unique, int error, const void *arg, size_t len,
		 const void *data, size_t dlen)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + len + dlen,
		.error = error,
		.unique = unique,
	};
	struct iovec iov[3] = {
		{ &out, sizeof(out) },
		{ (void *)arg, len },
		{ (void *)data, dlen },
	};

	return writev(fd, iov, 3) == (ssize_t)out.len ? 0 : -1;
}

/* Serves requests until the file system is unmounted. */
static void serve(int fd)
{
	unsigned char *buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		_exit(1);
	for (;;) {
		struct fuse_in_header *in = (void *)buf;
		void *arg = buf + sizeof(*in);
		ssize_t n = read(fd, buf, BUF_SIZE);

		if (n < 0)
			_exit(0);	/* ENODEV: unmounted */
		if (n < (ssize_t)sizeof(*in))
			_exit(2);

		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = arg;
			struct fuse_init_out io = {
				.major = FUSE_KERNEL_VERSION,
				.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
					 ii->minor : FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_write = MAX_WRITE,
				.max_background = 16,
				.congestion_threshold = 12,
				.time_gran = 1,
			};
			reply(fd, in->unique, 0, &io, sizeof(io), NULL, 0);
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = { .nodeid = DATA_INO };

			if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, "data")) {
				reply(fd, in->unique, -ENOENT, NULL, 0, NULL, 0);
				break;
			}
			fill_attr(&e.attr, DATA_INO);
			reply(fd, in->unique, 0, &e, sizeof(e), NULL, 0);
			break;
		}
		case FUSE_GETATTR:
		case FUSE_SETATTR: {
			struct fuse_attr_out a = { 0 };

			fill_attr(&a.attr, in->nodeid);
			reply(fd, in->unique, 0, &a, sizeof(a), NULL, 0);
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1, .open_flags = FOPEN_DIRECT_IO };

			reply(fd, in->unique, 0, &o, sizeof(o), NULL, 0);
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *r = arg;
			size_t len = r->size;

			if (read_delay_ms) {
				struct timespec ts = { 0, read_delay_ms * 1000000L };

				nanosleep(&ts, NULL);
			}
			if (r->offset >= FILE_SIZE)
				len = 0;
			else if (r->offset + len > FILE_SIZE)
				len = FILE_SIZE - r->offset;
			reply(fd, in->unique, 0, NULL, 0, file_data + r->offset, len);
			break;
		}
		case FUSE_WRITE: {
			struct fuse_write_in *w = arg;
			struct fuse_write_out wo = { .size = w->size };

			if (w->offset + w->size > FILE_SIZE) {
				reply(fd, in->unique, -EFBIG, NULL, 0, NULL, 0);
				break;
			}
			memcpy(file_data + w->offset, (char *)(w + 1), w->size);
			reply(fd, in->unique, 0, &wo, sizeof(wo), NULL, 0);
			break;
		}
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_FSYNC:
			reply(fd, in->unique, 0, NULL, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_DESTROY:
			reply(fd, in->unique, 0, NULL, 0, NULL, 0);
			_exit(0);
		default:
			reply(fd, in->unique, -EOPNOTSUPP, NULL, 0, NULL, 0);
			break;
		}
	}
}

FIXTURE(fuse)
{
	pid_t server;
	int fd;		/* the client's open "data" */
	unsigned char *buf;
	size_t len;
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

FIXTURE_SETUP(fuse)
{
	char opts[128];
	unsigned long i;
	int dev;

	self->server = -1;
	self->fd = -1;
	self->len = 16 * getpagesize();
	dev = open("/dev/fuse", O_RDWR);
	ASSERT_GE(dev, 0) TH_LOG("/dev/fuse: %m (CONFIG_FUSE_FS?)");
	mkdir(MNT, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	ASSERT_EQ(mount("virtstack", MNT, "fuse", 0, opts), 0) TH_LOG("mount fuse: %m");

	/* Shared, so that the client can check what the server stored. */
	file_data = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(file_data, MAP_FAILED);
	for (i = 0; i < FILE_SIZE; i++)
		file_data[i] = pattern(i, 0);
	read_delay_ms = variant->read_delay_ms;

	self->server = fork();
	ASSERT_GE(self->server, 0);
	if (!self->server)
		serve(dev);
	close(dev);

	self->fd = open(MNT "/data", O_RDWR);
	ASSERT_GE(self->fd, 0) TH_LOG("open " MNT "/data: %m");
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->buf, MAP_FAILED);
	memset(self->buf, 0, self->len);
}

FIXTURE_TEARDOWN(fuse)
{
	if (self->fd >= 0)
		close(self->fd);
	umount2(MNT, MNT_DETACH);
	if (self->server > 0) {
		kill(self->server, SIGTERM);
		waitpid(self->server, NULL, 0);
	}
	if (file_data != MAP_FAILED)
		munmap(file_data, FILE_SIZE);
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
	EXPECT_EQ(memcmp(file_data + off, self->buf, self->len), 0);
	EXPECT_EQ(pins_outstanding(&before), 0);

	memset(self->buf, 0, self->len);
	ASSERT_EQ(pread(self->fd, self->buf, self->len, off), (ssize_t)self->len);
	EXPECT_EQ(memcmp(file_data + off, self->buf, self->len), 0);
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
