/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/unwind.h"
#include "memwatch/collect/symbolize.h"
#include "memwatch/base/util.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

/* Address spaces kept (each holds its modules' parsed ELF/CFI): bounds the daemon's RSS. */
#define MAX_SPACES 16

/* One process's address space and the snapshot being unwound in it. */
struct space {
	pid_t pid;
	bool live; /* from /proc/PID/maps: memory outside the slice can be read */
	bool attached;
	Dwfl *dwfl;
	uint64_t last_use;
	const struct mw_stack_snapshot *snap;
};

struct mw_unwinder {
	struct space sp[MAX_SPACES];
	uint64_t clock;
	char *debuginfo_path;
};

static const Dwfl_Callbacks proc_callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
};

int mw_unwinder_new(struct mw_unwinder **out)
{
	struct mw_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	*out = u;
	return 0;
}

static void space_clear(struct space *s)
{
	if (s->dwfl)
		dwfl_end(s->dwfl);
	memset(s, 0, sizeof(*s));
}

void mw_unwinder_free(struct mw_unwinder *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < MAX_SPACES; i++)
		space_clear(&u->sp[i]);
	free(u);
}

void mw_unwinder_forget(struct mw_unwinder *u, pid_t pid)
{
	for (size_t i = 0; i < MAX_SPACES; i++)
		if (u->sp[i].dwfl && u->sp[i].pid == pid)
			space_clear(&u->sp[i]);
}

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	struct space *s = arg;

	(void)dwfl;
	if (*thread_arg)
		return 0;
	*thread_arg = s;
	return s->pid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	(void)dwfl;
	(void)tid;
	*thread_arg = arg;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct space *s = arg;
	const struct mw_stack_snapshot *snap = s->snap;
	uint64_t sp = snap->regs[MW_REG_SP];

	(void)dwfl;
	if (addr >= sp && addr - sp + sizeof(*result) <= snap->stack_len) {
		memcpy(result, snap->stack + (addr - sp), sizeof(*result));
		return true;
	}
	if (s->live) {
		/* Not in the slice: text or data of the live process (rare with CFI). */
		struct iovec local = {result, sizeof(*result)};
		struct iovec remote = {(void *)(uintptr_t)addr, sizeof(*result)};
		return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == sizeof(*result);
	}
	return false;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct space *s = arg;
	Dwarf_Word regs[MW_NREGS];

	for (int i = 0; i < MW_NREGS; i++)
		regs[i] = s->snap->regs[i];
	return dwfl_thread_state_registers(thread, 0, MW_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
        .next_thread = cb_next_thread,
        .get_thread = cb_get_thread,
        .memory_read = cb_memory_read,
        .set_initial_registers = cb_set_initial_registers,
};

/* The slot for pid: its current one, else a free or the least recently used one. */
static struct space *slot_for(struct mw_unwinder *u, pid_t pid)
{
	struct space *victim = &u->sp[0];

	for (size_t i = 0; i < MAX_SPACES; i++) {
		struct space *s = &u->sp[i];
		if (s->dwfl && s->pid == pid)
			return s;
		if (!s->dwfl ? victim->dwfl != NULL
		             : (victim->dwfl && s->last_use < victim->last_use))
			victim = s;
	}
	space_clear(victim);
	return victim;
}

static int space_build(struct space *s, pid_t pid, const char *maps_path)
{
	int r;

	space_clear(s);
	s->pid = pid;
	s->dwfl = dwfl_begin(&proc_callbacks);
	if (!s->dwfl)
		return -ENOMEM;
	dwfl_report_begin(s->dwfl);
	if (maps_path) {
		FILE *f = fopen(maps_path, "re");
		if (!f) {
			r = -errno;
			space_clear(s);
			return r;
		}
		r = dwfl_linux_proc_maps_report(s->dwfl, f);
		fclose(f);
	} else {
		r = dwfl_linux_proc_report(s->dwfl, pid);
		s->live = true;
	}
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || r != 0) {
		r = r > 0 ? -r : -ESRCH;
		space_clear(s);
		return r;
	}
	s->pid = pid;
	return 0;
}

int mw_unwinder_load_maps(struct mw_unwinder *u, pid_t pid, const char *maps_path)
{
	return space_build(slot_for(u, pid), pid, maps_path);
}

/*
 * Where the walk of a Go stack must end: the runtime's outermost frames,
 * marked nowhere in its CFI (the next return address would be garbage), and
 * its switches to the system stack (g0), past which lie g0's stale frames,
 * not the goroutine's callers (those are on the goroutine's own stack). Go's
 * own traceback stops at the same functions.
 */
static bool go_stop(const char *frame)
{
	static const char *const last[] = {"runtime.rt0_go",    "runtime.mstart",
	                                   "runtime.goexit",    "runtime.systemstack",
	                                   "runtime.morestack", "runtime.mcall"};

	for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++)
		if (strncmp(frame, last[i], strlen(last[i])) == 0)
			return true;
	return false;
}

struct walk {
	struct space *s;
	char (*frames)[MW_FRAME_MAX];
	uint64_t *keys;
	size_t max, n;
	uint64_t last_pc;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/* A return address points after the call: look up the call itself. */
	if (!activation && pc > 0)
		pc--;
	if (w->n > 0 && pc == w->last_pc)
		return DWARF_CB_ABORT; /* no progress: a broken CFI chain */
	w->keys[w->n] = mw_symbolize_pc(w->s->dwfl, pc, w->frames[w->n], MW_FRAME_MAX);
	w->last_pc = pc;
	if (go_stop(w->frames[w->n++]))
		return DWARF_CB_ABORT;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int mw_unwind(struct mw_unwinder *u, pid_t pid, const struct mw_stack_snapshot *snap,
              char (*frames)[MW_FRAME_MAX], size_t max)
{
	uint64_t keys[64];

	return mw_unwind_keys(u, pid, snap, frames, keys, max < 64 ? max : 64);
}

int mw_unwind_keys(struct mw_unwinder *u, pid_t pid, const struct mw_stack_snapshot *snap,
                   char (*frames)[MW_FRAME_MAX], uint64_t *keys, size_t max)
{
	struct space *s = slot_for(u, pid);
	struct walk w = {s, frames, keys, max, 0, 0};
	uint64_t ip = snap->regs[MW_REG_IP];
	int r;

	if (max == 0)
		return 0;
	/* A new module since the last build (dlopen, exec): describe the process again. */
	if (!s->dwfl || (s->live && !dwfl_addrmodule(s->dwfl, ip))) {
		if (s->dwfl && !s->live)
			return -ESRCH;
		r = space_build(s, pid, NULL);
		if (r < 0)
			return r;
	}
	s->last_use = ++u->clock;
	if (!s->attached) {
		if (!dwfl_attach_state(s->dwfl, NULL, pid, &thread_callbacks, s))
			return -ENOEXEC;
		s->attached = true;
	}
	s->snap = snap;
	dwfl_getthread_frames(s->dwfl, pid, frame_cb, &w);
	s->snap = NULL;
	if (w.n == 0) {
		keys[0] = mw_symbolize_pc(s->dwfl, ip, frames[0], MW_FRAME_MAX);
		w.n = 1;
	}
	return (int)w.n;
}
