/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/proc.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libproc2/pids.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

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

/*
 * What libproc2 gives us: the cgroup as its joined and escaped string, for
 * processes whose /proc/PID/cgroup text we have not seen formatted before.
 * Everything else is read and parsed here, once per file: libproc2 4.0
 * reads status but not VmPTE (a second status read), and opens every file
 * anew each time.
 */
enum { I_PID, I_CGROUP, I_COUNT };

static enum pids_item proc_items[I_COUNT] = {
        [I_PID] = PIDS_ID_PID,
        [I_CGROUP] = PIDS_CGROUP,
};

/*
 * What the collector keeps of a process between sweeps: its raw cgroup
 * text and libproc2's string for it. The same text formats the same, so
 * libproc2 is asked again only when the text changes.
 */
struct known {
	uint64_t gen; /* the sweep that last saw the process */
	char *cg_raw, *cg_fmt;
	size_t cg_len;
	char *stat_raw; /* the stat text of the last full read, and that read */
	size_t stat_len;
	struct mw_proc_sample last; /* cgroup NULL: cg_fmt holds it */
};

/* A /proc/PID/stat kept open between sweeps, by (pid, 0): no lookup of the path each time. */
struct statfd {
	uint64_t gen;
	int fd;
};

struct mw_proc_collector {
	struct pids_info *info;
	int procfd; /* root/proc */
	char root[256];
	char *buf; /* read buffer, grown on demand */
	size_t cap;
	struct mw_pidmap *known; /* struct known by (pid, start) */
	struct mw_pidmap *statfds;
	size_t statfd_max; /* beyond it stat is opened and closed each time */
	uint64_t gen;
};

#define READ_BUF_MIN (8u << 10)
/* A status with 65536 supplementary groups is ~700 KiB; a longer cmdline is cut here. */
#define READ_BUF_MAX (4u << 20)

static void known_release(struct known *k)
{
	free(k->cg_raw);
	free(k->cg_fmt);
	free(k->stat_raw);
	mw_proc_sample_release(&k->last);
	k->cg_raw = k->cg_fmt = k->stat_raw = NULL;
}

static bool known_keep(void *value, void *ctx)
{
	struct known *k = value;
	const struct mw_proc_collector *c = ctx;

	if (k->gen == c->gen)
		return true;
	known_release(k);
	return false;
}

static bool statfd_keep(void *value, void *ctx)
{
	struct statfd *f = value;
	const struct mw_proc_collector *c = ctx;

	if (f->gen == c->gen)
		return true;
	close(f->fd);
	return false;
}

/* Forget processes the last sweep did not see. */
static int known_prune(struct mw_proc_collector *c)
{
	int r = mw_pidmap_prune(c->known, known_keep, c);

	return r < 0 ? r : mw_pidmap_prune(c->statfds, statfd_keep, c);
}

/* Half the descriptor limit for kept stat files, the rest for everything else. */
static size_t statfd_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 256)
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ? 65536
	                                    : (rl.rlim_cur / 2 < 65536 ? rl.rlim_cur / 2 : 65536);
}

int mw_proc_collector_new(const char *root, struct mw_proc_collector **out)
{
	struct mw_proc_collector *c = calloc(1, sizeof(*c));
	char path[512];
	int r;

	if (!c)
		return -ENOMEM;
	c->procfd = -1;
	snprintf(c->root, sizeof(c->root), "%s", root ? root : "");
	r = mw_path(path, sizeof(path), c->root, "/proc");
	if (r < 0)
		goto fail;
	c->procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->procfd < 0) {
		r = -errno;
		goto fail;
	}
	c->cap = READ_BUF_MIN;
	c->buf = malloc(c->cap);
	if (!c->buf) {
		r = -ENOMEM;
		goto fail;
	}
	r = mw_pidmap_new(sizeof(struct known), &c->known);
	if (r < 0)
		goto fail;
	r = mw_pidmap_new(sizeof(struct statfd), &c->statfds);
	if (r < 0)
		goto fail;
	c->statfd_max = statfd_budget();
	r = procps_pids_new(&c->info, proc_items, I_COUNT);
	if (r < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	mw_proc_collector_free(c);
	return r;
}

void mw_proc_collector_free(struct mw_proc_collector *c)
{
	if (!c)
		return;
	if (c->info)
		procps_pids_unref(&c->info);
	if (c->known) {
		c->gen++;
		known_prune(c);
		mw_pidmap_free(c->known);
	}
	if (c->statfds) {
		c->gen++;
		mw_pidmap_prune(c->statfds, statfd_keep, c);
		mw_pidmap_free(c->statfds);
	}
	if (c->procfd >= 0)
		close(c->procfd);
	free(c->buf);
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
		return mw_mul_or_unknown(v, 1024);
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

/*
 * Since Linux 6.2 the size of /proc/PID/fd is the number of open
 * descriptors: one fstatat instead of a directory walk that builds a
 * dentry per descriptor. stat() needs no permission on the directory but
 * listing it does, so the count is only taken where a listing would be
 * allowed (faccessat asks the same permission hook): unprivileged, others'
 * processes stay unknown as before. A size of 0 (older kernels, or really
 * no descriptors) falls back to the walk.
 */
static int count_fds(struct mw_proc_collector *c, pid_t pid)
{
	char rel[32];
	struct stat st;

	snprintf(rel, sizeof(rel), "%d/fd", (int)pid);
	if (fstatat(c->procfd, rel, &st, 0) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size > INT32_MAX)
		return mw_fd_count(c->root, pid);
	if (faccessat(c->procfd, rel, R_OK, AT_EACCESS) < 0)
		return -errno;
	return (int)st.st_size;
}

/*
 * /proc/PID/cmdline as it was stored when libproc2 read it (argv split at
 * NUL and newline, joined with spaces): raw bytes, every NUL and newline a
 * space, the final terminator dropped; escaping is the job of whoever
 * displays it. libproc2 reported an empty cmdline as "-", which was stored
 * as empty, and so was an argv of just "-": both stay empty.
 */
int mw_proc_cmdline_text(char *raw, size_t len)
{
	if (len && raw[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '\0' || raw[i] == '\n')
			raw[i] = ' ';
	raw[len] = '\0';
	if (strcmp(raw, "-") == 0)
		raw[0] = '\0';
	return (int)strlen(raw);
}

static int64_t kib(int64_t v)
{
	return mw_mul_or_unknown(v, 1024);
}

/* The next space-separated integer of a stat line; *p moves past it. */
static int stat_field(const char **p, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(*p, &end, 10);
	if (errno || end == *p || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EBADMSG;
	*p = end;
	return 0;
}

int mw_proc_parse_stat(const char *text, struct mw_proc_sample *s, unsigned long *flags)
{
	/* Field numbers as in proc(5); the ones kept, after comm (2) and state (3). */
	enum {
		F_PPID = 4,
		F_FLAGS = 9,
		F_MINFLT = 10,
		F_MAJFLT = 12,
		F_THREADS = 20,
		F_START = 22
	};
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	long long v, pid;
	char *end;
	size_t n;

	if (!open || !close || close < open || close[1] != ' ' || !close[2] || close[3] != ' ')
		return -EBADMSG;
	errno = 0;
	pid = strtoll(text, &end, 10);
	if (errno || end == text || pid <= 0 || pid > INT32_MAX || end + 1 != open)
		return -EBADMSG;
	s->pid = (pid_t)pid;
	/* Raw bytes between the first '(' and the last ')': ')' and newlines may be in it. */
	n = (size_t)(close - open - 1);
	if (n >= sizeof(s->comm))
		n = sizeof(s->comm) - 1;
	memcpy(s->comm, open + 1, n);
	s->comm[n] = '\0';
	p = close + 4;
	for (int f = F_PPID; f <= F_START; f++) {
		if (stat_field(&p, &v) < 0)
			return -EBADMSG;
		switch (f) {
		case F_PPID:
			s->ppid = (pid_t)v;
			break;
		case F_FLAGS:
			*flags = (unsigned long)v;
			break;
		case F_MINFLT:
			s->m[MW_PM_minflt] = v;
			break;
		case F_MAJFLT:
			s->m[MW_PM_majflt] = v;
			break;
		case F_THREADS:
			/* A zombie has none left; libproc2 reports 1, and so did we. */
			s->m[MW_PM_threads] = v > 0 ? v : 1;
			break;
		case F_START:
			s->start_ticks = (uint64_t)v;
			break;
		}
	}
	return 0;
}

/* "Key:\t  123 kB" at the start of a line: the number, or -1. */
static long long status_num(const char *line, size_t klen)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(line + klen, &end, 10);
	return errno || end == line + klen || v < 0 ? -1 : v;
}

int mw_proc_parse_status(const char *text, struct mw_proc_sample *s)
{
	/* Absent lines (a zombie has no mm) are 0, as libproc2 had them; VmPTE unknown. */
	static const struct {
		const char *key;
		int metric;
	} keys[] = {
	        {"VmSize:", MW_PM_vsz},         {"VmRSS:", MW_PM_rss},
	        {"RssAnon:", MW_PM_rss_anon},   {"RssFile:", MW_PM_rss_file},
	        {"RssShmem:", MW_PM_rss_shmem}, {"VmSwap:", MW_PM_swap},
	        {"VmStk:", MW_PM_stack},        {"VmData:", MW_PM_data},
	        {"VmPTE:", MW_PM_pte},
	};
	bool uid = false;

	for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++)
		s->m[keys[i].metric] = keys[i].metric == MW_PM_pte ? MW_UNKNOWN : 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (p[0] == 'U' && strncmp(p, "Uid:", 4) == 0) {
			/* real, effective, saved, fs: the effective one */
			char *end;
			unsigned long euid;
			errno = 0;
			strtoul(p + 4, &end, 10);
			euid = strtoul(end, &end, 10);
			if (errno == 0 && euid <= UINT32_MAX) {
				s->uid = (uint32_t)euid;
				uid = true;
			}
			continue;
		}
		if (p[0] != 'V' && p[0] != 'R')
			continue;
		for (size_t i = 0; i < MW_ARRAY_SIZE(keys); i++) {
			size_t k = strlen(keys[i].key);
			long long v;
			if (strncmp(p, keys[i].key, k) != 0)
				continue;
			v = status_num(p, k);
			if (v >= 0)
				s->m[keys[i].metric] = kib(v);
			else if (keys[i].metric == MW_PM_pte)
				s->m[keys[i].metric] = MW_UNKNOWN;
			break;
		}
	}
	return uid ? 0 : -EBADMSG;
}

/*
 * Read an open /proc/PID file whole, from its start, into c->buf; *len
 * gets its length. Every file read here is produced whole by one read
 * handler (one seq_file show(), or cmdline's loop over the argument pages),
 * so a read shorter than asked is the end: no second read() to see EOF.
 */
static int read_whole(struct mw_proc_collector *c, int fd, size_t *len)
{
	size_t n = 0;
	int r = 0;

	for (;;) {
		ssize_t k = pread(fd, c->buf + n, c->cap - 1 - n, (off_t)n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		n += (size_t)k;
		if (n < c->cap - 1)
			break;
		if (c->cap >= READ_BUF_MAX)
			break; /* cut there: what is kept of a cmdline, never reached by stat or
			          status */
		char *nb = realloc(c->buf, c->cap * 2);
		if (!nb) {
			r = -ENOMEM;
			break;
		}
		c->buf = nb;
		c->cap *= 2;
	}
	c->buf[n] = '\0';
	*len = n;
	return r;
}

static int open_pid_file(struct mw_proc_collector *c, pid_t pid, const char *name)
{
	char rel[48];
	int fd;

	snprintf(rel, sizeof(rel), "%d/%s", (int)pid, name);
	fd = openat(c->procfd, rel, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? (errno == ENOENT ? -ESRCH : -errno) : fd;
}

/* Open, read whole into c->buf, close. Empty is an error: the process went away. */
static int read_pid_file(struct mw_proc_collector *c, pid_t pid, const char *name)
{
	size_t len = 0;
	int fd = open_pid_file(c, pid, name), r;

	if (fd < 0)
		return fd;
	r = read_whole(c, fd, &len);
	close(fd);
	return r == 0 && len == 0 ? -ESRCH : r;
}

/* An integer file (oom_score, oom_score_adj): 0 when unparsable, as libproc2's sscanf left it. */
static int64_t int_text(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	return errno || end == text ? 0 : (int64_t)v;
}

static struct known *known_get(struct mw_proc_collector *c, pid_t pid, uint64_t start)
{
	bool created = false;
	struct known *k = mw_pidmap_put(c->known, pid, start, &created);

	if (k)
		k->gen = c->gen;
	return k;
}

/* cmdline, oom_score and oom_score_adj into s; -ESRCH when the process is gone. */
static int read_text_fields(struct mw_proc_collector *c, struct mw_proc_sample *s)
{
	size_t len = 0;
	int fd, r;

	r = read_pid_file(c, s->pid, "oom_score_adj");
	if (r < 0)
		return r;
	s->m[MW_PM_oom_adj] = int_text(c->buf);
	r = read_pid_file(c, s->pid, "oom_score");
	if (r < 0)
		return r;
	s->m[MW_PM_oom_score] = int_text(c->buf);
	/* An empty cmdline is real (zombies, kernel threads): not read_pid_file. */
	fd = open_pid_file(c, s->pid, "cmdline");
	if (fd < 0)
		return fd;
	r = read_whole(c, fd, &len);
	close(fd);
	if (r < 0)
		return r;
	mw_proc_cmdline_text(c->buf, len);
	s->cmdline = strdup(c->buf);
	return s->cmdline ? 0 : -ENOMEM;
}

static bool same_raw(const struct known *k, const char *raw, size_t len)
{
	return k->cg_raw && k->cg_len == len && memcmp(k->cg_raw, raw, len) == 0;
}

/* The cgroup string as kept for this raw text, or NULL in s->cgroup and the text kept. */
static int read_cgroup(struct mw_proc_collector *c, struct mw_proc_sample *s, struct known *h)
{
	int r = read_pid_file(c, s->pid, "cgroup");
	size_t len;

	if (r < 0)
		return r;
	len = strlen(c->buf);
	if (h->cg_fmt && same_raw(h, c->buf, len)) {
		s->cgroup = strdup(h->cg_fmt);
		return s->cgroup ? 0 : -ENOMEM;
	}
	free(h->cg_raw);
	free(h->cg_fmt);
	h->cg_fmt = NULL;
	h->cg_raw = strdup(c->buf);
	h->cg_len = len;
	return h->cg_raw ? 0 : -ENOMEM;
}

/*
 * /proc/PID/stat into c->buf through a descriptor kept from the last sweep
 * (a sweep only, keep). A kept descriptor follows its process, not the pid:
 * once that process is reaped it reads ESRCH, and a process that has since
 * taken the pid is opened anew.
 */
static int read_stat(struct mw_proc_collector *c, pid_t pid, bool keep)
{
	struct statfd *f = keep ? mw_pidmap_get(c->statfds, pid, 0) : NULL;
	bool created = false;
	size_t len = 0;
	int r, fd;

	if (f) {
		f->gen = c->gen;
		if (read_whole(c, f->fd, &len) == 0 && len > 0)
			return 0;
		close(f->fd);
		mw_pidmap_del(c->statfds, pid, 0);
	}
	if (!keep || mw_pidmap_size(c->statfds) >= c->statfd_max)
		return read_pid_file(c, pid, "stat");
	fd = open_pid_file(c, pid, "stat");
	if (fd < 0)
		return fd;
	r = read_whole(c, fd, &len);
	if (r == 0 && len == 0)
		r = -ESRCH;
	f = r == 0 ? mw_pidmap_put(c->statfds, pid, 0, &created) : NULL;
	if (!f) {
		close(fd);
		return r < 0 ? r : 0; /* no room to keep it: read all the same */
	}
	f->fd = fd;
	f->gen = c->gen;
	return 0;
}

/*
 * A process whose stat text is byte for byte what it was has not run for a
 * clock tick, faulted, changed its RSS, its size or its threads: its status,
 * cmdline, oom scores and cgroup are taken from the last full read, which
 * is repeated every MW_PROC_FULL_EVERY sweeps (staggered by pid) so that
 * what others change (oom_score_adj, a cgroup move) is seen within that
 * many ticks. The descriptor count is always read: it changes without CPU
 * time worth a tick.
 */
static bool reuse_last(const struct mw_proc_collector *c, const struct known *k, pid_t pid,
                       size_t stat_len)
{
	return k && k->stat_raw && k->stat_len == stat_len &&
	       memcmp(k->stat_raw, c->buf, stat_len) == 0 &&
	       (c->gen + (uint64_t)pid) % MW_PROC_FULL_EVERY != 0;
}

static int sample_from_last(struct known *k, struct mw_proc_sample *s)
{
	*s = k->last;
	s->cmdline = strdup(k->last.cmdline ? k->last.cmdline : "");
	s->cgroup = k->cg_fmt ? strdup(k->cg_fmt) : NULL;
	if (!s->cmdline || (k->cg_fmt && !s->cgroup)) {
		mw_proc_sample_release(s);
		return -ENOMEM;
	}
	return 0;
}

/* Keep s and its stat text (in stat, stat_len long) for the sweeps to come. */
static int keep_last(struct known *k, const struct mw_proc_sample *s, const char *stat,
                     size_t stat_len)
{
	char *raw = realloc(k->stat_raw, stat_len);
	char *cmd = strdup(s->cmdline ? s->cmdline : "");

	if (raw)
		k->stat_raw = raw;
	if (!raw || !cmd) {
		free(cmd);
		free(k->stat_raw);
		k->stat_raw = NULL; /* no reuse without both */
		return -ENOMEM;
	}
	memcpy(raw, stat, stat_len);
	k->stat_len = stat_len;
	mw_proc_sample_release(&k->last);
	k->last = *s;
	k->last.cmdline = cmd;
	k->last.cgroup = NULL;
	return 0;
}

/* Everything but stat: status, the descriptor count, cmdline, oom scores and (keep) cgroup. */
static int read_rest(struct mw_proc_collector *c, struct mw_proc_sample *s, struct known *k)
{
	int r, n;

	r = read_pid_file(c, s->pid, "status");
	if (r < 0)
		return r;
	if (mw_proc_parse_status(c->buf, s) < 0)
		return -ESRCH;
	n = count_fds(c, s->pid);
	s->m[MW_PM_fds] = n >= 0 ? n : MW_UNKNOWN;
	r = read_text_fields(c, s);
	if (r == 0 && k)
		r = read_cgroup(c, s, k);
	return r;
}

/*
 * One process into s. -ESRCH for a process that is gone, or a kernel
 * thread (PF_KTHREAD alone: "pid 2 and its children" only holds in the
 * initial pid namespace, and usermode helpers the kernel spawns under
 * kthreadd are real processes with memory). keep (a sweep): also the
 * cgroup, from what is known of the process; s->cgroup stays NULL when
 * libproc2 must format it (resolve_cgroups). Without keep, no cgroup.
 */
static int read_own(struct mw_proc_collector *c, pid_t pid, struct mw_proc_sample *s, bool keep)
{
	struct known *k = NULL;
	unsigned long flags = 0;
	char *stat = NULL;
	size_t stat_len;
	int r, n;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < MW_PM_COUNT; i++)
		s->m[i] = MW_UNKNOWN;
	r = read_stat(c, pid, keep);
	if (r < 0)
		return r;
	stat_len = strlen(c->buf);
	if (mw_proc_parse_stat(c->buf, s, &flags) < 0 || s->pid != pid)
		return -ESRCH;
	if (flags & PF_KTHREAD)
		return -ESRCH;
	if (keep && !(k = known_get(c, s->pid, s->start_ticks)))
		return -ENOMEM;
	if (reuse_last(c, k, pid, stat_len)) {
		r = sample_from_last(k, s);
		n = r == 0 ? count_fds(c, pid) : 0;
		if (r == 0)
			s->m[MW_PM_fds] = n >= 0 ? n : MW_UNKNOWN;
		return r;
	}
	if (k && !(stat = strndup(c->buf, stat_len)))
		return -ENOMEM;
	r = read_rest(c, s, k);
	if (r == 0 && k && keep_last(k, s, stat, stat_len) < 0)
		r = -ENOMEM;
	free(stat);
	if (r < 0)
		mw_proc_sample_release(s);
	return r;
}

/* The libproc2 part of a sample. */
static int fill_cgroup(struct pids_stack *st, struct mw_proc_sample *s)
{
	const char *cg = MW_PIDS_VAL(I_CGROUP, str, st);

	/* libproc2 prints "-" for "no cgroup" (cgroup file unreadable or empty). */
	s->cgroup = strdup(cg && strcmp(cg, "-") != 0 ? cg : "");
	if (!s->cgroup) {
		mw_proc_sample_release(s);
		return -ENOMEM;
	}
	return 0;
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

/* libproc2 takes at most this many pids per select (FILL_ID_MAX). */
#define SELECT_MAX 255

/* libproc2's cgroup strings for the n samples idx[] names, which lack one. */
static int format_cgroups(struct mw_proc_collector *c, struct mw_proc_set *set, const size_t *idx,
                          size_t n)
{
	unsigned pids[SELECT_MAX];
	struct pids_fetch *f;

	for (size_t i = 0; i < n; i++)
		pids[i] = (unsigned)set->v[idx[i]].pid;
	f = procps_pids_select(c->info, pids, (int)n, PIDS_SELECT_PID);
	if (!f)
		return errno ? -errno : -EIO;
	for (int k = 0; k < f->counts->total; k++) {
		struct pids_stack *st = f->stacks[k];
		pid_t pid = MW_PIDS_VAL(I_PID, s_int, st);
		struct mw_proc_sample *s = NULL;
		struct known *h;
		size_t len;

		for (size_t i = 0; i < n && !s; i++)
			if (set->v[idx[i]].pid == pid && !set->v[idx[i]].cgroup)
				s = &set->v[idx[i]];
		if (!s)
			continue;
		if (fill_cgroup(st, s) < 0)
			return -ENOMEM;
		/*
		 * Keep the pair only if the text is still what we read before
		 * libproc2 did: a move in between must not pair old text with
		 * the new string.
		 */
		h = mw_pidmap_get(c->known, s->pid, s->start_ticks);
		if (!h || read_pid_file(c, s->pid, "cgroup") < 0)
			continue;
		len = strlen(c->buf);
		if (same_raw(h, c->buf, len))
			h->cg_fmt = strdup(s->cgroup);
	}
	return 0;
}

/* Fill in the cgroups the sweep could not take from what it kept; drop processes now gone. */
static int resolve_cgroups(struct mw_proc_collector *c, struct mw_proc_set *set)
{
	size_t idx[SELECT_MAX], n = 0, k = 0;
	int r = 0;

	for (size_t i = 0; i < set->n && r == 0; i++) {
		if (set->v[i].cgroup)
			continue;
		idx[n++] = i;
		if (n == SELECT_MAX) {
			r = format_cgroups(c, set, idx, n);
			n = 0;
		}
	}
	if (r == 0 && n)
		r = format_cgroups(c, set, idx, n);
	if (r < 0)
		return r;
	/* libproc2 found no such process: it exited mid-sweep. */
	for (size_t i = 0; i < set->n; i++) {
		if (!set->v[i].cgroup) {
			mw_proc_sample_release(&set->v[i]);
			continue;
		}
		set->v[k++] = set->v[i];
	}
	set->n = k;
	return 0;
}

static bool pid_name(const char *name, pid_t *pid)
{
	long v = 0;

	if (!*name)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT32_MAX / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	*pid = (pid_t)v;
	return v > 0;
}

int mw_proc_collect(struct mw_proc_collector *c, struct mw_proc_set *set)
{
	struct dirent *e;
	DIR *d;
	int fd, r = 0;

	mw_proc_set_clear(set);
	set->t_ns = mw_now_ns();
	c->gen++;
	fd = openat(c->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d))) {
		pid_t pid;

		if (!pid_name(e->d_name, &pid))
			continue;
		r = set_reserve(set, set->n + 1);
		if (r < 0)
			break;
		r = read_own(c, pid, &set->v[set->n], true);
		if (r == 0)
			set->n++;
		else if (r != -ENOMEM)
			r = 0; /* exited mid-sweep, a kernel thread, or unreadable: not listed */
	}
	closedir(d);
	if (r == 0)
		r = resolve_cgroups(c, set);
	if (r == 0)
		r = known_prune(c);
	return r;
}

int mw_proc_collect_one(struct mw_proc_collector *c, pid_t pid, struct mw_proc_sample *out)
{
	unsigned want = (unsigned)pid;
	struct pids_fetch *f;
	int r;

	f = procps_pids_select(c->info, &want, 1, PIDS_SELECT_PID);
	if (!f)
		return errno ? -errno : -EIO;
	if (f->counts->total < 1)
		return -ESRCH;
	r = read_own(c, pid, out, false);
	if (r < 0)
		return r == -EACCES ? -ESRCH : r;
	return fill_cgroup(f->stacks[0], out);
}

int mw_proc_start_ticks(const char *root, pid_t pid, uint64_t *ticks)
{
	char rel[64], path[4200], buf[1024] = "";
	struct mw_proc_sample s = {0};
	unsigned long flags = 0;
	int r;

	snprintf(rel, sizeof(rel), "/proc/%d/stat", (int)pid);
	r = mw_path(path, sizeof(path), root, rel);
	if (r == 0)
		r = mw_read_file(path, buf, sizeof(buf), NULL);
	/* Cut short is fine: starttime comes long before the line can fill the buffer. */
	if (r == -EFBIG)
		r = 0;
	if (r == -ENOENT)
		r = -ESRCH;
	/* The one stat parser: comm may hold ')', spaces and newlines. */
	if (r == 0 && (mw_proc_parse_stat(buf, &s, &flags) < 0 || s.pid != pid))
		r = -EBADMSG;
	if (r == 0)
		*ticks = s.start_ticks;
	return r;
}
