/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening the database files so that nobody else chooses where the daemon
 * writes or what it writes into: no symbolic links, only regular files
 * owned by us and not writable by anyone else, in a directory nobody else
 * can swap files in. Private to lib/store/.
 */
#ifndef MEMWATCH_STORE_FSECURE_H
#define MEMWATCH_STORE_FSECURE_H

#include <stdbool.h>

#define MW_DB_FILE_MODE 0640
#define MW_DB_DIR_MODE  0750
#define MW_DB_GROUP     "memwatch"

/* Create the file's directory (0750, group memwatch) when missing; refuse an unsafe one. */
int mw_fs_secure_dir(const char *file);

/*
 * Open path read-write: created (O_EXCL, never through a link) mode 0640,
 * group memwatch when that group exists; or an existing file that passes
 * the checks, its mode tightened to 0640 when wider. With create false a
 * missing file is fine (*fd = -1). Refusals are logged with the detail.
 */
int mw_fs_secure_open(const char *path, bool create, int *fd);

#endif
