/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hypothesis rules on synthetic processes written through the real store
 * (mw_store_write_tick into a temporary SQLite file), then analysed back:
 * each growth shape ranks its hypothesis first; the steady shapes (flat,
 * sawtooth returning to base, grew then stabilised) raise nothing.
 */
#include "check.h"
#include "memwatch/analyse/analysis.h"
#include "memwatch/collect/region.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#define SEC   1000000000ull
#define MiB   (1024 * 1024)
#define TICKS 240 /* 20 minutes at 5 s */
#define T0    (1700000000ull * SEC)

static char dir[] = "/tmp/mw-test-analysis-XXXXXX";
static char path[256];

enum shape {
	FLAT,
	HEAP,
	SAWTOOTH,
	STABILISED,
	THREADS,
	FDS,
	STACK,
	SHMEM,
	FILEMAP,
	FRAGMENT,
	RELEASED,
	EXITED, /* HEAP's shape; gone at the tick after the others' last (it must stay last) */
	NSHAPES
};

/* The values of shape sh at tick k. */
static void shape_values(enum shape sh, int k, int64_t m[MW_PM_COUNT])
{
	for (int i = 0; i < MW_PM_COUNT; i++)
		m[i] = 0;
	m[MW_PM_rss_anon] = 100 * MiB;
	m[MW_PM_rss_file] = 8 * MiB;
	m[MW_PM_rss_shmem] = 0;
	m[MW_PM_stack] = 132 * 1024;
	m[MW_PM_data] = 200 * MiB;
	m[MW_PM_vsz] = 400 * MiB;
	m[MW_PM_pte] = 256 * 1024;
	m[MW_PM_threads] = 4;
	m[MW_PM_fds] = 12;
	m[MW_PM_oom_score] = 10;
	switch (sh) {
	case FLAT:
		break;
	case HEAP: /* 256 KiB per 5 s = 180 MiB/h */
	case EXITED:
		m[MW_PM_rss_anon] += (int64_t)k * 256 * 1024;
		break;
	case SAWTOOTH: /* a cache: fills 48 MiB over a minute, then evicted to its base */
		m[MW_PM_rss_anon] += (int64_t)(k % 12) * 4 * MiB;
		break;
	case STABILISED:
		/*
		 * Rises for 12 minutes, flat for the last 8: Theil–Sen over the
		 * 20 minutes is still clearly positive (most pairs straddle the
		 * ramp), so only the stabilisation rule keeps this quiet.
		 */
		m[MW_PM_rss_anon] += (int64_t)(k < 144 ? k : 144) * 512 * 1024;
		m[MW_PM_threads] += k < 144 ? k / 6 : 24;
		break;
	case THREADS: /* one thread every 10 s; each touches a little stack */
		m[MW_PM_threads] += k / 2;
		m[MW_PM_rss_anon] += (int64_t)(k / 2) * 8192;
		break;
	case FDS:
		m[MW_PM_fds] += k;
		break;
	case STACK: /* recursion: 16 KiB more stack every 5 s */
		m[MW_PM_stack] += (int64_t)k * 16384;
		break;
	case SHMEM:
		m[MW_PM_rss_shmem] += (int64_t)k * 128 * 1024;
		break;
	case FILEMAP:
		m[MW_PM_rss_file] += (int64_t)k * 128 * 1024;
		break;
	case FRAGMENT: /* up 12 MiB, down 10 MiB, every minute: the floor climbs 2 MiB/min */
		m[MW_PM_rss_anon] += (int64_t)(k / 12) * 2 * MiB + (int64_t)(k % 12) * MiB;
		break;
	case RELEASED: /* HEAP's growth, given back at the last tick (Redis FLUSHALL) */
		m[MW_PM_rss_anon] += k < TICKS - 1 ? (int64_t)k * 256 * 1024 : 0;
		break;
	default:
		break;
	}
	m[MW_PM_rss] = m[MW_PM_rss_anon] + m[MW_PM_rss_file] + m[MW_PM_rss_shmem];
}

static void write_store(void)
{
	struct mw_store *st = NULL;
	struct mw_proc_sample v[NSHAPES];
	struct mw_proc_set set = {.v = v, .n = NSHAPES, .cap = NSHAPES};
	struct mw_sys_sample sys;

	CHECK_EQ_I64(mw_store_open_writer(path, NULL, &st, NULL), 0);
	if (!st)
		return;
	memset(v, 0, sizeof(v));
	for (int i = 0; i < NSHAPES; i++) {
		v[i].pid = 1000 + i;
		v[i].ppid = 1;
		v[i].start_ticks = 100 + (uint64_t)i;
		snprintf(v[i].comm, sizeof(v[i].comm), "shape%d", i);
		v[i].cmdline = strdup(v[i].comm);
		v[i].cgroup = strdup("0::/memwatch-test-no-such-cgroup");
	}
	for (int i = 0; i < MW_MI_COUNT; i++)
		sys.mem[i] = 0;
	for (int i = 0; i < MW_VM_COUNT; i++)
		sys.vm[i] = MW_UNKNOWN;
	for (int i = 0; i < MW_PSI_COUNT; i++)
		sys.psi[i] = 0;
	sys.mem[MW_MI_mem_available] = 1024 * (int64_t)MiB;
	for (int k = 0; k < TICKS; k++) {
		struct mw_tick tk = {
		        .t_ns = T0 + (uint64_t)k * 5 * SEC, .procs = &set, .sys = &sys};
		for (int i = 0; i < NSHAPES; i++)
			shape_values((enum shape)i, k, v[i].m);
		if (mw_store_write_tick(st, &tk) < 0) {
			CHECK(!"write_tick");
			break;
		}
	}
	{
		/* One more tick without EXITED: the store marks it gone there. */
		struct mw_tick tk = {
		        .t_ns = T0 + (uint64_t)TICKS * 5 * SEC, .procs = &set, .sys = &sys};
		set.n = NSHAPES - 1;
		CHECK_EQ_I64(mw_store_write_tick(st, &tk), 0);
		set.n = NSHAPES;
	}
	for (int i = 0; i < NSHAPES; i++)
		mw_proc_sample_release(&v[i]);
	mw_store_close(st);
}

static const int64_t since_ms = (int64_t)(T0 / 1000000ull);
static const int64_t until_ms = (int64_t)(T0 / 1000000ull) + TICKS * 5000;

static int analyse(struct mw_store *st, enum shape sh, struct mw_analysis *a)
{
	/* Processes were created in shape order, so procs.id is shape + 1. */
	return mw_analyze_process(st, (int64_t)sh + 1, since_ms, until_ms, a);
}

static void dump(const char *what, const struct mw_analysis *a)
{
	for (size_t i = 0; i < a->nhyp && i < 4; i++)
		fprintf(stderr, "  %s #%zu %-20s %.3f p=%.2g slope/h=%.4g floor/h=%.4g %s\n", what,
		        i, a->hyp[i].rule->id, a->hyp[i].score, a->hyp[i].ev.mk_p,
		        a->hyp[i].ev.slope_per_h, a->hyp[i].ev.floor_slope_per_h, a->hyp[i].note);
}

/*
 * One limit, one time to exhaustion: every memory hypothesis gives the OOM
 * rule's, when it has one (RSS rising); without, each keeps its own.
 */
static void check_one_exhaustion(const struct mw_analysis *a)
{
	const struct mw_hypothesis *oom = NULL;

	for (size_t i = 0; i < a->nhyp; i++)
		if (a->hyp[i].rule->kind == MW_RULE_OOM)
			oom = &a->hyp[i];
	CHECK(oom != NULL);
	for (size_t i = 0; oom && i < a->nhyp; i++) {
		const struct mw_hypothesis *h = &a->hyp[i];
		if (!h->rule->in_rss || !isfinite(h->tte_s) || !isfinite(oom->tte_s))
			continue;
		CHECK_NEAR(h->tte_s, oom->tte_s, 0);
		CHECK_EQ_STR(h->tte_basis, oom->tte_basis);
	}
	/* OOM risk is #1 only when no reported memory hypothesis explains the growth. */
	if (a->nhyp && a->hyp[0].rule->kind == MW_RULE_OOM)
		for (size_t i = 1; i < mw_hypotheses_reported(a); i++)
			CHECK(!a->hyp[i].rule->in_rss);
}

static void expect_top(struct mw_store *st, enum shape sh, const char *tag, const char *region)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	CHECK_EQ_I64(analyse(st, sh, a), 0);
	dump(tag, a);
	check_one_exhaustion(a);
	CHECK(a->nhyp > 0);
	if (a->nhyp) {
		CHECK_EQ_STR(a->hyp[0].rule->tag, tag);
		CHECK_EQ_STR(a->hyp[0].rule->region, region);
		CHECK(a->hyp[0].score >= MW_HYP_THRESHOLD);
		CHECK(a->hyp[0].ev.mk_p < 0.001);
		CHECK(a->hyp[0].ev.slope_per_h > 0);
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", 1000 + (int)sh);
		CHECK(strstr(a->hyp[0].next_step, pid) != NULL);
	}
	mw_analysis_release(a);
	free(a);
}

static void expect_nothing(struct mw_store *st, enum shape sh, const char *what)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	CHECK_EQ_I64(analyse(st, sh, a), 0);
	dump(what, a);
	CHECK_EQ_I64(mw_hypotheses_reported(a), 0);
	mw_analysis_release(a);
	free(a);
}

static void test_released(struct mw_store *st)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	const struct mw_hypothesis *h = NULL;

	if (!a)
		return;
	CHECK_EQ_I64(analyse(st, RELEASED, a), 0);
	for (size_t i = 0; i < a->nhyp; i++)
		if (strcmp(a->hyp[i].rule->id, "heap-growth") == 0)
			h = &a->hyp[i];
	CHECK(h && h->score == 0 && strstr(h->note, "given back, no growth now"));
	if (h)
		fprintf(stderr, "  released: %s\n", h->note);
	mw_analysis_release(a);
	free(a);
}

/* Issue 15 item 7: an exited process keeps its history, but no exhaustion and no next step. */
static void test_exited(struct mw_store *st)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));

	if (!a)
		return;
	CHECK_EQ_I64(mw_analyze_process(st, (int64_t)EXITED + 1, since_ms, until_ms + 5000, a), 0);
	dump("exited", a);
	CHECK(a->exit_ms != MW_UNKNOWN);
	CHECK_EQ_STR(a->hyp[0].rule->id, "heap-growth");
	CHECK(a->hyp[0].score >= MW_HYP_THRESHOLD);
	for (size_t i = 0; i < a->nhyp; i++) {
		CHECK(!isfinite(a->hyp[i].tte_s) && a->hyp[i].next_step[0] == '\0');
		if (a->hyp[i].rule->kind == MW_RULE_OOM)
			CHECK(a->hyp[i].score == 0);
	}
	CHECK(strstr(a->hyp[0].note, "the process exited") != NULL);
	mw_analysis_release(a);
	/* The same process before it exited: alive, with its exhaustion and next step. */
	CHECK_EQ_I64(mw_analyze_process(st, (int64_t)EXITED + 1, since_ms, until_ms - 1, a), 0);
	CHECK(a->exit_ms == MW_UNKNOWN && isfinite(a->hyp[0].tte_s) && a->hyp[0].next_step[0]);
	mw_analysis_release(a);
	free(a);
}

static void test_heap(struct mw_store *st)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	CHECK_EQ_I64(analyse(st, HEAP, a), 0);
	CHECK_EQ_STR(a->hyp[0].rule->tag, "HEAP");
	CHECK_EQ_STR(a->hyp[0].rule->id, "heap-growth");
	/* No region rows in this store: the heap is read from RssAnon, and the report says so. */
	CHECK(a->hyp[0].ev.fallback);
	CHECK_EQ_I64(a->hyp[0].ev.metric, MW_AM_rss_anon);
	/* 256 KiB per 5 s = 180 MiB/h exactly; Theil–Sen on the grid recovers it. */
	CHECK_NEAR(a->hyp[0].ev.slope_per_h, 180.0 * MiB, 0.5 * MiB);
	/* MemAvailable 1 GiB at 180 MiB/h: 1024/180 h = 20480 s. */
	CHECK_NEAR(a->hyp[0].tte_s, 1024.0 / 180.0 * 3600.0, 60.0);
	CHECK_EQ_STR(a->hyp[0].tte_basis, "MemAvailable");
	CHECK(strstr(a->hyp[0].next_step, "pmap -X 1001") != NULL);
	/*
	 * 5.7 h to exhaustion would make OOM risk urgent (the 6 h step), but
	 * the heap explains the growth: OOM is its consequence, not reported.
	 */
	for (size_t i = 0; i < a->nhyp; i++)
		if (strcmp(a->hyp[i].rule->tag, "OOM") == 0) {
			CHECK(a->hyp[i].score < MW_HYP_THRESHOLD);
			CHECK(strstr(a->hyp[i].note, "consequence of heap-growth") != NULL);
			CHECK_NEAR(a->hyp[i].tte_s, a->hyp[0].tte_s, 0);
		}
	/* The 5 min window is distinct from the 20 min of data; the 24 h one is not. */
	CHECK(a->m[MW_AM_rss_anon].w[0].valid);
	CHECK(a->m[MW_AM_rss_anon].w[1].valid);
	CHECK(!a->m[MW_AM_rss_anon].w[2].valid);
	CHECK(a->m[MW_AM_rss_anon].grid_n >= 200);
	mw_analysis_release(a);
	free(a);
}

static void test_top_tag(struct mw_store *st)
{
	char tag[16];
	double score = -1;

	CHECK_EQ_I64(mw_top_hypothesis_tag(st, HEAP + 1, until_ms, tag, sizeof(tag), &score), 0);
	CHECK_EQ_STR(tag, "HEAP");
	CHECK(score >= MW_HYP_THRESHOLD);
	CHECK_EQ_I64(mw_top_hypothesis_tag(st, FLAT + 1, until_ms, tag, sizeof(tag), &score), 0);
	CHECK_EQ_STR(tag, "");
	CHECK_EQ_I64(mw_top_hypothesis_tag(st, THREADS + 1, until_ms, tag, sizeof(tag), NULL), 0);
	CHECK_EQ_STR(tag, "THREADS");
	/* Unknown process: no data, no tag, no error. */
	CHECK_EQ_I64(mw_top_hypothesis_tag(st, 9999, until_ms, tag, sizeof(tag), NULL), 0);
	CHECK_EQ_STR(tag, "");
}

/*
 * The region path: process rows plus region_samples/fd_samples rows in
 * the same tick transaction, as the daemon's slow tier writes them. Every
 * process grows the same RssAnon, so only the region rows tell heap from
 * anon mmap; fds grow by kind.
 */
enum rshape {
	R_HEAP,
	R_MMAP,
	R_SOCKETS,
	R_LIBS,
	R_FLAT,
	R_QUEUE,
	R_ORPHAN,
	R_SLOWHEAP,
	R_FDLIMIT,
	R_WARM,      /* a fixed 128 MiB shared mapping filling up: a buffer pool warming */
	R_SHMGROW,   /* the same growth in ever new mappings: a shm leak */
	R_WARMHUGE,  /* a fixed 64 GiB mapping filling up: bounded, but beyond MemAvailable */
	R_DEEPSTACK, /* recursion: VmStk +16 KiB a tick towards RLIMIT_STACK (8 MiB) */
	R_STACKNEAR, /* VmStk flat at 7.5 of its 8 MiB */
	NRSHAPES
};

/* The shared memory the warm-up shapes have resident at tick k, and their mapping size. */
static int64_t warm_rss(int k)
{
	return 8 * (int64_t)MiB + (int64_t)k * 512 * 1024;
}

static int64_t warm_size(enum rshape sh, int k)
{
	if (sh == R_WARMHUGE)
		return 64 * 1024 * (int64_t)MiB;
	return sh == R_WARM ? 128 * (int64_t)MiB : warm_rss(k);
}

static void region_values(enum rshape sh, int k, struct mw_regions *reg, struct mw_fd_kinds *fds)
{
	memset(reg, 0, sizeof(*reg));
	memset(fds, 0, sizeof(*fds));
	reg->readable = fds->readable = true;
	reg->r[MW_REG_heap].rss = reg->r[MW_REG_heap].size = 10 * MiB;
	reg->r[MW_REG_heap].count = 1;
	reg->r[MW_REG_anon].rss = 20 * MiB;
	reg->r[MW_REG_anon].count = 5;
	reg->r[MW_REG_file_exec].rss = 4 * MiB;
	reg->r[MW_REG_file_exec].count = 20;
	reg->so_files = 6;
	fds->n[MW_FD_file] = 3;
	fds->n[MW_FD_socket] = 2;
	if (sh == R_HEAP)
		reg->r[MW_REG_heap].rss += (int64_t)k * 256 * 1024;
	if (sh == R_MMAP) {
		reg->r[MW_REG_anon].rss += (int64_t)k * 256 * 1024;
		reg->r[MW_REG_anon].count += k;
	}
	if (sh == R_SOCKETS)
		fds->n[MW_FD_socket] += k;
	/*
	 * Sampled by a 60 s slow tier: 128 KiB, then 19 MiB at the last sample
	 * (tick 228). On the 5 s grid of the last 5 minutes that is 48 points
	 * at one value and 12 at the other: the grid's median slope is 0.
	 */
	if (sh == R_SLOWHEAP)
		reg->r[MW_REG_heap].rss = reg->r[MW_REG_heap].size =
		        k < 228 ? 128 * 1024 : 19 * MiB;
	if (sh == R_WARM || sh == R_SHMGROW || sh == R_WARMHUGE) {
		reg->r[MW_REG_shm_anon].rss = warm_rss(k);
		reg->r[MW_REG_shm_anon].size = warm_size(sh, k);
		reg->r[MW_REG_shm_anon].count = sh == R_SHMGROW ? 1 + k / 12 : 1;
	}
	if (sh == R_LIBS) {
		reg->so_files += k / 4;
		reg->r[MW_REG_file_exec].count += k / 4 * 4;
	}
}

static void write_region_store(const char *p)
{
	struct mw_store *st = NULL;
	struct mw_region_writer *w = NULL;
	struct mw_proc_sample v[NRSHAPES];
	struct mw_proc_set set = {.v = v, .n = NRSHAPES, .cap = NRSHAPES};
	struct mw_sys_sample sys;

	CHECK_EQ_I64(mw_store_open_writer(p, NULL, &st, NULL), 0);
	if (!st)
		return;
	CHECK_EQ_I64(mw_region_writer_new(st, &w), 0);
	memset(v, 0, sizeof(v));
	memset(&sys, 0, sizeof(sys));
	sys.mem[MW_MI_mem_available] = 4096 * (int64_t)MiB;
	for (int i = 0; i < NRSHAPES; i++) {
		v[i].pid = 2000 + i;
		v[i].start_ticks = 7;
		snprintf(v[i].comm, sizeof(v[i].comm), "rshape%d", i);
		v[i].cmdline = strdup(v[i].comm);
		v[i].cgroup = strdup("");
	}
	for (int k = 0; k < TICKS && w; k++) {
		struct mw_tick tk = {
		        .t_ns = T0 + (uint64_t)k * 5 * SEC, .procs = &set, .sys = &sys};
		int64_t tick = 0;
		int r = 0;
		for (int i = 0; i < NRSHAPES; i++) {
			shape_values(FLAT, 0, v[i].m);
			/* The same process-wide growth for the growing shapes: no hint there. */
			if (i != R_FLAT && i != R_SOCKETS && i != R_LIBS && i != R_WARM &&
			    i != R_SHMGROW && i != R_WARMHUGE)
				v[i].m[MW_PM_rss_anon] += (int64_t)k * 256 * 1024;
			if (i == R_SOCKETS)
				v[i].m[MW_PM_fds] += k;
			/* Shared memory: the process's RSS rises with it, as RssShmem. */
			if (i == R_WARM || i == R_SHMGROW || i == R_WARMHUGE) {
				v[i].m[MW_PM_rss_shmem] = warm_rss(k);
				v[i].m[MW_PM_rss] = v[i].m[MW_PM_rss_anon] +
				                    v[i].m[MW_PM_rss_file] + warm_rss(k);
			}
			/* Flat, at 1000 of its 1024 descriptors. */
			if (i == R_FDLIMIT)
				v[i].m[MW_PM_fds] = 1000;
			if (i == R_DEEPSTACK) {
				v[i].m[MW_PM_stack] += (int64_t)k * 16384;
				v[i].m[MW_PM_rss_anon] += (int64_t)k * 16384;
				v[i].m[MW_PM_rss] += (int64_t)k * 16384;
			}
			if (i == R_STACKNEAR)
				v[i].m[MW_PM_stack] = 7680 * 1024;
		}
		r = mw_store_tick_begin(st, &tk, &tick);
		if (r == 0)
			r = mw_store_tick_write_procs(st, tick, &tk);
		for (int i = 0; i < NRSHAPES && r == 0; i++) {
			struct mw_regions reg;
			struct mw_fd_kinds fds;
			int64_t id = mw_store_live_proc_id(st, v[i].pid, v[i].start_ticks);
			region_values((enum rshape)i, k, &reg, &fds);
			if ((i == R_FDLIMIT || i == R_SOCKETS || i == R_DEEPSTACK ||
			     i == R_STACKNEAR) &&
			    k == 0) {
				struct mw_proc_limits lim = {.readable = true,
				                             .nofile_soft = 1024,
				                             .nofile_hard = 4096,
				                             .stack_soft = 8 * MiB,
				                             .nproc_soft = MW_UNKNOWN};
				r = mw_limits_write(w, id, tick, (int64_t)(tk.t_ns / 1000000ull),
				                    &lim);
			}
			if (i == R_SLOWHEAP && k % 12)
				continue; /* not sampled on this tick */
			r = mw_region_write(w, id, tick, (int64_t)(tk.t_ns / 1000000ull), k == 0,
			                    &reg);
			if (r == 0)
				r = mw_fd_kinds_write(w, id, tick, (int64_t)(tk.t_ns / 1000000ull),
				                      k == 0, &fds);
		}
		if (r == 0)
			r = mw_store_tick_commit(st);
		else
			mw_store_tick_rollback(st);
		CHECK_EQ_I64(r, 0);
		if (r)
			break;
	}
	for (int i = 0; i < NRSHAPES; i++)
		mw_proc_sample_release(&v[i]);
	mw_region_writer_free(w);
	mw_store_close(st);
}

static void expect_region_top(struct mw_store *st, enum rshape sh, const char *id,
                              const char *region, int metric)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	CHECK_EQ_I64(mw_analyze_process(st, (int64_t)sh + 1, since_ms, until_ms, a), 0);
	dump(id, a);
	check_one_exhaustion(a);
	CHECK(a->have_regions && a->have_fd_kinds);
	if (a->nhyp) {
		CHECK_EQ_STR(a->hyp[0].rule->id, id);
		CHECK_EQ_STR(a->hyp[0].rule->region, region);
		CHECK_EQ_I64(a->hyp[0].ev.metric, metric);
		CHECK(!a->hyp[0].ev.fallback);
		CHECK(a->hyp[0].score >= MW_HYP_THRESHOLD);
	}
	mw_analysis_release(a);
	free(a);
}

/*
 * Other modules' tables, with the DDL of their contracts (the system
 * module's IPC migration, bpfdata.h), created here only when this build's
 * store does not have them: a queue created by R_QUEUE fills by 4 KiB per
 * tick and nobody reads it; R_HEAP takes heap faults.
 */
static void add_queue(const char *p)
{
	static const char *const sql[] = {
	        "CREATE TABLE IF NOT EXISTS ipc_objects(id INTEGER PRIMARY KEY,"
	        " boot INTEGER NOT NULL REFERENCES boots(id), kind TEXT NOT NULL, ident TEXT NOT "
	        "NULL,"
	        " ipc_key INTEGER, ipc_id INTEGER, name INTEGER REFERENCES strings(id), uid "
	        "INTEGER,"
	        " cuid INTEGER, mode INTEGER, cpid INTEGER, creator INTEGER REFERENCES procs(id),"
	        " ctime INTEGER, first_tick INTEGER NOT NULL, gone_tick INTEGER, UNIQUE(boot, "
	        "ident))",
	        "CREATE TABLE IF NOT EXISTS ipc_samples(object INTEGER NOT NULL, tick INTEGER NOT "
	        "NULL,"
	        " size INTEGER, bytes INTEGER, swap INTEGER, nattch INTEGER, qnum INTEGER, lpid "
	        "INTEGER,"
	        " lrpid INTEGER, atime INTEGER, dtime INTEGER, PRIMARY KEY(object, tick)) WITHOUT "
	        "ROWID",
	        "INSERT INTO ipc_objects(id, boot, kind, ident, creator, first_tick) VALUES"
	        " (900, 1, 'sysv-msg', 'sysv-msg:1:2:3', 6, 1)",
	        /* a queue of someone else's, growing too: not this process's */
	        "INSERT INTO ipc_objects(id, boot, kind, ident, creator, first_tick) VALUES"
	        " (901, 1, 'sysv-msg', 'sysv-msg:4:5:6', 1, 1)",
	        "INSERT INTO ipc_samples(object, tick, bytes, qnum) SELECT 900, id, (id - 1) * "
	        "4096,"
	        " id - 1 FROM ticks",
	        "INSERT INTO ipc_samples(object, tick, bytes, qnum) SELECT 901, id, id * 8192, id"
	        " FROM ticks",
	        /* eBPF counters (bpfdata.h): R_HEAP faults in its heap on every tick. */
	        "CREATE TABLE IF NOT EXISTS bpf_proc_samples(proc INTEGER NOT NULL, tick INTEGER "
	        "NOT"
	        " NULL, faults_heap INTEGER, faults_stack INTEGER, faults_mmap INTEGER, mmaps_anon"
	        " INTEGER, mmap_bytes_anon INTEGER, mmaps_file INTEGER, mmap_bytes_file INTEGER,"
	        " PRIMARY KEY(proc, tick))",
	        "INSERT INTO bpf_proc_samples SELECT 1, id, 64, 0, 1, 0, 0, 0, 0 FROM ticks",
	};

	for (size_t i = 0; i < MW_ARRAY_SIZE(sql); i++)
		if (mw_inspect_exec(p, sql[i]) != 0) {
			fprintf(stderr, "%s: failed\n", sql[i]);
			CHECK(!"ipc sql");
		}
	/*
	 * R_ORPHAN creates a 1 MiB SysV segment every 10 ticks and detaches it
	 * (nattch 0), plus one 64 MiB segment it keeps attached (in its RSS, not
	 * orphaned) and one removed right away (gone: no longer counted).
	 */
	for (int k = 0; k < TICKS; k += 10) {
		char q[512];
		snprintf(
		        q, sizeof(q),
		        "INSERT INTO ipc_objects(id, boot, kind, ident, creator, first_tick) VALUES"
		        " (%d, 1, 'sysv-shm', 'sysv-shm:o%d', %d, %d);"
		        "INSERT INTO ipc_samples(object, tick, size, nattch) VALUES (%d, %d, %d, "
		        "0)",
		        1000 + k, k, R_ORPHAN + 1, k + 1, 1000 + k, k + 1, 1 << 20);
		CHECK_EQ_I64(mw_inspect_exec(p, q), 0);
	}
	CHECK_EQ_I64(
	        mw_inspect_exec(
	                p,
	                "INSERT INTO ipc_objects(id, boot, kind, ident, creator, first_tick) VALUES"
	                " (2000, 1, 'sysv-shm', 'sysv-shm:kept', 8, 1);"
	                "INSERT INTO ipc_samples(object, tick, size, nattch) VALUES (2000, 1, "
	                "67108864,"
	                " 1);"
	                "INSERT INTO ipc_objects(id, boot, kind, ident, creator, first_tick, "
	                "gone_tick)"
	                " VALUES (2001, 1, 'sysv-shm', 'sysv-shm:gone', 8, 1, 3);"
	                "INSERT INTO ipc_samples(object, tick, size, nattch) VALUES (2001, 1, "
	                "67108864,"
	                " 0)"),
	        0);
}

static const struct mw_hypothesis *hyp_by_id(const struct mw_analysis *a, const char *id)
{
	for (size_t i = 0; i < a->nhyp; i++)
		if (strcmp(a->hyp[i].rule->id, id) == 0)
			return &a->hyp[i];
	return NULL;
}

/*
 * Issue 15 (PostgreSQL warming shared_buffers): RSS rising toward the
 * size of a mapping that neither grows nor multiplies is bounded, so
 * neither a shm leak nor OOM risk; the same rise in new mappings is a
 * leak, and a fixed mapping larger than what is available still counts.
 */
static void test_warming(struct mw_store *st)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));
	const struct mw_hypothesis *shm, *oom;

	if (a && mw_analyze_process(st, R_WARM + 1, since_ms, until_ms, a) == 0) {
		const struct mw_metric_window *w = &a->m[MW_AM_shm].w[1];
		dump("warming", a);
		CHECK_EQ_I64(mw_hypotheses_reported(a), 0);
		shm = hyp_by_id(a, "shm-leak");
		oom = hyp_by_id(a, "oom-risk");
		CHECK(shm && shm->score == 0 &&
		      strstr(shm->note, "warming up: 100 % of a fixed 128 MiB"));
		CHECK(oom && oom->score == 0 && !isfinite(oom->tte_s) &&
		      strstr(oom->note, "100 % of the RSS rise is mappings of a fixed size"));
		CHECK(w->valid && mw_region_warming(a, w));
		CHECK_NEAR(w->bound, 128.0 * MiB, 0.5);
	}
	if (a)
		mw_analysis_release(a);
	expect_region_top(st, R_SHMGROW, "shm-leak", "shm", MW_AM_shm);
	if (a && mw_analyze_process(st, R_SHMGROW + 1, since_ms, until_ms, a) == 0) {
		CHECK(!mw_region_warming(a, &a->m[MW_AM_shm].w[1]));
		oom = hyp_by_id(a, "oom-risk");
		CHECK(oom && strstr(oom->note, "a consequence of shm-leak"));
		CHECK(isfinite(a->hyp[0].tte_s));
	}
	if (a)
		mw_analysis_release(a);
	expect_region_top(st, R_WARMHUGE, "shm-leak", "shm", MW_AM_shm);
	free(a);
}

/*
 * Issue 15 item 4: the main stack against RLIMIT_STACK. Recursion reaches
 * the 8 MiB limit (SIGSEGV) in about 20 minutes, long before MemAvailable
 * runs out: that is its time; a stack flat at 94 % of it is reported too.
 */
static void test_stack_limit(struct mw_store *st)
{
	struct mw_analysis *a = calloc(1, sizeof(*a));

	if (!a)
		return;
	if (mw_analyze_process(st, R_DEEPSTACK + 1, since_ms, until_ms, a) == 0) {
		dump("deepstack", a);
		CHECK_EQ_STR(a->hyp[0].rule->id, "stack-growth");
		CHECK(a->hyp[0].tte_basis && strstr(a->hyp[0].tte_basis, "RLIMIT_STACK"));
		/* (8 MiB - 132 KiB - 239 x 16 KiB) at 16 KiB per 5 s. */
		CHECK_NEAR(a->hyp[0].tte_s, (8.0 * MiB - 132 * 1024 - 239 * 16384) / 16384 * 5, 30);
		CHECK(strstr(a->hyp[0].note, "(RLIMIT_STACK)") != NULL);
	}
	mw_analysis_release(a);
	if (mw_analyze_process(st, R_STACKNEAR + 1, since_ms, until_ms, a) == 0) {
		dump("stacknear", a);
		CHECK_EQ_STR(a->hyp[0].rule->id, "stack-growth");
		CHECK(a->hyp[0].score >= MW_HYP_THRESHOLD && a->hyp[0].near_limit);
		CHECK(strstr(a->hyp[0].note, "one deep call from SIGSEGV") != NULL);
	}
	mw_analysis_release(a);
	free(a);
}

static void test_regions(void)
{
	char p[300];
	struct mw_store *st = NULL;
	struct mw_analysis *a;

	snprintf(p, sizeof(p), "%s/regions.db", dir);
	write_region_store(p);
	add_queue(p);
	CHECK_EQ_I64(mw_store_open_reader(p, &st), 0);
	if (!st)
		return;
	test_stack_limit(st);
	expect_region_top(st, R_HEAP, "heap-growth", "heap", MW_AM_heap);
	expect_region_top(st, R_SLOWHEAP, "heap-growth", "heap", MW_AM_heap);
	/*
	 * R_SOCKETS leaks a socket a tick towards the same 1024: about an hour
	 * to the limit, which is the leak's attribute, not a verdict of its own.
	 */
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_SOCKETS + 1, since_ms, until_ms, a) == 0) {
		const struct mw_hypothesis *lim = NULL;
		for (size_t i = 0; i < a->nhyp; i++)
			if (strcmp(a->hyp[i].rule->id, "fd-limit") == 0)
				lim = &a->hyp[i];
		CHECK(lim && lim->score == 0 &&
		      strstr(lim->note, "consequence of fd-leak-sockets"));
		CHECK_EQ_STR(a->hyp[0].tte_basis, "RLIMIT_NOFILE soft limit");
		/* 1024 - 241 fds at 720/h. */
		CHECK_NEAR(a->hyp[0].tte_s, (1024.0 - a->hyp[0].ev.last) / 720 * 3600, 120);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	/* Flat now, but at 98 % of RLIMIT_NOFILE: the limit is the verdict. */
	expect_region_top(st, R_FDLIMIT, "fd-limit", "kernel", MW_AM_fds);
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_FDLIMIT + 1, since_ms, until_ms, a) == 0) {
		CHECK_EQ_I64(a->limits.nofile_soft, 1024);
		CHECK_EQ_I64(a->limits.nofile_hard, 4096);
		CHECK_EQ_I64(a->limits.nproc_soft, MW_UNKNOWN);
		CHECK(strstr(a->hyp[0].note, "1000 of 1024 descriptors") != NULL);
		CHECK(isnan(a->hyp[0].tte_s)); /* not growing: no time to the limit */
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	/*
	 * Fitted on the run starts, (tick 179, 128K) (228, 19M), and the last
	 * tick (239, 19M): slopes d/245 s, d/300 s, 0 -> d/300 s, 237 MiB/h.
	 */
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_SLOWHEAP + 1, since_ms, until_ms, a) == 0) {
		CHECK(a->m[MW_AM_heap].w[0].valid);
		CHECK_NEAR(a->m[MW_AM_heap].w[0].slope_per_h,
		           (19.0 * MiB - 128 * 1024) / 300 * 3600, 1.0 * MiB);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	expect_region_top(st, R_MMAP, "anon-mmap-leak", "anon", MW_AM_anon);
	expect_region_top(st, R_SOCKETS, "fd-leak-sockets", "kernel", MW_AM_fd_socket);
	expect_region_top(st, R_LIBS, "library-growth", "file_exec", MW_AM_so_files);
	/* 4 KiB per 5 s = 2.8 MiB/h into a queue this process created. */
	expect_region_top(st, R_QUEUE, "ipc-backlog", "kernel", MW_AM_ipc_queue_bytes);
	/* The anon leak cites its support (mapping count) and has the call-site hook. */
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_MMAP + 1, since_ms, until_ms, a) == 0) {
		CHECK_EQ_I64(a->hyp[0].ev.support, MW_AM_anon_maps);
		CHECK_NEAR(a->hyp[0].ev.support_last, 5 + TICKS - 1, 0);
		/* No call sites recorded in this store: the hook says so and cites none. */
		CHECK_EQ_I64(mw_hyp_mmap_call_sites(a, &a->hyp[0].ev), -ENODATA);
		CHECK_EQ_I64(a->hyp[0].ev.ncall_sites, 0);
		/* With fd kinds recorded, the generic fd rule stays silent. */
		for (size_t i = 0; i < a->nhyp; i++)
			if (strcmp(a->hyp[i].rule->id, "fd-leak") == 0)
				CHECK_NEAR(a->hyp[i].score, 0, 0);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	/* 1 MiB per 10 ticks (50 s) = 72 MiB/h, the kept and the removed segment not counted. */
	expect_region_top(st, R_ORPHAN, "shm-orphaned", "shm", MW_AM_ipc_shm_orphan_bytes);
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_ORPHAN + 1, since_ms, until_ms, a) == 0) {
		CHECK_NEAR(a->hyp[0].ev.slope_per_h, 72.0 * MiB, 0.5 * MiB);
		CHECK_NEAR(a->hyp[0].ev.last, 24.0 * MiB, 0);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	/* eBPF evidence: 64 heap faults on each of the 240 ticks support the heap hypothesis. */
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_HEAP + 1, since_ms, until_ms, a) == 0) {
		CHECK(a->bpf.available);
		CHECK_EQ_I64(a->bpf.faults_heap, 64 * TICKS);
		CHECK_EQ_STR(a->hyp[0].rule->id, "heap-growth");
		CHECK(a->hyp[0].ev.bpf_available);
		CHECK_EQ_I64(a->hyp[0].ev.bpf_faults, 64 * TICKS);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	/* Only its own queue counts: 4096 B x 720 ticks/h, not the other's 8192 B. */
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_QUEUE + 1, since_ms, until_ms, a) == 0)
		CHECK_NEAR(a->hyp[0].ev.slope_per_h, 4096.0 * 720, 1.0);
	if (a)
		mw_analysis_release(a);
	free(a);
	test_warming(st);
	a = calloc(1, sizeof(*a));
	if (a && mw_analyze_process(st, R_FLAT + 1, since_ms, until_ms, a) == 0) {
		CHECK_EQ_I64(mw_hypotheses_reported(a), 0);
		CHECK(!a->limits.readable);
	}
	if (a)
		mw_analysis_release(a);
	free(a);
	mw_store_close(st);
}

int main(void)
{
	struct mw_store *st = NULL;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/mw.db", dir);
	write_store();
	CHECK_EQ_I64(mw_store_open_reader(path, &st), 0);
	if (st) {
		test_heap(st);
		expect_top(st, HEAP, "HEAP", "heap");
		expect_top(st, THREADS, "THREADS", "thread_stacks");
		expect_top(st, FDS, "FDS", "kernel");
		expect_top(st, STACK, "STACK", "stack");
		expect_top(st, SHMEM, "SHM", "shm");
		expect_top(st, FILEMAP, "FILES", "file");
		expect_top(st, FRAGMENT, "FRAG", "heap");
		expect_nothing(st, FLAT, "flat");
		expect_nothing(st, SAWTOOTH, "sawtooth");
		expect_nothing(st, STABILISED, "stabilised");
		/* Issue 15 item 6: the tick after a large drop carries no growth verdict. */
		expect_nothing(st, RELEASED, "released");
		test_released(st);
		test_exited(st);
		test_top_tag(st);
		mw_store_close(st);
	}
	test_regions();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", dir);
	}
	return check_done();
}
