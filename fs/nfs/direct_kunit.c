// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the page ownership of NFS direct I/O.
 *
 * nfs_direct_{read,write}_schedule_iovec() extract a chunk of the caller's
 * buffer with nfs_direct_extract_pages(), hand page after page to a new
 * nfs_page (nfs_page_create_from_page() -> nfs_page_take_page(), which
 * clears the chunk's entry of the page), and release the rest of the
 * chunk with nfs_direct_release_pages(). A request gives its page back with
 * nfs_page_release_page() when it is freed, whether it completed or failed
 * right after it was created. Pages of kernel iterators get a reference of
 * the request's own (slab pages too, which 6.12 refcounts). Subrequests
 * take a plain reference and leave the pin with their head. A read's
 * completion dirties its pages with nfs_direct_dirty_page(), which must not
 * wait for a folio lock.
 *
 * Every page must be unpinned exactly once on every branch: all requests
 * created, creation failing part way, a request failing as soon as it was
 * created. The cases replay those branches on pinned user pages and check
 * the pin counters exactly; a page unpinned twice shows as one unpin too
 * many (and as a bad reference count).
 *
 * The cases replay the loops' steps with the real helpers; the loops
 * themselves run end to end in the guest's dio_pins, dio_fork_race and
 * fault_dio tests against the guest's own knfsd (fault_dio fails the
 * nfs_page allocations at random). The pin counters are global: run the
 * suite where nothing else pins.
 */
#include <kunit/pin_test.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/nfs_fs.h>
#include <linux/nfs_page.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "nfs_kunit.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define NR_TEST_PAGES	8

struct chunk {
	struct page **pagevec;
	struct page *page[NR_TEST_PAGES];	/* what was extracted */
	struct nfs_page *req[NR_TEST_PAGES];
	size_t pgbase;
	ssize_t bytes;
	bool pinned;
};

static ssize_t extract(struct chunk *c, struct iov_iter *iter, size_t maxsize)
{
	c->bytes = nfs_direct_extract_pages(iter, maxsize, &c->pagevec, &c->pgbase, &c->pinned);
	return c->bytes;
}

/* The number of entries of the chunk's page array. */
static unsigned int chunk_pages(struct chunk *c)
{
	return c->bytes > 0 ? DIV_ROUND_UP(c->bytes + c->pgbase, PAGE_SIZE) : 0;
}

/* Gives back whatever a test left: requests first, then the chunk. */
static void chunk_release(void *data)
{
	struct chunk *c = data;
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++)
		if (c->req[i])
			nfs_page_release_page(c->req[i]);
	if (c->pagevec)
		nfs_direct_release_pages(c->pagevec, chunk_pages(c), c->pinned);
}

static struct chunk *chunk_alloc(struct kunit *test)
{
	struct chunk *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, c);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		c->req[i] = kunit_kzalloc(test, sizeof(*c->req[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, c->req[i]);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, chunk_release, c), 0);
	return c;
}

/* Extracts NR_TEST_PAGES pinned user pages, as the schedule loops do. */
static void extract_user_chunk(struct kunit *test, struct chunk *c, unsigned int dir)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	size_t len = NR_TEST_PAGES * PAGE_SIZE;
	struct iov_iter iter;
	int i;

	iov_iter_ubuf(&iter, dir, (void __user *)addr, len);
	KUNIT_ASSERT_EQ(test, extract(c, &iter, len), (ssize_t)len);
	KUNIT_ASSERT_TRUE(test, c->pinned);
	for (i = 0; i < NR_TEST_PAGES; i++)
		c->page[i] = c->pagevec[i];
}

/* What nfs_page_create_from_page() does for the schedule loops. */
static void hand_over(struct chunk *c, int i)
{
	nfs_page_take_page(c->req[i], &c->pagevec[i], c->pinned);
}

static void release_req(struct chunk *c, int i)
{
	nfs_page_release_page(c->req[i]);
}

static void release_chunk(struct chunk *c)
{
	nfs_direct_release_pages(c->pagevec, chunk_pages(c), c->pinned);
	c->pagevec = NULL;
}

static void expect_all_unpinned(struct kunit *test, struct chunk *c)
{
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_EXPECT_FALSE_MSG(test, folio_maybe_dma_pinned(page_folio(c->page[i])),
				       "page %d still pinned", i);
}

static void user_buffer_is_pinned(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	size_t len = NR_TEST_PAGES * PAGE_SIZE - 100;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr + 100, len);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, extract(c, &iter, len), (ssize_t)len);
	KUNIT_EXPECT_TRUE(test, c->pinned);
	KUNIT_EXPECT_EQ(test, c->pgbase, 100);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);

	release_chunk(c);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
}

static void chunk_stops_at_maxsize(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_SOURCE, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, extract(c, &iter, 3 * PAGE_SIZE), (ssize_t)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), (NR_TEST_PAGES - 3) * PAGE_SIZE);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 0);

	release_chunk(c);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 3);
}

static void fault_frees_everything(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_NONE);
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	before = pin_test_counts_read();
	KUNIT_EXPECT_LT(test, extract(c, &iter, NR_TEST_PAGES * PAGE_SIZE), 0);
	KUNIT_EXPECT_NULL(test, c->pagevec);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

static void kvec_buffer_is_refused(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct iov_iter iter;
	struct kvec kv;

	kv.iov_base = kunit_kmalloc(test, 2048, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kv.iov_base);
	kv.iov_len = 2048;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, 2048);
	KUNIT_EXPECT_EQ(test, extract(c, &iter, 2048), -EFAULT);
	KUNIT_EXPECT_NULL(test, c->pagevec);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 2048);
}

/*
 * A bvec's pages come without a reference, and the request takes one of
 * its own: the bvec's owner may drop them while the RPC is in flight (a
 * synchronous read whose task was killed returns from its killable wait).
 */
static void bvec_buffer_is_referenced_by_the_request(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	struct bio_vec bv;
	struct page *page;
	int ref;

	page = pin_test_alloc_page(test);
	ref = page_ref_count(page);
	bvec_set_page(&bv, page, PAGE_SIZE, 0);
	iov_iter_bvec(&iter, ITER_DEST, &bv, 1, PAGE_SIZE);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, extract(c, &iter, PAGE_SIZE), (ssize_t)PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, c->pinned);
	KUNIT_EXPECT_PTR_EQ(test, c->pagevec[0], page);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref);

	/* A request takes its own reference on a page it did not get pinned. */
	hand_over(c, 0);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref + 1);
	release_chunk(c);
	release_req(c, 0);
	c->req[0] = NULL;
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

/*
 * XFS on a dio loop device on NFS: a bio page that is a slab page. 6.12
 * refcounts slab pages like any other; the references must balance and
 * the page stay a slab page.
 */
static void bvec_of_slab_object_is_referenced_and_returned(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	struct bio_vec bv;
	struct page *page;
	void *buf;
	int ref;

	buf = pin_test_slab_bvec(test, &bv, 512, &page);
	ref = folio_ref_count(page_folio(page));
	iov_iter_bvec(&iter, ITER_SOURCE, &bv, 1, 512);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, extract(c, &iter, 512), 512);
	KUNIT_EXPECT_FALSE(test, c->pinned);
	KUNIT_EXPECT_PTR_EQ(test, c->pagevec[0], page);
	KUNIT_EXPECT_EQ(test, c->pgbase, offset_in_page(buf));
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page)), ref);

	/* The request and a subrequest of it take a reference each. */
	hand_over(c, 0);
	nfs_page_assign_page(c->req[1], page, false);
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page)), ref + 2);
	release_req(c, 1);
	release_chunk(c);
	release_req(c, 0);
	c->req[0] = NULL;
	c->req[1] = NULL;
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page)), ref);
	KUNIT_EXPECT_TRUE(test, folio_test_slab(page_folio(page)));
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

static void requests_take_over_every_pin(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	int i;

	before = pin_test_counts_read();
	extract_user_chunk(test, c, ITER_DEST);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		int ref = page_ref_count(c->page[i]);

		hand_over(c, i);
		KUNIT_EXPECT_NULL(test, c->pagevec[i]);
		/* Taking a pin over adds no reference. */
		KUNIT_EXPECT_EQ(test, page_ref_count(c->page[i]), ref);
		KUNIT_EXPECT_TRUE(test, test_bit(PG_PINNED, &c->req[i]->wb_flags));
	}
	release_chunk(c);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);

	for (i = 0; i < NR_TEST_PAGES; i++)
		release_req(c, i);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
	expect_all_unpinned(test, c);
}

static void create_failing_part_way_unpins_each_page_once(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	int i, failed = 5;

	before = pin_test_counts_read();
	extract_user_chunk(test, c, ITER_SOURCE);
	/* nfs_page_create_from_page() fails for page 5: it keeps its pin. */
	for (i = 0; i < failed; i++)
		hand_over(c, i);
	release_chunk(c);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES - failed);

	for (i = 0; i < failed; i++)
		release_req(c, i);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
	expect_all_unpinned(test, c);
}

static void request_failing_at_once_unpins_each_page_once(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	int i, failed = 5;

	before = pin_test_counts_read();
	extract_user_chunk(test, c, ITER_DEST);
	/*
	 * nfs_pageio_add_request() refuses request 5 (or pg_error is set):
	 * the loop frees it at once, which unpins page 5, and stops.
	 */
	for (i = 0; i <= failed; i++)
		hand_over(c, i);
	release_req(c, failed);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 1);
	release_chunk(c);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES - failed);

	for (i = 0; i < failed; i++)
		release_req(c, i);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
	expect_all_unpinned(test, c);
}

static void subrequest_leaves_the_pin_with_its_head(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;
	struct page *page;
	int ref;

	extract_user_chunk(test, c, ITER_DEST);
	hand_over(c, 0);
	page = c->page[0];
	ref = page_ref_count(page);

	/* nfs_create_subreq() on the head request of page 0. */
	before = pin_test_counts_read();
	nfs_page_assign_page(c->req[1], page, false);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref + 1);
	KUNIT_EXPECT_FALSE(test, test_bit(PG_PINNED, &c->req[1]->wb_flags));
	release_req(c, 1);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), ref);
	KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(page)));
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);

	release_req(c, 0);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 1);
	KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(page)));
}

static void second_release_does_nothing(struct kunit *test)
{
	struct chunk *c = chunk_alloc(test);
	struct pin_test_counts before;

	extract_user_chunk(test, c, ITER_DEST);
	hand_over(c, 0);
	before = pin_test_counts_read();
	release_req(c, 0);
	KUNIT_EXPECT_NULL(test, c->req[0]->wb_page);
	KUNIT_EXPECT_FALSE(test, test_bit(PG_PINNED, &c->req[0]->wb_flags));
	release_req(c, 0);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 1);
}

/* A page a direct read filled whose folio lock is free is dirtied at once. */
static void read_page_is_dirtied(struct kunit *test)
{
	struct page *page = pin_test_alloc_page(test);
	struct folio *folio = page_folio(page);

	KUNIT_ASSERT_FALSE(test, folio_test_dirty(folio));
	nfs_direct_dirty_page(page);
	KUNIT_EXPECT_TRUE(test, folio_test_dirty(folio));
	folio_clear_dirty(folio);
}

struct dirty_call {
	struct page *page;
	struct completion done;
};

static int dirty_call_fn(void *data)
{
	struct dirty_call *call = data;

	nfs_direct_dirty_page(call->page);
	complete(&call->done);
	return 0;
}

/*
 * rpciod must not wait for a folio lock whose holder may wait for an RPC:
 * with the lock held elsewhere, the call comes back at once, and a work
 * item dirties the folio when the lock is released, then drops the
 * reference it took.
 */
static void locked_page_is_dirtied_later(struct kunit *test)
{
	struct page *page = pin_test_alloc_page(test);
	struct folio *folio = page_folio(page);
	struct dirty_call call = { .page = page };
	struct task_struct *task;
	unsigned long returned;
	int ref = folio_ref_count(folio);
	int i;

	init_completion(&call.done);
	folio_lock(folio);
	task = kthread_run(dirty_call_fn, &call, "nfs_dirty_kunit");
	if (IS_ERR(task)) {
		folio_unlock(folio);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	returned = wait_for_completion_timeout(&call.done, 5 * HZ);
	KUNIT_EXPECT_NE_MSG(test, returned, 0,
			    "a read completion waited for a folio lock");
	KUNIT_EXPECT_FALSE(test, folio_test_dirty(folio));
	folio_unlock(folio);
	if (!returned)
		wait_for_completion(&call.done);

	for (i = 0; i < 500 && folio_ref_count(folio) != ref; i++)
		msleep(20);
	KUNIT_EXPECT_TRUE(test, folio_test_dirty(folio));
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), ref);
	folio_clear_dirty(folio);
}

static struct kunit_case nfs_direct_test_cases[] = {
	KUNIT_CASE(user_buffer_is_pinned),
	KUNIT_CASE(chunk_stops_at_maxsize),
	KUNIT_CASE(fault_frees_everything),
	KUNIT_CASE(kvec_buffer_is_refused),
	KUNIT_CASE(bvec_buffer_is_referenced_by_the_request),
	KUNIT_CASE(bvec_of_slab_object_is_referenced_and_returned),
	KUNIT_CASE(requests_take_over_every_pin),
	KUNIT_CASE(create_failing_part_way_unpins_each_page_once),
	KUNIT_CASE(request_failing_at_once_unpins_each_page_once),
	KUNIT_CASE(subrequest_leaves_the_pin_with_its_head),
	KUNIT_CASE(second_release_does_nothing),
	KUNIT_CASE(read_page_is_dirtied),
	KUNIT_CASE(locked_page_is_dirtied_later),
	{}
};

static struct kunit_suite nfs_direct_test_suite = {
	.name = "nfs_direct_pages",
	.test_cases = nfs_direct_test_cases,
};

kunit_test_suite(nfs_direct_test_suite);

MODULE_DESCRIPTION("KUnit tests for the page ownership of NFS direct I/O");
MODULE_LICENSE("GPL");
