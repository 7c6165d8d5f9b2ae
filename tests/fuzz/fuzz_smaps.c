/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /proc/PID/smaps: mw_region_parse_smaps, with the default and a small
 * stack size, and mw_region_parse_smaps_sp with an SP just above the
 * start of each mapping the text names (so the SP rule is reached); the
 * same text as a task's syscall and stat file.
 */
#include "fuzz.h"
#include "memwatch/collect/region.h"

#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_regions r;
	uint64_t sp[64] = {0}, one;
	size_t n = 0;

	mw_region_parse_smaps(s, 0, &r);
	mw_region_parse_smaps(s, 4096, &r);
	for (const char *p = s; p && *p && n < 64; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *end;
		unsigned long long a = strtoull(p, &end, 16);
		if (end != p && *end == '-')
			sp[n++] = (uint64_t)a + 8;
	}
	qsort(sp, n, sizeof(*sp), cmp_u64);
	mw_region_parse_smaps_sp(s, 0, sp, n, &r);
	mw_region_parse_task_sp(s, &one);
	mw_region_parse_task_stat_sp(s, &one);
	free(s);
	return 0;
}
