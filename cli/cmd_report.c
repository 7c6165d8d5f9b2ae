/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch report <pid|name>: one process's memory, from history or a short live sample. */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "memwatch/base/format.h"
#include "memwatch/collect/proc.h"
#include "memwatch/view/report.h"
#include "memwatch/view/report_html.h"
#include "report_live.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <string.h>

struct report_args {
	const char *target;
	const char *db_path;
	uint64_t since_ns; /* absolute */
	uint64_t sample_ns;
	bool json, live;
	bool exact; /* -x: the command name itself, not a substring of it or of the command line */
	const char *html;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch report <pid|name> [--db PATH] [--since WHEN] [--json] [--html "
	        "FILE]\n"
	        "                       [--sample DUR] [--live] [-x|--exact]\n"
	        "       memwatch report --system [OPTIONS]   the machine: 'memwatch report "
	        "--system "
	        "--help'\n"
	        "\n"
	        "  A name matches, like pgrep, a substring of a process's command name or\n"
	        "  of its command line; several matches are listed and none is chosen.\n"
	        "\n"
	        "  -x, --exact    the name is the whole command name (or argv[0]'s base name)\n"
	        "  --db PATH      database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                 running memwatchd's, %s)\n"
	        "  --since WHEN   start of the window: a duration back (30m, 6h, 2d),\n"
	        "                 '@UNIXTIME' or 'YYYY-MM-DD HH:MM' (default 1h)\n"
	        "  --json         machine-readable output (docs/report-json.md)\n"
	        "  --html FILE    also write a self-contained HTML page with one chart per region\n"
	        "  --sample DUR   with no recorded history, sample for this long (default 5s)\n"
	        "  --live         sample for --sample now; read no database\n"
	        "  --system       report on the machine instead of one process\n",
	        MW_DEFAULT_DB);
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
	static const struct option opts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"since", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {"html", required_argument, NULL, 'H'},
	        {"sample", required_argument, NULL, 'S'},
	        {"live", no_argument, NULL, 'L'},
	        {"exact", no_argument, NULL, 'x'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	uint64_t now = mw_now_ns();
	int c;

	a->db_path = NULL;
	a->since_ns = now - 3600ull * 1000000000ull;
	a->sample_ns = 5000000000ull;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:s:jS:H:xh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db_path = optarg;
			break;
		case 's':
			if (cli_parse_since("report", optarg, now, &a->since_ns) < 0)
				return EXIT_USAGE;
			break;
		case 'j':
			a->json = true;
			break;
		case 'H':
			if (!*optarg) {
				fprintf(stderr, "memwatch report: --html needs a file name\n");
				return EXIT_USAGE;
			}
			a->html = optarg;
			break;
		case 'S':
			if (mw_parse_duration(optarg, &a->sample_ns) < 0 ||
			    a->sample_ns > 600ull * 1000000000ull) {
				fprintf(stderr,
				        "memwatch report: --sample '%s': expected a duration up to "
				        "10m"
				        " (e.g. 5s)\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'L':
			a->live = true;
			break;
		case 'x':
			a->exact = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("report", c, argv, usage);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "memwatch report: expected exactly one <pid|name>\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	a->target = argv[optind];
	if (!*a->target) {
		fprintf(stderr, "memwatch report: empty process name\n");
		return EXIT_USAGE;
	}
	return -1;
}

static bool all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* comm is cut at 15 bytes by the kernel, so argv[0]'s base name also counts as exact. */
static bool name_is_exact(const struct mw_proc_sample *p, const char *name)
{
	char argv0[256];
	const char *sp;
	size_t len;

	if (strcmp(p->comm, name) == 0)
		return true;
	if (!p->cmdline || !*p->cmdline)
		return false;
	sp = strchr(p->cmdline, ' ');
	len = sp ? (size_t)(sp - p->cmdline) : strlen(p->cmdline);
	if (len >= sizeof(argv0))
		return false;
	memcpy(argv0, p->cmdline, len);
	argv0[len] = '\0';
	return strcmp(basename(argv0), name) == 0;
}

static bool name_matches(const struct mw_proc_sample *p, const char *name, bool exact)
{
	if (exact)
		return name_is_exact(p, name);
	return strstr(p->comm, name) || (p->cmdline && strstr(p->cmdline, name));
}

/*
 * Ourselves and our ancestors carry the name in their command lines
 * (`sudo memwatch report nginx`, a shell running us): never candidates.
 */
static bool is_self_or_ancestor(const struct mw_proc_set *set, pid_t pid)
{
	pid_t cur = getpid();

	/* Bounded: a pid chain cannot be longer than the set. */
	for (size_t hops = 0; cur > 0 && hops <= set->n; hops++) {
		size_t i;
		if (cur == pid)
			return true;
		for (i = 0; i < set->n && set->v[i].pid != cur; i++)
			;
		if (i == set->n)
			return false;
		cur = set->v[i].ppid;
	}
	return false;
}

static bool candidate(const struct mw_proc_set *set, size_t i, const char *name, bool exact)
{
	return name_matches(&set->v[i], name, exact) && !is_self_or_ancestor(set, set->v[i].pid);
}

/* Resolve a name among live processes; prints the candidates when ambiguous. */
static int resolve_name(struct mw_proc_collector *pc, const char *name, bool exact, pid_t *pid)
{
	struct mw_proc_set set = {0};
	size_t matches = 0;
	bool utf8 = cli_utf8();
	char esc[256];
	int r;

	r = mw_proc_collect(pc, &set);
	if (r < 0) {
		fprintf(stderr, "memwatch report: cannot list processes: %s\n", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < set.n; i++)
		if (candidate(&set, i, name, exact)) {
			*pid = set.v[i].pid;
			matches++;
		}
	mw_escape_term(name, strlen(name), esc, sizeof(esc), utf8);
	if (matches == 0) {
		fprintf(stderr, "memwatch report: no running process named '%s'%s\n", esc,
		        exact ? "" : " nor with it in its command line");
		r = -ESRCH;
	} else if (matches > 1) {
		fprintf(stderr, "memwatch report: '%s' matches %zu processes; give a pid%s:\n", esc,
		        matches, exact ? "" : " (or -x for the exact command name)");
		for (size_t i = 0; i < set.n; i++) {
			char cmd[160], rss[32];
			const char *line;
			if (!candidate(&set, i, name, exact))
				continue;
			/* A kernel thread or a zombie has no command line: its name instead. */
			line = set.v[i].cmdline && *set.v[i].cmdline ? set.v[i].cmdline
			                                             : set.v[i].comm;
			mw_escape_term(line, strlen(line), cmd, sizeof(cmd), utf8);
			fprintf(stderr, "  %8d  %10s  %s\n", (int)set.v[i].pid,
			        mw_fmt_bytes(rss, sizeof(rss), set.v[i].m[MW_PM_rss]), cmd);
		}
		r = -EEXIST;
	}
out:
	mw_proc_set_clear(&set);
	free(set.v);
	return r;
}

static void pss_unknown(struct mw_report_pss *p)
{
	memset(p, 0, sizeof(*p));
	for (int k = 0; k < MW_PSS_COUNT; k++)
		p->now[k] = p->first[k] = MW_UNKNOWN;
}

/* The slow tier's PSS readings of the process in the report's window: first and latest. */
static void pss_from_store(struct mw_store *st, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                           struct mw_report_pss *out)
{
	struct mw_region_series sr = {0};
	const struct mw_region_point *first = NULL, *last = NULL;

	pss_unknown(out);
	if (mw_store_region_series(st, proc_id, since_ms, until_ms, &sr) < 0)
		return;
	for (size_t i = 0; i < sr.n; i++) {
		if (!sr.v[i].reg.readable || sr.v[i].reg.pss[MW_PSS_pss] == MW_UNKNOWN)
			continue;
		first = first ? first : &sr.v[i];
		last = &sr.v[i];
	}
	if (last) {
		out->valid = true;
		out->t_ms = last->t_ms;
		out->first_ms = first->t_ms;
		memcpy(out->now, last->reg.pss, sizeof(out->now));
		if (first != last)
			memcpy(out->first, first->reg.pss, sizeof(out->first));
	}
	mw_region_series_release(&sr);
}

/*
 * Report from the store when it has this process; returns -ENOENT when
 * it does not (the caller then samples live).
 */
static int report_from_store(const struct report_args *a, pid_t pid, bool alive,
                             uint64_t start_ticks, struct mw_report *rep, char *why, size_t whylen)
{
	struct mw_store *st = NULL;
	struct mw_proc_info info = {0};
	struct cli_db db;
	char boot_id[64];
	int active = 0, r;

	cli_db_resolve(a->db_path, &db);
	r = cli_db_open("report", &db, &st, &active, why, whylen);
	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0)
		return -ECANCELED; /* said */
	r = mw_boot_id("", boot_id, sizeof(boot_id));
	if (r == 0 && alive) {
		r = mw_store_find_proc(st, boot_id, pid, start_ticks, &info);
	} else if (r == 0) {
		r = mw_store_find_latest_proc(st, boot_id, pid, &info);
	}
	if (r == -ENOENT)
		snprintf(why, whylen, "%s has no record of this process%s", db.path,
		         active ? "" : " (memwatchd is not recording)");
	if (r == 0) {
		r = mw_report_from_store(st, &info, (int64_t)(a->since_ns / 1000000ull),
		                         (int64_t)(mw_now_ns() / 1000000ull), rep);
		if (r == -ENODATA) {
			snprintf(why, whylen, "%s has no samples of this process in the window",
			         db.path);
			r = -ENOENT;
		}
		snprintf(rep->db_path, sizeof(rep->db_path), "%s", db.path);
		snprintf(rep->db_from, sizeof(rep->db_from), "%s", db.origin);
		cli_host_name(st, "", rep->host, sizeof(rep->host));
		if (r == 0)
			pss_from_store(st, info.id, (int64_t)(a->since_ns / 1000000ull), rep->to_ms,
			               &rep->pss);
		if (r == 0 && !active)
			snprintf(rep->note, sizeof(rep->note),
			         "memwatchd is not recording now: history ends at the last stored "
			         "tick");
	}
	mw_proc_info_release(&info);
	mw_store_close(st);
	return r;
}

static int write_html(const char *path, const struct mw_report *rep)
{
	char esc[512];
	FILE *f = fopen(path, "w");
	int r;

	mw_escape_term(path, strlen(path), esc, sizeof(esc), cli_utf8());
	if (!f) {
		r = -errno;
		fprintf(stderr, "memwatch report: --html %s: %s\n", esc, strerror(-r));
		return r;
	}
	r = mw_report_write_html(f, rep);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		fprintf(stderr, "memwatch report: writing %s: %s\n", esc, strerror(-r));
	else
		fprintf(stderr, "memwatch report: wrote %s\n", esc);
	return r;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = {0};
	struct mw_proc_collector *pc = NULL;
	struct mw_proc_sample smp = {0};
	struct mw_report rep = {0};
	char why[4700] = "";
	pid_t pid = 0;
	bool alive;
	int code, r;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--system") == 0)
			return cmd_report_system(argc, argv);
	code = parse_args(argc, argv, &a);
	if (code >= 0)
		return code;
	code = EXIT_RUNTIME;
	r = mw_proc_collector_new("", &pc);
	if (r < 0) {
		fprintf(stderr, "memwatch report: libproc2: %s\n", strerror(-r));
		goto out;
	}
	if (all_digits(a.target)) {
		int64_t v;
		if (mw_parse_i64(a.target, &v) < 0 || v <= 0 || v > 4194304) {
			fprintf(stderr, "memwatch report: '%s' is not a valid pid\n", a.target);
			code = EXIT_USAGE;
			goto out;
		}
		pid = (pid_t)v;
	} else if (resolve_name(pc, a.target, a.exact, &pid) < 0) {
		goto out;
	}
	alive = mw_proc_collect_one(pc, pid, &smp) == 0;
	if (a.live) {
		snprintf(why, sizeof(why), "--live: no database read");
		r = -ENOENT;
	} else {
		r = report_from_store(&a, pid, alive, smp.start_ticks, &rep, why, sizeof(why));
	}
	if (r == -ENOENT && alive) {
		mw_report_release(&rep);
		r = mw_report_from_live(pc, pid, a.sample_ns, 500000000ull, &rep);
		if (r == 0) {
			size_t len = strlen(rep.note);
			cli_host_name(NULL, "", rep.host, sizeof(rep.host));
			pss_unknown(&rep.pss);
			if (mw_pss_read("", pid, rep.pss.now) == 0) {
				rep.pss.valid = true;
				rep.pss.t_ms = rep.pss.first_ms =
				        (int64_t)(mw_now_ns() / 1000000ull);
			}
			snprintf(rep.note + len, sizeof(rep.note) - len, " (%s)", why);
		}
	}
	if (r == -ECANCELED)
		goto out;
	if (r == -ENOENT || r == -ESRCH) {
		fprintf(stderr, "memwatch report: no process with pid %d%s%s\n", (int)pid,
		        why[0] ? ", and " : "", why);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "memwatch report: %s\n", strerror(-r));
		goto out;
	}
	if (a.html && write_html(a.html, &rep) < 0)
		goto out;
	if (a.json)
		mw_report_print_json(stdout, &rep);
	else
		mw_report_print_text(stdout, &rep, cli_utf8());
	code = 0;
out:
	mw_report_release(&rep);
	mw_proc_sample_release(&smp);
	mw_proc_collector_free(pc);
	return code;
}
