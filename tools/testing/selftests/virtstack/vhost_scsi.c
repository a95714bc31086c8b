// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_scsi: drive /dev/vhost-scsi from user space, as a VMM would for a
 * guest, against the LIO target the guest's "lio" lane sets up through
 * configfs (a fileio backstore behind the vhost fabric).
 *
 * There is no nested guest: this process is the "guest". Its memory table
 * maps guest-physical addresses to the same user addresses (identity), and
 * a single request virtqueue carries READ_10 and WRITE_10 commands whose
 * data buffers are anonymous memory of this process. vhost-scsi must pin
 * those buffers for the command (one pin per page, all released once the
 * command completes) and, after a READ, mark the pages it wrote dirty: the
 * test reads the page flags through /proc/self/pagemap and /proc/kpageflags.
 * Data is checked both ways against the backing file.
 *
 * A guest may also name one page in every iovec of thousands of commands
 * in flight; each pin adds 1024 to a small page's reference count, and
 * past INT_MAX GUP warns and refuses the page to everyone. vhost-scsi
 * therefore refuses (TASK SET FULL) a command that finds a page pinned
 * more than a quarter of INT_MAX times (patch 1004). One process cannot
 * keep 2050 commands in flight on a LIO target that completes them at
 * once, so pin_flood_gets_task_set_full stands the other commands' pins
 * in with io_uring fixed buffers, 16384 per ring, all of that page: a READ
 * into it must come back TASK SET FULL with its pins released and the
 * data untouched, and succeed once the rings are gone.
 *
 * During live migration the VMM sets VHOST_F_LOG_ALL and a dirty log
 * (VHOST_SET_LOG_BASE, one bit per guest page) and resends the pages
 * whose bits are set. PG_dirty is no help there: read_is_logged_for_
 * migration requires the bits of the pages a READ wrote, data and
 * response, which vhost-scsi logs since upstream v6.16 (patches
 * 1014-1018 here); on 6.12 only the used ring was logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_scsi.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "pins.h"

#define MEM_SIZE	(4UL << 20)
#define VQ_NUM		64
#define NR_VQS		3		/* control, event, one request queue */
#define REQ_VQ		2
#define TPGT		1
#define BLOCK		512
#define DATA_PAGES	16
#define KPF_DIRTY	4

/* Where things live in the "guest" memory, identity-mapped. */
#define RING_OFF(q)	((q) * 3 * 4096UL)
#define REQ_OFF		(64UL << 10)
#define RESP_OFF	(REQ_OFF + 4096)
#define DATA_OFF	(128UL << 10)
#define CHECK_OFF	(DATA_OFF + DATA_PAGES * 4096UL)

struct vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t used_idx;
	int kick;
	int call;
};

static unsigned char pattern(unsigned long off, unsigned int seed)
{
	return (unsigned char)(off * 5 + (off >> 9) + seed);
}

FIXTURE(vscsi)
{
	int dev;
	unsigned char *mem;
	struct vq vq[NR_VQS];
	struct vhost_scsi_target target;
	int lio;		/* the backing file, to check the data */
	size_t page;
};

static int setup_vq(int dev, unsigned char *mem, struct vq *v, unsigned int q)
{
	struct vhost_vring_state num = { .index = q, .num = VQ_NUM };
	struct vhost_vring_state base = { .index = q, .num = 0 };
	struct vhost_vring_addr addr = { .index = q };
	struct vhost_vring_file kick = { .index = q }, call = { .index = q };

	v->desc = (void *)(mem + RING_OFF(q));
	v->avail = (void *)(mem + RING_OFF(q) + 4096);
	v->used = (void *)(mem + RING_OFF(q) + 2 * 4096);
	addr.desc_user_addr = (uintptr_t)v->desc;
	addr.avail_user_addr = (uintptr_t)v->avail;
	addr.used_user_addr = (uintptr_t)v->used;
	v->kick = eventfd(0, EFD_CLOEXEC);
	v->call = eventfd(0, EFD_CLOEXEC);
	if (v->kick < 0 || v->call < 0)
		return -1;
	kick.fd = v->kick;
	call.fd = v->call;
	if (ioctl(dev, VHOST_SET_VRING_NUM, &num) ||
	    ioctl(dev, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(dev, VHOST_SET_VRING_ADDR, &addr) ||
	    ioctl(dev, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(dev, VHOST_SET_VRING_CALL, &call))
		return -1;
	return 0;
}

FIXTURE_SETUP(vscsi)
{
	const char *wwpn = getenv("VIRTSTACK_VHOST_WWPN");
	const char *img = getenv("VIRTSTACK_LIO_IMG");
	const char *why = pins_unavailable();
	struct vhost_memory *table;
	uint64_t features, want;
	unsigned int q;
	int abi;

	self->dev = -1;
	self->lio = -1;
	self->mem = MAP_FAILED;
	if (!wwpn || !img)
		SKIP(return, "VIRTSTACK_VHOST_WWPN or VIRTSTACK_LIO_IMG unset: %s",
		     "no LIO vhost target (the virtstack guest's lio lane sets one up)");
	if (why)
		SKIP(return, "%s", why);
	if (access("/dev/vhost-scsi", F_OK))
		SKIP(return, "no /dev/vhost-scsi (CONFIG_VHOST_SCSI)");
	self->page = getpagesize();
	self->lio = open(img, O_RDWR);
	ASSERT_GE(self->lio, 0) TH_LOG("%s: %m", img);

	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(self->mem, MAP_FAILED);
	/* Small pages: a huge page counts pins apart from its references. */
	madvise(self->mem, MEM_SIZE, MADV_NOHUGEPAGE);
	memset(self->mem, 0, MEM_SIZE);

	self->dev = open("/dev/vhost-scsi", O_RDWR);
	ASSERT_GE(self->dev, 0) TH_LOG("/dev/vhost-scsi: %m");
	ASSERT_EQ(ioctl(self->dev, VHOST_SCSI_GET_ABI_VERSION, &abi), 0);
	ASSERT_EQ(abi, VHOST_SCSI_ABI_VERSION);
	ASSERT_EQ(ioctl(self->dev, VHOST_SET_OWNER), 0) TH_LOG("VHOST_SET_OWNER: %m");
	ASSERT_EQ(ioctl(self->dev, VHOST_GET_FEATURES, &features), 0);
	want = features & (1ULL << VIRTIO_F_VERSION_1);
	ASSERT_EQ(ioctl(self->dev, VHOST_SET_FEATURES, &want), 0);

	/* One region: guest-physical address == user address. */
	table = calloc(1, sizeof(*table) + sizeof(table->regions[0]));
	ASSERT_NE(table, NULL);
	table->nregions = 1;
	table->regions[0].guest_phys_addr = (uintptr_t)self->mem;
	table->regions[0].memory_size = MEM_SIZE;
	table->regions[0].userspace_addr = (uintptr_t)self->mem;
	ASSERT_EQ(ioctl(self->dev, VHOST_SET_MEM_TABLE, table), 0)
		TH_LOG("VHOST_SET_MEM_TABLE: %m");
	free(table);

	for (q = 0; q < NR_VQS; q++)
		ASSERT_EQ(setup_vq(self->dev, self->mem, &self->vq[q], q), 0)
			TH_LOG("virtqueue %u: %m", q);

	self->target.abi_version = VHOST_SCSI_ABI_VERSION;
	snprintf(self->target.vhost_wwpn, sizeof(self->target.vhost_wwpn), "%s", wwpn);
	self->target.vhost_tpgt = TPGT;
	ASSERT_EQ(ioctl(self->dev, VHOST_SCSI_SET_ENDPOINT, &self->target), 0)
		TH_LOG("VHOST_SCSI_SET_ENDPOINT %s: %m", wwpn);
}

FIXTURE_TEARDOWN(vscsi)
{
	unsigned int q;

	if (self->dev >= 0) {
		ioctl(self->dev, VHOST_SCSI_CLEAR_ENDPOINT, &self->target);
		close(self->dev);
	}
	for (q = 0; q < NR_VQS; q++) {
		if (self->vq[q].kick > 0)
			close(self->vq[q].kick);
		if (self->vq[q].call > 0)
			close(self->vq[q].call);
	}
	if (self->mem != MAP_FAILED)
		munmap(self->mem, MEM_SIZE);
	if (self->lio >= 0)
		close(self->lio);
}

#define CMD_TIMEOUT_MS	20000

/*
 * Sends one READ_10 (or WRITE_10 if @is_write) of @len bytes at @lba
 * between the device and @data; returns the SCSI status, or -1 if the
 * command did not complete (within CMD_TIMEOUT_MS: a lost completion
 * must not hang the test until its harness timeout).
 */
static int scsi_rw(struct __test_metadata *_metadata, unsigned char *mem, struct vq *v,
		   int is_write, uint32_t lba, void *data, uint32_t len)
{
	struct virtio_scsi_cmd_req *req = (void *)(mem + REQ_OFF);
	struct virtio_scsi_cmd_resp *resp = (void *)(mem + RESP_OFF);
	uint32_t blocks = len / BLOCK;
	uint64_t one = 1, events;
	struct vring_desc *d = v->desc;
	double t0 = mono_now();

	memset(req, 0, sizeof(*req));
	memset(resp, 0xff, sizeof(*resp));
	req->lun[0] = 1;
	req->lun[1] = TPGT;
	req->lun[2] = 0x40;	/* flat addressing, LUN 0 */
	req->tag = v->avail_idx + 1;
	req->task_attr = VIRTIO_SCSI_S_SIMPLE;
	req->cdb[0] = is_write ? 0x2a : 0x28;	/* WRITE_10 : READ_10 */
	req->cdb[2] = lba >> 24;
	req->cdb[3] = lba >> 16;
	req->cdb[4] = lba >> 8;
	req->cdb[5] = lba;
	req->cdb[7] = blocks >> 8;
	req->cdb[8] = blocks;

	/* Device-readable descriptors first, then device-writable ones. */
	d[0] = (struct vring_desc){ (uintptr_t)req, sizeof(*req), VRING_DESC_F_NEXT, 1 };
	if (is_write) {
		d[1] = (struct vring_desc){ (uintptr_t)data, len, VRING_DESC_F_NEXT, 2 };
		d[2] = (struct vring_desc){ (uintptr_t)resp, sizeof(*resp), VRING_DESC_F_WRITE, 0 };
	} else {
		d[1] = (struct vring_desc){ (uintptr_t)resp, sizeof(*resp),
					    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2 };
		d[2] = (struct vring_desc){ (uintptr_t)data, len, VRING_DESC_F_WRITE, 0 };
	}
	v->avail->ring[v->avail_idx % VQ_NUM] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->avail->idx = ++v->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(v->kick, &one, sizeof(one)) != sizeof(one))
		return -1;

	/* The call eventfd fires after the used entry is written. */
	while (__atomic_load_n(&v->used->idx, __ATOMIC_ACQUIRE) == v->used_idx) {
		struct pollfd pfd = { .fd = v->call, .events = POLLIN };
		int left = CMD_TIMEOUT_MS - (int)((mono_now() - t0) * 1000);
		int n = poll(&pfd, 1, left > 0 ? left : 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			TH_LOG("no completion of the command within %d s", CMD_TIMEOUT_MS / 1000);
			return -1;
		}
		if (read(v->call, &events, sizeof(events)) != sizeof(events))
			return -1;
	}
	v->used_idx++;
	EXPECT_EQ(v->used->ring[(v->used_idx - 1) % VQ_NUM].id, 0);
	EXPECT_EQ(resp->response, VIRTIO_SCSI_S_OK);
	return resp->status;
}

/* PG_dirty of the page at @addr, from /proc/self/pagemap and /proc/kpageflags. */
static int page_dirty(void *addr)
{
	uint64_t entry, flags;
	int pm, kf, ret = -1;

	pm = open("/proc/self/pagemap", O_RDONLY);
	kf = open("/proc/kpageflags", O_RDONLY);
	if (pm >= 0 && kf >= 0 &&
	    pread(pm, &entry, 8, (uintptr_t)addr / getpagesize() * 8) == 8 &&
	    (entry >> 63) &&
	    pread(kf, &flags, 8, (entry & ((1ULL << 55) - 1)) * 8) == 8)
		ret = !!(flags & (1ULL << KPF_DIRTY));
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return ret;
}

/*
 * The command's data pages were pinned once each and all unpinned. The
 * vhost worker writes the used entry before it releases the command's
 * pages (dirtying them first after a READ), so the used index moving does
 * not mean the release happened yet: wait for it, up to five seconds.
 */
static void expect_one_pin_per_page(struct __test_metadata *_metadata,
				    const struct pins *before, const char *cmd)
{
	struct pins after;
	int tries;

	for (tries = 0; tries < 500; tries++) {
		ASSERT_EQ(read_pins(&after), 0);
		if (after.released - before->released >= DATA_PAGES)
			break;
		usleep(10000);
	}
	EXPECT_EQ(after.acquired - before->acquired, DATA_PAGES)
		TH_LOG("pins taken for a %d-page %s", DATA_PAGES, cmd);
	EXPECT_EQ(after.released - before->released, DATA_PAGES)
		TH_LOG("pins released once the %s completed", cmd);
}

TEST_F(vscsi, write_pins_each_page_and_reaches_backstore)
{
	size_t len = DATA_PAGES * self->page;
	unsigned char *data = self->mem + DATA_OFF;
	unsigned char *check = self->mem + CHECK_OFF;
	struct pins before;
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = pattern(i, 1);
	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 1, 64, data, len), 0);
	expect_one_pin_per_page(_metadata, &before, "WRITE_10");

	ASSERT_EQ(fsync(self->lio), 0);
	ASSERT_EQ(pread(self->lio, check, len, 64 * BLOCK), (ssize_t)len);
	EXPECT_EQ(memcmp(data, check, len), 0) TH_LOG("the backstore lacks the write");
}

TEST_F(vscsi, read_pins_dirties_and_returns_data)
{
	size_t len = DATA_PAGES * self->page;
	unsigned char *data = self->mem + DATA_OFF;
	unsigned char *src = self->mem + CHECK_OFF;
	struct pins before;
	int clean = 0, dirty = 0;
	size_t i;

	for (i = 0; i < len; i++)
		src[i] = pattern(i, 2);
	ASSERT_EQ(pwrite(self->lio, src, len, 256 * BLOCK), (ssize_t)len);
	ASSERT_EQ(fsync(self->lio), 0);

	/* Written, hence real pages, but not marked dirty. */
	memset(data, 0x11, len);
	for (i = 0; i < DATA_PAGES; i++)
		clean += page_dirty(data + i * self->page) == 0;
	if (clean != DATA_PAGES)
		SKIP(return, "freshly written anonymous pages are already PG_dirty here");

	ASSERT_EQ(read_pins(&before), 0);
	ASSERT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 0, 256, data, len), 0);
	expect_one_pin_per_page(_metadata, &before, "READ_10");
	EXPECT_EQ(memcmp(data, src, len), 0) TH_LOG("READ_10 returned other data");

	for (i = 0; i < DATA_PAGES; i++)
		dirty += page_dirty(data + i * self->page) == 1;
	EXPECT_EQ(dirty, DATA_PAGES)
		TH_LOG("%d of %d pages the target wrote are marked dirty", dirty, DATA_PAGES);
}

/*
 * The dirty log bit of guest page @page, as vhost's log_write() sets it:
 * byte @page / 8 after the log base, which is @first / 8 before @log.
 */
static int logged(const unsigned char *log, uint64_t first, uint64_t page)
{
	return (log[page / 8 - first / 8] >> (page % 8)) & 1;
}

TEST_F(vscsi, read_is_logged_for_migration)
{
	size_t len = DATA_PAGES * self->page;
	unsigned char *data = self->mem + DATA_OFF;
	uint64_t first = (uintptr_t)self->mem / 4096, log_base, features;
	uint64_t resp = (uintptr_t)(self->mem + RESP_OFF) / 4096;
	unsigned char *log;
	int nr, tries;
	size_t i;

	/* Only the log bytes of this memory need to exist. */
	log = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(log, MAP_FAILED);
	memset(log, 0, 2 * self->page);
	log_base = (uintptr_t)log - first / 8;
	ASSERT_EQ(ioctl(self->dev, VHOST_SET_LOG_BASE, &log_base), 0)
		TH_LOG("VHOST_SET_LOG_BASE: %m");
	features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VHOST_F_LOG_ALL);
	ASSERT_EQ(ioctl(self->dev, VHOST_SET_FEATURES, &features), 0)
		TH_LOG("VHOST_SET_FEATURES with VHOST_F_LOG_ALL: %m");

	ASSERT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 0, 256, data, len), 0);
	/* The worker logs after it wrote the used entry: give it time. */
	for (tries = 0; tries < 500; tries++) {
		nr = 0;
		for (i = 0; i < DATA_PAGES; i++)
			nr += logged(log, first, (uintptr_t)(data + i * self->page) / 4096);
		if (nr == DATA_PAGES && logged(log, first, resp))
			break;
		usleep(10000);
	}
	EXPECT_EQ(nr, DATA_PAGES)
		TH_LOG("%d of %d pages a READ wrote are in the dirty log", nr, DATA_PAGES);
	EXPECT_TRUE(logged(log, first, resp))
		TH_LOG("the response's page is not in the dirty log");
	munmap(log, 2 * self->page);
}

/*
 * Many small commands in a row, as a guest's 4 KiB direct I/O makes them:
 * WRITE_10 then READ_10 of one page at a moving LBA, the data checked each
 * time, and every pin released at the end. VIRTSTACK_BENCH_IOS=N runs N
 * pairs (default 100) and prints the commands per second of the guest's
 * clock for make bench (bench/vhost_scsi.sh), and under make bench
 * ICOUNT=1 (VIRTSTACK_ICOUNT=1, a guest nanosecond is an instruction) the
 * thousands of instructions per command.
 */
TEST_F_TIMEOUT(vscsi, sustained_rw_returns_data_and_pins, 900)
{
	const char *env = getenv("VIRTSTACK_BENCH_IOS");
	long pairs = env ? strtol(env, NULL, 10) : 100;
	unsigned char *data = self->mem + DATA_OFF;
	unsigned char *check = self->mem + CHECK_OFF;
	struct pins before;
	double t0, secs;
	long n, bad = 0;
	int tries;
	size_t i;

	ASSERT_GT(pairs, 0) TH_LOG("VIRTSTACK_BENCH_IOS=%s: say a number of pairs", env);
	ASSERT_EQ(read_pins(&before), 0);
	t0 = mono_now();
	for (n = 0; n < pairs; n++) {
		uint32_t lba = 1024 + (n % 64) * (self->page / BLOCK);

		for (i = 0; i < self->page; i++)
			data[i] = pattern(i, n);
		ASSERT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 1, lba, data,
				  self->page), 0) TH_LOG("WRITE_10 %ld", n);
		memset(check, 0, self->page);
		ASSERT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 0, lba, check,
				  self->page), 0) TH_LOG("READ_10 %ld", n);
		bad += memcmp(data, check, self->page) != 0;
	}
	secs = mono_now() - t0;
	EXPECT_EQ(bad, 0)
		TH_LOG("%ld of %ld READ_10s returned other data than written", bad, pairs);

	/* The worker releases a command's pages after its used entry. */
	for (tries = 0; tries < 500 && pins_outstanding(&before) > 0; tries++)
		usleep(10000);
	EXPECT_EQ(pins_outstanding(&before), 0)
		TH_LOG("pins left after %ld commands", 2 * pairs);

	TH_LOG("%ld commands in %.3f s of guest time", 2 * pairs, secs);
	if (env && secs > 0) {
		printf("BENCH vhost_scsi_rw4k %.1f IOPS higher\n", 2 * pairs / secs);
		if (getenv("VIRTSTACK_ICOUNT"))
			printf("BENCH vhost_scsi_rw4k_kinsn %.3f kinsn/io lower\n",
			       secs * 1e6 / (2 * pairs));
		fflush(stdout);
	}
}

#define FLOOD_RINGS	33		/* 33 * 16384 pins * 1024 > INT_MAX / 4 */
#define FLOOD_BUFS	16384		/* IORING_MAX_REG_BUFFERS */
#define TASK_SET_FULL	0x28

/* An io_uring with @page registered FLOOD_BUFS times; -1 on failure. */
static int flood_ring(struct iovec *iov)
{
	struct io_uring_params p = { 0 };
	int fd = syscall(__NR_io_uring_setup, 1, &p);

	if (fd < 0)
		return -1;
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, iov, FLOOD_BUFS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Some 540000 pins, and as many unpins, take a while under TCG. */
TEST_F_TIMEOUT(vscsi, pin_flood_gets_task_set_full, 900)
{
	unsigned char *data = self->mem + DATA_OFF;
	unsigned char *src = self->mem + CHECK_OFF;
	int rings[FLOOD_RINGS], nr, status, tries;
	struct pins before, flooded;
	struct iovec *iov;
	time_t start;
	size_t i;

	for (i = 0; i < self->page; i++)
		src[i] = pattern(i, 3);
	ASSERT_EQ(pwrite(self->lio, src, self->page, 512 * BLOCK), (ssize_t)self->page);
	ASSERT_EQ(fsync(self->lio), 0);
	memset(data, 0x22, self->page);

	iov = calloc(FLOOD_BUFS, sizeof(*iov));
	ASSERT_NE(iov, NULL);
	for (i = 0; i < FLOOD_BUFS; i++)
		iov[i] = (struct iovec){ data, self->page };
	ASSERT_EQ(read_pins(&before), 0);
	start = time(NULL);
	for (nr = 0; nr < FLOOD_RINGS; nr++) {
		rings[nr] = flood_ring(iov);
		if (rings[nr] < 0)
			break;
	}
	free(iov);
	if (nr < FLOOD_RINGS) {
		while (nr--)
			close(rings[nr]);
		SKIP(return, "io_uring fixed buffers: %m (CONFIG_IO_URING?)");
	}

	ASSERT_EQ(read_pins(&flooded), 0);
	TH_LOG("%ld pins in %ld s", flooded.acquired - before.acquired,
	       (long)(time(NULL) - start));
	status = scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 0, 512, data, self->page);
	EXPECT_EQ(status, TASK_SET_FULL)
		TH_LOG("a READ into a page pinned %ld times was not refused (status %#x)",
		       flooded.acquired - before.acquired, status);
	EXPECT_EQ(pins_outstanding(&flooded), 0)
		TH_LOG("the refused command left pins behind");
	EXPECT_EQ(data[0], 0x22) TH_LOG("the refused command wrote into the page");

	for (i = 0; i < FLOOD_RINGS; i++)
		close(rings[i]);
	/* Rings are torn down asynchronously. */
	for (tries = 0; tries < 600 && pins_outstanding(&before) > 0; tries++)
		usleep(100000);
	ASSERT_EQ(pins_outstanding(&before), 0) TH_LOG("the rings' pins were not released");

	EXPECT_EQ(scsi_rw(_metadata, self->mem, &self->vq[REQ_VQ], 0, 512, data, self->page), 0);
	EXPECT_EQ(memcmp(data, src, self->page), 0) TH_LOG("READ_10 returned other data");
}

TEST_HARNESS_MAIN
