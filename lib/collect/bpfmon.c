/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "memwatch/collect/bpfmon.h"
#include "memwatch/base/log.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

void mw_bpfmon_options_default(struct mw_bpfmon_options *o)
{
	*o = (struct mw_bpfmon_options){
	        .stack_window = 0,
	        .rss_threshold = 1 << 20,
	        .rss_rate = 10,
	        .rss_burst = 20,
	        .ringbuf_bytes = 1 << 20,
	        .mappings_max = 16384,
	};
}

uint64_t mw_bpf_start_ticks(uint64_t start_boottime_ns, long hz)
{
	/* The kernel's nsec_to_clock_t: an exact division when HZ divides 1e9. */
	return hz > 0 ? start_boottime_ns / (1000000000ull / (uint64_t)hz) : 0;
}

void mw_bpf_snapshot_release(struct mw_bpf_snapshot *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

#if !MW_HAVE_BPF

int mw_bpfmon_open(const struct mw_bpfmon_options *o MW_UNUSED, struct mw_bpfmon **out, char *why,
                   size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "not built with eBPF support");
	return -EOPNOTSUPP;
}

void mw_bpfmon_close(struct mw_bpfmon *m MW_UNUSED)
{
}

const char *mw_bpfmon_programs(const struct mw_bpfmon *m MW_UNUSED)
{
	return "";
}

const char *mw_bpfmon_missing(const struct mw_bpfmon *m MW_UNUSED)
{
	return "";
}

const char *mw_bpfmon_gaps(const struct mw_bpfmon *m MW_UNUSED)
{
	return "";
}

int mw_bpfmon_fd(const struct mw_bpfmon *m MW_UNUSED)
{
	return -1;
}

int mw_bpfmon_drain(struct mw_bpfmon *m MW_UNUSED, mw_bpfmon_event_fn fn MW_UNUSED,
                    void *ctx MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int mw_bpfmon_snapshot(struct mw_bpfmon *m MW_UNUSED, struct mw_bpf_snapshot *out)
{
	out->v = NULL;
	out->n = 0;
	return -EOPNOTSUPP;
}

int mw_bpfmon_vmas(struct mw_bpfmon *m MW_UNUSED, pid_t pid MW_UNUSED, struct mw_bpf_vma **out,
                   size_t *n)
{
	*out = NULL;
	*n = 0;
	return -EOPNOTSUPP;
}

int mw_bpfmon_prog_stats(struct mw_bpfmon *m MW_UNUSED, struct mw_bpf_prog_stat *out MW_UNUSED,
                         size_t cap MW_UNUSED, size_t *n)
{
	*n = 0;
	return -EOPNOTSUPP;
}

void mw_bpfmon_counters(struct mw_bpfmon *m MW_UNUSED, struct mw_bpf_counters *out)
{
	memset(out, 0, sizeof(*out));
}

int mw_bpfmon_stats_enable(struct mw_bpfmon *m MW_UNUSED, bool on MW_UNUSED)
{
	return -EOPNOTSUPP;
}

uint64_t mw_bpfmon_stats_window_ns(const struct mw_bpfmon *m MW_UNUSED)
{
	return 0;
}

int mw_bpfmon_pause(struct mw_bpfmon *m MW_UNUSED, bool paused MW_UNUSED)
{
	return -EOPNOTSUPP;
}

int mw_bpfmon_snaps(struct mw_bpfmon *m MW_UNUSED, uint32_t stack_bytes MW_UNUSED,
                    double rate_per_s MW_UNUSED, double burst MW_UNUSED)
{
	return -EOPNOTSUPP;
}

#else /* MW_HAVE_BPF */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "memwatch.skel.h"

/*
 * The programs, in skeleton order: how status names each, and the evidence
 * that is missing when the kernel refuses it.
 */
static const struct {
	const char *name;
	const char *what;
	const char *evidence;
} progs_known[] = {
        {"mw_fault_user", "page_fault_user (tp_btf)",
         "faults by region, RSS movement, heap (brk) call sites"},
        {"mw_vm_unmapped_area", "vm_unmapped_area (tp_btf)",
         "new mappings by kind and bytes, mapping call sites"},
        {"mw_rss_stat", "rss_stat (tp_btf)", "RSS movement from reclaim and migration"},
        {"mw_mark_victim", "oom/mark_victim (tracepoint)", "OOM-kill victims with their RSS"},
        {"mw_oom_adj", "oom_score_adj_update (tp_btf)", "oom_score_adj changes"},
        {"mw_process_exit", "sched_process_exit (tp_btf)",
         "exits with final counters (short-lived processes)"},
        {"mw_reclaim_begin", "mm_vmscan_direct_reclaim_begin (tp_btf)", "direct-reclaim stalls"},
        {"mw_reclaim_end", "mm_vmscan_direct_reclaim_end (tp_btf)", "direct-reclaim stalls"},
        {"mw_iter_task", "task (iter)",
         "per-process eBPF counters (faults by region, new mappings)"},
        {"mw_iter_vma", "task_vma (iter)", "mapping lists through eBPF"},
};

#define MW_NPROGS      MW_ARRAY_SIZE(progs_known)

struct mw_bpfmon {
	struct memwatch_bpf *skel;
	struct ring_buffer *rb;
	int stats_fd;
	uint64_t stats_since_ns; /* when statistics were last turned on (monotonic) */
	uint64_t stats_window_ns;
	mw_bpfmon_event_fn fn;
	void *fn_ctx;
	int fn_err;
	char programs[1024];
	char missing[4096];     /* mw_bpfmon_missing */
	char gaps[1024];        /* mw_bpfmon_gaps */
	bool paused[MW_NPROGS]; /* detached by mw_bpfmon_pause */
};

/* libbpf's own format strings: the attribute lets clang check the call through them. */
__attribute__((format(printf, 2, 0))) static int libbpf_log(enum libbpf_print_level level,
                                                            const char *fmt, va_list ap)
{
	char buf[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	mw_debug("libbpf: %s", buf);
	return 0;
}

/* Classic tracepoints are found through tracefs, which may not be mounted yet. */
static void ensure_tracefs(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		mw_debug("mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
}

static uint64_t stack_window(const struct mw_bpfmon_options *o)
{
	struct rlimit rl;

	if (o->stack_window)
		return o->stack_window;
	/* The main stack cannot grow past RLIMIT_STACK below start_stack. */
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (1ull << 30))
		return rl.rlim_cur;
	return 8ull << 20;
}

/* Open a skeleton with only the programs in `want` set to load, configured. */
/*
 * The byte offset of member `name` of struct or union type id, looking
 * into anonymous members (mm_struct keeps its fields in one); -1 if none.
 */
static long member_off(const struct btf *btf, __u32 id, const char *name, __u32 *type)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *mb;

	if (!t || !(btf_is_struct(t) || btf_is_union(t)))
		return -1;
	mb = btf_members(t);
	for (__u16 k = 0; k < btf_vlen(t); k++, mb++) {
		const char *n = btf__name_by_offset(btf, mb->name_off);
		__s32 mt = btf__resolve_type(btf, mb->type);
		long at = (long)(btf_member_bit_offset(t, k) / 8), inner;

		if (n && n[0] && strcmp(n, name) == 0) {
			if (type)
				*type = mt < 0 ? mb->type : (__u32)mt;
			return at;
		}
		if ((!n || !n[0]) && mt > 0 &&
		    (inner = member_off(btf, (__u32)mt, name, type)) >= 0)
			return at + inner;
	}
	return -1;
}

/*
 * Where mm->rss_stat's counters are: since 6.2 an array of struct
 * percpu_counter (count, and counters for the per-CPU parts); before, a
 * struct mm_rss_stat of atomic_long_t count[] (counter). Left 0 when
 * neither shape is found, and the programs report RSS as unknown.
 */
static void rss_layout(const struct btf *btf, uint32_t off[MW_RSS_COUNT],
                       uint32_t ctr[MW_RSS_COUNT])
{
	__s32 mm = btf__find_by_name_kind(btf, "mm_struct", BTF_KIND_STRUCT);
	const struct btf_type *t;
	__u32 type = 0, elem;
	long base, c, cc;

	if (mm < 0 || (base = member_off(btf, (__u32)mm, "rss_stat", &type)) < 0)
		return;
	t = btf__type_by_id(btf, type);
	if (t && btf_is_array(t)) {
		elem = (__u32)btf__resolve_type(btf, btf_array(t)->type);
		c = member_off(btf, elem, "count", NULL);
		cc = member_off(btf, elem, "counters", NULL);
		if (c < 0 || btf_array(t)->nelems < MW_RSS_COUNT)
			return;
		for (int k = 0; k < MW_RSS_COUNT; k++) {
			long at = base + k * (long)btf__resolve_size(btf, elem);
			off[k] = (uint32_t)(at + c);
			ctr[k] = cc < 0 ? 0 : (uint32_t)(at + cc);
		}
	} else if (t && btf_is_struct(t)) {
		c = member_off(btf, type, "count", NULL);
		if (c < 0)
			return;
		for (int k = 0; k < MW_RSS_COUNT; k++)
			off[k] = (uint32_t)(base + c + k * 8); /* atomic_long_t: one long */
	}
}

/* Whether uname's release is at least major.minor. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return true;
	return a > major || (a == major && b >= minor);
}

/*
 * Evidence a loaded program cannot give on this kernel: before 6.14,
 * sched_process_exit fires after exit_mm() has dropped the process's
 * memory, so exits carry no final RSS.
 */
static void note_gaps(struct mw_bpfmon *m)
{
	m->gaps[0] = '\0';
	if (!kernel_at_least(6, 14))
		snprintf(m->gaps, sizeof(m->gaps),
		         "sched_process_exit (tp_btf)\tthis kernel runs it after the process's "
		         "memory "
		         "is released (before 6.14)\tfinal RSS at exit (the last sample stands in; "
		         "exits are kept by mapped bytes)\n");
}

/* What the programs must know of this kernel, from its BTF. */
static void kernel_facts(struct mw_bpfmon_options *o)
{
	struct btf *btf = btf__load_vmlinux_btf();

	memset(&o->kernel, 0, sizeof(o->kernel));
	if (!btf)
		return;
	o->kernel.has_task_from_pid =
	        btf__find_by_name_kind(btf, "bpf_task_from_pid", BTF_KIND_FUNC) > 0;
	rss_layout(btf, o->kernel.rss_off, o->kernel.rss_ctr_off);
	if (!o->kernel.rss_off[0])
		mw_warn("eBPF: mm->rss_stat has a layout memwatch does not know: RSS from eBPF "
		        "is unknown on this kernel");
	btf__free(btf);
}

static int skel_open(const struct mw_bpfmon_options *o, const bool want[MW_NPROGS],
                     struct memwatch_bpf **out)
{
	struct memwatch_bpf *skel = memwatch_bpf__open();
	struct bpf_program *p;
	int ncpus = libbpf_num_possible_cpus();
	size_t i = 0;
	int r;

	if (!skel)
		return errno ? -errno : -ENOMEM;
	bpf_object__for_each_program(p, skel->obj)
	{
		bool on = false;
		for (i = 0; i < MW_NPROGS; i++)
			if (strcmp(bpf_program__name(p), progs_known[i].name) == 0)
				on = want[i];
		bpf_program__set_autoload(p, on);
	}
	skel->rodata->mw_nr_cpus = ncpus > 0 ? (uint32_t)ncpus : 1;
	skel->rodata->mw_stack_window = stack_window(o);
	skel->rodata->mw_rss_threshold = o->rss_threshold / 4096 ? o->rss_threshold / 4096 : 1;
	if (o->rss_rate > 0) {
		skel->rodata->mw_rss_cost_ns = (uint64_t)(1e9 / o->rss_rate);
		skel->rodata->mw_rss_credit_max_ns =
		        (uint64_t)(1e9 / o->rss_rate * (o->rss_burst >= 1 ? o->rss_burst : 1));
	}
	skel->rodata->mw_rb_wakeup_bytes = o->ringbuf_bytes / 2;
	skel->rodata->mw_has_task_from_pid = o->kernel.has_task_from_pid;
	for (int k = 0; k < MW_RSS_COUNT; k++) {
		skel->rodata->mw_rss_off[k] = o->kernel.rss_off[k];
		skel->rodata->mw_rss_ctr_off[k] = o->kernel.rss_ctr_off[k];
	}
	skel->rodata->mw_owner_pointer = o->owner_pointer;
	r = bpf_map__set_max_entries(skel->maps.mw_events, o->ringbuf_bytes);
	if (r == 0)
		r = bpf_map__set_max_entries(skel->maps.mw_mappings, o->mappings_max);
	if (r < 0) {
		memwatch_bpf__destroy(skel);
		return r;
	}
	*out = skel;
	return 0;
}

static int try_load(const struct mw_bpfmon_options *o, const bool want[MW_NPROGS],
                    struct memwatch_bpf **out, char *log, size_t loglen)
{
	struct memwatch_bpf *skel = NULL;
	int r = skel_open(o, want, &skel);

	if (r < 0)
		return r;
	if (log) {
		struct bpf_program *p;

		log[0] = '\0';
		bpf_object__for_each_program(p, skel->obj)
		{
			if (bpf_program__autoload(p)) {
				bpf_program__set_log_buf(p, log, loglen);
				bpf_program__set_log_level(p, 1);
			}
		}
	}
	r = memwatch_bpf__load(skel);
	if (r < 0) {
		memwatch_bpf__destroy(skel);
		return r;
	}
	*out = skel;
	return 0;
}

/* libbpf's poison for an instruction whose CO-RE relocation did not resolve. */
#define MW_CORE_POISON "unknown#195896080"

/*
 * The line of a verifier log that says why: the last one before the
 * statistics the verifier appends.
 */
static void verifier_reason(const char *log, char *out, size_t outlen)
{
	const char *line = log, *best = NULL;
	size_t best_len = 0;

	out[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len && strncmp(line, "processed ", 10) != 0 &&
		    strncmp(line, "verification time", 17) != 0 &&
		    strncmp(line, "stack depth", 11) != 0 && strncmp(line, "-- END", 6) != 0) {
			best = line;
			best_len = len;
		}
		line = end ? end + 1 : NULL;
	}
	if (!best)
		return;
	if (memmem(best, best_len, MW_CORE_POISON, strlen(MW_CORE_POISON)))
		snprintf(out, outlen,
		         "a kernel type or field it reads is not in this kernel's BTF "
		         "(unresolved CO-RE relocation)");
	else
		snprintf(out, outlen, "verifier: %.*s", (int)(best_len < 300 ? best_len : 300),
		         best);
}

/* Note a program left out, with why and what evidence goes with it. */
static void note_missing(struct mw_bpfmon *m, size_t i, const char *why)
{
	size_t o = strlen(m->missing);

	mw_warn("eBPF: %s left out (%s): %s", progs_known[i].what, progs_known[i].evidence, why);
	if (o < sizeof(m->missing))
		snprintf(m->missing + o, sizeof(m->missing) - o, "%s\t%s\t%s\n",
		         progs_known[i].what, why, progs_known[i].evidence);
}

/* The hook name of program i as an operator writes it: "page_fault_user", "task". */
static bool prog_named(size_t i, const char *list)
{
	const char *what = progs_known[i].what;
	size_t len = strcspn(what, " ");
	const char *slash = memchr(what, '/', len);

	if (slash) {
		len -= (size_t)(slash + 1 - what);
		what = slash + 1;
	}
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ", ");
		if (n == len && strncmp(p, what, len) == 0)
			return true;
		p += n;
		p += strspn(p, ", ");
	}
	return false;
}

/* Why program i failed alone: the verifier's line, or the error. */
static void probe_reason(const struct mw_bpfmon_options *o, size_t i, int r, char *why,
                         size_t whylen)
{
	const size_t loglen = 8u << 20;
	bool one[MW_NPROGS] = {false};
	struct memwatch_bpf *skel = NULL;
	char *log = malloc(loglen);

	snprintf(why, whylen, "%s", strerror(-r));
	if (!log)
		return;
	one[i] = true;
	if (try_load(o, one, &skel, log, loglen) == 0)
		memwatch_bpf__destroy(skel); /* loads now: keep the errno */
	else
		verifier_reason(log, why, whylen);
	if (!why[0])
		snprintf(why, whylen, "%s", strerror(-r));
	free(log);
}

/*
 * Load everything; when that fails, find out program by program what this
 * kernel accepts (libbpf-tools style) and load that set. Every program
 * left out is noted, with the reason, in m->missing.
 */
static int load_what_works(struct mw_bpfmon *m, const struct mw_bpfmon_options *o,
                           bool want[MW_NPROGS])
{
	int r, first_err = 0;
	size_t nok = 0;

	for (size_t i = 0; i < MW_NPROGS; i++) {
		want[i] = o->rss_stat_hook || strcmp(progs_known[i].name, "mw_rss_stat") != 0;
		if (want[i] && prog_named(i, o->disable)) {
			want[i] = false;
			note_missing(m, i, "turned off by MEMWATCH_BPF_OFF");
		}
	}
	r = try_load(o, want, &m->skel, NULL, 0);
	/* Without the privilege nothing will load: say so rather than probe. */
	if (r == 0 || r == -EPERM)
		return r;
	mw_debug("eBPF: loading every program failed (%s); probing one by one", strerror(-r));
	for (size_t i = 0; i < MW_NPROGS; i++) {
		bool one[MW_NPROGS] = {false};
		struct memwatch_bpf *skel = NULL;
		char why[400];

		if (!want[i])
			continue;
		one[i] = true;
		r = try_load(o, one, &skel, NULL, 0);
		want[i] = r == 0;
		if (r == 0) {
			nok++;
			memwatch_bpf__destroy(skel);
			continue;
		}
		probe_reason(o, i, r, why, sizeof(why));
		note_missing(m, i, why);
		if (!first_err)
			first_err = r;
	}
	if (!nok)
		return first_err ? first_err : -EOPNOTSUPP;
	return try_load(o, want, &m->skel, NULL, 0);
}

/* Where the skeleton keeps program i's link (progs_known order). */
static struct bpf_link **link_slot(struct memwatch_bpf *s, size_t i)
{
	struct bpf_link **slots[MW_NPROGS] = {
	        &s->links.mw_fault_user,    &s->links.mw_vm_unmapped_area,
	        &s->links.mw_rss_stat,      &s->links.mw_mark_victim,
	        &s->links.mw_oom_adj,       &s->links.mw_process_exit,
	        &s->links.mw_reclaim_begin, &s->links.mw_reclaim_end,
	        &s->links.mw_iter_task,     &s->links.mw_iter_vma,
	};

	_Static_assert(MW_NPROGS == 10, "a link slot for every program");
	return slots[i];
}

static int attach_all(struct mw_bpfmon *m, bool want[MW_NPROGS])
{
	struct bpf_program *p;
	size_t n = 0, o = 0;

	m->programs[0] = '\0';
	bpf_object__for_each_program(p, m->skel->obj)
	{
		struct bpf_link *l;
		size_t i;

		for (i = 0; i < MW_NPROGS; i++)
			if (strcmp(bpf_program__name(p), progs_known[i].name) == 0)
				break;
		if (i == MW_NPROGS || !want[i])
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			char why[128];

			snprintf(why, sizeof(why), "does not attach: %s", strerror(errno));
			note_missing(m, i, why);
			want[i] = false;
			continue;
		}
		/* The skeleton destroys links it knows; keep ours in its slots. */
		*link_slot(m->skel, i) = l;
		o += (size_t)snprintf(m->programs + o,
		                      o < sizeof(m->programs) ? sizeof(m->programs) - o : 0, "%s%s",
		                      n ? ", " : "", progs_known[i].what);
		if (o >= sizeof(m->programs))
			o = sizeof(m->programs) - 1;
		n++;
	}
	return n ? 0 : -EOPNOTSUPP;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct mw_bpfmon *m = ctx;

	if (len < sizeof(struct mw_bpf_event) || m->fn_err)
		return 0;
	m->fn_err = m->fn((const struct mw_bpf_event *)data, m->fn_ctx);
	return 0;
}

static void explain(int r, char *why, size_t whylen)
{
	if (r == -EPERM || r == -EACCES)
		snprintf(why, whylen,
		         "no permission to load eBPF programs (needs root or "
		         "CAP_BPF+CAP_PERFMON): %s",
		         strerror(-r));
	else
		snprintf(why, whylen, "eBPF programs do not load on this kernel: %s", strerror(-r));
}

int mw_bpfmon_open(const struct mw_bpfmon_options *opt, struct mw_bpfmon **out, char *why,
                   size_t whylen)
{
	struct mw_bpfmon_options o;
	bool want[MW_NPROGS];
	struct mw_bpfmon *m;
	int r;

	*out = NULL;
	if (opt)
		o = *opt;
	else
		mw_bpfmon_options_default(&o);
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(why, whylen, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s)",
		         strerror(errno));
		return -EOPNOTSUPP;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->stats_fd = -1;
	libbpf_set_print(libbpf_log);
	ensure_tracefs();
	kernel_facts(&o);
	r = load_what_works(m, &o, want);
	if (r < 0) {
		explain(r, why, whylen);
		goto fail;
	}
	r = attach_all(m, want);
	note_gaps(m);
	if (r < 0) {
		snprintf(why, whylen, "no eBPF program attaches on this kernel");
		goto fail;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.mw_events), on_event, m, NULL);
	if (!m->rb) {
		r = -errno;
		snprintf(why, whylen, "ring buffer: %s", strerror(-r));
		goto fail;
	}
	/* Run counts and times per program, for `memwatch status`. */
	if (o.stats_always && mw_bpfmon_stats_enable(m, true) < 0)
		mw_info("eBPF: run-time statistics unavailable: %s", strerror(errno));
	*out = m;
	return 0;
fail:
	mw_bpfmon_close(m);
	return r;
}

void mw_bpfmon_close(struct mw_bpfmon *m)
{
	if (!m)
		return;
	ring_buffer__free(m->rb);
	memwatch_bpf__destroy(m->skel);
	if (m->stats_fd >= 0)
		close(m->stats_fd);
	free(m);
}

const char *mw_bpfmon_programs(const struct mw_bpfmon *m)
{
	return m->programs;
}

const char *mw_bpfmon_missing(const struct mw_bpfmon *m)
{
	return m->missing;
}

const char *mw_bpfmon_gaps(const struct mw_bpfmon *m)
{
	return m->gaps;
}

int mw_bpfmon_fd(const struct mw_bpfmon *m)
{
	return m->rb ? ring_buffer__epoll_fd(m->rb) : -1;
}

int mw_bpfmon_drain(struct mw_bpfmon *m, mw_bpfmon_event_fn fn, void *ctx)
{
	int r;

	m->fn = fn;
	m->fn_ctx = ctx;
	m->fn_err = 0;
	r = ring_buffer__consume(m->rb);
	if (r < 0)
		return r;
	return m->fn_err < 0 ? m->fn_err : r;
}

/* Read a whole iterator into a growing buffer of records of size rec. */
static int read_iter(struct bpf_link *link, size_t rec, void **out, size_t *n)
{
	size_t cap = 0, len = 0;
	char *buf = NULL;
	int fd, r = 0;

	*out = NULL;
	*n = 0;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;
		if (cap - len < 64 * rec) {
			size_t ncap = cap ? cap * 2 : 256 * rec;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*n = len / rec;
	return 0;
}

static int cmp_tgid(const void *a, const void *b)
{
	const struct mw_bpf_proc *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return (int)x->is_thread - (int)y->is_thread;
}

int mw_bpfmon_snapshot(struct mw_bpfmon *m, struct mw_bpf_snapshot *out)
{
	struct mw_bpf_proc *v = NULL;
	size_t n = 0, k = 0;
	int r;

	out->v = NULL;
	out->n = 0;
	if (!m->skel->links.mw_iter_task)
		return -EOPNOTSUPP;
	r = read_iter(m->skel->links.mw_iter_task, sizeof(*v), (void **)&v, &n);
	if (r < 0)
		return r;
	/* Leaders first within each tgid, then fold the other threads' fault counts in. */
	mw_qsort(v, n, sizeof(*v), cmp_tgid);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].is_thread) {
			v[k++] = v[i];
		} else if (k && v[k - 1].tgid == v[i].tgid) {
			v[k - 1].minflt += v[i].minflt;
			v[k - 1].majflt += v[i].majflt;
		}
	}
	out->v = v;
	out->n = k;
	return 0;
}

int mw_bpfmon_vmas(struct mw_bpfmon *m, pid_t pid, struct mw_bpf_vma **out, size_t *n)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo;
	struct bpf_link *link;
	int r;

	*out = NULL;
	*n = 0;
	if (!m->skel->links.mw_iter_vma)
		return -EOPNOTSUPP;
	if (pid <= 0)
		return read_iter(m->skel->links.mw_iter_vma, sizeof(**out), (void **)out, n);
	/* One process: a link scoped to it, so the kernel walks only its mappings. */
	memset(&linfo, 0, sizeof(linfo));
	linfo.task.pid = (__u32)pid;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(m->skel->progs.mw_iter_vma, &opts);
	if (!link)
		return -errno;
	r = read_iter(link, sizeof(**out), (void **)out, n);
	bpf_link__destroy(link);
	return r;
}

int mw_bpfmon_prog_stats(struct mw_bpfmon *m, struct mw_bpf_prog_stat *out, size_t cap, size_t *n)
{
	struct bpf_program *p;

	*n = 0;
	bpf_object__for_each_program(p, m->skel->obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || *n >= cap)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			continue;
		snprintf(out[*n].name, sizeof(out[*n].name), "%s", bpf_program__name(p));
		out[*n].run_cnt = info.run_cnt;
		out[*n].run_time_ns = info.run_time_ns;
		(*n)++;
	}
	return 0;
}

void mw_bpfmon_counters(struct mw_bpfmon *m, struct mw_bpf_counters *out)
{
	*out = m->skel->bss->mw_counters;
}

int mw_bpfmon_snaps(struct mw_bpfmon *m, uint32_t stack_bytes, double rate_per_s, double burst)
{
	double cost;

	/* Both programs, or the tracker would miss one kind and never know. */
	if (!m->skel->links.mw_fault_user || !m->skel->links.mw_vm_unmapped_area)
		return -EOPNOTSUPP;
	if (stack_bytes > MW_SNAP_STACK_MAX || (stack_bytes && (rate_per_s <= 0 || burst < 1)))
		return -EINVAL;
	cost = stack_bytes ? 1e9 / rate_per_s : 0;
	m->skel->bss->mw_snap_cost_ns = (uint64_t)cost;
	m->skel->bss->mw_snap_credit_max_ns = (uint64_t)(cost * burst);
	/* Last: the programs read the buckets only once this is set. */
	__atomic_store_n(&m->skel->bss->mw_snap_stack_bytes, stack_bytes, __ATOMIC_RELEASE);
	return bpf_map__fd(m->skel->maps.mw_snaps);
}

/*
 * Detach the event programs (not the iterators, which run only when read)
 * and attach them again; maps and task storage stay as they are.
 */
int mw_bpfmon_pause(struct mw_bpfmon *m, bool paused)
{
	int r = 0;

	for (size_t i = 0; i < MW_NPROGS; i++) {
		struct bpf_link **slot = link_slot(m->skel, i);
		struct bpf_program *p =
		        bpf_object__find_program_by_name(m->skel->obj, progs_known[i].name);

		if (!p || bpf_program__expected_attach_type(p) == BPF_TRACE_ITER)
			continue;
		if (paused && *slot) {
			bpf_link__destroy(*slot);
			*slot = NULL;
			m->paused[i] = true;
		} else if (!paused && m->paused[i]) {
			*slot = bpf_program__attach(p);
			if (!*slot) {
				r = r ? r : -errno;
				continue;
			}
			m->paused[i] = false;
		}
	}
	return r;
}

/* Statistics are on while any descriptor from BPF_ENABLE_STATS is open. */
int mw_bpfmon_stats_enable(struct mw_bpfmon *m, bool on)
{
	uint64_t now = mw_mono_ns();

	if (on && m->stats_fd < 0) {
		m->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (m->stats_fd < 0)
			return -errno;
		m->stats_since_ns = now;
	} else if (!on && m->stats_fd >= 0) {
		close(m->stats_fd);
		m->stats_fd = -1;
		m->stats_window_ns += now - m->stats_since_ns;
	}
	return 0;
}

uint64_t mw_bpfmon_stats_window_ns(const struct mw_bpfmon *m)
{
	return m->stats_window_ns + (m->stats_fd >= 0 ? mw_mono_ns() - m->stats_since_ns : 0);
}

#endif /* MW_HAVE_BPF */
