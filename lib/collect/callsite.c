/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call-site tracker: capture, reconcile, unwind. What it finds goes out
 * through a struct mw_callsite_sink; the store's is lib/store/callsitestore.c.
 */
#include "config.h"
#include "memwatch/collect/callsite.h"
#include "memwatch/base/log.h"
#include "memwatch/collect/perfev.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/unwind.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#if MW_HAVE_BPF
#include <bpf/libbpf.h>

#include "mwbpf.h"
#endif

#define MAX_CPUS              256
#define MW_CALLSITE_MAX_MUTED 32
/* Skips per second that make a thread a storm, and how long it stays muted. */
#define STORM_SKIPS 1000
#define MUTE_NS     (10ull * 1000000000ull)

enum {
	KIND_UNKNOWN = MW_MAPS_UNKNOWN,
	KIND_ANON = MW_MAPS_ANON,
	KIND_HEAP = MW_MAPS_HEAP,
	KIND_FILE = MW_MAPS_FILE,
	KIND_OTHER = MW_MAPS_OTHER,
};
static const char *const kind_names[] = {"other", "anon", "heap", "file", "other"};

struct cs_map {
	uint64_t addr, len, t_ns, gone_ns;
	uint32_t stack; /* NO_STACK until unwound */
	uint8_t kind;
	uint8_t sightings; /* reconciles that found it mapped */
	bool reconciled, gone;
	int64_t row;
	/* regs + stack bytes, kept until a reconcile finds the mapping still there */
	uint8_t *snap;
	uint32_t snap_len;
};

#define NO_STACK UINT32_MAX
/* Snapshot bytes waiting for a reconcile, machine-wide (beyond: skipped). */
#define PENDING_CAP (4u << 20)

struct cs_proc {
	pid_t pid;
	uint64_t start_ticks;
	uint64_t exe_dev, exe_ino; /* changes on exec (of another binary) */
	double tokens;
	uint64_t refill_ns;
	uint64_t samples, taken, recorded, skipped, w_samples, w_recorded, w_skipped;
	bool dead;
	/* skips in the current one-second window, to spot a storm */
	uint64_t storm_t0, storm_skips;
	struct cs_map *m;
	size_t n, cap;
};

struct cs_stack {
	uint64_t hash;
	char *frames; /* joined by '\n' */
	uint32_t depth;
	int64_t row;
};

struct mw_callsite_tracker {
	struct mw_callsite_options o;
	struct mw_perfev *ev[MAX_CPUS];
	size_t nev;
	int epfd;
	uint64_t id_unmapped;
	struct mw_unwinder *uw;
	struct cs_proc **procs;
	size_t nprocs, capprocs;
	struct cs_stack *stacks;
	size_t nstacks, capstacks;
	uint32_t *index; /* open addressing over stacks, value = idx + 1 */
	size_t index_cap;
	uint64_t last_reconcile;
	struct mw_callsite_counters c, written; /* written: as last stored, ring drops included */
	size_t pending_bytes;
	pid_t self;
	char (*frames)[MW_FRAME_MAX];
	uint64_t keys[MW_CALLSITE_MAX_DEPTH]; /* of frames: what a stack is interned by */
	/*
	 * Threads whose mapping storms are filtered out in the kernel for a
	 * while: their samples would cost them a stack copy each and fill the
	 * shared rings, so other processes' events would be lost. A counting
	 * event per cpu keeps their skipped count exact.
	 */
	struct mute {
		pid_t tid, pid;
		uint64_t until_ns;
		struct mw_perfev *cnt[MAX_CPUS];
	} mutes[MW_CALLSITE_MAX_MUTED];
	size_t nmutes;
	bool filter_dirty;
	bool adopted;                /* open rows of an earlier run taken over */
	struct ring_buffer *snap_rb; /* snapshots from the eBPF programs, or NULL: perf events */
	uint64_t kernel_dropped;     /* eBPF snapshots the full ring refused (their counter) */
	int ncpu_ev[MAX_CPUS];       /* cpu number of each ring event */
};

static void unmute_due(struct mw_callsite_tracker *t, uint64_t now_ns, bool all);
static int open_snap_ring(struct mw_callsite_tracker *t, int map_fd);
static void on_sample(void *arg, const struct mw_perf_sample *s);

void mw_callsite_options_default(struct mw_callsite_options *o)
{
	*o = (struct mw_callsite_options){
	        .stack_bytes = MW_CALLSITE_DEFAULT_STACK,
	        .rate_per_s = MW_CALLSITE_DEFAULT_RATE,
	        .burst = MW_CALLSITE_DEFAULT_BURST,
	        .depth = MW_CALLSITE_DEFAULT_DEPTH,
	        .reconcile_ns = MW_CALLSITE_DEFAULT_RECONCILE,
	        .ring_pages = 128,
	};
}

static int env_num(const char *name, double lo, double hi, double *v, char *why, size_t whylen)
{
	const char *s = getenv(name);
	char *end;
	double x;

	if (!s || !*s)
		return 0;
	errno = 0;
	x = strtod(s, &end);
	if (errno || *end || !(x >= lo && x <= hi)) {
		snprintf(why, whylen, "%s='%s': expected a number from %g to %g", name, s, lo, hi);
		return -EINVAL;
	}
	*v = x;
	return 1;
}

int mw_callsite_options_from_env(struct mw_callsite_options *o, char *why, size_t whylen)
{
	const char *src;
	double v;
	int r;

	if ((r = env_num("MEMWATCH_CALLSITE_STACK", 1024, 65528, &v, why, whylen)) < 0)
		return r;
	if (r)
		o->stack_bytes = (uint32_t)v & ~7u;
	if ((r = env_num("MEMWATCH_CALLSITE_RATE", 0.001, 1e6, &v, why, whylen)) < 0)
		return r;
	if (r)
		o->rate_per_s = v;
	if ((r = env_num("MEMWATCH_CALLSITE_BURST", 1, 1e6, &v, why, whylen)) < 0)
		return r;
	if (r)
		o->burst = v;
	if ((r = env_num("MEMWATCH_CALLSITE_DEPTH", 1, MW_CALLSITE_MAX_DEPTH, &v, why, whylen)) < 0)
		return r;
	if (r)
		o->depth = (unsigned)v;
	if ((r = env_num("MEMWATCH_CALLSITE_RECONCILE", 0.1, 86400, &v, why, whylen)) < 0)
		return r;
	if (r)
		o->reconcile_ns = (uint64_t)(v * 1e9);
	src = getenv("MEMWATCH_CALLSITE_SOURCE");
	if (src && strcmp(src, "auto") != 0 && strcmp(src, "perf") != 0) {
		snprintf(why, whylen, "MEMWATCH_CALLSITE_SOURCE='%s': expected auto or perf", src);
		return -EINVAL;
	}
	o->perf_only = src && strcmp(src, "perf") == 0;
	return 0;
}

static int open_ring(struct mw_callsite_tracker *t, int cpu, const char *filter,
                     struct mw_perfev **out)
{
	struct mw_perfev_options po = {
	        .type = PERF_TYPE_TRACEPOINT,
	        .config = t->id_unmapped,
	        .pid = -1,
	        .cpu = cpu,
	        .sample = true,
	        .period = 1,
	        .stack_bytes = t->o.stack_bytes,
	        .raw = true,
	        .ring_pages = t->o.ring_pages,
	        .wakeup_events = 1,
	        .filter = filter,
	};
	struct epoll_event ee = {.events = EPOLLIN};
	int r;

	r = mw_perfev_open(&po, out);
	if (r < 0)
		return r;
	ee.data.ptr = *out;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, mw_perfev_fd(*out), &ee) < 0) {
		r = -errno;
		mw_perfev_close(*out);
		return r;
	}
	return 0;
}

static int open_cpu(struct mw_callsite_tracker *t, int cpu, const char *filter)
{
	struct mw_perfev *main_ev;
	int r = open_ring(t, cpu, filter, &main_ev);

	if (r < 0)
		return r;
	t->ncpu_ev[t->nev] = cpu;
	t->ev[t->nev++] = main_ev;
	return 0;
}

int mw_callsite_tracker_new(const struct mw_callsite_options *o, int snap_fd,
                            struct mw_callsite_tracker **out, char *why, size_t whylen)
{
	struct mw_callsite_tracker *t = calloc(1, sizeof(*t));
	char filter[64];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	int r;

	if (!t)
		return -ENOMEM;
	t->o = *o;
	t->self = getpid();
	t->epfd = -1;
	t->frames = calloc(MW_CALLSITE_MAX_DEPTH, MW_FRAME_MAX);
	if (!t->frames || (r = mw_unwinder_new(&t->uw)) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		r = -errno;
		goto fail;
	}
	if (snap_fd >= 0) {
		r = open_snap_ring(t, snap_fd);
		if (r < 0) {
			snprintf(why, whylen, "eBPF snapshot ring: %s", strerror(-r));
			goto fail;
		}
		*out = t;
		return 0;
	}
	if ((r = mw_tracepoint_id("mmap", "vm_unmapped_area", &t->id_unmapped)) < 0) {
		snprintf(why, whylen, "tracefs: tracepoint mmap:vm_unmapped_area: %s",
		         strerror(-r));
		goto fail;
	}
	/* Our own mappings (SQLite) would only describe the observer. */
	snprintf(filter, sizeof(filter), "common_pid != %d", (int)t->self);
	for (long cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
		r = open_cpu(t, (int)cpu, filter);
		if (r == -ENODEV || r == -EINVAL)
			continue; /* offline cpu */
		if (r < 0) {
			snprintf(why, whylen, "perf_event_open on cpu %ld: %s%s", cpu, strerror(-r),
			         r == -EACCES || r == -EPERM ? " (needs root or CAP_PERFMON)" : "");
			goto fail;
		}
	}
	if (t->nev == 0) {
		snprintf(why, whylen, "no cpu accepted the tracepoint events");
		r = -ENODEV;
		goto fail;
	}
	*out = t;
	return 0;
fail:
	mw_callsite_tracker_free(t);
	return r;
}

static void proc_free(struct cs_proc *p)
{
	if (p) {
		for (size_t i = 0; i < p->n; i++)
			free(p->m[i].snap);
		free(p->m);
		free(p);
	}
}

void mw_callsite_tracker_free(struct mw_callsite_tracker *t)
{
	if (!t)
		return;
	unmute_due(t, 0, true);
	for (size_t i = t->nev; i-- > 0;)
		mw_perfev_close(t->ev[i]);
#if MW_HAVE_BPF
	ring_buffer__free(t->snap_rb);
#endif
	if (t->epfd >= 0)
		close(t->epfd);
	for (size_t i = 0; i < t->nprocs; i++)
		proc_free(t->procs[i]);
	free(t->procs);
	for (size_t i = 0; i < t->nstacks; i++)
		free(t->stacks[i].frames);
	free(t->stacks);
	free(t->index);
	free(t->frames);
	mw_unwinder_free(t->uw);
	free(t);
}

int mw_callsite_tracker_fd(const struct mw_callsite_tracker *t)
{
	return t->epfd;
}

void mw_callsite_tracker_counters(const struct mw_callsite_tracker *t,
                                  struct mw_callsite_counters *c)
{
	*c = t->c;
	c->lost += t->kernel_dropped;
}

void mw_callsite_tracker_set_dropped(struct mw_callsite_tracker *t, uint64_t n)
{
	t->kernel_dropped = n;
}

static void read_exe(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	} else {
		*dev = *ino = 0;
	}
}

static struct cs_proc *proc_get(struct mw_callsite_tracker *t, pid_t pid, uint64_t now_ns)
{
	struct cs_proc *p;

	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i]->pid == pid && !t->procs[i]->dead)
			return t->procs[i];
	if (t->nprocs == t->capprocs) {
		size_t cap = t->capprocs ? 2 * t->capprocs : 16;
		struct cs_proc **v = realloc(t->procs, cap * sizeof(*v));
		if (!v)
			return NULL;
		t->procs = v;
		t->capprocs = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	/* Perf events and eBPF see the live system: so does the tracker, under no root prefix. */
	if (mw_proc_start_ticks("", pid, &p->start_ticks) < 0) {
		free(p);
		return NULL; /* gone already: nothing to reconcile against */
	}
	p->pid = pid;
	read_exe(pid, &p->exe_dev, &p->exe_ino);
	p->tokens = t->o.burst;
	p->refill_ns = now_ns;
	t->procs[t->nprocs++] = p;
	return p;
}

static bool take_token(const struct mw_callsite_options *o, struct cs_proc *p, uint64_t now_ns)
{
	if (now_ns > p->refill_ns) {
		p->tokens += o->rate_per_s * (double)(now_ns - p->refill_ns) / 1e9;
		if (p->tokens > o->burst)
			p->tokens = o->burst;
		p->refill_ns = now_ns;
	}
	if (p->tokens < 1.0)
		return false;
	p->tokens -= 1.0;
	return true;
}

static int index_insert(struct mw_callsite_tracker *t, uint64_t hash, uint32_t idx)
{
	size_t mask;

	if (2 * (t->nstacks + 1) > t->index_cap) {
		size_t cap = t->index_cap ? 2 * t->index_cap : 256;
		uint32_t *v = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		free(t->index);
		t->index = v;
		t->index_cap = cap;
		for (size_t i = 0; i < t->nstacks; i++) {
			size_t k = t->stacks[i].hash & (cap - 1);
			while (v[k])
				k = (k + 1) & (cap - 1);
			v[k] = (uint32_t)i + 1;
		}
	}
	mask = t->index_cap - 1;
	for (size_t k = hash & mask;; k = (k + 1) & mask)
		if (!t->index[k]) {
			t->index[k] = idx + 1;
			return 0;
		}
}

/* The index (+1) of the interned stack with this hash, or 0. */
static uint32_t stack_find(const struct mw_callsite_tracker *t, uint64_t hash)
{
	if (t->index_cap)
		for (size_t k = hash & (t->index_cap - 1); t->index[k];
		     k = (k + 1) & (t->index_cap - 1))
			if (t->stacks[t->index[k] - 1].hash == hash)
				return t->index[k];
	return 0;
}

/* Add a stack; the tracker takes text (freed here on failure, with the tracker otherwise). */
static int stack_add(struct mw_callsite_tracker *t, uint64_t hash, char *text, uint32_t depth,
                     int64_t row, uint32_t *out)
{
	if (!text)
		return -ENOMEM;
	if (t->nstacks == t->capstacks) {
		size_t cap = t->capstacks ? 2 * t->capstacks : 64;
		struct cs_stack *v = realloc(t->stacks, cap * sizeof(*v));
		if (!v) {
			free(text);
			return -ENOMEM;
		}
		t->stacks = v;
		t->capstacks = cap;
	}
	if (index_insert(t, hash, (uint32_t)t->nstacks) < 0) {
		free(text);
		return -ENOMEM;
	}
	t->stacks[t->nstacks] = (struct cs_stack){hash, text, depth, row};
	*out = (uint32_t)t->nstacks++;
	/* cppcheck-suppress memleak */
	return 0;
}

/* The interned stack of these frames (by their keys: the same path in any process is one stack). */
static int intern_stack(struct mw_callsite_tracker *t, size_t n, uint32_t *out)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t len = 0, o = 0;
	uint32_t found;
	char *joined;

	/*
	 * By module and ELF address, not by the names: a stack whose symbols
	 * read differently (debuginfo found later, another build of the
	 * names) is still one stack.
	 */
	for (size_t i = 0; i < n; i++) {
		h ^= t->keys[i];
		h *= 0x100000001b3ull;
		len += strlen(t->frames[i]) + 1;
	}
	found = stack_find(t, h);
	if (found) {
		*out = found - 1;
		return 0;
	}
	joined = malloc(len + 1);
	if (!joined)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(joined + o, i + 1 < n ? "%s\n" : "%s", t->frames[i]);
	joined[o] = '\0';
	return stack_add(t, h, joined, (uint32_t)n, 0, out);
}

/* A new mapping over a tracked one proves the old one was unmapped. */
static void proc_invalidate(struct mw_callsite_tracker *t, struct cs_proc *p, uint64_t addr,
                            uint64_t len, uint64_t t_ns)
{
	size_t keep = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct cs_map *m = &p->m[i];
		if (!m->gone && m->addr < addr + len && addr < m->addr + m->len) {
			m->gone = true;
			m->gone_ns = t_ns;
		}
		/* Never stored: forget it now, snapshot and all (a storm's memory). */
		if (m->gone && !m->row) {
			if (m->snap) {
				t->pending_bytes -= m->snap_len;
				free(m->snap);
			}
			t->c.transient++;
			continue;
		}
		p->m[keep++] = *m;
	}
	p->n = keep;
}

static int proc_add_map(struct cs_proc *p, uint64_t addr, uint64_t len, uint64_t t_ns,
                        uint8_t *snap, uint32_t snap_len)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct cs_map *v = realloc(p->m, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->m = v;
		p->cap = cap;
	}
	p->m[p->n++] = (struct cs_map){.addr = addr,
	                               .len = len,
	                               .t_ns = t_ns,
	                               .stack = NO_STACK,
	                               .snap = snap,
	                               .snap_len = snap_len};
	return 0;
}

static uint64_t mono_to_real_ns(uint64_t mono)
{
	uint64_t now_m = mw_mono_ns(), now_r = mw_now_ns();

	return mono <= now_m ? now_r - (now_m - mono) : now_r;
}

/* The ring filter: never ourselves, never a muted thread. */
static int apply_filter(struct mw_callsite_tracker *t)
{
	char filter[64 + 32 * MW_CALLSITE_MAX_MUTED];
	size_t o;
	int r = 0;

	o = (size_t)snprintf(filter, sizeof(filter), "common_pid != %d", (int)t->self);
	for (size_t i = 0; i < t->nmutes; i++)
		o += (size_t)snprintf(filter + o, sizeof(filter) - o, " && common_pid != %d",
		                      (int)t->mutes[i].tid);
	/*
	 * The kernel sets a perf event's filter once (EEXIST after): open
	 * each cpu's ring anew with the new filter, then drain and close the
	 * old one. An event caught by both is seen twice, which is harmless
	 * (the second copy of a mapping replaces the first).
	 */
	for (size_t i = 0; i < t->nev; i++) {
		struct mw_perfev *ne;
		int q = open_ring(t, t->ncpu_ev[i], filter, &ne);
		if (q < 0) {
			mw_debug("callsite: filter '%s' on cpu %d: %s", filter, t->ncpu_ev[i],
			         strerror(-q));
			r = q;
			continue;
		}
		mw_perfev_drain(t->ev[i], on_sample, t, &t->c.lost, &t->c.throttled);
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, mw_perfev_fd(t->ev[i]), NULL);
		mw_perfev_close(t->ev[i]);
		t->ev[i] = ne;
	}
	return r;
}

static void mute(struct mw_callsite_tracker *t, pid_t pid, pid_t tid, uint64_t now_ns)
{
	struct mute *m;
	char filter[48];

	if (t->nmutes == MW_CALLSITE_MAX_MUTED)
		return;
	for (size_t i = 0; i < t->nmutes; i++)
		if (t->mutes[i].tid == tid)
			return;
	m = &t->mutes[t->nmutes];
	memset(m, 0, sizeof(*m));
	m->tid = tid;
	m->pid = pid;
	m->until_ns = now_ns + MUTE_NS;
	snprintf(filter, sizeof(filter), "common_pid == %d", (int)tid);
	for (size_t i = 0; i < t->nev; i++) {
		struct mw_perfev_options po = {.type = PERF_TYPE_TRACEPOINT,
		                               .config = t->id_unmapped,
		                               .pid = -1,
		                               .cpu = t->ncpu_ev[i],
		                               .filter = filter};
		if (mw_perfev_open(&po, &m->cnt[i]) < 0)
			m->cnt[i] = NULL;
	}
	t->nmutes++;
	/* Applied after the drain: reopening the rings under a drain would pull them away. */
	t->filter_dirty = true;
	mw_debug("callsite: pid %d thread %d maps too fast: muted for %llu s", (int)pid, (int)tid,
	         MUTE_NS / 1000000000ull);
}

static struct cs_proc *proc_find(struct mw_callsite_tracker *t, pid_t pid)
{
	for (size_t i = 0; i < t->nprocs; i++)
		if (t->procs[i]->pid == pid && !t->procs[i]->dead)
			return t->procs[i];
	return NULL;
}

/* Unmute threads whose time is up; what their counters saw was skipped. */
static void unmute_due(struct mw_callsite_tracker *t, uint64_t now_ns, bool all)
{
	size_t keep = 0;

	for (size_t i = 0; i < t->nmutes; i++) {
		struct mute *m = &t->mutes[i];
		uint64_t n = 0, v;
		struct cs_proc *p;
		/* A storm that ended with its process frees its slot at once. */
		bool alive = kill(m->pid, 0) == 0 || errno != ESRCH;
		if (!all && now_ns < m->until_ns && alive) {
			t->mutes[keep++] = *m;
			continue;
		}
		for (size_t k = 0; k < t->nev; k++)
			if (m->cnt[k] && mw_perfev_read_count(m->cnt[k], &v) == 0)
				n += v;
		for (size_t k = 0; k < t->nev; k++)
			mw_perfev_close(m->cnt[k]);
		t->c.samples += n;
		t->c.skipped += n;
		p = proc_find(t, m->pid);
		if (p) {
			p->samples += n;
			p->skipped += n;
		}
	}
	if (keep != t->nmutes) {
		t->nmutes = keep;
		t->filter_dirty = true;
	}
}

/*
 * Keep a snapshot (registers, stack bytes) for [addr, addr+len). Unwinding
 * waits for the reconcile: most mappings are gone by then and never cost
 * an unwind; leaks, by definition, are still there.
 */
static void keep_snapshot(struct mw_callsite_tracker *t, struct cs_proc *p, uint64_t addr,
                          uint64_t len, uint64_t t_real, const uint64_t regs[MW_NREGS],
                          const uint8_t *stack, uint32_t slen)
{
	const size_t rlen = MW_NREGS * sizeof(uint64_t);
	uint8_t *copy;

	if (t->pending_bytes + rlen + slen > PENDING_CAP) {
		p->skipped++;
		t->c.skipped++;
		return;
	}
	copy = malloc(rlen + slen);
	if (!copy)
		return;
	memcpy(copy, regs, rlen);
	if (slen)
		memcpy(copy + rlen, stack, slen);
	if (proc_add_map(p, addr, len, t_real, copy, (uint32_t)(rlen + slen)) < 0) {
		free(copy);
		return;
	}
	t->pending_bytes += rlen + slen;
	p->taken++;
	t->c.taken++;
}

static void on_sample(void *arg, const struct mw_perf_sample *s)
{
	struct mw_callsite_tracker *t = arg;
	uint64_t addr, len, type = 0, t_real;
	struct cs_proc *p;
	uint32_t slen;

	if (!s->has_regs || s->pid <= 0 || s->pid == t->self || !s->raw || s->raw_len < 40)
		return;
	memcpy(&type, s->raw, 2);
	if (type != t->id_unmapped)
		return;
	memcpy(&addr, s->raw + 8, 8);
	memcpy(&len, s->raw + 32, 8);
	if (addr >= (uint64_t)-4095 || len == 0)
		return; /* the search failed: nothing was mapped */
	t->c.samples++;
	p = proc_get(t, s->pid, s->time_ns);
	if (!p)
		return;
	p->samples++;
	t_real = mono_to_real_ns(s->time_ns);
	/* Even a skipped snapshot proves what it overlaps was unmapped. */
	proc_invalidate(t, p, addr, len, t_real);
	if (!take_token(&t->o, p, s->time_ns)) {
		p->skipped++;
		t->c.skipped++;
		if (s->time_ns - p->storm_t0 > 1000000000ull) {
			p->storm_t0 = s->time_ns;
			p->storm_skips = 0;
		}
		if (++p->storm_skips == STORM_SKIPS)
			mute(t, s->pid, s->tid, s->time_ns);
		return;
	}
	slen = s->stack ? (uint32_t)s->stack_len : 0;
	keep_snapshot(t, p, addr, len, t_real, s->regs, s->stack, slen);
}

#if MW_HAVE_BPF
/*
 * Heap growth from the fault program: [lo, hi) of the heap grew since the
 * process's previous snapshot. The kernel has rate-limited already, before
 * copying anything; what it skipped comes counted with the snapshot.
 */
_Static_assert(MW_SNAP_NREGS == MW_NREGS, "eBPF snapshots carry the registers perf samples do");

/*
 * A snapshot from the eBPF programs: a new mapping [lo, hi), or heap
 * growth [lo, hi) since the process's previous heap snapshot, already
 * rate-limited in the kernel (what it skipped comes counted); or word that
 * a snapshotted mapping's address was handed out again.
 */
static int on_snap(void *arg, void *data, size_t size)
{
	const struct mw_bpf_snap_head *h = data;
	const struct mw_bpf_snap *e = data;
	struct mw_callsite_tracker *t = arg;
	struct cs_proc *p;
	uint64_t t_real;

	if (size < sizeof(*h) || h->pid == 0 || (pid_t)h->pid == t->self || h->hi <= h->lo)
		return 0;
	t_real = mono_to_real_ns(h->t_ns);
	if (h->kind == MW_SNAP_GONE) {
		p = proc_find(t, (pid_t)h->pid);
		if (p)
			proc_invalidate(t, p, h->lo, h->hi - h->lo, t_real);
		return 0;
	}
	if (size < sizeof(*e) || e->stack_len > MW_SNAP_STACK_MAX ||
	    (h->kind != MW_SNAP_MAP && h->kind != MW_SNAP_HEAP))
		return 0;
	t->c.samples += 1 + h->skipped;
	p = proc_get(t, (pid_t)h->pid, h->t_ns);
	if (!p)
		return 0;
	p->samples += 1 + h->skipped;
	p->skipped += h->skipped;
	t->c.skipped += h->skipped;
	/* Older ranges under a new one were unmapped (or the heap shrank and grew again). */
	proc_invalidate(t, p, h->lo, h->hi - h->lo, t_real);
	keep_snapshot(t, p, h->lo, h->hi - h->lo, t_real, (const uint64_t *)e->regs, e->stack,
	              e->stack_len);
	return 0;
}

static int open_snap_ring(struct mw_callsite_tracker *t, int map_fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	t->snap_rb = ring_buffer__new(map_fd, on_snap, t, NULL);
	if (!t->snap_rb)
		return -errno;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(t->snap_rb), &ev) < 0)
		return -errno;
	return 0;
}
#else
static int open_snap_ring(struct mw_callsite_tracker *t MW_UNUSED, int map_fd MW_UNUSED)
{
	return -EOPNOTSUPP;
}
#endif

int mw_callsite_tracker_poll(struct mw_callsite_tracker *t)
{
	struct epoll_event ev[16];
	int r = 0;

	unmute_due(t, mw_mono_ns(), false);
	/* Empty the epoll readiness list; then drain every ring (cheap when empty). */
	while (epoll_wait(t->epfd, ev, MW_ARRAY_SIZE(ev), 0) == (int)MW_ARRAY_SIZE(ev))
		;
	for (size_t i = 0; i < t->nev; i++) {
		int q = mw_perfev_drain(t->ev[i], on_sample, t, &t->c.lost, &t->c.throttled);
		if (q < 0)
			r = q;
	}
#if MW_HAVE_BPF
	if (t->snap_rb) {
		int q = ring_buffer__consume(t->snap_rb);
		if (q < 0)
			r = q;
	}
#endif
	if (t->filter_dirty) {
		t->filter_dirty = false;
		if (apply_filter(t) < 0)
			mw_debug("callsite: could not filter out a mapping storm");
	}
	return r;
}

struct vma {
	uint64_t start, end;
	uint8_t kind;
};

bool mw_callsite_maps_line(char *line, uint64_t *start, uint64_t *end, int *kind)
{
	unsigned long long a, b;
	int off = 0;
	char *name;

	if (sscanf(line, "%llx-%llx %*s %*s %*s %*s%n", &a, &b, &off) < 2 || off == 0)
		return false;
	name = line + off;
	name += strspn(name, " ");
	name[strcspn(name, "\n")] = '\0';
	*start = a;
	*end = b;
	*kind = !*name                        ? KIND_ANON
	        : strcmp(name, "[heap]") == 0 ? KIND_HEAP
	        : *name == '/'                ? KIND_FILE
	                                      : KIND_OTHER;
	return true;
}

static int read_maps(pid_t pid, struct vma **out, size_t *n)
{
	char path[64], line[4096];
	_cleanup_fclose_ FILE *f = NULL;
	struct vma *v = NULL;
	size_t cap = 0;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t a, b;
		int kind;
		if (!mw_callsite_maps_line(line, &a, &b, &kind))
			continue;
		if (*n == cap) {
			size_t c2 = cap ? 2 * cap : 64;
			struct vma *nv = realloc(v, c2 * sizeof(*nv));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = c2;
		}
		v[*n].start = a;
		v[*n].end = b;
		v[*n].kind = (uint8_t)kind;
		(*n)++;
	}
	*out = v;
	return 0;
}

/* Bytes of [addr, addr+len) mapped contiguously from addr; the kind of the first vma. */
static uint64_t covered(const struct vma *v, size_t n, uint64_t addr, uint64_t len, uint8_t *kind)
{
	size_t lo = 0, hi = n;
	uint64_t at = addr, end = addr + len;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || v[lo].start > addr)
		return 0;
	*kind = v[lo].kind;
	for (size_t i = lo; i < n && v[i].start <= at && at < end; i++)
		at = v[i].end;
	return (at < end ? at : end) - addr;
}

/* A process's maps, read before the rings are drained (see reconcile). */
struct snap_maps {
	struct vma *v;
	size_t n;
	bool gone;
};

static void drop_snap(struct mw_callsite_tracker *t, struct cs_map *m)
{
	if (m->snap) {
		t->pending_bytes -= m->snap_len;
		free(m->snap);
		m->snap = NULL;
	}
}

/* Unwind a surviving mapping's snapshot now that it is worth it. */
static void unwind_map(struct mw_callsite_tracker *t, struct cs_proc *p, struct cs_map *m)
{
	struct mw_stack_snapshot snap;
	int n;

	memcpy(snap.regs, m->snap, sizeof(snap.regs));
	snap.stack = m->snap + sizeof(snap.regs);
	snap.stack_len = m->snap_len - sizeof(snap.regs);
	n = mw_unwind_keys(t->uw, p->pid, &snap, t->frames, t->keys, t->o.depth);
	if (n < 1 || intern_stack(t, (size_t)n, &m->stack) < 0) {
		t->c.unwind_failed++;
		m->stack = NO_STACK;
	} else {
		p->recorded++;
		t->c.recorded++;
	}
	drop_snap(t, m);
}

static void reconcile_proc(struct mw_callsite_tracker *t, struct cs_proc *p,
                           const struct snap_maps *sm, uint64_t maps_real, uint64_t now_real)
{
	if (sm->gone)
		p->dead = true;
	for (size_t i = 0; i < p->n; i++) {
		struct cs_map *m = &p->m[i];
		uint64_t c;
		if (m->gone) {
			drop_snap(t, m);
			continue;
		}
		/* Mapped after its maps were read (drained since): judged next time. */
		if (m->t_ns > maps_real && !p->dead)
			continue;
		c = p->dead ? 0 : covered(sm->v, sm->n, m->addr, m->len, &m->kind);
		if (c == 0) {
			m->gone = true;
			m->gone_ns = now_real;
			drop_snap(t, m);
			continue;
		}
		m->len = c;
		/*
		 * Two sightings: a mapping caught between its mmap and its
		 * munmap (a scratch buffer being filled) is not outstanding.
		 */
		if (++m->sightings < 2)
			continue;
		m->reconciled = true;
		if (m->snap)
			unwind_map(t, p, m);
		if (m->stack == NO_STACK)
			m->gone = true; /* cannot be attributed: forget it */
	}
}

int mw_callsite_tracker_reconcile(struct mw_callsite_tracker *t, uint64_t mono_ns, bool force)
{
	uint64_t maps_real = mw_now_ns(), now_real;
	struct snap_maps *sm;
	size_t n = t->nprocs;

	if (!force && t->last_reconcile && mono_ns - t->last_reconcile < t->o.reconcile_ns)
		return 0;
	t->last_reconcile = mono_ns;
	sm = calloc(n ? n : 1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	/*
	 * Maps first, rings second: a mapping in the maps we read had its
	 * event emitted before it was inserted, so draining now tells every
	 * reuse of an address we track before coverage is judged.
	 */
	for (size_t i = 0; i < n; i++) {
		struct cs_proc *p = t->procs[i];
		uint64_t st, dev, ino;
		read_exe(p->pid, &dev, &ino);
		/* An exec replaced every mapping: what was tracked is gone. */
		sm[i].gone = mw_proc_start_ticks("", p->pid, &st) < 0 || st != p->start_ticks ||
		             dev != p->exe_dev || ino != p->exe_ino;
		/* Nothing tracked: whether it lives is all there is to know. */
		if (!sm[i].gone && p->n > 0)
			sm[i].gone = read_maps(p->pid, &sm[i].v, &sm[i].n) < 0;
	}
	mw_callsite_tracker_poll(t);
	now_real = mw_now_ns();
	for (size_t i = 0; i < n; i++) {
		reconcile_proc(t, t->procs[i], &sm[i], maps_real, now_real);
		if (t->procs[i]->dead)
			mw_unwinder_forget(t->uw, t->procs[i]->pid);
		free(sm[i].v);
	}
	free(sm);
	/* Snapshots come and go in bursts: give the freed pages back. */
	malloc_trim(0);
	return 1;
}

/* ---- writing, through the sink (the store's: memwatch/store/callsitestore.h) ---- */

static int64_t ns_ms(uint64_t ns)
{
	return (int64_t)(ns / 1000000ull);
}

static int write_stack(const struct mw_callsite_sink *k, struct cs_stack *s)
{
	if (s->row)
		return 0;
	return k->stack(k->ctx, s->hash, s->depth, s->frames, &s->row);
}

static int write_proc_maps(struct mw_callsite_tracker *t, const struct mw_callsite_sink *k,
                           struct cs_proc *p, int64_t proc_id)
{
	size_t keep = 0;
	int r = 0;

	for (size_t i = 0; i < p->n && r == 0; i++) {
		struct cs_map *m = &p->m[i];
		if (m->gone && !m->row) {
			t->c.transient++;
			drop_snap(t, m);
			continue;
		}
		if (m->gone) {
			r = k->gone(k->ctx, m->row, ns_ms(m->gone_ns));
			continue;
		}
		if (m->reconciled && !m->row && m->stack != NO_STACK) {
			struct cs_stack *s = &t->stacks[m->stack];
			r = write_stack(k, s);
			if (r < 0)
				break;
			r = k->map(k->ctx, proc_id, s->row, kind_names[m->kind], m->addr, m->len,
			           ns_ms(m->t_ns), &m->row);
		}
		p->m[keep++] = *m;
	}
	/* On error keep everything: the next tick tries again. */
	if (r == 0)
		p->n = keep;
	return r;
}

/* A stack read back from the store, interned under its stored hash and row. */
static int intern_stored(struct mw_callsite_tracker *t, uint64_t hash, const char *frames,
                         uint32_t depth, int64_t row, uint32_t *out)
{
	uint32_t found = stack_find(t, hash);

	if (found) {
		*out = found - 1;
		return 0;
	}
	return stack_add(t, hash, strdup(frames), depth, row, out);
}

struct adopt {
	struct mw_callsite_tracker *t;
	const struct mw_callsite_sink *k;
	uint64_t now_ns;
};

/*
 * Mappings an earlier daemon run left outstanding: those of processes
 * still alive are tracked again (their rows reused), the rest are closed
 * now, so a restart neither forgets a leak nor keeps a dead one open.
 */
static int adopt_open_row(void *arg, const struct mw_callsite_open_map *o)
{
	struct adopt *a = arg;
	struct mw_callsite_tracker *t = a->t;
	struct cs_proc *p = NULL;
	uint64_t st = 0;
	uint32_t stack;
	int r;

	if (a->k->proc_id(a->k->ctx, o->pid, o->start_ticks) &&
	    mw_proc_start_ticks("", o->pid, &st) == 0 && st == o->start_ticks)
		p = proc_get(t, o->pid, mw_mono_ns());
	if (!p || p->start_ticks != o->start_ticks)
		return a->k->gone(a->k->ctx, o->row, ns_ms(a->now_ns));
	r = intern_stored(t, o->stack_hash, o->frames, o->depth, o->stack_row, &stack);
	if (r == 0)
		r = proc_add_map(p, o->addr, o->len, (uint64_t)o->t_ms * 1000000ull, NULL, 0);
	if (r == 0) {
		struct cs_map *m = &p->m[p->n - 1];
		m->stack = stack;
		m->row = o->row;
		m->sightings = 2;
		m->reconciled = true;
		for (uint8_t k = 0; k < MW_ARRAY_SIZE(kind_names); k++)
			if (o->kind && strcmp(o->kind, kind_names[k]) == 0)
				m->kind = k;
	}
	return r;
}

int mw_callsite_tracker_write(struct mw_callsite_tracker *t, const struct mw_callsite_sink *k,
                              int64_t tick_id, uint64_t t_ns)
{
	struct mw_callsite_counters now;
	size_t keep = 0;
	int r = 0;

	if (!t->adopted) {
		struct adopt a = {t, k, t_ns};
		r = k->open_maps(k->ctx, adopt_open_row, &a);
		if (r < 0)
			return r;
		t->adopted = true;
	}
	for (size_t i = 0; i < t->nprocs && r == 0; i++) {
		struct cs_proc *p = t->procs[i];
		int64_t proc_id = k->proc_id(k->ctx, p->pid, p->start_ticks);
		if (proc_id == 0 && !p->dead)
			continue; /* the store records it from its second tick on */
		r = write_proc_maps(t, k, p, proc_id);
		if (r == 0 && proc_id &&
		    (p->samples != p->w_samples || p->recorded != p->w_recorded ||
		     p->skipped != p->w_skipped)) {
			r = k->counters(k->ctx, tick_id, proc_id, p->samples, p->taken, p->recorded,
			                p->skipped, -1);
			p->w_samples = p->samples;
			p->w_recorded = p->recorded;
			p->w_skipped = p->skipped;
		}
	}
	/* As reported, the kernel's ring drops included: a change there alone is written too. */
	mw_callsite_tracker_counters(t, &now);
	if (r == 0 && memcmp(&now, &t->written, sizeof(now)) != 0) {
		r = k->counters(k->ctx, tick_id, 0, now.samples, now.taken, now.recorded,
		                now.skipped, (int64_t)(now.lost + now.throttled));
		t->written = now;
	}
	/* Processes that went and hold nothing unwritten are dropped. */
	for (size_t i = 0; i < t->nprocs; i++) {
		struct cs_proc *p = t->procs[i];
		if (p->dead && p->n == 0) {
			proc_free(p);
			continue;
		}
		t->procs[keep++] = p;
	}
	t->nprocs = keep;
	return r;
}
