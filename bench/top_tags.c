/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cost of mw_top_hypothesis_tag (what memwatch top calls per process):
 * every process of a store, once, at the store's last tick. Prints the
 * total and per-process time and how many processes got a tag.
 *
 * Usage: top_tags DB
 */
#include "memwatch/analyse/analysis.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct mw_store *st = NULL;
	struct mw_store_stats ss;
	int64_t n = 0, tagged = 0;
	uint64_t t0, t1;
	char tag[16];

	if (argc != 2) {
		fprintf(stderr, "usage: top_tags DB\n");
		return 2;
	}
	if (mw_store_open_reader(argv[1], &st) < 0 || mw_store_stats(st, &ss) < 0) {
		fprintf(stderr, "top_tags: cannot read %s\n", argv[1]);
		mw_store_close(st);
		return 1;
	}
	t0 = mw_mono_ns();
	for (int64_t id = 1; id <= ss.procs; id++, n++) {
		if (mw_top_hypothesis_tag(st, id, ss.last_tick_ms, tag, sizeof(tag), NULL) < 0)
			break;
		tagged += tag[0] != '\0';
	}
	t1 = mw_mono_ns();
	printf("top tags: %lld processes in %.1f ms (%.3f ms each), %lld tagged\n", (long long)n,
	       (double)(t1 - t0) / 1e6, (double)(t1 - t0) / 1e6 / (double)(n ? n : 1),
	       (long long)tagged);
	mw_store_close(st);
	return 0;
}
