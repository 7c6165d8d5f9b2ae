/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/smaps: mw_region_parse_smaps, with the default and a small stack size. */
#include "fuzz.h"
#include "memwatch/collect/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_regions r;

	mw_region_parse_smaps(s, 0, &r);
	mw_region_parse_smaps(s, 4096, &r);
	free(s);
	return 0;
}
