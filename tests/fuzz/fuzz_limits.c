/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/limits: the stack limit thread stacks are recognised by. */
#include "fuzz.h"
#include "memwatch/collect/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	mw_region_parse_stack_limit(s);
	free(s);
	return 0;
}
