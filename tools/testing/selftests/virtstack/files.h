/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small files of /proc, /sys and tracefs as the virtstack guest tests read
 * and write them, the trace buffer as they count its lines, and what they
 * share to run outside the virtstack guest too: whether they are in it,
 * modprobe, and a bounded wait for a child process.
 */
#ifndef VIRTSTACK_FILES_H
#define VIRTSTACK_FILES_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
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

/*
 * Whether the tests run in the virtstack guest, whose init exports
 * VIRTSTACK_GUEST=1. What could disrupt a real machine and cannot be
 * cleanly undone (offlining memory, rebinding a driver, fault injection,
 * mapping address 0) runs only there; elsewhere its test skips, saying
 * GUEST_ONLY.
 */
static inline bool virtstack_guest(void)
{
	const char *s = getenv("VIRTSTACK_GUEST");

	return s && !strcmp(s, "1");
}

#define GUEST_ONLY	"changes host state; runs in the virtstack guest (VIRTSTACK_GUEST=1)"

/*
 * VIRTSTACK_STACK=1: the guest runs a kernel with the stack (the harness's
 * init sets it when the initramfs was built from a stack tree). There,
 * what the stack adds (its debugfs files, module parameters, tracepoints,
 * vmstat counters, test modules) must be present: missing, it is a
 * regression and fails; elsewhere it means another kernel and skips.
 */
static inline bool virtstack_stack(void)
{
	const char *s = getenv("VIRTSTACK_STACK");

	return s && !strcmp(s, "1");
}

/* True when @ok is false on a kernel not known to carry the stack: skip. */
static inline bool missing_outside_stack(bool ok)
{
	return !ok && !virtstack_stack();
}

/*
 * What the virtstack guest always has (its second 9p share, the balloon,
 * the host's RSS file): missing in the guest fails the test, as a broken
 * guest should; elsewhere the test skips with the reason. True when @ok is
 * false outside the guest: then skip.
 */
static inline bool missing_outside_guest(bool ok)
{
	return !ok && !virtstack_guest();
}

/* modprobe @name, as root only; 0 if modprobe succeeded. */
static inline int load_module(const char *name)
{
	char cmd[128];

	if (geteuid())
		return -1;
	snprintf(cmd, sizeof(cmd), "modprobe %s > /dev/null 2>&1", name);
	return system(cmd) ? -1 : 0;
}

static inline double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Waits at most @secs seconds for the child @pid to exit, its status in
 * *@status. Returns 0 once it exited, -1 if waitpid() failed, -2 if it was
 * still running and was killed (SIGKILL) and reaped, -3 if it did not die
 * within 2 s of the kill (a task stuck in the kernel): then it is left
 * behind and its pid still names it. Only after -3 may the caller kill it
 * again; after the others the pid may already be another process's.
 */
static inline int wait_child(pid_t pid, int *status, double secs)
{
	double t0 = mono_now();
	bool killed = false;
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return killed ? -2 : 0;
		if (ret < 0 && errno != EINTR)
			return killed ? -2 : -1;
		if (!killed && mono_now() - t0 >= secs) {
			kill(pid, SIGKILL);
			killed = true;
			t0 = mono_now();
			secs = 2;
		} else if (killed && mono_now() - t0 >= secs) {
			return -3;	/* killed, not reaped: the pid is still its */
		}
		usleep(10 * 1000);
	}
}

/* Kills the child @pid (if any) and reaps it, waiting 4 s at most. */
static inline void kill_child(pid_t *pid)
{
	int status;

	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	wait_child(*pid, &status, 2);
	*pid = 0;
}

#endif /* VIRTSTACK_FILES_H */
