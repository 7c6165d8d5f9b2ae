/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/slabinfo: mw_slab_parse. */
#include "fuzz.h"
#include "memwatch/collect/slab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_slab_set set = {0};
	size_t skipped = 0;

	mw_slab_parse(s, 4096, &set, &skipped);
	mw_slab_set_release(&set);
	free(s);
	return 0;
}
