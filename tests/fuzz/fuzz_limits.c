/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/limits: descriptor, stack and process limits (lib/collect/limits.c). */
#include "fuzz.h"
#include "memwatch/collect/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_proc_limits lim;

	mw_proc_limits_parse(s, &lim);
	free(s);
	return 0;
}
