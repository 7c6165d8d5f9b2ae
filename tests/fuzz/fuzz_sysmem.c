/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/meminfo, /proc/vmstat and /proc/pressure/memory (lib/collect/sysmem.c). */
#include "fuzz.h"
#include "memwatch/collect/sysmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int64_t mem[MW_MI_COUNT], vm[MW_VM_COUNT], psi[MW_PSI_COUNT];

	mw_meminfo_parse(s, mem);
	mw_vmstat_parse(s, vm);
	mw_psi_parse(s, psi);
	free(s);
	return 0;
}
