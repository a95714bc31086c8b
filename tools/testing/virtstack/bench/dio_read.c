// SPDX-License-Identifier: GPL-2.0
/*
 * dio_read: O_DIRECT read throughput, in MB/s, from the guest's scratch
 * virtio-blk disk and from a file on its virtio-9p share. Each read pins
 * and unpins the user buffer, so a change in the pinning paths shows here.
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
#define REPEAT	5

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

/* The median over REPEAT passes of reading @size bytes of @path. */
static int bench(const char *metric, const char *path, size_t size, int create)
{
	double mbps[REPEAT];
	char *buf;
	int fd, i;

	fd = open(path, O_RDWR | O_DIRECT | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open %s\n", metric, path);
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
				fprintf(stderr, "%s: short read\n", metric);
				return 1;
			}
		mbps[i] = size / (now() - t) / 1e6;
	}
	qsort(mbps, REPEAT, sizeof(mbps[0]), cmp);
	printf("BENCH %s %.1f MB/s higher\n", metric, mbps[REPEAT / 2]);
	close(fd);
	munmap(buf, CHUNK);
	return 0;
}

int main(void)
{
	const char *blk = getenv("VIRTSTACK_BLK"), *p9 = getenv("VIRTSTACK_9P");
	char path[4096];
	int ret = 0;

	if (blk)
		ret |= bench("dio_read_virtio_blk", blk, 32 << 20, 0);
	if (p9) {
		snprintf(path, sizeof(path), "%s/dio_bench.img", p9);
		ret |= bench("dio_read_virtio_9p", path, 8 << 20, 1);
	}
	return ret;
}
