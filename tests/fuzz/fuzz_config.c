/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatchd.conf: mw_config_parse on top of the defaults. */
#include "fuzz.h"
#include "memwatch/base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_config *c = malloc(sizeof(*c));
	char err[256];

	if (!c)
		abort();
	mw_config_defaults(c);
	mw_config_parse(s, "fuzz.conf", c, err, sizeof(err));
	free(c);
	free(s);
	return 0;
}
