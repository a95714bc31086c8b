// SPDX-License-Identifier: GPL-2.0
/*
 * page_reporting_poison: free page reporting when the guest poisons or
 * zeroes the pages it frees. The harness boots this test three more times
 * (run.sh, the poison matrix): with init_on_free=1, and with page_poison=1
 * against a balloon with and without VIRTIO_BALLOON_F_PAGE_POISON; the
 * main run is the fourth case, neither. Reading the command line and the
 * balloon's negotiated features, it expects:
 *
 *   neither, or init_on_free=1   reporting registered, no note, and 90% of
 *   with PAGE_POISON             the memory freed comes back to the host
 *   page_poison=1, PAGE_POISON   registered, but the host (qemu) cannot
 *                                restore the poison and reclaims nothing:
 *                                the guest says so (page_reporting/status,
 *                                and a note in the log), and nothing comes back
 *   page_poison=1 or init_on_free=1, no PAGE_POISON
 *                                not registered at all, and the guest
 *                                says that reporting is off
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "files.h"

#define MIB		(1024L * 1024)
#define FREE_MIB	512L
#define STATUS		"/sys/kernel/debug/page_reporting/status"
#define F_PAGE_POISON	4	/* VIRTIO_BALLOON_F_PAGE_POISON */
#define VIRTIO_ID_BALLOON 5
/* The notes of virtio_balloon (patch 3004), whole, as the kernel logs them. */
#define NOTE_POISON	"virtio_balloon: freed pages are poisoned: only a host that " \
			"restores the poison value reclaims reported pages"
#define NOTE_NO_POISON	"virtio_balloon: free page reporting off: the device does not " \
			"offer PAGE_POISON, which poisoned or zeroed free pages need"

/*
 * How many kernel log records since boot hold @text. The test probes the
 * balloon a second time first, so a note logged once per reason shows
 * exactly once.
 */
static int kmsg_count(const char *text)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	char rec[2048];
	int n = 0;
	ssize_t len;

	if (fd < 0)
		return -1;
	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		if (strstr(rec, text))
			n++;
	}
	close(fd);
	return n;
}

static int cmdline_has(const char *opt)
{
	char cmd[4096], *p;
	size_t n = strlen(opt);

	if (read_str("/proc/cmdline", cmd, sizeof(cmd)))
		return 0;
	for (p = strstr(cmd, opt); p; p = strstr(p + 1, opt))
		if ((p == cmd || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return 1;
	return 0;
}

/*
 * The balloon's negotiated feature bits ("0101...") into @buf, its device
 * name into @name; 0 or -1.
 */
static int balloon_features(char *buf, size_t len, char *name, size_t name_len)
{
	char path[300], id[32];
	struct dirent *d;
	int ret = -1;
	DIR *dir = opendir("/sys/bus/virtio/devices");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", d->d_name);
		if (read_str(path, id, sizeof(id)) || strtol(id, NULL, 0) != VIRTIO_ID_BALLOON)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features", d->d_name);
		ret = read_str(path, buf, len);
		snprintf(name, name_len, "%s", d->d_name);
		break;
	}
	closedir(dir);
	return ret;
}

#define BALLOON_DRV	"/sys/bus/virtio/drivers/virtio_balloon/"

/*
 * Unbinds the balloon and binds it again: its probe runs once more. The
 * bind is retried: the balloon must not be left without its driver.
 */
static int balloon_bind(const char *name)
{
	int tries;

	for (tries = 0; tries < 10; tries++) {
		if (!write_str(BALLOON_DRV "bind", name))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

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

/* kB the host got back within @secs of freeing FREE_MIB touched MiB. */
static long freed_back_kb(double secs)
{
	char *p = mmap(NULL, FREE_MIB * MIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long off, before, best = 0;
	struct timespec t0, t;

	if (p == MAP_FAILED)
		return -1;
	for (off = 0; off < FREE_MIB * MIB; off += 4096)
		p[off] = 1;
	usleep(600 * 1000);
	before = host_rss_kb();
	munmap(p, FREE_MIB * MIB);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		long rss = host_rss_kb();

		if (rss >= 0 && before - rss > best)
			best = before - rss;
		if (best >= FREE_MIB * 1024 * 9 / 10)
			break;
		usleep(200 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	return best;
}

FIXTURE(poison)
{
	char features[256], name[256];	/* the balloon's */
};

FIXTURE_SETUP(poison)
{
	int ret;

	if (geteuid())
		SKIP(return, "not root: the test reads debugfs and /dev/kmsg, rebinds the balloon");
	if (missing_outside_stack(!access(STATUS, R_OK)))
		SKIP(return, "no " STATUS ": debugfs not mounted, or %s",
		     "a kernel without the virtstack stack");
	ASSERT_EQ(access(STATUS, R_OK), 0) TH_LOG("no " STATUS " on the stack's kernel");
	if (!virtstack_guest())
		SKIP(return, "unbinds and binds the virtio balloon's driver: " GUEST_ONLY);
	ret = balloon_features(self->features, sizeof(self->features), self->name,
			       sizeof(self->name));
	if (missing_outside_guest(!ret))
		SKIP(return, "no virtio balloon in /sys/bus/virtio/devices");
	ASSERT_EQ(ret, 0) TH_LOG("no virtio balloon in /sys/bus/virtio/devices");
	if (missing_outside_guest(host_rss_kb() >= 0))
		SKIP(return, "no host RSS in $VIRTSTACK_9P/.host-rss: %s",
		     "the virtstack harness (boot.sh) writes it for its guest");
	ASSERT_GE(host_rss_kb(), 0) TH_LOG("no host RSS in $VIRTSTACK_9P/.host-rss");
}

FIXTURE_TEARDOWN(poison)
{
}

/* init_on_free=1 zeroes every freed page: slow under TCG and KASAN. */
TEST_F_TIMEOUT(poison, host_and_guest_agree, 240)
{
	int poisoned = cmdline_has("page_poison=1");	/* wins over init_on_free */
	int zeroed = cmdline_has("init_on_free=1");
	const char *features = self->features;
	char status[512];
	int unbound, bound;
	long back;

	/* The balloon's note goes with it; a second probe repeats no warning. */
	ASSERT_EQ(write_str(BALLOON_DRV "unbind", self->name), 0)
		TH_LOG("cannot unbind %s", self->name);
	unbound = read_str(STATUS, status, sizeof(status));
	bound = balloon_bind(self->name);	/* bound again before any assertion */
	ASSERT_EQ(unbound, 0) TH_LOG("no " STATUS);
	EXPECT_NE(strstr(status, "device: none"), NULL) TH_LOG("%s", status);
	EXPECT_NE(strstr(status, "note: none"), NULL)
		TH_LOG("the balloon went away, its note stayed: %s", status);
	ASSERT_EQ(bound, 0) TH_LOG("cannot bind %s", self->name);
	ASSERT_EQ(read_str(STATUS, status, sizeof(status)), 0) TH_LOG("no " STATUS);
	TH_LOG("page_poison=1: %d, init_on_free=1: %d, balloon features %.8s...; %s",
	       cmdline_has("page_poison=1"), cmdline_has("init_on_free=1"), features, status);

	if ((poisoned || zeroed) && features[F_PAGE_POISON] != '1') {
		EXPECT_NE(strstr(status, "device: none"), NULL);
		EXPECT_NE(strstr(status, NOTE_NO_POISON), NULL)
			TH_LOG("the host asked for reports, gets none; the guest is silent");
		EXPECT_EQ(kmsg_count(NOTE_NO_POISON), 1)
			TH_LOG("the note must be logged once, whole, at the first probe");
	} else if (!poisoned) {
		EXPECT_NE(strstr(status, "device: registered"), NULL);
		EXPECT_NE(strstr(status, "note: none"), NULL);
		EXPECT_EQ(kmsg_count(NOTE_POISON) + kmsg_count(NOTE_NO_POISON), 0);
		back = freed_back_kb(60);
		EXPECT_GE(back, FREE_MIB * 1024 * 9 / 10)
			TH_LOG("free pages are not poisoned, yet only %ld kB came back", back);
	} else {
		EXPECT_NE(strstr(status, "device: registered"), NULL);
		EXPECT_NE(strstr(status, NOTE_POISON), NULL)
			TH_LOG("the host reclaims nothing and the guest does not say so");
		EXPECT_EQ(kmsg_count(NOTE_POISON), 1)
			TH_LOG("the note must be logged once, whole, at the first probe");
		back = freed_back_kb(10);
		EXPECT_LT(back, FREE_MIB * 1024 / 10)
			TH_LOG("%ld kB came back: the note is wrong", back);
	}
}

TEST_HARNESS_MAIN
