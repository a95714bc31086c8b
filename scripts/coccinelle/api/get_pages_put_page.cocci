// SPDX-License-Identifier: GPL-2.0
/// Report pages taken with a plain reference (FOLL_GET) for I/O and
/// released with put_page().
///
/// Pages of user memory that a device, another agent or the kernel reads
/// or writes behind the owner's back (direct I/O, zero-copy transports,
/// vhost) must be pinned: iov_iter_extract_pages() or pin_user_pages*(),
/// released with unpin_user_page*() or iov_iter_extract_release(), so that
/// folio_maybe_dma_pinned() tells fork(), writeback and migration they are
/// in use. See Documentation/core-api/pin_user_pages.rst.
///
/// A call of iov_iter_get_pages2(), iov_iter_get_pages_alloc2() or
/// get_user_pages*() is reported when the same file also releases pages
/// with put_page(). That is a heuristic: the pages of kernel iterators and
/// pages the CPU only touches through page tables may be legitimate
/// references. Review each report.
//
// Confidence: Moderate
// Keywords: FOLL_PIN, FOLL_GET, pin_user_pages, iov_iter_extract_pages
// Options: --no-includes --include-headers

virtual report
virtual org

@initialize:python@
@@
seen = set()

def first(p):
	key = (p[0].file, p[0].line, p[0].column)
	if key in seen:
		return False
	seen.add(key)
	return True

@get@
position p;
@@
(
 iov_iter_get_pages2@p(...)
|
 iov_iter_get_pages_alloc2@p(...)
|
 get_user_pages@p(...)
|
 get_user_pages_fast@p(...)
|
 get_user_pages_unlocked@p(...)
|
 get_user_pages_remote@p(...)
)

@put depends on get@
position q;
@@
 put_page@q(...)

@script:python depends on report && put@
p << get.p;
q << put.q;
@@
if first(p):
	coccilib.report.print_report(p[0],
		"pages taken with a reference (FOLL_GET) and put_page()d (line %s): pin them (iov_iter_extract_pages()/pin_user_pages*()) and unpin them" % q[0].line)

@script:python depends on org && put@
p << get.p;
q << put.q;
@@
if first(p):
	coccilib.org.print_todo(p[0], "FOLL_GET pages released with put_page() (line %s)" % q[0].line)
