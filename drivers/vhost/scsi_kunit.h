/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions of vhost-scsi that its KUnit suite (scsi_kunit.c) calls. They
 * are static unless CONFIG_KUNIT is enabled.
 */
#ifndef _DRIVERS_VHOST_SCSI_KUNIT_H
#define _DRIVERS_VHOST_SCSI_KUNIT_H

#if IS_ENABLED(CONFIG_KUNIT)
#include <linux/dma-direction.h>
#include <linux/types.h>

struct page;
struct scatterlist;

void vhost_scsi_release_sgl(struct scatterlist *sgl, unsigned int count,
			    bool pinned, bool dirty);
void vhost_scsi_release_data(struct scatterlist *sgl, unsigned int sgl_count,
			     struct scatterlist *prot_sgl,
			     unsigned int prot_sgl_count, bool pinned,
			     enum dma_data_direction dir);
bool vhost_scsi_pages_overpinned(struct page **pages, unsigned int npages);
#endif

#endif /* _DRIVERS_VHOST_SCSI_KUNIT_H */
