// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_reclaim: how many of KVM's "guest memory reclaimed" calls the stack
 * saves (patches 2012-2013), in one boot of the stack's kernel. On 6.12
 * every invalidation that overlaps a memslot ends in
 * kvm_arch_guest_memory_reclaimed(), a WBINVD on every CPU for an SEV
 * guest; with the stack, mprotect(), NUMA hinting and clear_refs
 * soft-dirty (PROTECTION_VMA, SOFT_DIRTY), which free nothing and after
 * which the kernel reads nothing, skip it, and the
 * kvm_guest_memory_reclaimed tracepoint says which way each went.
 *
 * A VM with one 64 MiB memslot (no vCPU) over anonymous memory; each round
 * does what a host does to a guest's memory besides freeing it, and frees
 * a little: clear_refs soft-dirty (CRIU pre-dump, dirty tracking), an
 * mprotect() down and up of the slot (a VMM's write protection), a write
 * of every page, then MADV_DONTNEED of one sixteenth. Prints per round the
 * calls made and the calls skipped:
 *   BENCH kvm_reclaim_calls_per_round <v> calls lower
 *   BENCH kvm_reclaim_skipped_per_round <v> calls higher
 * The counts do not depend on time (nor on ICOUNT=1). An unpatched kernel
 * has no tracepoint, and gets no figures, nor does a kernel without event
 * tracing (make bench's configuration); without KVM it is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/testing/selftests/virtstack/files.h"

#define EVENT		TRACING "events/kvm/kvm_guest_memory_reclaimed/"
#define SLOT_SIZE	(64UL << 20)
#define ROUNDS		8

static int fail(const char *what)
{
	printf("kvm_reclaim: %s: %s\n", what, strerror(errno));
	write_str(EVENT "enable", "0");
	write_str(EVENT "filter", "0");
	return 1;
}

int main(void)
{
	struct kvm_userspace_memory_region slot = { 0 };
	int kvm, vm, r, kept, all;
	char filter[64], *mem;

	kvm = open("/dev/kvm", O_RDWR);
	/* Bench guests load no module. */
	if (kvm < 0 && (!load_module("kvm_amd") || !load_module("kvm_intel")))
		kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		return fail("/dev/kvm (kvm_amd and kvm_intel do not load)");
	if (access(TRACING "events", F_OK)) {
		printf("kvm_reclaim: no %s: a kernel without event tracing (%s)\n",
		       TRACING "events", "the bench kernels have none): nothing to measure");
		return 0;
	}
	if (access(EVENT "enable", W_OK)) {
		if (getenv("VIRTSTACK_STACK")) {
			printf("kvm_reclaim: no %s on the stack's kernel\n", EVENT "enable");
			return 1;
		}
		printf("kvm_reclaim: no %s, so no stack KVM patches: nothing to measure\n",
		       EVENT "enable");
		return 0;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memset(mem, 0x5a, SLOT_SIZE);
	slot.memory_size = SLOT_SIZE;
	slot.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return fail("KVM_SET_USER_MEMORY_REGION");

	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	if (write_str(EVENT "filter", filter) || write_str(TRACING "trace", "") ||
	    write_str(EVENT "enable", "1"))
		return fail("enable the tracepoint");
	for (r = 0; r < ROUNDS; r++) {
		if (write_str("/proc/self/clear_refs", "4"))
			return fail("clear_refs 4");
		if (mprotect(mem, SLOT_SIZE, PROT_READ) ||
		    mprotect(mem, SLOT_SIZE, PROT_READ | PROT_WRITE))
			return fail("mprotect");
		memset(mem, r, SLOT_SIZE);
		if (madvise(mem + r * SLOT_SIZE / 16, SLOT_SIZE / 16, MADV_DONTNEED))
			return fail("MADV_DONTNEED");
	}
	write_str(EVENT "enable", "0");
	write_str(EVENT "filter", "0");
	all = trace_count("kvm_guest_memory_reclaimed:", "event ");
	kept = trace_count("kvm_guest_memory_reclaimed:", ": kept");
	if (all <= 0 || kept < 0) {
		printf("kvm_reclaim: no decisions in %strace\n", TRACING);
		return 1;
	}
	printf("BENCH kvm_reclaim_calls_per_round %.2f calls lower\n",
	       (double)(all - kept) / ROUNDS);
	printf("BENCH kvm_reclaim_skipped_per_round %.2f calls higher\n",
	       (double)kept / ROUNDS);
	munmap(mem, SLOT_SIZE);
	close(vm);
	close(kvm);
	return 0;
}
