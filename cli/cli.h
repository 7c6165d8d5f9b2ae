/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch subcommands. Each returns the process exit code: 0 ok, 1 runtime error, 2 usage. */
#ifndef MEMWATCH_CLI_H
#define MEMWATCH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

int cmd_report(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_callsites(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_report_system(int argc, char **argv);
int cmd_ipc(int argc, char **argv);
int cmd_oom(int argc, char **argv);

/* Options shared by report --system, ipc and oom (syscli.c). */
struct cli_sys_args {
	const char *db_path, *root, *html;
	uint64_t since_ns, sample_ns;
	bool json, orphans;
	bool live; /* --live: sample now, read no database */
	bool allow_html, allow_orphans, allow_system;
};

struct mw_oom_forecast;
struct mw_oom_history;
struct mw_proc_set;
struct mw_store;
struct mw_sys_sample;
struct mw_sysview;

/* -1 to go on, or an exit code. */
int cli_sys_parse(const char *prog, int argc, char **argv, struct cli_sys_args *a,
                  void (*usage)(FILE *));

/* From the store when it covers the window, else sampled live; note says which. */
int cli_sys_gather(const char *prog, const struct cli_sys_args *a, int parts, struct mw_sysview *v,
                   struct mw_store **store_out, char *note, size_t cap);

/*
 * Sample root every interval_ns for duration_ns (at least two samples) into
 * v, finished as from the store (syslive.c).
 */
int cli_sysview_live(const char *root, uint64_t duration_ns, uint64_t interval_ns, int parts,
                     struct mw_sysview *v);

/*
 * mw_sysview_from_store with the facts of the machine now that the store
 * lacks: POSIX objects' holders (so orphans are real ones) and the NUMA
 * node count, both under root (syslive.c).
 */
int cli_sysview_from_store(struct mw_store *st, const char *root, int64_t since_ms,
                           int64_t until_ms, int parts, struct mw_sysview *v);

/*
 * The kills the store holds over the window, with what grew before each,
 * the kernel log's names for the counter's kills (as root) and their
 * cgroups' memory limits as recorded at each kill (oomlive.c).
 */
int cli_oom_history(struct mw_store *st, int64_t since_ms, int64_t until_ms,
                    struct mw_oom_history *h);

/*
 * mw_oom_forecast, with each candidate's memory cgroup limit and the time
 * to reach it: recorded at at_ms when st is given (top replaying a
 * moment), else read now.
 */
int cli_oom_forecast(struct mw_store *st, int64_t at_ms, const struct mw_proc_set *procs,
                     const struct mw_sys_sample *now, const struct mw_sysview *view,
                     struct mw_oom_forecast *f);

/*
 * Parse a --since value (a duration back from now, '@UNIXTIME' or a local
 * date and time) into *out. On bad input prints an error naming the
 * command and the value and returns -EINVAL; the caller exits with EXIT_USAGE.
 */
int cli_parse_since(const char *cmd, const char *arg, uint64_t now_ns, uint64_t *out);

/*
 * getopt_long (optstring starting with ':') returned ':' or '?' for cmd:
 * say which option was missing its argument or unknown (with the usage for
 * an unknown one) and return EXIT_USAGE.
 */
int cli_bad_option(const char *cmd, int c, char **argv, void (*usage)(FILE *));

/*
 * The single operand left after the options must be a process id: *pid, or
 * an error naming cmd (with the usage) and EXIT_USAGE.
 */
int cli_one_pid(const char *cmd, int argc, char **argv, int64_t *pid, void (*usage)(FILE *));

/* True when the terminal's locale is UTF-8 (decides how much escaping output needs). */
bool cli_utf8(void);

#endif
