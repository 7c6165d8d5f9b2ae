/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch oom: the kills so far with what grew before each, and who dies next, and when. */
#include "config.h"
#include "cli.h"
#include "memwatch/analyse/oom.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/util.h"
#include "memwatch/view/oomview.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch oom [--json] [--db PATH] [--since WHEN] [--sample DUR]\n"
	        "\n"
	        "  --json         machine-readable output\n"
	        "  --db PATH      database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                 running memwatchd's, %s)\n"
	        "  --since WHEN   how far back to list kills and measure growth (default 1h)\n"
	        "  --sample DUR   with no recorded history, sample growth for this long (default "
	        "3s)\n"
	        "  --live         sample now; read no database\n",
	        MW_DEFAULT_DB);
}

int cmd_oom(int argc, char **argv)
{
	struct cli_sys_args a = {.sample_ns = 3000000000ull};
	struct mw_sysview v = {0};
	struct mw_store *st = NULL;
	struct mw_oom_history h = {0};
	struct mw_oom_forecast f = {0};
	struct mw_proc_collector *pc = NULL;
	struct mw_proc_set set = {0};
	struct mw_sys_sample now;
	char note[900];
	int code, r;

	code = cli_sys_parse("oom", argc, argv, &a, usage);
	if (code >= 0)
		return code;
	if (a.root[0]) {
		fprintf(stderr, "memwatch oom: --root is not supported (the forecast needs live "
		                "processes)\n");
		return EXIT_USAGE;
	}
	code = EXIT_RUNTIME;
	if (cli_sys_gather("oom", &a, MW_SV_PROCS, &v, &st, note, sizeof(note)) < 0)
		goto out;
	h.counter_total = MW_UNKNOWN;
	if (st) {
		r = cli_oom_history(st, (int64_t)(a.since_ns / 1000000ull),
		                    (int64_t)(mw_now_ns() / 1000000ull), &h);
		if (r < 0) {
			fprintf(stderr, "memwatch oom: reading kills: %s\n", strerror(-r));
			goto out;
		}
	} else {
		size_t len = strlen(note);
		snprintf(note + len, sizeof(note) - len,
		         "; no history, so no kills can be listed (vmstat oom_kill counts them"
		         " since boot)");
	}
	r = mw_proc_collector_new("", &pc);
	if (r == 0)
		r = mw_proc_collect(pc, &set);
	if (r == 0)
		r = mw_sys_sample_read("", &now);
	if (r == 0)
		r = cli_oom_forecast(NULL, 0, &set, &now, &v, &f);
	if (r < 0) {
		fprintf(stderr, "memwatch oom: forecast: %s\n", strerror(-r));
		goto out;
	}
	if (a.json)
		mw_oom_print_json(stdout, &h, &f, st ? "store" : "live", note);
	else
		mw_oom_print_text(stdout, &h, &f, note, cli_utf8());
	code = 0;
out:
	mw_oom_forecast_release(&f);
	mw_oom_history_release(&h);
	mw_proc_set_clear(&set);
	free(set.v);
	mw_proc_collector_free(pc);
	mw_sysview_release(&v);
	mw_store_close(st);
	return code;
}
