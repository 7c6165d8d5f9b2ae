// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The floor for bench/bpf_overhead: programs that do nothing, on the hooks
 * memwatch's always-on programs use for every fault and every new mapping.
 * Whatever they cost is the price of running any program there at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/page_fault_user")
int BPF_PROG(floor_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return 0;
}

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(floor_map, unsigned long addr, struct vm_unmapped_area_info *info)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
