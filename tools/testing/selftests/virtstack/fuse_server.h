/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse_server.h: a minimal FUSE file server speaking the raw /dev/fuse
 * protocol (no libfuse, so requests and replies go through read() and
 * writev(), never splice). It exports one regular file, "data", opened with
 * FOPEN_DIRECT_IO and backed by memory; READ replies can be delayed.
 * Used by the fuse_dio test and by the guest's FUSE lane (fuse_serve).
 */
#ifndef VIRTSTACK_FUSE_SERVER_H
#define VIRTSTACK_FUSE_SERVER_H

#include <errno.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SERVER_MAX_WRITE	(128UL * 1024)
#define FUSE_SERVER_BUF_SIZE	(FUSE_SERVER_MAX_WRITE + 4096)
#define FUSE_SERVER_DATA_INO	2

struct fuse_server {
	unsigned char *data;		/* the file's bytes */
	size_t size;			/* and its size */
	unsigned int read_delay_ms;	/* before each READ reply */
};

static void fuse_server_attr(const struct fuse_server *srv, struct fuse_attr *a,
			     uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = 1;
	a->blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->size = srv->size;
		a->blocks = srv->size / 512;
	}
}

static int fuse_server_reply(int fd, uint64_t unique, int error, const void *arg,
			     size_t len, const void *data, size_t dlen)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + len + dlen,
		.error = error,
		.unique = unique,
	};
	struct iovec iov[3] = {
		{ &out, sizeof(out) },
		{ (void *)arg, len },
		{ (void *)data, dlen },
	};

	return writev(fd, iov, 3) == (ssize_t)out.len ? 0 : -1;
}

static void fuse_server_read(int fd, const struct fuse_server *srv,
			     const struct fuse_in_header *in, const struct fuse_read_in *r)
{
	size_t len = r->size;

	if (srv->read_delay_ms) {
		struct timespec ts = { 0, srv->read_delay_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (r->offset >= srv->size)
		len = 0;
	else if (r->offset + len > srv->size)
		len = srv->size - r->offset;
	fuse_server_reply(fd, in->unique, 0, NULL, 0, srv->data + r->offset, len);
}

static void fuse_server_write(int fd, const struct fuse_server *srv,
			      const struct fuse_in_header *in, const struct fuse_write_in *w)
{
	struct fuse_write_out wo = { .size = w->size };

	if (w->offset + w->size > srv->size) {
		fuse_server_reply(fd, in->unique, -EFBIG, NULL, 0, NULL, 0);
		return;
	}
	memcpy(srv->data + w->offset, w + 1, w->size);
	fuse_server_reply(fd, in->unique, 0, &wo, sizeof(wo), NULL, 0);
}

/*
 * Serves requests on @fd until the file system is unmounted, then exits
 * the process: 0 when unmounted, 1 or 2 on a broken request stream.
 */
static void fuse_server_run(int fd, const struct fuse_server *srv)
{
	unsigned char *buf = mmap(NULL, FUSE_SERVER_BUF_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		_exit(1);
	for (;;) {
		struct fuse_in_header *in = (void *)buf;
		void *arg = buf + sizeof(*in);
		ssize_t n = read(fd, buf, FUSE_SERVER_BUF_SIZE);

		if (n < 0)
			_exit(0);	/* ENODEV: unmounted */
		if (n < (ssize_t)sizeof(*in))
			_exit(2);

		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = arg;
			struct fuse_init_out io = {
				.major = FUSE_KERNEL_VERSION,
				.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
					 ii->minor : FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_write = FUSE_SERVER_MAX_WRITE,
				.max_background = 16,
				.congestion_threshold = 12,
				.time_gran = 1,
			};
			fuse_server_reply(fd, in->unique, 0, &io, sizeof(io), NULL, 0);
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out e = { .nodeid = FUSE_SERVER_DATA_INO };

			if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, "data")) {
				fuse_server_reply(fd, in->unique, -ENOENT, NULL, 0, NULL, 0);
				break;
			}
			fuse_server_attr(srv, &e.attr, FUSE_SERVER_DATA_INO);
			fuse_server_reply(fd, in->unique, 0, &e, sizeof(e), NULL, 0);
			break;
		}
		case FUSE_GETATTR:
		case FUSE_SETATTR: {
			struct fuse_attr_out a = { 0 };

			fuse_server_attr(srv, &a.attr, in->nodeid);
			fuse_server_reply(fd, in->unique, 0, &a, sizeof(a), NULL, 0);
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1, .open_flags = FOPEN_DIRECT_IO };

			fuse_server_reply(fd, in->unique, 0, &o, sizeof(o), NULL, 0);
			break;
		}
		case FUSE_READ:
			fuse_server_read(fd, srv, in, arg);
			break;
		case FUSE_WRITE:
			fuse_server_write(fd, srv, in, arg);
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_FSYNC:
			fuse_server_reply(fd, in->unique, 0, NULL, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;
		case FUSE_DESTROY:
			fuse_server_reply(fd, in->unique, 0, NULL, 0, NULL, 0);
			_exit(0);
		default:
			fuse_server_reply(fd, in->unique, -ENOSYS, NULL, 0, NULL, 0);
			break;
		}
	}
}

#endif /* VIRTSTACK_FUSE_SERVER_H */
