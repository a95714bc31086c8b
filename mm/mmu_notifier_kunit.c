// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for mmu_notifier invalidation events: which event, range,
 * flags and owner an operation sends to the secondary MMUs of an mm.
 *
 * Each case gives its kthread a user mm (kunit_vm_mmap(), or its own
 * mm_alloc() where the case ends the mm), maps a few anonymous pages and
 * registers a recorder twice: an interval notifier over the mapping and an
 * hlist notifier over the whole mm. The recorder never sleeps: it also sees
 * non-blocking invalidations. What userspace alone can trigger (mprotect,
 * mremap, fork, clear_refs, KSM, uffd-wp) is checked in the guest by
 * tools/testing/selftests/virtstack/mmu_notifier_events.c.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#define NR_PAGES	4
#define LOG_SIZE	64

struct mn_ev {
	enum mmu_notifier_event event;
	unsigned long start, end;
	unsigned int flags;
	void *owner;
	int non_block;		/* current->non_block_count in the callback */
	/* The consumer helpers' answers, asked in the callback */
	bool keeps_pages, write_protects;
};

struct mn_log {
	struct mn_ev ev[LOG_SIZE];
	int n, lost;
};

struct mn_rec {
	struct mmu_interval_notifier mni;
	struct mmu_notifier mn;
	struct mm_struct *mm;
	spinlock_t lock;	/* the logs and counters; callbacks never sleep */
	struct mn_log itree;	/* interval notifier, window = the mapping */
	struct mn_log hlist;	/* hlist notifier, whole mm */
	int hl_start, hl_end, hl_release;
	bool mni_on, mn_on;
};

static int non_block_count(void)
{
#ifdef CONFIG_DEBUG_ATOMIC_SLEEP
	return current->non_block_count;
#else
	return 0;
#endif
}

static void mn_log_add(struct mn_rec *rec, struct mn_log *log,
		       const struct mmu_notifier_range *range)
{
	struct mn_ev *ev;

	if (log->n == LOG_SIZE) {
		log->lost++;
		return;
	}
	ev = &log->ev[log->n++];
	ev->event = range->event;
	ev->start = range->start;
	ev->end = range->end;
	ev->flags = range->flags;
	ev->owner = range->owner;
	ev->non_block = non_block_count();
	ev->keeps_pages = mmu_notifier_range_keeps_pages(range);
	ev->write_protects = mmu_notifier_range_write_protects(range);
}

static bool mn_rec_invalidate(struct mmu_interval_notifier *mni,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mn_rec *rec = container_of(mni, struct mn_rec, mni);

	spin_lock(&rec->lock);
	mmu_interval_set_seq(mni, cur_seq);
	mn_log_add(rec, &rec->itree, range);
	spin_unlock(&rec->lock);
	return true;
}

static const struct mmu_interval_notifier_ops mn_rec_itree_ops = {
	.invalidate = mn_rec_invalidate,
};

static int mn_rec_start(struct mmu_notifier *mn,
			const struct mmu_notifier_range *range)
{
	struct mn_rec *rec = container_of(mn, struct mn_rec, mn);

	spin_lock(&rec->lock);
	rec->hl_start++;
	mn_log_add(rec, &rec->hlist, range);
	spin_unlock(&rec->lock);
	return 0;
}

static void mn_rec_end(struct mmu_notifier *mn,
		       const struct mmu_notifier_range *range)
{
	struct mn_rec *rec = container_of(mn, struct mn_rec, mn);

	spin_lock(&rec->lock);
	rec->hl_end++;
	spin_unlock(&rec->lock);
}

static void mn_rec_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mn_rec *rec = container_of(mn, struct mn_rec, mn);

	spin_lock(&rec->lock);
	rec->hl_release++;
	spin_unlock(&rec->lock);
}

static const struct mmu_notifier_ops mn_rec_hlist_ops = {
	.invalidate_range_start = mn_rec_start,
	.invalidate_range_end = mn_rec_end,
	.release = mn_rec_release,
};

static void mn_rec_remove(struct mn_rec *rec)
{
	if (rec->mni_on)
		mmu_interval_notifier_remove(&rec->mni);
	if (rec->mn_on)
		mmu_notifier_unregister(&rec->mn, rec->mm);
	rec->mni_on = false;
	rec->mn_on = false;
}

static void mn_rec_remove_action(void *data)
{
	mn_rec_remove(data);
}

/* Watch [start, start + len) of mm with both kinds of notifier. */
static struct mn_rec *mn_rec_add(struct kunit *test, struct mm_struct *mm,
				 unsigned long start, unsigned long len)
{
	struct mn_rec *rec = kunit_kzalloc(test, sizeof(*rec), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, rec);
	spin_lock_init(&rec->lock);
	rec->mm = mm;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mn_rec_remove_action, rec), 0);
	KUNIT_ASSERT_EQ(test, mmu_interval_notifier_insert(&rec->mni, mm, start, len,
							   &mn_rec_itree_ops), 0);
	rec->mni_on = true;
	rec->mn.ops = &mn_rec_hlist_ops;
	KUNIT_ASSERT_EQ(test, mmu_notifier_register(&rec->mn, mm), 0);
	rec->mn_on = true;
	return rec;
}

/*
 * What every invalidation must satisfy: a non-empty range, the blockable
 * flag (nothing here is the OOM reaper), an owner only for the events that
 * define one, and as many hlist ends as starts.
 */
static void mn_invariants(struct kunit *test, struct mn_rec *rec)
{
	struct mn_log *logs[] = { &rec->itree, &rec->hlist };
	int i, j;

	for (j = 0; j < ARRAY_SIZE(logs); j++) {
		KUNIT_EXPECT_EQ(test, logs[j]->lost, 0);
		for (i = 0; i < logs[j]->n; i++) {
			struct mn_ev *ev = &logs[j]->ev[i];

			KUNIT_EXPECT_LT(test, ev->start, ev->end);
			KUNIT_EXPECT_TRUE_MSG(test, ev->flags & MMU_NOTIFIER_RANGE_BLOCKABLE,
					      "event %d [%lx, %lx) not blockable",
					      ev->event, ev->start, ev->end);
			if (ev->event != MMU_NOTIFY_MIGRATE &&
			    ev->event != MMU_NOTIFY_EXCLUSIVE)
				KUNIT_EXPECT_PTR_EQ_MSG(test, ev->owner, NULL,
							"event %d carries an owner",
							ev->event);
		}
	}
	KUNIT_EXPECT_EQ(test, rec->hl_start, rec->hl_end);
}

static void mn_expect(struct kunit *test, const struct mn_ev *ev,
		      enum mmu_notifier_event event, unsigned long start,
		      unsigned long end)
{
	KUNIT_EXPECT_EQ(test, ev->event, event);
	KUNIT_EXPECT_EQ(test, ev->start, start);
	KUNIT_EXPECT_EQ(test, ev->end, end);
}

/*
 * What the consumers' helpers (mmu_notifier_range_keeps_pages(),
 * mmu_notifier_range_write_protects()) answered for an invalidation whose
 * operation the case performed, and so knows: the operation freed or
 * replaced pages, or entries, so neither helper may say they stay...
 */
static void mn_expect_not_kept(struct kunit *test, const struct mn_ev *ev)
{
	KUNIT_EXPECT_FALSE_MSG(test, ev->keeps_pages,
			       "event %d [%lx, %lx): pages changed, the helper says kept",
			       ev->event, ev->start, ev->end);
	KUNIT_EXPECT_FALSE_MSG(test, ev->write_protects,
			       "event %d [%lx, %lx): pages changed, the helper says write-protect only",
			       ev->event, ev->start, ev->end);
}

/* ...or it only took write permission away, and both must say so. */
static void mn_expect_write_protected(struct kunit *test, const struct mn_ev *ev)
{
	KUNIT_EXPECT_TRUE_MSG(test, ev->keeps_pages,
			      "event %d [%lx, %lx): only write-protected, the helper says freed",
			      ev->event, ev->start, ev->end);
	KUNIT_EXPECT_TRUE_MSG(test, ev->write_protects,
			      "event %d [%lx, %lx): only write-protected, the helper says more",
			      ev->event, ev->start, ev->end);
}

/* An anonymous private mapping of NR_PAGES in the case's own user mm. */
static unsigned long mn_map(struct kunit *test)
{
	unsigned long a = kunit_vm_mmap(test, NULL, 0, NR_PAGES * PAGE_SIZE,
					PROT_READ | PROT_WRITE,
					MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, a, 0, "kunit_vm_mmap() failed");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(a), "vm_mmap(): %ld", (long)a);
	return a;
}

static void mn_populate(struct kunit *test, unsigned long a, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		KUNIT_ASSERT_EQ(test, put_user(i + 1, (int __user *)(a + i * PAGE_SIZE)), 0);
}

/* A read fault maps the zero page: no secondary MMU needs telling. */
static void mn_fault_in_no_event(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct mn_rec *rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	int v;

	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)a), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
	KUNIT_EXPECT_EQ(test, rec->itree.n, 0);
	KUNIT_EXPECT_EQ(test, rec->hl_start, 0);
	mn_invariants(test, rec);
}

/* Writing over the zero page replaces it: CLEAR over exactly that page. */
static void mn_cow_fault_clear(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct mn_rec *rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	int v;

	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)(a + PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
	KUNIT_ASSERT_EQ(test, put_user(7, (int __user *)(a + PAGE_SIZE)), 0);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_CLEAR, a + PAGE_SIZE, a + 2 * PAGE_SIZE);
	mn_expect_not_kept(test, &rec->itree.ev[0]);	/* the zero page went */
	mn_invariants(test, rec);
}

static void mn_munmap_unmap(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct mn_rec *rec;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, vm_munmap(a + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_UNMAP, a + PAGE_SIZE, a + 2 * PAGE_SIZE);
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	KUNIT_EXPECT_EQ(test, rec->hl_start, 1);
	mn_invariants(test, rec);
}

static void mn_mmap_fixed_overlay_unmap(struct kunit *test)
{
	unsigned long a = mn_map(test), b;
	struct mn_rec *rec;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	b = vm_mmap(NULL, a, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, b, a);
	KUNIT_ASSERT_GE(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_UNMAP, a, a + NR_PAGES * PAGE_SIZE);
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	mn_invariants(test, rec);
}

/*
 * munmap() of one page of a THP: the PMD is split first, a CLEAR over the
 * whole huge page, then the page is unmapped.
 */
static void mn_thp_split_before_unmap(struct kunit *test)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	unsigned long len = 2 * HPAGE_PMD_SIZE, a, h;
	struct mn_rec *rec;
	struct page *page;
	bool huge;
	int i;

	a = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
			  MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !a || IS_ERR_VALUE(a), "vm_mmap(): %ld", (long)a);
	h = ALIGN(a, HPAGE_PMD_SIZE);
	KUNIT_ASSERT_EQ(test, put_user(1, (int __user *)h), 0);
	KUNIT_ASSERT_EQ(test, get_user_pages_fast(h, 1, 0, &page), 1);
	huge = folio_test_pmd_mappable(page_folio(page));
	put_page(page);
	if (!huge)
		kunit_skip(test, "no THP at %#lx (THP not \"always\", or none free)", h);

	rec = mn_rec_add(test, current->mm, a, len);
	KUNIT_ASSERT_EQ(test, vm_munmap(h + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_ASSERT_GE(test, rec->itree.n, 2);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_CLEAR, h, h + HPAGE_PMD_SIZE);
	/* The split changes every entry of the huge page: a CLEAR */
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	for (i = 1; i < rec->itree.n; i++)
		if (rec->itree.ev[i].event == MMU_NOTIFY_UNMAP)
			break;
	KUNIT_ASSERT_LT_MSG(test, i, rec->itree.n, "no UNMAP after the split");
	mn_expect(test, &rec->itree.ev[i], MMU_NOTIFY_UNMAP, h + PAGE_SIZE, h + 2 * PAGE_SIZE);
	mn_invariants(test, rec);
#else
	kunit_skip(test, "CONFIG_TRANSPARENT_HUGEPAGE is off");
#endif
}

/* The core of MADV_DONTNEED: CLEAR, and the pages read back as zero. */
static void mn_zap_clear(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct vm_area_struct *vma;
	struct mn_rec *rec;
	int v;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, a);
	if (vma)
		zap_page_range_single(vma, a, 2 * PAGE_SIZE, NULL);
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_NOT_NULL(test, vma);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_CLEAR, a, a + 2 * PAGE_SIZE);
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)a), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)(a + 2 * PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, v, 3);
	mn_invariants(test, rec);
}

/* A retry is asked for exactly when an invalidation hit the window. */
static void mn_interval_read_retry(struct kunit *test)
{
	unsigned long a = mn_map(test), seq;
	struct mn_rec *rec;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, 2 * PAGE_SIZE);
	seq = mmu_interval_read_begin(&rec->mni);
	KUNIT_ASSERT_EQ(test, vm_munmap(a + 3 * PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_FALSE(test, mmu_interval_read_retry(&rec->mni, seq));
	KUNIT_EXPECT_EQ(test, rec->itree.n, 0);
	KUNIT_ASSERT_EQ(test, vm_munmap(a + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, mmu_interval_read_retry(&rec->mni, seq));
	KUNIT_EXPECT_EQ(test, rec->itree.n, 1);
	mn_invariants(test, rec);
}

/*
 * Plain-initialised ranges carry no owner, whatever the stack held: fill
 * this thread's stack with a pattern first, then send UNMAP events.
 */
static noinline void mn_dirty_stack(void)
{
	unsigned long junk[192];	/* below CONFIG_FRAME_WARN with KASAN */

	memset(junk, 0x5a, sizeof(junk));
	barrier_data(junk);
}

static void mn_owner_null(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct mn_rec *rec;
	int i;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	for (i = 0; i < NR_PAGES; i++) {
		mn_dirty_stack();
		KUNIT_ASSERT_EQ(test, vm_munmap(a + i * PAGE_SIZE, PAGE_SIZE), 0);
	}
	KUNIT_ASSERT_EQ(test, rec->itree.n, NR_PAGES);
	for (i = 0; i < NR_PAGES; i++)
		KUNIT_EXPECT_PTR_EQ(test, rec->itree.ev[i].owner, NULL);
	mn_invariants(test, rec);
}

/*
 * A non-blocking invalidation (the OOM reaper's) must be run with sleeping
 * forbidden for interval notifiers as it is for hlist ones, so that
 * CONFIG_DEBUG_ATOMIC_SLEEP reports a callback that sleeps anyway.
 */
static void mn_nonblock_checked(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct mmu_notifier_range range;
	struct mn_rec *rec;

	if (!IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP))
		kunit_skip(test, "needs CONFIG_DEBUG_ATOMIC_SLEEP");
	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, current->mm, a,
				a + PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, mmu_notifier_invalidate_range_start_nonblock(&range), 0);
	mmu_notifier_invalidate_range_end(&range);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	KUNIT_ASSERT_EQ(test, rec->hlist.n, 1);
	KUNIT_EXPECT_FALSE(test, rec->itree.ev[0].flags & MMU_NOTIFIER_RANGE_BLOCKABLE);
	KUNIT_EXPECT_GT_MSG(test, rec->hlist.ev[0].non_block, 0, "hlist callback may sleep");
	KUNIT_EXPECT_GT_MSG(test, rec->itree.ev[0].non_block, 0,
			    "interval callback of a non-blocking range may sleep");
	KUNIT_EXPECT_EQ(test, rec->hl_start, rec->hl_end);
}

/*
 * The end of an mm: interval notifiers get RELEASE then the exit_mmap()
 * UNMAP, both over the whole address space; hlist notifiers get release()
 * and nothing after it.
 */
static void mn_mm_exit_release_then_unmap(struct kunit *test)
{
	struct mm_struct *mm;
	struct mn_rec *rec;
	unsigned long a;

	KUNIT_ASSERT_NULL(test, current->mm);
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	a = vm_mmap(NULL, 0, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (!IS_ERR_VALUE(a) && put_user(1, (int __user *)a))
		a = -EFAULT;
	kthread_unuse_mm(mm);
	if (IS_ERR_VALUE(a)) {
		mmput(mm);
		KUNIT_FAIL(test, "mapping and touching a page failed: %ld", (long)a);
		return;
	}
	rec = mn_rec_add(test, mm, a, NR_PAGES * PAGE_SIZE);
	mmput(mm);

	KUNIT_EXPECT_EQ(test, rec->hl_release, 1);
	KUNIT_EXPECT_EQ(test, rec->hl_start, 0);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 2);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_RELEASE, 0, ULONG_MAX);
	mn_expect(test, &rec->itree.ev[1], MMU_NOTIFY_UNMAP, 0, ULONG_MAX);
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	mn_expect_not_kept(test, &rec->itree.ev[1]);
	mn_invariants(test, rec);
	mn_rec_remove(rec);
}

/* Device migration: MIGRATE over the collected range, with the caller's owner. */
#ifdef CONFIG_DEVICE_MIGRATION	/* struct migrate_vma needs CONFIG_MIGRATION */
static void mn_migrate_vma_owner(struct kunit *test)
{
	unsigned long src[NR_PAGES] = {}, dst[NR_PAGES] = {};
	unsigned long a = mn_map(test);
	static int cookie;
	struct migrate_vma args = {
		.src = src,
		.dst = dst,
		.start = a,
		.end = a + NR_PAGES * PAGE_SIZE,
		.pgmap_owner = &cookie,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct mn_rec *rec;
	int ret = -EFAULT, v, i;

	mn_populate(test, a, NR_PAGES);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	mmap_read_lock(current->mm);
	args.vma = vma_lookup(current->mm, a);
	if (args.vma)
		ret = migrate_vma_setup(&args);
	if (!ret) {
		/* No destination pages: everything is restored in place. */
		migrate_vma_pages(&args);
		migrate_vma_finalize(&args);
	}
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, args.cpages, NR_PAGES);
	KUNIT_ASSERT_GE(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_MIGRATE, a, a + NR_PAGES * PAGE_SIZE);
	mn_expect_not_kept(test, &rec->itree.ev[0]);
	KUNIT_EXPECT_PTR_EQ(test, rec->itree.ev[0].owner, (void *)&cookie);
	for (i = 0; i < NR_PAGES; i++) {
		KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)(a + i * PAGE_SIZE)), 0);
		KUNIT_EXPECT_EQ(test, v, i + 1);
	}
	mn_invariants(test, rec);
}
#else
static void mn_migrate_vma_owner(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DEVICE_MIGRATION");
}
#endif

/*
 * Device-exclusive access: EXCLUSIVE with the caller's owner when it is
 * taken, EXCLUSIVE with no owner when the CPU takes the page back.
 */
static void mn_device_exclusive_owner(struct kunit *test)
{
	unsigned long a = mn_map(test);
	struct page *page = NULL;
	static int cookie;
	struct mn_rec *rec;
	int ret = -EFAULT, v;

	if (!IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		kunit_skip(test, "needs CONFIG_DEVICE_PRIVATE");
	mn_populate(test, a, 1);
	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	mmap_read_lock(current->mm);
	ret = make_device_exclusive_range(current->mm, a, a + PAGE_SIZE, &page, &cookie);
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_EQ(test, ret, 1);
	KUNIT_ASSERT_NOT_NULL(test, page);
	unlock_page(page);
	put_page(page);
	KUNIT_ASSERT_GE(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[rec->itree.n - 1], MMU_NOTIFY_EXCLUSIVE, a, a + PAGE_SIZE);
	/* The entry is swapped for a device-exclusive one: entries changed */
	mn_expect_not_kept(test, &rec->itree.ev[rec->itree.n - 1]);
	KUNIT_EXPECT_PTR_EQ(test, rec->itree.ev[rec->itree.n - 1].owner, (void *)&cookie);

	rec->itree.n = 0;
	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)a), 0);
	KUNIT_EXPECT_EQ(test, v, 1);
	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_EXCLUSIVE, a, a + PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, rec->itree.ev[0].owner, NULL);
	mn_invariants(test, rec);
}

/*
 * Writeback cleaning a shared mapping (folio_mkclean()) only takes write
 * access away: PROTECTION_PAGE over the page, which the helpers call
 * kept and write-protect only, and the page is still the one mapped.
 */
static void mn_mkclean_protection_page(struct kunit *test)
{
	struct folio *folio;
	struct file *file;
	struct mn_rec *rec;
	unsigned long a;
	int v;

	file = shmem_kernel_file_setup("mn_mkclean", NR_PAGES * PAGE_SIZE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "shmem file: %d", PTR_ERR_OR_ZERO(file));
	a = kunit_vm_mmap(test, file, 0, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, 0);
	fput(file);
	KUNIT_ASSERT_FALSE_MSG(test, !a || IS_ERR_VALUE(a), "vm_mmap(): %ld", (long)a);
	KUNIT_ASSERT_EQ(test, put_user(42, (int __user *)a), 0);	/* dirty */

	rec = mn_rec_add(test, current->mm, a, NR_PAGES * PAGE_SIZE);
	folio = filemap_lock_folio(file->f_mapping, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(folio));
	KUNIT_EXPECT_EQ(test, folio_mkclean(folio), 1);
	folio_unlock(folio);
	folio_put(folio);

	KUNIT_ASSERT_EQ(test, rec->itree.n, 1);
	mn_expect(test, &rec->itree.ev[0], MMU_NOTIFY_PROTECTION_PAGE, a, a + PAGE_SIZE);
	mn_expect_write_protected(test, &rec->itree.ev[0]);
	KUNIT_ASSERT_EQ(test, get_user(v, (int __user *)a), 0);
	KUNIT_EXPECT_EQ(test, v, 42);
	KUNIT_EXPECT_EQ(test, rec->itree.n, 1);	/* a read needs nothing */
	mn_invariants(test, rec);
}

static struct kunit_case mmu_notifier_event_cases[] = {
	KUNIT_CASE(mn_fault_in_no_event),
	KUNIT_CASE(mn_cow_fault_clear),
	KUNIT_CASE(mn_munmap_unmap),
	KUNIT_CASE(mn_mmap_fixed_overlay_unmap),
	KUNIT_CASE(mn_zap_clear),
	KUNIT_CASE(mn_thp_split_before_unmap),
	KUNIT_CASE(mn_interval_read_retry),
	KUNIT_CASE(mn_owner_null),
	KUNIT_CASE(mn_nonblock_checked),
	KUNIT_CASE(mn_mm_exit_release_then_unmap),
	KUNIT_CASE(mn_migrate_vma_owner),
	KUNIT_CASE(mn_device_exclusive_owner),
	KUNIT_CASE(mn_mkclean_protection_page),
	{}
};

static struct kunit_suite mmu_notifier_event_suite = {
	.name = "mmu_notifier_event",
	.test_cases = mmu_notifier_event_cases,
};

kunit_test_suite(mmu_notifier_event_suite);

MODULE_DESCRIPTION("KUnit tests for mmu_notifier invalidation events");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
