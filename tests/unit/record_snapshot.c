/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records one stack snapshot of a process at mmap:vm_unmapped_area, the
 * way memwatchd takes them, for tests/test_unwind.c:
 *
 *   record_snapshot PID OUTDIR
 *
 * writes OUTDIR/snapshot.bin ("MWSNAP01", 17 u64 registers in DWARF
 * order, u64 stack length, the stack bytes) and OUTDIR/maps.txt (the
 * process's maps at that moment). Not run by the test suite.
 */
#include "memwatch/collect/perfev.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

struct rec {
	const char *dir;
	bool done;
};

static void on_sample(void *arg, const struct mw_perf_sample *s)
{
	struct rec *r = arg;
	char path[4096];
	FILE *f;
	uint64_t len = s->stack_len;

	if (r->done || !s->has_regs)
		return;
	snprintf(path, sizeof(path), "%s/snapshot.bin", r->dir);
	f = fopen(path, "we");
	if (!f)
		return;
	fwrite("MWSNAP01", 1, 8, f);
	fwrite(s->regs, sizeof(s->regs[0]), MW_NREGS, f);
	fwrite(&len, sizeof(len), 1, f);
	fwrite(s->stack, 1, len, f);
	fclose(f);
	r->done = true;
}

int main(int argc, char **argv)
{
	struct mw_perfev_options o = {.type = PERF_TYPE_TRACEPOINT,
	                              .cpu = -1,
	                              .sample = true,
	                              .period = 1,
	                              .stack_bytes = 4096,
	                              .raw = true,
	                              .ring_pages = 16};
	struct rec r = {0};
	struct mw_perfev *e;
	char src[64], dst[4096], *maps = NULL;
	int64_t pid;
	size_t len;
	FILE *f;

	if (argc != 3 || mw_parse_i64(argv[1], &pid) < 0) {
		fprintf(stderr, "usage: record_snapshot PID OUTDIR\n");
		return 2;
	}
	r.dir = argv[2];
	if (mw_tracepoint_id("mmap", "vm_unmapped_area", &o.config) < 0)
		return 1;
	o.pid = (pid_t)pid;
	if (mw_perfev_open(&o, &e) < 0) {
		perror("perf_event_open");
		return 1;
	}
	for (int i = 0; i < 100 && !r.done; i++) {
		struct pollfd p = {.fd = mw_perfev_fd(e), .events = POLLIN};
		poll(&p, 1, 100);
		mw_perfev_drain(e, on_sample, &r, NULL, NULL);
		if (r.done) {
			/* the maps right after the event: the mapping it made is there too */
			snprintf(src, sizeof(src), "/proc/%d/maps", (int)pid);
			if (mw_read_file_alloc(src, &maps, &len) < 0)
				return 1;
			snprintf(dst, sizeof(dst), "%s/maps.txt", r.dir);
			f = fopen(dst, "we");
			if (!f)
				return 1;
			fwrite(maps, 1, len, f);
			fclose(f);
			free(maps);
		}
	}
	mw_perfev_close(e);
	return r.done ? 0 : 1;
}
