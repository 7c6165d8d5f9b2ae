/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch status: is a daemon recording, where, since when, how much. */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "memwatch/store/bpfdata.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/view/report.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch status [--db PATH] [--json]\n\n"
	        "  --db PATH   database (default: $MEMWATCH_DB, the running memwatchd's, %s)\n"
	        "  --json      machine-readable output\n",
	        MW_DEFAULT_DB);
}

struct status {
	int active; /* a writer holds the lock */
	int64_t writer_pid, started_ms, interval_ms;
	char bpf[1024];
	char bpf_missing[4096];
	char bpf_gaps[1024];
	struct mw_bpf_cost cost;
	bool has_cost;
	/* the daemon's own health (meta, written in every tick) */
	int64_t tick_us, tick_max_us, tick_cpu_us, cpu_us, rss_bytes, dropped;
	int64_t skipped, store_errors, attempted;
	char last_error[256]; /* the daemon's, now: "" while recording */
	struct mw_store_stats st;
};

static int64_t meta_int(struct mw_store *s, const char *key)
{
	char buf[64];
	int64_t v;

	if (mw_store_meta_get(s, key, buf, sizeof(buf)) < 0 || mw_parse_i64(buf, &v) < 0)
		return MW_UNKNOWN;
	return v;
}

/*
 * The running daemon's counters are in memory and in its runtime file,
 * current even while the database refuses writes; meta holds the last
 * stored copy.
 */
static void from_daemon(const struct cli_db *db, struct status *s)
{
	const struct mw_runstate *rs = &db->daemon;

	if (!db->have_daemon)
		return;
	s->dropped = (int64_t)rs->dropped_ticks;
	s->skipped = (int64_t)rs->skipped_ticks;
	s->store_errors = (int64_t)rs->store_errors;
	s->cpu_us = (int64_t)rs->cpu_us;
	s->tick_cpu_us = (int64_t)rs->cpu_per_tick_us;
	s->attempted = (int64_t)(rs->ticks + rs->dropped_ticks);
	s->rss_bytes = rs->rss_bytes;
	snprintf(s->last_error, sizeof(s->last_error), "%s", rs->last_error);
}

static void print_daemon(const struct status *s)
{
	char a[32];

	if (s->tick_us != MW_UNKNOWN)
		printf("daemon:     tick %.1f ms (slowest %.1f ms), %.1f ms CPU per tick, RSS %s\n",
		       (double)s->tick_us / 1000.0,
		       s->tick_max_us == MW_UNKNOWN ? 0.0 : (double)s->tick_max_us / 1000.0,
		       s->tick_cpu_us == MW_UNKNOWN ? 0.0 : (double)s->tick_cpu_us / 1000.0,
		       s->rss_bytes == MW_UNKNOWN ? "?" : mw_fmt_bytes(a, sizeof(a), s->rss_bytes));
	if (s->cpu_us != MW_UNKNOWN && s->attempted != MW_UNKNOWN)
		printf("daemon CPU: %.3f s (all threads, user+system) over %" PRId64 " ticks\n",
		       (double)s->cpu_us / 1e6, s->attempted);
	if (s->last_error[0])
		printf("now:        not recording: %s (ticks are dropped and counted)\n",
		       s->last_error);
	if (s->dropped != MW_UNKNOWN)
		printf("dropped:    %" PRId64 " ticks could not be stored%s\n", s->dropped,
		       s->dropped ? " (disk full or I/O errors; see the daemon's log)" : "");
	if (s->skipped != MW_UNKNOWN)
		printf("skipped:    %" PRId64 " ticks not run (the previous tick overran the"
		       " interval); %" PRId64 " store errors\n",
		       s->skipped, s->store_errors == MW_UNKNOWN ? 0 : s->store_errors);
}

static void print_text(const struct cli_db *db, const struct status *s)
{
	char a[32], b[32], c[32], d[32];
	int64_t now_ms = (int64_t)(mw_now_ns() / 1000000ull);

	printf("database:   %s (from %s; %s, schema %d)\n", db->path, db->origin,
	       mw_fmt_bytes(a, sizeof(a), s->st.file_bytes), s->st.schema_version);
	if (s->active)
		printf("recording:  yes, memwatchd pid %" PRId64 ", every %.1f s, since %s\n",
		       s->writer_pid, (double)s->interval_ms / 1000.0,
		       s->started_ms == MW_UNKNOWN
		               ? "?"
		               : mw_fmt_time(b, sizeof(b), (uint64_t)s->started_ms * 1000000ull));
	else
		printf("recording:  no (no memwatchd holds this database)\n");
	if (s->st.ticks)
		printf("history:    %s .. %s (%s), %" PRId64 " ticks, last %s ago\n",
		       mw_fmt_time(a, sizeof(a), (uint64_t)s->st.first_tick_ms * 1000000ull),
		       mw_fmt_time(b, sizeof(b), (uint64_t)s->st.last_tick_ms * 1000000ull),
		       mw_fmt_duration(c, sizeof(c),
		                       (uint64_t)(s->st.last_tick_ms - s->st.first_tick_ms) *
		                               1000000ull),
		       s->st.ticks,
		       mw_fmt_duration(d, sizeof(d),
		                       (uint64_t)(now_ms > s->st.last_tick_ms
		                                          ? now_ms - s->st.last_tick_ms
		                                          : 0) *
		                               1000000ull));
	else
		printf("history:    empty\n");
	printf("processes:  %" PRId64 " recorded, %" PRId64 " alive at the last tick\n",
	       s->st.procs, s->st.live_procs);
	printf("rows:       %" PRId64 " process, %" PRId64 " system, %" PRId64 " events\n",
	       s->st.proc_rows, s->st.sys_rows, s->st.events);
	printf("eBPF:       %s\n", s->bpf[0] ? s->bpf : "unknown");
	mw_report_bpf_missing_text(stdout, s->bpf_missing, "  missing:  ", cli_utf8());
	mw_report_bpf_missing_text(stdout, s->bpf_gaps, "  gap:      ", cli_utf8());
	if (s->has_cost && s->cost.window_ns == 0)
		printf("eBPF cost:  not measured yet (run-time statistics are sampled one tick in"
		       " sixty, first at tick 12), %" PRId64 " events dropped\n",
		       s->cost.events_dropped);
	else if (s->has_cost)
		printf("eBPF cost:  %.0f ns a run over %" PRId64 " programs, %.2f %% of one CPU"
		       " (sampled over %.1f s), %" PRId64 " events dropped\n",
		       s->cost.run_cnt ? (double)s->cost.run_time_ns / (double)s->cost.run_cnt
		                       : 0.0,
		       s->cost.programs,
		       s->cost.window_ns
		               ? 100.0 * (double)s->cost.run_time_ns / (double)s->cost.window_ns
		               : 0.0,
		       (double)s->cost.window_ns / 1e9, s->cost.events_dropped);
	print_daemon(s);
}

static void print_json(const struct cli_db *db, const struct status *s)
{
	struct mw_json j;

	mw_json_init(&j, stdout, true);
	mw_json_obj_open(&j, NULL);
	mw_json_str(&j, "db", db->path);
	mw_json_str(&j, "db_from", db->origin);
	mw_json_bool(&j, "recording", s->active == 1);
	mw_json_int(&j, "writer_pid", s->active == 1 ? s->writer_pid : MW_UNKNOWN);
	mw_json_int(&j, "writer_started_ms", s->started_ms);
	mw_json_int(&j, "interval_ms", s->interval_ms);
	mw_json_int(&j, "schema_version", s->st.schema_version);
	mw_json_int(&j, "file_bytes", s->st.file_bytes);
	mw_json_int(&j, "ticks", s->st.ticks);
	mw_json_int(&j, "first_tick_ms", s->st.ticks ? s->st.first_tick_ms : MW_UNKNOWN);
	mw_json_int(&j, "last_tick_ms", s->st.ticks ? s->st.last_tick_ms : MW_UNKNOWN);
	mw_json_int(&j, "processes", s->st.procs);
	mw_json_int(&j, "live_processes", s->st.live_procs);
	mw_json_int(&j, "process_rows", s->st.proc_rows);
	mw_json_int(&j, "system_rows", s->st.sys_rows);
	mw_json_int(&j, "events", s->st.events);
	mw_json_str(&j, "bpf", s->bpf[0] ? s->bpf : NULL);
	mw_report_bpf_missing_json(&j, "bpf_missing", s->bpf_missing);
	mw_report_bpf_missing_json(&j, "bpf_gaps", s->bpf_gaps);
	mw_json_int(&j, "bpf_run_cnt", s->has_cost ? s->cost.run_cnt : MW_UNKNOWN);
	mw_json_int(&j, "bpf_run_time_ns", s->has_cost ? s->cost.run_time_ns : MW_UNKNOWN);
	mw_json_int(&j, "bpf_events_dropped", s->has_cost ? s->cost.events_dropped : MW_UNKNOWN);
	mw_json_int(&j, "bpf_stats_window_ns", s->has_cost ? s->cost.window_ns : MW_UNKNOWN);
	mw_json_int(&j, "daemon_tick_us", s->tick_us);
	mw_json_int(&j, "daemon_tick_max_us", s->tick_max_us);
	mw_json_int(&j, "daemon_tick_cpu_us", s->tick_cpu_us);
	mw_json_int(&j, "daemon_cpu_us", s->cpu_us);
	mw_json_int(&j, "daemon_rss_bytes", s->rss_bytes);
	mw_json_int(&j, "dropped_ticks", s->dropped);
	mw_json_int(&j, "skipped_ticks", s->skipped);
	mw_json_int(&j, "store_errors", s->store_errors);
	mw_json_int(&j, "daemon_ticks_run", s->attempted);
	mw_json_str(&j, "daemon_error", s->last_error[0] ? s->last_error : NULL);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	const char *path = NULL;
	struct cli_db db;
	char why[600] = "";
	struct mw_store *st = NULL;
	struct status s = {0};
	bool json = false;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "memwatch status: bad option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "memwatch status: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	cli_db_resolve(path, &db);
	r = cli_db_open("status", &db, &st, &s.active, why, sizeof(why));
	if (r == -ENOENT) {
		fprintf(stderr, "memwatch status: %s; start it with 'memwatchd', or pass --db\n",
		        why);
		return EXIT_RUNTIME;
	}
	if (r < 0)
		return EXIT_RUNTIME;
	r = mw_store_stats(st, &s.st);
	s.writer_pid = meta_int(st, "writer_pid");
	s.started_ms = meta_int(st, "writer_started_ms");
	s.interval_ms = meta_int(st, "interval_ms");
	s.tick_us = meta_int(st, "daemon_tick_us");
	s.tick_max_us = meta_int(st, "daemon_tick_max_us");
	s.tick_cpu_us = meta_int(st, "daemon_tick_cpu_us");
	s.cpu_us = meta_int(st, "daemon_cpu_us");
	s.rss_bytes = meta_int(st, "daemon_rss_bytes");
	s.dropped = meta_int(st, "dropped_ticks");
	s.skipped = meta_int(st, "skipped_ticks");
	s.store_errors = meta_int(st, "store_errors");
	s.attempted = MW_UNKNOWN;
	from_daemon(&db, &s);
	if (mw_store_meta_get(st, "bpf", s.bpf, sizeof(s.bpf)) < 0)
		s.bpf[0] = '\0';
	mw_store_bpf_missing(st, s.bpf_missing, sizeof(s.bpf_missing));
	s.has_cost = mw_store_bpf_cost(st, &s.cost) == 0 && s.cost.programs > 0;
	mw_store_close(st);
	if (r < 0) {
		fprintf(stderr, "memwatch status: %s: %s\n", db.path, strerror(-r));
		return EXIT_RUNTIME;
	}
	if (json)
		print_json(&db, &s);
	else
		print_text(&db, &s);
	return 0;
}
