/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "dbpath.h"
#include "memwatch/base/host.h"
#include "memwatch/base/util.h"
#include "memwatch/store/store.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The advertised daemon, when its state file names a live memwatchd. */
static bool running_daemon(struct mw_runstate *rs)
{
	char file[4200];

	return mw_runstate_path(file, sizeof(file)) == 0 && mw_runstate_read(file, rs) == 0 &&
	       mw_runstate_pid_is_daemon(rs->pid);
}

void cli_db_resolve(const char *flag, struct cli_db *db)
{
	const char *env = getenv(CLI_DB_ENV);
	struct mw_runstate rs;
	bool live = running_daemon(&rs);

	memset(db, 0, sizeof(*db));
	if (flag) {
		db->from = CLI_DB_FLAG;
		snprintf(db->path, sizeof(db->path), "%s", flag);
		snprintf(db->origin, sizeof(db->origin), "--db");
	} else if (env && *env) {
		db->from = CLI_DB_ENV_VAR;
		snprintf(db->path, sizeof(db->path), "%s", env);
		snprintf(db->origin, sizeof(db->origin), "$%s", CLI_DB_ENV);
	} else if (live) {
		db->from = CLI_DB_DAEMON;
		snprintf(db->path, sizeof(db->path), "%s", rs.db);
		snprintf(db->origin, sizeof(db->origin), "running daemon pid %d", (int)rs.pid);
	} else {
		db->from = CLI_DB_DEFAULT;
		snprintf(db->path, sizeof(db->path), "%s", MW_DEFAULT_DB);
		snprintf(db->origin, sizeof(db->origin), "default");
	}
	if (live && same_file(db->path, rs.db)) {
		db->have_daemon = true;
		db->daemon = rs;
	}
}

/* The first of path's directories, path itself, its -wal or -shm that we may not read. */
static bool denied_file(const char *path, char *out, size_t cap)
{
	static const char *const sfx[] = {"-wal", "-shm"};
	char buf[4200];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (access(buf, X_OK) < 0 && errno == EACCES) {
			snprintf(out, cap, "%s", buf);
			return true;
		}
		*p = '/';
	}
	if (access(path, R_OK) < 0 && errno == EACCES) {
		snprintf(out, cap, "%s", path);
		return true;
	}
	for (size_t i = 0; i < MW_ARRAY_SIZE(sfx); i++) {
		snprintf(buf, sizeof(buf), "%s%s", path, sfx[i]);
		if (access(buf, F_OK) == 0 && access(buf, R_OK) < 0 && errno == EACCES) {
			snprintf(out, cap, "%s", buf);
			return true;
		}
	}
	return false;
}

static void print_denied(const char *prog, const char *file)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	char user[32], group[32];
	struct stat sb;

	if (stat(file, &sb) < 0) {
		fprintf(stderr, "memwatch %s: permission denied: %s\n", prog, file);
		return;
	}
	pw = getpwuid(sb.st_uid);
	gr = getgrgid(sb.st_gid);
	snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "?");
	snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "?");
	if (!pw)
		snprintf(user, sizeof(user), "%u", (unsigned)sb.st_uid);
	if (!gr)
		snprintf(group, sizeof(group), "%u", (unsigned)sb.st_gid);
	fprintf(stderr,
	        "memwatch %s: permission denied: %s (owner %s:%s, mode %04o; add yourself to"
	        " group memwatch)\n",
	        prog, file, user, group, (unsigned)(sb.st_mode & 07777));
}

int cli_db_open(const char *prog, const struct cli_db *db, struct mw_store **out, int *active,
                char *why, size_t cap)
{
	char denied[4200];
	int a, r;

	*out = NULL;
	if (denied_file(db->path, denied, sizeof(denied))) {
		print_denied(prog, denied);
		return -EACCES;
	}
	/* Probe the writer lock before SQLite opens the file (see mw_store_writer_active). */
	a = mw_store_writer_active(db->path);
	if (active)
		*active = a;
	r = mw_store_open_reader(db->path, out);
	if (r == -ENOENT && db->from == CLI_DB_DEFAULT) {
		snprintf(why, cap, "no database at %s (memwatchd has not run)", db->path);
		return r;
	}
	if (r == -ENOENT) {
		fprintf(stderr, "memwatch %s: no such database: %s (from %s)\n", prog, db->path,
		        db->origin);
		r = -ENOMEDIUM; /* -ENOENT is kept for the absent default, that may go live */
	} else if (r == -EACCES)
		print_denied(prog, db->path);
	else if (r < 0)
		fprintf(stderr, "memwatch %s: %s: %s\n", prog, db->path,
		        r == -EPROTONOSUPPORT   ? "written by a newer memwatch"
		        : r == -ENOTRECOVERABLE ? "not a memwatch database"
		                                : strerror(-r));
	return r;
}

void cli_host_name(struct mw_store *st, const char *root, char *buf, size_t cap)
{
	int r = st ? mw_store_meta_get(st, "hostname", buf, cap) : mw_hostname(root, buf, cap);

	if (r < 0 && cap)
		buf[0] = '\0';
}
