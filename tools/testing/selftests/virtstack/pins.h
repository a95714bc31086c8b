/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The global FOLL_PIN counters, as the virtstack guest tests read them:
 * nr_foll_pin_acquired and nr_foll_pin_released from /proc/vmstat, after
 * /proc/sys/vm/stat_refresh has folded the per-CPU deltas in.
 */
#ifndef VIRTSTACK_PINS_H
#define VIRTSTACK_PINS_H

#include "vmstat.h"

struct pins {
	long acquired;
	long released;
};

static inline int read_pins(struct pins *p)
{
	static const char *const names[] = {
		"nr_foll_pin_acquired", "nr_foll_pin_released",
	};
	long vals[2];
	int ret = vmstat_read(2, names, vals);

	p->acquired = vals[0];
	p->released = vals[1];
	return ret;
}

/*
 * Why the counters cannot be read here, for a test to skip with; NULL if
 * they can.
 */
static inline const char *pins_unavailable(void)
{
	struct pins p;

	if (geteuid())
		return "not root: exact nr_foll_pin_* counts need /proc/sys/vm/stat_refresh";
	if (read_pins(&p))
		return "no nr_foll_pin_* in /proc/vmstat, or no /proc/sys/vm/stat_refresh";
	return NULL;
}

/* Pins taken since @before and not yet released. */
static inline long pins_outstanding(const struct pins *before)
{
	struct pins now;

	if (read_pins(&now))
		return -1;
	return (now.acquired - before->acquired) - (now.released - before->released);
}

#endif /* VIRTSTACK_PINS_H */
