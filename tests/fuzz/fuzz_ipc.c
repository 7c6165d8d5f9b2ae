/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/sysvipc/{shm,msg,sem} and a /dev/mqueue file's status line (lib/collect/ipc.c). */
#include "fuzz.h"
#include "memwatch/collect/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int (*const parse[])(const char *, struct mw_ipc_set *) = {
	        mw_ipc_parse_shm, mw_ipc_parse_msg, mw_ipc_parse_sem};
	char *s = fuzz_cstr(data, size);
	int64_t qsize;

	for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		struct mw_ipc_set set = {0};
		parse[i](s, &set);
		mw_ipc_set_release(&set);
	}
	mw_ipc_parse_mq_status(s, &qsize);
	free(s);
	return 0;
}
