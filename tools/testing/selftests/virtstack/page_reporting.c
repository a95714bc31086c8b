// SPDX-License-Identifier: GPL-2.0
/*
 * page_reporting: free page reporting end to end, with the real component:
 * the guest's virtio-balloon (qemu -device virtio-balloon-pci,
 * free-page-reporting=on) tells qemu which free pages it may discard, and
 * qemu does so. The host harness writes the qemu process's resident set
 * size (kB) to the 9p share every 0.2 s ($VIRTSTACK_9P/.host-rss), so the
 * guest can watch the host get its memory back.
 *
 * Each case frees N MiB it had touched and asserts on the host's RSS: at
 * least 90% of it comes back within the configured delay plus a settle
 * time when reporting is on, nothing when it is off. Also checks the
 * stack's tunables (page_reporting_delay_ms as upstream defines it;
 * enable, also toggled against frees), its statistics (/proc/vmstat
 * against debugfs and against what the host returned), and that
 * allocation churn under continuous reporting loses no memory, also while
 * memory blocks go offline and online.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"
#include "vmstat.h"

#define MIB		(1024L * 1024)
#define FREE_MIB	512L
#define SETTLE_S	60	/* on top of the delay, for TCG and the pass budget */
#define PARAMS		"/sys/module/page_reporting/parameters/"
#define STATUS		"/sys/kernel/debug/page_reporting/status"
#define ZONES		"/sys/kernel/debug/page_reporting/zones"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_param(const char *name, long val)
{
	char path[128], s[32];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	snprintf(s, sizeof(s), "%ld", val);
	return write_str(path, s);
}

static long get_param(const char *name)
{
	char path[128], s[32];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	if (read_str(path, s, sizeof(s)))
		return -1;
	if (s[0] == 'Y')
		return 1;
	if (s[0] == 'N')
		return 0;
	return strtol(s, NULL, 10);
}

/* The qemu process's RSS in kB, as the host last wrote it; -1 if none. */
static long host_rss_kb(void)
{
	const char *dir = getenv("VIRTSTACK_9P");
	char path[256], s[32];

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/.host-rss", dir);
	if (read_str(path, s, sizeof(s)) || !s[0])
		return -1;
	return strtol(s, NULL, 10);
}

/* Maps and touches @mib MiB; the pages hold data, so the host has them. */
static char *touch(long mib)
{
	char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long off;

	if (p == MAP_FAILED)
		return NULL;
	for (off = 0; off < mib * MIB; off += 4096)
		p[off] = (char)(off >> 12) | 1;
	return p;
}

/* Lets a sample the host took after now arrive. */
static void host_sample_wait(void)
{
	usleep(600 * 1000);
}

/*
 * Polls the host's RSS until it is at least @want_kb below @before_kb, for
 * at most @secs; returns the seconds it took, or -1.
 */
static double wait_drop(long before_kb, long want_kb, double secs)
{
	double t0 = now();

	while (now() - t0 < secs) {
		long rss = host_rss_kb();

		if (rss >= 0 && before_kb - rss >= want_kb)
			return now() - t0;
		usleep(200 * 1000);
	}
	return -1;
}

static void tunables_restore(long saved_delay, long saved_enable)
{
	if (saved_delay >= 0)
		set_param("page_reporting_delay_ms", saved_delay);
	if (saved_enable >= 0)
		set_param("enable", saved_enable);
}

/*
 * Checks that the stack's reporting, a reporting device and the host's RSS
 * are there, saves the tunables and sets the delay; the last thing of a
 * fixture's setup. The stack missing, the test skips; the balloon or the
 * host's RSS missing, it fails in the virtstack guest and skips elsewhere.
 */
static void tunables_prepare(struct __test_metadata *_metadata,
			     long *saved_delay, long *saved_enable, long delay_ms)
{
	long delay = get_param("page_reporting_delay_ms"), enable = get_param("enable");
	char status[512];
	int ret, err;

	*saved_delay = -1;
	*saved_enable = -1;
	if (geteuid())
		SKIP(return, "not root: the test sets page reporting's parameters");
	if (missing_outside_stack(delay >= 0 && enable >= 0))
		SKIP(return, "no " PARAMS "{page_reporting_delay_ms,enable}: %s",
		     "a kernel without the virtstack stack");
	ASSERT_TRUE(delay >= 0 && enable >= 0) TH_LOG("no " PARAMS " on the stack's kernel");
	if (read_str(STATUS, status, sizeof(status)))
		SKIP(return, "no " STATUS ": debugfs not mounted");
	if (missing_outside_stack(vmstat_get("page_reporting_reported") >= 0))
		SKIP(return, "no page_reporting_* in /proc/vmstat: %s",
		     "a kernel without the virtstack stack");
	ASSERT_GE(vmstat_get("page_reporting_reported"), 0)
		TH_LOG("no page_reporting_* in /proc/vmstat on the stack's kernel");
	if (missing_outside_guest(strstr(status, "device: registered")))
		SKIP(return, "no reporting device (%s): %s",
		     "a virtio balloon with free-page-reporting=on", status);
	ASSERT_NE(strstr(status, "device: registered"), NULL) TH_LOG("%s", status);
	if (missing_outside_guest(host_rss_kb() >= 0))
		SKIP(return, "no host RSS in $VIRTSTACK_9P/.host-rss: %s",
		     "the virtstack harness (boot.sh) writes it for its guest");
	ASSERT_GE(host_rss_kb(), 0) TH_LOG("no host RSS in $VIRTSTACK_9P/.host-rss");

	*saved_delay = delay;
	*saved_enable = enable;
	ret = set_param("page_reporting_delay_ms", delay_ms);
	if (!ret)
		ret = set_param("enable", 1);
	err = errno;
	if (ret) {
		/* The harness runs no teardown after a failed setup. */
		tunables_restore(delay, enable);
	}
	ASSERT_EQ(ret, 0) TH_LOG("set page_reporting_delay_ms and enable: %s", strerror(err));
}

/* End to end, at the default delay and at a short one. */
FIXTURE(reporting)
{
	long delay_ms;
	long enable;
};

FIXTURE_VARIANT(reporting)
{
	long delay_ms;
};

FIXTURE_VARIANT_ADD(reporting, delay_100ms)
{
	.delay_ms = 100,
};

FIXTURE_VARIANT_ADD(reporting, delay_2s)
{
	.delay_ms = 2000,
};

FIXTURE_SETUP(reporting)
{
	tunables_prepare(_metadata, &self->delay_ms, &self->enable, variant->delay_ms);
}

FIXTURE_TEARDOWN(reporting)
{
	tunables_restore(self->delay_ms, self->enable);
}

/* Freed memory goes back to the host, and /proc/vmstat counts it. */
TEST_F_TIMEOUT(reporting, host_gets_freed_memory_back, 180)
{
	long want = FREE_MIB * 1024 * 9 / 10, before, reported;
	double secs;
	char *p;

	p = touch(FREE_MIB);
	ASSERT_NE(p, NULL);
	host_sample_wait();
	before = host_rss_kb();
	reported = vmstat_get("page_reporting_reported");
	ASSERT_GE(reported, 0) TH_LOG("no page_reporting_reported in /proc/vmstat");
	munmap(p, FREE_MIB * MIB);

	secs = wait_drop(before, want, variant->delay_ms / 1000.0 + SETTLE_S);
	ASSERT_GE(secs, 0)
		TH_LOG("host RSS %ld kB -> %ld kB after freeing %ld MiB: under 90%% came back",
		       before, host_rss_kb(), FREE_MIB);
	TH_LOG("90%% of %ld MiB back on the host in %.1f s (delay %ld ms)",
	       FREE_MIB, secs, variant->delay_ms);
	EXPECT_GE((vmstat_get("page_reporting_reported") - reported) * 4, want)
		TH_LOG("the host got the memory back; page_reporting_reported missed it");
}

/* Off, nothing goes back; switched on again, what was freed meanwhile does. */
TEST_F_TIMEOUT(reporting, off_switch, 180)
{
	long want = FREE_MIB * 1024 * 9 / 10, before, passes;
	char *p;

	ASSERT_EQ(set_param("enable", 0), 0);
	p = touch(FREE_MIB);
	ASSERT_NE(p, NULL);
	host_sample_wait();
	before = host_rss_kb();
	passes = vmstat_get("page_reporting_passes");
	munmap(p, FREE_MIB * MIB);

	sleep(variant->delay_ms / 1000 + 5);
	EXPECT_LT(before - host_rss_kb(), FREE_MIB * 1024 / 10)
		TH_LOG("reporting is off, yet the host got %ld kB back", before - host_rss_kb());
	EXPECT_EQ(vmstat_get("page_reporting_passes"), passes);

	ASSERT_EQ(set_param("enable", 1), 0);
	EXPECT_GE(wait_drop(before, want, variant->delay_ms / 1000.0 + SETTLE_S), 0)
		TH_LOG("switched on again, the memory freed while off did not come back");
}

#define MAX_BLOCKS	64

/* The tunables and the statistics, at a short delay. */
FIXTURE(tunables)
{
	long delay_ms;
	long enable;
	pid_t churn[2];		/* churn_start()'s, and the toggle test's */
	int blocks[MAX_BLOCKS];	/* the memory blocks taken offline */
	int nr_blocks;
	int stuck;		/* a block that did not come back online, or -1 */
};

static void blocks_online(struct _test_data_tunables *self);

FIXTURE_SETUP(tunables)
{
	self->stuck = -1;
	tunables_prepare(_metadata, &self->delay_ms, &self->enable, 100);
}

FIXTURE_TEARDOWN(tunables)
{
	kill_child(&self->churn[0]);
	kill_child(&self->churn[1]);
	blocks_online(self);
	tunables_restore(self->delay_ms, self->enable);
}

/* Polls until more than @passes passes ran, for at most @secs; -1 if none. */
static double wait_pass(long passes, double secs)
{
	double t0 = now();

	while (now() - t0 < secs) {
		if (vmstat_get("page_reporting_passes") > passes)
			return now() - t0;
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * page_reporting_delay_ms means what upstream's parameter of that name
 * means (mm-unstable 7a39f03bc9da): it is read when a pass is queued, so a
 * new value applies from the next request and a pass already waiting
 * keeps its delay. Switching reporting off and on again requeues it.
 */
TEST_F_TIMEOUT(tunables, delay_applies_from_next_request, 120)
{
	long passes;
	char *p;

	/*
	 * Off and on again: nothing running or queued, then one pass
	 * requested (switching on asks for one), 60 s away.
	 */
	ASSERT_EQ(set_param("page_reporting_delay_ms", 60000), 0);
	ASSERT_EQ(set_param("enable", 0), 0);
	ASSERT_EQ(set_param("enable", 1), 0);
	passes = vmstat_get("page_reporting_passes");
	p = touch(64);
	ASSERT_NE(p, NULL);
	munmap(p, 64 * MIB);	/* one is requested already: nothing new */
	sleep(4);
	ASSERT_EQ(vmstat_get("page_reporting_passes"), passes)
		TH_LOG("a pass ran although the delay is 60 s");

	ASSERT_EQ(set_param("page_reporting_delay_ms", 100), 0);
	EXPECT_LT(wait_pass(passes, 3), 0)
		TH_LOG("the queued pass took the new delay: upstream's parameter does not move it");

	ASSERT_EQ(set_param("enable", 0), 0);
	ASSERT_EQ(set_param("enable", 1), 0);
	EXPECT_GE(wait_pass(passes, 20), 0)
		TH_LOG("switched off and on, the pass still waits for the old 60 s delay");
}

/*
 * Toggling the off switch while another process frees memory (so passes
 * are requested, queued, cancelled and running at every toggle) must
 * leave reporting working: after each burst, memory freed while off
 * reaches the host once it is switched on, with no further free. This
 * stresses the switch; it cannot time the narrow lost wakeup that the
 * barriers in page_reporting_on_set() and page_reporting_process() close
 * (patch 3003's message has the argument).
 */
#define TOGGLE_ROUNDS	4
#define TOGGLES		200

TEST_F_TIMEOUT(tunables, enable_toggles_against_frees, 600)
{
	long want = FREE_MIB * 1024 * 9 / 10, before;
	int round, i, status, ret;
	pid_t churn;
	char *p;

	ASSERT_EQ(set_param("page_reporting_delay_ms", 0), 0);
	for (round = 0; round < TOGGLE_ROUNDS; round++) {
		churn = fork();
		ASSERT_GE(churn, 0);
		if (!churn) {
			/* Dies with the test, however it ends. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			/* 4 MiB blocks: each free requests a pass */
			for (;;) {
				char *q = touch(4);

				if (q)
					munmap(q, 4 * MIB);
			}
		}
		self->churn[0] = churn;	/* the teardown kills it if we fail */
		for (i = 0; i < TOGGLES; i++) {
			ASSERT_EQ(set_param("enable", i & 1), 0);
			usleep(rand() % 2000);
		}
		/* Off, free what must come back, stop the churn, switch on. */
		ASSERT_EQ(set_param("enable", 0), 0);
		p = touch(FREE_MIB);
		ASSERT_NE(p, NULL);
		kill(churn, SIGKILL);
		ret = wait_child(churn, &status, 10);
		if (ret != -3)
			self->churn[0] = 0;	/* reaped */
		ASSERT_EQ(ret, 0);
		host_sample_wait();
		before = host_rss_kb();
		munmap(p, FREE_MIB * MIB);
		ASSERT_EQ(set_param("enable", 1), 0);
		ASSERT_GE(wait_drop(before, want, SETTLE_S), 0)
			TH_LOG("round %d: %s (host RSS %ld kB -> %ld kB)", round,
			       "reporting is on, yet what was freed while off stayed with the guest",
			       before, host_rss_kb());
	}
}

/* debugfs page_reporting/zones adds up to /proc/vmstat, exactly. */
TEST_F(tunables, zones_match_vmstat)
{
	long reported, sum_kb = 0, kb, calls;
	char line[256];
	FILE *f;

	ASSERT_EQ(set_param("enable", 0), 0);	/* no pass while we read */
	reported = vmstat_get("page_reporting_reported");
	calls = vmstat_get("page_reporting_calls");
	f = fopen(ZONES, "r");
	/* The set-up found the stack's parameters: the zones file is 3001's. */
	ASSERT_NE(f, NULL) TH_LOG("no " ZONES);
	ASSERT_NE(fgets(line, sizeof(line), f), NULL);	/* the header */
	while (fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%*d %*s %*u %*u %ld", &kb);

		ASSERT_EQ(n, 1) TH_LOG("%s", line);
		sum_kb += kb;
	}
	fclose(f);
	EXPECT_GT(calls, 0);
	EXPECT_GT(reported, 0);
	EXPECT_EQ(sum_kb, reported * (getpagesize() / 1024));
}

static long meminfo_kb(const char *key)
{
	char name[64];
	long val = -1, v;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld kB", name, &v) == 2)
		if (!strncmp(name, key, strlen(key)) && name[strlen(key)] == ':')
			val = v;
	fclose(f);
	return val;
}

/*
 * Free memory in kB: MemFree plus the pages on the per-CPU free lists
 * (/proc/zoneinfo "count:"), which MemFree leaves out and which grow under
 * heavy freeing.
 */
static long free_kb(void)
{
	long free = meminfo_kb("MemFree"), pcp = 0, n;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f || free < 0)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pcp += n;
	fclose(f);
	return free + pcp * (getpagesize() / 1024);
}

/* Two processes allocate and free at random while reporting runs non-stop. */
static void churn(unsigned int seed, double secs)
{
	double t0 = now();

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* dies with the test */

	while (now() - t0 < secs) {
		long mib = 1 + rand_r(&seed) % 64;
		char *p = touch(mib);

		if (!p)
			_exit(1);
		munmap(p, mib * MIB);
	}
	_exit(0);
}

/* Starts two churning processes for @secs, seeded from @seed. */
static void churn_start(struct __test_metadata *_metadata, pid_t *pid,
			unsigned int seed, double secs)
{
	int i;

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (!pid[i])
			churn(seed + i, secs);
	}
}

/* Waits for them, and checks that reporting ran and nothing was lost. */
static void churn_check(struct __test_metadata *_metadata, pid_t *pid, long base)
{
	long after, total = meminfo_kb("MemTotal");
	int i, status;

	for (i = 0; i < 2; i++) {
		int ret = wait_child(pid[i], &status, 60);

		if (ret != -3)
			pid[i] = 0;	/* reaped */
		ASSERT_EQ(ret, 0)
			TH_LOG("a churning process did not end within a minute");
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	EXPECT_GT(vmstat_get("page_reporting_calls"), 0);
	sleep(2);
	after = free_kb();
	EXPECT_LT(labs(after - base), total / 50)
		TH_LOG("free (MemFree + per-CPU lists) %ld kB before the churn, %ld kB after",
		       base, after);
}

TEST_F_TIMEOUT(tunables, churn_loses_no_memory, 120)
{
	long base;

	ASSERT_EQ(set_param("page_reporting_delay_ms", 0), 0);
	sleep(2);
	base = free_kb();
	ASSERT_GT(base, 0);
	churn_start(_metadata, self->churn, 1, 15);
	churn_check(_metadata, self->churn, base);
}

#define MEMORY	"/sys/devices/system/memory/"

static int block_set(int id, const char *state)
{
	char path[128];

	snprintf(path, sizeof(path), MEMORY "memory%d/state", id);
	return write_str(path, state);
}

/*
 * The memory blocks that can go offline now: those of one zone, holding
 * no unmovable page (each is tried, and put back online at once), into
 * self->blocks. A block that does not come back is self->stuck.
 */
static int offlinable_blocks(struct _test_data_tunables *self)
{
	char path[300], zones[128];
	struct dirent *d;
	int n = 0, id;
	DIR *dir = opendir(MEMORY);

	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < MAX_BLOCKS) {
		if (sscanf(d->d_name, "memory%d", &id) != 1 || !id)
			continue;
		snprintf(path, sizeof(path), MEMORY "%s/valid_zones", d->d_name);
		if (read_str(path, zones, sizeof(zones)) || !strncmp(zones, "none", 4))
			continue;
		if (block_set(id, "offline"))
			continue;
		if (block_set(id, "online")) {
			self->stuck = id;
			n = -1;		/* lost memory: the caller fails */
			break;
		}
		self->blocks[n++] = id;
		self->nr_blocks = n;
	}
	closedir(dir);
	return n;
}

/* Puts every block the test took offline back online (the teardown). */
static void blocks_online(struct _test_data_tunables *self)
{
	char path[128], state[32];
	int i;

	for (i = -1; i < self->nr_blocks; i++) {
		int id = i < 0 ? self->stuck : self->blocks[i];

		if (id < 0)
			continue;
		snprintf(path, sizeof(path), MEMORY "memory%d/state", id);
		if (!read_str(path, state, sizeof(state)) && !strncmp(state, "offline", 7))
			block_set(id, "online");
	}
}

/*
 * Memory hot-unplug while reporting runs and two processes churn: memory
 * blocks go offline (their free pages may be isolated by a pass at that
 * very moment, and their used ones are migrated) and online again, over
 * and over. Every block comes back, nothing is lost, and the debug kernel
 * reports nothing.
 */
TEST_F_TIMEOUT(tunables, churn_with_memory_offline, 240)
{
	long total = meminfo_kb("MemTotal"), base;
	int *blocks = self->blocks, n, i, offlined = 0, busy = 0;
	double t0;

	if (!virtstack_guest())
		SKIP(return, "takes memory blocks offline: " GUEST_ONLY);
	if (access(MEMORY, F_OK))
		SKIP(return, "no " MEMORY " (CONFIG_MEMORY_HOTPLUG)");
	ASSERT_EQ(set_param("page_reporting_delay_ms", 0), 0);
	n = offlinable_blocks(self);
	ASSERT_GT(n, 0)
		TH_LOG("no memory block under %s can go offline (CONFIG_MEMORY_HOTREMOVE?)",
		       MEMORY);
	sleep(2);
	base = free_kb();
	ASSERT_GT(base, 0);
	churn_start(_metadata, self->churn, 11, 20);
	t0 = now();
	for (i = 0; now() - t0 < 20; i = (i + 1) % n) {
		if (block_set(blocks[i], "offline")) {
			busy++;		/* in use, or being migrated: EBUSY */
			usleep(50 * 1000);
			continue;
		}
		offlined++;
		ASSERT_EQ(block_set(blocks[i], "online"), 0)
			TH_LOG("memory%d does not come back online", blocks[i]);
	}
	TH_LOG("%d blocks: %d offline/online cycles, %d refused (busy)",
	       n, offlined, busy);
	EXPECT_GT(offlined, 0) TH_LOG("no block went offline while the churn ran");
	EXPECT_EQ(meminfo_kb("MemTotal"), total) TH_LOG("a block stayed offline");
	churn_check(_metadata, self->churn, base);
}

TEST_HARNESS_MAIN
