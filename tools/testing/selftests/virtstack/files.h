/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small files of /proc, /sys and tracefs as the virtstack guest tests read
 * and write them, and the trace buffer as they count its lines.
 */
#ifndef VIRTSTACK_FILES_H
#define VIRTSTACK_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TRACING		"/sys/kernel/debug/tracing/"

/*
 * Writes @s to @path as the shell's '>' does (O_TRUNC also clears a tracefs
 * buffer); 0, or -1 with errno set.
 */
static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Reads up to @len - 1 bytes of @path into @buf, NUL-terminated; 0 or -1. */
static inline int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Lines of the trace buffer that hold both @a and @b; -1 if unreadable. */
static inline int trace_count(const char *a, const char *b)
{
	FILE *f = fopen(TRACING "trace", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && strstr(line, b))
			n++;
	fclose(f);
	return n;
}

#endif /* VIRTSTACK_FILES_H */
