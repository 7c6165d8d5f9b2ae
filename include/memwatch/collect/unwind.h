/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DWARF CFI unwinding of a copied user-stack slice, in user space, with
 * libdw's frame API (dwfl_attach_state + dwfl_getthread_frames): the
 * registers at the event plus the stack bytes above SP stand in for the
 * thread; .eh_frame/.debug_frame come from the files the process maps.
 * Memory outside the slice is read from the live process when it exists.
 *
 * One cached address space (modules from /proc/PID/maps) per process;
 * rebuilt when a sampled IP falls outside every known module (dlopen,
 * exec), dropped with mw_unwinder_forget when the process goes.
 */
#ifndef MEMWATCH_UNWIND_H
#define MEMWATCH_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/perfev.h"
#include "memwatch/collect/symbolize.h"

struct mw_stack_snapshot {
	uint64_t regs[MW_NREGS]; /* DWARF order; MW_REG_SP, MW_REG_IP */
	const uint8_t *stack;    /* user memory from regs[MW_REG_SP] */
	size_t stack_len;
};

struct mw_unwinder;

int mw_unwinder_new(struct mw_unwinder **out);
void mw_unwinder_free(struct mw_unwinder *u);

/*
 * Describe pid's address space from a maps file instead of /proc/PID/maps
 * (recorded snapshots in tests; paths in the file are opened as written).
 */
int mw_unwinder_load_maps(struct mw_unwinder *u, pid_t pid, const char *maps_path);

void mw_unwinder_forget(struct mw_unwinder *u, pid_t pid);

/*
 * Unwind one snapshot of pid into at most max frames, each formatted
 * "function+0xoff (module)" into frames[i] (MW_FRAME_MAX bytes each).
 * The first frame is the sampled IP. Returns the number of frames
 * (>= 1 when the IP is known) or a negative errno.
 */
int mw_unwind(struct mw_unwinder *u, pid_t pid, const struct mw_stack_snapshot *snap,
              char (*frames)[MW_FRAME_MAX], size_t max);

/*
 * The same, with each frame's key (mw_symbolize_pc: module and ELF
 * address) in keys[i]: what identifies a stack, whatever its names read.
 */
int mw_unwind_keys(struct mw_unwinder *u, pid_t pid, const struct mw_stack_snapshot *snap,
                   char (*frames)[MW_FRAME_MAX], uint64_t *keys, size_t max);

#endif
