/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatchd: samples processes and system memory every interval and
 * records them into the store. Thin: the work is in libmemwatch. This file
 * is the lifecycle: config and SIGHUP, sd_notify and the watchdog,
 * retention between ticks, disk-full and corrupt-file handling, priority,
 * mlockall and dropping capabilities once the sources are open.
 */
#include "config.h"
#include "memwatch/base/caps.h"
#include "memwatch/base/config.h"
#include "memwatch/base/host.h"
#include "memwatch/base/json.h"
#include "memwatch/base/log.h"
#include "memwatch/base/notify.h"
#include "memwatch/base/runstate.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/retention.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define EXIT_USAGE 2

/* A source that opened, with its state. */
struct active_source {
	const struct mw_source *src;
	void *state;
};

/* A command-line setting, re-applied over the file on every (re)load. */
struct override {
	const char *key, *value;
};

struct daemon_ctx {
	struct mw_daemon d; /* first member: callbacks get &ctx->d back */
	struct active_source active[16];
	size_t nactive;
	struct mw_config cfg;
	const char *config_path;
	bool config_explicit; /* --config given: a missing file is an error */
	struct override overrides[8];
	size_t noverrides;
	bool prune_only;
	uint64_t prune_now_ns; /* --now: retention as of that time (tests, what-if) */
	bool ready_sent;
	uint64_t watchdog_ns, next_watchdog;
	struct mw_retention_policy policy;
	char db_path[4096];    /* fixed at start: a reload cannot move the database */
	char state_path[4200]; /* the runtime file advertising us; "" when not ours to write */
	char db_abs[4096];     /* db_path made absolute, for readers elsewhere */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatchd [--config FILE] [--db PATH] [--interval SECONDS] [--foreground]\n"
	        "                 [--slow-interval SECONDS] [--listen ADDR:PORT] [--prune]\n"
	        "                 [--check-config]\n"
	        "\n"
	        "Records process and system memory into an SQLite database.\n"
	        "\n"
	        "  --config FILE        configuration (default %s; see memwatchd.conf(5))\n"
	        "  --db PATH            database file (default %s)\n"
	        "  --interval SECONDS   sampling interval, 0.1 to 3600 (default 5)\n"
	        "  --listen ADDR:PORT   serve /metrics there (default: off)\n"
	        "  --slow-interval SECONDS  slow tier (smaps regions, slab, IPC), 0.1 to 86400 "
	        "(default 60)\n"
	        "  --foreground         do not detach (for systemd and tests)\n"
	        "  --prune              apply retention to the database now, then exit\n"
	        "  --now TIME           with --prune: as of TIME (@EPOCH), for what-if runs\n"
	        "  --check-config       parse the configuration, print every problem, exit\n"
	        "  --help, --version\n",
	        MW_DEFAULT_CONFIG, MW_DEFAULT_DB);
}

static int add_override(struct daemon_ctx *ctx, const char *key, const char *value)
{
	char err[512];
	struct mw_config probe = ctx->cfg;

	/* Validate now, so a bad flag is a usage error, not a surprise at reload. */
	if (mw_config_set(&probe, key, value, err, sizeof(err)) < 0) {
		fprintf(stderr, "memwatchd: --%s: %s\n", key, err);
		return EXIT_USAGE;
	}
	if (ctx->noverrides == MW_ARRAY_SIZE(ctx->overrides))
		return EXIT_USAGE;
	ctx->overrides[ctx->noverrides++] = (struct override){key, value};
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct daemon_ctx *ctx, bool *check_only)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"db", required_argument, NULL, 'd'},
	        {"interval", required_argument, NULL, 'i'},
	        {"listen", required_argument, NULL, 'l'},
	        {"slow-interval", required_argument, NULL, 's'},
	        {"foreground", no_argument, NULL, 'f'},
	        {"prune", no_argument, NULL, 'P'},
	        {"now", required_argument, NULL, 'N'},
	        {"check-config", no_argument, NULL, 'C'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {0},
	};
	int c, code = -1;

	opterr = 0;
	while (code < 0 && (c = getopt_long(argc, argv, ":c:d:i:l:s:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx->config_path = optarg;
			ctx->config_explicit = true;
			break;
		case 'd':
			if (!*optarg) {
				fprintf(stderr, "memwatchd: --db: expected a file path, got an "
				                "empty string\n");
				return EXIT_USAGE;
			}
			/* Relative paths are fine on the command line (tests, ad-hoc runs). */
			ctx->d.db_path = optarg;
			break;
		case 'i': {
			char *end;
			double v;
			errno = 0;
			v = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(v >= 0.1 && v <= 3600)) {
				fprintf(stderr,
				        "memwatchd: --interval '%s': expected seconds between 0.1 "
				        "and 3600\n",
				        optarg);
				return EXIT_USAGE;
			}
			code = add_override(ctx, "interval", optarg);
			break;
		}
		case 'l':
			code = add_override(ctx, "listen", optarg);
			break;
		case 's': {
			struct mw_config probe = ctx->cfg;
			char err[256];
			if (mw_config_set(&probe, "slow_interval", optarg, err, sizeof(err)) < 0) {
				fprintf(stderr,
				        "memwatchd: --slow-interval '%s': expected seconds between "
				        "0.1 "
				        "and 86400\n",
				        optarg);
				return EXIT_USAGE;
			}
			code = add_override(ctx, "slow_interval", optarg);
			break;
		}
		case 'f':
			ctx->d.foreground = true;
			break;
		case 'P':
			ctx->prune_only = true;
			break;
		case 'C':
			*check_only = true;
			break;
		case 'N':
			if (mw_parse_time(optarg, mw_now_ns(), &ctx->prune_now_ns) < 0) {
				fprintf(stderr,
				        "memwatchd: --now '%s': expected a time (@EPOCH,"
				        " YYYY-MM-DD HH:MM, or a duration ago)\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("memwatchd %s\n", MW_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "memwatchd: option '%s' needs an argument\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "memwatchd: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (code < 0 && optind < argc) {
		fprintf(stderr, "memwatchd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return code;
}

/*
 * Build a complete new config: defaults, the file, then command-line
 * overrides (a bare "interval = 5s" flag must not be both in the file and
 * ignored). Nothing changes in *out unless all of it parses.
 */
static int load_config(struct daemon_ctx *ctx, struct mw_config *out, char *err, size_t errlen)
{
	struct mw_config c;
	int r;

	mw_config_defaults(&c);
	r = mw_config_load(ctx->config_path, &c, err, errlen);
	if (r == -ENOENT && !ctx->config_explicit)
		r = 0; /* no file at the default place: defaults */
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->noverrides; i++) {
		r = mw_config_set(&c, ctx->overrides[i].key, ctx->overrides[i].value, err, errlen);
		if (r < 0)
			return r;
	}
	*out = c;
	return 0;
}

static void apply_config(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;

	d->cfg = &ctx->cfg;
	d->interval_ns = ctx->cfg.interval_ns;
	d->slow_interval_ns = ctx->cfg.slow_interval_ns;
	ctx->policy = (struct mw_retention_policy){
	        .raw_ns = ctx->cfg.retain_raw_ns,
	        .minute_ns = ctx->cfg.retain_minute_ns,
	        .hour_ns = ctx->cfg.retain_hour_ns,
	        .max_bytes = ctx->cfg.max_size_bytes,
	        /* Catching up on a backlog must not eat the interval: a tenth, 100 ms at most. */
	        .budget_ns = ctx->cfg.interval_ns / 10 < 100000000ull ? ctx->cfg.interval_ns / 10
	                                                              : 100000000ull,
	};
	if (setpriority(PRIO_PROCESS, 0, ctx->cfg.nice) < 0)
		mw_warn("nice %d: %s", ctx->cfg.nice, strerror(errno));
}

/* Drop processes the include/exclude settings leave out, before anything sees them. */
static void filter_procs(struct mw_daemon *d)
{
	const struct mw_config *c = d->cfg;
	size_t k = 0;

	if (!c->include_comm.n && !c->exclude_comm.n && !c->include_cmdline.n &&
	    !c->exclude_cmdline.n && !c->ninclude_uid && !c->nexclude_uid)
		return;
	for (size_t i = 0; i < d->procs.n; i++) {
		struct mw_proc_sample *p = &d->procs.v[i];
		if (mw_config_proc_wanted(c, p->comm, p->cmdline, p->uid)) {
			if (k != i)
				d->procs.v[k] = *p;
			k++;
		} else {
			mw_proc_sample_release(p);
			d->health.filtered_procs++;
		}
	}
	d->procs.n = k;
}

/* Every thread's user+system time, as /proc/PID/stat's utime+stime counts it. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static int64_t self_rss(void)
{
	char buf[128];
	unsigned long long size, res;

	if (mw_read_file("/proc/self/statm", buf, sizeof(buf), NULL) < 0 ||
	    sscanf(buf, "%llu %llu", &size, &res) != 2)
		return MW_UNKNOWN;
	return (int64_t)res * sysconf(_SC_PAGESIZE);
}

static int64_t file_bytes(const char *db)
{
	char wal[4200];
	struct stat sb;
	int64_t n = 0;

	if (stat(db, &sb) == 0)
		n += sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", db);
	if (stat(wal, &sb) == 0)
		n += sb.st_size;
	return n;
}

/* The daemon's own figures go into meta inside the tick, so status reads them consistently. */
static int write_health(struct mw_daemon *d)
{
	static const char *const keys[] = {
	        "daemon_tick_us", "daemon_tick_max_us", "daemon_tick_cpu_us",
	        "daemon_cpu_us",  "daemon_rss_bytes",   "daemon_db_bytes",
	        "dropped_ticks",  "skipped_ticks",      "store_errors"};
	const struct mw_daemon_health *h = &d->health;
	int64_t v[] = {(int64_t)(h->tick_ns / 1000),
	               (int64_t)(h->tick_max_ns / 1000),
	               (int64_t)(h->tick_cpu_ns / 1000),
	               (int64_t)(h->cpu_ns / 1000),
	               h->rss_bytes,
	               h->db_bytes,
	               (int64_t)h->dropped_ticks,
	               (int64_t)h->skipped_ticks,
	               (int64_t)h->store_errors};
	char buf[32];
	int r = 0;

	for (size_t i = 0; i < MW_ARRAY_SIZE(keys) && r == 0; i++) {
		snprintf(buf, sizeof(buf), "%lld", (long long)v[i]);
		r = mw_store_meta_set(d->store, keys[i], buf);
	}
	return r;
}

static int tick(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	uint64_t t0 = mw_mono_ns();
	struct mw_tick t = {0};
	int r;

	r = mw_proc_collect(d->pc, &d->procs);
	if (r < 0)
		return r;
	filter_procs(d);
	r = mw_sys_sample_read(d->root, &d->sys);
	if (r < 0)
		return r;
	d->t_ns = d->procs.t_ns;
	for (size_t i = 0; i < ctx->nactive; i++) {
		const struct active_source *a = &ctx->active[i];
		if (a->src->collect && (r = a->src->collect(a->state, d)) < 0)
			mw_debug("%s: collect: %s", a->src->name, strerror(-r));
	}
	t.t_ns = d->t_ns;
	t.procs = &d->procs;
	t.sys = &d->sys;
	t.duration_ns = mw_mono_ns() - t0;
	r = mw_store_tick_begin(d->store, &t, &d->tick_id);
	if (r < 0)
		return r;
	r = mw_store_tick_write_procs(d->store, d->tick_id, &t);
	for (size_t i = 0; i < ctx->nactive && r == 0; i++) {
		const struct active_source *a = &ctx->active[i];
		if (a->src->write)
			r = a->src->write(a->state, d);
	}
	if (r == 0)
		r = write_health(d);
	if (r < 0) {
		mw_store_tick_rollback(d->store);
		return r;
	}
	r = mw_store_tick_commit(d->store);
	if (r < 0)
		return r;
	d->ticks++;
	return 0;
}

/* One bounded retention step after the tick; its failure never costs a tick. */
static int retention(struct daemon_ctx *ctx, uint64_t now_ns)
{
	struct mw_retention_stats st;
	uint64_t t0 = mw_mono_ns();
	int r = mw_retention_step(ctx->d.store, &ctx->policy, now_ns, &st);

	ctx->d.health.retention_ns = mw_mono_ns() - t0;
	if (r < 0 && r != -ENOSPC)
		mw_debug("retention: %s", strerror(-r));
	else if (st.deleted_ticks || st.deleted_rollups)
		mw_debug("retention: -%lld ticks, -%lld rollups, %lld pages vacuumed",
		         (long long)st.deleted_ticks, (long long)st.deleted_rollups,
		         (long long)st.vacuumed_pages);
	return r;
}

static void notify_status(struct daemon_ctx *ctx)
{
	const struct mw_daemon *d = &ctx->d;
	const struct mw_daemon_health *h = &d->health;

	if (d->last_err)
		mw_notifyf("STATUS=Not recording: %s; %llu ticks dropped, retrying every %.1f s",
		           strerror(-d->last_err), (unsigned long long)h->dropped_ticks,
		           (double)d->interval_ns / 1e9);
	else
		mw_notifyf(
		        "STATUS=Recording %zu processes every %.1f s; tick %.1f ms; RSS %.1f MiB;"
		        " database %.1f MiB; %llu ticks dropped",
		        d->procs.n, (double)d->interval_ns / 1e9, (double)h->tick_ns / 1e6,
		        (double)h->rss_bytes / 1048576.0, (double)h->db_bytes / 1048576.0,
		        (unsigned long long)h->dropped_ticks);
}

/*
 * The counters live here, in memory, and in the runtime file: the copy in
 * the database's meta is lost with every tick the database refuses.
 */
static void publish_state(struct daemon_ctx *ctx)
{
	const struct mw_daemon *d = &ctx->d;
	const struct mw_daemon_health *h = &d->health;
	struct mw_runstate rs = {
	        .pid = getpid(),
	        .started_ms = (int64_t)(h->started_ns / 1000000ull),
	        .updated_ms = (int64_t)(mw_now_ns() / 1000000ull),
	        .interval_ms = (int64_t)(d->interval_ns / 1000000ull),
	        .ticks = d->ticks,
	        .dropped_ticks = h->dropped_ticks,
	        .skipped_ticks = h->skipped_ticks,
	        .store_errors = h->store_errors,
	        .cpu_us = h->cpu_ns / 1000,
	        .cpu_per_tick_us = h->attempted_ticks ? h->cpu_ns / 1000 / h->attempted_ticks : 0,
	        .rss_bytes = h->rss_bytes,
	};
	int r;

	if (!ctx->state_path[0])
		return;
	snprintf(rs.db, sizeof(rs.db), "%s", ctx->db_abs);
	if (d->last_err)
		snprintf(rs.last_error, sizeof(rs.last_error), "%s", strerror(-d->last_err));
	r = mw_runstate_write(ctx->state_path, &rs);
	if (r < 0 && h->attempted_ticks == 1)
		mw_warn("%s: %s; memwatch will not find this database by itself", ctx->state_path,
		        strerror(-r));
}

/*
 * Advertise the database in the runtime directory, unless another live
 * memwatchd already does (a second recorder for another file).
 */
static void claim_state(struct daemon_ctx *ctx)
{
	char dir[4200];
	struct mw_runstate other;

	if (mw_runstate_path(ctx->state_path, sizeof(ctx->state_path)) < 0 ||
	    !realpath(ctx->db_path, ctx->db_abs))
		goto off;
	snprintf(dir, sizeof(dir), "%s", ctx->state_path);
	*strrchr(dir, '/') = '\0';
	/* Readable by everyone: the CLI run by any user finds the database through it. */
	if (mkdir(dir, 0755) == 0)
		chmod(dir, 0755);
	if (mw_runstate_read(ctx->state_path, &other) == 0 && other.pid != getpid() &&
	    mw_runstate_pid_is_daemon(other.pid)) {
		mw_warn("%s: memwatchd pid %d already advertises %s; not advertising %s",
		        ctx->state_path, (int)other.pid, other.db, ctx->db_path);
		goto off;
	}
	return;
off:
	ctx->state_path[0] = '\0';
}

static void run_tick(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	struct mw_daemon_health *h = &d->health;
	uint64_t t0 = mw_mono_ns(), c0 = cpu_ns();
	int r = tick(ctx);

	if (r < 0) {
		h->dropped_ticks++;
		/* Once per kind of failure, not every interval: a full disk must not fill the
		 * journal. */
		if (r != d->last_err)
			mw_err("tick failed: %s (%s); samples are dropped and counted until it"
			       " recovers",
			       strerror(-r), mw_store_errmsg(d->store));
	} else if (d->last_err) {
		mw_notice("recording again after: %s (%llu ticks dropped so far)",
		          strerror(-d->last_err), (unsigned long long)h->dropped_ticks);
	}
	d->last_err = r;
	h->attempted_ticks++;
	if (r < 0 || retention(ctx, d->t_ns) < 0)
		h->store_errors++;
	h->tick_ns = mw_mono_ns() - t0;
	/* The first overrun is worth a line (ticks get skipped); the figures carry the rest. */
	if (h->tick_ns > d->interval_ns && h->tick_max_ns <= d->interval_ns)
		mw_warn("a tick took %.2f s, longer than the %.2f s interval: ticks are skipped;"
		        " raise interval or narrow include/exclude",
		        (double)h->tick_ns / 1e9, (double)d->interval_ns / 1e9);
	if (h->tick_ns > h->tick_max_ns)
		h->tick_max_ns = h->tick_ns;
	h->tick_cpu_ns = cpu_ns() - c0;
	h->cpu_ns = cpu_ns();
	h->rss_bytes = self_rss();
	h->db_bytes = file_bytes(d->db_path);
	publish_state(ctx);
	mw_debug("tick %llu: %zu processes in %.1f ms", (unsigned long long)d->ticks, d->procs.n,
	         (double)h->tick_ns / 1e6);
	if (r == 0 && !ctx->ready_sent) {
		mw_notify("READY=1");
		ctx->ready_sent = true;
	}
	notify_status(ctx);
	if (d->ready_fd >= 0) {
		/* Tell a waiting parent how the first tick went, then let it go. */
		int code = r < 0 ? 1 : 0;
		if (write(d->ready_fd, &code, sizeof(code)) < 0)
			mw_warn("could not signal readiness: %s", strerror(errno));
		close(d->ready_fd);
		d->ready_fd = -1;
	}
}

static int setup_signals(struct daemon_ctx *ctx)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	/* A client closing the metrics socket mid-write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	ctx->d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return ctx->d.sigfd < 0 ? -errno : 0;
}

static void reload(struct daemon_ctx *ctx)
{
	struct mw_config c;
	char err[1024] = "";
	int r;

	mw_notify("RELOADING=1");
	r = load_config(ctx, &c, err, sizeof(err));
	if (r < 0) {
		/* The log takes one line per message: every error, on it. */
		for (char *nl = strchr(err, '\n'); nl; nl = strchr(nl, '\n'))
			*nl = ';';
		mw_err("reload: %s; keeping the previous configuration", err);
		mw_notify("READY=1\nSTATUS=Reload failed; running with the previous configuration");
		return;
	}
	if (strcmp(c.database, ctx->cfg.database) != 0)
		mw_warn("reload: database path changes need a restart; still recording into %s",
		        ctx->d.db_path);
	if (c.mlockall != ctx->cfg.mlockall)
		mw_warn("reload: mlockall changes need a restart");
	ctx->cfg = c;
	apply_config(ctx);
	for (size_t i = 0; i < ctx->nactive; i++)
		if (ctx->active[i].src->reload)
			ctx->active[i].src->reload(ctx->active[i].state, &ctx->d);
	mw_notice("reloaded %s: interval %.1f s, raw %.0f h, cap %llu MiB", ctx->config_path,
	          (double)ctx->cfg.interval_ns / 1e9, (double)ctx->cfg.retain_raw_ns / 3.6e12,
	          (unsigned long long)(ctx->cfg.max_size_bytes >> 20));
	mw_notify("READY=1");
}

/* Returns true when asked to stop. */
static bool handle_signal(struct daemon_ctx *ctx)
{
	struct signalfd_siginfo si;

	while (read(ctx->d.sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			mw_notice("signal %d: stopping after %llu ticks", (int)si.ssi_signo,
			          (unsigned long long)ctx->d.ticks);
			mw_notify("STOPPING=1");
			return true;
		}
		reload(ctx);
	}
	return false;
}

static void watchdog(struct daemon_ctx *ctx, uint64_t now)
{
	if (!ctx->watchdog_ns || now < ctx->next_watchdog)
		return;
	mw_notify("WATCHDOG=1");
	/* Twice per period, as systemd recommends, independent of the tick interval. */
	ctx->next_watchdog = now + ctx->watchdog_ns / 2;
}

static void main_loop(struct daemon_ctx *ctx)
{
	struct mw_daemon *d = &ctx->d;
	uint64_t next = mw_mono_ns();

	for (;;) {
		struct pollfd pfd[1 + MW_ARRAY_SIZE(ctx->active)];
		size_t owner[MW_ARRAY_SIZE(pfd)];
		nfds_t n = 0;
		uint64_t now = mw_mono_ns(), wake;
		int timeout_ms;

		if (now >= next) {
			run_tick(ctx);
			/* The watchdog is fed by the loop: a hung tick starves it, as it should. */
			ctx->next_watchdog = 0;
			/* Keep the phase; skip ticks missed while stalled rather than bursting. */
			next += d->interval_ns;
			now = mw_mono_ns();
			if (next <= now) {
				d->health.skipped_ticks += (now - next) / d->interval_ns + 1;
				next = now + d->interval_ns - (now - next) % d->interval_ns;
			} else if (next > now + d->interval_ns)
				next = now + d->interval_ns; /* interval shortened by a reload */
		}
		watchdog(ctx, now);
		pfd[n++] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
		for (size_t i = 0; i < ctx->nactive; i++) {
			const struct active_source *a = &ctx->active[i];
			int fd = a->src->fd ? a->src->fd(a->state) : -1;
			if (fd < 0)
				continue;
			owner[n] = i;
			pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
		wake = next;
		if (ctx->watchdog_ns && ctx->next_watchdog < wake)
			wake = ctx->next_watchdog;
		timeout_ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (poll(pfd, n, timeout_ms) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && handle_signal(ctx))
			return;
		for (nfds_t k = 1; k < n; k++) {
			const struct active_source *a = &ctx->active[owner[k]];
			if (pfd[k].revents && a->src->on_ready)
				a->src->on_ready(a->state, d);
		}
	}
}

static void emit_source_metrics(struct mw_daemon *d, FILE *out)
{
	struct daemon_ctx *ctx = (struct daemon_ctx *)d;

	for (size_t i = 0; i < ctx->nactive; i++)
		if (ctx->active[i].src->metrics)
			ctx->active[i].src->metrics(ctx->active[i].state, d, out);
}

static uint64_t open_sources(struct daemon_ctx *ctx)
{
	uint64_t keep = 0;

	for (size_t i = 0; i < mw_nsources; i++) {
		const struct mw_source *src = mw_sources[i];
		char why[512] = "";
		void *state = NULL;
		int r;

		if (!src)
			continue;
		if (mw_config_disabled(&ctx->cfg, src->name)) {
			mw_info("%s: off (disabled in the configuration)", src->name);
			continue;
		}
		if (ctx->nactive == MW_ARRAY_SIZE(ctx->active)) {
			mw_err("%s: too many sources", src->name);
			continue;
		}
		r = src->open ? src->open(&ctx->d, &state, why, sizeof(why)) : 0;
		if (r < 0) {
			mw_warn("%s: off: %s", src->name, why[0] ? why : strerror(-r));
			continue;
		}
		keep |= src->keep_caps;
		ctx->active[ctx->nactive++] = (struct active_source){src, state};
	}
	return keep;
}

static void close_sources(struct daemon_ctx *ctx)
{
	for (size_t i = ctx->nactive; i-- > 0;)
		if (ctx->active[i].src->close)
			ctx->active[i].src->close(ctx->active[i].state);
	ctx->nactive = 0;
}

/*
 * What the daemon itself needs once the sources are open: reading every
 * /proc/PID (ptrace access mode for smaps, fd, environ-free reads) and
 * files it does not own; raising its priority again on reload; keeping
 * future mappings locked. The rest goes, bounding set included.
 */
static void drop_caps(struct daemon_ctx *ctx, uint64_t sources_keep, bool ipc_lock)
{
	uint64_t keep = MW_CAP(CAP_SYS_PTRACE) | MW_CAP(CAP_DAC_READ_SEARCH) | sources_keep;
	uint64_t eff = 0, perm = 0;
	char buf[256];
	int r;

	if (ctx->cfg.nice < 0)
		keep |= MW_CAP(CAP_SYS_NICE);
	if (ipc_lock)
		keep |= MW_CAP(CAP_IPC_LOCK);
	if (mw_caps_get(&eff, &perm) < 0 || perm == 0)
		return; /* unprivileged run: nothing to drop */
	r = mw_caps_keep_only(keep);
	if (r < 0) {
		mw_warn("could not drop capabilities: %s", strerror(-r));
		return;
	}
	mw_caps_get(&eff, NULL);
	mw_caps_format(eff, buf, sizeof(buf));
	mw_info("capabilities kept: %s", buf);
}

/* What mlockall may pin: also the hard ceiling of the daemon's memory once locked. */
#define MLOCK_LIMIT_BYTES (256ull << 20)

/*
 * With mlockall every page the daemon ever touches stays resident, so
 * growth must be bounded up front: few malloc arenas, large blocks from
 * mmap (returned on free). RLIMIT_MEMLOCK becomes the daemon's memory
 * ceiling: past it allocations fail and ticks are dropped and counted,
 * rather than the recorder growing on a box that is short of memory.
 * systemd sets it (LimitMEMLOCK=); otherwise it is raised here while we
 * are privileged. Where it cannot be raised, CAP_IPC_LOCK is kept instead
 * (future mappings would fail against the small limit once it is gone)
 * and the ceiling is the cgroup's. Returns true when CAP_IPC_LOCK must stay.
 */
static bool lock_memory(const struct mw_config *c)
{
	struct rlimit rl;
	bool enough = true;

	if (!c->mlockall)
		return false;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < MLOCK_LIMIT_BYTES) {
		struct rlimit want = {MLOCK_LIMIT_BYTES, rl.rlim_max};
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < MLOCK_LIMIT_BYTES)
			want.rlim_max = MLOCK_LIMIT_BYTES;
		enough = setrlimit(RLIMIT_MEMLOCK, &want) == 0;
	}
	mallopt(M_ARENA_MAX, (int)c->malloc_arenas);
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		mw_warn("mlockall: %s (RLIMIT_MEMLOCK or CAP_IPC_LOCK); running unlocked",
		        strerror(errno));
		return false;
	}
	if (!enough)
		mw_warn("mlockall: RLIMIT_MEMLOCK is below %llu MiB and cannot be raised; keeping"
		        " CAP_IPC_LOCK, so only the cgroup bounds locked memory",
		        MLOCK_LIMIT_BYTES >> 20);
	return !enough;
}

static void record_start(struct daemon_ctx *ctx)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	mw_store_meta_set(ctx->d.store, "writer_pid", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)(mw_now_ns() / 1000000ull));
	mw_store_meta_set(ctx->d.store, "writer_started_ms", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(ctx->d.interval_ns / 1000000ull));
	mw_store_meta_set(ctx->d.store, "interval_ms", buf);
	mw_store_meta_set(ctx->d.store, "writer_version", MW_VERSION);
	/* A copied database must name the machine it describes, not the reader's. */
	if (mw_hostname(ctx->d.root, buf, sizeof(buf)) == 0)
		mw_store_meta_set(ctx->d.store, "hostname", buf);
	if (!MW_HAVE_BPF)
		mw_store_meta_set(ctx->d.store, "bpf", "off: not built with eBPF support");
	snprintf(buf, sizeof(buf), "{\"version\":\"%s\",\"interval_ms\":%llu,\"pid\":%d}",
	         MW_VERSION, (unsigned long long)(ctx->d.interval_ns / 1000000ull), (int)getpid());
	mw_store_add_event(ctx->d.store, mw_now_ns(), "daemon-start", 0, getpid(), buf);
}

/* Rename db and its -wal/-shm to <db>.corrupt-<time>[-wal|-shm]; never delete. */
static int move_aside(const char *db, char *dst, size_t cap)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char stamp[32], from[4200], to[4200];
	time_t now = time(NULL);
	struct tm tm;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
	snprintf(dst, cap, "%s.corrupt-%s", db, stamp);
	for (size_t i = 0; i < MW_ARRAY_SIZE(sfx); i++) {
		snprintf(from, sizeof(from), "%s%s", db, sfx[i]);
		snprintf(to, sizeof(to), "%s%s", dst, sfx[i]);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int open_store_once(struct mw_daemon *d)
{
	pid_t holder = 0;
	int r = mw_store_open_writer(d->db_path, NULL, &d->store, &holder);

	if (r == -EBUSY) {
		if (holder)
			mw_err("%s: another memwatchd (pid %d) is already recording into this "
			       "database",
			       d->db_path, (int)holder);
		else
			mw_err("%s: another memwatchd is already recording into this database",
			       d->db_path);
	} else if (r == -EPROTONOSUPPORT) {
		mw_err("%s: written by a newer memwatch (schema newer than %d); refusing to touch "
		       "it."
		       " Run the newer memwatchd, or point --db elsewhere",
		       d->db_path, MW_STORE_SCHEMA_VERSION);
	} else if (r < 0 && r != -ENOTRECOVERABLE) {
		mw_err("%s: cannot open database: %s", d->db_path, strerror(-r));
	}
	return r;
}

/* The path is ours (config or flag) but any bytes: mw_json keeps the detail valid JSON. */
static void moved_aside_event(struct mw_daemon *d, const char *aside)
{
	_cleanup_free_ char *detail = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&detail, &len);
	struct mw_json j;

	if (!f)
		return;
	mw_json_init(&j, f, false);
	mw_json_obj_open(&j, NULL);
	mw_json_str(&j, "moved_to", aside);
	mw_json_obj_close(&j);
	if (fclose(f) == 0 && detail)
		mw_store_add_event(d->store, mw_now_ns(), "db-moved-aside", 0, getpid(), detail);
}

/* A corrupt or foreign file is kept for inspection and recording starts afresh. */
static int open_store(struct mw_daemon *d)
{
	char aside[4200];
	int r = open_store_once(d);

	if (r != -ENOTRECOVERABLE)
		return r;
	r = move_aside(d->db_path, aside, sizeof(aside));
	if (r < 0) {
		mw_err("%s: not a memwatch database or corrupt, and it cannot be moved aside: %s",
		       d->db_path, strerror(-r));
		return -ENOTRECOVERABLE;
	}
	mw_err("%s: not a memwatch database or corrupt (quick_check failed); moved it to %s and"
	       " starting a new database",
	       d->db_path, aside);
	r = open_store_once(d);
	if (r == 0)
		moved_aside_event(d, aside);
	return r == -ENOTRECOVERABLE ? -EIO : r;
}

static int prune(struct daemon_ctx *ctx)
{
	struct mw_retention_stats st;
	uint64_t now = ctx->prune_now_ns ? ctx->prune_now_ns : mw_now_ns();

	ctx->policy.budget_ns = 0; /* offline: no tick to protect */
	int r = mw_retention_run(ctx->d.store, &ctx->policy, now, 1000000, &st);

	if (r < 0) {
		mw_err("%s: retention: %s", ctx->d.db_path, strerror(-r));
		return 1;
	}
	printf("rolled up %lld minutes, %lld hours; deleted %lld ticks, %lld rollups, %lld events,"
	       " %lld processes; vacuumed %lld pages; %lld bytes in use\n",
	       (long long)st.rolled_minutes, (long long)st.rolled_hours,
	       (long long)st.deleted_ticks, (long long)st.deleted_rollups,
	       (long long)st.deleted_events, (long long)st.deleted_procs,
	       (long long)st.vacuumed_pages, (long long)st.used_bytes);
	return 0;
}

/*
 * Without --foreground: detach, but only let the shell go once the first
 * tick is stored, so "memwatchd && memwatch status" sees a recording daemon.
 */
static int daemonize(struct daemon_ctx *ctx)
{
	int fds[2], code = 1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &code, sizeof(code)) != sizeof(code))
			code = 1;
		_exit(code);
	}
	close(fds[0]);
	setsid();
	ctx->d.ready_fd = fds[1];
	if (!freopen("/dev/null", "r", stdin))
		return -errno;
	return 0;
}

static int setup(struct daemon_ctx *ctx, int argc, char **argv)
{
	struct mw_daemon *d = &ctx->d;
	bool check_only = false, db_flag;
	char err[4096] = "";
	int code;

	mw_config_defaults(&ctx->cfg);
	code = parse_args(argc, argv, ctx, &check_only);
	if (code >= 0)
		return code;
	db_flag = d->db_path != NULL;
	if (load_config(ctx, &ctx->cfg, err, sizeof(err)) < 0) {
		/* One error a line, each with its own prefix, so grep and editors find them. */
		for (char *sv = NULL, *l = strtok_r(err, "\n", &sv); l;
		     l = strtok_r(NULL, "\n", &sv))
			fprintf(stderr, "memwatchd: %s\n", l);
		return check_only ? 1 : EXIT_USAGE;
	}
	if (check_only) {
		printf("%s: ok\n", ctx->config_path);
		return 0;
	}
	snprintf(ctx->db_path, sizeof(ctx->db_path), "%s",
	         db_flag ? d->db_path : ctx->cfg.database);
	d->db_path = ctx->db_path;
	apply_config(ctx);
	return -1;
}

int main(int argc, char **argv)
{
	struct daemon_ctx ctx = {.d = {.root = "", .sigfd = -1, .ready_fd = -1},
	                         .config_path = MW_DEFAULT_CONFIG};
	struct mw_daemon *d = &ctx.d;
	uint64_t keep;
	bool ipc_lock;
	int r, code;

	/* Nothing the daemon creates (database, WAL, journal) is for others to write or read. */
	umask(027);
	code = setup(&ctx, argc, argv);
	if (code >= 0)
		return code;
	d->emit_source_metrics = emit_source_metrics;
	d->health.started_ns = mw_now_ns();
	if (ctx.prune_only) {
		code = open_store(d) < 0 ? 1 : prune(&ctx);
		mw_store_close(d->store);
		return code;
	}
	r = setup_signals(&ctx);
	if (r < 0) {
		mw_err("signals: %s", strerror(-r));
		return 1;
	}
	if (!d->foreground && (r = daemonize(&ctx)) < 0) {
		mw_err("cannot detach: %s", strerror(-r));
		return 1;
	}
	code = 1;
	ipc_lock = lock_memory(&ctx.cfg);
	r = mw_proc_collector_new(d->root, &d->pc);
	if (r < 0) {
		mw_err("libproc2: %s", strerror(-r));
		goto out;
	}
	if (open_store(d) < 0)
		goto out;
	record_start(&ctx);
	claim_state(&ctx);
	keep = open_sources(&ctx);
	drop_caps(&ctx, keep, ipc_lock);
	ctx.watchdog_ns = mw_notify_watchdog_ns();
	mw_notice("recording into %s every %.1f s", d->db_path, (double)d->interval_ns / 1e9);
	main_loop(&ctx);
	mw_store_add_event(d->store, mw_now_ns(), "daemon-stop", 0, getpid(), NULL);
	code = 0;
out:
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, &code, sizeof(code)) < 0)
			code = 1;
		close(d->ready_fd);
	}
	if (ctx.state_path[0])
		unlink(ctx.state_path);
	close_sources(&ctx);
	mw_store_close(d->store);
	mw_proc_set_clear(&d->procs);
	free(d->procs.v);
	mw_proc_collector_free(d->pc);
	if (d->sigfd >= 0)
		close(d->sigfd);
	return code;
}
