// SPDX-License-Identifier: GPL-2.0
/*
 * vhost: tools/virtio's programs, built from the stack's tree, against the
 * guest kernel's vhost. There is no nested guest: the programs are the
 * guest driver, in user space.
 *
 * - virtio_test --log drives vhost_test.ko with dirty logging on: every
 *   round must signal the log eventfd once per used-ring write and leave
 *   exactly the pages of the used entries, used->idx and the notification
 *   field in the bitmap.
 * - vhost_net_test --iotlb-storm --busyloop runs vhost-net over a tap
 *   device with a device IOTLB that a thread unmaps and maps again while
 *   traffic runs, and busy polling on both virtqueues: the paths whose
 *   locking the 2019 fixes changed (mutex_trylock() in busy polling, the
 *   virtqueue mutexes around IOTLB updates). Every buffer must come back;
 *   a lockdep or KASAN report fails the run through the guest log check.
 *
 *
 * Each test runs twice: with vhost.batch_uaccess=0 (every ring access a
 * uaccess section of its own, as in 6.12) and =1 (the stack's batched
 * sections). On a tree without the stack there are no such programs or
 * parameter: the tests skip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "files.h"

#define BIN	"/virtstack/bin/"
#define BATCH	"/sys/module/vhost/parameters/batch_uaccess"

FIXTURE(vhost) {
	char saved[8];
};

FIXTURE_VARIANT(vhost) {
	const char *batch_uaccess;
};

FIXTURE_VARIANT_ADD(vhost, uaccess) {
	.batch_uaccess = "N",
};

FIXTURE_VARIANT_ADD(vhost, batched) {
	.batch_uaccess = "Y",
};

FIXTURE_SETUP(vhost)
{
	/* Loaded with the other modules, but not in a virtstack.only= boot. */
	if (access("/dev/vhost-test", F_OK) && system("modprobe vhost_test"))
		TH_LOG("modprobe vhost_test failed");
	if (read_str(BATCH, self->saved, sizeof(self->saved)))
		SKIP(return, BATCH ": %s (a tree without the stack)", strerror(errno));
	ASSERT_EQ(0, write_str(BATCH, variant->batch_uaccess));
}

FIXTURE_TEARDOWN(vhost)
{
	if (self->saved[0])
		EXPECT_EQ(0, write_str(BATCH, self->saved));
}

/* Runs BIN/argv[0] with argv; its exit status, or -1 if it died or could not run. */
static int run(struct __test_metadata *_metadata, const char *dev, char *const argv[])
{
	char path[64];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), BIN "%s", argv[0]);
	if (access(path, X_OK))
		SKIP(return 0, "%s missing: a tree without the stack's tools/virtio", path);
	if (access(dev, R_OK | W_OK))
		SKIP(return 0, "%s: %s", dev, strerror(errno));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execv(path, argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFSIGNALED(status))
		TH_LOG("%s killed by signal %d", argv[0], WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* virtio_test ARGS, on a used ring that spans three log pages. */
static int virtio_test(struct __test_metadata *_metadata, const char *a, const char *b,
		       const char *c)
{
	char *const argv[] = { "virtio_test", "--ring-size=1024", (char *)a, (char *)b,
			       (char *)c, NULL };

	return run(_metadata, "/dev/vhost-test", argv);
}

/* virtstack.stress=N on the guest's command line, or 1 */
static int stress(void)
{
	const char *s = getenv("VIRTSTACK_STRESS");

	return s && atoi(s) > 0 ? atoi(s) : 1;
}

/*
 * vhost_net_test ARGS; a lost buffer fails it after five minutes (per
 * stress), within the test's own harness timeout.
 */
static int vhost_net_test(struct __test_metadata *_metadata, const char *a, const char *b,
			  const char *c, const char *d)
{
	char timeout[32];
	char *const argv[] = { "vhost_net_test", timeout, (char *)a, (char *)b, (char *)c,
			       (char *)d, NULL };

	snprintf(timeout, sizeof(timeout), "--timeout=%d", 300 * stress());
	return run(_metadata, "/dev/vhost-net", argv);
}

/* Entry 511 of the used ring straddles two log pages. */
TEST_F(vhost, used_ring_log_batch_1)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--batch=1", "--log=1100", NULL));
}

TEST_F(vhost, used_ring_log_batch_16)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--batch=16", "--log=4096", NULL));
}

TEST_F(vhost, used_ring_log_batch_64)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--batch=64", "--log=8192", NULL));
}

TEST_F(vhost, used_ring_log_batch_random)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--batch=random", "--log=8192", NULL));
}

TEST_F(vhost, used_ring_log_no_event_idx)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--no-event-idx", "--batch=random", "--log=8192"));
}

/* The simulator's own test: random batches, resets of the backend. */
TEST_F(vhost, virtio_test_reset)
{
	EXPECT_EQ(0, virtio_test(_metadata, "--batch=random", "--reset=500", "--buf-num=20000"));
}

TEST_F_TIMEOUT(vhost, vhost_net_busyloop, 600)
{
	EXPECT_EQ(0, vhost_net_test(_metadata, "--busyloop=50", "--buf-num=2048", NULL, NULL));
}

TEST_F_TIMEOUT(vhost, vhost_net_iotlb, 600)
{
	EXPECT_EQ(0, vhost_net_test(_metadata, "--iotlb", "--buf-num=2048", NULL, NULL));
}

/*
 * The storm races IOTLB updates against the worker's translations;
 * virtstack.stress=N (VIRTSTACK_STRESS in the guest) runs it N times longer.
 */
TEST_F_TIMEOUT(vhost, vhost_net_iotlb_storm_busyloop, 7200)
{
	char bufs[32];

	snprintf(bufs, sizeof(bufs), "--buf-num=%d", 4096 * stress());
	EXPECT_EQ(0, vhost_net_test(_metadata, "--iotlb-storm", "--busyloop=50", bufs, NULL));
}

TEST_HARNESS_MAIN
