// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the release of the guest pages vhost-scsi maps into a
 * command's scatterlists.
 *
 * vhost-scsi pins the guest's buffers (they are user memory of the VMM's
 * mm) for as long as the target may access them. When the command is done
 * it must unpin every page exactly once, mark the pages dirty after a guest
 * READ (the target wrote into them, and guest memory may be file-backed),
 * never dirty the pages of a guest WRITE (they may be the zero page), and
 * cope with a mapping that stopped part way (entries without a page).
 *
 * The mapping and completion paths of a real command are driven end to
 * end by the guest's vhost_scsi test (a user-space virtio-scsi driver
 * against a LIO target). The pin counters are global: run the suite where
 * nothing else pins.
 */
#include <kunit/pin_test.h>
#include <kunit/test.h>
#include <linux/scatterlist.h>

#include "scsi_kunit.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define NR_TEST_PAGES	8

/* Pins @nr pages of guest memory (the test's mm) and maps them into @sgl. */
static struct pin_test_held *pin_into_sgl(struct kunit *test, struct scatterlist *sgl,
					  int nr, bool written, unsigned int gup_flags)
{
	struct pin_test_held *held = pin_test_held_alloc(test, nr);
	unsigned long addr;
	int i;

	addr = pin_test_map_user(test, nr, written ? PROT_READ | PROT_WRITE : PROT_READ);
	held->nr = pin_user_pages_fast(addr, nr, gup_flags, held->pages);
	KUNIT_ASSERT_EQ(test, held->nr, nr);

	sg_init_table(sgl, NR_TEST_PAGES);
	for (i = 0; i < nr; i++)
		sg_set_page(&sgl[i], held->pages[i], PAGE_SIZE, 0);
	return held;
}

/*
 * A guest READ: the release decides from the data direction, as
 * vhost_scsi_release_cmd_res() does, to dirty the data and the PI pages.
 */
static void guest_read_dirties_and_unpins(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES], prot[NR_TEST_PAGES];
	struct pin_test_counts before;
	struct pin_test_held *held, *held_prot;
	int i;

	held = pin_into_sgl(test, sgl, NR_TEST_PAGES, true, FOLL_WRITE);
	held_prot = pin_into_sgl(test, prot, 1, true, FOLL_WRITE);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_ASSERT_FALSE(test, folio_test_dirty(page_folio(held->pages[i])));
	KUNIT_ASSERT_FALSE(test, folio_test_dirty(page_folio(held_prot->pages[0])));

	before = pin_test_counts_read();
	vhost_scsi_release_data(sgl, NR_TEST_PAGES, prot, 1, true, DMA_FROM_DEVICE);
	held->nr = 0;
	held_prot->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES + 1);
	KUNIT_EXPECT_TRUE(test, folio_test_dirty(page_folio(held_prot->pages[0])));
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(held->pages[i]);

		KUNIT_EXPECT_TRUE(test, folio_test_dirty(folio));
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(folio));
	}
}

static void guest_write_unpins_clean(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES];
	struct pin_test_counts before;
	struct pin_test_held *held;
	int i;

	held = pin_into_sgl(test, sgl, NR_TEST_PAGES, true, 0);
	before = pin_test_counts_read();
	vhost_scsi_release_data(sgl, NR_TEST_PAGES, NULL, 0, true, DMA_TO_DEVICE);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		struct folio *folio = page_folio(held->pages[i]);

		KUNIT_EXPECT_FALSE(test, folio_test_dirty(folio));
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(folio));
	}
}

static void guest_write_of_zero_pages(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES];
	struct pin_test_counts before;
	struct pin_test_held *held;
	int i;

	/* Guest memory never written: a read pin returns the zero page. */
	held = pin_into_sgl(test, sgl, NR_TEST_PAGES, false, 0);
	for (i = 0; i < NR_TEST_PAGES; i++)
		KUNIT_ASSERT_TRUE(test, is_zero_page(held->pages[i]));

	before = pin_test_counts_read();
	vhost_scsi_release_data(sgl, NR_TEST_PAGES, NULL, 0, true, DMA_TO_DEVICE);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	KUNIT_EXPECT_FALSE(test, PageDirty(ZERO_PAGE(0)));
}

static void partial_mapping_releases_what_was_mapped(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES];
	struct pin_test_counts before;
	struct pin_test_held *held;
	int mapped = NR_TEST_PAGES / 2 + 1;
	int i;

	/* A mapping that failed after @mapped pages: the rest have no page. */
	held = pin_into_sgl(test, sgl, mapped, true, FOLL_WRITE);
	before = pin_test_counts_read();
	vhost_scsi_release_sgl(sgl, NR_TEST_PAGES, true, false);
	held->nr = 0;
	PIN_TEST_EXPECT_DELTA(test, &before, 0, mapped);
	for (i = 0; i < mapped; i++)
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(held->pages[i])));
}

static void unpinned_pages_are_left_alone(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES];
	struct pin_test_counts before;
	int refs[NR_TEST_PAGES];
	struct page *page;
	int i;

	sg_init_table(sgl, NR_TEST_PAGES);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		page = pin_test_alloc_page(test);
		sg_set_page(&sgl[i], page, PAGE_SIZE, 0);
		refs[i] = page_ref_count(page);
	}

	before = pin_test_counts_read();
	vhost_scsi_release_sgl(sgl, NR_TEST_PAGES, false, true);
	PIN_TEST_EXPECT_DELTA(test, &before, 0, 0);
	for (i = 0; i < NR_TEST_PAGES; i++) {
		page = sg_page(&sgl[i]);
		KUNIT_EXPECT_EQ(test, page_ref_count(page), refs[i]);
		KUNIT_EXPECT_FALSE(test, PageDirty(page));
	}
}

/*
 * A guest that names one page in every iovec of thousands of commands in
 * flight: vhost-scsi must refuse a command once a small folio holds more
 * than a quarter of INT_MAX references, long before GUP's overflow WARN.
 * The test stands in for the other commands' pins with plain references.
 */
struct ref_flood {
	struct folio *folio;
	int refs;
};

static void ref_flood_undo(void *data)
{
	struct ref_flood *f = data;

	folio_ref_sub(f->folio, f->refs);
}

static void pin_flood_fails_the_command(struct kunit *test)
{
	struct scatterlist sgl[NR_TEST_PAGES];
	struct pin_test_held *held;
	struct ref_flood *flood;

	held = pin_into_sgl(test, sgl, 2, true, FOLL_WRITE);
	flood = kunit_kzalloc(test, sizeof(*flood), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, flood);
	flood->folio = page_folio(held->pages[1]);
	KUNIT_ASSERT_FALSE(test, folio_test_large(flood->folio));
	KUNIT_EXPECT_FALSE(test, vhost_scsi_pages_overpinned(held->pages, 2));

	/* Exactly at the bound: still accepted. One more: refused. */
	flood->refs = INT_MAX / 4 - folio_ref_count(flood->folio);
	folio_ref_add(flood->folio, flood->refs);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ref_flood_undo, flood), 0);
	KUNIT_EXPECT_FALSE(test, vhost_scsi_pages_overpinned(held->pages, 2));
	folio_ref_inc(flood->folio);
	flood->refs++;
	KUNIT_EXPECT_TRUE(test, vhost_scsi_pages_overpinned(held->pages, 2));
	KUNIT_EXPECT_FALSE(test, vhost_scsi_pages_overpinned(held->pages, 1));

	kunit_release_action(test, ref_flood_undo, flood);
	KUNIT_EXPECT_FALSE(test, vhost_scsi_pages_overpinned(held->pages, 2));
}

static struct kunit_case vhost_scsi_test_cases[] = {
	KUNIT_CASE(guest_read_dirties_and_unpins),
	KUNIT_CASE(guest_write_unpins_clean),
	KUNIT_CASE(guest_write_of_zero_pages),
	KUNIT_CASE(partial_mapping_releases_what_was_mapped),
	KUNIT_CASE(unpinned_pages_are_left_alone),
	KUNIT_CASE(pin_flood_fails_the_command),
	{}
};

static struct kunit_suite vhost_scsi_test_suite = {
	.name = "vhost_scsi_pages",
	.test_cases = vhost_scsi_test_cases,
};

kunit_test_suite(vhost_scsi_test_suite);

MODULE_DESCRIPTION("KUnit tests for vhost-scsi's release of guest pages");
MODULE_LICENSE("GPL");
