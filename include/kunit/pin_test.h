/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for KUnit suites that check FOLL_PIN accounting.
 *
 * A pin is visible in three places: the folio's reference count (a small
 * folio gains GUP_PIN_COUNTING_BIAS), folio_maybe_dma_pinned() and the node
 * counters nr_foll_pin_acquired and nr_foll_pin_released. These helpers read
 * the counters exactly (the per-CPU deltas included, so a suite can assert
 * exact differences), map anonymous user pages in the test's own mm and keep
 * track of pins a test holds, so that a failing test releases them.
 *
 * The counters are global: a suite that asserts exact deltas must run
 * where nothing else pins or unpins meanwhile, as in the harness's guest
 * (suites run one at a time as their modules load) or under kunit.py.
 */
#ifndef _KUNIT_PIN_TEST_H
#define _KUNIT_PIN_TEST_H

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nodemask.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

struct pin_test_counts {
	long acquired;
	long released;
};

/* Pins a test holds; released by a KUnit action if the test stops early. */
struct pin_test_held {
	struct page **pages;
	int nr;
};

static inline long pin_test_node_stat(enum node_stat_item item)
{
	long sum = atomic_long_read(&vm_node_stat[item]);
	int nid, cpu;

	for_each_online_node(nid) {
		struct pglist_data *pgdat = NODE_DATA(nid);

		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(pgdat->per_cpu_nodestats, cpu)->vm_node_stat_diff[item];
	}
	return sum;
}

/*
 * The vmstat worker may fold a per-CPU delta into the global counter while
 * we sum; read until two rounds agree.
 */
static inline struct pin_test_counts pin_test_counts_read(void)
{
	struct pin_test_counts a, b;
	int tries = 10;

	b.acquired = pin_test_node_stat(NR_FOLL_PIN_ACQUIRED);
	b.released = pin_test_node_stat(NR_FOLL_PIN_RELEASED);
	do {
		a = b;
		b.acquired = pin_test_node_stat(NR_FOLL_PIN_ACQUIRED);
		b.released = pin_test_node_stat(NR_FOLL_PIN_RELEASED);
	} while ((a.acquired != b.acquired || a.released != b.released) && --tries);
	return b;
}

/* Expects exactly @acquired pins and @released unpins since @before. */
#define PIN_TEST_EXPECT_DELTA(test, before, acq, rel)				\
	do {									\
		const struct pin_test_counts *__then = (before);		\
		struct pin_test_counts __now = pin_test_counts_read();		\
		struct kunit *__test = (test);					\
										\
		KUNIT_EXPECT_EQ_MSG(__test, __now.acquired - __then->acquired,	\
				    (long)(acq), "nr_foll_pin_acquired delta");	\
		KUNIT_EXPECT_EQ_MSG(__test, __now.released - __then->released,	\
				    (long)(rel), "nr_foll_pin_released delta");	\
	} while (0)

static inline void pin_test_release(void *data)
{
	struct pin_test_held *held = data;

	unpin_user_pages(held->pages, held->nr);
	held->nr = 0;
}

/* Room for @nr pins, released when the test ends unless it clears ->nr. */
static inline struct pin_test_held *pin_test_held_alloc(struct kunit *test, int nr)
{
	struct pin_test_held *held = kunit_kzalloc(test, sizeof(*held), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, held);
	held->pages = kunit_kcalloc(test, nr, sizeof(*held->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held->pages);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pin_test_release, held), 0);
	return held;
}

/*
 * Maps @nr anonymous pages in the test's mm. Unless @prot lacks PROT_WRITE
 * they are written, so that they are real pages and not the zero page.
 */
static inline unsigned long pin_test_map_user(struct kunit *test, int nr, unsigned long prot)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, nr * PAGE_SIZE, prot,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0, "could not create a user mm");
	KUNIT_ASSERT_LT_MSG(test, addr, (unsigned long)TASK_SIZE, "vm_mmap failed");
	if (prot & PROT_WRITE)
		KUNIT_ASSERT_EQ(test, clear_user((void __user *)addr, nr * PAGE_SIZE), 0);
	return addr;
}

static inline void pin_test_free_page(void *page)
{
	__free_page(page);
}

/* A kernel page, freed when the test ends. */
static inline struct page *pin_test_alloc_page(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pin_test_free_page, page), 0);
	return page;
}

/*
 * A small kmalloc() object, freed when the test ends, in a bvec of @size
 * bytes over it, as a bio of a file system's slab buffers brings one to a
 * loop device's backing file; *@page is its slab page.
 */
static inline void *pin_test_slab_bvec(struct kunit *test, struct bio_vec *bv,
				       size_t size, struct page **page)
{
	void *buf = kunit_kmalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	*page = virt_to_page(buf);
	KUNIT_ASSERT_TRUE(test, folio_test_slab(page_folio(*page)));
	bvec_set_virt(bv, buf, size);
	return buf;
}

#endif /* _KUNIT_PIN_TEST_H */
