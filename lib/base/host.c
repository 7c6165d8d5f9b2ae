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

int mw_boot_id(const char *root, char *buf, size_t cap)
{
	char path[512];
	size_t len = 0;
	int r;

	r = mw_path(path, sizeof(path), root, "/proc/sys/kernel/random/boot_id");
	if (r < 0)
		return r;
	r = mw_read_file(path, buf, cap, &len);
	if (r < 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return len ? 0 : -ENOENT;
}
