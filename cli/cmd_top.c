/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch top: arguments, then the interactive view or --batch text. */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "top/top.h"

#include "memwatch/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch top [--db PATH] [--delay S] [--at WHEN] [--sort KEY] [--window "
	        "DUR]\n"
	        "                    [--filter TEXT] [--embedded] [--batch [--iterations N]]\n"
	        "\n"
	        "  --db PATH       database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                  running memwatchd's, %s); without any, top samples by itself\n"
	        "  --delay S       seconds between refreshes (default 2)\n"
	        "  --at WHEN       replay a recorded moment: a duration back (10m), '@UNIXTIME'\n"
	        "                  or 'YYYY-MM-DD HH:MM[:SS]'; step through time with [ ] { }\n"
	        "  --sort KEY      pid user rss growth vsz heap stack tstack anon file shm swap\n"
	        "                  threads fds minflt majflt oom oomadj pss uss hyp command\n"
	        "                  (default growth)\n"
	        "  --window DUR    growth is measured over this window (default 5m)\n"
	        "  --filter TEXT   show processes whose name, command line or user contains TEXT\n"
	        "  --embedded      sample /proc in-process even when a daemon is recording\n"
	        "  --batch         print the process view as text (like top -b) and exit\n"
	        "  --iterations N  with --batch: refreshes to print (default 1)\n"
	        "  --bench-refreshes N  time N refreshes of the process view, print the\n"
	        "                  figures and exit (bench/top_refresh)\n",
	        MW_DEFAULT_DB);
}

static int bad(const char *opt, const char *val, const char *expected)
{
	fprintf(stderr, "memwatch top: %s '%s': expected %s\n", opt, val, expected);
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	static const struct option opts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"delay", required_argument, NULL, 'D'},
	        {"at", required_argument, NULL, 'a'},
	        {"sort", required_argument, NULL, 's'},
	        {"window", required_argument, NULL, 'w'},
	        {"filter", required_argument, NULL, 'f'},
	        {"batch", no_argument, NULL, 'b'},
	        {"embedded", no_argument, NULL, 'e'},
	        {"iterations", required_argument, NULL, 'n'},
	        {"bench-refreshes", required_argument, NULL, 'B'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	uint64_t now = mw_now_ns(), ns;
	int64_t v;
	int c;

	o->db_path = NULL;
	o->delay_ns = 2000000000ull;
	o->window_ms = 5 * 60 * 1000;
	o->iterations = 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:D:a:s:w:f:bn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db_path = optarg;
			o->db_explicit = true;
			break;
		case 'D':
			if (mw_parse_duration(optarg, &ns) < 0 || ns < 100000000ull ||
			    ns > 3600ull * 1000000000ull)
				return bad("--delay", optarg, "seconds between 0.1 and 3600");
			o->delay_ns = ns;
			break;
		case 'a':
			if (mw_parse_time(optarg, now, &ns) < 0)
				return bad(
				        "--at", optarg,
				        "a duration back (10m), '@UNIXTIME' or 'YYYY-MM-DD HH:MM'");
			o->at_ms = (int64_t)(ns / 1000000ull);
			break;
		case 's':
			if (top_col_by_key(optarg) < 0 || top_col_by_key(optarg) == TC_SPARK)
				return bad("--sort", optarg, "a column key (see --help)");
			o->sort = optarg;
			break;
		case 'w':
			if (mw_parse_duration(optarg, &ns) < 0 || ns < 1000000000ull)
				return bad("--window", optarg,
				           "a duration of at least 1s (5m, 1h)");
			o->window_ms = (int64_t)(ns / 1000000ull);
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'e':
			o->embedded = true;
			break;
		case 'n':
			if (mw_parse_i64(optarg, &v) < 0 || v < 1 || v > 1000000)
				return bad("--iterations", optarg, "a count from 1");
			o->iterations = (int)v;
			break;
		case 'B':
			if (mw_parse_i64(optarg, &v) < 0 || v < 1 || v > 100000)
				return bad("--bench-refreshes", optarg, "a count from 1");
			o->bench_refreshes = (int)v;
			o->batch = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("top", c, argv, usage);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "memwatch top: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = {0};
	struct top_model m;
	struct mw_store *probe = NULL;
	struct cli_db db;
	char err[512] = "", why[4700];
	int code, r;

	code = parse_args(argc, argv, &o);
	if (code >= 0)
		return code;
	o.utf8 = cli_utf8();
	if (!o.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "memwatch top: not a terminal; use --batch for text output\n");
		return EXIT_USAGE;
	}
	cli_db_resolve(o.db_path, &db);
	o.db_path = db.path;
	o.db_from = db.origin;
	o.db_explicit = db.from == CLI_DB_FLAG || db.from == CLI_DB_ENV_VAR;
	/* One check (and one wording) of the file for every command; top opens it again. */
	if (!o.embedded) {
		r = cli_db_open("top", &db, &probe, NULL, why, sizeof(why));
		mw_store_close(probe);
		if (r < 0 && r != -ENOENT) /* an absent default: top samples by itself */
			return EXIT_RUNTIME;
	}
	r = top_model_open(&m, &o, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "memwatch top: %s\n", err);
		top_model_close(&m);
		return EXIT_RUNTIME;
	}
	r = o.batch ? top_batch_run(&m) : top_ui_run(&m);
	if (r < 0)
		fprintf(stderr, "memwatch top: %s%s%s\n", strerror(-r), m.note[0] ? ": " : "",
		        m.note);
	top_model_close(&m);
	return r < 0 ? EXIT_RUNTIME : 0;
}
