/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions of vhost-scsi that its KUnit suite (scsi_kunit.c) calls. They
 * are static unless CONFIG_KUNIT is enabled.
 */
#ifndef _DRIVERS_VHOST_SCSI_KUNIT_H
#define _DRIVERS_VHOST_SCSI_KUNIT_H

#if IS_ENABLED(CONFIG_KUNIT)
#include <linux/types.h>

struct scatterlist;

void vhost_scsi_release_sgl(struct scatterlist *sgl, unsigned int count,
			    bool pinned, bool dirty);
#endif

#endif /* _DRIVERS_VHOST_SCSI_KUNIT_H */
