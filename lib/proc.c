/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/proc.h"
#include "memwatch/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

/*
 * libproc2 4.0.2 has PIDS_VAL(rel, type, stack, info); 4.0.5 dropped the
 * info argument. Both expand to this, so we use it directly, once.
 */
#define MW_PIDS_VAL(idx, type, stack) ((stack)->head[(idx)].result.type)

#define PF_KTHREAD 0x00200000ul

#define MW_X_NAME_PM(col, kind) #col,
#define MW_X_KIND_PM(col, kind) kind,
const char *const mw_proc_metric_names[MW_PM_COUNT] = {MW_PROC_METRICS(MW_X_NAME_PM)};
const char mw_proc_metric_kinds[MW_PM_COUNT] = {MW_PROC_METRICS(MW_X_KIND_PM)};

/* The libproc2 items we ask for, and their positions in each stack. */
enum {
	I_PID,
	I_PPID,
	I_EUID,
	I_BEGAN,
	I_FLAGS,
	I_CMD,
	I_CMDLINE_V,
	I_CGROUP,
	I_VSZ,
	I_RSS,
	I_RSS_ANON,
	I_RSS_FILE,
	I_RSS_SHMEM,
	I_SWAP,
	I_STACK,
	I_DATA,
	I_NLWP,
	I_MINFLT,
	I_MAJFLT,
	I_OOM_SCORE,
	I_OOM_ADJ,
	I_COUNT
};

static enum pids_item proc_items[I_COUNT] = {
        [I_PID] = PIDS_ID_PID,
        [I_PPID] = PIDS_ID_PPID,
        [I_EUID] = PIDS_ID_EUID,
        [I_BEGAN] = PIDS_TICS_BEGAN,
        [I_FLAGS] = PIDS_FLAGS,
        [I_CMD] = PIDS_CMD,
        [I_CMDLINE_V] = PIDS_CMDLINE_V,
        [I_CGROUP] = PIDS_CGROUP,
        [I_VSZ] = PIDS_VM_SIZE,
        [I_RSS] = PIDS_VM_RSS,
        [I_RSS_ANON] = PIDS_VM_RSS_ANON,
        [I_RSS_FILE] = PIDS_VM_RSS_FILE,
        [I_RSS_SHMEM] = PIDS_VM_RSS_SHARED,
        [I_SWAP] = PIDS_VM_SWAP,
        [I_STACK] = PIDS_VM_STACK,
        [I_DATA] = PIDS_VM_DATA,
        [I_NLWP] = PIDS_NLWP,
        [I_MINFLT] = PIDS_FLT_MIN,
        [I_MAJFLT] = PIDS_FLT_MAJ,
        [I_OOM_SCORE] = PIDS_OOM_SCORE,
        [I_OOM_ADJ] = PIDS_OOM_ADJ,
};

struct mw_proc_collector {
	struct pids_info *info;
	char root[256];
};

int mw_proc_collector_new(const char *root, struct mw_proc_collector **out)
{
	struct mw_proc_collector *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	snprintf(c->root, sizeof(c->root), "%s", root ? root : "");
	r = procps_pids_new(&c->info, proc_items, I_COUNT);
	if (r < 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void mw_proc_collector_free(struct mw_proc_collector *c)
{
	if (!c)
		return;
	procps_pids_unref(&c->info);
	free(c);
}

void mw_proc_sample_release(struct mw_proc_sample *s)
{
	free(s->cmdline);
	free(s->cgroup);
	s->cmdline = s->cgroup = NULL;
}

void mw_proc_set_clear(struct mw_proc_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		mw_proc_sample_release(&set->v[i]);
	set->n = 0;
}

int64_t mw_status_field_kb(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *end;
		long long v;

		if (strncmp(p, key, klen) != 0 || p[klen] != ':')
			continue;
		errno = 0;
		v = strtoll(p + klen + 1, &end, 10);
		if (errno || end == p + klen + 1 || v < 0)
			return MW_UNKNOWN;
		return (int64_t)v * 1024;
	}
	return MW_UNKNOWN;
}

int mw_fd_count(const char *root, pid_t pid)
{
	char path[512];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0, r;

	r = snprintf(path, sizeof(path), "%s/proc/%d/fd", root ? root : "", (int)pid);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	return n;
}

/* argv joined with spaces, raw bytes: escaping is the job of whoever displays it. */
static char *join_argv(char **argv)
{
	size_t len = 0, o = 0;
	char *s;

	for (size_t i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; argv && argv[i]; i++) {
		size_t k = strlen(argv[i]);
		if (o)
			s[o++] = ' ';
		memcpy(s + o, argv[i], k);
		o += k;
	}
	s[o] = '\0';
	/* libproc2 substitutes "-" for an empty or unreadable cmdline; keep it empty instead. */
	if (strcmp(s, "-") == 0)
		s[0] = '\0';
	return s;
}

static int64_t kib(unsigned long v)
{
	return (int64_t)v * 1024;
}

/* The per-pid reads libproc2 4.0 does not do. A vanished process leaves them unknown. */
static void read_extras(const char *root, struct mw_proc_sample *s)
{
	char path[512], buf[4096];
	int n, r;

	snprintf(path, sizeof(path), "%s/proc/%d/status", root, (int)s->pid);
	r = mw_read_file(path, buf, sizeof(buf), NULL);
	if (r == 0 || r == -EFBIG)
		s->m[MW_PM_pte] = mw_status_field_kb(buf, "VmPTE");
	/* /proc/PID/comm is the raw name; stat's copy can be cut at ')' by naive parsers. */
	snprintf(path, sizeof(path), "%s/proc/%d/comm", root, (int)s->pid);
	if (mw_read_file(path, buf, sizeof(buf), NULL) >= 0 && buf[0]) {
		size_t len = strlen(buf);
		if (len && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		mw_strlcpy(s->comm, buf, sizeof(s->comm));
	}
	n = mw_fd_count(root, s->pid);
	s->m[MW_PM_fds] = n >= 0 ? n : MW_UNKNOWN;
}

static int fill_sample(struct mw_proc_collector *c, struct pids_stack *st, struct mw_proc_sample *s)
{
	const char *cmd = MW_PIDS_VAL(I_CMD, str, st);
	const char *cg = MW_PIDS_VAL(I_CGROUP, str, st);

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < MW_PM_COUNT; i++)
		s->m[i] = MW_UNKNOWN;
	s->pid = MW_PIDS_VAL(I_PID, s_int, st);
	s->ppid = MW_PIDS_VAL(I_PPID, s_int, st);
	s->uid = MW_PIDS_VAL(I_EUID, u_int, st);
	s->start_ticks = MW_PIDS_VAL(I_BEGAN, ull_int, st);
	snprintf(s->comm, sizeof(s->comm), "%s", cmd ? cmd : "");
	s->m[MW_PM_vsz] = kib(MW_PIDS_VAL(I_VSZ, ul_int, st));
	s->m[MW_PM_rss] = kib(MW_PIDS_VAL(I_RSS, ul_int, st));
	s->m[MW_PM_rss_anon] = kib(MW_PIDS_VAL(I_RSS_ANON, ul_int, st));
	s->m[MW_PM_rss_file] = kib(MW_PIDS_VAL(I_RSS_FILE, ul_int, st));
	s->m[MW_PM_rss_shmem] = kib(MW_PIDS_VAL(I_RSS_SHMEM, ul_int, st));
	s->m[MW_PM_swap] = kib(MW_PIDS_VAL(I_SWAP, ul_int, st));
	s->m[MW_PM_stack] = kib(MW_PIDS_VAL(I_STACK, ul_int, st));
	s->m[MW_PM_data] = kib(MW_PIDS_VAL(I_DATA, ul_int, st));
	s->m[MW_PM_threads] = MW_PIDS_VAL(I_NLWP, s_int, st);
	s->m[MW_PM_minflt] = (int64_t)MW_PIDS_VAL(I_MINFLT, ul_int, st);
	s->m[MW_PM_majflt] = (int64_t)MW_PIDS_VAL(I_MAJFLT, ul_int, st);
	s->m[MW_PM_oom_score] = MW_PIDS_VAL(I_OOM_SCORE, s_int, st);
	s->m[MW_PM_oom_adj] = MW_PIDS_VAL(I_OOM_ADJ, s_int, st);
	s->cmdline = join_argv(MW_PIDS_VAL(I_CMDLINE_V, strv, st));
	/* libproc2 prints "-" for "no cgroup" (cgroup file unreadable or empty). */
	s->cgroup = strdup(cg && strcmp(cg, "-") != 0 ? cg : "");
	if (!s->cmdline || !s->cgroup) {
		mw_proc_sample_release(s);
		return -ENOMEM;
	}
	read_extras(c->root, s);
	return 0;
}

/*
 * PF_KTHREAD alone: "pid 2 and its children" only holds in the initial pid
 * namespace (in a container pid 2 is a user process), and usermode helpers
 * the kernel spawns under kthreadd are real processes with memory.
 */
static bool is_kernel_thread(struct pids_stack *st)
{
	return (MW_PIDS_VAL(I_FLAGS, ul_int, st) & PF_KTHREAD) != 0;
}

static int set_reserve(struct mw_proc_set *set, size_t want)
{
	struct mw_proc_sample *v;
	size_t cap;

	if (want <= set->cap)
		return 0;
	cap = set->cap ? set->cap : 256;
	while (cap < want)
		cap *= 2;
	v = realloc(set->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	set->v = v;
	set->cap = cap;
	return 0;
}

int mw_proc_collect(struct mw_proc_collector *c, struct mw_proc_set *set)
{
	struct pids_fetch *f;
	int r;

	mw_proc_set_clear(set);
	set->t_ns = mw_now_ns();
	f = procps_pids_reap(c->info, PIDS_FETCH_TASKS_ONLY);
	if (!f)
		return errno ? -errno : -EIO;
	r = set_reserve(set, (size_t)f->counts->total);
	if (r < 0)
		return r;
	for (int i = 0; i < f->counts->total; i++) {
		struct pids_stack *st = f->stacks[i];

		if (is_kernel_thread(st))
			continue;
		r = fill_sample(c, st, &set->v[set->n]);
		if (r < 0)
			return r;
		set->n++;
	}
	return 0;
}

int mw_proc_collect_one(struct mw_proc_collector *c, pid_t pid, struct mw_proc_sample *out)
{
	unsigned want = (unsigned)pid;
	struct pids_fetch *f;

	f = procps_pids_select(c->info, &want, 1, PIDS_SELECT_PID);
	if (!f)
		return errno ? -errno : -EIO;
	if (f->counts->total < 1)
		return -ESRCH;
	if (is_kernel_thread(f->stacks[0]))
		return -ESRCH;
	return fill_sample(c, f->stacks[0], out);
}

long mw_clock_ticks_per_sec(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

int mw_boot_time(const char *root, uint64_t *btime_s)
{
	char path[512];
	_cleanup_free_ char *buf = NULL;
	const char *p;
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/stat");
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &buf, NULL);
	if (r < 0)
		return r;
	p = strstr(buf, "\nbtime ");
	if (!p)
		return -ENOENT;
	*btime_s = strtoull(p + 7, NULL, 10);
	return 0;
}

int mw_boot_id(const char *root, char *buf, size_t cap)
{
	char path[512];
	size_t len = 0;
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/sys/kernel/random/boot_id");
	if (r < 0)
		return r;
	r = mw_read_file(path, buf, cap, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return len ? 0 : -ENOENT;
}
