/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The allocator and runtime frame table, and collapsing stacks with it. */
#include "memwatch/base/framerule.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/*
 * First match wins: specific symbols of a library before its catch-all,
 * so a stack reads "[glibc malloc x3]" rather than "[glibc x3]". Symbol
 * rules without a module catch statically linked copies (Go binaries,
 * jemalloc built into the program).
 */
static const struct mw_frame_rule rules[] = {
        /* glibc */
        {"libc.so*", "malloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "calloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "realloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "_int_", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "sysmalloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "tcache", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "_mid_memalign", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "posix_memalign", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "aligned_alloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "memalign", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "__libc_malloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "__libc_calloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "__libc_realloc", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "__libc_memalign", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "new_heap", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "arena_get", "glibc malloc", MW_RUNTIME_NONE},
        {"libc.so*", "mmap", "glibc mmap", MW_RUNTIME_NONE},
        {"libc.so*", "__mmap", "glibc mmap", MW_RUNTIME_NONE},
        {"libc.so*", "__brk", "glibc mmap", MW_RUNTIME_NONE},
        {"libc.so*", "__sbrk", "glibc mmap", MW_RUNTIME_NONE},
        {"libc.so*", "pthread_create", "glibc threads", MW_RUNTIME_NONE},
        {"libc.so*", "allocate_stack", "glibc threads", MW_RUNTIME_NONE},
        {"libc.so*", NULL, "glibc", MW_RUNTIME_NONE},
        {"libc-*", NULL, "glibc", MW_RUNTIME_NONE},
        {"ld-linux*", NULL, "ld.so", MW_RUNTIME_NONE},
        /* C++ */
        {"libstdc++.so*", "_Zn", "operator new", MW_RUNTIME_NONE},
        {"libstdc++.so*", "operator new", "operator new", MW_RUNTIME_NONE},
        {"libstdc++.so*", NULL, "libstdc++", MW_RUNTIME_NONE},
        {"libc++.so*", NULL, "libc++", MW_RUNTIME_NONE},
        /* other allocators, shared and linked in */
        {"libjemalloc.so*", NULL, "jemalloc", MW_RUNTIME_NONE},
        {NULL, "je_", "jemalloc", MW_RUNTIME_NONE},
        {"libtcmalloc*.so*", NULL, "tcmalloc", MW_RUNTIME_NONE},
        {NULL, "tcmalloc::", "tcmalloc", MW_RUNTIME_NONE},
        {NULL, "tc_", "tcmalloc", MW_RUNTIME_NONE},
        {"libmimalloc*", NULL, "mimalloc", MW_RUNTIME_NONE},
        {NULL, "mi_", "mimalloc", MW_RUNTIME_NONE},
        {NULL, "_mi_", "mimalloc", MW_RUNTIME_NONE},
        /* CPython: its allocator and eval loop; the interpreter is usually stripped */
        {"python3*", NULL, "CPython", MW_RUNTIME_PYTHON},
        {"libpython3*", NULL, "CPython", MW_RUNTIME_PYTHON},
        {NULL, "_PyObject_", "CPython", MW_RUNTIME_PYTHON},
        {NULL, "PyObject_", "CPython", MW_RUNTIME_PYTHON},
        {NULL, "_PyMem_", "CPython", MW_RUNTIME_PYTHON},
        {NULL, "PyMem_", "CPython", MW_RUNTIME_PYTHON},
        {NULL, "_PyEval_", "CPython", MW_RUNTIME_PYTHON},
        {NULL, "PyEval_", "CPython", MW_RUNTIME_PYTHON},
        /* Go: the runtime is linked into every binary */
        {NULL, "runtime.", "Go runtime", MW_RUNTIME_GO},
        {NULL, "runtime/", "Go runtime", MW_RUNTIME_GO},
        {NULL, "internal/runtime", "Go runtime", MW_RUNTIME_GO},
        /* HotSpot: thread and heap internals live in libjvm */
        {"libjvm.so", NULL, "libjvm", MW_RUNTIME_JVM},
        {NULL, "JVM_", "libjvm", MW_RUNTIME_JVM},
        {NULL, "_ZN2os13create_thread", "libjvm", MW_RUNTIME_JVM},
        {NULL, "os::create_thread", "libjvm", MW_RUNTIME_JVM},
};

/* Where "+0x" of the offset starts in a frame (its last occurrence: names may hold '+'). */
static const char *offset_sep(const char *frame)
{
	const char *p, *last = NULL;

	for (p = frame; (p = strstr(p, "+0x")); p++)
		last = p;
	return last;
}

static bool unresolved_form(const char *frame)
{
	return strstr(frame, " [build-id ") != NULL || strncmp(frame, "0x", 2) == 0;
}

void mw_frame_module(const char *frame, char *buf, size_t cap)
{
	size_t len = strlen(frame);
	const char *open;

	buf[0] = '\0';
	if (len && frame[len - 1] == ')' && (open = strrchr(frame, '('))) {
		snprintf(buf, cap, "%.*s", (int)strcspn(open + 1, " ,)"), open + 1);
		return;
	}
	if (strstr(frame, " [build-id ") && (open = offset_sep(frame)))
		snprintf(buf, cap, "%.*s", (int)(open - frame), frame);
}

void mw_frame_symbol(const char *frame, char *buf, size_t cap)
{
	const char *sep = offset_sep(frame);

	buf[0] = '\0';
	if (sep && !unresolved_form(frame))
		snprintf(buf, cap, "%.*s", (int)(sep - frame), frame);
}

static bool rule_matches(const struct mw_frame_rule *r, const char *mod, const char *sym)
{
	if (r->module && (!*mod || fnmatch(r->module, mod, 0) != 0))
		return false;
	return !r->symbol || (*sym && strncmp(sym, r->symbol, strlen(r->symbol)) == 0);
}

const struct mw_frame_rule *mw_frame_rule_match(const char *frame)
{
	char mod[128], sym[192];

	mw_frame_module(frame, mod, sizeof(mod));
	mw_frame_symbol(frame, sym, sizeof(sym));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rule_matches(&rules[i], mod, sym))
			return &rules[i];
	return NULL;
}

size_t mw_frame_collapse(char *const *frames, size_t n, struct mw_frame_span *out, size_t cap)
{
	size_t k = 0;
	const struct mw_frame_rule *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct mw_frame_rule *r = mw_frame_rule_match(frames[i]);
		if (r && prev) {
			if (k <= cap)
				out[k - 1].count++;
			continue;
		}
		if (k < cap)
			out[k] = (struct mw_frame_span){i, 1, r};
		k++;
		prev = r;
	}
	return k;
}

size_t mw_frame_first_app(char *const *frames, size_t n)
{
	size_t i = 0;

	while (i < n && mw_frame_rule_match(frames[i]))
		i++;
	return i;
}

/* A collapsed span's labels, each with its run length: "glibc malloc x3, operator new". */
static void span_labels(char *const *frames, const struct mw_frame_span *sp, bool utf8, char *buf,
                        size_t cap)
{
	size_t o = 0, end = sp->first + sp->count;

	buf[0] = '\0';
	for (size_t i = sp->first; i < end && o < cap;) {
		const struct mw_frame_rule *r = mw_frame_rule_match(frames[i]);
		size_t run = 1;
		while (i + run < end &&
		       strcmp(mw_frame_rule_match(frames[i + run])->label, r->label) == 0)
			run++;
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", r->label);
		if (run > 1 && o < cap)
			o += (size_t)snprintf(buf + o, cap - o, " %s%zu", utf8 ? "\u00d7" : "x",
			                      run);
		i += run;
	}
}

void mw_frame_span_text(char *const *frames, const struct mw_frame_span *sp, bool utf8, char *buf,
                        size_t cap)
{
	char label[192];

	if (!sp->rule) {
		snprintf(buf, cap, "%s", frames[sp->first]);
		return;
	}
	span_labels(frames, sp, utf8, label, sizeof(label));
	snprintf(buf, cap, "[%s]", label);
}

void mw_frame_via(char *const *frames, size_t n, bool utf8, char *buf, size_t cap)
{
	struct mw_frame_span sp;

	buf[0] = '\0';
	/* Everything above the first application frame is one collapsed span. */
	if (mw_frame_collapse(frames, mw_frame_first_app(frames, n), &sp, 1) > 0)
		span_labels(frames, &sp, utf8, buf, cap);
}

enum mw_runtime mw_frame_runtime(char *const *frames, size_t n)
{
	size_t app = mw_frame_first_app(frames, n);

	for (size_t i = 0; i < app; i++) {
		const struct mw_frame_rule *r = mw_frame_rule_match(frames[i]);
		if (r && r->runtime != MW_RUNTIME_NONE)
			return r->runtime;
	}
	return MW_RUNTIME_NONE;
}

const char *mw_runtime_name(enum mw_runtime r)
{
	switch (r) {
	case MW_RUNTIME_GO:
		return "Go";
	case MW_RUNTIME_PYTHON:
		return "CPython";
	case MW_RUNTIME_JVM:
		return "JVM";
	default:
		return NULL;
	}
}

void mw_runtime_next_step(enum mw_runtime r, long pid, char *buf, size_t cap)
{
	switch (r) {
	case MW_RUNTIME_PYTHON:
		snprintf(
		        buf, cap,
		        "CPython's allocator grows: mmap-level sites show the interpreter's arenas,"
		        " not which Python code holds them; restart it with"
		        " `PYTHONTRACEMALLOC=25 $(tr '\\0' ' ' < /proc/%ld/cmdline)`"
		        " (or `python3 -X tracemalloc=25 SCRIPT`) and print"
		        " `tracemalloc.take_snapshot().statistics('traceback')[:10]`",
		        pid);
		break;
	case MW_RUNTIME_GO:
		snprintf(buf, cap,
		         "the Go runtime's heap or stacks grow: mmap-level sites show the runtime,"
		         " not main.*; `GODEBUG=gctrace=1` on restart prints the heap per GC, and"
		         " with net/http/pprof imported `go tool pprof -sample_index=inuse_space"
		         " http://HOST:PORT/debug/pprof/heap` names the Go code (process %ld)",
		         pid);
		break;
	case MW_RUNTIME_JVM:
		snprintf(buf, cap,
		         "the JVM's own memory grows (threads, heap, metaspace): restart with"
		         " `-XX:NativeMemoryTracking=summary`, then `jcmd %ld VM.native_memory"
		         " summary` (and `jcmd %ld Thread.print` for thread leaks)",
		         pid, pid);
		break;
	default:
		buf[0] = '\0';
	}
}
