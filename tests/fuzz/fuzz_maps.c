/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/maps, line by line as the call-site tracker reads it: mw_callsite_maps_line. */
#include "fuzz.h"
#include "memwatch/collect/callsite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	for (char *line = s, *nl; line; line = nl) {
		uint64_t a, b;
		int kind;
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		mw_callsite_maps_line(line, &a, &b, &kind);
	}
	free(s);
	return 0;
}
