/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch: subcommand dispatch. Thin: the work is in libmemwatch. */
#include "config.h"
#include "cli.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
        {"report", cmd_report,
         "report <pid|name>  how a process's memory changed, and where (--system: the machine)"},
        {"ipc", cmd_ipc, "ipc                IPC objects: creator, size, attachments, growth"},
        {"oom", cmd_oom, "oom                OOM kills so far, and who would be killed next"},
        {"top", cmd_top,
         "top                who grows, where and how fast (interactive; --batch for text)"},
        {"callsites", cmd_callsites, "callsites <pid>    which code holds a process's mappings"},
        {"trace", cmd_trace, "trace <pid>        count allocator and mapping calls of one process"},
        {"status", cmd_status, "status             is memwatchd recording, where, how much"},
};

int cli_parse_since(const char *cmd, const char *arg, uint64_t now_ns, uint64_t *out)
{
	if (mw_parse_time(arg, now_ns, out) == 0)
		return 0;
	fprintf(stderr,
	        "memwatch %s: --since '%s': expected a duration (30m, 6h, 2d),"
	        " '@UNIXTIME' or 'YYYY-MM-DD HH:MM[:SS]'\n",
	        cmd, arg);
	return -EINVAL;
}

int cli_bad_option(const char *cmd, int c, char **argv, void (*usage)(FILE *))
{
	if (c == ':') {
		fprintf(stderr, "memwatch %s: option '%s' needs an argument\n", cmd,
		        argv[optind - 1]);
	} else {
		fprintf(stderr, "memwatch %s: unknown option '%s'\n", cmd, argv[optind - 1]);
		usage(stderr);
	}
	return EXIT_USAGE;
}

int cli_one_pid(const char *cmd, int argc, char **argv, int64_t *pid, void (*usage)(FILE *))
{
	if (optind + 1 == argc && mw_parse_i64(argv[optind], pid) == 0 && *pid > 0 &&
	    *pid <= 0x3fffffff)
		return 0;
	fprintf(stderr, "memwatch %s: expected one process id\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}

bool cli_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && strcmp(cs, "UTF-8") == 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: memwatch COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\n'memwatch COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("memwatch %s\n", MW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "memwatch: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
