/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which database the CLI reads, one rule for every subcommand: --db, then
 * $MEMWATCH_DB, then the file the running memwatchd advertises in its
 * runtime state, then the default. A path named (flag or environment) must
 * exist; only an absent default lets a command sample live instead.
 */
#ifndef MEMWATCH_CLI_DBPATH_H
#define MEMWATCH_CLI_DBPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "memwatch/base/runstate.h"

#define CLI_DB_ENV "MEMWATCH_DB"

enum cli_db_from { CLI_DB_FLAG, CLI_DB_ENV_VAR, CLI_DB_DAEMON, CLI_DB_DEFAULT };

struct cli_db {
	char path[4096];
	enum cli_db_from from;
	char origin[64]; /* "--db", "$MEMWATCH_DB", "running daemon pid N", "default" */
	/* The live memwatchd recording into path, and its in-memory counters. */
	bool have_daemon;
	struct mw_runstate daemon;
};

struct mw_store;

/* flag: the --db argument, or NULL. */
void cli_db_resolve(const char *flag, struct cli_db *db);

/*
 * Open db read-only. 0: *out is open. -ENOENT: the default path is absent
 * (why says so; the caller may sample live or fail). Any other error has
 * been printed, naming prog and the file (a named file that is missing is
 * -ENOMEDIUM): the caller exits EXIT_RUNTIME.
 * active, when not NULL, gets mw_store_writer_active (probed before opening).
 */
int cli_db_open(const char *prog, const struct cli_db *db, struct mw_store **out, int *active,
                char *why, size_t cap);

/*
 * The name of the host the data describes: the one memwatchd recorded in
 * st's meta table (so a copied database names where it was made), or,
 * with st NULL (sampled live), this host's under root. "" when unknown
 * (a database from before the name was recorded).
 */
void cli_host_name(struct mw_store *st, const char *root, char *buf, size_t cap);

#endif
