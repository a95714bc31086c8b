// SPDX-License-Identifier: GPL-2.0
/*
 * dio_read: O_DIRECT throughput on every backend the guest offers: the
 * scratch virtio-blk disk, a file on the virtio-9p share, and files on the
 * guest's own NFS export over sunrpc and through LOCALIO. Every call pins
 * and unpins the user buffer, so a change in the pinning paths shows here.
 *
 * For each backend: sequential 256 KiB reads (MB/s), and sequential and
 * random 4 KiB reads and writes (IOPS), each the median of REPEAT passes.
 * Prints "BENCH <metric> <value> <unit> higher" lines for make bench.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(256 << 10)
#define SMALL	4096
#define REPEAT	5
#define OPS	512
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, const char *backend, double *v, const char *unit)
{
	qsort(v, REPEAT, sizeof(v[0]), cmp);
	printf("BENCH %s_%s %.1f %s higher\n", what, backend, v[REPEAT / 2], unit);
}

/* One pass of OPS 4 KiB calls, sequential or at random aligned offsets. */
static int small_pass(int fd, char *buf, size_t size, int random, int write, double *iops)
{
	unsigned int seed = 1;
	double t = now();
	int i;

	for (i = 0; i < OPS; i++) {
		off_t off = random ? (off_t)(rand_r(&seed) % (size / SMALL)) * SMALL :
				     (off_t)(i % (size / SMALL)) * SMALL;
		ssize_t n = write ? pwrite(fd, buf, SMALL, off) : pread(fd, buf, SMALL, off);

		if (n != SMALL)
			return 1;
	}
	*iops = OPS / (now() - t);
	return 0;
}

static int bench(const char *backend, const char *path, size_t size, int create)
{
	static const char * const small[] = { "seq4k_read", "seq4k_write",
					      "rand4k_read", "rand4k_write" };
	double v[REPEAT];
	char *buf;
	int fd, i, m;

	fd = open(path, O_RDWR | O_DIRECT | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s\n", backend, path);
		return 1;
	}
	buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	memset(buf, 1, CHUNK);
	if (create)
		for (size_t off = 0; off < size; off += CHUNK)
			if (pwrite(fd, buf, CHUNK, off) != CHUNK)
				return 1;

	for (i = 0; i < REPEAT; i++) {
		double t = now();

		for (size_t off = 0; off < size; off += CHUNK)
			if (pread(fd, buf, CHUNK, off) != CHUNK) {
				fprintf(stderr, "%s: short read\n", backend);
				return 1;
			}
		v[i] = size / (now() - t) / 1e6;
	}
	report("dio_read", backend, v, "MB/s");

	for (m = 0; m < 4; m++) {
		for (i = 0; i < REPEAT; i++)
			if (small_pass(fd, buf, size, m >= 2, m & 1, &v[i])) {
				fprintf(stderr, "%s: %s failed\n", backend, small[m]);
				return 1;
			}
		report(small[m], backend, v, "IOPS");
	}
	close(fd);
	munmap(buf, CHUNK);
	return 0;
}

int main(void)
{
	static const struct { const char *env, *backend; } dirs[] = {
		{ "VIRTSTACK_9P", "virtio_9p" },
		{ "VIRTSTACK_NFS", "nfs" },
		{ "VIRTSTACK_NFS_LOCALIO", "nfs_localio" },
	};
	const char *blk = getenv("VIRTSTACK_BLK");
	char path[4096];
	unsigned int i;
	int ret = 0;

	if (blk)
		ret |= bench("virtio_blk", blk, 32 << 20, 0);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		const char *dir = getenv(dirs[i].env);

		if (!dir)
			continue;
		snprintf(path, sizeof(path), "%s/dio_bench.img", dir);
		ret |= bench(dirs[i].backend, path, 8 << 20, 1);
		unlink(path);
	}
	return ret;
}
