// SPDX-License-Identifier: GPL-2.0
/*
 * lpi_bench LABEL NR_LPIS PROGRAM [ARG...]: runs vgic_lpi_stress (PROGRAM)
 * once with lock statistics cleared, and prints, as make bench reads them:
 *
 *   BENCH LABEL_lpi_rate            LPIs/s the test reported       (higher)
 *   BENCH LABEL_ap_list_lock_per_lpi acquisitions of the vcpus'
 *                                    ap_list_lock per LPI injected (lower)
 *   BENCH LABEL_ap_list_lock_contentions_per_klpi  contentions per 1000 LPIs
 *
 * NR_LPIS is what PROGRAM injects (devices x events x iterations). The lock
 * figures come from /proc/lock_stat (CONFIG_LOCK_STAT): they count, where
 * TCG wall time does not mean much, how often the halt-polling vcpus and the
 * injectors took the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct lock_figures {
	double contentions;
	double acquisitions;
};

/*
 * The class line of /proc/lock_stat for the vcpus' ap_list_lock:
 * "&vgic_cpu->ap_list_lock: con-bounces contentions waittime-min waittime-max
 * waittime-total waittime-avg acq-bounces acquisitions ...".
 */
static int read_lock_stat(struct lock_figures *lf)
{
	double v[8];
	char line[512];
	FILE *f = fopen("/proc/lock_stat", "r");
	char *p;

	if (!f) {
		fprintf(stderr, "lpi_bench: /proc/lock_stat: %s (CONFIG_LOCK_STAT?)\n",
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "ap_list_lock:");
		if (!p)
			continue;
		if (sscanf(p + strlen("ap_list_lock:"), "%lf %lf %lf %lf %lf %lf %lf %lf",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
			continue;
		lf->contentions = v[1];
		lf->acquisitions = v[7];
		fclose(f);
		return 0;
	}
	fclose(f);
	fprintf(stderr, "lpi_bench: no ap_list_lock class in /proc/lock_stat\n");
	return -1;
}

static int clear_lock_stat(void)
{
	int fd = open("/proc/lock_stat", O_WRONLY);

	if (fd < 0 || write(fd, "0", 1) != 1) {
		fprintf(stderr, "lpi_bench: cannot clear /proc/lock_stat: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	double nr_lpis, rate = -1;
	struct lock_figures lf;
	int pfd[2], status;
	char line[512];
	FILE *in;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: lpi_bench LABEL NR_LPIS PROGRAM [ARG...]\n");
		return 2;
	}
	nr_lpis = strtod(argv[2], NULL);
	if (nr_lpis <= 0 || pipe(pfd) || clear_lock_stat())
		return 1;

	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		execv(argv[3], argv + 3);
		fprintf(stderr, "lpi_bench: exec %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		fputs(line, stdout);
		if (strstr(line, "Rate:"))
			sscanf(strstr(line, "Rate:"), "Rate: %lf", &rate);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "lpi_bench: %s failed\n", argv[3]);
		return 1;
	}
	if (rate < 0) {
		fprintf(stderr, "lpi_bench: no rate in the output of %s\n", argv[3]);
		return 1;
	}
	if (read_lock_stat(&lf))
		return 1;

	printf("BENCH %s_lpi_rate %.1f LPIs/s higher\n", argv[1], rate);
	printf("BENCH %s_ap_list_lock_per_lpi %.3f acq lower\n", argv[1],
	       lf.acquisitions / nr_lpis);
	printf("BENCH %s_ap_list_lock_contentions_per_klpi %.3f con lower\n", argv[1],
	       1000 * lf.contentions / nr_lpis);
	return 0;
}
