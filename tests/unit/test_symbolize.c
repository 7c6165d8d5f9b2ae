/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The symbolizer and uprobe placement: ELF symbol offsets of the recorded
 * workload binary (tests/data/unwind/mmap_leak) and of this system's libc,
 * round trips back to "function+0xoff (module)", and the instruction
 * decoder that moves a uprobe past instructions the kernel single-steps.
 */
#include "check.h"
#include "memwatch/collect/symbolize.h"
#include "memwatch/collect/trace.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>

#define BIN  SRCDIR "/tests/data/unwind/mmap_leak"
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static void round_trip(const char *path, const char *fn, uint64_t delta, const char *want)
{
	uint64_t off = 0, size = 0;
	char buf[MW_FRAME_MAX] = "";

	CHECK_EQ_I64(mw_elf_symbol_offset(path, fn, &off, &size), 0);
	CHECK(off > 0 && size > delta);
	CHECK_EQ_I64(mw_symbolize_file(path, off + delta, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, want);
}

static void decoder(void)
{
	static const uint8_t endbr_push[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x54, 0x55};
	static const uint8_t test_je[] = {0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0, 0, 0};
	static const uint8_t push[] = {0x55, 0x48, 0x89, 0xe5};
	static const uint8_t endbr_test_jmp[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x85, 0xff, 0xeb, 0x10};
	static const uint8_t mov_first[] = {0x48, 0x8b, 0x05, 1, 2, 3, 4};
	static const uint8_t sub_first[] = {0x48, 0x83, 0xec, 0x08};
	static const uint8_t endbr_only[] = {0xf3, 0x0f, 0x1e, 0xfa};

	CHECK_EQ_I64(mw_uprobe_emulatable_offset(endbr_push, sizeof(endbr_push)), 4);
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(test_je, sizeof(test_je)), 3);
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(push, sizeof(push)), 0);
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(endbr_test_jmp, sizeof(endbr_test_jmp)), 6);
	/* Not something to step over blindly: keep the entry (single-stepped). */
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(mov_first, sizeof(mov_first)), -1);
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(sub_first, sizeof(sub_first)), -1);
	/* A truncated buffer never reads past its end. */
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(endbr_only, sizeof(endbr_only)), -1);
	CHECK_EQ_I64(mw_uprobe_emulatable_offset(test_je, 4), -1);
}

/* This libc's free: wherever the decoder puts the probe is an emulated instruction. */
static void libc_free(void)
{
	uint64_t off, size;
	uint8_t code[16];
	int fd, at;

	if (mw_elf_symbol_offset(LIBC, "free", &off, &size) < 0)
		return;
	fd = open(LIBC, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ_I64(pread(fd, code, sizeof(code), (off_t)off), sizeof(code));
	close(fd);
	at = mw_uprobe_emulatable_offset(code, sizeof(code));
	printf("libc free: probe at +%d (first bytes %02x %02x %02x)\n", at, code[0], code[1],
	       code[2]);
	CHECK(at >= 0 && (uint64_t)at < size);
}

int main(void)
{
	char buf[MW_FRAME_MAX];
	uint64_t off;

	round_trip(BIN, "leak_mapping", 0, "leak_mapping+0x0 (mmap_leak)");
	round_trip(BIN, "grow_cache", 4, "grow_cache+0x4 (mmap_leak)");
	round_trip(BIN, "main", 0x10, "main+0x10 (mmap_leak)");
	/* libc: .dynsym only (no debuginfo needed); aliases may name the same address. */
	CHECK_EQ_I64(mw_elf_symbol_offset(LIBC, "malloc", &off, NULL), 0);
	CHECK_EQ_I64(mw_symbolize_file(LIBC, off + 1, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "malloc+0x1 (libc.so.6)") != NULL);
	printf("libc malloc+1: %s\n", buf);
	/* Absent names and files are errors, not guesses. */
	CHECK_EQ_I64(mw_elf_symbol_offset(BIN, "no_such_function", &off, NULL), -ENOENT);
	CHECK(mw_elf_symbol_offset("/nonexistent/file", "main", &off, NULL) < 0);
	CHECK(mw_symbolize_file(BIN, 1ull << 40, buf, sizeof(buf)) < 0);
	decoder();
	libc_free();
	return check_done();
}
