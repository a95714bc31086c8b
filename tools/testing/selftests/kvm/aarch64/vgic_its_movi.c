// SPDX-License-Identifier: GPL-2.0
/*
 * vgic_its_movi - the ITS translation cache across MOVI, MOVALL and MAPC
 *
 * KVM caches (DeviceID, EventID) -> LPI translations, and a cached MSI skips
 * the check an uncached one makes: that the redistributor of the ITE's
 * collection has LPIs enabled. A command that moves a collection to a
 * redistributor with LPIs disabled (MOVI, MAPC remap) must therefore drop
 * the cached translation, so that KVM_SIGNAL_MSI keeps failing with EBUSY; a
 * move to a redistributor with LPIs enabled may keep it, and the LPI must
 * then be delivered at the new target. MOVALL moves the LPIs but no
 * collection: an uncached MSI is accepted after it whatever the new target,
 * so a cached one must be too.
 *
 * Each case runs in its own VM with two vCPUs, in a child process:
 *  1. vCPU 0 maps the event to collection 0 (vCPU 0); the host signals it
 *     once, which caches the translation, and vCPU 0 takes the LPI;
 *  2. vCPU 0 moves it to vCPU 1 with MOVI, MOVALL or a MAPC remap of
 *     collection 0, then SYNC;
 *  3. the host signals it again: with vCPU 1's LPIs enabled the MSI must be
 *     accepted and taken by vCPU 1, with them disabled it must fail (EBUSY),
 *     except after MOVALL (accepted; not waited for, vCPU 1 cannot take it).
 */
#include <errno.h>
#include <linux/sizes.h>
#include <pthread.h>
#include <sys/wait.h>

#include "arch_timer.h"
#include "gic.h"
#include "gic_v3.h"
#include "gic_v3_its.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall.h"
#include "vgic.h"

#define NR_VCPUS		2
#define TEST_MEMSLOT_INDEX	1
#define TEST_DEVID		3
#define TEST_EVENTID		7
#define TEST_LPI		8192
#define LPI_PROP_DEFAULT_PRIO	0xa0
/* How long the guest waits for an LPI before failing. */
#define LPI_WAIT_SECONDS	20

enum retarget { MOVI, MOVALL, MAPC };

static const char * const retarget_names[] = {
	[MOVI]		= "MOVI",
	[MOVALL]	= "MOVALL",
	[MAPC]		= "MAPC remap",
};

static struct test_data {
	enum retarget	cmd;
	bool		target_lpis_enabled;

	vm_paddr_t	device_table;
	vm_paddr_t	collection_table;
	vm_paddr_t	cmdq_base;
	void		*cmdq_base_va;
	vm_paddr_t	itt_table;
	vm_paddr_t	lpi_prop_table;
	vm_paddr_t	lpi_pend_tables;
} test_data;

/* Guest state, shared by the two vCPUs. */
static u32 lpis_taken[NR_VCPUS];
static bool vcpu1_ready;
static bool test_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	u32 intid = gic_get_and_ack_irq();

	if (intid == IAR_SPURIOUS)
		return;

	GUEST_ASSERT_EQ(intid, TEST_LPI);
	WRITE_ONCE(lpis_taken[guest_get_vcpuid()],
		   READ_ONCE(lpis_taken[guest_get_vcpuid()]) + 1);
	gic_set_eoi(intid);
}

/* Waits until vCPU @cpu has taken @n LPIs, or fails after a while. */
static void guest_wait_for_lpis(int cpu, u32 n)
{
	u64 end = timer_get_cntct(VIRTUAL) + LPI_WAIT_SECONDS * (u64)timer_get_cntfrq();

	while (READ_ONCE(lpis_taken[cpu]) < n && timer_get_cntct(VIRTUAL) < end)
		cpu_relax();
	__GUEST_ASSERT(READ_ONCE(lpis_taken[cpu]) == n,
		       "vCPU %d took %u LPIs, expected %u", cpu,
		       READ_ONCE(lpis_taken[cpu]), n);
}

static void guest_vcpu1(void)
{
	if (test_data.target_lpis_enabled)
		gic_rdist_enable_lpis(test_data.lpi_prop_table, SZ_64K,
				      test_data.lpi_pend_tables + SZ_64K);
	local_irq_enable();
	WRITE_ONCE(vcpu1_ready, true);

	while (!READ_ONCE(test_done))
		cpu_relax();

	GUEST_DONE();
}

static void guest_vcpu0(void)
{
	void *cmdq = test_data.cmdq_base_va;

	gic_rdist_enable_lpis(test_data.lpi_prop_table, SZ_64K,
			      test_data.lpi_pend_tables);
	local_irq_enable();

	while (!READ_ONCE(vcpu1_ready))
		cpu_relax();

	its_init(test_data.collection_table, SZ_64K,
		 test_data.device_table, SZ_64K,
		 test_data.cmdq_base, SZ_64K);
	its_send_mapc_cmd(cmdq, 0, 0, true);
	its_send_mapc_cmd(cmdq, 1, 1, true);
	its_send_mapd_cmd(cmdq, TEST_DEVID, test_data.itt_table, SZ_64K, true);
	its_send_mapti_cmd(cmdq, TEST_DEVID, TEST_EVENTID, 0, TEST_LPI);
	its_send_invall_cmd(cmdq, 0);
	its_send_invall_cmd(cmdq, 1);

	/* The host's first MSI translates, caches, and lands here. */
	GUEST_SYNC(1);
	guest_wait_for_lpis(0, 1);

	switch (test_data.cmd) {
	case MOVI:
		its_send_movi_cmd(cmdq, TEST_DEVID, TEST_EVENTID, 1);
		break;
	case MOVALL:
		its_send_movall_cmd(cmdq, 0, 1);
		break;
	case MAPC:
		its_send_mapc_cmd(cmdq, 1, 0, true);
		break;
	}
	its_send_sync_cmd(cmdq, 1);

	GUEST_SYNC(2);
	if (test_data.target_lpis_enabled)
		guest_wait_for_lpis(1, 1);
	GUEST_ASSERT_EQ(READ_ONCE(lpis_taken[0]), 1);

	WRITE_ONCE(test_done, true);
	GUEST_DONE();
}

static void guest_code(void)
{
	gic_init(GIC_V3, NR_VCPUS);

	if (guest_get_vcpuid() == 0)
		guest_vcpu0();
	else
		guest_vcpu1();
}

static int signal_msi(struct kvm_vm *vm)
{
	vm_paddr_t db_addr = GITS_BASE_GPA + GITS_TRANSLATER;
	struct kvm_msi msi = {
		.address_lo	= db_addr,
		.address_hi	= db_addr >> 32,
		.data		= TEST_EVENTID,
		.devid		= TEST_DEVID,
		.flags		= KVM_MSI_VALID_DEVID,
	};

	return __vm_ioctl(vm, KVM_SIGNAL_MSI, &msi);
}

static void setup_tables(struct kvm_vm *vm)
{
	size_t pages_64k = vm_calc_num_guest_pages(vm->mode, SZ_64K);
	/* device, collection, command queue, ITT, properties, 2 pending */
	size_t sz = (5 + NR_VCPUS) * SZ_64K;
	vm_paddr_t base = (vm_compute_max_gfn(vm) + 1) * vm->page_size - sz;
	u8 *prop;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, base,
				    TEST_MEMSLOT_INDEX, sz / vm->page_size, 0);

	test_data.device_table = vm_phy_pages_alloc(vm, pages_64k, base, TEST_MEMSLOT_INDEX);
	test_data.collection_table = vm_phy_pages_alloc(vm, pages_64k, base,
							TEST_MEMSLOT_INDEX);
	test_data.cmdq_base = vm_phy_pages_alloc(vm, pages_64k, base, TEST_MEMSLOT_INDEX);
	virt_map(vm, test_data.cmdq_base, test_data.cmdq_base, pages_64k);
	test_data.cmdq_base_va = (void *)test_data.cmdq_base;
	test_data.itt_table = vm_phy_pages_alloc(vm, pages_64k, base, TEST_MEMSLOT_INDEX);
	test_data.lpi_prop_table = vm_phy_pages_alloc(vm, pages_64k, base, TEST_MEMSLOT_INDEX);
	test_data.lpi_pend_tables = vm_phy_pages_alloc(vm, pages_64k * NR_VCPUS, base,
						       TEST_MEMSLOT_INDEX);

	prop = addr_gpa2hva(vm, test_data.lpi_prop_table);
	prop[TEST_LPI - 8192] = LPI_PROP_DEFAULT_PRIO | LPI_PROP_GROUP1 | LPI_PROP_ENABLED;
}

static void *vcpu1_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("vCPU 1: unexpected ucall %lu", uc.cmd);
		}
	}
}

static void run_case(enum retarget cmd, bool target_lpis_enabled)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	bool done = false;
	struct kvm_vm *vm;
	pthread_t thread;
	struct ucall uc;
	int gic_fd, its_fd, i, ret;

	test_data.cmd = cmd;
	test_data.target_lpis_enabled = target_lpis_enabled;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	vm_init_descriptor_tables(vm);
	for (i = 0; i < NR_VCPUS; i++)
		vcpu_init_descriptor_tables(vcpus[i]);
	vm_install_exception_handler(vm, VECTOR_IRQ_CURRENT, guest_irq_handler);

	setup_tables(vm);
	gic_fd = vgic_v3_setup(vm, NR_VCPUS, 64);
	__TEST_REQUIRE(gic_fd >= 0, "Failed to create GICv3");
	its_fd = vgic_its_setup(vm);
	sync_global_to_guest(vm, test_data);

	pthread_create(&thread, NULL, vcpu1_thread, vcpus[1]);

	while (!done) {
		vcpu_run(vcpus[0]);
		switch (get_ucall(vcpus[0], &uc)) {
		case UCALL_SYNC:
			ret = signal_msi(vm);
			if (uc.args[1] == 1 || target_lpis_enabled || cmd == MOVALL) {
				TEST_ASSERT(ret == 1,
					    "stage %lu: KVM_SIGNAL_MSI returned %d (errno %d), expected 1",
					    uc.args[1], ret, ret < 0 ? errno : 0);
			} else {
				TEST_ASSERT(ret == -1 && errno == EBUSY,
					    "%s to a vCPU with LPIs disabled: KVM_SIGNAL_MSI returned %d%s; a stale cached translation was used",
					    retarget_names[cmd], ret,
					    ret < 0 ? " but not EBUSY" : ", expected EBUSY");
			}
			break;
		case UCALL_DONE:
			done = true;
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("vCPU 0: unexpected ucall %lu", uc.cmd);
		}
	}

	pthread_join(thread, NULL);
	close(its_fd);
	close(gic_fd);
	kvm_vm_free(vm);
}

int main(void)
{
	enum retarget cmd;
	int enabled, status;
	struct kvm_vm *vm;
	pid_t pid;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SIGNAL_MSI));
	/* Before the plan: a host that cannot emulate both skips all. */
	vm = vm_create_barebones();
	TEST_REQUIRE(!__kvm_test_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3));
	TEST_REQUIRE(!__kvm_test_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS));
	kvm_vm_free(vm);

	ksft_print_header();
	ksft_set_plan(3 * 2);

	for (cmd = MOVI; cmd <= MAPC; cmd++) {
		for (enabled = 1; enabled >= 0; enabled--) {
			fflush(stdout);
			pid = fork();
			TEST_ASSERT(pid >= 0, "fork");
			if (!pid) {
				run_case(cmd, enabled);
				exit(KSFT_PASS);
			}
			TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
			ksft_test_result(WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS,
					 "%s to a vCPU with LPIs %s\n", retarget_names[cmd],
					 enabled ? "enabled" : "disabled");
		}
	}

	ksft_finished();
}
