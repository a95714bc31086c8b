/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/vmstat as the virtstack guest tests read it: exact, after
 * /proc/sys/vm/stat_refresh has folded the per-CPU deltas in.
 */
#ifndef VIRTSTACK_VMSTAT_H
#define VIRTSTACK_VMSTAT_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Folds the per-CPU counter deltas in; 0 or -1. */
static inline int vmstat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, "1", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * vmstat_read(n, names, vals): the values of @n items of /proc/vmstat, read
 * at once; an item that is missing reads -1. Returns 0, or -1 when an item
 * is missing or the file cannot be read.
 */
static inline int vmstat_read(int n, const char *const *names, long *vals)
{
	char name[64];
	int i, ret = 0;
	long val;
	FILE *f;

	for (i = 0; i < n; i++)
		vals[i] = -1;
	if (vmstat_refresh())
		return -1;
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &val) == 2)
		for (i = 0; i < n; i++)
			if (!strcmp(name, names[i]))
				vals[i] = val;
	fclose(f);
	for (i = 0; i < n; i++)
		if (vals[i] < 0)
			ret = -1;
	return ret;
}

/* One item of /proc/vmstat, or -1. */
static inline long vmstat_get(const char *name)
{
	long val;

	vmstat_read(1, &name, &val);
	return val;
}

#endif /* VIRTSTACK_VMSTAT_H */
