/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unwinder on a recorded snapshot (tests/data/unwind/, see its
 * README.md): registers and 4 KiB of user stack taken at
 * mmap:vm_unmapped_area from tests/workloads/mmap_callers.c (recorded as
 * mmap_leak; built -O2 -fomit-frame-pointer),
 * the process's maps at that moment, and the binary itself. libc comes
 * from this system; the recording names its build-id and the test skips
 * when the installed libc is a different build.
 */
#include "check.h"
#include "memwatch/collect/unwind.h"
#include "memwatch/base/util.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>

#define DATA SRCDIR "/tests/data/unwind"

/* The GNU build-id of an ELF file as hex. */
static int build_id_hex(const char *path, char *out, size_t cap)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	const unsigned char *id;
	Elf *elf;
	int n;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	n = dwelf_elf_gnu_build_id(elf, (const void **)&id);
	for (int i = 0; i < n && (size_t)(2 * i + 2) < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
	elf_end(elf);
	return n > 0 ? 0 : -ENOENT;
}

/* maps.txt with the recorded binary's path replaced by the copy in tests/data. */
static void write_maps(const char *in, const char *out)
{
	char line[4096];
	FILE *f = fopen(in, "re"), *g = fopen(out, "we");

	if (!f || !g)
		mw_skip("cannot read the recorded maps");
	while (fgets(line, sizeof(line), f)) {
		char *at = strstr(line, "@DATA@");
		if (at) {
			*at = '\0';
			fprintf(g, "%s%s%s", line, DATA, at + 6);
		} else {
			fputs(line, g);
		}
	}
	fclose(f);
	fclose(g);
}

static int load_snapshot(struct mw_stack_snapshot *s, uint8_t **stack)
{
	char *buf = NULL;
	size_t len = 0;
	uint64_t slen;
	int r = mw_read_file_alloc(DATA "/snapshot.bin", &buf, &len);

	if (r < 0)
		return r;
	if (len < 8 + 8 * MW_NREGS + 8 || memcmp(buf, "MWSNAP01", 8) != 0) {
		free(buf);
		return -EBADMSG;
	}
	memcpy(s->regs, buf + 8, 8 * MW_NREGS);
	memcpy(&slen, buf + 8 + 8 * MW_NREGS, 8);
	if (slen > len - (8 + 8 * MW_NREGS + 8)) {
		free(buf);
		return -EBADMSG;
	}
	*stack = malloc(slen ? slen : 1);
	memcpy(*stack, buf + 8 + 8 * MW_NREGS + 8, slen);
	s->stack = *stack;
	s->stack_len = slen;
	free(buf);
	return 0;
}

int main(void)
{
	char want[128] = "", have[128] = "", maps[] = "/tmp/mw-test-unwind-maps.XXXXXX";
	char frames[16][MW_FRAME_MAX];
	struct mw_stack_snapshot snap;
	struct mw_unwinder *u = NULL;
	uint8_t *stack = NULL;
	size_t len;
	char *p = NULL;
	int fd, n;

	if (mw_read_file_alloc(DATA "/libc.build-id", &p, &len) < 0)
		mw_skip("no recorded libc build-id");
	snprintf(want, sizeof(want), "%.*s", (int)strcspn(p, "\n"), p);
	free(p);
	if (build_id_hex("/lib/x86_64-linux-gnu/libc.so.6", have, sizeof(have)) < 0 ||
	    strcmp(want, have) != 0)
		mw_skip("the installed libc is not the build the snapshot was recorded with");

	fd = mkstemp(maps);
	CHECK(fd >= 0);
	close(fd);
	write_maps(DATA "/maps.txt", maps);
	CHECK_EQ_I64(load_snapshot(&snap, &stack), 0);
	CHECK(snap.stack_len >= 1024);
	CHECK_EQ_I64(mw_unwinder_new(&u), 0);
	/* A pid that does not exist: everything must come from the recording. */
	CHECK_EQ_I64(mw_unwinder_load_maps(u, 999999, maps), 0);
	n = mw_unwind(u, 999999, &snap, frames, 16);
	for (int i = 0; i < n; i++)
		printf("  #%d %s\n", i, frames[i]);
	CHECK(n >= 5);
	if (n >= 5) {
		/* The libc wrapper that made the syscall, then the workload's own frames. */
		CHECK(strncmp(frames[0], "__mmap+", 7) == 0 && strstr(frames[0], "(libc.so.6)"));
		CHECK(strncmp(frames[1], "leak_mapping+", 13) == 0 &&
		      strstr(frames[1], "(mmap_leak)"));
		CHECK(strncmp(frames[2], "grow_cache+", 11) == 0);
		CHECK(strncmp(frames[3], "main+", 5) == 0);
		CHECK(strncmp(frames[4], "__libc_start_call_main+", 23) == 0);
	}
	/* Depth is bounded by the caller. */
	CHECK_EQ_I64(mw_unwind(u, 999999, &snap, frames, 2), 2);
	/* A truncated slice still yields the sampled IP. */
	snap.stack_len = 0;
	n = mw_unwind(u, 999999, &snap, frames, 16);
	CHECK(n >= 1 && strncmp(frames[0], "__mmap+", 7) == 0);

	mw_unwinder_free(u);
	free(stack);
	unlink(maps);
	return check_done();
}
