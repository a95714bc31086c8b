/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload of the mmu_mirror test and benchmark: a process mirrors
 * part of its memory in lib/test_mmu_mirror.c's software device and goes
 * through what trackers and runtimes do to memory a device is using, and
 * after every step compares what the device reads with what the CPU sees.
 *
 *   soft-dirty   clear_refs 4 (write-protects the whole address space),
 *                then CPU writes to some pages and a device write
 *   write-protect  mprotect(PROT_READ) and back to PROT_READ|PROT_WRITE,
 *                then CPU writes
 *   unmap        munmap() of a chunk and a new mapping in its place
 *   zap          MADV_DONTNEED of a chunk
 *
 * Each kind of step is counted apart (teardowns, by event too, refaults,
 * downgrades).
 */
#ifndef VIRTSTACK_MMU_MIRROR_H
#define VIRTSTACK_MMU_MIRROR_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../../../lib/test_mmu_mirror_uapi.h"

#define MIRROR_DEV	"/dev/test_mmu_mirror"
#define MIRROR_PAGES	256
#define MIRROR_CHUNK_P	16

enum { STEP_SOFT_DIRTY, STEP_WRITE_PROTECT, STEP_UNMAP, STEP_ZAP, NR_STEPS };

static const char * const mirror_step_name[NR_STEPS] = {
	"soft_dirty", "write_protect", "unmap", "zap",
};

/*
 * The event each kind of step sends (enum mmu_notifier_event). A step can
 * also cause others: a CPU write that replaces a page (COW, here from the
 * zero page a device read mapped after a zap) sends CLEAR, which both
 * policies must honour.
 */
static const int mirror_step_event[NR_STEPS] = {
	4,	/* MMU_NOTIFY_SOFT_DIRTY */
	2,	/* MMU_NOTIFY_PROTECTION_VMA */
	0,	/* MMU_NOTIFY_UNMAP */
	1,	/* MMU_NOTIFY_CLEAR */
};

struct mirror_result {
	long checks, mismatches;	/* device reads compared with the CPU */
	long errors;			/* failed ioctls or syscalls */
	struct mmu_mirror_stats step[NR_STEPS];	/* counted per kind of step */
	char why[160];			/* the first mismatch or error */
};

struct mirror_ctx {
	int fd;
	long psz;
	char *mem, *buf;
	struct mirror_result *r;
};

static void mirror_note(struct mirror_ctx *c, const char *what, int err)
{
	if (!c->r->why[0])
		snprintf(c->r->why, sizeof(c->r->why), "%s: %s", what, strerror(err));
	c->r->errors++;
}

/* A device read of the whole range, compared page by page with the CPU's. */
static void mirror_check(struct mirror_ctx *c, const char *after)
{
	struct mmu_mirror_access a = {
		.addr = (unsigned long)c->mem,
		.ptr = (unsigned long)c->buf,
		.npages = MIRROR_PAGES,
	};
	long i;

	c->r->checks++;
	if (ioctl(c->fd, MMU_MIRROR_READ, &a)) {
		mirror_note(c, "MMU_MIRROR_READ", errno);
		return;
	}
	for (i = 0; i < MIRROR_PAGES; i++) {
		if (!memcmp(c->buf + i * c->psz, c->mem + i * c->psz, c->psz))
			continue;
		if (!c->r->why[0])
			snprintf(c->r->why, sizeof(c->r->why),
				 "after %s the device read stale data at page %ld", after, i);
		c->r->mismatches++;
		return;
	}
}

static void mirror_stats(struct mirror_ctx *c, struct mmu_mirror_stats *s)
{
	if (ioctl(c->fd, MMU_MIRROR_STATS, s))
		mirror_note(c, "MMU_MIRROR_STATS", errno);
}

/* Adds what the mirror did since @before to @acc. */
static void mirror_account(struct mirror_ctx *c, const struct mmu_mirror_stats *before,
			   struct mmu_mirror_stats *acc)
{
	struct mmu_mirror_stats now;
	int i;

	mirror_stats(c, &now);
	acc->invalidations += now.invalidations - before->invalidations;
	acc->teardowns += now.teardowns - before->teardowns;
	acc->dropped += now.dropped - before->dropped;
	acc->downgrades += now.downgrades - before->downgrades;
	acc->faults += now.faults - before->faults;
	acc->refaults += now.refaults - before->refaults;
	acc->write_upgrades += now.write_upgrades - before->write_upgrades;
	for (i = 0; i < MMU_MIRROR_NR_EVENTS; i++)
		acc->event_teardowns[i] += now.event_teardowns[i] - before->event_teardowns[i];
}

static void cpu_write(struct mirror_ctx *c, long page, int val)
{
	memset(c->mem + page * c->psz, val, c->psz);
}

static void mirror_step(struct mirror_ctx *c, int kind, int cycle)
{
	struct mmu_mirror_stats before;
	long chunk = (cycle * MIRROR_CHUNK_P) % MIRROR_PAGES, i;
	int fd;

	mirror_stats(c, &before);
	switch (kind) {
	case STEP_SOFT_DIRTY:
		fd = open("/proc/self/clear_refs", O_WRONLY);
		if (fd < 0 || write(fd, "4", 1) != 1)
			mirror_note(c, "clear_refs 4", errno);
		if (fd >= 0)
			close(fd);
		mirror_check(c, "clear_refs soft-dirty");
		for (i = 0; i < 4; i++)
			cpu_write(c, (chunk + i * 7) % MIRROR_PAGES, 'a' + cycle % 26);
		mirror_check(c, "CPU writes to soft-dirty-protected pages");
		{
			struct mmu_mirror_access a = {
				.addr = (unsigned long)(c->mem + chunk * c->psz),
				.ptr = (unsigned long)c->buf,
				.npages = 1,
			};

			memset(c->buf, 'A' + cycle % 26, c->psz);
			if (ioctl(c->fd, MMU_MIRROR_WRITE, &a))
				mirror_note(c, "MMU_MIRROR_WRITE", errno);
			c->r->checks++;
			if (memcmp(c->mem + chunk * c->psz, c->buf, c->psz)) {
				if (!c->r->why[0])
					snprintf(c->r->why, sizeof(c->r->why),
						 "the CPU does not see a device write");
				c->r->mismatches++;
			}
		}
		break;
	case STEP_WRITE_PROTECT:
		if (mprotect(c->mem, MIRROR_PAGES * c->psz, PROT_READ))
			mirror_note(c, "mprotect(PROT_READ)", errno);
		mirror_check(c, "mprotect(PROT_READ)");
		if (mprotect(c->mem, MIRROR_PAGES * c->psz, PROT_READ | PROT_WRITE))
			mirror_note(c, "mprotect(PROT_READ | PROT_WRITE)", errno);
		for (i = 0; i < 4; i++)
			cpu_write(c, (chunk + i * 5) % MIRROR_PAGES, 'k' + cycle % 16);
		mirror_check(c, "mprotect() back to read-write and CPU writes");
		break;
	case STEP_UNMAP:
		if (munmap(c->mem + chunk * c->psz, MIRROR_CHUNK_P * c->psz) ||
		    mmap(c->mem + chunk * c->psz, MIRROR_CHUNK_P * c->psz,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) == MAP_FAILED)
			mirror_note(c, "munmap() and mmap(MAP_FIXED)", errno);
		for (i = 0; i < MIRROR_CHUNK_P; i++)
			cpu_write(c, chunk + i, 'u' + cycle % 4);
		mirror_check(c, "munmap() and a new mapping");
		break;
	case STEP_ZAP:
		if (madvise(c->mem + chunk * c->psz, MIRROR_CHUNK_P * c->psz, MADV_DONTNEED))
			mirror_note(c, "MADV_DONTNEED", errno);
		mirror_check(c, "MADV_DONTNEED");
		break;
	}
	mirror_account(c, &before, &c->r->step[kind]);
}

/*
 * Runs @cycles cycles of the workload against a mirror of @policy; every
 * cycle does each kind of step once. Returns 0, or -1 if the mirror could
 * not be set up (r->why says why).
 */
static int mirror_workload(int policy, int cycles, struct mirror_result *r)
{
	struct mmu_mirror_attach at = { .npages = MIRROR_PAGES, .policy = policy };
	struct mirror_ctx c = { .psz = getpagesize(), .r = r };
	long i;
	int n, k, ret = -1;

	memset(r, 0, sizeof(*r));
	c.fd = open(MIRROR_DEV, O_RDWR);
	/* Run alone (virtstack.only=), the guest loaded no module. */
	if (c.fd < 0 && errno == ENOENT && !system("modprobe test_mmu_mirror"))
		c.fd = open(MIRROR_DEV, O_RDWR);
	if (c.fd < 0) {
		mirror_note(&c, "open " MIRROR_DEV " (CONFIG_TEST_MMU_MIRROR)", errno);
		return -1;
	}
	c.mem = mmap(NULL, MIRROR_PAGES * c.psz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c.buf = mmap(NULL, MIRROR_PAGES * c.psz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.mem == MAP_FAILED || c.buf == MAP_FAILED) {
		mirror_note(&c, "mmap", errno);
		goto out;
	}
	for (i = 0; i < MIRROR_PAGES; i++)
		cpu_write(&c, i, 1 + i % 250);
	at.addr = (unsigned long)c.mem;
	if (ioctl(c.fd, MMU_MIRROR_ATTACH, &at)) {
		mirror_note(&c, "MMU_MIRROR_ATTACH", errno);
		goto out;
	}
	mirror_check(&c, "attaching");
	for (n = 0; n < cycles; n++)
		for (k = 0; k < NR_STEPS; k++)
			mirror_step(&c, k, n);
	ret = 0;
out:
	if (c.mem != MAP_FAILED)
		munmap(c.mem, MIRROR_PAGES * c.psz);
	if (c.buf != MAP_FAILED)
		munmap(c.buf, MIRROR_PAGES * c.psz);
	close(c.fd);
	return ret;
}

#endif /* VIRTSTACK_MMU_MIRROR_H */
