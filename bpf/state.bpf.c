// SPDX-License-Identifier: GPL-2.0-or-later
/* The definitions of the shared maps and configuration (see common.bpf.h). */
#define MW_BPF_DEFINE_MAPS
#include "common.bpf.h"

const volatile __u32 mw_nr_cpus = 1;
__u64 mw_cpu_off[MW_BPF_MAX_CPUS];
__u32 mw_cpu_off_ready;
const volatile __u64 mw_stack_window = 8 << 20;
const volatile __u64 mw_rss_threshold = 256;
const volatile __u64 mw_rb_wakeup_bytes = 128 * 1024;
struct mw_bpf_counters mw_counters;

char LICENSE[] SEC("license") = "GPL";
