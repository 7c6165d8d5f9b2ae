/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for /proc/meminfo, /proc/vmstat, /proc/pressure/memory: live, recorded, and broken input.
 */
#include "check.h"
#include "memwatch/analyse/syshyp.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_recorded(void)
{
	struct mw_sys_sample s;
	char root[4096];

	/* A recorded tree laid out like /proc: the collectors take a root path. */
	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_sys_sample_read(root, &s), 0);
	CHECK_EQ_I64(s.mem[MW_MI_mem_total], 24683656LL * 1024);
	CHECK(s.mem[MW_MI_mem_available] > 0);
	CHECK(s.mem[MW_MI_sunreclaim] > 0);
	CHECK_EQ_I64(s.vm[MW_VM_pgfault], 823206);
	CHECK_EQ_I64(s.vm[MW_VM_workingset_refault_file], 17994);
	CHECK_EQ_I64(s.vm[MW_VM_workingset_refault_anon], 0);
	CHECK_EQ_I64(mw_vmstat_allocstall(s.vm), 0);
	CHECK_EQ_I64(s.psi[MW_PSI_psi_some_avg10], 0);
	CHECK_EQ_I64(s.psi[MW_PSI_psi_full_total], 0);
}

static void test_live(void)
{
	struct mw_sys_sample s;

	CHECK_EQ_I64(mw_sys_sample_read("", &s), 0);
	for (int i = 0; i < MW_MI_COUNT; i++)
		if (s.mem[i] == MW_UNKNOWN)
			fprintf(stderr, "note: meminfo %s not printed by this kernel\n",
			        mw_meminfo_columns[i]);
	CHECK(s.mem[MW_MI_mem_total] > 0);
	CHECK(s.mem[MW_MI_mem_free] <= s.mem[MW_MI_mem_total]);
	CHECK(s.mem[MW_MI_mem_available] <= s.mem[MW_MI_mem_total]);
	CHECK(s.vm[MW_VM_pgfault] > 0);
	CHECK(s.vm[MW_VM_oom_kill] >= 0);
}

static void test_meminfo_odd(void)
{
	int64_t m[MW_MI_COUNT];

	/* Unknown keys ignored, missing keys unknown, garbage and negatives skipped. */
	mw_meminfo_parse("MemTotal:       1000 kB\n"
	                 "FutureField:    77 kB\n"
	                 "MemFree:  junk kB\n"
	                 "Cached: -5 kB\n"
	                 "HugePages_Total:       3\n"
	                 "Shmem:            12 kB",
	                 m);
	CHECK_EQ_I64(m[MW_MI_mem_total], 1024000);
	CHECK_EQ_I64(m[MW_MI_mem_free], MW_UNKNOWN);
	CHECK_EQ_I64(m[MW_MI_cached], MW_UNKNOWN);
	CHECK_EQ_I64(m[MW_MI_mem_available], MW_UNKNOWN);
	CHECK_EQ_I64(m[MW_MI_shmem], 12 * 1024); /* last line without newline */
	/* kB beyond what bytes can hold: unknown, and the next line still parses. */
	mw_meminfo_parse("MemTotal: 9000000000000000000 kB\nMemFree: 7 kB\n", m);
	CHECK_EQ_I64(m[MW_MI_mem_total], MW_UNKNOWN);
	CHECK_EQ_I64(m[MW_MI_mem_free], 7 * 1024);
	/* A key that is a prefix of another must not match it. */
	mw_meminfo_parse("MemTotalX: 5 kB\nMem: 6 kB\n", m);
	CHECK_EQ_I64(m[MW_MI_mem_total], MW_UNKNOWN);
	/* Truncated mid-line. */
	mw_meminfo_parse("MemTotal:       1000 kB\nMemFr", m);
	CHECK_EQ_I64(m[MW_MI_mem_total], 1024000);
	CHECK_EQ_I64(m[MW_MI_mem_free], MW_UNKNOWN);
	mw_meminfo_parse("", m);
	CHECK_EQ_I64(m[MW_MI_mem_total], MW_UNKNOWN);
}

static void test_vmstat_odd(void)
{
	int64_t v[MW_VM_COUNT];

	mw_vmstat_parse("pgfault 10\npgfaultx 99\nallocstall_normal 4\nallocstall_movable 3\n"
	                "oom_kill\npgmajfault  7\nunknown_counter 5",
	                v);
	CHECK_EQ_I64(v[MW_VM_pgfault], 10);
	CHECK_EQ_I64(v[MW_VM_oom_kill], MW_UNKNOWN);
	CHECK_EQ_I64(v[MW_VM_pgmajfault], 7);
	CHECK_EQ_I64(mw_vmstat_allocstall(v), 7);
	mw_vmstat_parse("pgfault 1", v);
	CHECK_EQ_I64(mw_vmstat_allocstall(v), MW_UNKNOWN);
	/* Older kernels: one workingset_refault without the _anon/_file split. */
	mw_vmstat_parse("workingset_refault 12\n", v);
	CHECK_EQ_I64(v[MW_VM_workingset_refault_file], MW_UNKNOWN);
}

static void test_psi_odd(void)
{
	int64_t p[MW_PSI_COUNT];

	mw_psi_parse("some avg10=1.25 avg60=0.50 avg300=100.00 total=123456\n"
	             "full avg10=0.01 avg60=bad avg300=0.00 total=99",
	             p);
	CHECK_EQ_I64(p[MW_PSI_psi_some_avg10], 125);
	CHECK_EQ_I64(p[MW_PSI_psi_some_avg60], 50);
	CHECK_EQ_I64(p[MW_PSI_psi_some_avg300], 10000);
	CHECK_EQ_I64(p[MW_PSI_psi_some_total], 123456);
	CHECK_EQ_I64(p[MW_PSI_psi_full_avg10], 1);
	CHECK_EQ_I64(p[MW_PSI_psi_full_avg60], MW_UNKNOWN);
	CHECK_EQ_I64(p[MW_PSI_psi_full_total], 99);
	/* Kernels before 5.13 print no "full" line for memory... and garbage. */
	mw_psi_parse("some avg10=2.00 avg60=0.00 avg300=0.00 total=5\n", p);
	CHECK_EQ_I64(p[MW_PSI_psi_some_avg10], 200);
	CHECK_EQ_I64(p[MW_PSI_psi_full_avg10], MW_UNKNOWN);
	mw_psi_parse("\n\n  \nsome\nfull avg10=\n", p);
	CHECK_EQ_I64(p[MW_PSI_psi_some_avg10], MW_UNKNOWN);
	CHECK_EQ_I64(p[MW_PSI_psi_full_avg10], MW_UNKNOWN);
}

static void test_missing_root(void)
{
	struct mw_sys_sample s;

	CHECK(mw_sys_sample_read("/nonexistent-memwatch-root", &s) < 0);
}

int main(void)
{
	test_recorded();
	test_live();
	test_meminfo_odd();
	test_vmstat_odd();
	test_psi_odd();
	test_missing_root();
	return check_done();
}
