/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/zoneinfo: mw_zoneinfo_parse. */
#include "fuzz.h"
#include "memwatch/collect/vmtune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_zone_set *z = calloc(1, sizeof(*z));

	if (!z)
		abort();
	mw_zoneinfo_parse(s, z);
	free(z);
	free(s);
	return 0;
}
