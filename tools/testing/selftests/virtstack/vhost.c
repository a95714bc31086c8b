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
 * - virtio_test --mm-stress changes the rings' mappings while the device
 *   runs (mprotect, MADV_DONTNEED, mmap over them, clear_refs, uffd-wp,
 *   KSM, page migration and NUMA balancing): every buffer must come back
 *   once, the used ring's pages must be soft-dirty again after vhost wrote
 *   them, and its writes must raise uffd-wp faults.
 *
 * Each test runs with vhost.batch_uaccess=0 (every ring access a uaccess
 * section of its own, as in 6.12) and =1 (the stack's batched sections).
 * A third variant, meta_accel=1 (the rings through kernel mappings),
 * runs only on a kernel with the experimental patches 4009-4010
 * (patches/experimental/), and skips elsewhere; there virtio_test, with
 * the experimental 4012, also checks that the kernel mappings were used
 * exactly when meta_accel was set, and the debugfs counters that its
 * --expect-meta names (passed only where meta_accel exists). On a tree
 * without the stack there are no such programs or parameters: the tests
 * skip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"

#define BIN	"/virtstack/bin/"
#define BATCH	"/sys/module/vhost/parameters/batch_uaccess"
#define KMAP	"/sys/module/vhost/parameters/meta_accel"

FIXTURE(vhost) {
	char saved[8];
	char saved_kmap[8];
	char saved_ksm[8];		/* KSM's run, "" if untouched */
	char saved_numa[8];		/* kernel.numa_balancing, "" if untouched */
	double t0;			/* when the test started */
};

FIXTURE_VARIANT(vhost) {
	const char *batch_uaccess;
	const char *meta_accel;
};

FIXTURE_VARIANT_ADD(vhost, uaccess) {
	.batch_uaccess = "N",
	.meta_accel = "N",
};

FIXTURE_VARIANT_ADD(vhost, batched) {
	.batch_uaccess = "Y",
	.meta_accel = "N",
};

FIXTURE_VARIANT_ADD(vhost, kmap) {
	.batch_uaccess = "Y",
	.meta_accel = "Y",
};

#define KSM_RUN		"/sys/kernel/mm/ksm/run"
#define NUMA		"/proc/sys/kernel/numa_balancing"

FIXTURE_SETUP(vhost)
{
	char batch[8], kmap[8] = "";
	int ret = 0, err;

	self->t0 = mono_now();
	if (geteuid())
		SKIP(return, "not root: the test sets vhost's module parameters");
	/* Loaded with the other modules, but not in a virtstack.only= boot. */
	if (access("/dev/vhost-test", F_OK) && load_module("vhost_test"))
		TH_LOG("modprobe vhost_test failed");
	/* Read first: a setup that skips gets no teardown. */
	if (missing_outside_stack(!read_str(BATCH, batch, sizeof(batch))))
		SKIP(return, "no %s: %s", BATCH,
		     "module vhost not loaded, or a kernel without the virtstack stack");
	ASSERT_EQ(read_str(BATCH, batch, sizeof(batch)), 0)
		TH_LOG("no %s on the stack's kernel", BATCH);
	/* meta_accel comes only with the experimental patches 4009-4010. */
	if (read_str(KMAP, kmap, sizeof(kmap)) && variant->meta_accel[0] == 'Y')
		SKIP(return, "no %s: the experimental kernel-mapping patches %s", KMAP,
		     "(patches/experimental/4009-4010) are not applied");
	memcpy(self->saved, batch, sizeof(batch));
	memcpy(self->saved_kmap, kmap, sizeof(kmap));
	ret = write_str(BATCH, variant->batch_uaccess);
	if (!ret && kmap[0])
		ret = write_str(KMAP, variant->meta_accel);
	err = errno;
	if (ret) {
		write_str(BATCH, batch);
		if (kmap[0])
			write_str(KMAP, kmap);
	}
	ASSERT_EQ(0, ret) TH_LOG("set batch_uaccess and meta_accel: %s", strerror(err));
}

FIXTURE_TEARDOWN(vhost)
{
	if (self->saved_ksm[0])
		EXPECT_EQ(0, write_str(KSM_RUN, self->saved_ksm));
	if (self->saved_numa[0])
		EXPECT_EQ(0, write_str(NUMA, self->saved_numa));
	if (self->saved[0])
		EXPECT_EQ(0, write_str(BATCH, self->saved));
	if (self->saved_kmap[0])
		EXPECT_EQ(0, write_str(KMAP, self->saved_kmap));
}

/*
 * Runs BIN/argv[0] with argv; its exit status, or -1 if it died or could
 * not run. It is killed a few seconds before the test's own timeout, so
 * that the teardown still runs and puts the parameters back.
 */
static int run(struct __test_metadata *_metadata, double t0, const char *dev,
	       char *const argv[])
{
	double left = _metadata->timeout - (mono_now() - t0) - 3;
	bool meta = !access(KMAP, F_OK);
	char *args[16];
	char path[64];
	int status, i, n = 0;
	pid_t pid;

	/* --expect-meta= comes with the experimental 4012, as meta_accel does. */
	for (i = 0; argv[i] && n < 15; i++)
		if (meta || strncmp(argv[i], "--expect-meta=", 14))
			args[n++] = argv[i];
	args[n] = NULL;

	snprintf(path, sizeof(path), BIN "%s", argv[0]);
	if (access(path, X_OK))
		SKIP(return 0, "%s missing: %s", path,
		     "the virtstack guest's tools/virtio build of the stack");
	if (access(dev, R_OK | W_OK))
		SKIP(return 0, "%s: %s", dev, strerror(errno));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execv(path, args);
		_exit(127);
	}
	if (wait_child(pid, &status, left > 1 ? left : 1)) {
		TH_LOG("%s still ran 3 s before the test's timeout (%d s): killed",
		       argv[0], _metadata->timeout);
		return -1;
	}
	if (WIFSIGNALED(status))
		TH_LOG("%s killed by signal %d", argv[0], WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* virtio_test ARGS, on a used ring that spans three log pages. */
static int virtio_test(struct __test_metadata *_metadata, struct _test_data_vhost *self,
		       const char *a, const char *b, const char *c)
{
	char *const argv[] = { "virtio_test", "--ring-size=1024", (char *)a, (char *)b,
			       (char *)c, NULL };

	return run(_metadata, self->t0, "/dev/vhost-test", argv);
}

/* virtio_test ARGS..., on a used ring of three pages. */
#define virtio_test_args(...)						\
	run(_metadata, self->t0, "/dev/vhost-test",			\
	    (char *const []){ "virtio_test", "--ring-size=1024", __VA_ARGS__, NULL })

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
static int vhost_net_test(struct __test_metadata *_metadata, struct _test_data_vhost *self,
			  const char *a, const char *b, const char *c, const char *d)
{
	char timeout[32];
	char *const argv[] = { "vhost_net_test", timeout, (char *)a, (char *)b, (char *)c,
			       (char *)d, NULL };

	snprintf(timeout, sizeof(timeout), "--timeout=%d", 300 * stress());
	return run(_metadata, self->t0, "/dev/vhost-net", argv);
}

/* Entry 511 of the used ring straddles two log pages. */
TEST_F(vhost, used_ring_log_batch_1)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--batch=1", "--log=1100", NULL));
}

TEST_F(vhost, used_ring_log_batch_16)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--batch=16", "--log=4096", NULL));
}

TEST_F(vhost, used_ring_log_batch_64)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--batch=64", "--log=8192", NULL));
}

TEST_F(vhost, used_ring_log_batch_random)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--batch=random", "--log=8192", NULL));
}

TEST_F(vhost, used_ring_log_no_event_idx)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--no-event-idx", "--batch=random",
				 "--log=8192"));
}

/* The simulator's own test: random batches, resets of the backend. */
TEST_F(vhost, virtio_test_reset)
{
	EXPECT_EQ(0, virtio_test(_metadata, self, "--batch=random", "--reset=500",
				 "--buf-num=20000"));
}

/*
 * mprotect() to RWX and back: PROTECTION_VMA makes the kernel mappings
 * stale (mprotect() may take access away); accesses go back to uaccess
 * until the next prefetch pins the same pages again (revalidated).
 */
TEST_F_TIMEOUT(vhost, mm_stress_mprotect, 300)
{
	EXPECT_EQ(0, virtio_test_args("--batch=random", "--buf-num=50000",
				      "--mm-stress=mprotect", "--expect-meta=protection_vma",
				      "--expect-meta=revalidated"));
}

/* Rings in a memfd: their PTEs zapped, their mapping replaced (UNMAP). */
TEST_F_TIMEOUT(vhost, mm_stress_dontneed_remap, 300)
{
	EXPECT_EQ(0, virtio_test_args("--memfd", "--batch=random", "--buf-num=50000",
				      "--mm-stress=mprotect,dontneed,remap",
				      "--expect-meta=unmap"));
}

/*
 * clear_refs write-protects the memfd rings; the used ring's pages must
 * be soft-dirty again once vhost wrote them (CRIU's dirty tracking).
 */
TEST_F_TIMEOUT(vhost, mm_stress_softdirty, 300)
{
	EXPECT_EQ(0, virtio_test_args("--memfd", "--batch=random", "--buf-num=100000",
				      "--mm-stress=softdirty", "--expect-meta=soft_dirty"));
}

/*
 * userfaultfd write protection of the used ring (6.12 sends
 * PROTECTION_PAGE for it): vhost's writes must raise write-protect
 * faults, as QEMU's background snapshot needs.
 */
TEST_F_TIMEOUT(vhost, mm_stress_uffdwp, 300)
{
	EXPECT_EQ(0, virtio_test_args("--batch=random", "--buf-num=50000",
				      "--mm-stress=uffdwp", "--expect-meta=protection_page"));
}

/*
 * KSM scanning and NUMA balancing over anonymous rings that move_pages()
 * migrates between the two nodes of numa=fake=2 while vhost uses them:
 * every buffer must still come back once. With the experimental kernel
 * mappings the pages are pinned and stay (the invalidations are
 * revalidations; KSM never merges a pinned page, and unshares a merged
 * one before GUP may pin it). Either way the test shows that ksmd
 * really went over the rings while vhost used them.
 */
TEST_F_TIMEOUT(vhost, mm_stress_ksm_numa, 300)
{
	char ksm[8] = "", numa[8] = "", scans[24] = "";
	unsigned long before, done;

	if (read_str(KSM_RUN, ksm, sizeof(ksm)) || read_str(NUMA, numa, sizeof(numa)))
		SKIP(return, "KSM or NUMA balancing: %s (CONFIG_KSM, CONFIG_NUMA_BALANCING)",
		     strerror(errno));
	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "no NUMA node1: boot with numa=fake=2");
	/* What run() checks, before anything is changed */
	if (access(BIN "virtio_test", X_OK))
		SKIP(return, BIN "virtio_test missing: %s",
		     "the virtstack guest's tools/virtio build of the stack");
	if (access("/dev/vhost-test", R_OK | W_OK))
		SKIP(return, "/dev/vhost-test: %m");
	ASSERT_EQ(0, read_str("/sys/kernel/mm/ksm/full_scans", scans, sizeof(scans)));
	before = strtoul(scans, NULL, 10);
	/* The teardown puts them back if the test fails on the way. */
	memcpy(self->saved_ksm, ksm, sizeof(ksm));
	memcpy(self->saved_numa, numa, sizeof(numa));
	ASSERT_EQ(0, write_str(KSM_RUN, "1"));
	ASSERT_EQ(0, write_str(NUMA, "1"));
	EXPECT_EQ(0, virtio_test_args("--batch=random", "--buf-num=100000",
				      "--mm-stress=ksm,numa", "--expect-meta=clear",
				      "--expect-meta=revalidated"));
	EXPECT_EQ(0, read_str("/sys/kernel/mm/ksm/full_scans", scans, sizeof(scans)));
	done = strtoul(scans, NULL, 10) - before;
	TH_LOG("ksmd: %lu full scans while the rings were mergeable", done);
	/* At least two: the first may have begun before the rings existed. */
	EXPECT_LE(2, done);
	EXPECT_EQ(0, write_str(KSM_RUN, ksm));
	EXPECT_EQ(0, write_str(NUMA, numa));
	self->saved_ksm[0] = '\0';
	self->saved_numa[0] = '\0';
}

TEST_F_TIMEOUT(vhost, vhost_net_busyloop, 600)
{
	EXPECT_EQ(0, vhost_net_test(_metadata, self, "--busyloop=50", "--buf-num=2048",
				    NULL, NULL));
}

TEST_F_TIMEOUT(vhost, vhost_net_iotlb, 600)
{
	EXPECT_EQ(0, vhost_net_test(_metadata, self, "--iotlb", "--buf-num=2048", NULL, NULL));
}

/*
 * The storm races IOTLB updates against the worker's translations;
 * virtstack.stress=N (VIRTSTACK_STRESS in the guest) runs it N times longer.
 */
TEST_F_TIMEOUT(vhost, vhost_net_iotlb_storm_busyloop, 7200)
{
	char bufs[32];

	snprintf(bufs, sizeof(bufs), "--buf-num=%d", 4096 * stress());
	EXPECT_EQ(0, vhost_net_test(_metadata, self, "--iotlb-storm", "--busyloop=50", bufs, NULL));
}

TEST_HARNESS_MAIN
