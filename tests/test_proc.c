/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libproc2 collector against real processes: ourselves, a child we control, a vanished pid. */
#include "check.h"
#include "memwatch/proc.h"
#include "memwatch/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_self(struct mw_proc_collector *c)
{
	struct mw_proc_sample s;
	char *status = NULL;
	int fds;

	CHECK_EQ_I64(mw_proc_collect_one(c, getpid(), &s), 0);
	CHECK_EQ_I64(s.pid, getpid());
	CHECK_EQ_I64(s.ppid, getppid());
	CHECK_EQ_I64(s.uid, geteuid());
	CHECK_EQ_STR(s.comm, "test_proc");
	CHECK(strstr(s.cmdline, "test_proc") != NULL);
	CHECK(s.start_ticks > 0);
	CHECK(s.m[MW_PM_rss] > 0);
	CHECK(s.m[MW_PM_rss] == s.m[MW_PM_rss_anon] + s.m[MW_PM_rss_file] + s.m[MW_PM_rss_shmem]);
	CHECK(s.m[MW_PM_vsz] >= s.m[MW_PM_rss]);
	CHECK(s.m[MW_PM_pte] > 0);
	CHECK_EQ_I64(s.m[MW_PM_threads], 1);
	CHECK(s.m[MW_PM_minflt] > 0);
	CHECK(s.m[MW_PM_oom_adj] >= -1000 && s.m[MW_PM_oom_adj] <= 1000);
	/* Cross-check against /proc/self/status read independently. */
	CHECK_EQ_I64(mw_read_file_alloc("/proc/self/status", &status, NULL), 0);
	CHECK_EQ_I64(s.m[MW_PM_pte], mw_status_field_kb(status, "VmPTE"));
	CHECK_EQ_I64(s.m[MW_PM_stack], mw_status_field_kb(status, "VmStk"));
	free(status);
	fds = mw_fd_count("", getpid());
	CHECK(fds >= 3);
	mw_proc_sample_release(&s);

	/* Opening files moves the fd count by exactly that many. */
	{
		int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
		CHECK_EQ_I64(mw_fd_count("", getpid()), fds + 2);
		close(a);
		close(b);
	}
}

static void test_sweep(struct mw_proc_collector *c)
{
	struct mw_proc_set set = {0};
	bool found_self = false, found_kthread = false;

	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	CHECK(set.n > 1);
	for (size_t i = 0; i < set.n; i++) {
		char path[64], *stat = NULL;
		if (set.v[i].pid == getpid())
			found_self = true;
		/* flags: field 9 of /proc/PID/stat, after the ')' that ends comm */
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)set.v[i].pid);
		if (mw_read_file_alloc(path, &stat, NULL) == 0) {
			const char *p = strrchr(stat, ')');
			unsigned long flags = 0;
			if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
			    (flags & 0x00200000ul))
				found_kthread = true;
		}
		free(stat);
	}
	CHECK(found_self);
	CHECK(!found_kthread);
	/* kthreadd itself (pid 2 in the initial pid namespace) is never listed there. */
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].pid == 2)
			CHECK(set.v[i].m[MW_PM_vsz] > 0);
	/* A second sweep reuses the set without leaking (ASan checks that). */
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	mw_proc_set_clear(&set);
	free(set.v);
}

static void test_hostile_name(struct mw_proc_collector *c)
{
	/* Names are bytes: escapes, newlines, invalid UTF-8 come through raw, to be escaped later.
	 */
	const char name[] = "x\x1b[2J\n\t\xff";
	int pfd[2];
	pid_t pid;
	struct mw_proc_sample s;
	char b;

	CHECK(pipe(pfd) == 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	CHECK(read(pfd[0], &b, 1) == 1);
	CHECK_EQ_I64(mw_proc_collect_one(c, pid, &s), 0);
	CHECK_EQ_STR(s.comm, name);
	mw_proc_sample_release(&s);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_vanished(struct mw_proc_collector *c)
{
	struct mw_proc_sample s;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	CHECK_EQ_I64(mw_proc_collect_one(c, pid, &s), -ESRCH);
	CHECK(mw_fd_count("", pid) < 0);
}

static void test_status_parse(void)
{
	char path[4096];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/status-6.18.txt", SRCDIR);
	CHECK_EQ_I64(mw_read_file_alloc(path, &text, NULL), 0);
	CHECK(text && mw_status_field_kb(text, "VmPTE") > 0);
	CHECK_EQ_I64(mw_status_field_kb(text, "VmNope"), MW_UNKNOWN);
	CHECK_EQ_I64(mw_status_field_kb("VmPTE:\t  44 kB\n", "VmPTE"), 44 * 1024);
	CHECK_EQ_I64(mw_status_field_kb("VmPTEx: 4 kB\nVmPTE: x kB", "VmPTE"), MW_UNKNOWN);
	CHECK_EQ_I64(mw_status_field_kb("", "VmPTE"), MW_UNKNOWN);
	free(text);
}

static void test_boot(void)
{
	char id[64];
	uint64_t bt = 0;

	CHECK_EQ_I64(mw_boot_id("", id, sizeof(id)), 0);
	CHECK_EQ_I64(strlen(id), 36);
	CHECK_EQ_I64(mw_boot_time("", &bt), 0);
	CHECK(bt > 1500000000ull);
}

int main(void)
{
	struct mw_proc_collector *c = NULL;

	CHECK_EQ_I64(mw_proc_collector_new("", &c), 0);
	test_self(c);
	test_sweep(c);
	test_hostile_name(c);
	test_vanished(c);
	test_status_parse();
	test_boot();
	mw_proc_collector_free(c);
	return check_done();
}
