// SPDX-License-Identifier: GPL-2.0
/*
 * gup_cost: the per-page cost of pinning (FOLL_PIN) against getting
 * (FOLL_GET) user pages, through CONFIG_GUP_TEST's debugfs file with the
 * kernel's own benchmarks, PIN_FAST_BENCHMARK and GUP_FAST_BENCHMARK, on
 * 64 MiB of faulted-in anonymous memory. Prints the nanoseconds per page of
 * each (take plus release) and their ratio:
 *   BENCH gup_fast_ns_per_page <v> ns lower
 *   BENCH pin_fast_ns_per_page <v> ns lower
 *   BENCH pin_over_get <v> ratio lower
 * Each figure is the median of REPEAT runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm/gup_test.h"

#define SIZE		(64UL << 20)
#define PER_CALL	512
#define REPEAT		7

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median nanoseconds per page of one gup_test benchmark command. */
static double per_page(int fd, unsigned long cmd, char *mem)
{
	double ns[REPEAT];
	int i;

	for (i = 0; i < REPEAT; i++) {
		struct gup_test gup = {
			.addr = (unsigned long)mem,
			.size = SIZE,
			.nr_pages_per_call = PER_CALL,
			.gup_flags = 0,
		};

		if (ioctl(fd, cmd, &gup)) {
			perror("gup_test ioctl");
			exit(1);
		}
		ns[i] = (gup.get_delta_usec + gup.put_delta_usec) * 1000.0 /
			(SIZE / getpagesize());
	}
	qsort(ns, REPEAT, sizeof(ns[0]), cmp);
	return ns[REPEAT / 2];
}

int main(void)
{
	double get, pin;
	char *mem;
	int fd;

	fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (fd < 0) {
		perror("/sys/kernel/debug/gup_test (CONFIG_GUP_TEST?)");
		return 1;
	}
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	madvise(mem, SIZE, MADV_NOHUGEPAGE);
	memset(mem, 1, SIZE);

	/* Alternate, so that drift in the guest affects both alike. */
	get = per_page(fd, GUP_FAST_BENCHMARK, mem);
	pin = per_page(fd, PIN_FAST_BENCHMARK, mem);
	get = (get + per_page(fd, GUP_FAST_BENCHMARK, mem)) / 2;
	pin = (pin + per_page(fd, PIN_FAST_BENCHMARK, mem)) / 2;

	printf("BENCH gup_fast_ns_per_page %.1f ns lower\n", get);
	printf("BENCH pin_fast_ns_per_page %.1f ns lower\n", pin);
	printf("BENCH pin_over_get %.3f ratio lower\n", pin / get);
	return 0;
}
