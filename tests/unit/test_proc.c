/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The collector against real processes (ourselves, children we control, a
 * vanished pid), its stat and status parsers against recorded and odd
 * text, and libproc2 as the reference for every field it also reads.
 */
#include "check.h"
#include "memwatch/collect/proc.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_self(struct mw_proc_collector *c)
{
	struct mw_proc_sample s;
	char *status = NULL;
	int fds;

	int64_t pte_before;

	/* Page tables may grow between two reads (an allocation): bracket the sample. */
	CHECK_EQ_I64(mw_read_file_alloc("/proc/self/status", &status, NULL), 0);
	pte_before = mw_status_field_kb(status, "VmPTE");
	free(status);
	status = NULL;
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
	CHECK(s.m[MW_PM_pte] >= pte_before &&
	      s.m[MW_PM_pte] <= mw_status_field_kb(status, "VmPTE"));
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
	/* A value that cannot be true in bytes is unknown, not a wrapped negative. */
	CHECK_EQ_I64(mw_status_field_kb("VmPTE:\t1111111111111111111 kB\n", "VmPTE"), MW_UNKNOWN);
	CHECK_EQ_I64(mw_status_field_kb("VmPTEx: 4 kB\nVmPTE: x kB", "VmPTE"), MW_UNKNOWN);
	CHECK_EQ_I64(mw_status_field_kb("", "VmPTE"), MW_UNKNOWN);
	free(text);
}

static char *read_data(const char *name)
{
	char path[4096];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/pid/%s", SRCDIR, name);
	CHECK_EQ_I64(mw_read_file_alloc(path, &text, NULL), 0);
	return text;
}

static void fresh(struct mw_proc_sample *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < MW_PM_COUNT; i++)
		s->m[i] = MW_UNKNOWN;
}

static void test_stat_parse(void)
{
	struct mw_proc_sample s;
	unsigned long flags = 0;
	char *text;

	/* comm "a) 1 (b\n) 2": brackets, digits and a newline; only the last ')' ends it. */
	text = read_data("hostile-stat.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_stat(text, &s, &flags), 0);
	CHECK_EQ_I64(s.pid, 18270);
	CHECK_EQ_STR(s.comm, "a) 1 (b\n) 2");
	CHECK_EQ_I64(s.ppid, 18224);
	CHECK_EQ_I64(flags, 4194368);
	CHECK_EQ_I64(s.m[MW_PM_minflt], 309);
	CHECK_EQ_I64(s.m[MW_PM_majflt], 0);
	CHECK_EQ_I64(s.m[MW_PM_threads], 1);
	CHECK_EQ_I64(s.start_ticks, 1347940);
	free(text);

	text = read_data("threads-stat.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_stat(text, &s, &flags), 0);
	CHECK_EQ_STR(s.comm, "python3");
	CHECK_EQ_I64(s.m[MW_PM_threads], 4);
	CHECK_EQ_I64(s.m[MW_PM_minflt], 1938);
	CHECK_EQ_I64(s.start_ticks, 1347940);
	free(text);

	/* A zombie: state Z, everything still parses. */
	text = read_data("zombie-stat.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_stat(text, &s, &flags), 0);
	CHECK_EQ_STR(s.comm, "true");
	CHECK_EQ_I64(s.m[MW_PM_threads], 1);
	CHECK_EQ_I64(s.m[MW_PM_majflt], 1);
	free(text);

	/* A kernel thread's flags carry PF_KTHREAD; names may be longer than 16 bytes there. */
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_stat(
	                     "77 (kworker/u8:3-events_unbound-with-a-very-long-name-that-goes-"
	                     "on-and-on) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 "
	                     "55 0 0\n",
	                     &s, &flags),
	             0);
	CHECK((flags & 0x00200000ul) != 0);
	CHECK_EQ_I64(strlen(s.comm), MW_COMM_MAX - 1);
	CHECK_EQ_I64(s.start_ticks, 55);

	/* No threads left (a reaped-but-listed group): reported as 1, as libproc2 does. */
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_stat("9 (z) Z 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 0 0 123 0 0", &s,
	                                &flags),
	             0);
	CHECK_EQ_I64(s.m[MW_PM_threads], 1);
	CHECK_EQ_I64(s.m[MW_PM_majflt], 2);

	/* Malformed: every one is refused, none half-parsed into a sample. */
	static const char *const bad[] = {
	        "",
	        "12",
	        "12 (x",
	        "12 x) S 1",
	        "12 (x) S 1 0 0 0 -1 0 1 0 2", /* cut short before starttime */
	        "12 (x) S 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 1 0 abc 0", /* starttime not a number */
	        "12 (x) S 1 0 0 0 -1 0 1x 0 2 0 0 0 0 0 20 0 1 0 5 0",  /* junk inside a number */
	        "-3 (x) S 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 1 0 5 0",
	        "12(x) S 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 1 0 5 0",
	        "12 (x)S 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 1 0 5 0",
	        "12 (x) S 1 0 0 0 -1 0 99999999999999999999999 0 2 0 0 0 0 0 20 0 1 0 5 0",
	};
	for (size_t i = 0; i < MW_ARRAY_SIZE(bad); i++) {
		fresh(&s);
		if (mw_proc_parse_stat(bad[i], &s, &flags) != -EBADMSG)
			fprintf(stderr, "accepted bad stat line %zu: \"%s\"\n", i, bad[i]);
		CHECK_EQ_I64(mw_proc_parse_stat(bad[i], &s, &flags), -EBADMSG);
	}
}

/* text as ROOT/proc/PID/stat. */
static void put_stat(const char *root, int pid, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/proc", root);
	CHECK(mkdir(p, 0755) == 0 || errno == EEXIST);
	snprintf(p, sizeof(p), "%s/proc/%d", root, pid);
	CHECK(mkdir(p, 0755) == 0 || errno == EEXIST);
	snprintf(p, sizeof(p), "%s/proc/%d/stat", root, pid);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_start_ticks(struct mw_proc_collector *c)
{
	char root[] = "/tmp/mw-test-proc-XXXXXX", cmd[128], line[2048];
	struct mw_proc_sample s;
	uint64_t t = 0;
	char *text;
	int n;

	/* Live: the identity the collector gives. */
	CHECK_EQ_I64(mw_proc_collect_one(c, getpid(), &s), 0);
	CHECK_EQ_I64(mw_proc_start_ticks("", getpid(), &t), 0);
	CHECK_EQ_I64(t, s.start_ticks);
	mw_proc_sample_release(&s);

	CHECK(mkdtemp(root) != NULL);
	/* Recorded lines under a root: a comm holding ')', digits and a newline; a zombie. */
	text = read_data("hostile-stat.txt");
	put_stat(root, 18270, text);
	CHECK_EQ_I64(mw_proc_start_ticks(root, 18270, &t), 0);
	CHECK_EQ_I64(t, 1347940);
	/* Another process's line is not this pid's identity. */
	put_stat(root, 12, text);
	CHECK_EQ_I64(mw_proc_start_ticks(root, 12, &t), -EBADMSG);
	free(text);
	text = read_data("zombie-stat.txt");
	put_stat(root, 18265, text);
	CHECK_EQ_I64(mw_proc_start_ticks(root, 18265, &t), 0);
	CHECK_EQ_I64(t, 1347910);
	free(text);
	/* The root is honoured: pid 1 lives, but not under it. */
	CHECK_EQ_I64(mw_proc_start_ticks(root, 1, &t), -ESRCH);
	put_stat(root, 13, "13 (x) S 1 0 0 0 -1 0 1 0 2");
	CHECK_EQ_I64(mw_proc_start_ticks(root, 13, &t), -EBADMSG);
	/* Longer than the read: starttime comes early enough. */
	n = snprintf(line, sizeof(line), "14 (x) S 1 0 0 0 -1 0 1 0 2 0 0 0 0 0 20 0 1 0 4242");
	while (n < 1500)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " 18446744073709551615");
	put_stat(root, 14, line);
	CHECK_EQ_I64(mw_proc_start_ticks(root, 14, &t), 0);
	CHECK_EQ_I64(t, 4242);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK_EQ_I64(system(cmd), 0);
}

static void test_status_parse_fields(void)
{
	struct mw_proc_sample s;
	char *text, *big;

	text = read_data("../status-6.18.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status(text, &s), 0);
	CHECK_EQ_I64(s.uid, 0);
	CHECK_EQ_I64(s.m[MW_PM_vsz], 3060 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss], 1748 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_anon], 112 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_file], 1636 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_shmem], 0);
	CHECK_EQ_I64(s.m[MW_PM_data], 360 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_stack], 132 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_pte], 44 * 1024);
	CHECK_EQ_I64(s.m[MW_PM_swap], 0);
	/* Not its business: threads and faults come from stat. */
	CHECK_EQ_I64(s.m[MW_PM_threads], MW_UNKNOWN);
	free(text);

	/* A zombie has no mm: sizes 0 as libproc2 reported them, VmPTE unknown. */
	text = read_data("zombie-status.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status(text, &s), 0);
	CHECK_EQ_I64(s.m[MW_PM_vsz], 0);
	CHECK_EQ_I64(s.m[MW_PM_rss], 0);
	CHECK_EQ_I64(s.m[MW_PM_swap], 0);
	CHECK_EQ_I64(s.m[MW_PM_pte], MW_UNKNOWN);
	free(text);

	/* The kernel escapes the name; a name that looks like a field stays on the Name line. */
	text = read_data("hostile-status.txt");
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status(text, &s), 0);
	CHECK(s.m[MW_PM_rss] > 0);
	free(text);
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status(
	                     "Name:\tx\\nVmRSS:\t999 kB\nUid:\t1\t2\t3\t4\nVmRSS:\t  5 kB\n", &s),
	             0);
	CHECK_EQ_I64(s.uid, 2);
	CHECK_EQ_I64(s.m[MW_PM_rss], 5 * 1024);

	/* A key that only starts like ours, a value that is not a number, no Uid at all. */
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status("Uid:\t0\t7\t0\t0\nVmRSSx:\t9 kB\nVmPTE:\tnone kB\n", &s),
	             0);
	CHECK_EQ_I64(s.uid, 7);
	CHECK_EQ_I64(s.m[MW_PM_rss], 0);
	CHECK_EQ_I64(s.m[MW_PM_pte], MW_UNKNOWN);
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status("Name:\tx\nVmRSS:\t5 kB\n", &s), -EBADMSG);
	fresh(&s);
	CHECK_EQ_I64(mw_proc_parse_status("", &s), -EBADMSG);

	/* 65536 supplementary groups push the sizes ~700 KiB into the file: still found. */
	big = malloc(800 * 1024);
	CHECK(big != NULL);
	if (big) {
		size_t o =
		        (size_t)sprintf(big, "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGroups:\t");
		for (int g = 0; g < 65536; g++)
			o += (size_t)sprintf(big + o, "%d ", 100000 + g);
		sprintf(big + o, "\nVmSize:\t 8 kB\nVmRSS:\t 4 kB\nVmPTE:\t 12 kB\n");
		fresh(&s);
		CHECK_EQ_I64(mw_proc_parse_status(big, &s), 0);
		CHECK_EQ_I64(s.m[MW_PM_vsz], 8 * 1024);
		CHECK_EQ_I64(s.m[MW_PM_pte], 12 * 1024);
		free(big);
	}
}

/* The fields libproc2 4.0 reads, asked of libproc2 itself: the reference for ours. */
enum {
	R_PPID,
	R_EUID,
	R_BEGAN,
	R_VSZ,
	R_RSS,
	R_ANON,
	R_FILE,
	R_SHMEM,
	R_SWAP,
	R_STACK,
	R_DATA,
	R_NLWP,
	R_MINFLT,
	R_MAJFLT,
	R_CMDLINE,
	R_OOM,
	R_ADJ,
	R_CGROUP,
	R_COUNT
};

/* How the collector stored libproc2's argv vector before it read cmdline itself. */
static char *join_like_before(char **argv)
{
	size_t len = 1, o = 0;
	char *s;

	for (size_t i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && argv && argv[i]; i++) {
		if (o)
			s[o++] = ' ';
		memcpy(s + o, argv[i], strlen(argv[i]));
		o += strlen(argv[i]);
	}
	if (s && strcmp(s, "-") == 0)
		s[0] = '\0';
	return s;
}

static void check_against_libproc2(struct mw_proc_collector *c, struct pids_info *ref, pid_t pid)
{
	unsigned want = (unsigned)pid;
	struct pids_fetch *f = procps_pids_select(ref, &want, 1, PIDS_SELECT_PID);
	struct mw_proc_sample s;
	char path[64], comm[64] = "";
	size_t len = 0;

	CHECK(f && f->counts->total == 1);
	CHECK_EQ_I64(mw_proc_collect_one(c, pid, &s), 0);
	if (!f || f->counts->total != 1)
		return;
#define REF(i, type) (f->stacks[0]->head[(i)].result.type)
	CHECK_EQ_I64(s.ppid, REF(R_PPID, s_int));
	CHECK_EQ_I64(s.uid, REF(R_EUID, u_int));
	CHECK_EQ_I64(s.start_ticks, REF(R_BEGAN, ull_int));
	CHECK_EQ_I64(s.m[MW_PM_vsz], (int64_t)REF(R_VSZ, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss], (int64_t)REF(R_RSS, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_anon], (int64_t)REF(R_ANON, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_file], (int64_t)REF(R_FILE, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_rss_shmem], (int64_t)REF(R_SHMEM, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_swap], (int64_t)REF(R_SWAP, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_stack], (int64_t)REF(R_STACK, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_data], (int64_t)REF(R_DATA, ul_int) * 1024);
	CHECK_EQ_I64(s.m[MW_PM_threads], REF(R_NLWP, s_int));
	CHECK_EQ_I64(s.m[MW_PM_minflt], (int64_t)REF(R_MINFLT, ul_int));
	CHECK_EQ_I64(s.m[MW_PM_majflt], (int64_t)REF(R_MAJFLT, ul_int));
	CHECK_EQ_I64(s.m[MW_PM_oom_score], REF(R_OOM, s_int));
	CHECK_EQ_I64(s.m[MW_PM_oom_adj], REF(R_ADJ, s_int));
	{
		char *joined = join_like_before(REF(R_CMDLINE, strv));
		const char *cg = REF(R_CGROUP, str);
		CHECK_EQ_STR(s.cmdline, joined);
		CHECK_EQ_STR(s.cgroup, cg && strcmp(cg, "-") != 0 ? cg : "");
		free(joined);
	}
#undef REF
	/* The raw name (/proc/PID/comm less its newline) and the descriptor walk. */
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	CHECK_EQ_I64(mw_read_file(path, comm, sizeof(comm), &len), 0);
	if (len && comm[len - 1] == '\n')
		comm[len - 1] = '\0';
	CHECK_EQ_STR(s.comm, comm);
	CHECK_EQ_I64(s.m[MW_PM_fds], mw_fd_count("", pid));
	mw_proc_sample_release(&s);
}

static void *park(void *arg)
{
	int fd = *(int *)arg;
	char b;

	while (read(fd, &b, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static char **g_argv;

/* A program that blocks reading stdin, with argv as given. */
static void exec_blocked(int in, char *const *argv)
{
	dup2(in, 0);
	execv(argv[0][0] == '/' ? argv[0] : "/bin/cat", argv);
	_exit(127);
}

/* Rewrite our own argument area in place, setproctitle style: no final NUL. */
static void retitle(void)
{
	char *start = g_argv[0], *end = start;

	for (int i = 0; g_argv[i]; i++)
		end = g_argv[i] + strlen(g_argv[i]);
	memset(start, 'z', (size_t)(end - start + 1));
	memcpy(start, "new\ntitle", 9);
}

/* A child that does what it is told, then blocks: its figures hold still while we compare. */
static pid_t spawn(int how, int *release)
{
	int ready[2], go[2];
	pid_t pid;
	char b;

	if (pipe(ready) < 0 || pipe(go) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (how == 1) {
			prctl(PR_SET_NAME, "a) 1 (b\n) 2");
		} else if (how == 2) {
			pthread_t t[3];
			for (int i = 0; i < 3; i++)
				pthread_create(&t[i], NULL, park, &go[0]);
		} else if (how == 3) {
			for (int i = 0; i < 40; i++)
				if (open("/dev/null", O_RDONLY) < 0)
					_exit(1);
		} else if (how == 4) {
			char *const argv[] = {"/bin/sh", "-c", "read x", "",
			                      "a\nb",    "-",  "\xff",   NULL};
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			exec_blocked(go[0], argv);
		} else if (how == 5) {
			char *const argv[] = {"-", NULL}; /* cat reading stdin, named "-" */
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			exec_blocked(go[0], argv);
		} else if (how == 6) {
			int fd = open("/proc/self/oom_score_adj", O_WRONLY);
			if (fd < 0 || write(fd, "500", 3) != 3)
				_exit(1);
			close(fd);
			retitle();
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		park(&go[0]);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (pid < 0 || read(ready[0], &b, 1) != 1) {
		close(ready[0]);
		close(go[1]);
		return -1;
	}
	close(ready[0]);
	*release = go[1];
	/* Children that exec: wait until the new image is in place (its stdin read blocks it). */
	for (int tries = 0; (how == 4 || how == 5) && tries < 5000; tries++) {
		char path[64], cmd[64] = "";
		size_t len = 0;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		mw_read_file(path, cmd, sizeof(cmd), &len);
		if ((how == 4 && strcmp(cmd, "/bin/sh") == 0) ||
		    (how == 5 && strcmp(cmd, "-") == 0))
			break;
		usleep(1000);
	}
	return pid;
}

static const struct mw_proc_sample *find(const struct mw_proc_set *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].pid == pid)
			return &set->v[i];
	return NULL;
}

/* With RLIMIT_NOFILE at 48 a sweep still sees everyone, and leaves no descriptor behind. */
static int sweep_constrained(pid_t parent, const pid_t *kids, int nkids)
{
	struct rlimit rl = {48, 48};
	struct mw_proc_collector *c = NULL;
	struct mw_proc_set set = {0};
	int code = 0;

	/* Start from stdio only: what the parent holds is not ours to count. */
	for (int fd = 3; fd < 4096; fd++)
		close(fd);
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || mw_proc_collector_new("", &c) < 0)
		return 20;
	for (int round = 0; round < 2 && !code; round++) {
		if (mw_proc_collect(c, &set) < 0)
			code = 21;
		else if (!find(&set, parent) || !find(&set, getpid()))
			code = 22;
		for (int i = 0; i < nkids && !code; i++)
			if (!find(&set, kids[i]) ||
			    strstr(find(&set, kids[i])->cmdline, "test_proc") == NULL)
				code = 23;
		/* stdio, the collector's /proc, and the walk's own descriptor */
		if (!code && mw_fd_count("", getpid()) != 3 + 1 + 1)
			code = 24;
	}
	mw_proc_set_clear(&set);
	free(set.v);
	mw_proc_collector_free(c);
	return code;
}

/*
 * Our descriptors on /proc/PID/... of pid (pid 0: those on anything else).
 * A sweep keeps each process's stat open; the rest are the test's own.
 */
static int fds_on(pid_t pid)
{
	char dir[] = "/proc/self/fd", path[512], link[512], pre[32];
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	snprintf(pre, sizeof(pre), "/proc/%d/", (int)pid);
	while (d && (e = readdir(d))) {
		ssize_t k;

		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		link[k > 0 ? k : 0] = '\0';
		if (pid ? strncmp(link, pre, strlen(pre)) == 0
		        : !(strncmp(link, "/proc/", 6) == 0 && isdigit((unsigned char)link[6])))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* Sweep until pred holds, at most MW_PROC_FULL_EVERY + 1 times: what stat does not show. */
static const struct mw_proc_sample *
sweep_until(struct mw_proc_collector *c, struct mw_proc_set *set, pid_t pid,
            bool (*pred)(const struct mw_proc_sample *, const void *), const void *ctx, int *sweeps)
{
	const struct mw_proc_sample *p = NULL;

	for (*sweeps = 1; *sweeps <= MW_PROC_FULL_EVERY + 1; ++*sweeps) {
		if (mw_proc_collect(c, set) < 0)
			return NULL;
		p = find(set, pid);
		if (p && pred(p, ctx))
			return p;
	}
	return p;
}

static bool adj_is_300(const struct mw_proc_sample *p, const void *ctx MW_UNUSED)
{
	return p->m[MW_PM_oom_adj] == 300;
}

/*
 * A second sweep sees what changed (what only others change, such as
 * oom_score_adj, within MW_PROC_FULL_EVERY sweeps); nothing is held for
 * processes that went.
 */
static void test_held(void)
{
	struct mw_proc_collector *c = NULL;
	struct mw_proc_set set = {0};
	const struct mw_proc_sample *p;
	pid_t kids[3], sub;
	int release[3], before, status = 0, sweeps = 0;

	CHECK_EQ_I64(mw_proc_collector_new("", &c), 0);
	before = fds_on(0);
	for (int i = 0; i < 3; i++)
		kids[i] = spawn(0, &release[i]);
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	CHECK(find(&set, kids[0]) != NULL);
	CHECK_EQ_I64(fds_on(0), before + 3); /* the three release pipes */
	for (int i = 0; i < 3; i++)
		CHECK_EQ_I64(fds_on(kids[i]), 1); /* its stat, kept */
	{
		char path[64];
		int fd;
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)kids[0]);
		fd = open(path, O_WRONLY);
		CHECK(fd >= 0 && write(fd, "300", 3) == 3);
		close(fd);
	}
	p = sweep_until(c, &set, kids[0], adj_is_300, NULL, &sweeps);
	CHECK(p && p->m[MW_PM_oom_adj] == 300);
	CHECK(p && strstr(p->cmdline, "test_proc") != NULL);
	printf("test_held: oom_score_adj written by another seen at sweep %d\n", sweeps);
	/* An idle process's last full read serves the sweeps after: same values. */
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	p = find(&set, kids[0]);
	CHECK(p && p->m[MW_PM_oom_adj] == 300 && strstr(p->cmdline, "test_proc") != NULL);
	CHECK(p && p->m[MW_PM_fds] >= 3 && p->m[MW_PM_rss_anon] > 0);

	sub = fork();
	if (sub == 0)
		_exit(sweep_constrained(getppid(), kids, 3));
	CHECK(waitpid(sub, &status, 0) == sub && WIFEXITED(status));
	CHECK_EQ_I64(WEXITSTATUS(status), 0);

	for (int i = 0; i < 3; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		close(release[i]);
	}
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	CHECK(find(&set, kids[0]) == NULL);
	CHECK_EQ_I64(fds_on(0), before);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_I64(fds_on(kids[i]), 0);
	mw_proc_collector_free(c);
	mw_proc_set_clear(&set);
	free(set.v);
}

/* Our own memory cgroup directory (v1 memory hierarchy, else the v2 one). */
static int own_cgroup_dir(char *dir, size_t cap)
{
	char text[4096] = "", *line;

	if (mw_read_file("/proc/self/cgroup", text, sizeof(text), NULL) < 0)
		return -1;
	if ((line = strstr(text, ":memory:")))
		snprintf(dir, cap, "/sys/fs/cgroup/memory%.*s", (int)strcspn(line + 8, "\n"),
		         line + 8);
	else if (strncmp(text, "0::", 3) == 0 && (line = text + 3))
		snprintf(dir, cap, "/sys/fs/cgroup%.*s", (int)strcspn(line, "\n"), line);
	else
		return -1;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return r;
}

/*
 * The cgroup string is libproc2's, asked again whenever the text changes: a
 * process moved to another cgroup (with a tab in its name, which libproc2
 * escapes its own way) between two sweeps has the new string, libproc2's, in
 * the second.
 */
static bool cgroup_has(const struct mw_proc_sample *p, const void *needle)
{
	return p->cgroup && strstr(p->cgroup, needle) != NULL;
}

static void test_cgroup_move(void)
{
	enum pids_item items[] = {PIDS_CGROUP};
	struct pids_info *ref = NULL;
	struct mw_proc_collector *c = NULL;
	struct mw_proc_set set = {0};
	const struct mw_proc_sample *p;
	char dir[2048], sub[2300], procs[2400], pidtext[32], before[4096] = "", tail[32];
	pid_t kid;
	int release, sweeps = 0;

	if (geteuid() != 0 || own_cgroup_dir(dir, sizeof(dir)) < 0) {
		printf("test_cgroup_move: needs root and a writable memory cgroup; not run\n");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/mw-test\tcg-%d", dir, (int)getpid());
	snprintf(tail, sizeof(tail), "cg-%d", (int)getpid());
	if (mkdir(sub, 0755) < 0) {
		printf("test_cgroup_move: cannot create %s: %s; not run\n", sub, strerror(errno));
		return;
	}
	kid = spawn(0, &release);
	CHECK(kid > 0);
	CHECK_EQ_I64(mw_proc_collector_new("", &c), 0);
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	p = find(&set, kid);
	CHECK(p != NULL);
	if (p)
		snprintf(before, sizeof(before), "%s", p->cgroup);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", sub);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)kid);
	CHECK_EQ_I64(write_text(procs, pidtext), 0);
	p = sweep_until(c, &set, kid, cgroup_has, tail, &sweeps);
	printf("test_cgroup_move: the move seen at sweep %d\n", sweeps);
	CHECK(p && strstr(p->cgroup, tail) != NULL);
	CHECK(p && strcmp(p->cgroup, before) != 0);
	CHECK_EQ_I64(procps_pids_new(&ref, items, 1), 0);
	{
		unsigned want = (unsigned)kid;
		struct pids_fetch *f = procps_pids_select(ref, &want, 1, PIDS_SELECT_PID);
		CHECK(f && f->counts->total == 1);
		if (p && f && f->counts->total == 1)
			CHECK_EQ_STR(p->cgroup, f->stacks[0]->head[0].result.str);
	}
	/* Unchanged text: the kept string, still the same. */
	CHECK_EQ_I64(mw_proc_collect(c, &set), 0);
	p = find(&set, kid);
	CHECK(p && strstr(p->cgroup, tail) != NULL);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	close(release);
	for (int tries = 0; tries < 1000 && rmdir(sub) < 0; tries++)
		usleep(1000);
	procps_pids_unref(&ref);
	mw_proc_set_clear(&set);
	free(set.v);
	mw_proc_collector_free(c);
}

#define NKIDS 7

static void test_reference(struct mw_proc_collector *c)
{
	enum pids_item items[R_COUNT] = {
	        [R_PPID] = PIDS_ID_PPID,      [R_EUID] = PIDS_ID_EUID,
	        [R_BEGAN] = PIDS_TICS_BEGAN,  [R_VSZ] = PIDS_VM_SIZE,
	        [R_RSS] = PIDS_VM_RSS,        [R_ANON] = PIDS_VM_RSS_ANON,
	        [R_FILE] = PIDS_VM_RSS_FILE,  [R_SHMEM] = PIDS_VM_RSS_SHARED,
	        [R_SWAP] = PIDS_VM_SWAP,      [R_STACK] = PIDS_VM_STACK,
	        [R_DATA] = PIDS_VM_DATA,      [R_NLWP] = PIDS_NLWP,
	        [R_MINFLT] = PIDS_FLT_MIN,    [R_MAJFLT] = PIDS_FLT_MAJ,
	        [R_CMDLINE] = PIDS_CMDLINE_V, [R_OOM] = PIDS_OOM_SCORE,
	        [R_ADJ] = PIDS_OOM_ADJ,       [R_CGROUP] = PIDS_CGROUP,
	};
	struct pids_info *ref = NULL;
	pid_t kids[NKIDS], zombie;
	int release[NKIDS];

	CHECK_EQ_I64(procps_pids_new(&ref, items, R_COUNT), 0);
	/*
	 * plain, hostile name, threaded, many descriptors, argv with empty,
	 * newline, "-" and non-UTF-8 arguments, argv of just "-", a retitled
	 * argument area without its final NUL and a raised oom_score_adj
	 */
	for (int i = 0; i < NKIDS; i++) {
		kids[i] = spawn(i, &release[i]);
		CHECK(kids[i] > 0);
	}
	zombie = fork();
	if (zombie == 0)
		_exit(0);
	/* Reaped by nobody yet: wait for the state to show Z without reaping it. */
	for (int tries = 0; tries < 2000; tries++) {
		char path[64], st[256] = "";
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)zombie);
		mw_read_file(path, st, sizeof(st), NULL);
		if (strstr(st, ") Z "))
			break;
		usleep(1000);
	}
	for (int i = 0; i < NKIDS; i++)
		if (kids[i] > 0)
			check_against_libproc2(c, ref, kids[i]);
	{
		struct mw_proc_sample m;
		CHECK_EQ_I64(mw_proc_collect_one(c, kids[6], &m), 0);
		CHECK_EQ_I64(m.m[MW_PM_oom_adj], 500);
		CHECK(strncmp(m.cmdline, "new title", 9) == 0);
		mw_proc_sample_release(&m);
		CHECK_EQ_I64(mw_proc_collect_one(c, kids[5], &m), 0);
		CHECK_EQ_STR(m.cmdline, "");
		mw_proc_sample_release(&m);
		CHECK_EQ_I64(mw_proc_collect_one(c, kids[4], &m), 0);
		CHECK_EQ_STR(m.cmdline, "/bin/sh -c read x  a b - \xff");
		mw_proc_sample_release(&m);
	}
	check_against_libproc2(c, ref, zombie);
	{
		struct mw_proc_sample z;
		CHECK_EQ_I64(mw_proc_collect_one(c, zombie, &z), 0);
		CHECK_EQ_I64(z.m[MW_PM_pte], MW_UNKNOWN);
		CHECK_EQ_I64(z.m[MW_PM_rss], 0);
		mw_proc_sample_release(&z);
	}
	{
		struct mw_proc_sample m;
		CHECK_EQ_I64(mw_proc_collect_one(c, kids[3], &m), 0);
		CHECK(m.m[MW_PM_fds] >= 40);
		mw_proc_sample_release(&m);
	}
	/* Later children hold earlier release pipes too: no EOF to wait for, so kill. */
	for (int i = 0; i < NKIDS; i++) {
		if (kids[i] <= 0)
			continue;
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		close(release[i]);
	}
	waitpid(zombie, NULL, 0);
	procps_pids_unref(&ref);
}

/*
 * The fd count is only known where the directory could be listed: a
 * process that is not root sees its own count, not root's (stat() of the
 * directory would tell it, but a listing is refused, and so it stays
 * unknown as it always was).
 */
static void test_fds_unprivileged(void)
{
	pid_t parent = getpid(), pid;
	int status = 0;

	if (geteuid() != 0) {
		printf("test_fds_unprivileged: not root, the fd rule is tested as root only\n");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct mw_proc_collector *c = NULL;
		struct mw_proc_sample s;
		int code = 0;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		if (mw_proc_collector_new("", &c) < 0)
			_exit(11);
		if (mw_proc_collect_one(c, parent, &s) != 0)
			code = 12;
		else if (s.m[MW_PM_fds] != MW_UNKNOWN)
			code = 13;
		else
			mw_proc_sample_release(&s);
		if (!code && mw_proc_collect_one(c, getpid(), &s) != 0)
			code = 14;
		/* A walk of one's own fd directory also counts the descriptor it reads it by. */
		else if (!code && s.m[MW_PM_fds] != mw_fd_count("", getpid()) - 1)
			code = 15;
		else if (!code)
			mw_proc_sample_release(&s);
		mw_proc_collector_free(c);
		_exit(code);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ_I64(WEXITSTATUS(status), 0);
}

static void check_cmdline(const char *raw, size_t len, const char *want)
{
	char buf[64];

	memcpy(buf, raw, len);
	CHECK_EQ_I64(mw_proc_cmdline_text(buf, len), strlen(want));
	CHECK_EQ_STR(buf, want);
}

static void test_cmdline_text(void)
{
	check_cmdline("a\0b\0", 4, "a b");
	check_cmdline("a\0\0b\0", 5, "a  b");       /* an empty argument */
	check_cmdline("a b\0c\nd\0", 8, "a b c d"); /* newlines split, as libproc2 did */
	check_cmdline("retitled", 8, "retitled");   /* no final NUL: nothing to drop */
	check_cmdline("x\0\0", 3, "x ");            /* only the last NUL is the terminator */
	check_cmdline("", 0, "");                   /* zombies, kernel threads */
	check_cmdline("-\0", 2, "");                /* libproc2's "no cmdline" */
	check_cmdline("-\0-\0", 4, "- -");
	check_cmdline("\xff\x1b[2J\0", 6, "\xff\x1b[2J"); /* bytes stay raw */
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

static void test_hostname(void)
{
	char root[] = "/tmp/mw-host-XXXXXX", path[128], name[256], local[256] = "";
	FILE *f;

	CHECK_EQ_I64(gethostname(local, sizeof(local)), 0);
	CHECK_EQ_I64(mw_hostname("", name, sizeof(name)), 0);
	CHECK_EQ_STR(name, local);
	/* A recorded tree names its own host, never this one. */
	CHECK(mkdtemp(root) != NULL);
	CHECK_EQ_I64(mw_hostname(root, name, sizeof(name)), -ENOENT);
	snprintf(path, sizeof(path), "%s/proc", root);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/proc/sys", root);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel", root);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/hostname", root);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("db-7.example\n", f);
		fclose(f);
	}
	CHECK_EQ_I64(mw_hostname(root, name, sizeof(name)), 0);
	CHECK_EQ_STR(name, "db-7.example");
	/* A name longer than the buffer is an error, not a shorter name. */
	CHECK_EQ_I64(mw_hostname(root, name, 5), -EFBIG);
	CHECK_EQ_I64(mw_hostname(root, name, 0), -EINVAL);
}

int main(int argc, char **argv)
{
	(void)argc;
	g_argv = argv;
	struct mw_proc_collector *c = NULL;

	CHECK_EQ_I64(mw_proc_collector_new("", &c), 0);
	test_self(c);
	test_sweep(c);
	test_hostile_name(c);
	test_vanished(c);
	test_status_parse();
	test_stat_parse();
	test_start_ticks(c);
	test_cmdline_text();
	test_status_parse_fields();
	test_reference(c);
	test_fds_unprivileged();
	test_held();
	test_cgroup_move();
	test_boot();
	test_hostname();
	mw_proc_collector_free(c);
	return check_done();
}
