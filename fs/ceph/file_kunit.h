/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions of fs/ceph/file.c that its KUnit suite (file_kunit.c) calls.
 * They are static unless CONFIG_KUNIT is enabled.
 */
#ifndef _FS_CEPH_FILE_KUNIT_H
#define _FS_CEPH_FILE_KUNIT_H

#if IS_ENABLED(CONFIG_KUNIT)
#include <linux/types.h>

struct bio_vec;
struct iov_iter;

ssize_t ceph_iter_get_bvecs_alloc(struct iov_iter *iter, size_t maxsize,
				  struct bio_vec **bvecs, int *num_bvecs,
				  bool *pinned);
void ceph_put_bvecs(struct bio_vec *bvecs, int num_bvecs, bool should_dirty,
		    bool pinned);
#endif

#endif /* _FS_CEPH_FILE_KUNIT_H */
