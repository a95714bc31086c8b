// SPDX-License-Identifier: GPL-2.0
/*
 * page_reporting: the cost and the effect of free page reporting, in one
 * boot of the stack's kernel (an unpatched kernel has no
 * page_reporting_delay_ms, and gets no figures).
 *
 * Cost: a page_fault1-style loop (will-it-scale: map 128 MiB, write every
 * page, unmap, again) in two processes, with reporting off and on in
 * alternating phases A B A B A B: off is the balloon driver unbound (no
 * reporting device), on is it bound again. The median pages faulted per
 * second of each, and their ratio (on / off: 1.0 means reporting costs
 * nothing).
 *
 * Effect: how long until 90% of 512 MiB that was touched and freed is back
 * on the host (the qemu process's RSS, which the host writes to
 * $VIRTSTACK_9P/.host-rss), at page_reporting_delay_ms 100 and 2000; the
 * host memory returned per second over that time.
 *
 * Under make bench ICOUNT=1 (VIRTSTACK_ICOUNT=1) the cost is also given
 * in thousands of guest instructions per faulted page, and the effect is
 * not measured (the host's clock and the guest's part).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB		(1024L * 1024)
#define PF1_MIB		128
#define PHASE_S		6
#define PHASES		6
#define NPROC		2
#define T90_MIB		512
#define PARAMS		"/sys/module/page_reporting/parameters/"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static int set_param(const char *name, long val)
{
	char path[128], s[32];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	snprintf(s, sizeof(s), "%ld", val);
	return write_str(path, s);
}

#define BALLOON_DRV	"/sys/bus/virtio/drivers/virtio_balloon/"

/* The balloon's virtio device name, bound or not. */
static int balloon_name(char *name, size_t len)
{
	char path[300], id[16] = "";
	struct dirent *d;
	int ret = -1;
	DIR *dir = opendir("/sys/bus/virtio/devices");
	FILE *f;

	if (!dir)
		return -1;
	while (ret && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* 5: VIRTIO_ID_BALLOON */
		if (fgets(id, sizeof(id), f) && strtol(id, NULL, 0) == 5) {
			snprintf(name, len, "%s", d->d_name);
			ret = 0;
		}
		fclose(f);
	}
	closedir(dir);
	return ret;
}

/* Reporting on or off: the balloon driver bound or unbound. */
static int balloon_bind(const char *name, int on)
{
	char path[300];

	snprintf(path, sizeof(path), BALLOON_DRV "%s", name);
	if (!access(path, F_OK) == !!on)
		return 0;
	return write_str(on ? BALLOON_DRV "bind" : BALLOON_DRV "unbind", name);
}

static long host_rss_kb(void)
{
	const char *dir = getenv("VIRTSTACK_9P");
	char path[256], s[32] = "";
	FILE *f;

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/.host-rss", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(s, sizeof(s), f))
		s[0] = '\0';
	fclose(f);
	return s[0] ? strtol(s, NULL, 10) : -1;
}

static char *touch(long mib)
{
	char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long off;

	if (p == MAP_FAILED)
		return NULL;
	for (off = 0; off < mib * MIB; off += 4096)
		p[off] = 1;
	return p;
}

/* One process of the loop: pages faulted in @secs, written to @fd. */
static void pf1(int fd, double secs)
{
	double t0 = now();
	long pages = 0;

	while (now() - t0 < secs) {
		char *p = touch(PF1_MIB);

		if (!p)
			_exit(1);
		munmap(p, PF1_MIB * MIB);
		pages += PF1_MIB * MIB / 4096;
	}
	if (write(fd, &pages, sizeof(pages)) != sizeof(pages))
		_exit(1);
	_exit(0);
}

/* Pages faulted per second by NPROC processes over one phase; <0 on error. */
static double pf1_phase(void)
{
	long total = 0, pages;
	int pipefd[2], i, status;
	double t0 = now(), secs;

	if (pipe(pipefd))
		return -1;
	for (i = 0; i < NPROC; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (!pid)
			pf1(pipefd[1], PHASE_S);
	}
	close(pipefd[1]);
	for (i = 0; i < NPROC; i++) {
		if (read(pipefd[0], &pages, sizeof(pages)) != sizeof(pages))
			return -1;
		total += pages;
	}
	close(pipefd[0]);
	for (i = 0; i < NPROC; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return -1;
	secs = now() - t0;
	return total / secs;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Seconds until 90% of T90_MIB freed is back on the host, or -1. */
static double time_to_90(long delay_ms)
{
	long want = T90_MIB * 1024 * 9 / 10, before;
	double t0;
	char *p;

	if (set_param("page_reporting_delay_ms", delay_ms))
		return -1;
	p = touch(T90_MIB);
	if (!p)
		return -1;
	usleep(600 * 1000);	/* a host sample taken after the touch */
	before = host_rss_kb();
	munmap(p, T90_MIB * MIB);
	t0 = now();
	while (now() - t0 < 120) {
		long rss = host_rss_kb();

		if (rss >= 0 && before - rss >= want)
			return now() - t0;
		usleep(100 * 1000);
	}
	return -1;
}

int main(void)
{
	double on[PHASES / 2], off[PHASES / 2], t, m_on, m_off;
	static const long delays[] = { 100, 2000 };
	char balloon[256];
	unsigned int i;

	if (access(PARAMS "page_reporting_delay_ms", W_OK)) {
		printf("page_reporting: no %spage_reporting_delay_ms, %s\n", PARAMS,
		       "so no stack page reporting patches: nothing to measure");
		return 0;
	}
	if (balloon_name(balloon, sizeof(balloon))) {
		printf("page_reporting: no virtio balloon device\n");
		return 1;
	}
	if (host_rss_kb() < 0) {
		printf("page_reporting: no host RSS in $VIRTSTACK_9P/.host-rss\n");
		return 1;
	}

	for (i = 0; i < PHASES; i++) {
		int rep = i % 2;	/* A: off, B: on */

		if (balloon_bind(balloon, rep)) {
			printf("page_reporting: cannot %s %s\n", rep ? "bind" : "unbind", balloon);
			return 1;
		}
		t = pf1_phase();
		if (t < 0) {
			printf("page_reporting: the page_fault1 phase failed\n");
			return 1;
		}
		(rep ? on : off)[i / 2] = t;
	}
	if (balloon_bind(balloon, 1))
		return 1;
	m_off = median(off, PHASES / 2);
	m_on = median(on, PHASES / 2);
	printf("BENCH pf1_reporting_off %.0f pages/s higher\n", m_off);
	printf("BENCH pf1_reporting_on %.0f pages/s higher\n", m_on);
	printf("BENCH pf1_reporting_on_over_off %.4f ratio higher\n", m_on / m_off);
	if (getenv("VIRTSTACK_ICOUNT")) {
		/*
		 * make bench ICOUNT=1: a guest second is 10^9 instructions of
		 * both vCPUs (one TCG thread runs them in turn), so the rates
		 * are pages per instruction. The host's RSS is sampled on the
		 * host's clock, which no longer matches the guest's: no t90.
		 */
		printf("BENCH pf1_kinsn_per_page_reporting_off %.3f kinsn lower\n", 1e6 / m_off);
		printf("BENCH pf1_kinsn_per_page_reporting_on %.3f kinsn lower\n", 1e6 / m_on);
		set_param("page_reporting_delay_ms", 2000);
		return 0;
	}

	for (i = 0; i < ARRAY_SIZE(delays); i++) {
		t = time_to_90(delays[i]);
		if (t < 0) {
			printf("page_reporting: 90%% of %d MiB not back in 120 s (delay %ld ms)\n",
			       T90_MIB, delays[i]);
			return 1;
		}
		printf("BENCH reporting_t90_delay_%ldms %.2f s lower\n", delays[i], t);
		printf("BENCH reporting_returned_delay_%ldms %.1f MiB/s higher\n", delays[i],
		       T90_MIB * 0.9 / t);
	}
	set_param("page_reporting_delay_ms", 2000);
	return 0;
}
