// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for FOLL_PIN accounting.
 *
 * Every user of pin_user_pages*() and iov_iter_extract_pages() relies on
 * the same rules: a pin adds GUP_PIN_COUNTING_BIAS to a small folio's
 * reference count, makes folio_maybe_dma_pinned() true and is counted in
 * nr_foll_pin_acquired, its release in nr_foll_pin_released; a FOLL_GET
 * reference and a pin of the shared zero page show in none of these, and
 * kernel iterators are extracted without taking references at all.
 *
 * iov_iter_extract_release() undoes an extraction by those rules: it unpins
 * only what was pinned, dirties what it is told to (never the zero page)
 * and skips NULL entries.
 *
 * The tests work on anonymous memory of a KUnit-owned mm (kunit_vm_mmap())
 * and read the node counters exactly, per-CPU deltas included, so the
 * deltas they assert are exact. Pins still held when a test fails are
 * released by a KUnit action.
 */
#include <kunit/pin_test.h>
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/mm.h>
#include <linux/uio.h>

#define NR_TEST_PAGES	8

/* Takes plain references on the pages so their counts can be compared. */
static void get_user_pages_ref(struct kunit *test, unsigned long addr, int nr,
			       struct page **pages)
{
	KUNIT_ASSERT_EQ(test, get_user_pages_fast(addr, nr, FOLL_WRITE, pages), nr);
}

static void put_pages(void *data)
{
	struct page **pages = data;
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++)
		if (pages[i])
			put_page(pages[i]);
}

static struct page **ref_pages_alloc(struct kunit *test)
{
	struct page **pages = kunit_kcalloc(test, NR_TEST_PAGES, sizeof(*pages), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_pages, pages), 0);
	return pages;
}

/*
 * Maps NR_TEST_PAGES written anonymous pages, holds a plain reference on each
 * in @ref (dropped when the test ends) and records their counts in @refs.
 */
static unsigned long map_and_ref_pages(struct kunit *test, struct page ***ref, int *refs)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	int i;

	*ref = ref_pages_alloc(test);
	get_user_pages_ref(test, addr, NR_TEST_PAGES, *ref);
	for (i = 0; i < NR_TEST_PAGES; i++)
		refs[i] = page_ref_count((*ref)[i]);
	return addr;
}

static void pin_fast_counts_each_page(struct kunit *test)
{
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	int refs[NR_TEST_PAGES];
	struct pin_test_counts before;
	unsigned long addr;
	struct page **ref;
	int i;

	addr = map_and_ref_pages(test, &ref, refs);
	before = pin_test_counts_read();
	held->nr = pin_user_pages_fast(addr, NR_TEST_PAGES, FOLL_WRITE, held->pages);
	KUNIT_ASSERT_EQ(test, held->nr, NR_TEST_PAGES);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);

	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(held->pages[i]);

		KUNIT_EXPECT_PTR_EQ(test, held->pages[i], ref[i]);
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(folio));
		if (!folio_test_large(folio))
			KUNIT_EXPECT_EQ(test, page_ref_count(ref[i]),
					refs[i] + (int)GUP_PIN_COUNTING_BIAS);
	}

	before = pin_test_counts_read();
	pin_test_release(held);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(ref[i])));
		KUNIT_EXPECT_EQ(test, page_ref_count(ref[i]), refs[i]);
	}
}

static void get_fast_takes_refs_not_pins(struct kunit *test)
{
	struct page **got = ref_pages_alloc(test);
	int refs[NR_TEST_PAGES];
	struct pin_test_counts before;
	unsigned long addr;
	struct page **ref;
	int i;

	addr = map_and_ref_pages(test, &ref, refs);
	before = pin_test_counts_read();
	get_user_pages_ref(test, addr, NR_TEST_PAGES, got);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_PTR_EQ(test, got[i], ref[i]);
		KUNIT_EXPECT_EQ(test, page_ref_count(ref[i]), refs[i] + 1);
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(ref[i])));
	}
}

static void pin_zero_page_is_not_counted(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ);
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	struct pin_test_counts before;
	int i;

	/* Never written: a read pin maps and returns the shared zero page. */
	before = pin_test_counts_read();
	held->nr = pin_user_pages_fast(addr, NR_TEST_PAGES, 0, held->pages);
	KUNIT_ASSERT_EQ(test, held->nr, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_EXPECT_TRUE(test, is_zero_page(held->pages[i]));
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);

	pin_test_release(held);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
}

static void extract_ubuf_pins_each_page(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	size_t len = NR_TEST_PAGES * PAGE_SIZE - 200;
	struct page **pages = held->pages;
	struct pin_test_counts before;
	struct iov_iter iter;
	size_t offset;
	ssize_t got;
	int i;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr + 100, len);
	KUNIT_EXPECT_TRUE(test, iov_iter_extract_will_pin(&iter));

	before = pin_test_counts_read();
	got = iov_iter_extract_pages(&iter, &pages, len, NR_TEST_PAGES, 0, &offset);
	KUNIT_ASSERT_EQ(test, got, (ssize_t)len);
	held->nr = NR_TEST_PAGES;
	KUNIT_EXPECT_EQ(test, offset, 100);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 0);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, 0);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(pages[i])));

	pin_test_release(held);
	PIN_TEST_EXPECT_DELTA(test, &before, NR_TEST_PAGES, NR_TEST_PAGES);
}

static void extract_bvec_takes_no_ref(struct kunit *test)
{
	struct bio_vec bv[NR_TEST_PAGES];
	struct page *src[NR_TEST_PAGES], *out[NR_TEST_PAGES], **pages = out;
	int refs[NR_TEST_PAGES];
	struct pin_test_counts before;
	struct iov_iter iter;
	size_t offset;
	ssize_t got;
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++) {
		src[i] = pin_test_alloc_page(test);
		bvec_set_page(&bv[i], src[i], PAGE_SIZE, 0);
		refs[i] = page_ref_count(src[i]);
	}
	iov_iter_bvec(&iter, ITER_SOURCE, bv, NR_TEST_PAGES, NR_TEST_PAGES * PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, iov_iter_extract_will_pin(&iter));

	before = pin_test_counts_read();
	/* A bvec iterator yields at most one segment per call. */
	for (i = 0; i < NR_TEST_PAGES; i++) {
		pages = &out[i];
		got = iov_iter_extract_pages(&iter, &pages, PAGE_SIZE, 1, 0, &offset);
		KUNIT_ASSERT_EQ(test, got, (ssize_t)PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, offset, 0);
		KUNIT_EXPECT_PTR_EQ(test, out[i], src[i]);
	}
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 0);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_EQ(test, page_ref_count(src[i]), refs[i]);
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(src[i])));
	}
}

static void extract_partial_revert_leaves_no_pins(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	size_t half = NR_TEST_PAGES / 2 * PAGE_SIZE;
	struct page **pages = held->pages;
	struct pin_test_counts before;
	struct iov_iter iter;
	struct iovec iov[2];
	size_t offset;
	ssize_t got;
	int i;

	iov[0].iov_base = (void __user *)addr;
	iov[0].iov_len = half;
	iov[1].iov_base = (void __user *)addr + half;
	iov[1].iov_len = half;
	iov_iter_init(&iter, ITER_SOURCE, iov, 2, 2 * half);

	before = pin_test_counts_read();
	got = iov_iter_extract_pages(&iter, &pages, 2 * half, 3, 0, &offset);
	KUNIT_ASSERT_EQ(test, got, (ssize_t)(3 * PAGE_SIZE));
	held->nr = 3;
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 2 * half - got);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 0);

	/* The caller cannot use the pages after all: release them, rewind. */
	iov_iter_extract_release(held->pages, 3, true, false);
	held->nr = 0;
	iov_iter_revert(&iter, got);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 2 * half);
	PIN_TEST_EXPECT_DELTA(test, &before, 3, 3);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(held->pages[i])));

	/* Extraction resumes at the start and stops at the segment's end. */
	got = iov_iter_extract_pages(&iter, &pages, 2 * half, NR_TEST_PAGES, 0, &offset);
	KUNIT_ASSERT_EQ(test, got, (ssize_t)half);
	held->nr = NR_TEST_PAGES / 2;
	KUNIT_EXPECT_EQ(test, offset, 0);
	PIN_TEST_EXPECT_DELTA(test, &before, 3 + NR_TEST_PAGES / 2, 3);
}

/* Pins NR_TEST_PAGES written user pages through a ubuf iterator into @held. */
static void extract_user_pages(struct kunit *test, struct pin_test_held *held)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ | PROT_WRITE);
	struct page **pages = held->pages;
	struct iov_iter iter;
	size_t offset;

	iov_iter_ubuf(&iter, ITER_DEST, (void __user *)addr, NR_TEST_PAGES * PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, iov_iter_extract_will_pin(&iter));
	KUNIT_ASSERT_EQ(test, iov_iter_extract_pages(&iter, &pages, NR_TEST_PAGES * PAGE_SIZE,
						     NR_TEST_PAGES, 0, &offset),
			(ssize_t)(NR_TEST_PAGES * PAGE_SIZE));
	held->nr = NR_TEST_PAGES;
}

static void release_pinned_unpins_clean(struct kunit *test)
{
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	bool was_dirty[NR_TEST_PAGES];
	struct pin_test_counts before;
	int i;

	extract_user_pages(test, held);
	for (i = 0; i < NR_TEST_PAGES; i++)
		was_dirty[i] = folio_test_dirty(page_folio(held->pages[i]));

	before = pin_test_counts_read();
	iov_iter_extract_release(held->pages, NR_TEST_PAGES, true, false);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(held->pages[i]);

		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(folio));
		KUNIT_EXPECT_EQ(test, folio_test_dirty(folio), was_dirty[i]);
	}
}

static void release_pinned_dirty_marks_folios(struct kunit *test)
{
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	struct pin_test_counts before;
	int i;

	extract_user_pages(test, held);
	for (i = 0; i < NR_TEST_PAGES; i++)
		if (folio_test_dirty(page_folio(held->pages[i])))
			kunit_skip(test, "fresh anonymous folios are already dirty here");

	before = pin_test_counts_read();
	iov_iter_extract_release(held->pages, NR_TEST_PAGES, true, true);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_EXPECT_TRUE(test, folio_test_dirty(page_folio(held->pages[i])));
}

static void release_unpinned_leaves_pages_alone(struct kunit *test)
{
	struct page *pages[NR_TEST_PAGES];
	int refs[NR_TEST_PAGES];
	struct pin_test_counts before;
	int i;

	for (i = 0; i < NR_TEST_PAGES; i++) {
		pages[i] = pin_test_alloc_page(test);
		refs[i] = page_ref_count(pages[i]);
	}

	/* What a bvec or kvec extraction returns: no reference, no pin. */
	before = pin_test_counts_read();
	iov_iter_extract_release(pages, NR_TEST_PAGES, false, true);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		KUNIT_EXPECT_EQ(test, page_ref_count(pages[i]), refs[i]);
		KUNIT_EXPECT_FALSE(test, PageDirty(pages[i]));
	}
}

static void release_zero_page_not_dirtied(struct kunit *test)
{
	unsigned long addr = pin_test_map_user(test, NR_TEST_PAGES, PROT_READ);
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	struct pin_test_counts before;
	int i;

	held->nr = pin_user_pages_fast(addr, NR_TEST_PAGES, 0, held->pages);
	KUNIT_ASSERT_EQ(test, held->nr, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_ASSERT_TRUE(test, is_zero_page(held->pages[i]));

	before = pin_test_counts_read();
	iov_iter_extract_release(held->pages, NR_TEST_PAGES, true, true);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	KUNIT_EXPECT_FALSE(test, PageDirty(ZERO_PAGE(0)));
}

static void release_skips_null_entries(struct kunit *test)
{
	struct pin_test_held *held = pin_test_held_alloc(test, NR_TEST_PAGES);
	struct pin_test_counts before;
	struct page *gap;

	extract_user_pages(test, held);
	gap = held->pages[3];
	held->pages[3] = NULL;
	unpin_user_page(gap);

	before = pin_test_counts_read();
	iov_iter_extract_release(held->pages, NR_TEST_PAGES, true, true);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES - 1);
}

static struct kunit_case gup_pin_test_cases[] = {
	KUNIT_CASE(pin_fast_counts_each_page),
	KUNIT_CASE(get_fast_takes_refs_not_pins),
	KUNIT_CASE(pin_zero_page_is_not_counted),
	KUNIT_CASE(extract_ubuf_pins_each_page),
	KUNIT_CASE(extract_bvec_takes_no_ref),
	KUNIT_CASE(extract_partial_revert_leaves_no_pins),
	KUNIT_CASE(release_pinned_unpins_clean),
	KUNIT_CASE(release_pinned_dirty_marks_folios),
	KUNIT_CASE(release_unpinned_leaves_pages_alone),
	KUNIT_CASE(release_zero_page_not_dirtied),
	KUNIT_CASE(release_skips_null_entries),
	{}
};

static struct kunit_suite gup_pin_test_suite = {
	.name = "gup_pin",
	.test_cases = gup_pin_test_cases,
};

kunit_test_suite(gup_pin_test_suite);

MODULE_DESCRIPTION("KUnit tests for FOLL_PIN accounting");
MODULE_LICENSE("GPL");
