// SPDX-License-Identifier: GPL-2.0
/*
 * init for the arm64 guest: there is no shell in its initramfs, only this
 * program (static), the test programs in /tests and /tests/list, one test
 * per line: "NAME TIMEOUT PROGRAM [ARG...]".
 *
 * It speaks the protocol of the x86_64 guest's init (tools/testing/virtstack/
 * guest/init) on the virtio console /dev/hvc0, so that verdict.sh reads both:
 *   @@VS progress TEXT, @@VS begin test NAME, the program's output,
 *   @@VS end test NAME RC, @@VS pins ACQUIRED RELEASED, @@VS done.
 * Built-in KUnit suites have run at boot: their results come first, read
 * from debugfs as @@VS begin kunit NAME ... @@VS end kunit NAME 0. The
 * kernel log stays on the PL011 console. A program still running after
 * its TIMEOUT seconds is killed and ends with status 124.
 * virtstack.only=NAME on the command line runs that test only;
 * virtstack.mode=bench runs /tests/bench-list instead, as "bench" programs
 * (make bench ARCH=arm64).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 32

static FILE *out;

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("@@VS ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

static void mount_or_warn(const char *src, const char *dst, const char *type)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, NULL) && errno != EBUSY)
		fprintf(stderr, "init: mount %s on %s: %s\n", type, dst, strerror(errno));
}

/* The value of KEY= on the kernel command line, or NULL. */
static char *cmdline_value(const char *key)
{
	static char buf[4096];
	size_t klen = strlen(key);
	char *tok, *save;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (tok = strtok_r(buf, "\t\n ", &save); tok; tok = strtok_r(NULL, "\t\n ", &save))
		if (!strncmp(tok, key, klen) && tok[klen] == '=')
			return tok + klen + 1;
	return NULL;
}

/* Runs ARGV with a timeout; its output goes to the results channel. */
static int run(char **argv, unsigned int timeout)
{
	time_t end = time(NULL) + timeout;
	int status, fd = fileno(out);
	pid_t pid, w;

	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		chdir("/tests");
		execv(argv[0], argv);
		fprintf(stderr, "init: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0)
			return 127;
		if (time(NULL) >= end) {
			fprintf(out, "\ninit: %s still running after %us: killed\n",
				argv[0], timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 124;
		}
		usleep(100 * 1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(out, "\ninit: %s killed by signal %d\n", argv[0], WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

/* The results of the KUnit suites that ran at boot. */
static void report_kunit(void)
{
	char path[512], buf[4096];
	struct dirent *de;
	size_t n;
	DIR *d = opendir("/sys/kernel/debug/kunit");
	FILE *f;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/kunit/%s/results", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		say("begin kunit %s", de->d_name);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, out);
		fclose(f);
		fputc('\n', out);
		say("end kunit %s 0", de->d_name);
	}
	if (d)
		closedir(d);
}

static unsigned long vmstat_value(const char *name)
{
	char key[64];
	unsigned long val, ret = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lu", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

int main(void)
{
	char line[1024], *argv[MAX_ARGS + 1], *only, *mode, *save, *name, *tmo;
	const char *kind = "test", *path = "/tests/list";
	FILE *list;
	int argc, rc;

	mount_or_warn("proc", "/proc", "proc");
	mount_or_warn("sysfs", "/sys", "sysfs");
	mount_or_warn("devtmpfs", "/dev", "devtmpfs");
	mount_or_warn("debugfs", "/sys/kernel/debug", "debugfs");
	mount_or_warn("tmpfs", "/tmp", "tmpfs");

	out = fopen("/dev/hvc0", "w");
	if (!out) {
		fprintf(stderr, "init: no /dev/hvc0 (%s): is CONFIG_VIRTIO_CONSOLE set?\n",
			strerror(errno));
		out = stdout;
	}

	mode = cmdline_value("virtstack.mode");
	if (mode && !strcmp(mode, "bench")) {
		kind = "bench";
		path = "/tests/bench-list";
	}
	only = cmdline_value("virtstack.only");
	if (only)
		say("only %s", only);

	if (!only && strcmp(kind, "bench"))
		report_kunit();

	list = fopen(path, "r");
	if (!list) {
		fprintf(out, "init: no %s: the initramfs is broken\n", path);
		goto done;
	}
	while (fgets(line, sizeof(line), list)) {
		name = strtok_r(line, " \t\n", &save);
		if (!name || name[0] == '#')
			continue;
		tmo = strtok_r(NULL, " \t\n", &save);
		for (argc = 0; argc < MAX_ARGS; argc++) {
			argv[argc] = strtok_r(NULL, " \t\n", &save);
			if (!argv[argc])
				break;
		}
		argv[argc] = NULL;
		if (!tmo || !argc || (only && strcmp(only, name)))
			continue;

		say("progress running %s %s", kind, name);
		say("begin %s %s", kind, name);
		rc = run(argv, strtoul(tmo, NULL, 10));
		fputc('\n', out);	/* the end marker on a line of its own */
		say("end %s %s %d", kind, name, rc);
	}
	fclose(list);

done:
	say("pins %lu %lu", vmstat_value("nr_foll_pin_acquired"),
	    vmstat_value("nr_foll_pin_released"));
	say("done");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
