/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The interface of lib/test_mmu_mirror.c: a software "device" that mirrors
 * part of a process's address space in a page table of its own, kept
 * coherent with an mmu_interval_notifier.
 */
#ifndef _LIB_TEST_MMU_MIRROR_UAPI_H
#define _LIB_TEST_MMU_MIRROR_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* How the mirror answers an invalidation. */
enum mmu_mirror_policy {
	/* Every invalidation drops the entries of its range. */
	MMU_MIRROR_EVENT_BLIND = 0,
	/*
	 * UNMAP, RELEASE, CLEAR, MIGRATE and EXCLUSIVE drop the entries;
	 * PROTECTION_PAGE and SOFT_DIRTY only drop their write permission;
	 * PROTECTION_VMA (mprotect()) applies the VMA's new permissions:
	 * drop on PROT_NONE, drop write permission on read-only, keep on an
	 * upgrade; NUMA hinting drops.
	 */
	MMU_MIRROR_EVENT_AWARE = 1,
};

/*
 * @addr, @npages: (in) the range to mirror, page aligned
 * @policy: (in) enum mmu_mirror_policy
 */
struct mmu_mirror_attach {
	__u64 addr;
	__u64 npages;
	__u32 policy;
	__u32 pad;
};

/*
 * A device access: @npages pages from @addr (inside the mirrored range),
 * copied to or from the buffer at @ptr. A missing or read-only entry is
 * faulted in first, as a device page fault would be.
 */
struct mmu_mirror_access {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
};

#define MMU_MIRROR_NR_EVENTS	8	/* enum mmu_notifier_event */

/* What the mirror did since it was attached. */
struct mmu_mirror_stats {
	__u64 invalidations;	/* notifier callbacks over the range */
	__u64 teardowns;	/* callbacks that dropped at least one entry */
	__u64 dropped;		/* entries dropped */
	__u64 downgrades;	/* entries that only lost write permission */
	__u64 faults;		/* device faults (hmm_range_fault() calls) */
	__u64 refaults;		/* entries filled again after being dropped */
	__u64 write_upgrades;	/* read-only entries faulted for writing */
	__u64 event_teardowns[MMU_MIRROR_NR_EVENTS];	/* teardowns per event */
};

#define MMU_MIRROR_ATTACH	_IOW('M', 0x00, struct mmu_mirror_attach)
#define MMU_MIRROR_READ		_IOW('M', 0x01, struct mmu_mirror_access)
#define MMU_MIRROR_WRITE	_IOW('M', 0x02, struct mmu_mirror_access)
#define MMU_MIRROR_STATS	_IOR('M', 0x03, struct mmu_mirror_stats)

#endif /* _LIB_TEST_MMU_MIRROR_UAPI_H */
