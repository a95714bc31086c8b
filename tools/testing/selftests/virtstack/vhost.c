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
 *   them, its writes must raise uffd-wp faults, and
 *   with meta_accel the debugfs counters must show the events reaching
 *   the kernel mappings.
 *
 * Each test runs three times: with vhost.batch_uaccess=0 (every ring
 * access a uaccess section of its own, as in 6.12), with =1 (the stack's
 * batched sections), and with meta_accel=1 (the rings through kernel
 * mappings). virtio_test checks in every run that the kernel mappings
 * were used exactly when meta_accel was set. On a tree without the stack
 * there are no such programs or parameters: the tests skip.
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
#define KMAP	"/sys/module/vhost/parameters/meta_accel"

FIXTURE(vhost) {
	char saved[8];
	char saved_kmap[8];
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

FIXTURE_SETUP(vhost)
{
	/* Loaded with the other modules, but not in a virtstack.only= boot. */
	if (access("/dev/vhost-test", F_OK) && system("modprobe vhost_test"))
		TH_LOG("modprobe vhost_test failed");
	if (read_str(BATCH, self->saved, sizeof(self->saved)))
		SKIP(return, BATCH ": %s (a tree without the stack)", strerror(errno));
	ASSERT_EQ(0, write_str(BATCH, variant->batch_uaccess));
	if (read_str(KMAP, self->saved_kmap, sizeof(self->saved_kmap)))
		SKIP(return, KMAP ": %s (a tree without the stack)", strerror(errno));
	ASSERT_EQ(0, write_str(KMAP, variant->meta_accel));
}

FIXTURE_TEARDOWN(vhost)
{
	if (self->saved[0])
		EXPECT_EQ(0, write_str(BATCH, self->saved));
	if (self->saved_kmap[0])
		EXPECT_EQ(0, write_str(KMAP, self->saved_kmap));
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

/* virtio_test ARGS..., on a used ring of three pages. */
#define virtio_test_args(...)						\
	run(_metadata, "/dev/vhost-test",				\
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
 * tries to migrate between the two nodes of numa=fake=2: pinned pages
 * stay, so the invalidations are revalidations. KSM never merges a
 * pinned page (write_protect_page() compares the references with the
 * mappings) and unshares a merged one before GUP may pin it, so the
 * kernel mappings never alias a KSM page; what is left to show is that
 * ksmd really went over the rings while vhost used them.
 */
TEST_F_TIMEOUT(vhost, mm_stress_ksm_numa, 300)
{
	char ksm[8] = "", numa[8] = "", scans[24] = "";
	unsigned long before, done;

	if (read_str("/sys/kernel/mm/ksm/run", ksm, sizeof(ksm)) ||
	    read_str("/proc/sys/kernel/numa_balancing", numa, sizeof(numa)))
		SKIP(return, "KSM or NUMA balancing: %s (CONFIG_KSM, CONFIG_NUMA_BALANCING)",
		     strerror(errno));
	ASSERT_EQ(0, read_str("/sys/kernel/mm/ksm/full_scans", scans, sizeof(scans)));
	before = strtoul(scans, NULL, 10);
	ASSERT_EQ(0, write_str("/sys/kernel/mm/ksm/run", "1"));
	ASSERT_EQ(0, write_str("/proc/sys/kernel/numa_balancing", "1"));
	EXPECT_EQ(0, virtio_test_args("--batch=random", "--buf-num=100000",
				      "--mm-stress=ksm,numa", "--expect-meta=clear",
				      "--expect-meta=revalidated"));
	EXPECT_EQ(0, read_str("/sys/kernel/mm/ksm/full_scans", scans, sizeof(scans)));
	done = strtoul(scans, NULL, 10) - before;
	TH_LOG("ksmd: %lu full scans while the rings were mergeable", done);
	/* At least two: the first may have begun before the rings existed. */
	EXPECT_LE(2, done);
	EXPECT_EQ(0, write_str("/sys/kernel/mm/ksm/run", ksm));
	EXPECT_EQ(0, write_str("/proc/sys/kernel/numa_balancing", numa));
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
