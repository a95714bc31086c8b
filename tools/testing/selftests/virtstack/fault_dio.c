// SPDX-License-Identifier: GPL-2.0
/*
 * fault_dio: O_DIRECT I/O while the test's own slab and page allocations
 * fail at random (failslab and fail_page_alloc, filtered to this task with
 * /proc/self/make-it-fail). This is how the failure branches of the direct
 * I/O paths run: an nfs_page that cannot be allocated part way through a
 * chunk, a page array that cannot be allocated, a netfs request that
 * cannot be created, a FUSE request of a direct read or write (bindfs with
 * -o direct_io). The _aio variants of NFS, LOCALIO and bindfs read with
 * io_submit(), as the 9p one below does. Each call must complete, in full or in part, or fail
 * with an error (or, as upstream does today, return 0); no pin may be left
 * behind (a leak or a double unpin shows in the counters, and the harness
 * fails on any splat); and once the faults stop, the file must read back
 * what was last written.
 *
 * The virtio_9p_loose variants mount the second 9p export (vshare2) with
 * cache=loose, where buffered I/O waits for direct I/O to drain
 * (netfs_block_o_direct()), and end with a buffered read that must not
 * block: a direct read that ends its DIO twice (a first subrequest that
 * cannot be allocated, patch 1011) leaves i_dio_count at -1 and that read
 * sleeping. The _aio variant reads with io_submit(): an iocb completed
 * twice frees the aio_kiocb under io_submit() (a KASAN report; aio itself
 * posts one event only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "pins.h"

#define NR_PAGES	16
#define CALLS		200
#define FI		"/sys/kernel/debug"

static int put_once(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Writes @val to @path; retried, as opening it may be a failed allocation. */
static int put(const char *path, const char *val)
{
	int tries;

	for (tries = 0; tries < 100; tries++)
		if (!put_once(path, val))
			return 0;
	return -1;
}

/* Arms (or disarms) both fault injectors for tasks that opted in. */
static int faults(int on)
{
	static const char * const attrs[] = { "failslab", "fail_page_alloc" };
	char path[128];
	unsigned int i;
	int err = 0;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), FI "/%s/task-filter", attrs[i]);
		err |= put(path, "Y");
		snprintf(path, sizeof(path), FI "/%s/ignore-gfp-wait", attrs[i]);
		err |= put(path, "N");
		snprintf(path, sizeof(path), FI "/%s/verbose", attrs[i]);
		err |= put(path, "0");
		snprintf(path, sizeof(path), FI "/%s/times", attrs[i]);
		err |= put(path, on ? "-1" : "0");
		snprintf(path, sizeof(path), FI "/%s/probability", attrs[i]);
		err |= put(path, on ? (i ? "2" : "10") : "0");
	}
	snprintf(path, sizeof(path), FI "/fail_page_alloc/min-order");
	err |= put(path, "0");
	return err;
}

#define LOOSE		"/tmp/9p-loose"

FIXTURE(fault)
{
	int fd;
	size_t len;
	unsigned char *buf;
	char path[4096];
	aio_context_t aio;
	bool mounted;
};

FIXTURE_VARIANT(fault)
{
	const char *env;
	const char *tag;	/* mount this 9p tag at LOOSE, cache=loose */
	bool aio;		/* reads through io_submit() */
};

FIXTURE_VARIANT_ADD(fault, nfs)
{
	.env = "VIRTSTACK_NFS",
};

FIXTURE_VARIANT_ADD(fault, nfs_localio)
{
	.env = "VIRTSTACK_NFS_LOCALIO",
};

FIXTURE_VARIANT_ADD(fault, nfs_aio)
{
	.env = "VIRTSTACK_NFS",
	.aio = true,
};

FIXTURE_VARIANT_ADD(fault, nfs_localio_aio)
{
	.env = "VIRTSTACK_NFS_LOCALIO",
	.aio = true,
};

FIXTURE_VARIANT_ADD(fault, virtio_9p)
{
	.env = "VIRTSTACK_9P",
};

FIXTURE_VARIANT_ADD(fault, bindfs)
{
	.env = "VIRTSTACK_BINDFS",
};

FIXTURE_VARIANT_ADD(fault, bindfs_aio)
{
	.env = "VIRTSTACK_BINDFS",
	.aio = true,
};

FIXTURE_VARIANT_ADD(fault, virtio_9p_loose)
{
	.env = "VIRTSTACK_9P",
	.tag = "vshare2",
};

FIXTURE_VARIANT_ADD(fault, virtio_9p_loose_aio)
{
	.env = "VIRTSTACK_9P",
	.tag = "vshare2",
	.aio = true,
};

/* One read through io_submit(): its result as pread()'s. */
static ssize_t aio_pread(aio_context_t ctx, int fd, void *buf, size_t len)
{
	struct iocb cb = {
		.aio_fildes = fd,
		.aio_lio_opcode = IOCB_CMD_PREAD,
		.aio_buf = (unsigned long)buf,
		.aio_nbytes = len,
	};
	struct iocb *cbs[1] = { &cb };
	struct timespec wait = { .tv_sec = 10 };
	struct io_event ev[1];
	long n;

	n = syscall(__NR_io_submit, ctx, 1, cbs);
	if (n != 1)
		return -1;
	n = syscall(__NR_io_getevents, ctx, 1, 1, ev, &wait);
	if (n != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	if ((long long)ev[0].res < 0) {
		errno = -(long long)ev[0].res;
		return -1;
	}
	return ev[0].res;
}

/*
 * A buffered read of @path in a child that SIGALRM ends after 10 s: 0 if
 * it returned, -1 if it blocked. The child is killed, and not waited for
 * long, if the alarm cannot end it (an uninterruptible sleep).
 */
static int buffered_read_returns(const char *path, size_t len)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char *b = malloc(len);
		int fd = open(path, O_RDONLY);

		alarm(10);
		_exit(fd >= 0 && b && pread(fd, b, len, 0) >= 0 ? 0 : 1);
	}
	if (pid < 0 || wait_child(pid, &status, 12))
		return -1;
	return WIFEXITED(status) ? 0 : -1;
}

/* Undoes the setup; the harness runs no teardown after a failed setup. */
static void fault_undo(struct _test_data_fault *self)
{
	put("/proc/self/make-it-fail", "0");
	faults(0);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * self->len);
	self->buf = MAP_FAILED;
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
	self->fd = -1;
	if (self->aio)
		syscall(__NR_io_destroy, self->aio);
	self->aio = 0;
	if (self->mounted)
		umount(LOOSE);
	self->mounted = false;
}

FIXTURE_SETUP(fault)
{
	const char *dir = getenv(variant->env);
	const char *why = pins_unavailable();
	bool ok = false;
	int err;

	self->fd = -1;
	self->buf = MAP_FAILED;
	if (!virtstack_guest())
		SKIP(return, "injects slab and page allocation failures: " GUEST_ONLY);
	if (!dir || access(dir, W_OK))
		SKIP(return, "%s unset or not a writable directory: %s", variant->env,
		     "no such mount (run under the virtstack guest or set it)");
	if (why)
		SKIP(return, "%s", why);
	if (access(FI "/failslab/probability", W_OK) ||
	    access(FI "/fail_page_alloc/probability", W_OK) ||
	    access("/proc/self/make-it-fail", W_OK))
		SKIP(return, "no failslab or fail_page_alloc in " FI " (%s)",
		     "CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS");
	if (variant->tag) {
		mkdir(LOOSE, 0755);
		if (mount(variant->tag, LOOSE, "9p", 0,
			  "trans=virtio,version=9p2000.L,cache=loose,ignoreqv"))
			SKIP(return, "mount 9p tag %s at " LOOSE ": %m", variant->tag);
		self->mounted = true;
		dir = LOOSE;
	}
	self->len = NR_PAGES * getpagesize();
	snprintf(self->path, sizeof(self->path), "%s/fault_dio.dat", dir);
	if (variant->aio && syscall(__NR_io_setup, 4, &self->aio))
		goto out;
	self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (self->fd < 0)
		goto out;
	self->buf = mmap(NULL, 2 * self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED)
		goto out;
	/* Faulted in now: a fault injected into a page fault would kill us. */
	memset(self->buf, 0x77, 2 * self->len);
	ok = pwrite(self->fd, self->buf, self->len, 0) == (ssize_t)self->len;
out:
	err = errno;
	if (!ok)
		fault_undo(self);
	ASSERT_TRUE(ok) TH_LOG("io_setup, open %s, mmap or write: %s", self->path,
			       strerror(err));
}

FIXTURE_TEARDOWN(fault)
{
	fault_undo(self);
}

TEST_F(fault, errors_surface_and_nothing_leaks)
{
	int ok = 0, failed = 0, short_io = 0, eof = 0, call, bad_errno = 0, last_errno = 0;
	unsigned char *check = self->buf + self->len;
	struct pins before;
	ssize_t n;

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(faults(1), 0) TH_LOG("could not arm failslab/fail_page_alloc");
	ASSERT_EQ(put("/proc/self/make-it-fail", "1"), 0);
	for (call = 0; call < CALLS; call++) {
		self->buf[0] = (unsigned char)call;
		if ((call & 1) && variant->aio)
			n = aio_pread(self->aio, self->fd, check, self->len);
		else if (call & 1)
			n = pread(self->fd, check, self->len, 0);
		else
			n = pwrite(self->fd, self->buf, self->len, 0);
		if (n == (ssize_t)self->len) {
			ok++;
		} else if (n == 0) {
			eof++;
		} else if (n < 0) {
			failed++;
			if (errno != ENOMEM && errno != EIO && errno != EFAULT &&
			    errno != EAGAIN && errno != EINTR) {
				bad_errno++;
				last_errno = errno;
			}
		} else {
			short_io++;
		}
	}
	ASSERT_EQ(put("/proc/self/make-it-fail", "0"), 0);
	ASSERT_EQ(faults(0), 0);

	TH_LOG("%d calls complete, %d failed, %d short, %d at 0", ok, failed, short_io, eof);
	EXPECT_GT(failed + short_io + eof, 0) TH_LOG("no injected fault reached the I/O path");
	/*
	 * Some calls return 0 where an error is due, on NFS and on 9p alike,
	 * with and without the stack: upstream's error reporting of direct
	 * I/O under allocation failure, outside this series. Counted and
	 * shown, not failed (Documentation/virtstack/pinning.rst).
	 */
	EXPECT_EQ(bad_errno, 0) TH_LOG("unexpected errno %d", last_errno);
	EXPECT_EQ(pins_outstanding(&before), 0) TH_LOG("pins left behind by failed calls");
	if (variant->tag)
		EXPECT_EQ(buffered_read_returns(self->path, self->len), 0)
			TH_LOG("a buffered read blocked after the faults: i_dio_count unbalanced");

	/* No lasting damage: a clean round trip. */
	memset(self->buf, 0x5e, self->len);
	ASSERT_EQ(pwrite(self->fd, self->buf, self->len, 0), (ssize_t)self->len)
		TH_LOG("a write after the faults: %m");
	memset(check, 0, self->len);
	ASSERT_EQ(pread(self->fd, check, self->len, 0), (ssize_t)self->len)
		TH_LOG("a read after the faults: %m");
	EXPECT_EQ(memcmp(self->buf, check, self->len), 0);
	EXPECT_EQ(pins_outstanding(&before), 0);
}

TEST_HARNESS_MAIN
