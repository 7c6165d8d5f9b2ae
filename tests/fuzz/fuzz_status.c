/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/status: mw_proc_parse_status and the single-field reader. */
#include "fuzz.h"
#include "memwatch/collect/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_proc_sample p = {0};

	mw_proc_parse_status(s, &p);
	mw_status_field_kb(s, "VmPTE");
	mw_status_field_kb(s, "VmRSS");
	free(s);
	return 0;
}
