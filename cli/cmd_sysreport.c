/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch report --system: slab, IPC, reclaim and OOM risk of the machine, with hypotheses. */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "memwatch/analyse/oom.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"
#include "memwatch/view/sysreport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch report --system [--json | --html FILE] [--db PATH] [--since WHEN]"
	        " [--sample DUR]\n"
	        "\n"
	        "  --json         machine-readable output\n"
	        "  --html FILE    write a self-contained HTML report to FILE\n"
	        "  --db PATH      database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                 running memwatchd's, %s)\n"
	        "  --since WHEN   start of the window (default 1h)\n"
	        "  --sample DUR   with no recorded history, sample for this long (default 5s)\n"
	        "  --live         sample now; read no database\n"
	        "  --root DIR     read /proc and /sys under DIR (recorded trees; no processes)\n",
	        MW_DEFAULT_DB);
}

/* The OOM forecast needs the processes as they are now. */
static int forecast_now(struct mw_sysreport *r)
{
	struct mw_proc_collector *pc = NULL;
	struct mw_proc_set set = {0};
	struct mw_sys_sample now;
	int ret;

	ret = mw_proc_collector_new("", &pc);
	if (ret == 0)
		ret = mw_proc_collect(pc, &set);
	if (ret == 0)
		ret = mw_sys_sample_read("", &now);
	if (ret == 0)
		ret = cli_oom_forecast(NULL, 0, &set, &now, &r->v, &r->forecast);
	r->have_forecast = ret == 0;
	mw_proc_set_clear(&set);
	free(set.v);
	mw_proc_collector_free(pc);
	return ret;
}

int cmd_report_system(int argc, char **argv)
{
	struct cli_sys_args a = {
	        .sample_ns = 5000000000ull, .allow_html = true, .allow_system = true};
	struct mw_sysreport r = {0};
	struct mw_store *st = NULL;
	int code;

	code = cli_sys_parse("report", argc, argv, &a, usage);
	if (code >= 0)
		return code;
	if (a.json && a.html) {
		fprintf(stderr, "memwatch report: --json and --html: pick one\n");
		return EXIT_USAGE;
	}
	if (cli_sys_gather("report", &a, MW_SV_ALL, &r.v, &st, r.source_note,
	                   sizeof(r.source_note)) < 0)
		return EXIT_RUNTIME;
	cli_host_name(st, a.root, r.host, sizeof(r.host));
	mw_store_close(st);
	if (!a.root[0])
		forecast_now(&r);
	mw_sysreport_analyze(&r);
	code = 0;
	if (a.html) {
		FILE *f = fopen(a.html, "w");
		if (!f) {
			fprintf(stderr, "memwatch report: --html '%s': cannot write: %s\n", a.html,
			        strerror(errno));
			code = EXIT_RUNTIME;
		} else {
			mw_sysreport_print_html(f, &r);
			if (fclose(f) != 0) {
				fprintf(stderr, "memwatch report: --html '%s': %s\n", a.html,
				        strerror(errno));
				code = EXIT_RUNTIME;
			}
		}
	} else if (a.json) {
		mw_sysreport_print_json(stdout, &r);
	} else {
		mw_sysreport_print_text(stdout, &r, cli_utf8());
	}
	mw_sysreport_release(&r);
	return code;
}
