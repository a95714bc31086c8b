/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The global FOLL_PIN counters, as the virtstack guest tests read them:
 * nr_foll_pin_acquired and nr_foll_pin_released from /proc/vmstat, after
 * /proc/sys/vm/stat_refresh has folded the per-CPU deltas in.
 */
#ifndef VIRTSTACK_PINS_H
#define VIRTSTACK_PINS_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct pins {
	long acquired;
	long released;
};

static inline int read_pins(struct pins *p)
{
	char name[64];
	long val;
	FILE *f;
	int fd;

	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, "1", 1) != 1) {
		close(fd);
		return -1;
	}
	close(fd);
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	p->acquired = -1;
	p->released = -1;
	while (fscanf(f, "%63s %ld", name, &val) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			p->acquired = val;
		else if (!strcmp(name, "nr_foll_pin_released"))
			p->released = val;
	}
	fclose(f);
	return p->acquired < 0 || p->released < 0 ? -1 : 0;
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
