// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_serve MOUNTPOINT SIZE_MIB: mounts a FUSE file system at MOUNTPOINT
 * whose one file, "data", is SIZE_MIB MiB of memory opened with
 * FOPEN_DIRECT_IO (tools/testing/selftests/virtstack/fuse_server.h), and
 * leaves a server process behind that exits when it is unmounted.
 * The guest's FUSE lane starts it for make bench.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "fuse_server.h"

int main(int argc, char **argv)
{
	struct fuse_server srv = { 0 };
	char opts[128];
	pid_t pid;
	int fd;

	if (argc != 3 || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: %s MOUNTPOINT SIZE_MIB\n", argv[0]);
		return 2;
	}
	srv.size = (size_t)atoi(argv[2]) << 20;
	srv.data = mmap(NULL, srv.size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (srv.data == MAP_FAILED) {
		perror("fuse_serve: mmap");
		return 1;
	}
	fd = open("/dev/fuse", O_RDWR);
	if (fd < 0) {
		perror("fuse_serve: /dev/fuse (CONFIG_FUSE_FS?)");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("virtstack", argv[1], "fuse", 0, opts)) {
		perror("fuse_serve: mount");
		return 1;
	}
	/* The kernel queues FUSE_INIT until the server reads it. */
	pid = fork();
	if (pid < 0) {
		perror("fuse_serve: fork");
		umount2(argv[1], MNT_DETACH);
		return 1;
	}
	if (!pid) {
		/* A daemon: keep no caller's pipe open (the lane reads one). */
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		setsid();
		fuse_server_run(fd, &srv);
	}
	return 0;
}
