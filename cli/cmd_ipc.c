/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch ipc: SysV and POSIX IPC objects, who made them, what they hold, how they grow. */
#include "config.h"
#include "cli.h"
#include "memwatch/view/sysreport.h"
#include "memwatch/analyse/sysview.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch ipc [--orphans] [--json] [--db PATH] [--since WHEN] [--sample "
	        "DUR]\n"
	        "\n"
	        "  --orphans      only leak candidates: shared memory nobody has attached or open\n"
	        "  --json         machine-readable output\n"
	        "  --db PATH      database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                 running memwatchd's, %s)\n"
	        "  --since WHEN   start of the growth window (default 1h)\n"
	        "  --sample DUR   with no recorded history, sample for this long (default 1s)\n"
	        "  --live         sample now; read no database\n"
	        "  --root DIR     read /proc, /sys and /dev under DIR (recorded trees)\n",
	        MW_DEFAULT_DB);
}

int cmd_ipc(int argc, char **argv)
{
	struct cli_sys_args a = {.sample_ns = 1000000000ull, .allow_orphans = true};
	struct mw_sysview v = {0};
	char note[700];
	int code;

	code = cli_sys_parse("ipc", argc, argv, &a, usage);
	if (code >= 0)
		return code;
	if (cli_sys_gather("ipc", &a, MW_SV_IPC | MW_SV_PROCS, &v, NULL, note, sizeof(note)) < 0)
		return EXIT_RUNTIME;
	if (a.json)
		mw_ipc_print_json(stdout, &v, a.orphans, note);
	else
		mw_ipc_print_text(stdout, &v, a.orphans, note, cli_utf8());
	mw_sysview_release(&v);
	return 0;
}
