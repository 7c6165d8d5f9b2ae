/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/host.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long mw_clock_ticks_per_sec(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

int mw_boot_time(const char *root, uint64_t *btime_s)
{
	char path[512];
	_cleanup_free_ char *buf = NULL;
	const char *p;
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/stat");
	if (r < 0)
		return r;
	r = mw_read_file_alloc(path, &buf, NULL);
	if (r < 0)
		return r;
	p = strstr(buf, "\nbtime ");
	if (!p)
		return -ENOENT;
	*btime_s = strtoull(p + 7, NULL, 10);
	return 0;
}

/* A one-line /proc file under root, without its trailing newline. */
static int read_line(const char *root, const char *rel, char *buf, size_t cap)
{
	char path[512];
	size_t len = 0;
	int r;

	r = mw_path(path, sizeof(path), root, rel);
	if (r < 0)
		return r;
	r = mw_read_file(path, buf, cap, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return len ? 0 : -ENOENT;
}

int mw_boot_id(const char *root, char *buf, size_t cap)
{
	return read_line(root, "/proc/sys/kernel/random/boot_id", buf, cap);
}

int mw_hostname(const char *root, char *buf, size_t cap)
{
	int r;

	if (cap == 0)
		return -EINVAL;
	r = read_line(root, "/proc/sys/kernel/hostname", buf, cap);
	if (r < 0 && r != -EFBIG && !root[0]) {
		/* /proc may be absent (a minimal container); the syscall needs none. */
		if (gethostname(buf, cap) < 0)
			return -errno;
		buf[cap - 1] = '\0';
		r = buf[0] ? 0 : -ENOENT;
	}
	return r;
}
