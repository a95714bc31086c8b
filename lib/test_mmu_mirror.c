// SPDX-License-Identifier: GPL-2.0
/*
 * A software "device" that mirrors part of a process's address space the
 * way a GPU or an RDMA NIC does: a page table of its own, filled on device
 * faults through hmm_range_fault() and kept coherent by an
 * mmu_interval_notifier. It shows what the event of an invalidation buys a
 * mirror: with MMU_MIRROR_EVENT_BLIND every invalidation drops the range;
 * with MMU_MIRROR_EVENT_AWARE permission-only events keep the entries and
 * only take write access away where the CPU lost it.
 *
 * Each open file of /dev/test_mmu_mirror is one mirror of one range of the
 * caller's address space (MMU_MIRROR_ATTACH); MMU_MIRROR_READ and
 * MMU_MIRROR_WRITE are device accesses through the mirror's entries, so a
 * test can compare what the device sees with what the CPU sees after every
 * step. Counters per mirror (MMU_MIRROR_STATS) and, summed per policy over
 * the mirrors closed so far, in debugfs (test_mmu_mirror/stats).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "test_mmu_mirror_uapi.h"

#define MIRROR_MAX_PAGES	BIT(18)		/* 1 GiB of 4 KiB pages */
#define MIRROR_CHUNK		16		/* pages per device access step */
#define MIRROR_TRIES		100

/* Entry flags */
#define MIRROR_VALID	BIT(0)
#define MIRROR_WRITE	BIT(1)
#define MIRROR_DROPPED	BIT(2)	/* was valid once: a fill is a refault */

struct mirror_entry {
	unsigned long pfn;
	unsigned long flags;
};

struct mmu_mirror {
	struct mmu_interval_notifier notifier;
	struct mm_struct *mm;
	unsigned long start, npages;
	enum mmu_mirror_policy policy;
	spinlock_t lock;		/* the entries, the stats and the seq */
	struct mirror_entry *pt;
	struct mmu_mirror_stats stats;
	struct mutex attach_lock;	/* attach against attach and access */
	bool attached;
};

/* Totals of the closed mirrors, per policy: debugfs test_mmu_mirror/stats. */
static struct mmu_mirror_stats mirror_totals[2];
static unsigned long mirror_closed[2];
static DEFINE_SPINLOCK(mirror_totals_lock);

enum mirror_action { MIRROR_KEEP, MIRROR_READ_ONLY, MIRROR_DROP };

/*
 * What an event-aware mirror does with its entries. PROTECTION_VMA without
 * the NUMA hint comes from mprotect(), which holds mmap_lock for writing
 * and has already set the VMA's new flags. They say what to drop, never
 * what to grant: "keep" keeps the entries as they were, read-only ones
 * included, and a write the device wants afterwards faults.
 */
static enum mirror_action mirror_aware_action(const struct mmu_notifier_range *range)
{
	struct vm_area_struct *vma;

	if (mmu_notifier_range_write_protects(range))
		return MIRROR_READ_ONLY;
	if (range->event != MMU_NOTIFY_PROTECTION_VMA ||
	    (range->flags & MMU_NOTIFIER_RANGE_NUMA_HINT))
		return MIRROR_DROP;

	/* mprotect() holds it for write; any other sender at least for read */
	mmap_assert_locked(range->mm);
	vma = vma_lookup(range->mm, range->start);
	if (!vma || vma->vm_end < range->end || !(vma->vm_flags & VM_READ))
		return MIRROR_DROP;
	return vma->vm_flags & VM_WRITE ? MIRROR_KEEP : MIRROR_READ_ONLY;
}

static bool mirror_invalidate(struct mmu_interval_notifier *mni,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mmu_mirror *m = container_of(mni, struct mmu_mirror, notifier);
	unsigned long end = m->start + (m->npages << PAGE_SHIFT);
	unsigned long first, last, i;
	enum mirror_action act = MIRROR_DROP;
	bool dropped = false;

	if (m->policy == MMU_MIRROR_EVENT_AWARE)
		act = mirror_aware_action(range);

	first = (max(range->start, m->start) - m->start) >> PAGE_SHIFT;
	last = (min(range->end, end) - m->start + PAGE_SIZE - 1) >> PAGE_SHIFT;

	/* Never sleeps: fine for non-blockable ranges too. */
	spin_lock(&m->lock);
	mmu_interval_set_seq(mni, cur_seq);
	m->stats.invalidations++;
	for (i = first; i < last; i++) {
		struct mirror_entry *e = &m->pt[i];

		if (!(e->flags & MIRROR_VALID))
			continue;
		if (act == MIRROR_DROP) {
			e->flags = MIRROR_DROPPED;
			m->stats.dropped++;
			dropped = true;
		} else if (act == MIRROR_READ_ONLY && (e->flags & MIRROR_WRITE)) {
			e->flags &= ~MIRROR_WRITE;
			m->stats.downgrades++;
		}
	}
	if (dropped) {
		m->stats.teardowns++;
		if (range->event < MMU_MIRROR_NR_EVENTS)
			m->stats.event_teardowns[range->event]++;
	}
	spin_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = {
	.invalidate = mirror_invalidate,
};

/* A device fault: fill @n entries from page @idx, writable if @write. */
static int mirror_fault(struct mmu_mirror *m, unsigned long idx, unsigned long n,
			bool write)
{
	unsigned long pfns[MIRROR_CHUNK];
	struct hmm_range range = {
		.notifier = &m->notifier,
		.start = m->start + (idx << PAGE_SHIFT),
		.end = m->start + ((idx + n) << PAGE_SHIFT),
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
	};
	unsigned long i;
	int tries, ret;

	for (tries = 0; tries < MIRROR_TRIES; tries++) {
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		mmap_read_lock(m->mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(m->mm);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;

		spin_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, range.notifier_seq)) {
			spin_unlock(&m->lock);
			continue;
		}
		m->stats.faults++;
		for (i = 0; i < n; i++) {
			struct mirror_entry *e = &m->pt[idx + i];

			if (e->flags & MIRROR_DROPPED)
				m->stats.refaults++;
			else if ((e->flags & MIRROR_VALID) && !(e->flags & MIRROR_WRITE) && write)
				m->stats.write_upgrades++;
			e->pfn = page_to_pfn(hmm_pfn_to_page(pfns[i]));
			e->flags = MIRROR_VALID;
			if (pfns[i] & HMM_PFN_WRITE)
				e->flags |= MIRROR_WRITE;
		}
		spin_unlock(&m->lock);
		return 0;
	}
	return -EBUSY;
}

/* Entries [idx, idx + n) usable for the access, under m->lock. */
static bool mirror_present(struct mmu_mirror *m, unsigned long idx, unsigned long n,
			   bool write)
{
	unsigned long need = MIRROR_VALID | (write ? MIRROR_WRITE : 0), i;

	for (i = 0; i < n; i++)
		if ((m->pt[idx + i].flags & need) != need)
			return false;
	return true;
}

/*
 * Copies @n pages between the pages the entries point to and @buf, with
 * every entry valid (and writable for a write) under m->lock: an
 * invalidation clears the entries before the CPU may free the pages.
 */
static int mirror_copy(struct mmu_mirror *m, unsigned long idx, unsigned long n,
		       void *buf, bool write)
{
	unsigned long i;
	int tries;

	for (tries = 0; tries < MIRROR_TRIES; tries++) {
		spin_lock(&m->lock);
		if (mirror_present(m, idx, n, write)) {
			for (i = 0; i < n; i++) {
				struct page *page = pfn_to_page(m->pt[idx + i].pfn);
				void *p = buf + (i << PAGE_SHIFT);

				if (write)
					memcpy_to_page(page, 0, p, PAGE_SIZE);
				else
					memcpy_from_page(p, page, 0, PAGE_SIZE);
			}
			spin_unlock(&m->lock);
			return 0;
		}
		spin_unlock(&m->lock);
		if (mirror_fault(m, idx, n, write))
			return -EFAULT;
	}
	return -EBUSY;
}

static long mirror_access(struct mmu_mirror *m, void __user *uarg, bool write)
{
	struct mmu_mirror_access a;
	unsigned long idx, done, n;
	void __user *ptr;
	void *buf;
	long ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!m->attached || current->mm != m->mm)
		return -EINVAL;
	if (!PAGE_ALIGNED(a.addr) || a.addr < m->start || !a.npages ||
	    a.npages > m->npages ||
	    (a.addr - m->start) >> PAGE_SHIFT > m->npages - a.npages)
		return -EINVAL;

	buf = kmalloc(MIRROR_CHUNK << PAGE_SHIFT, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	idx = (a.addr - m->start) >> PAGE_SHIFT;
	ptr = u64_to_user_ptr(a.ptr);
	for (done = 0; done < a.npages && !ret; done += n) {
		n = min_t(unsigned long, a.npages - done, MIRROR_CHUNK);
		if (write && copy_from_user(buf, ptr + (done << PAGE_SHIFT), n << PAGE_SHIFT)) {
			ret = -EFAULT;
			break;
		}
		ret = mirror_copy(m, idx + done, n, buf, write);
		if (!ret && !write &&
		    copy_to_user(ptr + (done << PAGE_SHIFT), buf, n << PAGE_SHIFT))
			ret = -EFAULT;
	}
	kfree(buf);
	return ret;
}

static long mirror_attach(struct mmu_mirror *m, void __user *uarg)
{
	struct mmu_mirror_attach a;
	struct mirror_entry *pt;
	int ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!PAGE_ALIGNED(a.addr) || !a.npages || a.npages > MIRROR_MAX_PAGES ||
	    a.addr + (a.npages << PAGE_SHIFT) < a.addr ||
	    (a.policy != MMU_MIRROR_EVENT_BLIND && a.policy != MMU_MIRROR_EVENT_AWARE))
		return -EINVAL;
	if (m->attached)
		return -EBUSY;

	pt = kvcalloc(a.npages, sizeof(*pt), GFP_KERNEL);
	if (!pt)
		return -ENOMEM;
	m->pt = pt;
	m->start = a.addr;
	m->npages = a.npages;
	m->policy = a.policy;
	m->mm = current->mm;
	ret = mmu_interval_notifier_insert(&m->notifier, current->mm, a.addr,
					   a.npages << PAGE_SHIFT, &mirror_ops);
	if (ret) {
		m->pt = NULL;
		kvfree(pt);
		return ret;
	}
	m->attached = true;
	return 0;
}

static long mirror_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mmu_mirror *m = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct mmu_mirror_stats stats;
	long ret;

	mutex_lock(&m->attach_lock);
	switch (cmd) {
	case MMU_MIRROR_ATTACH:
		ret = mirror_attach(m, uarg);
		break;
	case MMU_MIRROR_READ:
	case MMU_MIRROR_WRITE:
		ret = mirror_access(m, uarg, cmd == MMU_MIRROR_WRITE);
		break;
	case MMU_MIRROR_STATS:
		spin_lock(&m->lock);
		stats = m->stats;
		spin_unlock(&m->lock);
		ret = copy_to_user(uarg, &stats, sizeof(stats)) ? -EFAULT : 0;
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&m->attach_lock);
	return ret;
}

static int mirror_open(struct inode *inode, struct file *file)
{
	struct mmu_mirror *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return -ENOMEM;
	spin_lock_init(&m->lock);
	mutex_init(&m->attach_lock);
	file->private_data = m;
	return 0;
}

static void mirror_add_totals(const struct mmu_mirror *m)
{
	struct mmu_mirror_stats *t = &mirror_totals[m->policy];
	int e;

	spin_lock(&mirror_totals_lock);
	t->invalidations += m->stats.invalidations;
	t->teardowns += m->stats.teardowns;
	t->dropped += m->stats.dropped;
	t->downgrades += m->stats.downgrades;
	t->faults += m->stats.faults;
	t->refaults += m->stats.refaults;
	t->write_upgrades += m->stats.write_upgrades;
	for (e = 0; e < MMU_MIRROR_NR_EVENTS; e++)
		t->event_teardowns[e] += m->stats.event_teardowns[e];
	mirror_closed[m->policy]++;
	spin_unlock(&mirror_totals_lock);
}

static int mirror_release(struct inode *inode, struct file *file)
{
	struct mmu_mirror *m = file->private_data;

	if (m->attached) {
		/* Waits for a callback that is running. */
		mmu_interval_notifier_remove(&m->notifier);
		mirror_add_totals(m);
		kvfree(m->pt);
	}
	mutex_destroy(&m->attach_lock);
	kfree(m);
	return 0;
}

static const struct file_operations mirror_fops = {
	.owner = THIS_MODULE,
	.open = mirror_open,
	.release = mirror_release,
	.unlocked_ioctl = mirror_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice mirror_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "test_mmu_mirror",
	.fops = &mirror_fops,
};

static int mirror_stats_show(struct seq_file *s, void *unused)
{
	static const char * const name[] = { "event-blind", "event-aware" };
	int p;

	seq_puts(s, "policy mirrors invalidations teardowns dropped downgrades faults refaults write_upgrades");
	seq_puts(s, " teardowns_by_event(UNMAP CLEAR PROTECTION_VMA PROTECTION_PAGE SOFT_DIRTY RELEASE MIGRATE EXCLUSIVE)\n");
	spin_lock(&mirror_totals_lock);
	for (p = 0; p < ARRAY_SIZE(name); p++) {
		const struct mmu_mirror_stats *t = &mirror_totals[p];

		int e;

		seq_printf(s, "%s %lu %llu %llu %llu %llu %llu %llu %llu", name[p],
			   mirror_closed[p], t->invalidations, t->teardowns, t->dropped,
			   t->downgrades, t->faults, t->refaults, t->write_upgrades);
		for (e = 0; e < MMU_MIRROR_NR_EVENTS; e++)
			seq_printf(s, " %llu", t->event_teardowns[e]);
		seq_putc(s, '\n');
	}
	spin_unlock(&mirror_totals_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mirror_stats);

static struct dentry *mirror_debugfs;

static_assert(MMU_NOTIFY_EXCLUSIVE < MMU_MIRROR_NR_EVENTS);

static int __init mirror_init(void)
{
	int ret = misc_register(&mirror_misc);

	if (ret)
		return ret;
	mirror_debugfs = debugfs_create_dir("test_mmu_mirror", NULL);
	debugfs_create_file("stats", 0444, mirror_debugfs, NULL, &mirror_stats_fops);
	return 0;
}

static void __exit mirror_exit(void)
{
	debugfs_remove_recursive(mirror_debugfs);
	misc_deregister(&mirror_misc);
}

module_init(mirror_init);
module_exit(mirror_exit);
MODULE_DESCRIPTION("A software device mirroring process memory, event-blind or event-aware");
MODULE_LICENSE("GPL");
