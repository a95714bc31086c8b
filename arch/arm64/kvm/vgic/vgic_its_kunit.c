// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the vgic-its translation cache and the ITS commands that
 * retarget LPIs (MOVI, MOVALL, MAPC). Included from vgic-its.c, whose
 * helpers are static; arm64 KVM is built in, so the suite is too.
 *
 * The fixture is a VM without memory or vcpu threads: two vcpus (only their
 * vgic_cpu state is used), two ITSes registered as KVM devices, one device per
 * ITS with its ITEs, and LPIs in the VM's lpi_xa as vgic_add_lpi() would make
 * them. Nothing here queues an interrupt or kicks a vcpu: injection is what
 * the vgic_its_movi selftest covers.
 */

#include <kunit/test.h>
#include <kunit/static_stub.h>
#include <linux/completion.h>
#include <linux/kthread.h>

#define VITS_KUNIT_VCPUS	2
#define VITS_KUNIT_ITSES	2
#define VITS_KUNIT_EVENTS	4
#define VITS_KUNIT_DEVID	5
#define VITS_KUNIT_LPI		8192

struct vits_kunit {
	struct kvm *kvm;
	struct kvm_vcpu *vcpu[VITS_KUNIT_VCPUS];
	struct kvm_device dev[VITS_KUNIT_ITSES];
	struct vgic_its its[VITS_KUNIT_ITSES];
	/* ITS 0 has VITS_KUNIT_EVENTS ITEs, ITS 1 one */
	struct its_ite *ite[VITS_KUNIT_ITSES][VITS_KUNIT_EVENTS];
	int lpis_enabled_calls;
	/* the racing disable's invalidation also ran, and saw the entry */
	bool disable_saw_entry;
	/* an ITS disable racing a translation (its_disable_racing_insert) */
	struct completion its_disabled;
	bool its_disabled_in_window;
	bool its_disabler_failed;
};

static struct vgic_irq *vits_kunit_add_lpi(struct kunit *test, struct kvm *kvm,
					   u32 intid, struct kvm_vcpu *vcpu)
{
	struct vgic_irq *irq = kzalloc(sizeof(*irq), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, irq);
	INIT_LIST_HEAD(&irq->ap_list);
	raw_spin_lock_init(&irq->irq_lock);
	irq->config = VGIC_CONFIG_EDGE;
	kref_init(&irq->refcount);	/* the ITE's reference */
	irq->intid = intid;
	irq->target_vcpu = vcpu;
	irq->group = 1;
	irq->enabled = true;
	KUNIT_ASSERT_EQ(test, xa_err(xa_store_irq(&kvm->arch.vgic.lpi_xa, intid,
						  irq, GFP_KERNEL)), 0);
	return irq;
}

static struct its_collection *vits_kunit_add_coll(struct kunit *test,
						  struct vgic_its *its, u32 id)
{
	struct its_collection *coll = kunit_kzalloc(test, sizeof(*coll), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, coll);
	coll->collection_id = id;
	coll->target_addr = id;		/* collection N targets vcpu N */
	list_add_tail(&coll->coll_list, &its->collection_list);
	return coll;
}

static int vits_kunit_init(struct kunit *test)
{
	struct vits_kunit *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct kvm *kvm;
	int i, e;

	KUNIT_ASSERT_NOT_NULL(test, f);
	kvm = kunit_kzalloc(test, sizeof(*kvm), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kvm);
	f->kvm = kvm;
	xa_init_flags(&kvm->arch.vgic.lpi_xa, XA_FLAGS_LOCK_IRQ);
	xa_init(&kvm->vcpu_array);
	INIT_LIST_HEAD(&kvm->devices);

	for (i = 0; i < VITS_KUNIT_VCPUS; i++) {
		struct kvm_vcpu *vcpu = kunit_kzalloc(test, sizeof(*vcpu), GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, vcpu);
		vcpu->kvm = kvm;
		vcpu->vcpu_id = i;
		vcpu->vcpu_idx = i;
		INIT_LIST_HEAD(&vcpu->arch.vgic_cpu.ap_list_head);
		raw_spin_lock_init(&vcpu->arch.vgic_cpu.ap_list_lock);
		atomic_set(&vcpu->arch.vgic_cpu.ctlr, GICR_CTLR_ENABLE_LPIS);
		KUNIT_ASSERT_EQ(test, xa_err(xa_store(&kvm->vcpu_array, i, vcpu,
						      GFP_KERNEL)), 0);
		f->vcpu[i] = vcpu;
	}
	atomic_set(&kvm->online_vcpus, VITS_KUNIT_VCPUS);

	for (i = 0; i < VITS_KUNIT_ITSES; i++) {
		struct vgic_its *its = &f->its[i];
		struct its_collection *coll0;
		struct its_device *device;

		mutex_init(&its->its_lock);
		mutex_init(&its->cmd_lock);
		INIT_LIST_HEAD(&its->device_list);
		INIT_LIST_HEAD(&its->collection_list);
		xa_init(&its->translation_cache);
		its->enabled = true;
		its->dev = &f->dev[i];
		f->dev[i].kvm = kvm;
		f->dev[i].ops = &kvm_arm_vgic_its_ops;
		f->dev[i].private = its;
		list_add_tail(&f->dev[i].vm_node, &kvm->devices);

		coll0 = vits_kunit_add_coll(test, its, 0);
		vits_kunit_add_coll(test, its, 1);

		device = kunit_kzalloc(test, sizeof(*device), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, device);
		device->device_id = VITS_KUNIT_DEVID;
		device->num_eventid_bits = 4;
		INIT_LIST_HEAD(&device->itt_head);
		list_add_tail(&device->dev_list, &its->device_list);

		for (e = 0; e < (i ? 1 : VITS_KUNIT_EVENTS); e++) {
			struct its_ite *ite = kunit_kzalloc(test, sizeof(*ite), GFP_KERNEL);

			KUNIT_ASSERT_NOT_NULL(test, ite);
			ite->event_id = e;
			ite->collection = coll0;
			ite->irq = vits_kunit_add_lpi(test, kvm,
						      VITS_KUNIT_LPI + i * 64 + e,
						      f->vcpu[0]);
			list_add_tail(&ite->ite_list, &device->itt_head);
			f->ite[i][e] = ite;
		}
	}

	test->priv = f;
	return 0;
}

static void vits_kunit_exit(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	int i, e;

	if (!f)		/* the init failed to allocate */
		return;
	for (i = 0; i < VITS_KUNIT_ITSES; i++) {
		vgic_its_invalidate_cache(&f->its[i]);
		for (e = 0; e < VITS_KUNIT_EVENTS; e++)
			if (f->ite[i][e] && f->ite[i][e]->irq)
				vgic_put_irq(f->kvm, f->ite[i][e]->irq);
		xa_destroy(&f->its[i].translation_cache);
		mutex_destroy(&f->its[i].its_lock);
		mutex_destroy(&f->its[i].cmd_lock);
	}
	/* The last put of each LPI erased it: nothing may be left. */
	KUNIT_EXPECT_TRUE(test, xa_empty(&f->kvm->arch.vgic.lpi_xa));
	xa_destroy(&f->kvm->arch.vgic.lpi_xa);
	xa_destroy(&f->kvm->vcpu_array);
}

static struct vgic_irq *vits_kunit_cached(struct vgic_its *its, u32 devid,
					  u32 eventid)
{
	return xa_load(&its->translation_cache, vgic_its_cache_key(devid, eventid));
}

/* Translates (VITS_KUNIT_DEVID, @eventid) on ITS @i: the MSI slow path. */
static int vits_kunit_resolve(struct vits_kunit *f, int i, u32 eventid,
			      struct vgic_irq **irq)
{
	int ret;

	mutex_lock(&f->its[i].its_lock);
	ret = vgic_its_resolve_lpi(f->kvm, &f->its[i], VITS_KUNIT_DEVID,
				   eventid, irq);
	mutex_unlock(&f->its[i].its_lock);
	return ret;
}

static void vits_kunit_set_field(u64 *cmd, int word, int shift, int size, u64 val)
{
	u64 mask = GENMASK_ULL(size - 1, 0) << shift;
	u64 w = le64_to_cpu((__force __le64)cmd[word]);

	/* The command queue is little-endian, as its_cmd_mask_field() reads it. */
	cmd[word] = (__force u64)cpu_to_le64((w & ~mask) | ((val << shift) & mask));
}

static void vits_kunit_key_packing(struct kunit *test)
{
	struct vits_kunit *f = test->priv;

	KUNIT_EXPECT_EQ(test, vgic_its_cache_key(0, 0), 0UL);
	KUNIT_EXPECT_EQ(test, vgic_its_cache_key(0, VITS_MAX_EVENTID),
			(unsigned long)VITS_MAX_EVENTID);
	KUNIT_EXPECT_EQ(test, vgic_its_cache_key(1, 0), BIT(VITS_TYPER_IDBITS));
	KUNIT_EXPECT_NE(test, vgic_its_cache_key(1, 0),
			vgic_its_cache_key(0, VITS_MAX_EVENTID));
	KUNIT_EXPECT_EQ(test, vgic_its_cache_key(VITS_MAX_DEVID, VITS_MAX_EVENTID),
			(unsigned long)GENMASK(VITS_TYPER_DEVBITS + VITS_TYPER_IDBITS - 1, 0));
	/* Out-of-range IDs are refused before the doorbell is even looked up. */
	KUNIT_EXPECT_NULL(test, vgic_its_check_cache(f->kvm, 0, VITS_MAX_DEVID + 1, 0));
	KUNIT_EXPECT_NULL(test, vgic_its_check_cache(f->kvm, 0, 0, VITS_MAX_EVENTID + 1));
}

static void vits_kunit_insert_takes_ref(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *want = f->ite[0][1]->irq, *irq = NULL;

	KUNIT_EXPECT_EQ(test, kref_read(&want->refcount), 1);
	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 0, 1, &irq), 0);
	KUNIT_EXPECT_PTR_EQ(test, irq, want);
	KUNIT_EXPECT_PTR_EQ(test, vits_kunit_cached(&f->its[0], VITS_KUNIT_DEVID, 1), want);
	KUNIT_EXPECT_EQ(test, kref_read(&want->refcount), 2);
	/* Only the translated pair, and only in this ITS's cache. */
	KUNIT_EXPECT_NULL(test, vits_kunit_cached(&f->its[0], VITS_KUNIT_DEVID, 0));
	KUNIT_EXPECT_NULL(test, vits_kunit_cached(&f->its[1], VITS_KUNIT_DEVID, 1));
}

static void vits_kunit_reinsert_drops_old_ref(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *a = f->ite[0][0]->irq, *b = f->ite[0][1]->irq;
	struct vgic_its *its = &f->its[0];

	mutex_lock(&its->its_lock);
	vgic_its_cache_translation(f->kvm, its, VITS_KUNIT_DEVID, 0, a);
	vgic_its_cache_translation(f->kvm, its, VITS_KUNIT_DEVID, 0, a);
	KUNIT_EXPECT_EQ(test, kref_read(&a->refcount), 2);

	/* A racing insertion of another IRQ under the same key replaces it. */
	vgic_its_cache_translation(f->kvm, its, VITS_KUNIT_DEVID, 0, b);
	mutex_unlock(&its->its_lock);
	KUNIT_EXPECT_EQ(test, kref_read(&a->refcount), 1);
	KUNIT_EXPECT_EQ(test, kref_read(&b->refcount), 2);
	KUNIT_EXPECT_PTR_EQ(test, vits_kunit_cached(its, VITS_KUNIT_DEVID, 0), b);
}

/* vgic_its_cache_translation() refuses a directly injected (GICv4) IRQ. */
static void vits_kunit_hw_not_cached(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq = f->ite[0][2]->irq;

	irq->hw = true;
	mutex_lock(&f->its[0].its_lock);
	vgic_its_cache_translation(f->kvm, &f->its[0], VITS_KUNIT_DEVID, 2, irq);
	mutex_unlock(&f->its[0].its_lock);
	irq->hw = false;
	KUNIT_EXPECT_NULL(test, vits_kunit_cached(&f->its[0], VITS_KUNIT_DEVID, 2));
	KUNIT_EXPECT_EQ(test, kref_read(&irq->refcount), 1);
}

static void vits_kunit_invalidate_restores_refs(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq;
	int e;

	for (e = 0; e < VITS_KUNIT_EVENTS; e++)
		KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 0, e, &irq), 0);
	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 1, 0, &irq), 0);
	for (e = 0; e < VITS_KUNIT_EVENTS; e++)
		KUNIT_EXPECT_EQ(test, kref_read(&f->ite[0][e]->irq->refcount), 2);

	vgic_its_invalidate_cache(&f->its[0]);
	KUNIT_EXPECT_TRUE(test, xa_empty(&f->its[0].translation_cache));
	for (e = 0; e < VITS_KUNIT_EVENTS; e++)
		KUNIT_EXPECT_EQ(test, kref_read(&f->ite[0][e]->irq->refcount), 1);
	/* The other ITS keeps its own. */
	KUNIT_EXPECT_EQ(test, kref_read(&f->ite[1][0]->irq->refcount), 2);

	vgic_its_invalidate_all_caches(f->kvm);
	KUNIT_EXPECT_TRUE(test, xa_empty(&f->its[1].translation_cache));
	KUNIT_EXPECT_EQ(test, kref_read(&f->ite[1][0]->irq->refcount), 1);
}

static void vits_kunit_last_put_erases_lpi(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq = f->ite[0][3]->irq, *got;
	u32 intid = irq->intid;

	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 0, 3, &got), 0);
	vgic_its_invalidate_cache(&f->its[0]);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&f->kvm->arch.vgic.lpi_xa, intid), irq);

	/* What its_free_ite() does: the ITE's reference is the last one. */
	f->ite[0][3]->irq = NULL;
	vgic_put_irq(f->kvm, irq);
	KUNIT_EXPECT_NULL(test, xa_load(&f->kvm->arch.vgic.lpi_xa, intid));
	KUNIT_EXPECT_NULL(test, vgic_get_irq(f->kvm, NULL, intid));
}

static void vits_kunit_lpis_disabled_not_cached(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq = NULL;

	atomic_set(&f->vcpu[0]->arch.vgic_cpu.ctlr, 0);
	KUNIT_EXPECT_EQ(test, vits_kunit_resolve(f, 0, 0, &irq), -EBUSY);
	KUNIT_EXPECT_NULL(test, irq);
	KUNIT_EXPECT_NULL(test, vits_kunit_cached(&f->its[0], VITS_KUNIT_DEVID, 0));
	KUNIT_EXPECT_EQ(test, kref_read(&f->ite[0][0]->irq->refcount), 1);
}

/*
 * vgic_lpis_enabled() as a vcpu clearing EnableLPIs right after the first
 * check of vgic_its_resolve_lpi() would make it look: true once, then false.
 */
static bool vits_kunit_lpis_disabled_after_check(struct kvm_vcpu *vcpu)
{
	struct vits_kunit *f = kunit_get_current_test()->priv;

	if (f->lpis_enabled_calls++ == 0)
		return true;
	atomic_set(&vcpu->arch.vgic_cpu.ctlr, 0);
	if (f->disable_saw_entry)
		vgic_its_invalidate_all_caches(vcpu->kvm);
	return false;
}

/*
 * Both orders of the race: the disable's invalidation missed the new entry
 * (the second check must drop it), or saw it too (the second check must
 * then find it gone and put nothing).
 */
static void vits_kunit_disable_racing_insert(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq = NULL;
	int ret;

	f->disable_saw_entry = *(const bool *)test->param_value;

	kunit_activate_static_stub(test, vgic_lpis_enabled,
				   vits_kunit_lpis_disabled_after_check);
	ret = vits_kunit_resolve(f, 0, 0, &irq);
	kunit_deactivate_static_stub(test, vgic_lpis_enabled);

	KUNIT_EXPECT_GE(test, f->lpis_enabled_calls, 2);
	KUNIT_EXPECT_EQ(test, ret, -EBUSY);
	KUNIT_EXPECT_NULL(test, vits_kunit_cached(&f->its[0], VITS_KUNIT_DEVID, 0));
	KUNIT_EXPECT_EQ(test, kref_read(&f->ite[0][0]->irq->refcount), 1);
}

enum vits_kunit_cmd { VITS_MOVI, VITS_MOVALL, VITS_MAPC };

struct vits_kunit_retarget {
	const char *name;
	enum vits_kunit_cmd cmd;
	bool target_enabled;
};

static const struct vits_kunit_retarget vits_kunit_retargets[] = {
	{ "MOVI to an RD with LPIs enabled", VITS_MOVI, true },
	{ "MOVI to an RD with LPIs disabled", VITS_MOVI, false },
	{ "MOVALL to an RD with LPIs enabled", VITS_MOVALL, true },
	{ "MOVALL to an RD with LPIs disabled", VITS_MOVALL, false },
	{ "MAPC remap to an RD with LPIs enabled", VITS_MAPC, true },
	{ "MAPC remap to an RD with LPIs disabled", VITS_MAPC, false },
};

static void vits_kunit_retarget_desc(const struct vits_kunit_retarget *p, char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vits_kunit_retarget, vits_kunit_retargets, vits_kunit_retarget_desc);

/*
 * Retarget the LPI of event 0 (collection 0, vcpu 0) to vcpu 1. The route
 * must change either way, and the cache must hold exactly what an uncached
 * translation would accept: after MOVI or a MAPC remap, that depends on vcpu
 * 1's LPIs. MOVALL changes no collection (the slow path still accepts the
 * translation), but empties the cache of the ITS that ran it, as upstream
 * does on purpose; the other ITS keeps its entry, though MOVALL also moves
 * the LPI that ITS 1 translates.
 */
static void vits_kunit_retarget(struct kunit *test)
{
	const struct vits_kunit_retarget *p = test->param_value;
	struct vits_kunit *f = test->priv;
	struct vgic_irq *irq0 = f->ite[0][0]->irq, *irq1 = f->ite[1][0]->irq;
	struct vgic_its *its = &f->its[0];
	bool keep = p->target_enabled && p->cmd != VITS_MOVALL;
	bool accept = p->target_enabled || p->cmd == VITS_MOVALL;
	u64 cmd[4] = { };
	struct vgic_irq *got;
	int ret = -EINVAL;

	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 0, 0, &got), 0);
	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 1, 0, &got), 0);
	if (!p->target_enabled)
		atomic_set(&f->vcpu[1]->arch.vgic_cpu.ctlr, 0);

	mutex_lock(&its->its_lock);
	switch (p->cmd) {
	case VITS_MOVI:
		vits_kunit_set_field(cmd, 0, 32, 32, VITS_KUNIT_DEVID);
		vits_kunit_set_field(cmd, 1, 0, 32, 0);
		vits_kunit_set_field(cmd, 2, 0, 16, 1);
		ret = vgic_its_cmd_handle_movi(f->kvm, its, cmd);
		break;
	case VITS_MOVALL:
		vits_kunit_set_field(cmd, 2, 16, 32, 0);
		vits_kunit_set_field(cmd, 3, 16, 32, 1);
		ret = vgic_its_cmd_handle_movall(f->kvm, its, cmd);
		break;
	case VITS_MAPC:
		vits_kunit_set_field(cmd, 2, 63, 1, 1);
		vits_kunit_set_field(cmd, 2, 16, 32, 1);
		vits_kunit_set_field(cmd, 2, 0, 16, 0);
		ret = vgic_its_cmd_handle_mapc(f->kvm, its, cmd);
		break;
	}
	mutex_unlock(&its->its_lock);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_PTR_EQ(test, irq0->target_vcpu, f->vcpu[1]);
	KUNIT_EXPECT_PTR_EQ(test, vits_kunit_cached(its, VITS_KUNIT_DEVID, 0),
			    keep ? irq0 : NULL);
	KUNIT_EXPECT_EQ(test, kref_read(&irq0->refcount), keep ? 2 : 1);
	if (p->cmd == VITS_MOVI)
		KUNIT_EXPECT_EQ(test, f->ite[0][0]->collection->collection_id, 1);
	if (p->cmd == VITS_MAPC)
		KUNIT_EXPECT_PTR_EQ(test, f->ite[0][1]->irq->target_vcpu, f->vcpu[1]);

	if (p->cmd == VITS_MOVALL) {
		KUNIT_EXPECT_PTR_EQ(test, irq1->target_vcpu, f->vcpu[1]);
		KUNIT_EXPECT_PTR_EQ(test, vits_kunit_cached(&f->its[1], VITS_KUNIT_DEVID, 0),
				    irq1);
	} else {
		/* The other ITS has its own collections: not concerned. */
		KUNIT_EXPECT_PTR_EQ(test, irq1->target_vcpu, f->vcpu[0]);
		KUNIT_EXPECT_PTR_EQ(test, vits_kunit_cached(&f->its[1], VITS_KUNIT_DEVID, 0),
				    irq1);
	}

	/* What the slow path now says for the moved LPI. */
	got = NULL;
	KUNIT_EXPECT_EQ(test, vits_kunit_resolve(f, 0, 0, &got), accept ? 0 : -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, got, accept ? irq0 : NULL);
}

static const bool vits_kunit_saw_entry[] = { false, true };

static void vits_kunit_saw_entry_desc(const bool *p, char *desc)
{
	strscpy(desc, *p ? "the disable also invalidated" : "the disable invalidated before",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vits_kunit_saw_entry, vits_kunit_saw_entry, vits_kunit_saw_entry_desc);

/* Clearing GITS_CTLR.Enabled empties the cache; the slow path then refuses. */
static void vits_kunit_its_disable(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_its *its = &f->its[0];
	struct vgic_irq *irq = NULL;

	KUNIT_ASSERT_EQ(test, vits_kunit_resolve(f, 0, 0, &irq), 0);
	KUNIT_ASSERT_EQ(test, kref_read(&irq->refcount), 2);

	vgic_mmio_write_its_ctlr(f->kvm, its, GITS_CTLR, 4, 0);
	KUNIT_EXPECT_FALSE(test, its->enabled);
	KUNIT_EXPECT_TRUE(test, xa_empty(&its->translation_cache));
	KUNIT_EXPECT_EQ(test, kref_read(&irq->refcount), 1);
	irq = NULL;
	KUNIT_EXPECT_EQ(test, vits_kunit_resolve(f, 0, 0, &irq), -EBUSY);
	KUNIT_EXPECT_NULL(test, irq);
	/* The other ITS is not concerned. */
	KUNIT_EXPECT_EQ(test, vits_kunit_resolve(f, 1, 0, &irq), 0);
}

static int vits_kunit_its_disabler(void *data)
{
	struct vits_kunit *f = data;

	vgic_mmio_write_its_ctlr(f->kvm, &f->its[0], GITS_CTLR, 4, 0);
	/* For the stub's timed wait and the case's wait, both. */
	complete_all(&f->its_disabled);
	return 0;
}

/*
 * vgic_lpis_enabled() runs in vgic_its_resolve_lpi() after the check of
 * its->enabled and before the insertion: there, another thread clears
 * GITS_CTLR.Enabled, and gets up to two seconds to finish. With the
 * disable under the its_lock (patch 5003) it cannot, and waits for the
 * translation to be done; without, it ends inside the window.
 */
static bool vits_kunit_its_disabled_after_check(struct kvm_vcpu *vcpu)
{
	struct vits_kunit *f = kunit_get_current_test()->priv;

	if (f->lpis_enabled_calls++ == 0) {
		struct task_struct *t;

		t = kthread_run(vits_kunit_its_disabler, f, "vits_kunit_disable");
		if (IS_ERR(t)) {
			/* Nothing raced: the case fails rather than pass. */
			f->its_disabler_failed = true;
			complete_all(&f->its_disabled);
		} else {
			f->its_disabled_in_window =
				wait_for_completion_timeout(&f->its_disabled, 2 * HZ);
		}
	}
	return atomic_read(&vcpu->arch.vgic_cpu.ctlr) == GICR_CTLR_ENABLE_LPIS;
}

/*
 * Clearing GITS_CTLR.Enabled while a translation is between its check of
 * the ITS and its insertion: the entry must not outlive the disable.
 */
static void vits_kunit_its_disable_racing_insert(struct kunit *test)
{
	struct vits_kunit *f = test->priv;
	struct vgic_its *its = &f->its[0];
	struct vgic_irq *irq = NULL;

	init_completion(&f->its_disabled);
	kunit_activate_static_stub(test, vgic_lpis_enabled,
				   vits_kunit_its_disabled_after_check);
	vits_kunit_resolve(f, 0, 0, &irq);
	kunit_deactivate_static_stub(test, vgic_lpis_enabled);

	KUNIT_ASSERT_GE_MSG(test, f->lpis_enabled_calls, 1,
			    "the translation never reached its check of the LPIs");
	KUNIT_ASSERT_FALSE_MSG(test, f->its_disabler_failed,
			       "could not start the thread that disables the ITS");
	/* The thread uses the fixture: it must be done before the checks. */
	KUNIT_ASSERT_TRUE_MSG(test, wait_for_completion_timeout(&f->its_disabled, 10 * HZ),
			      "the ITS disable did not finish within 10 s");
	/* The check, and 5002's look again after the insertion */
	KUNIT_EXPECT_EQ(test, f->lpis_enabled_calls, 2);
	KUNIT_EXPECT_FALSE(test, its->enabled);
	KUNIT_EXPECT_FALSE_MSG(test, f->its_disabled_in_window,
			       "the ITS was disabled between a translation's check and its insertion");
	KUNIT_EXPECT_TRUE_MSG(test, xa_empty(&its->translation_cache),
			      "a translation cached across an ITS disable outlived it");
	KUNIT_EXPECT_EQ(test, kref_read(&f->ite[0][0]->irq->refcount), 1);
}

static struct kunit_case vits_kunit_cases[] = {
	KUNIT_CASE(vits_kunit_key_packing),
	KUNIT_CASE(vits_kunit_insert_takes_ref),
	KUNIT_CASE(vits_kunit_reinsert_drops_old_ref),
	KUNIT_CASE(vits_kunit_hw_not_cached),
	KUNIT_CASE(vits_kunit_invalidate_restores_refs),
	KUNIT_CASE(vits_kunit_last_put_erases_lpi),
	KUNIT_CASE(vits_kunit_lpis_disabled_not_cached),
	KUNIT_CASE_PARAM(vits_kunit_disable_racing_insert, vits_kunit_saw_entry_gen_params),
	KUNIT_CASE(vits_kunit_its_disable),
	KUNIT_CASE(vits_kunit_its_disable_racing_insert),
	KUNIT_CASE_PARAM(vits_kunit_retarget, vits_kunit_retarget_gen_params),
	{}
};

static struct kunit_suite vits_kunit_suite = {
	.name = "vgic_its",
	.init = vits_kunit_init,
	.exit = vits_kunit_exit,
	.test_cases = vits_kunit_cases,
};

kunit_test_suite(vits_kunit_suite);
