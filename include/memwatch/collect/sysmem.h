/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System-wide memory: /proc/meminfo, /proc/vmstat, /proc/pressure/memory.
 *
 * Each field list is an X-macro so that the struct, the parser, the store
 * schema (one column per field, added by migration when the list grows)
 * and the JSON/OpenMetrics output all come from one place.
 * Values are int64_t; MW_UNKNOWN marks a key the kernel did not print.
 */
#ifndef MEMWATCH_SYSMEM_H
#define MEMWATCH_SYSMEM_H

#include <stdint.h>
#include <stddef.h>

/* X(column, "meminfo key"): values stored in bytes (the kernel prints kB). */
#define MW_MEMINFO_FIELDS(X)                                                                       \
	X(mem_total, "MemTotal")                                                                   \
	X(mem_free, "MemFree")                                                                     \
	X(mem_available, "MemAvailable")                                                           \
	X(buffers, "Buffers")                                                                      \
	X(cached, "Cached")                                                                        \
	X(swap_cached, "SwapCached")                                                               \
	X(active_anon, "Active(anon)")                                                             \
	X(inactive_anon, "Inactive(anon)")                                                         \
	X(active_file, "Active(file)")                                                             \
	X(inactive_file, "Inactive(file)")                                                         \
	X(unevictable, "Unevictable")                                                              \
	X(mlocked, "Mlocked")                                                                      \
	X(swap_total, "SwapTotal")                                                                 \
	X(swap_free, "SwapFree")                                                                   \
	X(dirty, "Dirty")                                                                          \
	X(writeback, "Writeback")                                                                  \
	X(anon_pages, "AnonPages")                                                                 \
	X(mapped, "Mapped")                                                                        \
	X(shmem, "Shmem")                                                                          \
	X(kreclaimable, "KReclaimable")                                                            \
	X(slab, "Slab")                                                                            \
	X(sreclaimable, "SReclaimable")                                                            \
	X(sunreclaim, "SUnreclaim")                                                                \
	X(kernel_stack, "KernelStack")                                                             \
	X(page_tables, "PageTables")                                                               \
	X(commit_limit, "CommitLimit")                                                             \
	X(committed_as, "Committed_AS")                                                            \
	X(vmalloc_used, "VmallocUsed")                                                             \
	X(anon_huge_pages, "AnonHugePages")                                                        \
	X(shmem_huge_pages, "ShmemHugePages")                                                      \
	X(hugetlb, "Hugetlb")

/* X(column, "vmstat key"): raw counters (pages or events); rates are computed on read. */
#define MW_VMSTAT_FIELDS(X)                                                                        \
	X(pgfault, "pgfault")                                                                      \
	X(pgmajfault, "pgmajfault")                                                                \
	X(pswpin, "pswpin")                                                                        \
	X(pswpout, "pswpout")                                                                      \
	X(pgscan_kswapd, "pgscan_kswapd")                                                          \
	X(pgscan_direct, "pgscan_direct")                                                          \
	X(pgsteal_kswapd, "pgsteal_kswapd")                                                        \
	X(pgsteal_direct, "pgsteal_direct")                                                        \
	X(allocstall_dma, "allocstall_dma")                                                        \
	X(allocstall_dma32, "allocstall_dma32")                                                    \
	X(allocstall_normal, "allocstall_normal")                                                  \
	X(allocstall_movable, "allocstall_movable")                                                \
	X(allocstall_device, "allocstall_device")                                                  \
	X(oom_kill, "oom_kill")                                                                    \
	X(workingset_refault_anon, "workingset_refault_anon")                                      \
	X(workingset_refault_file, "workingset_refault_file")                                      \
	X(workingset_activate_anon, "workingset_activate_anon")                                    \
	X(workingset_activate_file, "workingset_activate_file")                                    \
	X(workingset_restore_anon, "workingset_restore_anon")                                      \
	X(workingset_restore_file, "workingset_restore_file")                                      \
	X(workingset_nodereclaim, "workingset_nodereclaim")                                        \
	X(compact_stall, "compact_stall")                                                          \
	X(thp_fault_alloc, "thp_fault_alloc")

/* X(column, "line", "field"): /proc/pressure/memory; avg in percent, total in microseconds. */
#define MW_PSI_FIELDS(X)                                                                           \
	X(psi_some_avg10, "some", "avg10")                                                         \
	X(psi_some_avg60, "some", "avg60")                                                         \
	X(psi_some_avg300, "some", "avg300")                                                       \
	X(psi_some_total, "some", "total")                                                         \
	X(psi_full_avg10, "full", "avg10")                                                         \
	X(psi_full_avg60, "full", "avg60")                                                         \
	X(psi_full_avg300, "full", "avg300")                                                       \
	X(psi_full_total, "full", "total")

#define MW_X_ENUM_MEM(col, key)        MW_MI_##col,
#define MW_X_ENUM_VM(col, key)         MW_VM_##col,
#define MW_X_ENUM_PSI(col, line, name) MW_PSI_##col,
enum { MW_MEMINFO_FIELDS(MW_X_ENUM_MEM) MW_MI_COUNT };
enum { MW_VMSTAT_FIELDS(MW_X_ENUM_VM) MW_VM_COUNT };
enum { MW_PSI_FIELDS(MW_X_ENUM_PSI) MW_PSI_COUNT };

/*
 * PSI averages are percentages with two decimals; they are stored as
 * hundredths (integers) so every system column is an INTEGER.
 */
struct mw_sys_sample {
	int64_t mem[MW_MI_COUNT];
	int64_t vm[MW_VM_COUNT];
	int64_t psi[MW_PSI_COUNT];
};

/* Column names, in enum order (for the store and for output). */
extern const char *const mw_meminfo_columns[MW_MI_COUNT];
extern const char *const mw_vmstat_columns[MW_VM_COUNT];
extern const char *const mw_psi_columns[MW_PSI_COUNT];

/* Parsers over text, so tests feed them recorded and malformed input. */
void mw_meminfo_parse(const char *text, int64_t mem[MW_MI_COUNT]);
void mw_vmstat_parse(const char *text, int64_t vm[MW_VM_COUNT]);
void mw_psi_parse(const char *text, int64_t psi[MW_PSI_COUNT]);

/*
 * Read all three from root ("" for the live system). A missing PSI file
 * (kernel without CONFIG_PSI) leaves PSI unknown and is not an error;
 * missing meminfo is (-errno).
 */
int mw_sys_sample_read(const char *root, struct mw_sys_sample *s);

#endif
