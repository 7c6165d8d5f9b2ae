/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>

static int read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int r = 0;

	if (cap == 0)
		return -EINVAL;
	while (n < cap - 1) {
		ssize_t k = read(fd, buf + n, cap - 1 - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (k == 0)
			goto out;
		n += (size_t)k;
	}
	/* Buffer full: probe for more so a file of exactly cap-1 bytes is not "truncated". */
	{
		char extra;
		ssize_t k = read(fd, &extra, 1);
		if (k > 0)
			r = -EFBIG;
	}
out:
	buf[n] = '\0';
	if (len)
		*len = n;
	return r;
}

int mw_read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (cap)
			buf[0] = '\0';
		return -errno;
	}
	return read_fd(fd, buf, cap, len);
}

int mw_read_fileat(int dirfd, const char *name, char *buf, size_t cap, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (cap)
			buf[0] = '\0';
		return -errno;
	}
	return read_fd(fd, buf, cap, len);
}

int mw_read_file_alloc(const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int r = 0;

	*out = NULL;
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + n, cap - 1 - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	return r;
}

int mw_path(char *buf, size_t cap, const char *root, const char *path)
{
	int n = snprintf(buf, cap, "%s%s", root ? root : "", path);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

size_t mw_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t len = strlen(src);

	if (cap) {
		size_t n = len < cap - 1 ? len : cap - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mw_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t mw_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int mw_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int mw_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int mw_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = {
	        {"ms", 1e6},   {"s", 1e9},    {"", 1e9},      {"m", 60e9},
	        {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}, {"w", 7 * 86400e9},
	};
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v) || v <= 0)
		return -EINVAL;
	for (size_t i = 0; i < MW_ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double r = v * units[i].ns;
			if (r < 1 || r > 9.2e18)
				return -ERANGE;
			*ns = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_calendar(const char *s, uint64_t *out_ns)
{
	struct tm tm = {0};
	const char *formats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
	                         "%Y-%m-%dT%H:%M", "%Y-%m-%d"};

	for (size_t i = 0; i < MW_ARRAY_SIZE(formats); i++) {
		const char *end;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (!end || *end)
			continue;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -EINVAL;
		*out_ns = (uint64_t)t * 1000000000ull;
		return 0;
	}
	return -EINVAL;
}

int mw_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
	uint64_t v;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '@') {
		if (mw_parse_u64(s + 1, &v) < 0 || v > 9000000000ull)
			return -EINVAL;
		*out_ns = v * 1000000000ull;
		return 0;
	}
	if (strchr(s, '-') || strchr(s, ':'))
		return parse_calendar(s, out_ns);
	if (mw_parse_duration(s, &v) < 0)
		return -EINVAL;
	if (v > now_ns)
		return -ERANGE;
	*out_ns = now_ns - v;
	return 0;
}
