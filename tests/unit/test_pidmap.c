/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The (pid, start) map against a brute-force reference, through growth and deletions. */
#include "check.h"
#include "memwatch/base/pidmap.h"

#define N 5000

struct val {
	int64_t x;
};

static bool keep_even(void *value, void *ctx)
{
	(void)ctx;
	return ((struct val *)value)->x % 2 == 0;
}

int main(void)
{
	static int64_t ref[N]; /* 0 = absent, else value */
	struct mw_pidmap *m = NULL;
	unsigned seed = 1;

	CHECK_EQ_I64(mw_pidmap_new(sizeof(struct val), &m), 0);
	for (int round = 0; round < 200000; round++) {
		int k;
		bool created;
		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 8) % N);
		/* Same pid, different start: distinct identities. */
		pid_t pid = k / 2 + 1;
		uint64_t start = (uint64_t)(k % 2) * 1000003u;
		switch ((seed >> 4) % 3) {
		case 0: {
			struct val *v = mw_pidmap_put(m, pid, start, &created);
			CHECK(v != NULL);
			CHECK(created == (ref[k] == 0));
			v->x = round + 1;
			ref[k] = round + 1;
			break;
		}
		case 1:
			CHECK(mw_pidmap_del(m, pid, start) == (ref[k] != 0));
			ref[k] = 0;
			break;
		default: {
			struct val *v = mw_pidmap_get(m, pid, start);
			CHECK((v != NULL) == (ref[k] != 0));
			if (v)
				CHECK_EQ_I64(v->x, ref[k]);
		}
		}
	}
	{
		size_t pos = 0, seen = 0, expect = 0;
		pid_t pid;
		uint64_t start;
		struct val *v;
		for (int k = 0; k < N; k++)
			expect += ref[k] != 0;
		while ((v = mw_pidmap_next(m, &pos, &pid, &start))) {
			int k = (pid - 1) * 2 + (start ? 1 : 0);
			CHECK_EQ_I64(v->x, ref[k]);
			seen++;
		}
		CHECK_EQ_I64(seen, expect);
		CHECK_EQ_I64(mw_pidmap_size(m), expect);
	}
	/* Prune the odd values: exactly the even ones stay, every one still found. */
	{
		size_t expect = 0;
		CHECK_EQ_I64(mw_pidmap_prune(m, keep_even, NULL), 0);
		for (int k = 0; k < N; k++) {
			struct val *v = mw_pidmap_get(m, k / 2 + 1, (uint64_t)(k % 2) * 1000003u);
			bool kept = ref[k] != 0 && ref[k] % 2 == 0;
			CHECK((v != NULL) == kept);
			expect += kept;
		}
		CHECK_EQ_I64(mw_pidmap_size(m), expect);
	}
	mw_pidmap_free(m);
	return check_done();
}
