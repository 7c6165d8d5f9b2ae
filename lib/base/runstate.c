/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/runstate.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mw_runstate_path(char *buf, size_t cap)
{
	const char *dir = getenv(MW_RUNSTATE_ENV);
	int n;

	if (!dir || !*dir)
		dir = MW_RUNTIME_DIR;
	n = snprintf(buf, cap, "%s/memwatchd.state", dir);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int write_all(FILE *f, const struct mw_runstate *s)
{
	fprintf(f,
	        "pid=%d\ndb=%s\nstarted_ms=%" PRId64 "\nupdated_ms=%" PRId64
	        "\ninterval_ms=%" PRId64 "\nticks=%" PRIu64 "\ndropped_ticks=%" PRIu64
	        "\nskipped_ticks=%" PRIu64 "\nstore_errors=%" PRIu64 "\ncpu_us=%" PRIu64
	        "\ncpu_per_tick_us=%" PRIu64 "\nrss_bytes=%" PRId64 "\nlast_error=%s\n",
	        (int)s->pid, s->db, s->started_ms, s->updated_ms, s->interval_ms, s->ticks,
	        s->dropped_ticks, s->skipped_ticks, s->store_errors, s->cpu_us, s->cpu_per_tick_us,
	        s->rss_bytes, s->last_error);
	return ferror(f) ? -EIO : 0;
}

int mw_runstate_write(const char *file, const struct mw_runstate *s)
{
	char tmp[4200];
	FILE *f = NULL;
	int fd, r;

	/* One line per key: a path with a newline would forge keys. */
	if (strchr(s->db, '\n') || strchr(s->last_error, '\n'))
		return -EINVAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* The umask of the daemon (027) must not hide it: any user's memwatch reads it. */
	if (fchmod(fd, 0644) < 0) {
		r = -errno;
		close(fd);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		goto out;
	}
	r = write_all(f, s);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, file) < 0)
		r = -errno;
out:
	if (r < 0)
		unlink(tmp);
	return r;
}

static void set_u64(uint64_t *dst, const char *v)
{
	int64_t x;

	if (mw_parse_i64(v, &x) == 0 && x >= 0)
		*dst = (uint64_t)x;
}

static void set_i64(int64_t *dst, const char *v)
{
	if (mw_parse_i64(v, dst) < 0)
		*dst = MW_UNKNOWN;
}

static void parse_line(struct mw_runstate *s, char *line)
{
	char *v = strchr(line, '=');
	int64_t pid;

	if (!v)
		return;
	*v++ = '\0';
	if (strcmp(line, "pid") == 0 && mw_parse_i64(v, &pid) == 0 && pid > 0 && pid < 1 << 30)
		s->pid = (pid_t)pid;
	else if (strcmp(line, "db") == 0)
		snprintf(s->db, sizeof(s->db), "%s", v);
	else if (strcmp(line, "last_error") == 0)
		snprintf(s->last_error, sizeof(s->last_error), "%s", v);
	else if (strcmp(line, "started_ms") == 0)
		set_i64(&s->started_ms, v);
	else if (strcmp(line, "updated_ms") == 0)
		set_i64(&s->updated_ms, v);
	else if (strcmp(line, "interval_ms") == 0)
		set_i64(&s->interval_ms, v);
	else if (strcmp(line, "rss_bytes") == 0)
		set_i64(&s->rss_bytes, v);
	else if (strcmp(line, "ticks") == 0)
		set_u64(&s->ticks, v);
	else if (strcmp(line, "dropped_ticks") == 0)
		set_u64(&s->dropped_ticks, v);
	else if (strcmp(line, "skipped_ticks") == 0)
		set_u64(&s->skipped_ticks, v);
	else if (strcmp(line, "store_errors") == 0)
		set_u64(&s->store_errors, v);
	else if (strcmp(line, "cpu_us") == 0)
		set_u64(&s->cpu_us, v);
	else if (strcmp(line, "cpu_per_tick_us") == 0)
		set_u64(&s->cpu_per_tick_us, v);
}

int mw_runstate_read(const char *file, struct mw_runstate *s)
{
	char buf[8192], *save = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	s->rss_bytes = MW_UNKNOWN;
	r = mw_read_file(file, buf, sizeof(buf), NULL);
	if (r < 0)
		return r;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_line(s, line);
	return s->pid > 0 && s->db[0] ? 0 : -EINVAL;
}

bool mw_runstate_pid_is_daemon(pid_t pid)
{
	char path[64], comm[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (mw_read_file(path, comm, sizeof(comm), NULL) < 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "memwatchd") == 0;
}
