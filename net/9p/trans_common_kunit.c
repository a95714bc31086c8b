// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for p9_extract_pages(), which gets the pages of a 9p
 * zero-copy payload for the virtio transport.
 *
 * In 6.12 the transport sees kernel iterators: netfs hands it bvecs (of user
 * pages it has already pinned, or of a loop device's bio pages) and folio
 * queues, readdir and xattrs hand it kvecs. Their pages must come back
 * without a reference, so that slab, large-kmalloc and frozen pages are
 * never refcounted; user-backed payloads must come back pinned. Every case
 * checks both the pages returned and what happened to their counts.
 *
 * The transport's use of the helper (p9_get_mapped_pages(), the request's
 * release) is driven end to end by the guest's loop_9p and dio_pins tests.
 * The pin counters are global: run the suite where nothing else pins.
 */
#include <kunit/pin_test.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "trans_common.h"

#define NR_TEST_PAGES	4

KUNIT_DEFINE_ACTION_WRAPPER(put_page_action, put_page, struct page *);
KUNIT_DEFINE_ACTION_WRAPPER(vfree_action, vfree, const void *);

struct extracted {
	struct page **pages;
	ssize_t bytes;
	size_t offs;
	bool pinned;
};

/* Frees the page array, and unpins what a test that stopped early held. */
static void extracted_free(void *data)
{
	struct extracted *ex = data;

	if (ex->pages && ex->pinned && ex->bytes > 0)
		iov_iter_extract_release(ex->pages, DIV_ROUND_UP(ex->bytes + ex->offs, PAGE_SIZE),
					 true, false);
	kvfree(ex->pages);
}

/* What the transport does when the request is done. */
static void release(struct extracted *ex, bool dirty)
{
	iov_iter_extract_release(ex->pages, DIV_ROUND_UP(ex->bytes + ex->offs, PAGE_SIZE),
				 ex->pinned, dirty);
	ex->pinned = false;
}

static struct extracted *extracted_alloc(struct kunit *test)
{
	struct extracted *ex = kunit_kzalloc(test, sizeof(*ex), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ex);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, extracted_free, ex), 0);
	return ex;
}

static ssize_t extract(struct kunit *test, struct extracted *ex,
		       struct iov_iter *iter, size_t count)
{
	ex->offs = ~0UL;
	ex->bytes = p9_extract_pages(iter, count, &ex->pages, &ex->offs, &ex->pinned);
	return ex->bytes;
}

static void user_payload_is_pinned(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	size_t len = NR_TEST_PAGES * PAGE_SIZE - 300;
	struct extracted *ex = extracted_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	ssize_t n;
	int i;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr + 100, len);
	before = pin_test_counts_read();
	n = extract(test, ex, &iter, len);
	KUNIT_ASSERT_EQ(test, n, (ssize_t)len);
	KUNIT_EXPECT_TRUE(test, ex->pinned);
	KUNIT_EXPECT_EQ(test, ex->offs, 100);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 0);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(ex->pages[i]);

		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(folio));
		KUNIT_EXPECT_FALSE(test, folio_test_dirty(folio));
	}

	/* What the transport does once the host has written the payload. */
	release(ex, true);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(ex->pages[i]);

		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(folio));
		KUNIT_EXPECT_TRUE(test, folio_test_dirty(folio));
	}
}

static void user_payload_is_cut_at_count(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct extracted *ex = extracted_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	ssize_t n;

	iov_iter_ubuf(&iter, ITER_SOURCE, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	before = pin_test_counts_read();
	n = extract(test, ex, &iter, PAGE_SIZE + 1);
	KUNIT_ASSERT_EQ(test, n, (ssize_t)PAGE_SIZE + 1);
	KUNIT_EXPECT_TRUE(test, ex->pinned);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), (NR_TEST_PAGES - 1) * PAGE_SIZE - 1);
	PIN_TEST_EXPECT_DELTA(test, &before, 2, 0);

	release(ex, false);
	PIN_TEST_EXPECT_DELTA(test, &before, 2, 2);
}

static void user_payload_fault_leaves_nothing(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_NONE);
	struct extracted *ex = extracted_alloc(test);
	struct pin_test_counts before;
	struct iov_iter iter;
	ssize_t n;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	before = pin_test_counts_read();
	n = extract(test, ex, &iter, NR_TEST_PAGES * PAGE_SIZE);
	KUNIT_EXPECT_LT(test, n, 0);
	KUNIT_EXPECT_NULL(test, ex->pages);
	KUNIT_EXPECT_FALSE(test, ex->pinned);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

static void empty_payload_allocates_nothing(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, 1, PROT_READ | PROT_WRITE);
	struct extracted *ex = extracted_alloc(test);
	struct iov_iter iter;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, 0);
	KUNIT_EXPECT_EQ(test, extract(test, ex, &iter, PAGE_SIZE), 0);
	KUNIT_EXPECT_NULL(test, ex->pages);
	KUNIT_EXPECT_FALSE(test, ex->pinned);

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, extract(test, ex, &iter, 0), 0);
	KUNIT_EXPECT_NULL(test, ex->pages);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), PAGE_SIZE);
}

static void bvec_payload_takes_no_ref(struct kunit *test)
{
	struct extracted *ex = extracted_alloc(test);
	struct pin_test_counts before;
	int refs[NR_TEST_PAGES];
	struct iov_iter iter;
	struct bio_vec bv;
	struct page *page;
	ssize_t n;
	int i;

	/* One bvec over a compound page, as a loop device's bio carries. */
	page = alloc_pages(GFP_KERNEL | __GFP_COMP, ilog2(NR_TEST_PAGES));
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_page_action, page), 0);
	for (i = 0; i < NR_TEST_PAGES; i++)
		refs[i] = folio_ref_count(page_folio(page + i));

	bvec_set_page(&bv, page, NR_TEST_PAGES * PAGE_SIZE - 512, 512);
	iov_iter_bvec(&iter, ITER_DEST, &bv, 1, bv.bv_len);
	before = pin_test_counts_read();
	n = extract(test, ex, &iter, bv.bv_len);
	KUNIT_ASSERT_EQ(test, n, (ssize_t)bv.bv_len);
	KUNIT_EXPECT_FALSE(test, ex->pinned);
	KUNIT_EXPECT_EQ(test, ex->offs, 512);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_PTR_EQ(test, ex->pages[i], page + i);
		KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page + i)), refs[i]);
	}

	release(ex, true);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page)), refs[0]);
	KUNIT_EXPECT_FALSE(test, PageDirty(page));
}

static void bvec_of_slab_object_takes_no_ref(struct kunit *test)
{
	struct extracted *ex = extracted_alloc(test);
	struct iov_iter iter;
	struct bio_vec bv;
	struct page *page;
	void *buf;
	int ref;

	/* Upstream's loop-over-9p crash: a bio page that is a slab page. */
	buf = pin_test_slab_bvec(test, &bv, 512, &page);
	ref = folio_ref_count(page_folio(page));
	iov_iter_bvec(&iter, ITER_SOURCE, &bv, 1, 512);
	KUNIT_ASSERT_EQ(test, extract(test, ex, &iter, 512), 512);
	KUNIT_EXPECT_FALSE(test, ex->pinned);
	KUNIT_EXPECT_PTR_EQ(test, ex->pages[0], page);
	KUNIT_EXPECT_EQ(test, ex->offs, offset_in_page(buf));
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(page)), ref);
}

static void kvec_payload_maps_kmalloc_pages(struct kunit *test)
{
	size_t len = NR_TEST_PAGES * PAGE_SIZE;
	struct extracted *ex = extracted_alloc(test);
	struct iov_iter iter;
	struct kvec kv;
	char *buf;
	int i, ref;

	/* A large kmalloc comes from the page allocator: a compound page. */
	buf = kunit_kmalloc(test, len + PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	ref = folio_ref_count(virt_to_folio(buf));

	kv.iov_base = buf + 64;
	kv.iov_len = len;
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, len);
	KUNIT_ASSERT_EQ(test, extract(test, ex, &iter, len), (ssize_t)len);
	KUNIT_EXPECT_FALSE(test, ex->pinned);
	KUNIT_EXPECT_EQ(test, ex->offs, offset_in_page(buf + 64));
	for (i = 0; i <= NR_TEST_PAGES; i++)
		KUNIT_EXPECT_PTR_EQ(test, ex->pages[i], virt_to_page(buf + i * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, folio_ref_count(virt_to_folio(buf)), ref);
}

static void kvec_payload_maps_vmalloc_pages(struct kunit *test)
{
	size_t len = NR_TEST_PAGES * PAGE_SIZE;
	struct extracted *ex = extracted_alloc(test);
	int refs[NR_TEST_PAGES];
	struct iov_iter iter;
	struct kvec kv;
	char *buf;
	int i;

	buf = vmalloc(len);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vfree_action, buf), 0);
	for (i = 0; i < NR_TEST_PAGES; i++)
		refs[i] = page_ref_count(vmalloc_to_page(buf + i * PAGE_SIZE));

	kv.iov_base = buf;
	kv.iov_len = len;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	KUNIT_ASSERT_EQ(test, extract(test, ex, &iter, len), (ssize_t)len);
	KUNIT_EXPECT_FALSE(test, ex->pinned);
	KUNIT_EXPECT_EQ(test, ex->offs, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct page *page = vmalloc_to_page(buf + i * PAGE_SIZE);

		KUNIT_EXPECT_PTR_EQ(test, ex->pages[i], page);
		KUNIT_EXPECT_EQ(test, page_ref_count(page), refs[i]);
	}
}

static struct kunit_case p9_extract_test_cases[] = {
	KUNIT_CASE(user_payload_is_pinned),
	KUNIT_CASE(user_payload_is_cut_at_count),
	KUNIT_CASE(user_payload_fault_leaves_nothing),
	KUNIT_CASE(empty_payload_allocates_nothing),
	KUNIT_CASE(bvec_payload_takes_no_ref),
	KUNIT_CASE(bvec_of_slab_object_takes_no_ref),
	KUNIT_CASE(kvec_payload_maps_kmalloc_pages),
	KUNIT_CASE(kvec_payload_maps_vmalloc_pages),
	{}
};

static struct kunit_suite p9_extract_test_suite = {
	.name = "9p_extract",
	.test_cases = p9_extract_test_cases,
};

kunit_test_suite(p9_extract_test_suite);

MODULE_DESCRIPTION("KUnit tests for the 9p zero-copy page extraction");
MODULE_LICENSE("GPL");
