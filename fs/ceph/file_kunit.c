// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the page handling of ceph's direct I/O.
 *
 * ceph_direct_read_write() turns the caller's buffer into bio_vecs with
 * ceph_iter_get_bvecs_alloc() and releases them with ceph_put_bvecs() when
 * the OSD request is done, dirtying the pages after a read. User buffers
 * must be pinned for that time and unpinned once; bvec buffers (loop, swap,
 * io_uring fixed buffers) belong to their owner and take no reference;
 * kvec buffers are refused. A buffer that faults part way keeps the pages
 * before the fault, and the entries after them carry no page.
 *
 * No ceph cluster runs here, so ceph_direct_read_write() itself is only
 * built (W=1, sparse); these cases cover the two functions it relies on.
 * The pin counters are global: run the suite where nothing else pins.
 */
#include <kunit/pin_test.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "file_kunit.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define NR_TEST_PAGES	8

struct got_bvecs {
	struct bio_vec *bv;
	int nr;
	bool pinned;
};

/* Releases what a test that stopped before ceph_put_bvecs() still held. */
static void got_bvecs_free(void *data)
{
	struct got_bvecs *got = data;

	if (got->bv)
		ceph_put_bvecs(got->bv, got->nr, false, got->pinned);
}

static struct got_bvecs *got_bvecs_alloc(struct kunit *test)
{
	struct got_bvecs *got = kunit_kzalloc(test, sizeof(*got), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, got_bvecs_free, got), 0);
	return got;
}

static ssize_t get_bvecs(struct got_bvecs *got, struct iov_iter *iter, size_t maxsize)
{
	return ceph_iter_get_bvecs_alloc(iter, maxsize, &got->bv, &got->nr, &got->pinned);
}

static void put_bvecs(struct got_bvecs *got, bool should_dirty)
{
	ceph_put_bvecs(got->bv, got->nr, should_dirty, got->pinned);
	got->bv = NULL;
}

static void user_buffer_is_pinned_across_segments(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	struct iovec iov[2];
	size_t total, sum = 0;
	ssize_t bytes;
	int i;

	iov[0].iov_base = (void __user *)addr + 100;
	iov[0].iov_len = 3 * PAGE_SIZE - 100;
	iov[1].iov_base = (void __user *)addr + 3 * PAGE_SIZE;
	iov[1].iov_len = (NR_TEST_PAGES - 3) * PAGE_SIZE - 200;
	total = iov[0].iov_len + iov[1].iov_len;
	iov_iter_init(&iter, ITER_DEST, iov, 2, total);

	before = pin_test_counts_read();
	bytes = get_bvecs(got, &iter, total);
	KUNIT_ASSERT_EQ(test, bytes, (ssize_t)total);
	KUNIT_EXPECT_TRUE(test, got->pinned);
	KUNIT_ASSERT_EQ(test, got->nr, NR_TEST_PAGES);
	KUNIT_EXPECT_EQ(test, got->bv[0].bv_offset, 100);
	for (i = 0; i < got->nr; i++) {
		KUNIT_ASSERT_NOT_NULL(test, got->bv[i].bv_page);
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(got->bv[i].bv_page)));
		KUNIT_EXPECT_FALSE(test, folio_test_dirty(page_folio(got->bv[i].bv_page)));
		sum += got->bv[i].bv_len;
	}
	KUNIT_EXPECT_EQ(test, sum, total);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);

	/* A read: the OSD wrote into the pages. */
	put_bvecs(got, true);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct page *page;

		KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr + i * PAGE_SIZE, 1, 0, &page), 1);
		KUNIT_EXPECT_TRUE(test, folio_test_dirty(page_folio(page)));
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(page)));
		put_page(page);
	}
}

static void maxsize_cuts_the_buffer(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct got_bvecs *got = got_bvecs_alloc(test);
	size_t len = NR_TEST_PAGES * PAGE_SIZE;
	struct pin_test_counts before;
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_SOURCE, (void __user *)addr, len);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, get_bvecs(got, &iter, 2 * PAGE_SIZE + 1),
			(ssize_t)(2 * PAGE_SIZE + 1));
	KUNIT_EXPECT_EQ(test, got->nr, 3);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), len - 2 * PAGE_SIZE - 1);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 0);

	put_bvecs(got, false);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 3);
}

static void fault_part_way_keeps_the_pages_before(struct kunit *test)
{
	unsigned long good = pin_test_map_user(test, 2, PROT_READ | PROT_WRITE);
	unsigned long bad = pin_test_map_user(test, 2, PROT_NONE);
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	struct iovec iov[2];

	iov[0].iov_base = (void __user *)good;
	iov[0].iov_len = 2 * PAGE_SIZE;
	iov[1].iov_base = (void __user *)bad;
	iov[1].iov_len = 2 * PAGE_SIZE;
	iov_iter_init(&iter, ITER_DEST, iov, 2, 4 * PAGE_SIZE);

	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, get_bvecs(got, &iter, 4 * PAGE_SIZE), (ssize_t)(2 * PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, got->nr, 4);
	KUNIT_EXPECT_NOT_NULL(test, got->bv[1].bv_page);
	KUNIT_EXPECT_NULL(test, got->bv[2].bv_page);
	KUNIT_EXPECT_NULL(test, got->bv[3].bv_page);
	PIN_TEST_EXPECT_DELTA(test, &before, 2, 0);

	put_bvecs(got, true);
	PIN_TEST_EXPECT_DELTA(test, &before, 2, 2);
}

static void fault_at_start_is_an_error(struct kunit *test)
{
	unsigned long bad = pin_test_map_user(test, 2, PROT_NONE);
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)bad, 2 * PAGE_SIZE);
	before = pin_test_counts_read();
	KUNIT_EXPECT_EQ(test, get_bvecs(got, &iter, 2 * PAGE_SIZE), -EFAULT);
	KUNIT_EXPECT_NULL(test, got->bv);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

static void zero_pages_of_a_write_are_not_counted(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ);
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	int i;

	/* Never written: a write from this buffer sends the zero page. */
	iov_iter_ubuf(&iter, ITER_SOURCE, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, get_bvecs(got, &iter, NR_TEST_PAGES * PAGE_SIZE),
			(ssize_t)(NR_TEST_PAGES * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, got->pinned);
	for (i = 0; i < got->nr; i++)
		KUNIT_EXPECT_TRUE(test, is_zero_page(got->bv[i].bv_page));
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);

	put_bvecs(got, false);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	KUNIT_EXPECT_FALSE(test, PageDirty(ZERO_PAGE(0)));
}

static void bvec_buffer_takes_no_ref(struct kunit *test)
{
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct bio_vec src[NR_TEST_PAGES];
	struct pin_test_counts before;
	int refs[NR_TEST_PAGES];
	struct iov_iter iter;
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++) {
		bvec_set_page(&src[i], pin_test_alloc_page(test), PAGE_SIZE, 0);
		refs[i] = page_ref_count(src[i].bv_page);
	}
	iov_iter_bvec(&iter, ITER_DEST, src, NR_TEST_PAGES, NR_TEST_PAGES * PAGE_SIZE);

	before = pin_test_counts_read();
	KUNIT_ASSERT_EQ(test, get_bvecs(got, &iter, NR_TEST_PAGES * PAGE_SIZE),
			(ssize_t)(NR_TEST_PAGES * PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, got->pinned);
	KUNIT_ASSERT_EQ(test, got->nr, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_PTR_EQ(test, got->bv[i].bv_page, src[i].bv_page);
		KUNIT_EXPECT_EQ(test, page_ref_count(src[i].bv_page), refs[i]);
	}

	put_bvecs(got, false);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_EXPECT_EQ(test, page_ref_count(src[i].bv_page), refs[i]);
}

static void kvec_buffer_is_refused(struct kunit *test)
{
	struct got_bvecs *got = got_bvecs_alloc(test);
	struct iov_iter iter;
	struct kvec kv;

	kv.iov_base = kunit_kmalloc(test, 1024, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kv.iov_base);
	kv.iov_len = 1024;
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, 1024);
	KUNIT_EXPECT_EQ(test, get_bvecs(got, &iter, 1024), -EFAULT);
	KUNIT_EXPECT_NULL(test, got->bv);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 1024);
}

static struct kunit_case ceph_dio_test_cases[] = {
	KUNIT_CASE(user_buffer_is_pinned_across_segments),
	KUNIT_CASE(maxsize_cuts_the_buffer),
	KUNIT_CASE(fault_part_way_keeps_the_pages_before),
	KUNIT_CASE(fault_at_start_is_an_error),
	KUNIT_CASE(zero_pages_of_a_write_are_not_counted),
	KUNIT_CASE(bvec_buffer_takes_no_ref),
	KUNIT_CASE(kvec_buffer_is_refused),
	{}
};

static struct kunit_suite ceph_dio_test_suite = {
	.name = "ceph_dio_pages",
	.test_cases = ceph_dio_test_cases,
};

kunit_test_suite(ceph_dio_test_suite);

MODULE_DESCRIPTION("KUnit tests for the page handling of ceph direct I/O");
MODULE_LICENSE("GPL");
