/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which frames of a call stack are an allocator's or a runtime's own, not
 * the application's: one table (lib/base/framerule.c) of module and
 * symbol patterns, so a new allocator is one entry. Reports collapse the
 * matching frames into one labelled line ("[jemalloc x5]") and name a site
 * by its first frame that matches no rule; the whole stack stays stored.
 *
 * Frame text (as the unwinder writes it, docs/schema-callsite.md):
 *   "SYMBOL+0xOFF (MODULE)"               resolved
 *   "MODULE+0xOFF [build-id HEX]"         no symbol: OFF is the ELF address
 *   "0xOFF (MODULE)"                      no symbol, older rows
 *   "[unknown]"                           outside every module (JIT code)
 */
#ifndef MEMWATCH_FRAMERULE_H
#define MEMWATCH_FRAMERULE_H

#include <stdbool.h>
#include <stddef.h>

/* Runtimes that manage their own memory above mmap: a site there shows the runtime's growth. */
enum mw_runtime {
	MW_RUNTIME_NONE = 0,
	MW_RUNTIME_GO,
	MW_RUNTIME_PYTHON,
	MW_RUNTIME_JVM,
	MW_RUNTIME_NODE, /* told by name only (lib/analyse/runtime.c): V8's frames are JIT code */
};

struct mw_frame_rule {
	const char *module; /* fnmatch(3) pattern on the module's file name; NULL: any */
	const char *symbol; /* prefix of the symbol (mangled or demangled); NULL: any */
	const char *label;  /* the collapsed line's name */
	enum mw_runtime runtime;
};

/* The module's file name of a frame into buf ("" when the frame names none). */
void mw_frame_module(const char *frame, char *buf, size_t cap);

/* The symbol of a frame into buf ("" when unresolved). */
void mw_frame_symbol(const char *frame, char *buf, size_t cap);

/* The first rule a frame matches, or NULL: the frame is the application's. */
const struct mw_frame_rule *mw_frame_rule_match(const char *frame);

/* A run of frames: one application frame (rule NULL), or consecutive frames matching rules. */
struct mw_frame_span {
	size_t first, count;
	const struct mw_frame_rule *rule;
};

/*
 * Split frames into spans (at most cap written; the number needed is
 * returned). Consecutive frames matching rules are one span: one line.
 */
size_t mw_frame_collapse(char *const *frames, size_t n, struct mw_frame_span *out, size_t cap);

/*
 * The collapsed spans above the first application frame, as one phrase
 * ("glibc malloc x3, operator new"; "\u00d7" for x with utf8) into buf.
 */
void mw_frame_via(char *const *frames, size_t n, bool utf8, char *buf, size_t cap);

/* One span as its line: "[glibc mmap, glibc malloc x4, operator new]", or the frame itself. */
void mw_frame_span_text(char *const *frames, const struct mw_frame_span *sp, bool utf8, char *buf,
                        size_t cap);

/* The index of the first application frame; n when every frame matches a rule. */
size_t mw_frame_first_app(char *const *frames, size_t n);

/*
 * The runtime whose frames lie above the first application frame (or in
 * the whole stack when there is none), MW_RUNTIME_NONE when none.
 */
enum mw_runtime mw_frame_runtime(char *const *frames, size_t n);

/* "Go", "CPython", "JVM", "Node.js" (NULL for none). */
const char *mw_runtime_name(enum mw_runtime r);

/*
 * What a site inside runtime r means and the runtime's own tool for the
 * next step, with the exact command for process pid, into buf ("" for none).
 */
void mw_runtime_next_step(enum mw_runtime r, long pid, char *buf, size_t cap);

/*
 * The next step for a site with these frames: mw_runtime_next_step()'s,
 * told for Go by where the unwinder stopped (the runtime's switch to its
 * system stack, which hides main.*) or which Go function it reached.
 */
void mw_frame_next_step(char *const *frames, size_t n, long pid, char *buf, size_t cap);

#endif
