// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_reclaim: which invalidations of guest memory KVM treats as reclaimed
 * memory (patches 2012-2013). A VM with one memslot over an anonymous mapping is
 * enough: every invalidation that overlaps the slot runs KVM's
 * invalidate_range_start(), which decides whether to call
 * kvm_arch_guest_memory_reclaimed() (a WBINVD on every CPU for SEV guests)
 * and says so through the kvm_guest_memory_reclaimed tracepoint. No vCPU
 * runs: the guest's CPU (qemu TCG, -cpu max) offers SVM, so kvm_amd loads
 * and /dev/kvm exists, but a nested guest would be far too slow here.
 *
 * Permission changes (mprotect, clear_refs soft-dirty) must say "kept";
 * what frees memory (MADV_DONTNEED, munmap) must say "reclaimed", and so
 * must per-page write-protection (userfaultfd's), after which the host
 * may read the pages: SEV parts without coherent caches need the flush
 * then. On 6.12 without the stack there is no such tracepoint and the
 * tests skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"

#define EVENT		TRACING "events/kvm/kvm_guest_memory_reclaimed/"
#define SLOT_SIZE	(2UL << 20)

/*
 * KVM's decisions for @event, an mmu_notifier event as the tracepoint names
 * it (the trace is filtered to this process), and how many of them said
 * "kept".
 */
static int decisions(const char *event, int *kept)
{
	char pat[48];

	snprintf(pat, sizeof(pat), "event %s: kept", event);
	*kept = trace_count("kvm_guest_memory_reclaimed:", pat);
	snprintf(pat, sizeof(pat), "event %s: ", event);
	return trace_count("kvm_guest_memory_reclaimed:", pat);
}

FIXTURE(vm)
{
	int kvm, vm;
	char *mem;
};

FIXTURE_SETUP(vm)
{
	struct kvm_userspace_memory_region slot = { 0 };
	char filter[64];
	int ret, err;

	self->kvm = -1;
	self->vm = -1;
	self->mem = MAP_FAILED;
	if (geteuid())
		SKIP(return, "not root: the test uses tracefs and /dev/kvm");
	if (access(TRACING "events", F_OK))
		SKIP(return, "no " TRACING "events: tracefs absent (CONFIG_FTRACE; mount debugfs)");
	self->kvm = open("/dev/kvm", O_RDWR);
	/* Run alone (virtstack.only=), the guest loaded no module. */
	if (self->kvm < 0 && errno == ENOENT &&
	    (!load_module("kvm_amd") || !load_module("kvm_intel")))
		self->kvm = open("/dev/kvm", O_RDWR);
	/* The guest's qemu offers SVM: there KVM must load. */
	if (missing_outside_guest(self->kvm >= 0))
		SKIP(return, "no KVM: /dev/kvm: %s (%s)", strerror(errno),
		     "the CPU offers neither SVM nor VMX, or kvm_amd/kvm_intel do not load");
	ASSERT_GE(self->kvm, 0) TH_LOG("/dev/kvm: %s", strerror(errno));
	if (access(EVENT "enable", W_OK)) {
		close(self->kvm);
		if (!virtstack_stack())
			SKIP(return, "no kvm_guest_memory_reclaimed tracepoint: %s",
			     "a kernel without the virtstack stack (patch 2012)");
		ASSERT_EQ(access(EVENT "enable", W_OK), 0)
			TH_LOG("no " EVENT "enable on the stack's kernel");
	}
	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_GE(self->vm, 0) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	self->mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->mem, MAP_FAILED);
	memset(self->mem, 0x5a, SLOT_SIZE);
	slot.memory_size = SLOT_SIZE;
	slot.userspace_addr = (unsigned long)self->mem;
	ASSERT_EQ(ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &slot), 0)
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	/* The event last: a failed setup gets no teardown to reset it. */
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	ASSERT_EQ(write_str(EVENT "filter", filter), 0);
	ret = write_str(TRACING "trace", "") || write_str(EVENT "enable", "1");
	err = errno;
	if (ret) {
		write_str(EVENT "enable", "0");
		write_str(EVENT "filter", "0");
	}
	ASSERT_EQ(ret, 0) TH_LOG("clear the trace, enable the event: %s", strerror(err));
}

FIXTURE_TEARDOWN(vm)
{
	write_str(EVENT "enable", "0");
	write_str(EVENT "filter", "0");
	if (self->mem != MAP_FAILED)
		munmap(self->mem, SLOT_SIZE);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* mprotect() down and up: each a PROTECTION_VMA over the slot, kept. */
TEST_F(vm, mprotect_is_not_reclaim)
{
	int n, kept;

	ASSERT_EQ(mprotect(self->mem, SLOT_SIZE, PROT_READ), 0);
	ASSERT_EQ(mprotect(self->mem, SLOT_SIZE, PROT_READ | PROT_WRITE), 0);
	n = decisions("PROTECTION_VMA", &kept);
	EXPECT_GE(n, 1) TH_LOG("no decision for mprotect() over a memslot");
	EXPECT_EQ(kept, n) TH_LOG("%d of %d mprotect() invalidations reported as reclaim",
				  n - kept, n);
}

/* clear_refs soft-dirty: SOFT_DIRTY over the whole mm, kept. */
TEST_F(vm, soft_dirty_is_not_reclaim)
{
	int n, kept;

	ASSERT_EQ(write_str("/proc/self/clear_refs", "4"), 0)
		TH_LOG("clear_refs 4: %s (CONFIG_MEM_SOFT_DIRTY?)", strerror(errno));
	n = decisions("SOFT_DIRTY", &kept);
	EXPECT_EQ(n, 1) TH_LOG("one SOFT_DIRTY over the whole mm, seen %d", n);
	EXPECT_EQ(kept, n);
	/* The memory is the guest's still, unchanged. */
	EXPECT_EQ(self->mem[SLOT_SIZE - 1], 0x5a);
}

/*
 * UFFDIO_WRITEPROTECT: PROTECTION_PAGE, which frees nothing but precedes
 * the host reading the pages (a snapshot; KSM and writeback write-protect
 * the same way): reclaimed, so that SEV's flush runs.
 */
TEST_F(vm, uffd_wp_is_reclaim)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (unsigned long)self->mem, SLOT_SIZE },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range,
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int uffd, n, kept;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
	ASSERT_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		SKIP(return, "UFFDIO_REGISTER_MODE_WP on anonymous memory: %s", strerror(errno));
	}
	ASSERT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0)
		TH_LOG("UFFDIO_WRITEPROTECT: %s", strerror(errno));
	n = decisions("PROTECTION_PAGE", &kept);
	EXPECT_GE(n, 1) TH_LOG("no decision for UFFDIO_WRITEPROTECT over a memslot");
	EXPECT_EQ(kept, 0) TH_LOG("%d of %d per-page write-protections skipped the flush",
				  kept, n);
	close(uffd);
}

/* MADV_DONTNEED frees the pages: CLEAR, reclaimed. */
TEST_F(vm, dontneed_is_reclaim)
{
	int n, kept;

	ASSERT_EQ(madvise(self->mem, SLOT_SIZE / 2, MADV_DONTNEED), 0);
	n = decisions("CLEAR", &kept);
	EXPECT_GE(n, 1) TH_LOG("no decision for MADV_DONTNEED over a memslot");
	EXPECT_EQ(kept, 0) TH_LOG("freed guest memory not reported as reclaimed");
	EXPECT_EQ(self->mem[0], 0);
}

/* munmap of part of the slot: UNMAP, reclaimed. */
TEST_F(vm, munmap_is_reclaim)
{
	int n, kept;

	ASSERT_EQ(munmap(self->mem + SLOT_SIZE / 2, SLOT_SIZE / 2), 0);
	n = decisions("UNMAP", &kept);
	EXPECT_GE(n, 1) TH_LOG("no decision for munmap() of a memslot");
	EXPECT_EQ(kept, 0);
	ASSERT_EQ(munmap(self->mem, SLOT_SIZE / 2), 0);
	self->mem = MAP_FAILED;
}

TEST_HARNESS_MAIN
