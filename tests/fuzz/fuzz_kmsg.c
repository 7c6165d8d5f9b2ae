/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /dev/kmsg messages, one a line: the OOM-kill reports mw_kmsg_parse_oom_kill picks out. */
#include "fuzz.h"
#include "memwatch/collect/kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mw_kmsg_kills *kl = calloc(1, sizeof(*kl));

	if (!kl)
		abort();
	for (char *line = s, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		mw_kmsg_parse_oom_kill(line, kl);
	}
	free(kl);
	free(s);
	return 0;
}
