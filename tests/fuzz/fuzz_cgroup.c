/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cgroup text: /proc/PID/cgroup (memory controller path, systemd unit) and
 * the one-number memory files (memory.max, memory.limit_in_bytes, ...).
 */
#include "fuzz.h"
#include "memwatch/collect/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char out[256], small[8];
	bool v2;

	mw_cgroup_memory_path(s, out, sizeof(out), &v2);
	mw_cgroup_memory_path(s, small, sizeof(small), &v2);
	mw_cgroup_unit(s, out, sizeof(out), true);
	mw_cgroup_unit(s, small, sizeof(small), false);
	mw_cgroup_parse_bytes(s);
	free(s);
	return 0;
}
