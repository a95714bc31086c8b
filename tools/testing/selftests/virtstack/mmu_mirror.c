// SPDX-License-Identifier: GPL-2.0
/*
 * mmu_mirror: lib/test_mmu_mirror.c's software device, event-blind and
 * event-aware, through the workload of mmu_mirror.h. Neither may ever read
 * stale data; the event-aware mirror must tear down at least 90% less on
 * soft-dirty and write-protect steps, and exactly as much on munmap() and
 * MADV_DONTNEED, as the event-blind one.
 */
#include "../kselftest_harness.h"

#if __has_include("../../../../lib/test_mmu_mirror_uapi.h")

#include "files.h"
#include "mmu_mirror.h"

#define CYCLES	8

FIXTURE(mirror)
{
	struct mirror_result blind, aware;
};

FIXTURE_SETUP(mirror)
{
	int fd = open(MIRROR_DEV, O_RDWR);

	/* Run alone (virtstack.only=), the guest loaded no module. */
	if (fd < 0 && errno == ENOENT && !load_module("test_mmu_mirror"))
		fd = open(MIRROR_DEV, O_RDWR);
	if (fd < 0 && errno == ENOENT && !virtstack_stack())
		SKIP(return, "no " MIRROR_DEV ": module test_mmu_mirror missing (%s)",
		     "CONFIG_TEST_MMU_MIRROR, a kernel with the virtstack stack; root to load it");
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		SKIP(return, MIRROR_DEV ": %m (not root)");
	ASSERT_GE(fd, 0) TH_LOG(MIRROR_DEV ": %s", strerror(errno));
	close(fd);
	ASSERT_EQ(mirror_workload(MMU_MIRROR_EVENT_BLIND, CYCLES, &self->blind), 0)
		TH_LOG("%s", self->blind.why);
	ASSERT_EQ(mirror_workload(MMU_MIRROR_EVENT_AWARE, CYCLES, &self->aware), 0)
		TH_LOG("%s", self->aware.why);
}

FIXTURE_TEARDOWN(mirror)
{
}

/* Every device read matched the CPU's view, under both policies. */
TEST_F(mirror, never_stale)
{
	EXPECT_EQ(self->blind.errors, 0) TH_LOG("event-blind: %s", self->blind.why);
	EXPECT_EQ(self->aware.errors, 0) TH_LOG("event-aware: %s", self->aware.why);
	EXPECT_GT(self->blind.checks, CYCLES * NR_STEPS);
	EXPECT_EQ(self->blind.checks, self->aware.checks);
	EXPECT_EQ(self->blind.mismatches, 0) TH_LOG("event-blind: %s", self->blind.why);
	EXPECT_EQ(self->aware.mismatches, 0) TH_LOG("event-aware: %s", self->aware.why);
}

/*
 * Permission-only steps: the event-aware mirror keeps its entries on the
 * step's own event, and refaults at least 90% less.
 */
TEST_F(mirror, aware_keeps_entries_on_write_protection)
{
	int k;

	for (k = STEP_SOFT_DIRTY; k <= STEP_WRITE_PROTECT; k++) {
		const struct mmu_mirror_stats *b = &self->blind.step[k], *a = &self->aware.step[k];
		int ev = mirror_step_event[k];

		TH_LOG("%s, blind/aware: teardowns %llu/%llu, on its event %llu/%llu",
		       mirror_step_name[k], b->teardowns, a->teardowns, b->event_teardowns[ev],
		       a->event_teardowns[ev]);
		TH_LOG("%s, blind/aware: refaults %llu/%llu, write downgrades %llu/%llu",
		       mirror_step_name[k], b->refaults, a->refaults, b->downgrades, a->downgrades);
		/* The blind mirror sees each step: the test can fail. */
		EXPECT_GE(b->event_teardowns[ev], CYCLES);
		EXPECT_LE(a->event_teardowns[ev] * 10, b->event_teardowns[ev]);
		EXPECT_LE(a->refaults * 10, b->refaults);
		EXPECT_GE(a->downgrades, CYCLES);
	}
}

/* What frees or replaces pages costs both policies the same. */
TEST_F(mirror, unmap_and_zap_alike)
{
	int k;

	for (k = STEP_UNMAP; k <= STEP_ZAP; k++) {
		const struct mmu_mirror_stats *b = &self->blind.step[k], *a = &self->aware.step[k];

		int ev = mirror_step_event[k];

		TH_LOG("%s: teardowns %llu %llu, dropped %llu %llu", mirror_step_name[k],
		       b->teardowns, a->teardowns, b->dropped, a->dropped);
		EXPECT_GE(a->event_teardowns[ev], CYCLES);
		EXPECT_EQ(a->event_teardowns[ev], b->event_teardowns[ev]);
		EXPECT_EQ(a->teardowns, b->teardowns);
		EXPECT_EQ(a->dropped, b->dropped);
	}
}

/*
 * mprotect(PROT_NONE) takes read access away too: PROTECTION_VMA, which
 * mmu_notifier_range_write_protects() must not call write protection, so
 * the event-aware mirror drops its entries and the device's next read
 * faults (-EFAULT) like the CPU's. A mirror that kept them read-only
 * would read memory the process can no longer read.
 */
TEST(aware_drops_entries_on_prot_none)
{
	struct mmu_mirror_attach at = { .npages = 16, .policy = MMU_MIRROR_EVENT_AWARE };
	struct mmu_mirror_access a = { .npages = 16 };
	long psz = getpagesize();
	char *mem, *buf;
	int fd;

	fd = open(MIRROR_DEV, O_RDWR);
	if (fd < 0 && errno == ENOENT && !load_module("test_mmu_mirror"))
		fd = open(MIRROR_DEV, O_RDWR);
	if (missing_outside_stack(fd >= 0))
		SKIP(return, "no " MIRROR_DEV ": %m (CONFIG_TEST_MMU_MIRROR, root)");
	ASSERT_GE(fd, 0) TH_LOG(MIRROR_DEV ": %s", strerror(errno));
	mem = mmap(NULL, 16 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, 16 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(mem, MAP_FAILED);
	ASSERT_NE(buf, MAP_FAILED);
	memset(mem, 0x5a, 16 * psz);
	at.addr = (unsigned long)mem;
	a.addr = (unsigned long)mem;
	a.ptr = (unsigned long)buf;
	ASSERT_EQ(ioctl(fd, MMU_MIRROR_ATTACH, &at), 0) TH_LOG("attach: %m");
	ASSERT_EQ(ioctl(fd, MMU_MIRROR_READ, &a), 0) TH_LOG("read: %m");
	ASSERT_EQ(mprotect(mem, 16 * psz, PROT_NONE), 0);
	EXPECT_EQ(ioctl(fd, MMU_MIRROR_READ, &a), -1)
		TH_LOG("the device read PROT_NONE memory: the mirror kept its entries");
	EXPECT_EQ(errno, EFAULT);
	ASSERT_EQ(mprotect(mem, 16 * psz, PROT_READ), 0);
	EXPECT_EQ(ioctl(fd, MMU_MIRROR_READ, &a), 0) TH_LOG("read after PROT_READ: %m");
	close(fd);
	munmap(mem, 16 * psz);
	munmap(buf, 16 * psz);
}

#else /* a tree without lib/test_mmu_mirror_uapi.h */

/* The same cases, skipped: the results name what is missing. */
FIXTURE(mirror)
{
};

FIXTURE_SETUP(mirror)
{
	SKIP(return, "built without lib/test_mmu_mirror_uapi.h: %s",
	     "a tree without the virtstack stack (test_mmu_mirror)");
}

FIXTURE_TEARDOWN(mirror)
{
}

TEST_F(mirror, never_stale)
{
}

TEST_F(mirror, aware_keeps_entries_on_write_protection)
{
}

TEST_F(mirror, unmap_and_zap_alike)
{
}

TEST(aware_drops_entries_on_prot_none)
{
	SKIP(return, "built without lib/test_mmu_mirror_uapi.h: %s",
	     "a tree without the virtstack stack (test_mmu_mirror)");
}

#endif

TEST_HARNESS_MAIN
