/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch subcommands. Each returns the process exit code: 0 ok, 1 runtime error, 2 usage. */
#ifndef MEMWATCH_CLI_H
#define MEMWATCH_CLI_H

#include <stdbool.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

int cmd_report(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_callsites(int argc, char **argv);
int cmd_trace(int argc, char **argv);

/* True when the terminal's locale is UTF-8 (decides how much escaping output needs). */
bool cli_utf8(void);

#endif
