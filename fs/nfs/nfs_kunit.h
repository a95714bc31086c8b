/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions of the NFS client that its KUnit suite (direct_kunit.c) calls.
 * They are static unless CONFIG_KUNIT is enabled.
 */
#ifndef _FS_NFS_NFS_KUNIT_H
#define _FS_NFS_NFS_KUNIT_H

#if IS_ENABLED(CONFIG_KUNIT)
#include <linux/types.h>

struct iov_iter;
struct nfs_page;
struct page;

/* direct.c */
ssize_t nfs_direct_extract_pages(struct iov_iter *iter, size_t maxsize,
				 struct page ***pagevec, size_t *pgbase,
				 bool *pinned);
void nfs_direct_release_pages(struct page **pagevec, unsigned int npages,
			      bool pinned);
void nfs_direct_dirty_page(struct page *page);

/* pagelist.c */
void nfs_page_assign_page(struct nfs_page *req, struct page *page,
			  bool pinned);
void nfs_page_release_page(struct nfs_page *req);
void nfs_page_take_page(struct nfs_page *req, struct page **pagep,
			bool pinned);
#endif

#endif /* _FS_NFS_NFS_KUNIT_H */
