// SPDX-License-Identifier: GPL-2.0
/*
 * mmu_notifier_events: which mmu_notifier event, range and flags the
 * operations only userspace can perform send to a mirror of the process.
 *
 * The mirror is lib/test_hmm.c's (/dev/hmm_dmirror0, an interval notifier
 * over the whole address space of the opener); the stack's
 * HMM_DMIRROR_EVENTS ioctl returns what it saw. Each case maps a buffer,
 * empties the log, does one operation and checks the events that touch the
 * buffer. The labels the stack corrects (hugetlb mremap and fork, KSM's
 * write-protect step, uffd-wp, PAGEMAP_SCAN) and the mprotect() of a
 * mapping at address 0 have their own cases. What a kernel thread can do
 * itself is in the mmu_notifier_event KUnit suite
 * (mm/mmu_notifier_kunit.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "../../../../lib/test_hmm_uapi.h"

/*
 * The stack's event log (patch 2009), for a tree without it: the kernel's
 * test_hmm answers the ioctl or not, and without it the tests skip.
 */
#ifndef HMM_DMIRROR_EVENTS
#define HMM_DMIRROR_EVENTS		_IOWR('H', 0x40, struct hmm_dmirror_cmd)
struct hmm_dmirror_event {
	__u32		event;
	__u32		flags;
	__u32		owner;
	__u32		pad;
	__u64		start;
	__u64		end;
};

#define HMM_DMIRROR_EVENTS_MAX		256
#define HMM_DMIRROR_OWNER_NONE		0
#endif

#define DEV		"/dev/hmm_dmirror0"
#define NPAGES		4
#define HPAGE		(2UL << 20)
#define MAX_EV		HMM_DMIRROR_EVENTS_MAX

/* enum mmu_notifier_event and the range flags (include/linux/mmu_notifier.h) */
enum { UNMAP, CLEAR, PROTECTION_VMA, PROTECTION_PAGE, SOFT_DIRTY, RELEASE,
	MIGRATE, EXCLUSIVE };
#define RANGE_BLOCKABLE	1
#define RANGE_NUMA_HINT	2

static const char *const ev_name[] = {
	"UNMAP", "CLEAR", "PROTECTION_VMA", "PROTECTION_PAGE", "SOFT_DIRTY",
	"RELEASE", "MIGRATE", "EXCLUSIVE",
};

/* Newer than the host's uapi headers (6.7 and 6.8) */
#ifndef PAGEMAP_SCAN
#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN		0x2
#define PM_SCAN_WP_MATCHING	0x1
#define PM_SCAN_CHECK_WPASYNC	0x2
struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_UNPOPULATED	0x2000
#define UFFD_FEATURE_WP_ASYNC		0x8000
#endif

struct evlog {
	struct hmm_dmirror_event ev[MAX_EV];
	int n;
	long lost;
};

static int events(int fd, struct evlog *log)
{
	struct hmm_dmirror_cmd cmd = {
		.ptr = (uintptr_t)log->ev,
		.npages = MAX_EV,
	};

	if (ioctl(fd, HMM_DMIRROR_EVENTS, &cmd))
		return -errno;
	log->n = cmd.cpages;
	log->lost = cmd.faults;
	return 0;
}

static const char *name(unsigned int e)
{
	return e < ARRAY_SIZE(ev_name) ? ev_name[e] : "?";
}

static void dump(struct __test_metadata *_metadata, struct evlog *log)
{
	int i;

	for (i = 0; i < log->n; i++)
		TH_LOG("  event %d: %s [%#llx, %#llx) flags %#x owner %u", i,
		       name(log->ev[i].event), (unsigned long long)log->ev[i].start,
		       (unsigned long long)log->ev[i].end, log->ev[i].flags,
		       log->ev[i].owner);
}

/* The events whose range overlaps [start, end), in order, into sel. */
static int touching(struct evlog *log, unsigned long start, unsigned long end,
		    struct hmm_dmirror_event *sel, int max)
{
	int i, n = 0;

	for (i = 0; i < log->n && n < max; i++)
		if (log->ev[i].start < end && log->ev[i].end > start)
			sel[n++] = log->ev[i];
	return n;
}

static long read_long(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* What a case changed of the machine, to be put back in the teardown. */
struct saved {
	long nr_hugepages;		/* of 2 MiB; -1: untouched */
	long mmap_min_addr;		/* -1: untouched */
	long numa_balancing;		/* -1: untouched */
	long scan_delay_ms;		/* NUMA balancing's; -1: untouched */
	char ksm_run[16];		/* "": untouched */
	char ksm_sleep[16];		/* "": untouched */
	bool trace_filter;		/* the mmu_notifier events' filter is set */
};

FIXTURE(mirror) {
	int fd;
	long psz;
	struct evlog log;
	struct hmm_dmirror_event sel[MAX_EV];
	struct saved saved;
	pid_t child;			/* killed in the teardown */
};

#define KSM		"/sys/kernel/mm/ksm/"
#define NUMA_DEBUGFS	"/sys/kernel/debug/sched/numa_balancing/"

static void put_long(const char *path, long val)
{
	char s[24];

	snprintf(s, sizeof(s), "%ld", val);
	write_str(path, s);
}

/* Puts back what the case changed, each at most once. */
static void restore(struct saved *sv)
{
	if (sv->mmap_min_addr >= 0)
		put_long("/proc/sys/vm/mmap_min_addr", sv->mmap_min_addr);
	sv->mmap_min_addr = -1;
	if (sv->trace_filter) {
		write_str(TRACING "events/mmu_notifier/enable", "0");
		write_str(TRACING "events/mmu_notifier/filter", "0");
	}
	sv->trace_filter = false;
	if (sv->numa_balancing >= 0)	/* 0 to 3: the mode */
		put_long("/proc/sys/kernel/numa_balancing", sv->numa_balancing);
	sv->numa_balancing = -1;
	if (sv->scan_delay_ms >= 0)
		put_long(NUMA_DEBUGFS "scan_delay_ms", sv->scan_delay_ms);
	sv->scan_delay_ms = -1;
	if (sv->ksm_run[0])
		write_str(KSM "run", sv->ksm_run);
	sv->ksm_run[0] = '\0';
	if (sv->ksm_sleep[0])
		write_str(KSM "sleep_millisecs", sv->ksm_sleep);
	sv->ksm_sleep[0] = '\0';
	if (sv->nr_hugepages >= 0)
		put_long("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
			 sv->nr_hugepages);
	sv->nr_hugepages = -1;
}

FIXTURE_SETUP(mirror)
{
	int err;

	self->psz = sysconf(_SC_PAGESIZE);
	self->saved = (struct saved){ .nr_hugepages = -1, .mmap_min_addr = -1,
				      .numa_balancing = -1, .scan_delay_ms = -1 };
	self->fd = open(DEV, O_RDWR);
	if (self->fd < 0 && errno == ENOENT && !load_module("test_hmm"))
		self->fd = open(DEV, O_RDWR);
	if (self->fd < 0 && errno == ENOENT && !virtstack_stack())
		SKIP(return, "no " DEV ": module test_hmm missing (%s)",
		     "CONFIG_TEST_HMM; root to load it");
	if (self->fd < 0 && (errno == EACCES || errno == EPERM))
		SKIP(return, DEV ": %m (not root)");
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", DEV, strerror(errno));
	err = events(self->fd, &self->log);
	if ((err == -EINVAL || err == -ENOTTY) && !virtstack_stack()) {
		close(self->fd);
		SKIP(return, "test_hmm has no HMM_DMIRROR_EVENTS: %s",
		     "a kernel without the virtstack stack (patch 2009)");
	}
	ASSERT_EQ(err, 0) TH_LOG("HMM_DMIRROR_EVENTS: %s", strerror(-err));
}

FIXTURE_TEARDOWN(mirror)
{
	kill_child(&self->child);
	restore(&self->saved);
	close(self->fd);
}

/*
 * Map n pages of anonymous private memory, touched, between two PROT_NONE
 * guard pages so that the buffer is a VMA of its own: events that cover a
 * whole VMA (fork) then cover exactly the buffer.
 */
static char *anon(long psz, int n)
{
	char *p = mmap(NULL, (n + 2) * psz, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p += psz;
	if (mprotect(p, n * psz, PROT_READ | PROT_WRITE))
		return NULL;
	memset(p, 0x5a, n * psz);
	return p;
}

static void anon_free(char *p, long psz, int n)
{
	munmap(p - psz, (n + 2) * psz);
}

/* Collect the log, then the events touching [a, a + len), in self->sel. */
static int collect(struct __test_metadata *_metadata, struct _test_data_mirror *self,
		   const void *a, unsigned long len)
{
	ASSERT_EQ(events(self->fd, &self->log), 0);
	EXPECT_EQ(self->log.lost, 0);
	return touching(&self->log, (unsigned long)a, (unsigned long)a + len,
			self->sel, MAX_EV);
}

/* Exactly one event touches the range, and it is e over [a, a + len). */
static void expect_only(struct __test_metadata *_metadata, struct _test_data_mirror *self,
			int n, unsigned int e, const void *a, unsigned long len)
{
	EXPECT_EQ(n, 1) dump(_metadata, &self->log);
	if (n < 1)
		return;
	EXPECT_STREQ(name(self->sel[0].event), name(e));
	EXPECT_EQ(self->sel[0].start, (unsigned long)a);
	EXPECT_EQ(self->sel[0].end, (unsigned long)a + len);
	EXPECT_TRUE(self->sel[0].flags & RANGE_BLOCKABLE);
	EXPECT_EQ(self->sel[0].owner, HMM_DMIRROR_OWNER_NONE);
}

/* At least one event touches the range, and every one is e. */
static void expect_all(struct __test_metadata *_metadata, struct _test_data_mirror *self,
		       int n, unsigned int e)
{
	int i;

	EXPECT_GE(n, 1) dump(_metadata, &self->log);
	for (i = 0; i < n; i++)
		EXPECT_STREQ(name(self->sel[i].event), name(e))
			dump(_metadata, &self->log);
}

#define COLLECT(a, len)			collect(_metadata, self, a, len)
#define EXPECT_ONLY(n, e, a, len)	expect_only(_metadata, self, n, e, a, len)
#define EXPECT_ALL(n, e)		expect_all(_metadata, self, n, e)

TEST_F(mirror, mprotect_down_and_up_protection_vma)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	COLLECT(a, len);
	ASSERT_EQ(mprotect(a, len, PROT_READ), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, PROTECTION_VMA, a, len);
	EXPECT_FALSE(self->sel[0].flags & RANGE_NUMA_HINT);
	/*
	 * An upgrade notifies too, though a mirror must not grant itself
	 * the new permission from it (pages COW-shared or KSM-merged stay
	 * read-only for the CPU): it faults for it.
	 */
	ASSERT_EQ(mprotect(a, len, PROT_READ | PROT_WRITE), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, PROTECTION_VMA, a, len);
	anon_free(a, self->psz, NPAGES);
}

TEST_F(mirror, munmap_unmap)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	COLLECT(a, len);
	ASSERT_EQ(munmap(a + self->psz, self->psz), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, UNMAP, a + self->psz, self->psz);
	anon_free(a, self->psz, NPAGES);
}

TEST_F(mirror, madvise_dontneed_and_free_clear)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	COLLECT(a, len);
	ASSERT_EQ(madvise(a, 2 * self->psz, MADV_DONTNEED), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, CLEAR, a, 2 * self->psz);
	ASSERT_EQ(madvise(a + 2 * self->psz, 2 * self->psz, MADV_FREE), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, CLEAR, a + 2 * self->psz, 2 * self->psz);
	anon_free(a, self->psz, NPAGES);
}

/* mremap() moving a mapping: the old range is unmapped; the new gets nothing. */
TEST_F(mirror, mremap_move_unmap)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES), *b;
	int n;

	ASSERT_NE(a, NULL);
	b = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(b, MAP_FAILED);
	COLLECT(a, len);
	ASSERT_EQ(mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, b), b);
	n = COLLECT(a, len);
	EXPECT_ALL(n, UNMAP);
	EXPECT_EQ(self->sel[0].start, (unsigned long)a);
	EXPECT_EQ(self->sel[0].end, (unsigned long)a + len);
	EXPECT_EQ(b[0], 0x5a);
	munmap(b, len);
	anon_free(a, self->psz, NPAGES);	/* the guards */
}

#define HUGE_2M		"/sys/kernel/mm/hugepages/hugepages-2048kB/"

/* Free 2 MiB huge pages nobody has reserved yet; -1 if unknown. */
static long hugepages_available(void)
{
	long free = read_long(HUGE_2M "free_hugepages");
	long resv = read_long(HUGE_2M "resv_hugepages");

	return free < 0 || resv < 0 ? -1 : free - resv;
}

/* The default huge page size, which MAP_HUGETLB gets, in kB; -1 if none. */
static long default_hugepage_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Makes sure @n huge pages of 2 MiB are free for the case, raising
 * nr_hugepages if need be (the teardown puts it back): NULL, or why not.
 */
static const char *hugepages(struct saved *sv, long n)
{
	long nr = read_long(HUGE_2M "nr_hugepages"), avail = hugepages_available();

	if (default_hugepage_kb() != 2048 || nr < 0 || avail < 0)
		return "no huge pages of 2 MiB as the default size (CONFIG_HUGETLBFS)";
	if (avail >= n)
		return NULL;
	if (access(HUGE_2M "nr_hugepages", W_OK))
		return "not root: cannot raise nr_hugepages";
	if (sv->nr_hugepages < 0)
		sv->nr_hugepages = nr;
	put_long(HUGE_2M "nr_hugepages", nr + n - avail);
	if (hugepages_available() < n)
		return "cannot get enough free huge pages of 2 MiB (memory fragmented?)";
	return NULL;
}

/* A hugetlb mapping, touched, at an address aligned to HPAGE. */
static char *huge(void)
{
	char *p = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, HPAGE);
	return p;
}

/* Like any other mremap(): UNMAP for the old range (6.12 said CLEAR). */
TEST_F(mirror, mremap_hugetlb_unmap)
{
	const char *why;
	char *a, *r, *b;
	int n;

	why = hugepages(&self->saved, 4);
	if (missing_outside_guest(!why))
		SKIP(return, "%s", why);
	ASSERT_EQ(why, NULL) TH_LOG("%s", why);
	a = huge();
	ASSERT_NE(a, NULL);
	/* An aligned destination inside a reservation of twice the size */
	r = mmap(NULL, 2 * HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(r, MAP_FAILED);
	b = (char *)(((unsigned long)r + HPAGE - 1) & ~(HPAGE - 1));
	COLLECT(a, HPAGE);
	ASSERT_EQ(mremap(a, HPAGE, HPAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b), b)
		TH_LOG("mremap: %s", strerror(errno));
	n = COLLECT(a, HPAGE);
	EXPECT_ALL(n, UNMAP);
	EXPECT_EQ(b[HPAGE - 1], 0x5a);
	munmap(b, HPAGE);
	munmap(r, 2 * HPAGE);
}

#define PUD		(HPAGE << 9)	/* 1 GiB */

/*
 * A MAP_SHARED hugetlb mapping of 2 GiB (MAP_NORESERVE: no page is
 * reserved), which spans at least one whole PUD-aligned GiB: there, page
 * tables can be shared with other processes. Returns the mapping in *map
 * and the first PUD-aligned address in it, with its first huge page
 * touched.
 */
static char *shared_huge(char **map)
{
	char *p = mmap(NULL, 2 * PUD, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE,
		       -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	*map = p;
	a = (char *)(((unsigned long)p + PUD - 1) & ~(PUD - 1));
	memset(a, 0x5a, HPAGE);
	return a;
}

/*
 * mremap() of 2 MiB out of a shared hugetlb mapping that spans a whole PUD.
 * move_hugetlb_page_tables() widens its invalidation to the PUD, since
 * page tables there might be shared, whether or not they are: the
 * addresses around the moved range keep their pages. So UNMAP covers
 * exactly the moved range, nested in a CLEAR over the widened range, which
 * must come too: it is what tells a mirror the tables may change there.
 * (mremap() then unmaps the old range, a second UNMAP of exactly it.)
 */
TEST_F(mirror, mremap_shared_hugetlb_unmaps_only_what_moves)
{
	const char *why;
	char *map, *a, *r, *b;
	int n, i, unmaps = 0, widened = 0;

	why = hugepages(&self->saved, 4);
	if (missing_outside_guest(!why))
		SKIP(return, "%s", why);
	ASSERT_EQ(why, NULL) TH_LOG("%s", why);
	a = shared_huge(&map);
	ASSERT_NE(a, NULL) TH_LOG("mmap of 2 GiB of shared hugetlb: %s", strerror(errno));
	r = mmap(NULL, 2 * HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(r, MAP_FAILED);
	b = (char *)(((unsigned long)r + HPAGE - 1) & ~(HPAGE - 1));
	COLLECT(a, PUD);
	ASSERT_EQ(mremap(a, HPAGE, HPAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b), b)
		TH_LOG("mremap: %s", strerror(errno));
	n = COLLECT(a, PUD);
	for (i = 0; i < n; i++) {
		if (self->sel[i].event == CLEAR) {
			/*
			 * The widened range, for whoever shares the tables,
			 * around the move's UNMAP: before the first UNMAP (the
			 * munmap() that follows splits the VMA, which sends a
			 * CLEAR over the PUD of its own).
			 */
			widened += !unmaps &&
				   self->sel[i].start <= (unsigned long)a &&
				   self->sel[i].end >= (unsigned long)a + HPAGE &&
				   self->sel[i].end - self->sel[i].start > HPAGE;
			continue;
		}
		EXPECT_STREQ(name(self->sel[i].event), "UNMAP") dump(_metadata, &self->log);
		if (self->sel[i].event != UNMAP)
			continue;
		unmaps++;
		EXPECT_EQ(self->sel[i].start, (unsigned long)a) dump(_metadata, &self->log);
		EXPECT_EQ(self->sel[i].end, (unsigned long)a + HPAGE)
			TH_LOG("UNMAP over [%#llx, %#llx) for a move of [%p, %p)",
			       (unsigned long long)self->sel[i].start,
			       (unsigned long long)self->sel[i].end, a, a + HPAGE);
	}
	/* The move's own UNMAP, then munmap()'s (6.12 sent CLEAR for the move) */
	EXPECT_EQ(unmaps, 2) dump(_metadata, &self->log);
	EXPECT_GE(widened, 1) TH_LOG("no CLEAR over the PUD the move widened to, before its UNMAP");
	EXPECT_EQ(b[HPAGE - 1], 0x5a);
	munmap(b, HPAGE);
	munmap(r, 2 * HPAGE);
	munmap(map, 2 * PUD);
}

/* Whether the page at @a is present in this process's page table. */
static int present(const void *a, long psz)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &e, sizeof(e), (uintptr_t)a / psz * sizeof(e));
	close(fd);
	if (n != sizeof(e))
		return -1;
	return !!(e & (1ULL << 63));
}

/*
 * mprotect() of hugetlb memory whose page table another process shares
 * unshares it (huge_pmd_unshare()): this mm's entries for the whole PUD go,
 * under the PROTECTION_VMA event alone, which covers them. The rule that
 * mmu_notifier_range_keeps_pages() documents: no page is freed (the child
 * and the file hold them) and the same data faults back in.
 */
TEST_F(mirror, mprotect_unsharing_hugetlb_page_table_sends_only_protection_vma)
{
	const char *why;
	char *map, *a, *m, go;
	int to_child[2], from_child[2], n, i, status, err;
	pid_t pid;

	why = hugepages(&self->saved, 4);
	if (missing_outside_guest(!why))
		SKIP(return, "%s", why);
	ASSERT_EQ(why, NULL) TH_LOG("%s", why);
	a = shared_huge(&map);
	ASSERT_NE(a, NULL) TH_LOG("mmap of 2 GiB of shared hugetlb: %s", strerror(errno));
	/* A VMA of exactly the PUD, so that mprotect() splits nothing */
	m = mmap(a, PUD, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE | MAP_FIXED, -1, 0);
	ASSERT_EQ(m, a) TH_LOG("mmap at the PUD: %s", strerror(errno));
	memset(a, 0x5a, HPAGE);
	ASSERT_EQ(pipe(to_child), 0);
	ASSERT_EQ(pipe(from_child), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* Only our ends: if the parent dies, the read below ends. */
		close(to_child[1]);
		close(from_child[0]);
		/* Fault in the same page: huge_pmd_share() shares our table */
		go = a[0];
		if (write(from_child[1], &go, 1) != 1 || read(to_child[0], &go, 1) != 1)
			_exit(2);
		_exit(a[HPAGE - 1] == 0x5a ? 0 : 1);
	}
	self->child = pid;	/* the teardown kills it if we fail before the end */
	close(to_child[0]);
	close(from_child[1]);
	ASSERT_EQ(read(from_child[0], &go, 1), 1);
	ASSERT_EQ(present(a, self->psz), 1);
	COLLECT(a, PUD);
	ASSERT_EQ(mprotect(a, PUD, PROT_READ), 0);
	n = COLLECT(a, PUD);
	EXPECT_EQ(present(a, self->psz), 0)
		TH_LOG("the page table was not shared, or mprotect() did not unshare it");
	EXPECT_EQ(n, 1) dump(_metadata, &self->log);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ(name(self->sel[i].event), "PROTECTION_VMA")
			dump(_metadata, &self->log);
		EXPECT_LE(self->sel[i].start, (unsigned long)a);
		EXPECT_GE(self->sel[i].end, (unsigned long)a + PUD);
	}
	EXPECT_EQ(a[HPAGE - 1], 0x5a);	/* the same page faults back in */
	ASSERT_EQ(write(to_child[1], &go, 1), 1);
	err = wait_child(pid, &status, 10);
	if (err != -3)
		self->child = 0;	/* reaped: teardown must not kill the pid */
	ASSERT_EQ(err, 0) TH_LOG("the child did not exit");
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(to_child[1]);
	close(from_child[0]);
	munmap(map, 2 * PUD);
}

/* fork() write-protects the parent's COW mappings: PROTECTION_PAGE. */
static int fork_and_wait(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

TEST_F(mirror, fork_protection_page)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	COLLECT(a, len);
	ASSERT_EQ(fork_and_wait(), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, PROTECTION_PAGE, a, len);
	anon_free(a, self->psz, NPAGES);
}

/* The same for hugetlb (6.12 said CLEAR). */
TEST_F(mirror, fork_hugetlb_protection_page)
{
	const char *why;
	char *a;
	int n;

	why = hugepages(&self->saved, 4);
	if (missing_outside_guest(!why))
		SKIP(return, "%s", why);
	ASSERT_EQ(why, NULL) TH_LOG("%s", why);
	a = huge();
	ASSERT_NE(a, NULL);
	COLLECT(a, HPAGE);
	ASSERT_EQ(fork_and_wait(), 0);
	n = COLLECT(a, HPAGE);
	EXPECT_ONLY(n, PROTECTION_PAGE, a, HPAGE);
	munmap(a, HPAGE);
}

TEST_F(mirror, fork_dontfork_nothing)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	ASSERT_EQ(madvise(a, len, MADV_DONTFORK), 0);
	COLLECT(a, len);
	ASSERT_EQ(fork_and_wait(), 0);
	n = COLLECT(a, len);
	EXPECT_EQ(n, 0) dump(_metadata, &self->log);
	anon_free(a, self->psz, NPAGES);
}

/*
 * NUMA balancing's scan makes a task's memory inaccessible to catch its
 * next access: PROTECTION_VMA with MMU_NOTIFIER_RANGE_NUMA_HINT, which
 * tells a mirror that nothing changed for it. One node is enough for the
 * scan once kernel.numa_balancing is forced on (scan delay 0 where
 * sched's debugfs has it); the test keeps touching its buffer until the
 * scan comes by.
 */
#define NUMA_PAGES	64

TEST_F_TIMEOUT(mirror, numa_hinting_protection_vma_numa_hint, 120)
{
	long len = NUMA_PAGES * self->psz, saved, delay;
	char *a;
	int i, n, hint = 0, clear = 0, other = 0;
	struct timespec t0, t;

	saved = read_long("/proc/sys/kernel/numa_balancing");
	if (saved < 0)
		SKIP(return, "no kernel.numa_balancing (CONFIG_NUMA_BALANCING is off)");
	if (access("/proc/sys/kernel/numa_balancing", W_OK))
		SKIP(return, "not root: cannot switch kernel.numa_balancing on");
	a = anon(self->psz, NUMA_PAGES);
	ASSERT_NE(a, NULL);
	/* Without CONFIG_SCHED_DEBUG, the default 1 s delay */
	delay = read_long(NUMA_DEBUGFS "scan_delay_ms");
	if (delay >= 0) {
		self->saved.scan_delay_ms = delay;
		ASSERT_EQ(write_str(NUMA_DEBUGFS "scan_delay_ms", "0"), 0);
	}
	self->saved.numa_balancing = saved;
	ASSERT_EQ(write_str("/proc/sys/kernel/numa_balancing", "1"), 0);
	COLLECT(a, len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < NUMA_PAGES; i++)
			a[i * self->psz]++;
		n = COLLECT(a, len);
		for (i = 0; i < n; i++) {
			if (self->sel[i].event == PROTECTION_VMA &&
			    (self->sel[i].flags & RANGE_NUMA_HINT))
				hint++;
			else if (self->sel[i].event == CLEAR)
				clear++;
			else
				other++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!hint && t.tv_sec - t0.tv_sec < 60);
	restore(&self->saved);
	EXPECT_GE(hint, 1) TH_LOG("no PROTECTION_VMA with NUMA_HINT over the buffer in 60 s");
	/*
	 * Hinting faults restore access in place; on a guest with more than
	 * one node (numa=fake=2) one may migrate a page, under a CLEAR of
	 * its own. Nothing else is sent: above all no PROTECTION_VMA
	 * without the hint, which would tell a mirror that mprotect() ran.
	 */
	if (clear)
		TH_LOG("%d CLEAR (NUMA migration) beside the hints", clear);
	EXPECT_EQ(other, 0) dump(_metadata, &self->log);
	anon_free(a, self->psz, NUMA_PAGES);
}

/* clear_refs soft-dirty: SOFT_DIRTY over the whole address space. */
TEST_F(mirror, clear_refs_soft_dirty)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	int n;

	ASSERT_NE(a, NULL);
	COLLECT(a, len);
	ASSERT_EQ(write_str("/proc/self/clear_refs", "4"), 0);
	n = COLLECT(a, len);
	EXPECT_EQ(n, 1) dump(_metadata, &self->log);
	if (n >= 1) {
		EXPECT_STREQ(name(self->sel[0].event), "SOFT_DIRTY");
		EXPECT_EQ(self->sel[0].start, 0);
		EXPECT_EQ(self->sel[0].end, ~0ULL);
	}
	/* Clearing the referenced bits tells nobody */
	ASSERT_EQ(write_str("/proc/self/clear_refs", "1"), 0);
	n = COLLECT(a, len);
	EXPECT_EQ(n, 0) dump(_metadata, &self->log);
	anon_free(a, self->psz, NPAGES);
}

static int uffd_wp_register(char *a, long len, __u64 features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)a, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* userfaultfd write-protection is per page (6.12 said PROTECTION_VMA). */
TEST_F(mirror, uffd_wp_protection_page)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	struct uffdio_writeprotect wp = {
		.range = { .start = (unsigned long)a, .len = len },
	};
	int n, uffd;

	ASSERT_NE(a, NULL);
	uffd = uffd_wp_register(a, len, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	if (missing_outside_guest(uffd >= 0))
		SKIP(return, "userfaultfd write-protect: %s (%s)", strerror(errno),
		     "CONFIG_USERFAULTFD, CONFIG_PTE_MARKER_UFFD_WP");
	ASSERT_GE(uffd, 0) TH_LOG("userfaultfd write-protect: %s", strerror(errno));
	COLLECT(a, len);
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, PROTECTION_PAGE, a, len);
	wp.mode = 0;
	ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	n = COLLECT(a, len);
	EXPECT_ONLY(n, PROTECTION_PAGE, a, len);
	close(uffd);
	anon_free(a, self->psz, NPAGES);
}

/* PAGEMAP_SCAN's write-protection is per page (6.12 said PROTECTION_VMA). */
TEST_F(mirror, pagemap_scan_wp_protection_page)
{
	long len = NPAGES * self->psz;
	char *a = anon(self->psz, NPAGES);
	struct page_region vec[NPAGES];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (unsigned long)a,
		.end = (unsigned long)a + len,
		.vec = (uintptr_t)vec,
		.vec_len = NPAGES,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	int n, uffd, pm;

	ASSERT_NE(a, NULL);
	uffd = uffd_wp_register(a, len, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED);
	if (missing_outside_guest(uffd >= 0))
		SKIP(return, "userfaultfd async write-protect: %s (%s)", strerror(errno),
		     "CONFIG_USERFAULTFD, CONFIG_PTE_MARKER_UFFD_WP");
	ASSERT_GE(uffd, 0) TH_LOG("userfaultfd async write-protect: %s", strerror(errno));
	pm = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(pm, 0);
	memset(a, 1, len);	/* written since registration */
	COLLECT(a, len);
	n = ioctl(pm, PAGEMAP_SCAN, &arg);
	if (n < 0 && errno == ENOTTY)
		SKIP(return, "no PAGEMAP_SCAN: a kernel before 6.7");
	ASSERT_GE(n, 1) TH_LOG("PAGEMAP_SCAN: %s", strerror(errno));
	n = COLLECT(a, len);
	EXPECT_ALL(n, PROTECTION_PAGE);
	close(pm);
	close(uffd);
	anon_free(a, self->psz, NPAGES);
}

/*
 * Pages of this process KSM merged. Where /proc/self/ksm_merging_pages is
 * missing, the pages sharing a KSM page plus the one they share, over the
 * whole machine.
 */
static long ksm_merged(void)
{
	long n = read_long("/proc/self/ksm_merging_pages");

	return n >= 0 ? n : read_long(KSM "pages_sharing") + 1;
}

/*
 * KSM: the first step of a merge only write-protects the candidate
 * (PROTECTION_PAGE; 6.12 said CLEAR), the second replaces it (CLEAR).
 * KSM's run and sleep_millisecs are put back as they were.
 */
TEST_F_TIMEOUT(mirror, ksm_merge_protection_page_then_clear, 120)
{
	long len = NPAGES * self->psz;
	struct saved *sv = &self->saved;
	int i, n, wp = 0, clear = 0;
	time_t t0;
	char *a;

	if (access(KSM "run", F_OK))
		SKIP(return, "no " KSM " (CONFIG_KSM)");
	if (access(KSM "run", W_OK))
		SKIP(return, "not root: cannot start ksmd");
	a = anon(self->psz, NPAGES);
	ASSERT_NE(a, NULL);
	ASSERT_EQ(madvise(a, len, MADV_MERGEABLE), 0);
	ASSERT_EQ(read_str(KSM "run", sv->ksm_run, sizeof(sv->ksm_run)), 0);
	ASSERT_EQ(read_str(KSM "sleep_millisecs", sv->ksm_sleep, sizeof(sv->ksm_sleep)), 0);
	COLLECT(a, len);
	ASSERT_EQ(write_str(KSM "sleep_millisecs", "10"), 0);
	ASSERT_EQ(write_str(KSM "run", "1"), 0);
	for (t0 = time(NULL); time(NULL) - t0 < 90; usleep(100000))
		if (ksm_merged() >= NPAGES)
			break;
	EXPECT_GE(ksm_merged(), NPAGES) TH_LOG("KSM did not merge the buffer's pages");
	n = COLLECT(a, len);
	restore(sv);	/* KSM as it was; unmapping unmerges the buffer */
	for (i = 0; i < n; i++) {
		if (self->sel[i].end - self->sel[i].start != (unsigned long)self->psz)
			continue;
		wp += self->sel[i].event == PROTECTION_PAGE;
		clear += self->sel[i].event == CLEAR;
	}
	EXPECT_GE(wp, 1) dump(_metadata, &self->log);
	EXPECT_GE(clear, 1) dump(_metadata, &self->log);
	anon_free(a, self->psz, NPAGES);
}

/*
 * move_pages() migrates ordinary memory: CLEAR, not MIGRATE (which is
 * device migration only). Needs two NUMA nodes.
 */
TEST_F(mirror, move_pages_clear)
{
	long len = NPAGES * self->psz;
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES], i, n;
	char *a;

	if (access("/sys/devices/system/node/node1", F_OK))
		SKIP(return, "no NUMA node1: boot with numa=fake=2");
	a = anon(self->psz, NPAGES);
	ASSERT_NE(a, NULL);
	for (i = 0; i < NPAGES; i++) {
		pages[i] = a + i * self->psz;
		nodes[i] = 1;
	}
	COLLECT(a, len);
	ASSERT_EQ(syscall(__NR_move_pages, 0, NPAGES, pages, nodes, status, 0), 0);
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(status[i], 1);
	n = COLLECT(a, len);
	EXPECT_ALL(n, CLEAR);
	anon_free(a, self->psz, NPAGES);
}

/*
 * exec: the old mm's mirror gets RELEASE, then the exit_mmap() UNMAP, both
 * over the whole address space. The new image reads the log through the
 * inherited descriptor and reports through its exit status.
 */
static int dump_after_exec(int fd)
{
	struct evlog *log = calloc(1, sizeof(*log));
	int i, release = -1, unmap = -1;

	if (!log || events(fd, log))
		return 2;
	for (i = 0; i < log->n; i++) {
		if (log->ev[i].start || log->ev[i].end != ~0ULL)
			continue;
		if (log->ev[i].event == RELEASE && release < 0)
			release = i;
		if (log->ev[i].event == UNMAP && unmap < 0)
			unmap = i;
	}
	for (i = 0; i < log->n; i++)
		fprintf(stderr, "#   after exec, event %d: %s [%#llx, %#llx)\n", i,
			name(log->ev[i].event), (unsigned long long)log->ev[i].start,
			(unsigned long long)log->ev[i].end);
	return release >= 0 && unmap > release ? 0 : 1;
}

TEST_F(mirror, exec_release_then_unmap)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int fd = open(DEV, O_RDWR);
		char sfd[16];

		if (fd < 0)
			_exit(3);
		snprintf(sfd, sizeof(sfd), "%d", fd);
		execl("/proc/self/exe", "mmu_notifier_events", "--events-after-exec", sfd, NULL);
		_exit(4);
	}
	ASSERT_EQ(wait_child(pid, &status, 20), 0) TH_LOG("the new image did not exit in 20 s");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0)
		TH_LOG("1: no RELEASE then UNMAP over [0, ~0); 2: no log; 3: open; 4: exec");
}

/*
 * mprotect() of a mapping at address 0 must end the invalidation it
 * started: 6.12 used address 0 as "not started". The tracepoints count
 * starts and ends of this process. Last: on 6.12 the mirror's
 * invalidation stays open, and closing the mirror then waits forever.
 */
TEST_F(mirror, mprotect_at_address_zero_ends_what_it_starts)
{
	long min = read_long("/proc/sys/vm/mmap_min_addr");
	char filter[64], pid[32];
	char *a;
	int n, starts, ends, err;

	if (!virtstack_guest())
		SKIP(return, "sets vm.mmap_min_addr to 0: " GUEST_ONLY);
	if (missing_outside_stack(!access(TRACING "events/mmu_notifier/enable", W_OK)))
		SKIP(return, "no mmu_notifier tracepoints in " TRACING "events: %s",
		     "tracefs absent, or a kernel without the virtstack stack (patch 2007)");
	ASSERT_EQ(access(TRACING "events/mmu_notifier/enable", W_OK), 0)
		TH_LOG("no mmu_notifier tracepoints on the stack's kernel");
	ASSERT_GE(min, 0);
	ASSERT_EQ(write_str(TRACING "events/mmu_notifier/enable", "0"), 0);
	self->saved.trace_filter = true;
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	ASSERT_EQ(write_str(TRACING "events/mmu_notifier/filter", filter), 0);
	ASSERT_EQ(write_str(TRACING "trace", ""), 0);
	self->saved.mmap_min_addr = min;
	ASSERT_EQ(write_str("/proc/sys/vm/mmap_min_addr", "0"), 0);
	a = mmap(NULL, self->psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	err = errno;
	put_long("/proc/sys/vm/mmap_min_addr", min);
	self->saved.mmap_min_addr = -1;
	ASSERT_EQ(a, NULL) TH_LOG("mmap at 0: %s", strerror(err));
	/* Hide from the compiler that this is a store through NULL. */
	__asm__ volatile("" : "+r" (a));
	a[0] = 1;
	COLLECT(a, self->psz);
	ASSERT_EQ(write_str(TRACING "events/mmu_notifier/enable", "1"), 0);
	ASSERT_EQ(mprotect(a, self->psz, PROT_READ), 0);
	write_str(TRACING "events/mmu_notifier/enable", "0");
	n = COLLECT(a, self->psz);
	EXPECT_ONLY(n, PROTECTION_VMA, a, self->psz);
	snprintf(pid, sizeof(pid), "-%d ", getpid());
	starts = trace_count("mmu_notifier_invalidate_range_start", pid);
	ends = trace_count("mmu_notifier_invalidate_range_end", pid);
	EXPECT_EQ(starts, 1);
	EXPECT_EQ(ends, starts);
	restore(&self->saved);
	munmap(a, self->psz);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--events-after-exec"))
		return dump_after_exec(atoi(argv[2]));
	return test_harness_run(argc, argv);
}
