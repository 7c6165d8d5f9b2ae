/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allocator/runtime frame table: stacks as the unwinder writes them
 * (glibc, operator new, jemalloc unsymbolised, tcmalloc, CPython stripped,
 * Go, libjvm) collapse into labelled spans and name the first frame of the
 * application; frames of the application itself never match.
 */
#include "check.h"
#include "memwatch/base/framerule.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The module and symbol a frame's text names. */
static void parts(const char *frame, const char *mod, const char *sym)
{
	char b[128];

	mw_frame_module(frame, b, sizeof(b));
	CHECK_EQ_STR(b, mod);
	mw_frame_symbol(frame, b, sizeof(b));
	CHECK_EQ_STR(b, sym);
}

static void parse(void)
{
	parts("malloc+0x1a (libc.so.6)", "libc.so.6", "malloc");
	/* Demangled names hold parentheses and '+': the module is the last group. */
	parts("leak::Cache::grow(unsigned long)+0x2c (cpp_leak)", "cpp_leak",
	      "leak::Cache::grow(unsigned long)");
	parts("operator+(int)+0x8 (app)", "app", "operator+(int)");
	parts("libjemalloc.so.2+0x94b59 [build-id 0123abcd]", "libjemalloc.so.2", "");
	parts("0x22d098 (python3.11)", "python3.11", "");
	parts("[unknown]", "", "");
}

static void glibc_cpp(void)
{
	char *s[] = {"__mmap+0x26 (libc.so.6)",
	             "sysmalloc+0x1f4 (libc.so.6)",
	             "_int_malloc+0xd3c (libc.so.6)",
	             "malloc+0xd4 (libc.so.6)",
	             "operator new(unsigned long)+0x1c (libstdc++.so.6)",
	             "leak::Cache::grow()+0x2c (cpp_leak)",
	             "main+0x40 (cpp_leak)"};
	struct mw_frame_span sp[8];
	size_t k = mw_frame_collapse(s, N(s), sp, N(sp));
	char b[192];

	CHECK_EQ_I64(mw_frame_first_app(s, N(s)), 5);
	CHECK_EQ_I64(k, 3);
	CHECK_EQ_STR(sp[0].rule->label, "glibc mmap");
	CHECK_EQ_I64(sp[0].count, 5);
	mw_frame_span_text(s, &sp[0], false, b, sizeof(b));
	CHECK_EQ_STR(b, "[glibc mmap, glibc malloc x3, operator new]");
	mw_frame_span_text(s, &sp[0], true, b, sizeof(b));
	CHECK_EQ_STR(b, "[glibc mmap, glibc malloc \u00d73, operator new]");
	mw_frame_via(s, N(s), false, b, sizeof(b));
	CHECK_EQ_STR(b, "glibc mmap, glibc malloc x3, operator new");
	CHECK(sp[1].rule == NULL && sp[1].first == 5 && sp[1].count == 1);
	mw_frame_span_text(s, &sp[1], false, b, sizeof(b));
	CHECK_EQ_STR(b, "leak::Cache::grow()+0x2c (cpp_leak)");
	CHECK(sp[2].rule == NULL && sp[2].first == 6);
	CHECK_EQ_I64(mw_frame_runtime(s, N(s)), MW_RUNTIME_NONE);
	/* A short output array still returns how many spans there are. */
	CHECK_EQ_I64(mw_frame_collapse(s, N(s), sp, 1), 3);
}

static void allocators(void)
{
	char *je[] = {"libjemalloc.so.2+0x94b59 [build-id 0a]",
	              "libjemalloc.so.2+0x94bc1 [build-id 0a]",
	              "je_malloc_default+0x2a (libjemalloc.so.2)", "_Znwm+0x14 (libstdc++.so.6)",
	              "leak::Cache::grow()+0x2c (cpp_leak)"};
	char *tc[] = {("tcmalloc::SystemAlloc(unsigned long, unsigned long*, unsigned long)+0x5 "
	               "(libtcmalloc.so.4)"),
	              "tc_new+0x9 (libtcmalloc_minimal.so.4)",
	              "leak::Cache::grow()+0x2c (cpp_leak)"};
	char *linked[] = {"je_arena_malloc+0x10 (redis-server)", "mi_malloc+0x4 (app)",
	                  "zmalloc+0x10 (redis-server)"};
	struct mw_frame_span sp[8];

	CHECK_EQ_I64(mw_frame_first_app(je, N(je)), 4);
	CHECK_EQ_I64(mw_frame_collapse(je, N(je), sp, N(sp)), 2);
	CHECK_EQ_STR(sp[0].rule->label, "jemalloc");
	CHECK_EQ_I64(sp[0].count, 4);
	CHECK_EQ_I64(mw_frame_first_app(tc, N(tc)), 2);
	CHECK_EQ_I64(mw_frame_collapse(tc, N(tc), sp, N(sp)), 2);
	CHECK_EQ_STR(sp[0].rule->label, "tcmalloc");
	/* Statically linked allocators are known by their symbols. */
	CHECK_EQ_I64(mw_frame_first_app(linked, N(linked)), 2);
}

static void runtimes(void)
{
	char *py[] = {"0x22d098 (python3.11)", "_PyObject_Malloc+0x10 (libpython3.11.so.1.0)",
	              "0xfb706 (python3.11)"};
	char *go[] = {"runtime.sysMmap+0x2e (leak)", "runtime.(*mheap).grow+0x9 (leak)",
	              "main.leak+0x44 (leak)", "runtime.main+0x10 (leak)"};
	char *jvm[] = {
	        "mmap64+0x1 (libc.so.6)", "pthread_create+0x9 (libc.so.6)",
	        "os::create_thread(Thread*, os::ThreadType, unsigned long)+0x183 (libjvm.so)",
	        "JVM_StartThread+0x1 (libjvm.so)", "[unknown]"};
	char *app[] = {"grow_cache+0x8 (app)", "main+0x1 (app)"};

	CHECK_EQ_I64(mw_frame_first_app(py, N(py)), 3);
	CHECK_EQ_I64(mw_frame_runtime(py, N(py)), MW_RUNTIME_PYTHON);
	CHECK_EQ_I64(mw_frame_first_app(go, N(go)), 2);
	CHECK_EQ_I64(mw_frame_runtime(go, N(go)), MW_RUNTIME_GO);
	CHECK_EQ_I64(mw_frame_runtime(jvm, N(jvm)), MW_RUNTIME_JVM);
	CHECK_EQ_I64(mw_frame_first_app(jvm, N(jvm)), 4);
	CHECK_EQ_I64(mw_frame_first_app(app, N(app)), 0);
	CHECK(mw_frame_rule_match("main.leak+0x44 (leak)") == NULL);
	CHECK(mw_frame_rule_match("leak::Cache::grow()+0x2c (cpp_leak)") == NULL);
	CHECK_EQ_STR(mw_runtime_name(MW_RUNTIME_PYTHON), "CPython");
	CHECK(mw_runtime_name(MW_RUNTIME_NONE) == NULL);
}

/* Frames as the unwinder gives them for Go 1.19 (tests/workloads/goleak, docs/callsite.md). */
static void go_runtime(void)
{
	char *sw[] = {"runtime.sysMmap.abi0+0x24 (goleak)", "runtime.mmap+0xc9 (goleak)",
	              "runtime.(*mheap).allocSpan+0x1bd (goleak)",
	              "runtime.(*mheap).alloc.func1+0x64 (goleak)",
	              "runtime.systemstack.abi0+0x48 (goleak)"};
	char *stk[] = {"runtime.sysMmap.abi0+0x24 (goleak)", "runtime.stackalloc+0x150 (goleak)",
	               "runtime.copystack+0xe5 (goleak)", "runtime.newstack+0x496 (goleak)",
	               "runtime.morestack.abi0+0x8a (goleak)"};
	char *init[] = {"runtime.sysMmap.abi0+0x24 (goleak)", "runtime.mallocgc+0x4c7 (goleak)",
	                "internal/cpu.doinit+0x24 (goleak)", "runtime.schedinit+0xaf (goleak)",
	                "runtime.rt0_go.abi0+0x11b (goleak)"};
	char *named[] = {"runtime.sysMmap.abi0+0x24 (goleak)", "runtime.mallocgc+0x4c7 (goleak)",
	                 "main.growMap+0x2b (goleak)", "main.main+0x1c (goleak)"};
	struct mw_frame_span sp[8];
	char via[256], step[1024];

	CHECK_EQ_I64(mw_frame_first_app(sw, N(sw)), N(sw));
	CHECK_EQ_I64(mw_frame_runtime(sw, N(sw)), MW_RUNTIME_GO);
	mw_frame_via(sw, N(sw), false, via, sizeof(via));
	CHECK_EQ_STR(via, "Go runtime x2, Go malloc x2, Go stack switch");
	mw_frame_next_step(sw, N(sw), 42, step, sizeof(step));
	CHECK(strstr(step, "stops at runtime.systemstack.abi0") != NULL);
	CHECK(strstr(step, "debug/pprof/heap") && strstr(step, "GODEBUG=gctrace=1"));
	CHECK(strstr(step, "'pid=42,'") && strstr(step, "kill -QUIT 42"));
	mw_frame_via(stk, N(stk), false, via, sizeof(via));
	CHECK_EQ_STR(via, "Go runtime, Go stacks x3, Go stack switch");
	mw_frame_next_step(stk, N(stk), 42, step, sizeof(step));
	CHECK(strstr(step, "stops at runtime.morestack.abi0") != NULL);
	/* The standard library's internal packages are the runtime's: start-up is not a site. */
	CHECK_EQ_I64(mw_frame_first_app(init, N(init)), N(init));
	mw_frame_next_step(init, N(init), 42, step, sizeof(step));
	CHECK(strstr(step, "start-up") && !strstr(step, "stops at"));
	/* Reached through the runtime, the Go function is the site. */
	CHECK_EQ_I64(mw_frame_first_app(named, N(named)), 2);
	CHECK_EQ_I64(mw_frame_collapse(named, N(named), sp, N(sp)), 3);
	mw_frame_next_step(named, N(named), 42, step, sizeof(step));
	CHECK(strncmp(step, "main.growMap asked the Go runtime", 33) == 0);
	/* Other runtimes keep their own step. */
	mw_frame_next_step(named, 0, 42, step, sizeof(step));
	CHECK_EQ_STR(step, "");
}

int main(void)
{
	parse();
	glibc_cpp();
	allocators();
	runtimes();
	go_runtime();
	return check_done();
}
