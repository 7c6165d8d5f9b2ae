/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The eBPF monitor against the kernel it runs on: real programs, real
 * processes (tests/workloads), compared with /proc and libproc2.
 */
#include "check.h"
#include "config.h"
#include "memwatch/collect/bpfmon.h"
#include "memwatch/collect/proc.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

static int spawn(const char *name, char *const args[], struct child *c)
{
	char path[4096], line[256];
	char *argv[16] = {path};
	int to[2], from[2];

	snprintf(path, sizeof(path), "%s/%s", WORKLOADS_DIR, name);
	for (int i = 0; i < 14 && args[i]; i++)
		argv[i + 1] = args[i];
	if (pipe(to) < 0 || pipe(from) < 0)
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execv(path, argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = fdopen(from[0], "r");
	if (!c->out || !fgets(line, sizeof(line), c->out) || strncmp(line, "ready ", 6) != 0)
		return -EIO;
	return 0;
}

static void finish(struct child *c)
{
	int status;

	if (c->in >= 0)
		close(c->in);
	c->in = -1;
	if (c->out)
		fclose(c->out);
	c->out = NULL;
	if (c->pid > 0 && waitpid(c->pid, &status, 0) < 0)
		kill(c->pid, SIGKILL);
	c->pid = 0;
}

static int go(struct child *c, char *done, size_t cap)
{
	if (write(c->in, "go\n", 3) != 3)
		return -errno;
	if (!fgets(done, (int)cap, c->out))
		return -EIO;
	return strncmp(done, "done", 4) == 0 ? 0 : -EIO;
}

static const struct mw_bpf_proc *find(const struct mw_bpf_snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if ((pid_t)s->v[i].pid == pid)
			return &s->v[i];
	return NULL;
}

/* minflt (field 10) of /proc/PID/stat. */
static int64_t minflt_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (mw_read_file(path, buf, sizeof(buf), NULL) < 0 || !(p = strrchr(buf, ')')))
		return -1;
	/* after ")": state ppid pgrp session tty_nr tpgid flags minflt */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu", &v) != 1)
		return -1;
	return (int64_t)v;
}

static void test_fault_regions(struct mw_bpfmon *m)
{
	const size_t pages = 1000;
	char *args[] = {"--pages", "1000", "--for", "60", NULL};
	struct mw_bpf_snapshot a = {0}, b = {0};
	const struct mw_bpf_proc *pa, *pb;
	struct child c = {.in = -1};
	char done[128];
	int64_t f0, f1;

	CHECK(spawn("fault_regions", args, &c) == 0);
	CHECK(mw_bpfmon_snapshot(m, &a) == 0);
	f0 = minflt_of(c.pid);
	CHECK(go(&c, done, sizeof(done)) == 0);
	f1 = minflt_of(c.pid);
	CHECK(mw_bpfmon_snapshot(m, &b) == 0);
	pa = find(&a, c.pid);
	pb = find(&b, c.pid);
	CHECK(pa && pb && pa->has_state && pb->has_state);
	if (pa && pb) {
		int64_t heap = (int64_t)(pb->st.faults_heap - pa->st.faults_heap);
		int64_t stack = (int64_t)(pb->st.faults_stack - pa->st.faults_stack);
		int64_t mmap = (int64_t)(pb->st.faults_mmap - pa->st.faults_mmap);

		printf("fault_regions: %zu pages each; counted heap %lld stack %lld mmap %lld,"
		       " total %lld, minflt delta %lld\n",
		       pages, (long long)heap, (long long)stack, (long long)mmap,
		       (long long)(heap + stack + mmap), (long long)(f1 - f0));
		CHECK_NEAR(heap, pages, 0.05 * pages);
		CHECK_NEAR(stack, pages, 0.05 * pages);
		CHECK_NEAR(mmap, pages, 0.05 * pages);
		CHECK_NEAR(heap + stack + mmap, f1 - f0, 0.05 * (double)(f1 - f0));
		/* The same counter read two ways: iter/task against /proc/PID/stat. */
		CHECK_NEAR(pb->minflt, f1, 2);
	}
	mw_bpf_snapshot_release(&a);
	mw_bpf_snapshot_release(&b);
	finish(&c);
}

/* Start workload NAME, snapshot into a, let it run, snapshot into b: 0 or -1. */
static int run_between(struct mw_bpfmon *m, const char *name, char *args[], struct child *c,
                       struct mw_bpf_snapshot *a, struct mw_bpf_snapshot *b)
{
	char done[128];

	if (spawn(name, args, c) != 0 || mw_bpfmon_snapshot(m, a) != 0 ||
	    go(c, done, sizeof(done)) != 0 || mw_bpfmon_snapshot(m, b) != 0)
		return -1;
	return 0;
}

static void test_mmap_many(struct mw_bpfmon *m)
{
	const uint64_t n = 200, size = 65536;
	char *args[] = {"--count", "200", "--size", "65536", "--for", "60", NULL};
	struct mw_bpf_snapshot a = {0}, b = {0};
	const struct mw_bpf_proc *pa, *pb;
	struct child c = {.in = -1};

	CHECK(run_between(m, "mmap_many", args, &c, &a, &b) == 0);
	pa = find(&a, c.pid);
	pb = find(&b, c.pid);
	CHECK(pb && pb->has_state);
	if (pb) {
		static const struct mw_bpf_pstate zero;
		const struct mw_bpf_pstate *s0 = pa && pa->has_state ? &pa->st : &zero;
		printf("mmap_many: %llu x %llu B; counted %llu anon mappings, %llu B, %llu file\n",
		       (unsigned long long)n, (unsigned long long)size,
		       (unsigned long long)(pb->st.mmaps_anon - s0->mmaps_anon),
		       (unsigned long long)(pb->st.mmap_bytes_anon - s0->mmap_bytes_anon),
		       (unsigned long long)(pb->st.mmaps_file - s0->mmaps_file));
		CHECK_EQ_I64(pb->st.mmaps_anon - s0->mmaps_anon, n);
		CHECK_EQ_I64(pb->st.mmap_bytes_anon - s0->mmap_bytes_anon, n * size);
		CHECK_EQ_I64(pb->st.mmaps_file - s0->mmaps_file, 0);
	}
	mw_bpf_snapshot_release(&a);
	mw_bpf_snapshot_release(&b);
	finish(&c);
}

static const struct mw_proc_sample *find_sample(const struct mw_proc_set *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].pid == pid)
			return &s->v[i];
	return NULL;
}

/*
 * iter/task against libproc2 on the same processes: only those whose
 * libproc2 values did not move across the BPF read can be compared.
 */
static void test_snapshot_vs_libproc2(struct mw_bpfmon *m)
{
	struct mw_proc_collector *pc = NULL;
	struct mw_proc_set before = {0}, after = {0};
	struct mw_bpf_snapshot snap = {0};
	size_t compared = 0, off = 0;
	long hz = mw_clock_ticks_per_sec();
	/* Steady processes of our own: a guest of the kernel matrix runs few others. */
	char *args[] = {"--size", "8388608", "--for", "60", NULL};
	struct child quiet[5];

	for (size_t k = 0; k < MW_ARRAY_SIZE(quiet); k++) {
		quiet[k] = (struct child){.in = -1};
		CHECK(spawn("flat", args, &quiet[k]) == 0);
	}
	CHECK(mw_proc_collector_new("", &pc) == 0);
	if (!pc)
		goto out;
	CHECK(mw_proc_collect(pc, &before) == 0);
	CHECK(mw_bpfmon_snapshot(m, &snap) == 0);
	CHECK(mw_proc_collect(pc, &after) == 0);
	for (size_t i = 0; i < snap.n; i++) {
		const struct mw_bpf_proc *p = &snap.v[i];
		const struct mw_proc_sample *x = find_sample(&before, (pid_t)p->pid);
		const struct mw_proc_sample *y = find_sample(&after, (pid_t)p->pid);
		int64_t rss, anon;

		if (!x || !y || x->m[MW_PM_rss] != y->m[MW_PM_rss] ||
		    x->m[MW_PM_rss_anon] != y->m[MW_PM_rss_anon] ||
		    x->start_ticks != y->start_ticks)
			continue;
		compared++;
		CHECK_EQ_I64(mw_bpf_start_ticks(p->start_boottime_ns, hz), x->start_ticks);
		rss = (p->rss[MW_RSS_ANON] + p->rss[MW_RSS_FILE] + p->rss[MW_RSS_SHMEM]) * PAGE;
		anon = p->rss[MW_RSS_ANON] * PAGE;
		if (rss - x->m[MW_PM_rss] > PAGE || x->m[MW_PM_rss] - rss > PAGE ||
		    anon - x->m[MW_PM_rss_anon] > PAGE || x->m[MW_PM_rss_anon] - anon > PAGE) {
			off++;
			fprintf(stderr, "pid %u (%s): rss %lld vs %lld, anon %lld vs %lld\n",
			        p->pid, x->comm, (long long)rss, (long long)x->m[MW_PM_rss],
			        (long long)anon, (long long)x->m[MW_PM_rss_anon]);
		}
	}
	printf("iter/task vs libproc2: %zu processes in the BPF snapshot, %zu stable ones "
	       "compared, "
	       "%zu differ by more than a page\n",
	       snap.n, compared, off);
	CHECK(compared >= 5);
	CHECK_EQ_I64(off, 0);
	mw_bpf_snapshot_release(&snap);
	mw_proc_set_clear(&before);
	mw_proc_set_clear(&after);
	free(before.v);
	free(after.v);
	mw_proc_collector_free(pc);
out:
	for (size_t k = 0; k < MW_ARRAY_SIZE(quiet); k++) {
		if (quiet[k].pid > 0)
			kill(quiet[k].pid, SIGTERM);
		finish(&quiet[k]);
	}
}

/* Before 6.14 the exit tracepoint fires after exit_mm(): no final RSS (a named gap). */
static bool exit_has_rss(void)
{
	struct utsname u;
	int a = 0, b = 0;

	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &a, &b) == 2 &&
	       (a > 6 || (a == 6 && b >= 14));
}

/* Faults to touch n bytes at least: 2 MiB ones where THP is always on. */
static uint64_t min_faults(uint64_t n)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "[always]") ? n >> 21 : n >> 12;
}

struct exit_seen {
	pid_t pid;
	int found;
	struct mw_bpf_event e;
};

static int on_exit_event(const struct mw_bpf_event *e, void *ctx)
{
	struct exit_seen *s = ctx;

	if (e->kind == MW_EV_PROC_EXIT && (pid_t)e->pid == s->pid) {
		s->found++;
		s->e = *e;
	}
	return 0;
}

static void test_exit_event(struct mw_bpfmon *m)
{
	char *args[] = {"--size", "16777216", NULL};
	struct child c = {.in = -1};
	struct exit_seen seen = {0};

	CHECK(spawn("short_lived", args, &c) == 0);
	seen.pid = c.pid;
	finish(&c);
	CHECK(mw_bpfmon_drain(m, on_exit_event, &seen) >= 0);
	CHECK_EQ_I64(seen.found, 1);
	if (seen.found) {
		int64_t anon = seen.e.exit.rss[MW_RSS_ANON] * PAGE;
		printf("short_lived: exit with rss_anon %lld B, minflt %llu, lifetime %llu us\n",
		       (long long)anon, (unsigned long long)seen.e.exit.minflt,
		       (unsigned long long)(seen.e.exit.lifetime_ns / 1000));
		if (exit_has_rss()) {
			CHECK(anon >= 16 << 20);
			CHECK(anon < 24 << 20);
		} else {
			CHECK_EQ_I64(seen.e.exit.rss[MW_RSS_ANON], -1);
		}
		CHECK(seen.e.exit.minflt >= min_faults(16 << 20));
		CHECK(seen.e.exit.lifetime_ns > 0);
		CHECK_EQ_STR(seen.e.comm, "short_lived");
	}
}

static void test_vmas(struct mw_bpfmon *m)
{
	struct mw_bpf_vma *v = NULL;
	size_t n = 0, lines = 0, stack = 0;
	char *maps = NULL;

	CHECK(mw_bpfmon_vmas(m, getpid(), &v, &n) == 0);
	CHECK(mw_read_file_alloc("/proc/self/maps", &maps, NULL) == 0);
	for (const char *p = maps; p && *p; p++)
		lines += *p == '\n';
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_I64(v[i].pid, getpid());
		stack += v[i].kind == MW_VMA_STACK;
	}
	/* [vsyscall] is not a VMA of the mm; everything else is. */
	CHECK(n + 1 >= lines && n <= lines);
	CHECK_EQ_I64(stack, 1);
	free(maps);
	free(v);
	v = NULL;
	CHECK(mw_bpfmon_vmas(m, 0, &v, &n) == 0);
	CHECK(n > lines);
	free(v);
}

struct rss_seen {
	pid_t pid;
	int moves;
};

static int on_rss_move(const struct mw_bpf_event *e, void *ctx)
{
	struct rss_seen *s = ctx;

	if (e->kind == MW_EV_RSS_MOVE && (pid_t)e->pid == s->pid)
		s->moves++;
	return 0;
}

/* Swing RSS by 4 MiB (4 records' worth at 1 MiB) n times. */
static void swing_rss(int n)
{
	const size_t len = 4 << 20;

	for (int i = 0; i < n; i++) {
		volatile char *p =
		        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		for (size_t o = 0; o < len; o += PAGE)
			p[o] = 1;
		munmap((void *)p, len);
	}
	_exit(0);
}

/*
 * A process whose RSS swings past the threshold thousands of times a
 * second gets its records at the configured rate, and the rest counted.
 */
static void test_rss_rate(void)
{
	struct mw_bpfmon_options o;
	struct mw_bpfmon *m2 = NULL;
	struct mw_bpf_counters c;
	struct rss_seen seen = {0};
	char why[512] = "";
	uint64_t t0, t1;
	double limit;

	mw_bpfmon_options_default(&o);
	o.rss_rate = 10;
	o.rss_burst = 5;
	CHECK_EQ_I64(mw_bpfmon_open(&o, &m2, why, sizeof(why)), 0);
	if (!m2)
		return;
	t0 = mw_mono_ns();
	seen.pid = fork();
	if (seen.pid == 0)
		swing_rss(600);
	CHECK(seen.pid > 0 && waitpid(seen.pid, NULL, 0) == seen.pid);
	t1 = mw_mono_ns();
	CHECK(mw_bpfmon_drain(m2, on_rss_move, &seen) >= 0);
	mw_bpfmon_counters(m2, &c);
	limit = 5 + 10 * (double)(t1 - t0) / 1e9 + 1;
	printf("rss rate: 600 swings of 4 MiB in %.2f s: %d records (at most %.0f), %llu checks"
	       " held back\n",
	       (double)(t1 - t0) / 1e9, seen.moves, limit, (unsigned long long)c.rss_limited);
	CHECK(seen.moves >= 5);
	CHECK(seen.moves <= limit);
	/* Every swing crosses the threshold: each crossing is a record or held back. */
	CHECK((uint64_t)seen.moves + c.rss_limited >= 600);
	CHECK(c.rss_limited > 0);
	mw_bpfmon_close(m2);
}

/* New anonymous mappings counted for one run of mmap_many --count 50. */
static int64_t mappings_counted(struct mw_bpfmon *m)
{
	char *args[] = {"--count", "50", "--size", "65536", "--for", "60", NULL};
	struct mw_bpf_snapshot a = {0}, b = {0};
	const struct mw_bpf_proc *pa, *pb;
	struct child c = {.in = -1};
	int64_t n = -1;

	CHECK(run_between(m, "mmap_many", args, &c, &a, &b) == 0);
	pa = find(&a, c.pid);
	pb = find(&b, c.pid);
	if (pb)
		n = (int64_t)(pb->has_state ? pb->st.mmaps_anon : 0) -
		    (int64_t)(pa && pa->has_state ? pa->st.mmaps_anon : 0);
	mw_bpf_snapshot_release(&a);
	mw_bpf_snapshot_release(&b);
	finish(&c);
	return n;
}

/* Paused, the event programs see nothing; attached again, they count as before. */
static void test_pause(struct mw_bpfmon *m)
{
	int64_t paused, resumed;

	CHECK_EQ_I64(mw_bpfmon_pause(m, true), 0);
	paused = mappings_counted(m);
	CHECK_EQ_I64(mw_bpfmon_pause(m, false), 0);
	resumed = mappings_counted(m);
	printf("pause: %lld mappings counted while paused, %lld after\n", (long long)paused,
	       (long long)resumed);
	CHECK_EQ_I64(paused, 0);
	CHECK_EQ_I64(resumed, 50);
}

/* rss_stat is a second program on every fault: off by default, loaded when asked. */
static void test_rss_stat_hook(struct mw_bpfmon *m)
{
	struct mw_bpfmon_options o;
	struct mw_bpfmon *m2 = NULL;
	char why[512] = "";

	CHECK(strstr(mw_bpfmon_programs(m), "page_fault_user (tp_btf)") != NULL);
	CHECK(strstr(mw_bpfmon_programs(m), "rss_stat") == NULL);
	mw_bpfmon_options_default(&o);
	o.rss_stat_hook = true;
	CHECK_EQ_I64(mw_bpfmon_open(&o, &m2, why, sizeof(why)), 0);
	if (m2) {
		printf("with rss_stat_hook: %s\n", mw_bpfmon_programs(m2));
		CHECK(strstr(mw_bpfmon_programs(m2), "rss_stat (tp_btf)") != NULL);
	}
	mw_bpfmon_close(m2);
}

int main(void)
{
	struct mw_bpfmon *m = NULL;
	char why[512] = "";
	int r;

	if (!MW_HAVE_BPF)
		mw_skip("built without eBPF support");
	r = mw_bpfmon_open(NULL, &m, why, sizeof(why));
	if (r == -EPERM || r == -EACCES || (r < 0 && geteuid() != 0)) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	CHECK(r == 0);
	if (r < 0) {
		fprintf(stderr, "eBPF does not load: %s\n", why);
		return check_done();
	}
	test_snapshot_vs_libproc2(m);
	test_fault_regions(m);
	test_mmap_many(m);
	test_exit_event(m);
	test_vmas(m);
	test_rss_stat_hook(m);
	test_pause(m);
	test_rss_rate();
	mw_bpfmon_close(m);
	return check_done();
}
