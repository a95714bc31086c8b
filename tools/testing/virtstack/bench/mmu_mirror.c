// SPDX-License-Identifier: GPL-2.0
/*
 * mmu_mirror: what the mmu_notifier event saves a device that mirrors
 * process memory (lib/test_mmu_mirror.c), in one boot: the workload of
 * tools/testing/selftests/virtstack/mmu_mirror.h against the event-blind
 * mirror (A) and the event-aware one (B), alternating A B A B. Per kind of
 * step, the teardowns and refaults of each, and the ratio aware / blind
 * (0 is all saved, 1 is nothing saved; the goal for soft-dirty and
 * write-protect steps is 0.10 or less, and exactly 1 for unmap and zap).
 * Teardowns are also counted on the step's own event alone: a CPU write
 * in a step can replace a page (COW), whose CLEAR both policies honour.
 * A stale device read fails the benchmark. An unpatched kernel has no
 * such device, and gets no figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* An unpatched tree (the baseline kernel's) has no such device or uapi. */
#if __has_include("lib/test_mmu_mirror_uapi.h")
#include "tools/testing/selftests/virtstack/mmu_mirror.h"

#define ROUNDS	2
#define CYCLES	32

int main(void)
{
	static struct mirror_result res[2][ROUNDS];
	double tear[2][NR_STEPS] = {}, own[2][NR_STEPS] = {}, refault[2][NR_STEPS] = {};
	int r, p, k;

	/* Bench guests load no module. */
	if (access(MIRROR_DEV, R_OK | W_OK) && system("modprobe test_mmu_mirror 2>/dev/null"))
		printf("mmu_mirror: modprobe test_mmu_mirror failed\n");
	if (access(MIRROR_DEV, R_OK | W_OK)) {
		printf("mmu_mirror: no %s, so no stack mmu_notifier patches: nothing to measure\n",
		       MIRROR_DEV);
		return 0;
	}
	for (r = 0; r < ROUNDS; r++) {
		for (p = MMU_MIRROR_EVENT_BLIND; p <= MMU_MIRROR_EVENT_AWARE; p++) {
			struct mirror_result *x = &res[p][r];

			if (mirror_workload(p, CYCLES, x) || x->errors || x->mismatches) {
				printf("mmu_mirror: %s, round %d: %ld stale, %ld errors: %s\n",
				       p ? "aware" : "blind", r + 1, x->mismatches, x->errors,
				       x->why);
				return 1;
			}
			for (k = 0; k < NR_STEPS; k++) {
				tear[p][k] += x->step[k].teardowns;
				own[p][k] += x->step[k].event_teardowns[mirror_step_event[k]];
				refault[p][k] += x->step[k].refaults;
			}
		}
	}
	for (k = 0; k < NR_STEPS; k++) {
		const char *s = mirror_step_name[k];

		printf("BENCH mirror_%s_teardowns_blind %.1f per-cycle lower\n", s,
		       tear[0][k] / (ROUNDS * CYCLES));
		printf("BENCH mirror_%s_teardowns_aware %.1f per-cycle lower\n", s,
		       tear[1][k] / (ROUNDS * CYCLES));
		printf("BENCH mirror_%s_teardowns_aware_over_blind %.4f ratio lower\n", s,
		       tear[0][k] ? tear[1][k] / tear[0][k] : 0);
		printf("BENCH mirror_%s_own_event_teardowns_aware_over_blind %.4f ratio lower\n", s,
		       own[0][k] ? own[1][k] / own[0][k] : 0);
		printf("BENCH mirror_%s_refaults_aware_over_blind %.4f ratio lower\n", s,
		       refault[0][k] ? refault[1][k] / refault[0][k] : 0);
	}
	printf("BENCH mirror_stale_reads 0 reads lower\n");
	return 0;
}
#else
int main(void)
{
	printf("mmu_mirror: no lib/test_mmu_mirror_uapi.h in this tree, %s\n",
	       "so no stack mmu_notifier patches: nothing to measure");
	return 0;
}
#endif
