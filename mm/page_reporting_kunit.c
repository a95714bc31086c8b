// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for free page reporting (mm/page_reporting.c), through a fake
 * reporting device that checks every block it is handed and remembers it.
 *
 * Only one device can be registered: where a real one (virtio_balloon with
 * free-page-reporting) holds the slot, every case skips and says so. The
 * cases run passes at once by rescheduling the device's delayed work, and
 * free blocks of MAX_PAGE_ORDER, which never sit in per-CPU lists. They
 * test reporting, so page_reporting.enable=0 fails them; any
 * page_reporting_delay_ms works (the one case that waits out the delay
 * skips above 8 s), and page_reporting_order is put back after each.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/page-isolation.h>
#include <linux/page_reporting.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "page_reporting.h"	/* page_reporting_order */

#define NR_BLOCKS	8
#define BLOCK_ORDER	MAX_PAGE_ORDER
#define MAX_KICKS	100
#define MAX_SPLIT_TRIES	256

struct pr_fake {
	struct page_reporting_dev_info pr;
	struct xarray seen;		/* head pfn -> order, reported */
	struct xarray failed;		/* head pfn -> order, in a failed call */
	atomic_t in_report;
	atomic_long_t calls;
	atomic_long_t failures;
	atomic_long_t pages;		/* base pages of successful calls */
	atomic_long_t blocks[NR_PAGE_ORDERS];	/* blocks of successful calls */
	atomic_long_t failed_blocks[NR_PAGE_ORDERS];	/* blocks of failed calls */
	atomic_long_t bad;		/* entries that broke a rule */
	const char *why;		/* the first rule broken */
	long fail_call;			/* this call fails with -EIO */
	bool registered;
	bool was_registered;
	int saved_order;		/* page_reporting_order before it */
	int set_order;			/* and after its registration */
};

/* The worker cannot use KUnit's assertions: count, and assert later. */
static void pr_fake_bad(struct pr_fake *f, const char *why)
{
	if (atomic_long_inc_return(&f->bad) == 1)
		WRITE_ONCE(f->why, why);
}

static int pr_fake_report(struct page_reporting_dev_info *pr,
			  struct scatterlist *sgl, unsigned int nents)
{
	struct pr_fake *f = container_of(pr, struct pr_fake, pr);
	long call = atomic_long_inc_return(&f->calls);
	bool fail = call == READ_ONCE(f->fail_call);
	struct scatterlist *sg;
	unsigned int i;

	if (atomic_inc_return(&f->in_report) > 1)
		pr_fake_bad(f, "report() ran twice at once");
	if (!nents || nents > PAGE_REPORTING_CAPACITY)
		pr_fake_bad(f, "nents out of range");

	for_each_sg(sgl, sg, nents, i) {
		struct page *page = sg_page(sg);
		unsigned long pfn = page_to_pfn(page);
		unsigned int order = get_order(sg->length);

		if (sg->offset || sg->length != PAGE_SIZE << order)
			pr_fake_bad(f, "an entry is not one whole block");
		if (order < READ_ONCE(page_reporting_order))
			pr_fake_bad(f, "a block below page_reporting_order");
		if (!IS_ALIGNED(pfn, 1UL << order))
			pr_fake_bad(f, "a block not aligned to its order");
		if (PageBuddy(page) || page_count(page))
			pr_fake_bad(f, "a block still on the free list or in use");
		if (sg_is_last(sg) != (i == nents - 1))
			pr_fake_bad(f, "the end mark is not on the last entry");
		if (xa_err(xa_store(fail ? &f->failed : &f->seen, pfn,
				    xa_mk_value(order), GFP_KERNEL)))
			pr_fake_bad(f, "out of memory recording a block");
		/* Only a later successful call may flag it. */
		if (fail)
			xa_erase(&f->seen, pfn);
		if (order >= NR_PAGE_ORDERS) {
			pr_fake_bad(f, "a block above MAX_PAGE_ORDER");
			continue;
		}
		if (fail) {
			atomic_long_inc(&f->failed_blocks[order]);
		} else {
			atomic_long_add(1L << order, &f->pages);
			atomic_long_inc(&f->blocks[order]);
		}
	}

	/* report() runs in process context, unlocked: it may sleep. */
	if (call % 8 == 1)
		usleep_range(1000, 2000);
	atomic_dec(&f->in_report);
	if (fail) {
		atomic_long_inc(&f->failures);
		return -EIO;
	}
	return 0;
}

static void pr_fake_init(struct pr_fake *f)
{
	memset(f, 0, sizeof(*f));
	f->pr.report = pr_fake_report;
	xa_init(&f->seen);
	xa_init(&f->failed);
}

static void pr_fake_registered(struct pr_fake *f)
{
	f->registered = true;
	if (!f->was_registered)
		f->set_order = READ_ONCE(page_reporting_order);
	f->was_registered = true;
}

static void pr_fake_unregister(struct pr_fake *f)
{
	if (f->registered)
		page_reporting_unregister(&f->pr);
	f->registered = false;
}

/*
 * The first registration sets page_reporting_order for good (to
 * pageblock_order, as the fake asks for no order): put back what it was,
 * so that a device registered after the suite (a modular balloon) gets
 * its own; unless a user changed it meanwhile. The static key it enabled
 * stays on, as for every device.
 */
static void pr_fake_destroy(struct pr_fake *f)
{
	pr_fake_unregister(f);
	if (f->was_registered && READ_ONCE(page_reporting_order) == f->set_order)
		WRITE_ONCE(page_reporting_order, f->saved_order);
	xa_destroy(&f->seen);
	xa_destroy(&f->failed);
}

KUNIT_DEFINE_ACTION_WRAPPER(pr_fake_destroy_action, pr_fake_destroy, struct pr_fake *);

/* A registered fake device, or the case skips: the slot is taken. */
static struct pr_fake *pr_fake_get(struct kunit *test)
{
	struct pr_fake *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, f);
	pr_fake_init(f);
	f->saved_order = READ_ONCE(page_reporting_order);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pr_fake_destroy_action, f), 0);
	err = page_reporting_register(&f->pr);
	if (err == -EBUSY)
		kunit_skip(test, "another reporting device holds the slot (a balloon?)");
	KUNIT_ASSERT_EQ(test, err, 0);
	pr_fake_registered(f);
	return f;
}

/* Runs one reporting pass now, and waits for it. */
static void pr_fake_kick(struct pr_fake *f)
{
	mod_delayed_work(system_freezable_wq, &f->pr.work, 0);
	flush_delayed_work(&f->pr.work);
}

/* Was the block at @pfn of @order reported whole, alone or inside a larger one? */
static bool pr_fake_covers(struct xarray *xa, unsigned long pfn, unsigned int order)
{
	unsigned int o;

	for (o = order; o <= MAX_PAGE_ORDER; o++) {
		void *e = xa_load(xa, ALIGN_DOWN(pfn, 1UL << o));

		if (e && xa_to_value(e) == o)
			return true;
	}
	return false;
}

/* The order of the free block that holds @page, or -1; under zone->lock. */
static int free_block_order(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned int o;

	for (o = 0; o <= MAX_PAGE_ORDER; o++) {
		struct page *head = pfn_to_page(ALIGN_DOWN(pfn, 1UL << o));

		if (PageBuddy(head) && page_private(head) == o)
			return o;
	}
	return -1;
}

/*
 * Free blocks of @order not yet reported in @zone. (A zone too small for
 * the watermark check of a pass, such as ZONE_DMA, is never reported.)
 */
static unsigned long unreported_blocks(struct zone *zone, unsigned int order)
{
	unsigned long n = 0;
	struct page *page;
	int mt;

	spin_lock_irq(&zone->lock);
	for (mt = 0; mt < MIGRATE_TYPES; mt++) {
		if (is_migrate_isolate(mt))
			continue;
		list_for_each_entry(page, &zone->free_area[order].free_list[mt], buddy_list)
			n += !PageReported(page);
	}
	spin_unlock_irq(&zone->lock);
	return n;
}

static unsigned long vm_event(struct kunit *test, enum vm_event_item item)
{
	unsigned long *ev = kunit_kcalloc(test, NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	unsigned long v;

	KUNIT_ASSERT_NOT_NULL(test, ev);
	all_vm_events(ev);
	v = ev[item];
	kunit_kfree(test, ev);
	return v;
}

/* The reported[] or failed[] blocks of @order, summed over every zone. */
static unsigned long zone_blocks(bool failed, unsigned int order)
{
	unsigned long n = 0;
	int nid, z;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];

			if (!populated_zone(zone))
				continue;
			spin_lock_irq(&zone->lock);
			n += failed ? zone->reporting.failed[order] :
				      zone->reporting.reported[order];
			spin_unlock_irq(&zone->lock);
		}
	}
	return n;
}

/* Allocates @n blocks of BLOCK_ORDER into @pages; skips if none can be had. */
static int alloc_blocks(struct kunit *test, struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		pages[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL,
				       BLOCK_ORDER);
		if (!pages[i])
			break;
	}
	if (!i)
		kunit_skip(test, "no free block of order %d", BLOCK_ORDER);
	return i;
}

static void free_blocks(struct page **pages, unsigned long *pfns, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		pfns[i] = page_to_pfn(pages[i]);
		__free_pages(pages[i], BLOCK_ORDER);
	}
}

/* Kicks passes until every one of @n blocks was reported; how many it took. */
static int kick_until_covered(struct pr_fake *f, unsigned long *pfns, int n)
{
	int kicks, i;

	for (kicks = 1; kicks <= MAX_KICKS; kicks++) {
		pr_fake_kick(f);
		for (i = 0; i < n; i++)
			if (!pr_fake_covers(&f->seen, pfns[i], BLOCK_ORDER))
				break;
		if (i == n)
			return kicks;
	}
	return -1;
}

/* Every entry the device was handed followed the rules. */
static void expect_fake_clean(struct kunit *test, struct pr_fake *f)
{
	KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&f->bad), 0,
			    "first broken rule: %s", READ_ONCE(f->why));
}

static void register_busy(struct kunit *test)
{
	struct pr_fake *a = pr_fake_get(test);
	struct pr_fake *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, b);
	pr_fake_init(b);
	b->saved_order = a->saved_order;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pr_fake_destroy_action, b), 0);

	err = page_reporting_register(&b->pr);
	if (!err)
		pr_fake_registered(b);
	KUNIT_ASSERT_EQ(test, err, -EBUSY);
	pr_fake_unregister(a);
	KUNIT_ASSERT_EQ(test, page_reporting_register(&b->pr), 0);
	pr_fake_registered(b);
	/* Unregistering a device that is not the registered one is a no-op. */
	page_reporting_unregister(&a->pr);
	err = page_reporting_register(&a->pr);
	if (!err)
		pr_fake_registered(a);
	KUNIT_EXPECT_EQ(test, err, -EBUSY);
}

/*
 * Registration queues a pass; every block it reports is free, whole and
 * isolated. Some blocks are freed first, since a device registered before
 * (the balloon) may have reported everything.
 */
static void first_pass_reports_free_blocks(struct kunit *test)
{
	unsigned long passes = vm_event(test, PAGE_REPORTING_PASS);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	struct pr_fake *f = pr_fake_get(test);
	int n;

	/* Still waiting out the delay, or (page_reporting_delay_ms=0) run. */
	if (!delayed_work_pending(&f->pr.work)) {
		flush_delayed_work(&f->pr.work);
		KUNIT_EXPECT_GT_MSG(test, vm_event(test, PAGE_REPORTING_PASS), passes,
				    "registration queued no pass");
	}
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	pr_fake_kick(f);
	KUNIT_EXPECT_GT(test, atomic_long_read(&f->calls), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&f->pages), 0);
	expect_fake_clean(test, f);
}

/* Blocks freed after the first pass are reported and flagged PageReported. */
static void freed_blocks_reported_and_flagged(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	int n, i, kicks, flagged = 0, unflagged = 0;

	pr_fake_kick(f);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	kicks = kick_until_covered(f, pfns, n);
	KUNIT_ASSERT_GT_MSG(test, kicks, 0, "freed blocks not reported after %d passes",
			    MAX_KICKS);

	for (i = 0; i < n; i++) {
		struct page *page = pfn_to_page(pfns[i]);
		struct zone *zone = page_zone(page);
		int order;

		spin_lock_irq(&zone->lock);
		order = free_block_order(page);
		if (order >= 0) {
			unsigned long head = ALIGN_DOWN(pfns[i], 1UL << order);
			void *e = xa_load(&f->seen, head);

			/* Reported as the very block it is now: flagged. */
			if (e && xa_to_value(e) == order)
				flagged++;
			if (e && xa_to_value(e) == order && !PageReported(pfn_to_page(head)))
				unflagged++;
		}
		spin_unlock_irq(&zone->lock);
	}
	KUNIT_EXPECT_GT(test, flagged, 0);
	KUNIT_EXPECT_EQ_MSG(test, unflagged, 0, "%d of %d reported free blocks not flagged",
			    unflagged, flagged);
	expect_fake_clean(test, f);
}

/* Taking reported blocks clears the flag and counts them as reallocated. */
static void reallocation_clears_flag(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	unsigned long before;
	struct zone *zone;
	int n, i;

	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	KUNIT_ASSERT_GT(test, kick_until_covered(f, pfns, n), 0);
	/*
	 * Every free block of the order in their zone reported: the next
	 * allocations take reported ones.
	 */
	zone = page_zone(pfn_to_page(pfns[0]));
	for (i = 0; i < MAX_KICKS && unreported_blocks(zone, BLOCK_ORDER); i++)
		pr_fake_kick(f);
	KUNIT_ASSERT_EQ(test, unreported_blocks(zone, BLOCK_ORDER), 0);

	before = vm_event(test, PAGE_REPORTING_REALLOCATED);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_FALSE(test, PageReported(pages[i]));
	KUNIT_EXPECT_GE_MSG(test, vm_event(test, PAGE_REPORTING_REALLOCATED) - before,
			    1UL << BLOCK_ORDER,
			    "%d blocks allocated after they were all reported, none counted", n);
	free_blocks(pages, pfns, n);
	expect_fake_clean(test, f);
}

/*
 * An allocation that splits a reported block takes the whole block out of
 * the reported state, as it always did: the buddies expand() puts back
 * lose the flag and are reported again later (a host that backs guest
 * memory with huge pages has faulted some of them in with the allocation,
 * and which ones the guest cannot know), and the whole block counts as
 * reallocated. Blocks of pageblock_order - 1, which no per-CPU list
 * holds, are allocated from a zone whose free blocks of pageblock_order
 * and above are all reported, checked again right before each
 * allocation (a block freed later goes to the head of its list, and
 * would be split instead), until one finds its buddy free: split.
 */
static void split_reports_the_rest_again(struct kunit *test)
{
	const unsigned int order = pageblock_order - 1;
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS], **small;
	unsigned long pfns[NR_BLOCKS], before = 0;
	int n, i, k, split = 0, flagged = 0;
	unsigned int o;
	struct zone *zone;

	small = kunit_kcalloc(test, MAX_SPLIT_TRIES, sizeof(*small), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, small);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	KUNIT_ASSERT_GT(test, kick_until_covered(f, pfns, n), 0);
	zone = page_zone(pfn_to_page(pfns[0]));

	for (n = 0; n < MAX_SPLIT_TRIES && !split; n++) {
		struct page *buddy;

		for (i = 0; i < MAX_KICKS; i++) {
			for (o = pageblock_order; o <= MAX_PAGE_ORDER; o++)
				if (unreported_blocks(zone, o))
					break;
			if (o > MAX_PAGE_ORDER)
				break;
			pr_fake_kick(f);
		}
		if (i == MAX_KICKS) {
			small[n] = NULL;
			break;
		}
		before = vm_event(test, PAGE_REPORTING_REALLOCATED);
		small[n] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
		if (!small[n])
			break;
		buddy = pfn_to_page(page_to_pfn(small[n]) ^ (1UL << order));
		spin_lock_irq(&zone->lock);
		if (page_zone(small[n]) == zone && PageBuddy(buddy) &&
		    page_private(buddy) == order) {
			split++;
			flagged += PageReported(buddy);
		}
		spin_unlock_irq(&zone->lock);
	}
	k = n;
	if (split)
		KUNIT_EXPECT_GE_MSG(test, vm_event(test, PAGE_REPORTING_REALLOCATED) - before,
				    1UL << (order + 1),
				    "a split reported block was not counted whole");
	for (i = 0; i < k && small[i]; i++)
		__free_pages(small[i], order);
	if (!split)
		kunit_skip(test,
			   "%d allocations of order %u split no block, or blocks of order %u+ kept coming unreported",
			   k, order, pageblock_order);
	/* Guards against the withdrawn form that kept the buddies reported. */
	KUNIT_EXPECT_EQ_MSG(test, flagged, 0,
			    "a split left its buddy reported, and so never reported again");
	expect_fake_clean(test, f);
}

/*
 * A failed report() leaves its blocks unflagged, stops the pass, and leaves
 * reporting able to run again: a later free is reported without a kick.
 * With page_reporting_delay_ms=0 passes run while the blocks are freed,
 * and a later one may report the failed blocks again: only such a
 * successful report may flag them.
 */
static void failed_report_leaves_blocks_unflagged(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	unsigned long index, errors;
	long calls;
	void *e, *e2;
	int n, i;

	pr_fake_kick(f);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	errors = vm_event(test, PAGE_REPORTING_ERROR);
	WRITE_ONCE(f->fail_call, atomic_long_read(&f->calls) + 1);
	free_blocks(pages, pfns, n);
	pr_fake_kick(f);
	KUNIT_ASSERT_EQ(test, atomic_long_read(&f->failures), 1);
	KUNIT_EXPECT_EQ(test, vm_event(test, PAGE_REPORTING_ERROR) - errors, 1);

	xa_for_each(&f->failed, index, e) {
		struct page *page = pfn_to_page(index);
		struct zone *zone = page_zone(page);
		bool flagged;

		/* A failed check allocates: none under the zone lock. */
		spin_lock_irq(&zone->lock);
		flagged = PageBuddy(page) && page_private(page) == xa_to_value(e) &&
			  PageReported(page);
		spin_unlock_irq(&zone->lock);
		/* Reported again, as this very block, by a later call? */
		e2 = xa_load(&f->seen, index);
		if (!e2 || xa_to_value(e2) != xa_to_value(e))
			KUNIT_EXPECT_FALSE_MSG(test, flagged,
					       "pfn %#lx flagged after a failed report", index);
	}

	/* No kick: the free requests a pass after the delay (2 s by default). */
	calls = atomic_long_read(&f->calls);
	n = alloc_blocks(test, pages, 1);
	free_blocks(pages, pfns, n);
	if (delayed_work_pending(&f->pr.work) &&
	    time_after(f->pr.work.timer.expires, jiffies + 8 * HZ))
		kunit_skip(test, "page_reporting_delay_ms is above 8 s: no pass to wait for");
	for (i = 0; i < 100 && atomic_long_read(&f->calls) == calls; i++)
		msleep(100);
	KUNIT_EXPECT_GT_MSG(test, atomic_long_read(&f->calls), calls,
			    "no pass within 10 s of a free after a failed report");
	expect_fake_clean(test, f);
}

/* After unregister, frees start no pass and no work is left queued. */
static void unregister_quiesces(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	long calls;
	int n;

	pr_fake_kick(f);
	pr_fake_unregister(f);
	calls = atomic_long_read(&f->calls);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	msleep(3000);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->calls), calls);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&f->pr.work));
	KUNIT_EXPECT_EQ(test, atomic_read(&f->in_report), 0);
}

/* Blocks freed while no device was registered are reported after re-register. */
static void reregister_resumes(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	int n;

	pr_fake_kick(f);
	pr_fake_unregister(f);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);

	xa_destroy(&f->seen);
	KUNIT_ASSERT_EQ(test, page_reporting_register(&f->pr), 0);
	pr_fake_registered(f);
	KUNIT_EXPECT_GT(test, kick_until_covered(f, pfns, n), 0);
	expect_fake_clean(test, f);
}

/* /proc/vmstat counts exactly what the device saw. */
static void statistics_match_device(struct kunit *test)
{
	unsigned long passes = vm_event(test, PAGE_REPORTING_PASS);
	unsigned long calls = vm_event(test, PAGE_REPORTING_CALL);
	unsigned long errors = vm_event(test, PAGE_REPORTING_ERROR);
	unsigned long reported = vm_event(test, PAGE_REPORTING_REPORTED);
	unsigned long zone_reported[NR_PAGE_ORDERS], zone_failed[NR_PAGE_ORDERS];
	struct pr_fake *f = pr_fake_get(test);
	struct page *pages[NR_BLOCKS];
	unsigned long pfns[NR_BLOCKS];
	unsigned int o;
	int n;

	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		zone_reported[o] = zone_blocks(false, o);
		zone_failed[o] = zone_blocks(true, o);
	}

	pr_fake_kick(f);
	n = alloc_blocks(test, pages, NR_BLOCKS);
	WRITE_ONCE(f->fail_call, atomic_long_read(&f->calls) + 1);
	free_blocks(pages, pfns, n);
	pr_fake_kick(f);
	KUNIT_EXPECT_GT(test, kick_until_covered(f, pfns, n), 0);
	pr_fake_unregister(f);

	KUNIT_EXPECT_GE(test, vm_event(test, PAGE_REPORTING_PASS) - passes, 3);
	KUNIT_EXPECT_EQ(test, vm_event(test, PAGE_REPORTING_CALL) - calls,
			atomic_long_read(&f->calls));
	KUNIT_EXPECT_EQ(test, vm_event(test, PAGE_REPORTING_ERROR) - errors,
			atomic_long_read(&f->failures));
	KUNIT_EXPECT_EQ(test, vm_event(test, PAGE_REPORTING_REPORTED) - reported,
			atomic_long_read(&f->pages));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&f->failures), 1);

	/* page_reporting/zones: the same blocks, order by order. */
	for (o = 0; o < NR_PAGE_ORDERS; o++) {
		KUNIT_EXPECT_EQ_MSG(test, zone_blocks(false, o) - zone_reported[o],
				    atomic_long_read(&f->blocks[o]),
				    "reported blocks of order %u", o);
		KUNIT_EXPECT_EQ_MSG(test, zone_blocks(true, o) - zone_failed[o],
				    atomic_long_read(&f->failed_blocks[o]),
				    "failed blocks of order %u", o);
	}
	expect_fake_clean(test, f);
}

static void restore_reporting_order(void *order)
{
	WRITE_ONCE(page_reporting_order, (unsigned int)(uintptr_t)order);
}

/*
 * A reported block whose buddy is freed merges with it: the flag goes, the
 * merged block is not reported, and its zone counts the merge. The buddies
 * are the halves of one block of pageblock_order, since blocks of that
 * order and of orders up to PAGE_ALLOC_COSTLY_ORDER can sit on per-CPU
 * lists; page_reporting_order is lowered to the halves' order meanwhile.
 */
static void merge_clears_flag(struct kunit *test)
{
	const unsigned int order = pageblock_order - 1;
	unsigned long merged, pfn;
	struct page *page, *upper;
	bool flag_upper, flag_head;
	struct pr_fake *f;
	struct zone *zone;
	int kicks, head;
	void *saved;

	if (order <= PAGE_ALLOC_COSTLY_ORDER)
		kunit_skip(test, "pageblock_order %u leaves no order to merge at",
			   pageblock_order);
	f = pr_fake_get(test);
	saved = (void *)(uintptr_t)READ_ONCE(page_reporting_order);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_reporting_order, saved), 0);
	WRITE_ONCE(page_reporting_order, order);

	/* Not compound, so that each half can be freed as a block. */
	page = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL, order + 1);
	if (!page)
		kunit_skip(test, "no free block of order %u", order + 1);
	upper = page + (1UL << order);
	pfn = page_to_pfn(upper);
	zone = page_zone(page);
	/* The upper half's head gets the reference the allocator gave ours. */
	set_page_count(upper, 1);
	__free_pages(upper, order);

	for (kicks = 1; kicks <= MAX_KICKS; kicks++) {
		pr_fake_kick(f);
		if (pr_fake_covers(&f->seen, pfn, order))
			break;
	}
	/* Read under the zone lock, checked after: a failed check allocates. */
	spin_lock_irq(&zone->lock);
	head = free_block_order(upper);
	flag_upper = PageReported(upper);
	merged = zone->reporting.merged[order];
	spin_unlock_irq(&zone->lock);
	KUNIT_EXPECT_EQ(test, head, (int)order);
	KUNIT_EXPECT_TRUE_MSG(test, flag_upper,
			      "the free upper half not reported after %d passes", kicks);

	__free_pages(page, order);

	spin_lock_irq(&zone->lock);
	head = free_block_order(page);
	flag_upper = PageReported(upper);
	flag_head = head > 0 && PageReported(pfn_to_page(ALIGN_DOWN(pfn, 1UL << head)));
	merged = zone->reporting.merged[order] - merged;
	spin_unlock_irq(&zone->lock);
	KUNIT_EXPECT_GT(test, head, (int)order);
	KUNIT_EXPECT_FALSE_MSG(test, flag_upper,
			       "the flag stayed on a half that merged with its buddy");
	/* With page_reporting_delay_ms=0 a pass may report the merged block at once. */
	if (head > 0 && !pr_fake_covers(&f->seen, ALIGN_DOWN(pfn, 1UL << head), head))
		KUNIT_EXPECT_FALSE(test, flag_head);
	KUNIT_EXPECT_GE(test, merged, 1);
	expect_fake_clean(test, f);
}

/*
 * Blocks of @order flagged reported in @zone, minus what its counters say
 * is still reported: 0 when every flag that went was counted. Exact for
 * MAX_PAGE_ORDER, where no merge moves a flag to another order.
 */
static long flags_uncounted(struct zone *zone, unsigned int order)
{
	struct zone_reporting_stats *st = &zone->reporting;
	long n;
	struct page *page;
	int mt;

	spin_lock_irq(&zone->lock);
	n = st->reallocated[order] + st->merged[order] - st->reported[order];
	for (mt = 0; mt < MIGRATE_TYPES; mt++)
		list_for_each_entry(page, &zone->free_area[order].free_list[mt], buddy_list)
			n += PageReported(page);
	spin_unlock_irq(&zone->lock);
	return n;
}

/*
 * alloc_contig_range() of the last pageblock of a reported block of
 * MAX_PAGE_ORDER isolates it, which splits the block
 * (move_freepages_block_isolate()) and puts the pieces back on the free
 * lists unflagged, the isolated one on the isolate list: like an
 * allocation that splits a block, the zone counts the whole block
 * reallocated, and not merged (merged[MAX_PAGE_ORDER] counts nothing else:
 * a block of that order merges with no buddy). Other allocations may take
 * reported blocks meanwhile; that the flags gone equal the counts is what
 * no concurrent allocation can fake.
 */
static void isolation_split_counts_reallocated(struct kunit *test)
{
	struct pr_fake *f = pr_fake_get(test);
	unsigned long pfns[NR_BLOCKS], merged = 0, realloc = 0, start = 0;
	struct page *pages[NR_BLOCKS];
	struct zone *zone = NULL;
	int n, i;

	if (!IS_ENABLED(CONFIG_CONTIG_ALLOC) || pageblock_order >= MAX_PAGE_ORDER)
		kunit_skip(test, "needs CONFIG_CONTIG_ALLOC, and buddies larger than a pageblock");
	n = alloc_blocks(test, pages, NR_BLOCKS);
	free_blocks(pages, pfns, n);
	KUNIT_ASSERT_GT(test, kick_until_covered(f, pfns, n), 0);

	for (i = 0; i < n && !start; i++) {
		struct page *page = pfn_to_page(pfns[i]);

		zone = page_zone(page);
		spin_lock_irq(&zone->lock);
		if (free_block_order(page) == MAX_PAGE_ORDER && PageReported(page)) {
			start = pfns[i] + MAX_ORDER_NR_PAGES - pageblock_nr_pages;
			merged = zone->reporting.merged[MAX_PAGE_ORDER];
			realloc = zone->reporting.reallocated[MAX_PAGE_ORDER];
		}
		spin_unlock_irq(&zone->lock);
	}
	if (!start)
		kunit_skip(test, "no reported block of order %d stayed free", MAX_PAGE_ORDER);
	KUNIT_EXPECT_EQ_MSG(test, flags_uncounted(zone, MAX_PAGE_ORDER), 0,
			    "flagged blocks and counters disagree before the isolation");

#ifdef CONFIG_CONTIG_ALLOC
	i = alloc_contig_range(start, start + pageblock_nr_pages, MIGRATE_MOVABLE,
			       GFP_KERNEL | __GFP_NOWARN);
	if (i)
		kunit_skip(test, "alloc_contig_range() of a free pageblock: %d", i);
	free_contig_range(start, pageblock_nr_pages);
#endif
	spin_lock_irq(&zone->lock);
	merged = zone->reporting.merged[MAX_PAGE_ORDER] - merged;
	realloc = zone->reporting.reallocated[MAX_PAGE_ORDER] - realloc;
	spin_unlock_irq(&zone->lock);
	KUNIT_EXPECT_EQ_MSG(test, flags_uncounted(zone, MAX_PAGE_ORDER), 0,
			    "an isolation took a reported block; not counted as reallocated");
	KUNIT_EXPECT_GE(test, realloc, 1);
	KUNIT_EXPECT_EQ(test, merged, 0);
	expect_fake_clean(test, f);
}

/* Each counter shows in /proc/vmstat under its own name. */
static void vmstat_names_match_counters(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, vm_event_name(PAGE_REPORTING_PASS), "page_reporting_passes");
	KUNIT_EXPECT_STREQ(test, vm_event_name(PAGE_REPORTING_CALL), "page_reporting_calls");
	KUNIT_EXPECT_STREQ(test, vm_event_name(PAGE_REPORTING_ERROR), "page_reporting_errors");
	KUNIT_EXPECT_STREQ(test, vm_event_name(PAGE_REPORTING_REPORTED),
			   "page_reporting_reported");
	KUNIT_EXPECT_STREQ(test, vm_event_name(PAGE_REPORTING_REALLOCATED),
			   "page_reporting_reallocated");
}

static struct kunit_case page_reporting_cases[] = {
	KUNIT_CASE(register_busy),
	KUNIT_CASE(first_pass_reports_free_blocks),
	KUNIT_CASE(freed_blocks_reported_and_flagged),
	KUNIT_CASE(reallocation_clears_flag),
	KUNIT_CASE(split_reports_the_rest_again),
	KUNIT_CASE_SLOW(failed_report_leaves_blocks_unflagged),
	KUNIT_CASE_SLOW(unregister_quiesces),
	KUNIT_CASE(reregister_resumes),
	KUNIT_CASE(statistics_match_device),
	KUNIT_CASE(merge_clears_flag),
	KUNIT_CASE(isolation_split_counts_reallocated),
	KUNIT_CASE(vmstat_names_match_counters),
	{}
};

static struct kunit_suite page_reporting_suite = {
	.name = "page_reporting",
	.test_cases = page_reporting_cases,
};

kunit_test_suite(page_reporting_suite);

MODULE_DESCRIPTION("KUnit tests for free page reporting");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
