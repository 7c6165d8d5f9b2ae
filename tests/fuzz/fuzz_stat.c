/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/stat: mw_proc_parse_stat. */
#include "fuzz.h"
#include "memwatch/collect/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_proc_sample p = {0};
	unsigned long flags = 0;

	mw_proc_parse_stat(s, &p, &flags);
	free(s);
	return 0;
}
