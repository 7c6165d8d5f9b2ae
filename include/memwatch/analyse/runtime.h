/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MEMWATCH_ANALYSE_RUNTIME_H
#define MEMWATCH_ANALYSE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "memwatch/base/framerule.h"

/*
 * Managed runtimes own their memory: what memwatch sees as anonymous
 * mappings is a JVM heap or CPython's arenas. Told from the process's name
 * and command line as recorded (a replayed store says the same), with what
 * that means for a verdict; the runtime's own tool is
 * mw_runtime_next_step(). Go is told by its call sites' frames instead
 * (mw_frame_runtime): its binaries carry any name.
 */
struct mw_runtime_info {
	enum mw_runtime kind;
	int64_t heap_max; /* -Xmx / --max-old-space-size in bytes; -1 when not given */
	char note[384];   /* what it means for the verdict; "" for none */
};

/* comm and cmdline (arguments separated by spaces) as recorded; never fails. */
void mw_runtime_detect(const char *comm, const char *cmdline, struct mw_runtime_info *out);

/* "256m", "2G", "1048576" (the JVM's size syntax) in bytes; -1 when malformed. */
int64_t mw_runtime_parse_size(const char *s, size_t len);

#endif
