/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Region classifier against smaps texts recorded from real processes
 * (tests/data/smaps, expected totals worked out by hand from the mapping
 * lists, see the comments), hand-made odd inputs, live reads of this
 * process and of children, the fd-kind reader against a child holding
 * known descriptors, and the store round trip of region/fd samples.
 */
#include "check.h"
#include "memwatch/collect/region.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define KiB 1024ll
#define MiB (1024ll * 1024)

static char *load(const char *name)
{
	char path[4096];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/smaps/%s", SRCDIR, name);
	if (mw_read_file_alloc(path, &text, NULL) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return NULL;
	}
	return text;
}

static void expect(const struct mw_regions *g, enum mw_region_kind k, int64_t size, int64_t rss,
                   int64_t count)
{
	if (g->r[k].size != size || g->r[k].rss != rss || g->r[k].count != count)
		fprintf(stderr, "region %s: got size %lld rss %lld count %lld\n",
		        mw_region_names[k], (long long)g->r[k].size, (long long)g->r[k].rss,
		        (long long)g->r[k].count);
	CHECK_EQ_I64(g->r[k].size, size);
	CHECK_EQ_I64(g->r[k].rss, rss);
	CHECK_EQ_I64(g->r[k].count, count);
}

/* Whatever the rules, every byte of every mapping lands in exactly one region. */
static void expect_totals(const struct mw_regions *g, int64_t size, int64_t rss, int64_t count)
{
	int64_t s = 0, r = 0, c = 0;

	for (int k = 0; k < MW_REG_COUNT; k++) {
		s += g->r[k].size;
		r += g->r[k].rss;
		c += g->r[k].count;
	}
	CHECK_EQ_I64(s, size);
	CHECK_EQ_I64(r, rss);
	CHECK_EQ_I64(c, count);
}

/*
 * thread_leak --rate 4 --malloc 200000 after 2 s: main + 8 threads, each
 * with an 8 MiB stack plus a 4 KiB guard, each with its own glibc arena
 * (64 MiB aligned reservation, 0x21000 of it rw-p), and each 200000-byte
 * malloc above the mmap threshold (8 x 200704 merged into one anon VMA).
 */
static void test_threads_arenas(void)
{
	char *text = load("threads_arenas.smaps");
	struct mw_regions g;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	CHECK_EQ_I64(mw_region_parse_smaps(text, 8 * MiB, &g), 0);
	CHECK(g.readable);
	expect(&g, MW_REG_heap, 0x21000, 8 * KiB, 1);
	expect(&g, MW_REG_stack, 0x21000, 12 * KiB, 1);
	expect(&g, MW_REG_arena, 8 * 64 * MiB, 8 * 4 * KiB, 16);
	expect(&g, MW_REG_thread_stacks, 8 * (8 * MiB + 4 * KiB), 8 * 8 * KiB, 16);
	CHECK_EQ_I64(g.stacks, 8);
	/* 0x188000 of large mallocs, 0x3000 below libc (TLS), 0x2000 between libc and ld.so. */
	expect(&g, MW_REG_anon, 0x188000 + 0x3000 + 0x2000, (1568 + 8 + 4) * KiB, 3);
	/* thread_leak, libc, ld.so r-xp */
	expect(&g, MW_REG_file_exec, 0x1000 + 0x156000 + 0x26000, (4 + 944 + 152) * KiB, 3);
	/* 4 + 4 + 4 file r--p/rw-p mappings, plus libc's bss (0xd000) */
	expect(&g, MW_REG_file_data,
	       4 * 0x1000 + 0x26000 + 0x53000 + 0x4000 + 0x2000 + 0xd000 + 0x1000 + 0xa000 +
	               0x2000 + 0x2000,
	       (16 + 152 + 152 + 16 + 8 + 20 + 4 + 40 + 8 + 8) * KiB, 13);
	/* [vvar] [vvar_vclock] [vdso] [vsyscall] */
	expect(&g, MW_REG_special, 0x4000 + 0x2000 + 0x2000 + 0x1000, 4 * KiB, 4);
	expect(&g, MW_REG_shm_sysv, 0, 0, 0);
	expect(&g, MW_REG_shm_posix, 0, 0, 0);
	expect(&g, MW_REG_memfd, 0, 0, 0);
	CHECK_EQ_I64(g.files, 3);
	CHECK_EQ_I64(g.so_files, 2);
	/* Sums over every mapping header / Rss line of the file (computed separately). */
	expect_totals(&g, 608157696, 3224 * KiB, 57);

	/* Told a different stack size, the same stacks are plain anon memory. */
	CHECK_EQ_I64(mw_region_parse_smaps(text, 2 * MiB, &g), 0);
	expect(&g, MW_REG_thread_stacks, 0, 0, 0);
	CHECK_EQ_I64(g.r[MW_REG_anon].size, 0x188000 + 0x3000 + 0x2000 + 8 * (8 * MiB + 4 * KiB));
	free(text);
}

/* shm_mix: a 2 MiB SysV segment, a 3 MiB /dev/shm object, a 1 MiB memfd, each half touched. */
static void test_shm_mix(void)
{
	char *text = load("shm_mix.smaps");
	struct mw_regions g;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	CHECK_EQ_I64(mw_region_parse_smaps(text, 0, &g), 0);
	expect(&g, MW_REG_shm_sysv, 2 * MiB, 1 * MiB, 1);
	expect(&g, MW_REG_shm_posix, 3 * MiB, 1536 * KiB, 1);
	expect(&g, MW_REG_memfd, 1 * MiB, 512 * KiB, 1);
	expect(&g, MW_REG_heap, 0x21000, 8 * KiB, 1);
	expect(&g, MW_REG_stack, 0x21000, 16 * KiB, 1);
	expect(&g, MW_REG_anon, 0x3000 + 0x2000, 12 * KiB, 2);
	expect(&g, MW_REG_thread_stacks, 0, 0, 0);
	expect(&g, MW_REG_arena, 0, 0, 0);
	CHECK_EQ_I64(g.stacks, 0);
	/* shm and memfd are not "files" for the distinct-file count. */
	CHECK_EQ_I64(g.files, 3);
	CHECK_EQ_I64(g.so_files, 2);
	expect_totals(&g, 8830976, 4636 * KiB, 27);
	free(text);
}

/* dash: its bss (0x2000 after its rw-p) and libc's bss (0xd000) count as file data. */
static void test_shell(void)
{
	char *text = load("sh.smaps");
	struct mw_regions g, t;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	CHECK_EQ_I64(mw_region_parse_smaps(text, 0, &g), 0);
	expect(&g, MW_REG_heap, 0x21000, 4 * KiB, 1);
	expect(&g, MW_REG_stack, 0x21000, 12 * KiB, 1);
	expect(&g, MW_REG_anon, 0x3000 + 0x2000, 12 * KiB, 2);
	expect(&g, MW_REG_file_exec, 0x13000 + 0x156000 + 0x26000, (76 + 984 + 152) * KiB, 3);
	expect(&g, MW_REG_file_data,
	       0x4000 + 0x6000 + 0x2000 + 0x1000 + 0x2000 + 0x26000 + 0x53000 + 0x4000 + 0x2000 +
	               0xd000 + 0x1000 + 0xa000 + 0x2000 + 0x2000,
	       (52 + 4 + 304 + 20 + 60) * KiB, 14);
	expect(&g, MW_REG_special, 0x9000, 4 * KiB, 4);
	CHECK_EQ_I64(g.files, 3);
	CHECK_EQ_I64(g.so_files, 2);
	expect_totals(&g, 2658304, 1684 * KiB, 25);
	/* The same .so set, the same hash: the text parsed twice agrees. */
	CHECK_EQ_I64(mw_region_parse_smaps(text, 0, &t), 0);
	CHECK(mw_regions_equal(&g, &t));
	free(text);
}

static const char odd_text[] =
        /* a path with spaces, deleted, a versioned .so */
        "7f0000000000-7f0000002000 r-xp 00000000 08:01 1234       /tmp/my lib.so.1 (deleted)\n"
        "Size:                  8 kB\n"
        "Rss:                   8 kB\n"
        "Swap:                  0 kB\n"
        /* no fields at all */
        "7f0000002000-7f0000003000 r--p 00002000 08:01 1234       /tmp/my lib.so.1 (deleted)\n"
        /* not shared objects */
        "7f0000010000-7f0000011000 r--p 00000000 08:01 99 /data/so.txt\n"
        "Rss: 4 kB\n"
        "7f0000011000-7f0000012000 r--p 00000000 08:01 98 /data/x.sox\n"
        /* prctl-named anon memory, uprobes */
        "7f0000020000-7f0000030000 rw-p 00000000 00:00 0 [anon:jit cache]\n"
        "Rss: 64 kB\n"
        "Swap: 12 kB\n"
        "VmFlags: rd wr mr mw me ac\n"
        "7f0000030000-7f0000031000 r-xp 00000000 00:00 0 [uprobes]\n"
        /* an untouched 64 MiB-aligned arena reservation, all PROT_NONE */
        "7f0004000000-7f0008000000 ---p 00000000 00:00 0\n"
        /* a 1 MiB thread stack (pthread_attr_setstacksize) with a 64 KiB guard */
        "7f0010000000-7f0010010000 ---p 00000000 00:00 0\n"
        "7f0010010000-7f0010110000 rw-p 00000000 00:00 0\n"
        "Rss: 16 kB\n"
        /* garbage lines and an address too long to be one */
        "this is not smaps\n"
        "12345678901234567-12345678901234568 rw-p 00000000 00:00 0\n"
        "\n"
        /* truncated in the middle of the last mapping's fields */
        "7f0020000000-7f0020100000 rw-p 00000000 00:00 0 \n"
        "Size:               1024 kB\n"
        "Rss:                  12";

static void test_odd(void)
{
	struct mw_regions g;

	CHECK_EQ_I64(mw_region_parse_smaps(odd_text, 1 * MiB, &g), 0);
	CHECK(g.readable);
	expect(&g, MW_REG_file_exec, 0x2000, 8 * KiB, 1);
	expect(&g, MW_REG_file_data, 0x3000, 4 * KiB, 3);
	CHECK_EQ_I64(g.files, 3);
	CHECK_EQ_I64(g.so_files, 1);
	expect(&g, MW_REG_special, 0x1000, 0, 1);
	expect(&g, MW_REG_arena, 64 * MiB, 0, 1);
	expect(&g, MW_REG_thread_stacks, 0x10000 + 0x100000, 16 * KiB, 2);
	CHECK_EQ_I64(g.stacks, 1);
	/* [anon:jit cache] and the truncated last mapping, whose Rss still counts */
	expect(&g, MW_REG_anon, 0x10000 + 0x100000, (64 + 12) * KiB, 2);
	CHECK_EQ_I64(g.r[MW_REG_anon].swap, 12 * KiB);

	/* Nothing at all is a process without mappings, not an error of the parser. */
	CHECK_EQ_I64(mw_region_parse_smaps("", 0, &g), 0);
	CHECK(g.readable);
	CHECK_EQ_I64(g.r[MW_REG_anon].count, 0);
	/* Text that is not smaps is refused rather than read as "no memory". */
	CHECK_EQ_I64(mw_region_parse_smaps("hello\nworld\n", 0, &g), -EINVAL);
	CHECK(!g.readable);
	CHECK_EQ_I64(mw_region_parse_smaps(NULL, 0, &g), -EINVAL);
}

/* /proc/PID/task/TID/syscall and stat, as the kernel prints them (fs/proc/base.c, array.c). */
static void test_task_sp(void)
{
	uint64_t sp;

	CHECK_EQ_I64(
	        mw_region_parse_task_sp("202 0x7f3c5e9ff910 0x80 0x0 0x0 0x0 0x0 0x7f3c5e9ffa58 "
	                                "0x7f3c5f091f16\n",
	                                &sp),
	        0);
	CHECK(sp == 0x7f3c5e9ffa58ull);
	/* Blocked outside a system call (a page fault, a signal stop): "-1 sp pc". */
	CHECK_EQ_I64(mw_region_parse_task_sp("-1 0x7ffc1a2b3c40 0x401136\n", &sp), 0);
	CHECK(sp == 0x7ffc1a2b3c40ull);
	CHECK_EQ_I64(mw_region_parse_task_sp("running\n", &sp), -EAGAIN);
	CHECK(sp == 0);
	CHECK_EQ_I64(mw_region_parse_task_sp("0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x401136\n", &sp),
	             -ENODATA);
	static const char *const bad[] = {
	        "",
	        "\n",
	        "runningx\n",
	        "202 0x1 0x2\n",                             /* nr >= 0 needs 9 fields */
	        "-1 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n",      /* nr < 0 has 3 */
	        "202 0x1 0x2 0x3 0x4 0x5 0x6 0x7\n",         /* one short */
	        "202 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9\n", /* one too many */
	        "x 0x7ffc1a2b3c40 0x401136\n",               /* nr not a number */
	        "-1 7ffc1a2b3c40 0x401136\n",                /* no 0x */
	        "-1 0x 0x401136\n",                          /* no digits */
	        "-1 0x7ffcg 0x401136\n",                     /* not hex */
	        "-1 0x11112222333344445 0x401136\n",         /* 17 digits */
	        "99999999999999999999 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n", /* nr overflows */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = mw_region_parse_task_sp(bad[i], &sp);
		if (r != -EINVAL)
			fprintf(stderr, "syscall text %zu %s: got %d\n", i, bad[i], r);
		CHECK_EQ_I64(r, -EINVAL);
	}
	CHECK_EQ_I64(mw_region_parse_task_sp(NULL, &sp), -EINVAL);

	/* A comm with spaces and parentheses: fields count from the last ')'. */
	static const char stat_fmt[] =
	        "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 3 0 12345 "
	        "10485760 300 18446744073709551615 1 1 0 %s 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	char stat[512];
	snprintf(stat, sizeof(stat), stat_fmt, "140737488346112");
	CHECK_EQ_I64(mw_region_parse_task_stat_sp(stat, &sp), 0);
	CHECK(sp == 140737488346112ull);
	snprintf(stat, sizeof(stat), stat_fmt, "0");
	CHECK_EQ_I64(mw_region_parse_task_stat_sp(stat, &sp), -ENODATA);
	CHECK_EQ_I64(mw_region_parse_task_stat_sp("4242 (a) S 1 4242 4242 0 -1 4194560\n", &sp),
	             -EINVAL);
	snprintf(stat, sizeof(stat), stat_fmt, "-5");
	CHECK_EQ_I64(mw_region_parse_task_stat_sp(stat, &sp), -EINVAL);
	snprintf(stat, sizeof(stat), stat_fmt, "12abc");
	CHECK_EQ_I64(mw_region_parse_task_stat_sp(stat, &sp), -EINVAL);
	CHECK_EQ_I64(mw_region_parse_task_stat_sp("no comm here", &sp), -EINVAL);
	CHECK_EQ_I64(mw_region_parse_task_stat_sp(NULL, &sp), -EINVAL);
}

/* Stacks a runtime sizes itself, found by the stack pointers of its threads. */
static const char sp_text[] =
        /* a binary's data and its bss */
        "00400000-00401000 rw-p 00000000 08:01 77 /usr/bin/prog\n"
        "00401000-00402000 rw-p 00000000 00:00 0\n"
        /* pthread_attr_setstacksize(256 KiB): a 4 KiB guard and the stack */
        "7f0000000000-7f0000001000 ---p 00000000 00:00 0\n"
        "7f0000001000-7f0000041000 rw-p 00000000 00:00 0\n"
        "Rss: 8 kB\n"
        /* a JVM thread: glibc's guard merged with the JVM's guard zones, 1 MiB in all */
        "7f0000100000-7f0000115000 ---p 00000000 00:00 0\n"
        "7f0000115000-7f0000200000 rw-p 00000000 00:00 0\n"
        "Rss: 12 kB\n"
        /* a stack the program mmapped itself (pthread_attr_setstack), no guard */
        "7f0000300000-7f0000400000 rw-p 00000000 00:00 0\n"
        "Rss: 4 kB\n"
        /* Go's heap arena, holding several threads' (goroutine, g0) stacks */
        "7f0001000000-7f0001400000 rw-p 00000000 00:00 0\n"
        "Rss: 400 kB\n"
        /* a glibc-default 8 MiB stack whose thread's SP is unknown (running, or cached) */
        "7f0002000000-7f0002001000 ---p 00000000 00:00 0\n"
        "7f0002001000-7f0002801000 rw-p 00000000 00:00 0\n"
        "Rss: 8 kB\n"
        /* an anonymous mmap without any SP in it */
        "7f0003000000-7f0003100000 rw-p 00000000 00:00 0\n"
        "Rss: 1024 kB\n"
        /* a guard with nothing above it: anon */
        "7f0004000000-7f0004001000 ---p 00000000 00:00 0\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n"
        "Rss: 16 kB\n";

static void test_sp_classify(void)
{
	const uint64_t sp[] = {
	        0x401800ull,       /* a stack in a bss: stays file_data */
	        0x7f0000040a00ull, /* the 256 KiB stack */
	        0x7f00001ffe00ull, /* the JVM stack */
	        0x7f00003ff000ull, /* the self-mmapped stack */
	        0x7f0001000100ull, 0x7f0001200000ull, 0x7f0001300000ull, /* three in Go's heap */
	        0x7ffd00020000ull, /* the main thread, in [stack] */
	};
	const size_t nsp = sizeof(sp) / sizeof(sp[0]);
	struct mw_regions g, h;

	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, sp, nsp, &g), 0);
	CHECK(g.readable);
	CHECK_EQ_I64(g.sp_threads, (int64_t)nsp);
	/* 256 KiB + guard, the JVM's 1 MiB with its guard, 1 MiB, and the 8 MiB one by size. */
	expect(&g, MW_REG_thread_stacks, (256 + 4) * KiB + MiB + MiB + 8 * MiB + 4 * KiB,
	       (8 + 12 + 4 + 8) * KiB, 7);
	CHECK_EQ_I64(g.stacks, 4);
	/* Go's heap, the plain mmap, the lone guard. */
	expect(&g, MW_REG_anon, 4 * MiB + MiB + 4 * KiB, (400 + 1024) * KiB, 3);
	expect(&g, MW_REG_file_data, 8 * KiB, 0, 2);
	expect(&g, MW_REG_stack, 0x21000, 16 * KiB, 1);
	expect_totals(&g,
	              8 * KiB + (260 * KiB) + MiB + MiB + 4 * MiB + 8 * MiB + 4 * KiB + MiB +
	                      4 * KiB + 0x21000,
	              (8 + 12 + 4 + 400 + 8 + 1024 + 16) * KiB, 13);

	/* No SP known: only the size rule finds a stack, the rest is anon memory. */
	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, NULL, 0, &h), 0);
	expect(&h, MW_REG_thread_stacks, 8 * MiB + 4 * KiB, 8 * KiB, 2);
	CHECK_EQ_I64(h.stacks, 1);
	CHECK_EQ_I64(h.sp_threads, 0);
	expect(&h, MW_REG_anon, (260 * KiB) + MiB + MiB + 4 * MiB + MiB + 4 * KiB,
	       (8 + 12 + 4 + 400 + 1024) * KiB, 8);
	CHECK(!mw_regions_equal(&g, &h));
	CHECK_EQ_I64(mw_region_parse_smaps(sp_text, 8 * MiB, &g), 0);
	CHECK(mw_regions_equal(&g, &h));

	/* One SP of Go's heap missing: the mapping holding one SP is taken for a stack. */
	const uint64_t two[] = {0x7f0001000100ull, 0x7f0001200000ull};
	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, two, 2, &g), 0);
	CHECK_EQ_I64(g.stacks, 1);
	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, two + 1, 1, &g), 0);
	CHECK_EQ_I64(g.stacks, 2);
	expect(&g, MW_REG_thread_stacks, 4 * MiB + 8 * MiB + 4 * KiB, (400 + 8) * KiB, 3);

	/* SPs must come sorted; a NULL array needs nsp 0. */
	const uint64_t unsorted[] = {0x7f0000300100ull, 0x7f0000040a00ull};
	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, unsorted, 2, &g), -EINVAL);
	CHECK(!g.readable);
	CHECK_EQ_I64(mw_region_parse_smaps_sp(sp_text, 8 * MiB, NULL, 1, &g), -EINVAL);
}

/*
 * Every truncation of a real smaps text parses without error (a cut
 * header is dropped, a cut field reads as what is there), and the total
 * size only grows with the prefix, never past the whole text's.
 */
static void test_truncations(void)
{
	char *text = load("threads_arenas.smaps");
	size_t len;
	int64_t prev = 0, whole = 0, bad = 0, shrank = 0;
	struct mw_regions g;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	len = strlen(text);
	CHECK_EQ_I64(mw_region_parse_smaps(text, 0, &g), 0);
	for (int k = 0; k < MW_REG_COUNT; k++)
		whole += g.r[k].size;
	/* Start past the first line: a prefix like "556f4f1b6000-55" is no smaps at all. */
	for (size_t cut = (size_t)(strchr(text, '\n') - text); cut <= len; cut += 3) {
		char *prefix = strndup(text, cut);
		int64_t total = 0;
		if (!prefix)
			break;
		if (mw_region_parse_smaps(prefix, 0, &g) != 0)
			bad++;
		for (int k = 0; k < MW_REG_COUNT; k++)
			total += g.r[k].size;
		if (total < prev || total > whole)
			shrank++;
		prev = total;
		free(prefix);
	}
	CHECK_EQ_I64(bad, 0);
	CHECK_EQ_I64(shrank, 0);
	CHECK_EQ_I64(prev, whole);
	free(text);
}

/* The .so set hash ignores order and changes when a library appears. */
static void test_so_hash(void)
{
	const char a[] = "7f0000000000-7f0000001000 r-xp 0 08:01 1 /lib/liba.so\n"
	                 "7f0000001000-7f0000002000 r-xp 0 08:01 2 /lib/libb.so.2\n";
	const char b[] = "7f0000000000-7f0000001000 r-xp 0 08:01 2 /lib/libb.so.2\n"
	                 "7f0000001000-7f0000002000 r--p 0 08:01 1 /lib/liba.so\n"
	                 "7f0000002000-7f0000003000 r-xp 0 08:01 1 /lib/liba.so\n";
	const char c[] = "7f0000000000-7f0000001000 r-xp 0 08:01 1 /lib/liba.so\n"
	                 "7f0000001000-7f0000002000 r-xp 0 08:01 2 /lib/libb.so.2\n"
	                 "7f0000002000-7f0000003000 r-xp 0 08:01 3 /tmp/payload-7.so\n";
	struct mw_regions ga, gb, gc;

	CHECK_EQ_I64(mw_region_parse_smaps(a, 0, &ga), 0);
	CHECK_EQ_I64(mw_region_parse_smaps(b, 0, &gb), 0);
	CHECK_EQ_I64(mw_region_parse_smaps(c, 0, &gc), 0);
	CHECK_EQ_I64(ga.so_files, 2);
	CHECK_EQ_I64(gb.so_files, 2);
	CHECK_EQ_I64(gc.so_files, 3);
	CHECK(ga.so_hash == gb.so_hash);
	CHECK(ga.so_hash != gc.so_hash);
	CHECK(ga.so_hash != 0);
}

static void *blocker(void *arg)
{
	int fd = *(int *)arg;
	char c;

	/* Returns when the test closes the write end. */
	while (read(fd, &c, 1) > 0)
		;
	return NULL;
}

static int64_t vm_size(void)
{
	char *status = NULL;
	int64_t v = -1;

	if (mw_read_file_alloc("/proc/self/status", &status, NULL) == 0)
		v = mw_status_field_kb(status, "VmSize");
	free(status);
	return v;
}

/* This process, live: threads created here show up as stacks; the totals match /proc's own. */
static void test_live_self(void)
{
	struct mw_regions g;
	pthread_t t[3];
	int p[2], before;

	CHECK_EQ_I64(pipe(p), 0);
	CHECK_EQ_I64(mw_region_read("", getpid(), &g), 0);
	before = (int)g.stacks;
	for (int i = 0; i < 3; i++)
		CHECK_EQ_I64(pthread_create(&t[i], NULL, blocker, &p[0]), 0);
	CHECK_EQ_I64(mw_region_read("", getpid(), &g), 0);
	CHECK(g.readable);
	CHECK_EQ_I64(g.stacks, before + 3);
	CHECK(g.r[MW_REG_file_exec].count > 0);
	CHECK(g.r[MW_REG_stack].size > 0);
	CHECK(g.r[MW_REG_special].count > 0);
	CHECK(g.so_files >= 1);
	/*
	 * VmSize is every mapping but [vsyscall] (outside the mm). Reading
	 * allocates (and a sanitizer's allocator maps), so compare only when
	 * VmSize did not move across the read.
	 */
	bool compared = false;
	for (int attempt = 0; attempt < 5 && !compared; attempt++) {
		int64_t vsz0 = vm_size(), vsz1, sum = 0;
		CHECK_EQ_I64(mw_region_read("", getpid(), &g), 0);
		vsz1 = vm_size();
		if (vsz0 != vsz1 || vsz0 < 0)
			continue;
		for (int k = 0; k < MW_REG_COUNT; k++)
			sum += g.r[k].size;
		if (sum - vsz0 != 0 && sum - vsz0 != 4096)
			fprintf(stderr, "sum %lld vsz %lld\n", (long long)sum, (long long)vsz0);
		CHECK(sum - vsz0 == 0 || sum - vsz0 == 4096);
		compared = true;
	}
	CHECK(compared);
	close(p[1]);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	close(p[0]);
	CHECK_EQ_I64(mw_region_stack_limit("", getpid()) % 4096, 0);
}

/*
 * Shared anonymous memory, as PostgreSQL 15 maps its shared_buffers
 * (lines recorded from a postmaster here): MAP_SHARED|MAP_ANONYMOUS is
 * "/dev/zero (deleted)" with the s flag, a MAP_HUGETLB one is
 * "/anon_hugepage (deleted)", a prctl-named one [anon_shmem:NAME]; the
 * same names on private mappings are plain anon memory, and none of them
 * is a file.
 */
static const char shared_anon_text[] =
        "7f3ab990f000-7f3ac27a7000 rw-s 00000000 00:01 37323"
        "                      /dev/zero (deleted)\n"
        "Size:             146016 kB\n"
        "Rss:               10796 kB\n"
        "Swap:                  8 kB\n"
        "7f3ac4c20000-7f3ac4c27000 rw-s 00000000 00:1b 5540 /dev/shm/PostgreSQL.2890236654\n"
        "Rss:                  28 kB\n"
        "7f3ac5e88000-7f3ac5e89000 rw-s 00000000 00:01 2064388 /SYSV00a8a296 (deleted)\n"
        "Rss:                   4 kB\n"
        "7f3ac6000000-7f3ac6400000 rw-s 00000000 00:0f 1001 /anon_hugepage (deleted)\n"
        "Rss:                2048 kB\n"
        "7f3ac7000000-7f3ac7100000 rw-s 00000000 00:01 1002 [anon_shmem:pool]\n"
        "Rss:                 256 kB\n"
        /* private: anon memory, whatever the name */
        "7f3ac8000000-7f3ac8200000 rw-p 00000000 00:05 4 /dev/zero\n"
        "Rss:                 512 kB\n"
        "7f3ac9000000-7f3ac9400000 rw-p 00000000 00:0f 1003 /anon_hugepage (deleted)\n"
        "Rss:                   0 kB\n"
        /* a shared mapping of a real file stays a file, as does a look-alike name */
        "7f3aca000000-7f3aca001000 rw-s 00000000 08:01 77 /var/lib/db/dev/zero (deleted)\n"
        "Rss:                   4 kB\n"
        "7f3acb000000-7f3acb001000 rw-s 00000000 08:01 78 /dev/zero2\n";

/*
 * This process, live, with stacks the size rule cannot find: 256 KiB ones
 * (pthread_attr_setstacksize) and 1 MiB ones mmapped here (with a guard
 * page below, as a runtime would) given by pthread_attr_setstack.
 */
static void test_live_sp(void)
{
	enum { N = 3 };
	const size_t own = (size_t)MiB, page = 4096;
	struct mw_regions g0, g;
	pthread_t t[2 * N];
	void *map[N];
	uint64_t sp[64];
	size_t nsp = 0;
	int p[2], started = 0;

	CHECK_EQ_I64(pipe(p), 0);
	CHECK_EQ_I64(mw_region_read("", getpid(), &g0), 0);
	for (int i = 0; i < N; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 256 * KiB);
		started += pthread_create(&t[started], &a, blocker, &p[0]) == 0;
		map[i] = mmap(NULL, own + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		              -1, 0);
		CHECK(map[i] != MAP_FAILED);
		if (map[i] != MAP_FAILED && mprotect(map[i], page, PROT_NONE) == 0 &&
		    pthread_attr_setstack(&a, (char *)map[i] + page, own) == 0)
			started += pthread_create(&t[started], &a, blocker, &p[0]) == 0;
		pthread_attr_destroy(&a);
	}
	CHECK_EQ_I64(started, 2 * N);
	/* Until every thread is blocked in read, some may still say "running". */
	for (int tries = 0; tries < 100; tries++) {
		CHECK_EQ_I64(mw_region_read("", getpid(), &g), 0);
		if (g.stacks - g0.stacks >= 2 * N)
			break;
		usleep(10000);
	}
	if (g.stacks - g0.stacks != 2 * N)
		fprintf(stderr, "stacks %lld -> %lld, %lld SPs\n", (long long)g0.stacks,
		        (long long)g.stacks, (long long)g.sp_threads);
	CHECK_EQ_I64(g.stacks - g0.stacks, 2 * N);
	CHECK_EQ_I64(g.r[MW_REG_thread_stacks].size - g0.r[MW_REG_thread_stacks].size,
	             N * ((256 * KiB + (int64_t)page) + (int64_t)(own + page)));
	CHECK(g.sp_threads >= 2 * N);
	CHECK_EQ_I64(mw_region_task_sps("", getpid(), sp, 64, &nsp), 0);
	CHECK(nsp >= 2 * N && nsp <= 64);
	for (size_t i = 1; i < nsp; i++)
		CHECK(sp[i - 1] <= sp[i]);
	/* The cap holds. */
	CHECK_EQ_I64(mw_region_task_sps("", getpid(), sp, 2, &nsp), 0);
	CHECK_EQ_I64(nsp, 2);
	CHECK_EQ_I64(mw_region_task_sps("", 0x3fffffff, sp, 64, &nsp), -ESRCH);
	CHECK_EQ_I64(nsp, 0);
	close(p[1]);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++)
		if (map[i] != MAP_FAILED)
			munmap(map[i], own + page);
	close(p[0]);
}

static void test_shared_anon(void)
{
	struct mw_regions g;

	CHECK_EQ_I64(mw_region_parse_smaps(shared_anon_text, 0, &g), 0);
	expect(&g, MW_REG_shm_anon, 0x7f3ac27a7000 - 0x7f3ab990f000 + 4 * MiB + 1 * MiB,
	       (10796 + 2048 + 256) * KiB, 3);
	CHECK_EQ_I64(g.r[MW_REG_shm_anon].swap, 8 * KiB);
	expect(&g, MW_REG_shm_posix, 0x7000, 28 * KiB, 1);
	expect(&g, MW_REG_shm_sysv, 0x1000, 4 * KiB, 1);
	expect(&g, MW_REG_anon, 2 * MiB + 4 * MiB, 512 * KiB, 2);
	expect(&g, MW_REG_file_data, 0x2000, 4 * KiB, 2);
	CHECK_EQ_I64(g.files, 2);
}

/* The same live: this process's own shared and private anonymous mappings, read from /proc. */
static void test_shared_anon_live(void)
{
	struct mw_regions g0, g1;
	size_t len = 4 * MiB;
	char *shared, *priv;
	int zero = open("/dev/zero", O_RDWR | O_CLOEXEC);

	CHECK(zero >= 0);
	CHECK_EQ_I64(mw_region_read("", getpid(), &g0), 0);
	shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
	CHECK(shared != MAP_FAILED && priv != MAP_FAILED);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		goto out;
	memset(shared, 1, len / 4);
	memset(priv, 1, len / 4);
	CHECK_EQ_I64(mw_region_read("", getpid(), &g1), 0);
	CHECK_EQ_I64(g1.r[MW_REG_shm_anon].size - g0.r[MW_REG_shm_anon].size, (int64_t)len);
	CHECK_EQ_I64(g1.r[MW_REG_shm_anon].count - g0.r[MW_REG_shm_anon].count, 1);
	CHECK(g1.r[MW_REG_shm_anon].rss - g0.r[MW_REG_shm_anon].rss >= (int64_t)len / 4);
	CHECK_EQ_I64(g1.files, g0.files);
	/* The private /dev/zero mapping is anon memory (it may merge with a neighbour). */
	CHECK(g1.r[MW_REG_anon].size - g0.r[MW_REG_anon].size >= (int64_t)len);
	/* Named with prctl (6.x kernels): [anon_shmem:NAME], still shared anonymous memory. */
	if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)shared, len,
	          (unsigned long)"mwpool") == 0) {
		CHECK_EQ_I64(mw_region_read("", getpid(), &g1), 0);
		CHECK_EQ_I64(g1.r[MW_REG_shm_anon].size - g0.r[MW_REG_shm_anon].size, (int64_t)len);
	} else {
		fprintf(stderr, "note: PR_SET_VMA_ANON_NAME on shmem: %s (named case not run)\n",
		        strerror(errno));
	}
out:
	if (shared != MAP_FAILED)
		munmap(shared, len);
	if (priv != MAP_FAILED)
		munmap(priv, len);
	if (zero >= 0)
		close(zero);
}

/* A vanished process and a zombie are "gone", not "zero"; another user's process is EACCES. */
static void test_unreadable(void)
{
	struct mw_regions g;
	struct mw_fd_kinds f;
	pid_t child = fork();
	int status;

	if (child == 0)
		_exit(0);
	/* A zombie until reaped: its smaps is empty. */
	usleep(100000);
	CHECK_EQ_I64(mw_region_read("", child, &g), -ESRCH);
	CHECK(!g.readable);
	CHECK_EQ_I64(g.err, -ESRCH);
	waitpid(child, &status, 0);
	CHECK_EQ_I64(mw_region_read("", child, &g), -ESRCH);
	CHECK_EQ_I64(g.err, -ESRCH);
	CHECK_EQ_I64(mw_fd_kinds_read("", child, &f), -ESRCH);
	CHECK(!f.readable);
	CHECK_EQ_I64(f.err, -ESRCH);

	if (geteuid() != 0)
		return;
	/* As nobody, our (root's) smaps and fds are off limits. */
	child = fork();
	if (child == 0) {
		int code = 0;
		pid_t parent = getppid();
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		code |= mw_region_read("", parent, &g) == -EACCES && !g.readable && g.err == -EACCES
		                ? 0
		                : 1;
		code |= mw_fd_kinds_read("", parent, &f) == -EACCES && !f.readable ? 0 : 2;
		_exit(code);
	}
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status));
	CHECK_EQ_I64(WEXITSTATUS(status), 0);
}

static void test_fd_kind_of(void)
{
	CHECK_EQ_I64(mw_fd_kind_of("socket:[12345]"), MW_FD_socket);
	CHECK_EQ_I64(mw_fd_kind_of("pipe:[7]"), MW_FD_pipe);
	CHECK_EQ_I64(mw_fd_kind_of("anon_inode:[eventfd]"), MW_FD_eventfd);
	CHECK_EQ_I64(mw_fd_kind_of("anon_inode:[eventpoll]"), MW_FD_anon_other);
	CHECK_EQ_I64(mw_fd_kind_of("anon_inode:bpf-map"), MW_FD_anon_other);
	CHECK_EQ_I64(mw_fd_kind_of("/dev/null"), MW_FD_file);
	CHECK_EQ_I64(mw_fd_kind_of("/tmp/x (deleted)"), MW_FD_file);
	CHECK_EQ_I64(mw_fd_kind_of("net:[4026531840]"), MW_FD_other);
	CHECK_EQ_I64(mw_fd_kind_of(""), MW_FD_other);
}

/*
 * A child with exactly: 0-2 and one more on /dev/null (4 files), 2
 * sockets, 1 pipe (2 ends), 1 eventfd, 1 epoll (other anon inode).
 */
static void test_fd_child(void)
{
	int sync[2], sv[2], pp[2];
	struct mw_fd_kinds f;
	char c;
	pid_t child;

	CHECK_EQ_I64(pipe(sync), 0);
	child = fork();
	if (child == 0) {
		int keep = fcntl(sync[1], F_DUPFD, 100);
		if (keep < 0 || close_range(0, 99, 0) < 0 || close_range(101, ~0u, 0) < 0)
			_exit(1);
		for (int i = 0; i < 4; i++)
			if (open("/dev/null", O_RDONLY) < 0)
				_exit(1);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(pp) < 0 ||
		    eventfd(0, 0) < 0 || epoll_create1(0) < 0)
			_exit(1);
		/* EOF on the parent's side says "ready". */
		close(keep);
		pause();
		_exit(0);
	}
	close(sync[1]);
	while (read(sync[0], &c, 1) > 0)
		;
	close(sync[0]);
	CHECK_EQ_I64(mw_fd_kinds_read("", child, &f), 0);
	CHECK(f.readable);
	CHECK_EQ_I64(f.n[MW_FD_file], 4);
	CHECK_EQ_I64(f.n[MW_FD_socket], 2);
	CHECK_EQ_I64(f.n[MW_FD_pipe], 2);
	CHECK_EQ_I64(f.n[MW_FD_eventfd], 1);
	CHECK_EQ_I64(f.n[MW_FD_anon_other], 1);
	CHECK_EQ_I64(f.n[MW_FD_other], 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* ---- store round trip ---- */

static int write_tick(struct mw_store *st, struct mw_proc_set *set, uint64_t t, int64_t *tick)
{
	struct mw_tick tk = {.t_ns = t, .procs = set};
	int r = mw_store_tick_begin(st, &tk, tick);

	if (r == 0)
		r = mw_store_tick_write_procs(st, *tick, &tk);
	return r;
}

static void expect_pss(const int64_t *v, int64_t pss, int64_t anon, int64_t file, int64_t shmem,
                       int64_t uss, int64_t swap, int64_t swap_pss)
{
	CHECK_EQ_I64(v[MW_PSS_pss], pss);
	CHECK_EQ_I64(v[MW_PSS_pss_anon], anon);
	CHECK_EQ_I64(v[MW_PSS_pss_file], file);
	CHECK_EQ_I64(v[MW_PSS_pss_shmem], shmem);
	CHECK_EQ_I64(v[MW_PSS_uss], uss);
	CHECK_EQ_I64(v[MW_PSS_swap], swap);
	CHECK_EQ_I64(v[MW_PSS_swap_pss], swap_pss);
}

/*
 * smaps_rollup of a python3 process on 6.18 (tests/data/smaps), as the
 * kernel wrote it; an older kernel's (before 5.7: no Pss_Anon/File/Shmem);
 * and texts that are not a rollup.
 */
static void test_pss_rollup(void)
{
	_cleanup_free_ char *text = load("python3.smaps_rollup");
	int64_t v[MW_PSS_COUNT];

	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ_I64(mw_pss_parse_rollup(text, v), 0);
	/* USS = Private_Clean 8 + Private_Dirty 6860 kB. */
	expect_pss(v, 9432 * KiB, 6860 * KiB, 2572 * KiB, 0, 6868 * KiB, 0, 0);
	CHECK_EQ_I64(mw_pss_parse_rollup("00400000-7fff0000 ---p 00000000 00:00 0 [rollup]\n"
	                                 "Rss:  5000 kB\nPss:  3000 kB\nShared_Clean: 1000 kB\n"
	                                 "Private_Clean:  500 kB\nPrivate_Dirty: 1500 kB\n"
	                                 "Swap:  64 kB\nSwapPss:  32 kB\nLocked: 0 kB\n",
	                                 v),
	             0);
	expect_pss(v, 3000 * KiB, MW_UNKNOWN, MW_UNKNOWN, MW_UNKNOWN, 2000 * KiB, 64 * KiB,
	           32 * KiB);
	/* Pss_Dirty is not Pss; nothing else is either. */
	CHECK_EQ_I64(mw_pss_parse_rollup("Pss_Dirty: 12 kB\nRss: 40 kB\n", v), -EINVAL);
	CHECK_EQ_I64(v[MW_PSS_pss], MW_UNKNOWN);
	CHECK_EQ_I64(mw_pss_parse_rollup("", v), -EINVAL);
	CHECK_EQ_I64(mw_pss_parse_rollup(NULL, v), -EINVAL);
}

/*
 * The same figures summed from full smaps (what the slow tier reads);
 * expected values summed from the recorded texts' Pss, Anonymous and
 * Private_* lines (a mapping's anon share is min(Anonymous, Pss)).
 */
static void test_pss_smaps(void)
{
	static const struct {
		const char *file;
		int64_t pss, anon, file_, shmem, uss;
	} cases[] = {
	        {"sh.smaps", 351, 104, 247, 0, 220},
	        {"shm_mix.smaps", 3317, 104, 141, 3072, 3188},
	        {"threads_arenas.smaps", 1904, 1764, 140, 0, 1776},
	};
	struct mw_regions g;

	for (size_t i = 0; i < MW_ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *text = load(cases[i].file);
		CHECK(text != NULL);
		if (!text)
			continue;
		CHECK_EQ_I64(mw_region_parse_smaps(text, 0, &g), 0);
		expect_pss(g.pss, cases[i].pss * KiB, cases[i].anon * KiB, cases[i].file_ * KiB,
		           cases[i].shmem * KiB, cases[i].uss * KiB, 0, 0);
	}
	/* A text without Pss lines (recorded by a tool that dropped them): unknown, not 0. */
	CHECK_EQ_I64(mw_region_parse_smaps("00400000-00401000 r-xp 00000000 08:01 12 /bin/x\n"
	                                   "Rss: 4 kB\n",
	                                   0, &g),
	             0);
	CHECK_EQ_I64(g.pss[MW_PSS_pss], MW_UNKNOWN);
	CHECK_EQ_I64(g.pss[MW_PSS_uss], MW_UNKNOWN);
}

/*
 * A quiet child (sleep, exec'd: nothing shared copy-on-write with us):
 * the sums over its smaps match its smaps_rollup. Each mapping's Pss is
 * rounded down to a kB, so the sum may fall short by up to 1 kB a mapping;
 * private and swap figures are whole pages and match exactly.
 */
static void test_pss_live(void)
{
	struct mw_regions g;
	int64_t v[MW_PSS_COUNT], maps = 0;
	int pfd[2];
	pid_t child;
	char c;

	CHECK_EQ_I64(pipe(pfd), 0);
	child = fork();
	if (child == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		execlp("sh", "sh", "-c", "echo x; exec sleep 30", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], &c, 1) == 1);
	close(pfd[0]);
	usleep(200000); /* the sh has exec'd sleep */
	CHECK_EQ_I64(mw_region_read("", child, &g), 0);
	CHECK_EQ_I64(mw_pss_read("", child, v), 0);
	for (int k = 0; k < MW_REG_COUNT; k++)
		maps += g.r[k].count;
	CHECK(v[MW_PSS_pss] > 0 && v[MW_PSS_pss_anon] > 0 && v[MW_PSS_pss_file] > 0);
	CHECK(g.pss[MW_PSS_pss] <= v[MW_PSS_pss] &&
	      v[MW_PSS_pss] - g.pss[MW_PSS_pss] <= maps * KiB);
	CHECK(g.pss[MW_PSS_pss_anon] <= v[MW_PSS_pss_anon] &&
	      v[MW_PSS_pss_anon] - g.pss[MW_PSS_pss_anon] <= maps * KiB);
	CHECK(g.pss[MW_PSS_pss_file] <= v[MW_PSS_pss_file] + maps * KiB &&
	      v[MW_PSS_pss_file] - g.pss[MW_PSS_pss_file] <= maps * KiB);
	CHECK_EQ_I64(g.pss[MW_PSS_pss_shmem], v[MW_PSS_pss_shmem]);
	CHECK_EQ_I64(g.pss[MW_PSS_uss], v[MW_PSS_uss]);
	CHECK_EQ_I64(g.pss[MW_PSS_swap], v[MW_PSS_swap]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* Gone: ESRCH, and nothing made up. */
	CHECK_EQ_I64(mw_pss_read("", child, v), -ESRCH);
	CHECK_EQ_I64(v[MW_PSS_pss], MW_UNKNOWN);
}

/* PSS moves with other processes' sharing: 1 % (at least 64 KiB) is not a new row. */
static void test_pss_equal(void)
{
	struct mw_regions a = {.readable = true}, b;

	for (int k = 0; k < MW_PSS_COUNT; k++)
		a.pss[k] = 100 * MiB;
	b = a;
	b.pss[MW_PSS_pss] += MiB; /* 1 MiB of 101 MiB */
	CHECK(mw_regions_equal(&a, &b));
	b.pss[MW_PSS_pss] += 32 * KiB; /* 1.03 MiB of 101.03 MiB */
	CHECK(!mw_regions_equal(&a, &b));
	b = a;
	a.pss[MW_PSS_uss] = b.pss[MW_PSS_uss] = 1 * MiB;
	b.pss[MW_PSS_uss] += 64 * KiB;
	CHECK(mw_regions_equal(&a, &b));
	b.pss[MW_PSS_uss] += 4 * KiB;
	CHECK(!mw_regions_equal(&a, &b));
	b = a;
	b.pss[MW_PSS_swap_pss] = MW_UNKNOWN;
	CHECK(!mw_regions_equal(&a, &b));
}

static void test_store(void)
{
	char dir[] = "/tmp/mw-test-region-XXXXXX", path[256];
	struct mw_store *st = NULL, *rd = NULL;
	struct mw_region_writer *w = NULL;
	struct mw_proc_sample p = {.pid = 4242, .start_ticks = 77, .comm = "grower"};
	struct mw_proc_set set = {.v = &p, .n = 1, .cap = 1};
	struct mw_region_series sr = {0};
	struct mw_regions reg = {.readable = true};
	struct mw_fd_kinds fds = {.readable = true};
	const uint64_t sec = 1000000000ull, t0 = 1700000000ull * sec;
	int64_t tick, id;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/mw.db", dir);
	p.cmdline = "grower";
	p.cgroup = "0::/";
	CHECK_EQ_I64(mw_store_open_writer(path, NULL, &st, NULL), 0);
	if (!st)
		return;
	CHECK_EQ_I64(mw_region_writer_new(st, &w), 0);
	/* Ticks 0..5 at 10 s: regions stored at 0 (heap 1 MiB), 2 (2 MiB), 4 (unreadable); fds at 1
	 * and 4. */
	for (int k = 0; k < 6; k++) {
		uint64_t t = t0 + (uint64_t)k * 10 * sec;
		int64_t t_ms = (int64_t)(t / 1000000);
		CHECK_EQ_I64(write_tick(st, &set, t, &tick), 0);
		id = mw_store_live_proc_id(st, p.pid, p.start_ticks);
		reg.r[MW_REG_heap].size = (k >= 2 ? 2 : 1) * MiB;
		reg.so_hash = 0xfedcba9876543210ull; /* above INT64_MAX: must round-trip */
		for (int f = 0; f < MW_PSS_COUNT; f++)
			reg.pss[f] = (k + 1) * MiB + f * KiB;
		reg.pss[MW_PSS_swap_pss] = MW_UNKNOWN; /* a kernel without it: NULL, read back so */
		if (k == 0 || k == 2)
			CHECK_EQ_I64(mw_region_write(w, id, tick, t_ms, k == 0, &reg), 0);
		fds.n[MW_FD_socket] = k;
		if (k == 1)
			CHECK_EQ_I64(mw_fd_kinds_write(w, id, tick, t_ms, true, &fds), 0);
		if (k == 4) {
			struct mw_regions bad = {.readable = false, .err = -EACCES};
			struct mw_fd_kinds badf = {.readable = false, .err = -EACCES};
			CHECK_EQ_I64(mw_region_write(w, id, tick, t_ms, false, &bad), 0);
			CHECK_EQ_I64(mw_fd_kinds_write(w, id, tick, t_ms, false, &badf), 0);
		}
		CHECK_EQ_I64(mw_store_tick_commit(st), 0);
	}
	mw_region_writer_free(w);
	mw_store_close(st);

	CHECK_EQ_I64(mw_store_open_reader(path, &rd), 0);
	if (!rd)
		return;
	{
		int64_t n = 0;
		CHECK(mw_inspect_store_i64(rd,
		                           "SELECT count(*) FROM region_samples WHERE err = 13 AND"
		                           " heap_size IS NULL AND files IS NULL",
		                           NULL, 0, &n) == 0 &&
		      n == 1);
	}
	CHECK_EQ_I64(mw_store_region_series(rd, id, (int64_t)(t0 / 1000000),
	                                    (int64_t)(t0 / 1000000) + 100000, &sr),
	             0);
	/* Points at 0, 10 (fds), 20 (heap 2 MiB), 40 (unreadable), 50 (last alive). */
	CHECK_EQ_I64(sr.n, 5);
	if (sr.n == 5) {
		int64_t base = (int64_t)(t0 / 1000000);
		CHECK_EQ_I64(sr.v[0].t_ms, base);
		CHECK(sr.v[0].reg.readable);
		CHECK(!sr.v[0].fds.readable); /* not known yet */
		CHECK_EQ_I64(sr.v[0].fds.err, 0);
		CHECK_EQ_I64(sr.v[0].reg.r[MW_REG_heap].size, 1 * MiB);
		CHECK(sr.v[0].reg.so_hash == 0xfedcba9876543210ull);
		CHECK_EQ_I64(sr.v[1].t_ms, base + 10000);
		CHECK(sr.v[1].fds.readable);
		CHECK_EQ_I64(sr.v[1].fds.n[MW_FD_socket], 1);
		CHECK_EQ_I64(sr.v[1].reg.r[MW_REG_heap].size, 1 * MiB);
		CHECK_EQ_I64(sr.v[2].t_ms, base + 20000);
		CHECK_EQ_I64(sr.v[2].reg.r[MW_REG_heap].size, 2 * MiB);
		CHECK_EQ_I64(sr.v[2].fds.n[MW_FD_socket], 1);
		expect_pss(sr.v[0].reg.pss, MiB, MiB + KiB, MiB + 2 * KiB, MiB + 3 * KiB,
		           MiB + 4 * KiB, MiB + 5 * KiB, MW_UNKNOWN);
		CHECK_EQ_I64(sr.v[2].reg.pss[MW_PSS_pss], 3 * MiB);
		CHECK_EQ_I64(sr.v[2].reg.pss[MW_PSS_uss], 3 * MiB + 4 * KiB);
		/* Unreadable: unknown, not 0. */
		CHECK_EQ_I64(sr.v[3].reg.pss[MW_PSS_pss], MW_UNKNOWN);
		CHECK_EQ_I64(sr.v[3].t_ms, base + 40000);
		CHECK(!sr.v[3].reg.readable);
		CHECK_EQ_I64(sr.v[3].reg.err, -EACCES);
		CHECK(!sr.v[3].fds.readable);
		CHECK_EQ_I64(sr.v[4].t_ms, base + 50000);
		CHECK(!sr.v[4].reg.readable);
	}
	mw_region_series_release(&sr);
	/* A window starting later: the row before it stands for its start. */
	CHECK_EQ_I64(mw_store_region_series(rd, id, (int64_t)(t0 / 1000000) + 25000,
	                                    (int64_t)(t0 / 1000000) + 35000, &sr),
	             0);
	CHECK_EQ_I64(sr.n, 2);
	if (sr.n == 2) {
		CHECK_EQ_I64(sr.v[0].t_ms, (int64_t)(t0 / 1000000) + 25000);
		CHECK_EQ_I64(sr.v[0].reg.r[MW_REG_heap].size, 2 * MiB);
		CHECK_EQ_I64(sr.v[0].fds.n[MW_FD_socket], 1);
		CHECK_EQ_I64(sr.v[1].t_ms, (int64_t)(t0 / 1000000) + 35000);
	}
	mw_region_series_release(&sr);
	/* An unknown process: an empty series, not an error. */
	CHECK_EQ_I64(mw_store_region_series(rd, 999, 0, INT64_MAX, &sr), 0);
	CHECK_EQ_I64(sr.n, 0);
	mw_region_series_release(&sr);
	mw_store_close(rd);
	{
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_EQ_I64(system(cmd), 0);
	}
}

int main(void)
{
	test_threads_arenas();
	test_shm_mix();
	test_shell();
	test_odd();
	test_task_sp();
	test_sp_classify();
	test_truncations();
	test_so_hash();
	test_live_self();
	test_live_sp();
	test_shared_anon();
	test_shared_anon_live();
	test_unreadable();
	test_fd_kind_of();
	test_fd_child();
	test_pss_rollup();
	test_pss_smaps();
	test_pss_live();
	test_pss_equal();
	test_store();
	return check_done();
}
