/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch callsites <pid>: which code holds a process's outstanding mappings (from memwatchd). */
#include "config.h"
#include "cli.h"
#include "dbpath.h"
#include "memwatch/base/format.h"
#include "memwatch/base/json.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/callsitestore.h"
#include "memwatch/store/store.h"
#include "memwatch/view/callsiteview.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

struct cs_args {
	const char *db_path;
	uint64_t since_ns;
	int64_t pid;
	size_t top;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: memwatch callsites <pid> [--db PATH] [--since WHEN] [--top N] [--json]\n"
	        "\n"
	        "Call sites (DWARF-unwound stacks) of the mappings and heap growth a process\n"
	        "still holds, as recorded by memwatchd, largest first, with growth per hour.\n"
	        "\n"
	        "  --db PATH      database recorded by memwatchd (default: $MEMWATCH_DB, the\n"
	        "                 running memwatchd's, %s)\n"
	        "  --since WHEN   start of the window for growth (default 1h)\n"
	        "  --top N        sites to show (default 10)\n"
	        "  --json         machine-readable output\n",
	        MW_DEFAULT_DB);
}

static int parse_args(int argc, char **argv, struct cs_args *a)
{
	static const struct option opts[] = {
	        {"db", required_argument, NULL, 'd'},  {"since", required_argument, NULL, 's'},
	        {"top", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},      {0},
	};
	uint64_t now = mw_now_ns(), top;
	int c;

	a->db_path = NULL;
	a->since_ns = now - 3600ull * 1000000000ull;
	a->top = 10;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:s:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db_path = optarg;
			break;
		case 's':
			if (cli_parse_since("callsites", optarg, now, &a->since_ns) < 0)
				return EXIT_USAGE;
			break;
		case 't':
			if (mw_parse_u64(optarg, &top) < 0 || top == 0 || top > 1000) {
				fprintf(stderr,
				        "memwatch callsites: --top '%s': expected 1 to 1000\n",
				        optarg);
				return EXIT_USAGE;
			}
			a->top = (size_t)top;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cli_bad_option("callsites", c, argv, usage);
		}
	}
	if (cli_one_pid("callsites", argc, argv, &a->pid, usage) != 0)
		return EXIT_USAGE;
	return -1;
}

static void print_json(const struct cli_db *db, const struct mw_proc_info *info,
                       const struct mw_callsite_list *l)
{
	struct mw_json j;

	mw_json_init(&j, stdout, true);
	mw_json_obj_open(&j, NULL);
	mw_json_str(&j, "db", db->path);
	mw_json_str(&j, "db_from", db->origin);
	mw_json_int(&j, "pid", info->pid);
	mw_json_str(&j, "comm", info->comm);
	mw_json_bool(&j, "exited", info->exited);
	mw_callsite_json(&j, "callsites", l);
	mw_json_obj_close(&j);
	mw_json_end(&j);
}

int cmd_callsites(int argc, char **argv)
{
	struct cs_args a = {0};
	struct mw_store *st = NULL;
	struct mw_proc_info info = {0};
	struct mw_callsite_list l = {0};
	char boot_id[64], esc[64], why[600];
	struct cli_db db;
	int code, r;

	code = parse_args(argc, argv, &a);
	if (code >= 0)
		return code;
	cli_db_resolve(a.db_path, &db);
	r = cli_db_open("callsites", &db, &st, NULL, why, sizeof(why));
	if (r == -ENOENT)
		fprintf(stderr, "memwatch callsites: %s\n", why);
	if (r < 0)
		return EXIT_RUNTIME;
	code = EXIT_RUNTIME;
	r = mw_boot_id("", boot_id, sizeof(boot_id));
	if (r == 0)
		r = mw_store_find_latest_proc(st, boot_id, (pid_t)a.pid, &info);
	if (r < 0) {
		fprintf(stderr, "memwatch callsites: %s has no record of pid %lld\n", db.path,
		        (long long)a.pid);
		goto out;
	}
	r = mw_store_callsites(st, info.id, (int64_t)(a.since_ns / 1000000ull),
	                       (int64_t)(mw_now_ns() / 1000000ull), a.top, &l);
	if (r < 0) {
		fprintf(stderr, "memwatch callsites: %s: %s\n", db.path, strerror(-r));
		goto out;
	}
	if (a.json) {
		print_json(&db, &info, &l);
	} else {
		mw_escape_term(info.comm, strlen(info.comm), esc, sizeof(esc), cli_utf8());
		printf("pid %d (%s)%s, from %s (%s)\n", (int)info.pid, esc,
		       info.exited ? ", exited" : "", db.path, db.origin);
		mw_callsite_print(stdout, &l, cli_utf8());
	}
	code = 0;
out:
	mw_callsite_list_release(&l);
	mw_proc_info_release(&info);
	mw_store_close(st);
	return code;
}
