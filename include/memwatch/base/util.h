/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every module uses: scoped cleanup, file reading, clocks,
 * number parsing. Functions return 0 or a negative errno.
 */
#ifndef MEMWATCH_UTIL_H
#define MEMWATCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define MW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MW_UNUSED        __attribute__((unused))

/* Value not available (unreadable, missing key, not applicable). Stored as NULL. */
#define MW_UNKNOWN INT64_MIN

/* a * b, or MW_UNKNOWN when /proc hands us a value that cannot be true (overflow). */
static inline int64_t mw_mul_or_unknown(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_mul_overflow(a, b, &r) ? MW_UNKNOWN : r;
}

/* a + b, held at INT64_MAX: a total of absurd parts stays absurd, never negative. */
static inline int64_t mw_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN + 1) : r;
}

static inline void mw_freep(void *p)
{
	free(*(void **)p);
}
static inline void mw_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void mw_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void mw_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_     __attribute__((cleanup(mw_freep)))
#define _cleanup_close_    __attribute__((cleanup(mw_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(mw_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(mw_closedirp)))

/*
 * Read a whole (small, /proc-style) file into buf, NUL-terminated. Files
 * longer than cap-1 are truncated and -EFBIG is returned with the prefix
 * kept, since /proc files can grow between stat and read.
 */
int mw_read_file(const char *path, char *buf, size_t cap, size_t *len);

/* Read a whole file of any size into a malloc'd, NUL-terminated buffer. */
int mw_read_file_alloc(const char *path, char **out, size_t *len);

/* Same, relative to a directory fd (openat), so /proc/PID reads cannot race to another pid. */
int mw_read_fileat(int dirfd, const char *name, char *buf, size_t cap, size_t *len);

/* Build root + path into buf; root "" or NULL means the real filesystem. */
int mw_path(char *buf, size_t cap, const char *root, const char *path);

/*
 * qsort that accepts an empty (possibly NULL) array: qsort(NULL, 0, ...) is
 * undefined behaviour, and empty sets (no slab caches readable, no processes
 * matched) are normal here.
 */
static inline void mw_qsort(void *base, size_t n, size_t size,
                            int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/*
 * Copy src into dst (cap bytes), truncating where it must; always
 * NUL-terminated. Returns strlen(src), so callers can tell it was cut.
 */
size_t mw_strlcpy(char *dst, const char *src, size_t cap);

uint64_t mw_now_ns(void);  /* CLOCK_REALTIME */
uint64_t mw_mono_ns(void); /* CLOCK_MONOTONIC */

/* Strict decimal parsers: whole string, no sign surprises, range-checked. */
int mw_parse_i64(const char *s, int64_t *out);
int mw_parse_u64(const char *s, uint64_t *out);

/*
 * Durations: "30", "30s", "5m", "6h", "2d", "1.5h", "250ms". Returns the
 * duration in nanoseconds. Zero and negative durations are rejected.
 */
int mw_parse_duration(const char *s, uint64_t *ns);

/*
 * A point in time for --since/--at: a duration back from now ("6h"), a
 * Unix time ("@1700000000"), or "YYYY-MM-DD[ HH:MM[:SS]]" / ISO 8601 with
 * "T", read as local time. Result in ns since the epoch.
 */
int mw_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns);

#endif
