// SPDX-License-Identifier: GPL-2.0
/*
 * mmu_mirror: lib/test_mmu_mirror.c's software device, event-blind and
 * event-aware, through the workload of mmu_mirror.h. Neither may ever read
 * stale data; the event-aware mirror must tear down at least 90% less on
 * soft-dirty and write-protect steps, and exactly as much on munmap() and
 * MADV_DONTNEED, as the event-blind one.
 */
#include "kselftest_harness.h"

#include "mmu_mirror.h"

#define CYCLES	8

FIXTURE(mirror)
{
	struct mirror_result blind, aware;
};

FIXTURE_SETUP(mirror)
{
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

TEST_HARNESS_MAIN
