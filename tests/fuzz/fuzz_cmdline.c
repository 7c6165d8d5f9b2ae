/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/cmdline (raw bytes, NULs inside): mw_proc_cmdline_text in place. */
#include "fuzz.h"
#include "memwatch/collect/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As read: len bytes and room for the NUL the function writes after them. */
	char *s = fuzz_cstr(data, size);

	mw_proc_cmdline_text(s, size);
	free(s);
	return 0;
}
