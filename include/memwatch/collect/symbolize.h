/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Addresses to names, from ELF .symtab/.dynsym (and a debuginfo file under
 * /usr/lib/debug/.build-id when one is installed), through libdw's dwfl.
 * Frames read "function+0xoff (module)": stable across processes and ASLR,
 * so the same code path in two processes interns to one stack.
 */
#ifndef MEMWATCH_SYMBOLIZE_H
#define MEMWATCH_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#define MW_FRAME_MAX 256

typedef struct Dwfl Dwfl;

/*
 * Format the frame at pc (an address inside the instruction) of a dwfl's
 * address space: "function+0xoff (module)" with C++ names demangled, or
 * "module+0xVADDR [build-id HEX]" without a symbol (VADDR the ELF address,
 * for addr2line or debuginfod later). Returns the frame's key: a hash of
 * the module's name and the ELF address, the same in every process and
 * whatever symbols were found.
 */
uint64_t mw_symbolize_pc(Dwfl *dwfl, uint64_t pc, char *buf, size_t cap);

/* The file offset and size of a function symbol in an ELF file (for uprobes). -ENOENT if absent. */
int mw_elf_symbol_offset(const char *path, const char *name, uint64_t *file_off, uint64_t *size);

/* Symbolize a file offset of an ELF file (as if mapped on its own). */
int mw_symbolize_file(const char *path, uint64_t file_off, char *buf, size_t cap);

#endif
