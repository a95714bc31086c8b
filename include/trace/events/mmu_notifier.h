/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints for mmu_notifier invalidations: what an operation tells the
 * secondary MMUs mirroring a process (KVM, GPUs, RDMA), and whether every
 * start is ended.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mmu_notifier

#if !defined(_TRACE_MMU_NOTIFIER_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MMU_NOTIFIER_H

#include <linux/mmu_notifier.h>
#include <linux/tracepoint.h>

/* The enum's values for userspace tools that parse the format */
TRACE_DEFINE_ENUM(MMU_NOTIFY_UNMAP);
TRACE_DEFINE_ENUM(MMU_NOTIFY_CLEAR);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_VMA);
TRACE_DEFINE_ENUM(MMU_NOTIFY_PROTECTION_PAGE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_SOFT_DIRTY);
TRACE_DEFINE_ENUM(MMU_NOTIFY_RELEASE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_MIGRATE);
TRACE_DEFINE_ENUM(MMU_NOTIFY_EXCLUSIVE);

#define show_mmu_notifier_event(e)					\
	__print_symbolic(e,						\
			 { MMU_NOTIFY_UNMAP,		"UNMAP" },	\
			 { MMU_NOTIFY_CLEAR,		"CLEAR" },	\
			 { MMU_NOTIFY_PROTECTION_VMA,	"PROTECTION_VMA" }, \
			 { MMU_NOTIFY_PROTECTION_PAGE,	"PROTECTION_PAGE" }, \
			 { MMU_NOTIFY_SOFT_DIRTY,	"SOFT_DIRTY" },	\
			 { MMU_NOTIFY_RELEASE,		"RELEASE" },	\
			 { MMU_NOTIFY_MIGRATE,		"MIGRATE" },	\
			 { MMU_NOTIFY_EXCLUSIVE,	"EXCLUSIVE" })

#define show_mmu_notifier_flags(f)					\
	__print_flags(f, "|",						\
		      { MMU_NOTIFIER_RANGE_BLOCKABLE, "BLOCKABLE" },	\
		      { MMU_NOTIFIER_RANGE_NUMA_HINT, "NUMA_HINT" })

/* ret is the start's result: -EAGAIN from a non-blocking start is never ended. */
TRACE_EVENT(mmu_notifier_invalidate_range_start,

	TP_PROTO(const struct mmu_notifier_range *range, int ret),

	TP_ARGS(range, ret),

	TP_STRUCT__entry(
		__field(const void *,	mm)
		__field(unsigned long,	start)
		__field(unsigned long,	end)
		__field(unsigned int,	event)
		__field(unsigned int,	flags)
		__field(const void *,	owner)
		__field(int,		ret)
	),

	TP_fast_assign(
		__entry->mm = range->mm;
		__entry->start = range->start;
		__entry->end = range->end;
		__entry->event = range->event;
		__entry->flags = range->flags;
		__entry->owner = range->owner;
		__entry->ret = ret;
	),

	TP_printk("mm=%p start=%#lx end=%#lx event=%s flags=%s owner=%p ret=%d",
		  __entry->mm, __entry->start, __entry->end,
		  show_mmu_notifier_event(__entry->event),
		  show_mmu_notifier_flags(__entry->flags),
		  __entry->owner, __entry->ret)
);

TRACE_EVENT(mmu_notifier_invalidate_range_end,

	TP_PROTO(const struct mmu_notifier_range *range),

	TP_ARGS(range),

	TP_STRUCT__entry(
		__field(const void *,	mm)
		__field(unsigned long,	start)
		__field(unsigned long,	end)
		__field(unsigned int,	event)
		__field(unsigned int,	flags)
	),

	TP_fast_assign(
		__entry->mm = range->mm;
		__entry->start = range->start;
		__entry->end = range->end;
		__entry->event = range->event;
		__entry->flags = range->flags;
	),

	TP_printk("mm=%p start=%#lx end=%#lx event=%s flags=%s",
		  __entry->mm, __entry->start, __entry->end,
		  show_mmu_notifier_event(__entry->event),
		  show_mmu_notifier_flags(__entry->flags))
);

#endif /* _TRACE_MMU_NOTIFIER_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
