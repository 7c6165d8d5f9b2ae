/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/trace.h"
#include "memwatch/collect/perfev.h"
#include "memwatch/collect/symbolize.h"
#include "memwatch/collect/unwind.h"
#include "memwatch/base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <string.h>

static const char *const syscalls[] = {
        "brk",    "mmap",    "munmap",    "mremap",       "madvise",         "shmget",
        "shmat",  "shmdt",   "shmctl",    "msgget",       "msgsnd",          "msgrcv",
        "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "memfd_create",
};
#define MAX_SAMPLED_THREADS 64

static const char *const alloc_fns[] = {"malloc", "calloc", "realloc", "free"};

/* Length of an instruction the kernel would emulate, or 0. */
static int emulated_len(const uint8_t *c, size_t len)
{
	if (len >= 1 && c[0] >= 0x50 && c[0] <= 0x57)
		return 1; /* push r64 */
	if (len >= 2 && c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57)
		return 2; /* push r8..r15 */
	if (len >= 2 && ((c[0] >= 0x70 && c[0] <= 0x7f) || c[0] == 0xeb))
		return 2; /* jcc/jmp rel8 */
	if (len >= 5 && (c[0] == 0xe8 || c[0] == 0xe9))
		return 5; /* call/jmp rel32 */
	if (len >= 6 && c[0] == 0x0f && c[1] >= 0x80 && c[1] <= 0x8f)
		return 6; /* jcc rel32 */
	if (len >= 1 && c[0] == 0x90)
		return 1; /* nop */
	return 0;
}

/* Length of a straight-line instruction safe to step over at function entry, or 0. */
static int skippable_len(const uint8_t *c, size_t len)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};

	if (len >= 4 && memcmp(c, endbr64, 4) == 0)
		return 4;
	/* test r64, r64 (REX.W [+R/B] 85, register-direct modrm): only flags change */
	if (len >= 3 && (c[0] & 0xfa) == 0x48 && c[1] == 0x85 && (c[2] & 0xc0) == 0xc0)
		return 3;
	/* test r32, r32 */
	if (len >= 2 && c[0] == 0x85 && (c[1] & 0xc0) == 0xc0)
		return 2;
	return 0;
}

int mw_uprobe_emulatable_offset(const uint8_t *code, size_t len)
{
	size_t at = 0;

	for (int i = 0; i < 3 && at < len; i++) {
		int n;
		if (emulated_len(code + at, len - at))
			return (int)at;
		n = skippable_len(code + at, len - at);
		if (!n)
			return -1;
		at += (size_t)n;
	}
	return -1;
}

static int find_libc(pid_t pid, char *out, size_t cap)
{
	char path[64], line[4096];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *name = strchr(line, '/');
		const char *base;
		if (!name)
			continue;
		name[strcspn(name, "\n")] = '\0';
		base = strrchr(name, '/') + 1;
		if (strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0) {
			/* Through the process's root, so a container's libc is the one probed. */
			snprintf(out, cap, "/proc/%d/root%s", (int)pid, name);
			if (access(out, R_OK) != 0)
				snprintf(out, cap, "%s", name);
			return 0;
		}
	}
	return -ENOENT;
}

static int count_threads(pid_t pid, size_t *n)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	*n = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			(*n)++;
	return 0;
}

static int plan_uprobes(struct mw_trace *t)
{
	for (size_t i = 0; i < MW_ARRAY_SIZE(alloc_fns); i++) {
		struct mw_trace_hook *h = &t->hooks[t->nhooks];
		uint8_t code[16];
		uint64_t off, size;
		_cleanup_close_ int fd = -1;
		int adj;

		if (mw_elf_symbol_offset(t->libc, alloc_fns[i], &off, &size) < 0)
			continue;
		fd = open(t->libc, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		adj = pread(fd, code, sizeof(code), (off_t)off) == (ssize_t)sizeof(code)
		              ? mw_uprobe_emulatable_offset(code, sizeof(code))
		              : -1;
		*h = (struct mw_trace_hook){.uprobe = true, .offset = off};
		snprintf(h->name, sizeof(h->name), "%s", alloc_fns[i]);
		if (strcmp(alloc_fns[i], "malloc") == 0)
			t->malloc_offset = off; /* sampled at entry: rdi is the size */
		if (adj > 0 && (uint64_t)adj < size) {
			h->offset += (uint64_t)adj;
			h->skipped = adj;
		}
		t->nhooks++;
	}
	return 0;
}

int mw_trace_plan(pid_t pid, uint64_t sample_every, struct mw_trace *t, char *why, size_t whylen)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->sample_every = sample_every;
	t->period = 64;
	t->depth = 8;
	r = count_threads(pid, &t->nthreads);
	if (r < 0) {
		snprintf(why, whylen, "no process with pid %d", (int)pid);
		return r;
	}
	for (size_t i = 0; i < MW_ARRAY_SIZE(syscalls) && t->nhooks < MW_TRACE_MAX_HOOKS; i++) {
		char ev[64];
		uint64_t id;
		snprintf(ev, sizeof(ev), "sys_enter_%s", syscalls[i]);
		if (mw_tracepoint_id("syscalls", ev, &id) < 0)
			continue;
		t->hooks[t->nhooks] = (struct mw_trace_hook){.offset = id};
		snprintf(t->hooks[t->nhooks].name, sizeof(t->hooks[0].name), "%s", syscalls[i]);
		t->nhooks++;
	}
	if (find_libc(pid, t->libc, sizeof(t->libc)) == 0) {
		r = plan_uprobes(t);
		if (r < 0) {
			snprintf(why, whylen, "%s: %s", t->libc, strerror(-r));
			return r;
		}
	}
	if (t->nhooks == 0) {
		snprintf(why, whylen,
		         "no syscall tracepoint and no libc allocator found to attach");
		return -ENOENT;
	}
	return 0;
}

static int open_hook(const struct mw_trace *t, const struct mw_trace_hook *h, uint32_t uprobe_type,
                     pid_t tid, struct mw_perfev **out)
{
	struct mw_perfev_options o = {.pid = tid, .cpu = -1};

	if (h->uprobe) {
		o.type = uprobe_type;
		o.config1 = (uint64_t)(uintptr_t)t->libc;
		o.config2 = h->offset;
	} else {
		o.type = PERF_TYPE_TRACEPOINT;
		o.config = h->offset;
	}
	return mw_perfev_open(&o, out);
}

static int open_sampler(struct mw_trace *t, uint32_t uprobe_type, pid_t tid, char *why,
                        size_t whylen)
{
	struct mw_perfev_options o = {
	        .type = uprobe_type,
	        .config1 = (uint64_t)(uintptr_t)t->libc,
	        .config2 = t->malloc_offset,
	        .pid = tid,
	        .cpu = -1,
	        .inherit = false, /* new threads are attached by the rescan */
	        .sample = true,
	        .period = t->period,
	        .stack_bytes = 8192,
	        .ring_pages = 64,
	        .wakeup_events = 64,
	};
	struct mw_perfev **v = realloc(t->sev, (t->nsev + 1) * sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	t->sev = v;
	if (!t->uw && (r = mw_unwinder_new(&t->uw)) < 0)
		return r;
	r = mw_perfev_open(&o, &t->sev[t->nsev]);
	if (r == -ESRCH)
		return 0;
	if (r < 0) {
		snprintf(why, whylen, "sample malloc in thread %d: %s", (int)tid, strerror(-r));
		return r;
	}
	t->nsev++;
	return 0;
}

static bool known_tid(const struct mw_trace *t, pid_t tid)
{
	for (size_t i = 0; i < t->ntids; i++)
		if (t->tids[i] == tid)
			return true;
	return false;
}

/* Open every hook on one thread (a slot of nhooks events; NULL where it cannot be). */
static int attach_thread(struct mw_trace *t, pid_t tid, char *why, size_t whylen)
{
	struct mw_perfev **ev = realloc(t->ev, (t->nev + t->nhooks) * sizeof(*ev));
	pid_t *tids = realloc(t->tids, (t->ntids + 1) * sizeof(*tids));
	int r = 0;

	if (ev)
		t->ev = ev;
	if (tids)
		t->tids = tids;
	if (!ev || !tids)
		return -ENOMEM;
	t->tids[t->ntids++] = tid;
	for (size_t h = 0; h < t->nhooks; h++) {
		struct mw_perfev **slot = &t->ev[t->nev++];
		*slot = NULL;
		if (r < 0 || (t->hooks[h].uprobe && !t->uprobe_type))
			continue;
		r = open_hook(t, &t->hooks[h], t->uprobe_type, tid, slot);
		if (r == -ESRCH) {
			r = 0; /* the thread ended meanwhile */
		} else if (r < 0) {
			snprintf(why, whylen, "attach %s to thread %d: %s", t->hooks[h].name,
			         (int)tid, strerror(-r));
		}
	}
	/* Rings are locked memory: the first threads are enough to find the sites. */
	if (r == 0 && t->sample_every && t->malloc_offset && t->uprobe_type &&
	    t->nsev < MAX_SAMPLED_THREADS)
		r = open_sampler(t, t->uprobe_type, tid, why, whylen);
	return r;
}

/*
 * Attach to threads not seen yet. Counting events are per thread and not
 * inherited: the kernel folds an inherited copy's count into its parent
 * only when the thread exits, so a live new thread's calls would be
 * missing from a read. Threads that live and die between two scans
 * (200 ms) are missed; the summary says how many threads were covered.
 */
int mw_trace_rescan(struct mw_trace *t, char *why, size_t whylen)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "pid %d: %s", (int)t->pid, strerror(errno));
		return -errno;
	}
	while (r == 0 && (e = readdir(d))) {
		int64_t tid;
		if (e->d_name[0] == '.' || mw_parse_i64(e->d_name, &tid) < 0 ||
		    known_tid(t, (pid_t)tid))
			continue;
		r = attach_thread(t, (pid_t)tid, why, whylen);
	}
	t->nthreads = t->ntids;
	return r;
}

int mw_trace_attach(struct mw_trace *t, char *why, size_t whylen)
{
	int r;

	if (mw_uprobe_pmu_type(&t->uprobe_type) < 0)
		t->uprobe_type = 0;
	r = mw_trace_rescan(t, why, whylen);
	if (r < 0)
		mw_trace_detach(t);
	return r;
}

static int add_site(struct mw_trace *t, const char *joined, uint64_t size, uint64_t weight)
{
	struct mw_trace_site *v;

	for (size_t i = 0; i < t->nsites; i++)
		if (strcmp(t->sites[i].frames, joined) == 0) {
			t->sites[i].samples += weight;
			t->sites[i].size_sum += size * weight;
			return 0;
		}
	v = realloc(t->sites, (t->nsites + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->sites = v;
	v[t->nsites].frames = strdup(joined);
	if (!v[t->nsites].frames)
		return -ENOMEM;
	v[t->nsites].samples = weight;
	v[t->nsites].size_sum = size * weight;
	v[t->nsites].calls = v[t->nsites].bytes = 0;
	t->nsites++;
	return 0;
}

static void on_malloc_sample(void *arg, const struct mw_perf_sample *s)
{
	struct mw_trace *t = arg;
	struct mw_stack_snapshot snap;
	char frames[16][MW_FRAME_MAX], joined[16 * MW_FRAME_MAX];
	size_t o = 0;
	int n;

	if (!s->has_regs)
		return;
	t->samples++;
	memcpy(snap.regs, s->regs, sizeof(snap.regs));
	snap.stack = s->stack;
	snap.stack_len = s->stack ? s->stack_len : 0;
	n = mw_unwind(t->uw, t->pid, &snap, frames, t->depth < 16 ? t->depth : 16);
	if (n < 1) {
		t->unwind_failed++;
		return;
	}
	/* Frame 0 is malloc itself: the site starts at its caller. */
	for (int i = n > 1 ? 1 : 0; i < n; i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s", o ? "\n" : "",
		                      frames[i]);
	add_site(t, joined, s->regs[5] /* rdi: malloc's size argument */, 1);
}

static int site_cmp(const void *a, const void *b)
{
	const struct mw_trace_site *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/*
 * Keep about sample_every samples per second whatever the malloc rate:
 * the period follows the exact count of the last interval.
 */
static void adapt_period(struct mw_trace *t, uint64_t mallocs)
{
	uint64_t now = mw_mono_ns(), period;

	if (t->period_t0 && now > t->period_t0) {
		double rate =
		        (double)(mallocs - t->period_count) * 1e9 / (double)(now - t->period_t0);
		period = (uint64_t)(rate / (double)t->sample_every) + 1;
		if (period != t->period)
			for (size_t i = 0; i < t->nsev; i++)
				ioctl(mw_perfev_fd(t->sev[i]), PERF_EVENT_IOC_PERIOD, &period);
		t->period = period;
	}
	t->period_t0 = now;
	t->period_count = mallocs;
}

/* Scale sampled sites to the exact malloc count: each sample stands for count/samples calls. */
static void scale_sites(struct mw_trace *t, uint64_t mallocs)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->nsites; i++)
		n += t->sites[i].samples;
	for (size_t i = 0; i < t->nsites && n; i++) {
		double share = (double)mallocs / (double)n;
		t->sites[i].calls = (uint64_t)((double)t->sites[i].samples * share + 0.5);
		t->sites[i].bytes = (uint64_t)((double)t->sites[i].size_sum * share + 0.5);
	}
	if (t->nsites > 1)
		mw_qsort(t->sites, t->nsites, sizeof(*t->sites), site_cmp);
}

int mw_trace_read(struct mw_trace *t)
{
	uint64_t mallocs = 0;

	for (size_t i = 0; i < t->nsev; i++)
		mw_perfev_drain(t->sev[i], on_malloc_sample, t, &t->sample_lost, NULL);
	for (size_t h = 0; h < t->nhooks; h++)
		t->hooks[h].count = 0;
	for (size_t i = 0; i < t->nev; i++) {
		uint64_t v;
		if (t->ev[i] && mw_perfev_read_count(t->ev[i], &v) == 0)
			t->hooks[i % t->nhooks].count += v;
	}
	for (size_t h = 0; h < t->nhooks; h++)
		if (t->hooks[h].uprobe && strcmp(t->hooks[h].name, "malloc") == 0)
			mallocs = t->hooks[h].count;
	if (t->nsev)
		adapt_period(t, mallocs);
	scale_sites(t, mallocs);
	return 0;
}

void mw_trace_release(struct mw_trace *t)
{
	mw_trace_detach(t);
	for (size_t i = 0; i < t->nsites; i++)
		free(t->sites[i].frames);
	free(t->sites);
	t->sites = NULL;
	t->nsites = 0;
	mw_unwinder_free(t->uw);
	t->uw = NULL;
}

void mw_trace_detach(struct mw_trace *t)
{
	for (size_t i = 0; i < t->nsev; i++)
		mw_perfev_close(t->sev[i]);
	free(t->sev);
	t->sev = NULL;
	t->nsev = 0;
	for (size_t i = 0; i < t->nev; i++)
		mw_perfev_close(t->ev[i]);
	free(t->ev);
	t->ev = NULL;
	t->nev = 0;
	free(t->tids);
	t->tids = NULL;
	t->ntids = 0;
}
