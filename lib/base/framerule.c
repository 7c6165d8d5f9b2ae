/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The allocator and runtime frame table, and collapsing stacks with it. */
#include "memwatch/base/framerule.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#define GO_SWITCH "Go stack switch"

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
        /*
         * Go: the runtime is linked into every binary. Where it switches to the
         * system stack (g0) the goroutine's own frames are on another stack,
         * out of the unwinder's reach: that frame gets its own label.
         */
        {NULL, "runtime.systemstack", GO_SWITCH, MW_RUNTIME_GO},
        {NULL, "runtime.morestack", GO_SWITCH, MW_RUNTIME_GO},
        {NULL, "runtime.mcall", GO_SWITCH, MW_RUNTIME_GO},
        {NULL, "runtime.newstack", "Go stacks", MW_RUNTIME_GO},
        {NULL, "runtime.copystack", "Go stacks", MW_RUNTIME_GO},
        {NULL, "runtime.stackalloc", "Go stacks", MW_RUNTIME_GO},
        {NULL, "runtime.malg", "Go stacks", MW_RUNTIME_GO},
        {NULL, "runtime.newproc", "Go stacks", MW_RUNTIME_GO},
        {NULL, "runtime.mallocgc", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.newobject", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.makeslice", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.growslice", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.(*mcache)", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.(*mcentral)", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.(*mheap)", "Go malloc", MW_RUNTIME_GO},
        {NULL, "runtime.", "Go runtime", MW_RUNTIME_GO},
        {NULL, "runtime/", "Go runtime", MW_RUNTIME_GO},
        /* only the standard library can import internal/ packages (cpu, bytealg, abi, ...) */
        {NULL, "internal/", "Go runtime", MW_RUNTIME_GO},
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
	case MW_RUNTIME_NODE:
		return "Node.js";
	default:
		return NULL;
	}
}

/* The Go runtime's own tools, after what the site shows (why). */
static void go_ask_runtime(long pid, const char *why, char *buf, size_t cap)
{
	snprintf(
	        buf, cap,
	        "%s; ask the runtime: if it serves net/http/pprof (its port: `ss -ltnp | grep"
	        " 'pid=%ld,'`), `go tool pprof -top -sample_index=inuse_space"
	        " http://HOST:PORT/debug/pprof/heap` names the Go code holding heap and `curl -s"
	        " 'http://HOST:PORT/debug/pprof/goroutine?debug=1' | head -30` counts goroutines by"
	        " where they block and who created them; else restart it with `GODEBUG=gctrace=1`"
	        " (heap per GC on stderr), or `kill -QUIT %ld` prints every goroutine's stack"
	        " (and ends the process)",
	        why, pid, pid);
}

/* The last frame when it is where the Go runtime left the goroutine's stack, else NULL. */
static const char *go_switch_frame(char *const *frames, size_t n)
{
	const struct mw_frame_rule *r = n ? mw_frame_rule_match(frames[n - 1]) : NULL;

	return r && strcmp(r->label, GO_SWITCH) == 0 ? frames[n - 1] : NULL;
}

void mw_frame_next_step(char *const *frames, size_t n, long pid, char *buf, size_t cap)
{
	enum mw_runtime r = mw_frame_runtime(frames, n);
	size_t app = mw_frame_first_app(frames, n);
	char sym[192], why[512];
	const char *sw;

	if (r != MW_RUNTIME_GO) {
		mw_runtime_next_step(r, pid, buf, cap);
		return;
	}
	if (app < n) {
		mw_frame_symbol(frames[app], sym, sizeof(sym));
		snprintf(why, sizeof(why),
		         "%s asked the Go runtime, which mapped this; the runtime's profiles give"
		         " bytes by Go function",
		         *sym ? sym : "the site");
	} else if ((sw = go_switch_frame(frames, n))) {
		mw_frame_symbol(sw, sym, sizeof(sym));
		snprintf(why, sizeof(why),
		         "the Go runtime maps heap and goroutine stacks from its system stack: the"
		         " unwinder stops at %s, the goroutine's frames (main.*) being on its own"
		         " stack, and heap arenas (mapped where the runtime chooses) are never"
		         " snapshotted",
		         sym);
	} else {
		snprintf(why, sizeof(why),
		         "the Go runtime's own memory (start-up, its page allocator): heap arenas"
		         " (mapped where the runtime chooses) are never snapshotted");
	}
	go_ask_runtime(pid, why, buf, cap);
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
		go_ask_runtime(pid, "the Go runtime's heap or goroutine stacks grow", buf, cap);
		break;
	case MW_RUNTIME_JVM:
		snprintf(buf, cap,
		         "the JVM's own memory grows (threads, heap, metaspace): restart with"
		         " `-XX:NativeMemoryTracking=summary`, then `jcmd %ld VM.native_memory"
		         " summary` (and `jcmd %ld Thread.print` for thread leaks)",
		         pid, pid);
		break;
	case MW_RUNTIME_NODE:
		snprintf(buf, cap,
		         "V8's heap or its Buffers grow: `kill -USR1 %ld` opens the inspector"
		         " (then a heap snapshot from chrome://inspect), or restart it with"
		         " `--heapsnapshot-near-heap-limit=2`",
		         pid);
		break;
	default:
		buf[0] = '\0';
	}
}
