/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by report --system, ipc and oom: options, and history from the store or a live sample. */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "memwatch/store/store.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

int cli_sys_parse(const char *prog, int argc, char **argv, struct cli_sys_args *a,
                  void (*usage)(FILE *))
{
	static const struct option opts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"since", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {"sample", required_argument, NULL, 'S'},
	        {"root", required_argument, NULL, 'r'},
	        {"html", required_argument, NULL, 'H'},
	        {"orphans", no_argument, NULL, 'o'},
	        {"system", no_argument, NULL, 'y'},
	        {"live", no_argument, NULL, 'L'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	uint64_t now = mw_now_ns();
	int c;

	a->db_path = NULL;
	a->root = "";
	a->since_ns = now - 3600ull * 1000000000ull;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:s:jS:r:H:oyh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db_path = optarg;
			break;
		case 's':
			if (cli_parse_since(prog, optarg, now, &a->since_ns) < 0)
				return EXIT_USAGE;
			break;
		case 'j':
			a->json = true;
			break;
		case 'S':
			if (mw_parse_duration(optarg, &a->sample_ns) < 0 ||
			    a->sample_ns > 600ull * 1000000000ull) {
				fprintf(stderr,
				        "memwatch %s: --sample '%s': expected a duration up to 10m "
				        "(e.g. 5s)\n",
				        prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'H':
			if (!a->allow_html)
				goto unknown;
			a->html = optarg;
			break;
		case 'o':
			if (!a->allow_orphans)
				goto unknown;
			a->orphans = true;
			break;
		case 'y':
			if (!a->allow_system)
				goto unknown;
			break;
		case 'L':
			a->live = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
		unknown:
			return cli_bad_option(prog, c, argv, usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memwatch %s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int cli_sys_gather(const char *prog, const struct cli_sys_args *a, int parts, struct mw_sysview *v,
                   struct mw_store **store_out, char *note, size_t cap)
{
	struct mw_store *st = NULL;
	char why[4700] = "";
	struct cli_db db;
	int active = 0, r;

	if (store_out)
		*store_out = NULL;
	if (a->root[0]) {
		snprintf(why, sizeof(why), "reading the tree under %s", a->root);
		goto live;
	}
	if (a->live) {
		snprintf(why, sizeof(why), "--live: no database read");
		goto live;
	}
	cli_db_resolve(a->db_path, &db);
	r = cli_db_open(prog, &db, &st, &active, why, sizeof(why));
	if (r == -ENOENT)
		goto live;
	if (r < 0)
		return r;
	r = cli_sysview_from_store(st, "", (int64_t)(a->since_ns / 1000000ull),
	                           (int64_t)(mw_now_ns() / 1000000ull), parts, v);
	if (r == -ENODATA) {
		snprintf(why, sizeof(why), "%s has no samples in the window", db.path);
		mw_store_close(st);
		st = NULL;
		goto live;
	}
	if (r < 0) {
		fprintf(stderr, "memwatch %s: %s: cannot read: %s\n", prog, db.path, strerror(-r));
		mw_store_close(st);
		return r;
	}
	snprintf(note, cap, "history from %s (from %s), %zu samples%s", db.path, db.origin, v->n,
	         active > 0 ? " (memwatchd recording)"
	                    : " (memwatchd is not recording now: history ends at the last stored "
	                      "tick)");
	if (store_out)
		*store_out = st;
	else
		mw_store_close(st);
	return 0;
live:
	r = cli_sysview_live(a->root, a->sample_ns, 500000000ull,
	                     a->root[0] ? parts & ~MW_SV_PROCS : parts, v);
	if (r < 0) {
		fprintf(stderr, "memwatch %s: live sampling failed: %s\n", prog, strerror(-r));
		return r;
	}
	snprintf(note, cap, "%s (%s)", v->note, why);
	return 0;
}
