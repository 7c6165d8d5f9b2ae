/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/base/pidmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing, linear probing, backward-shift deletion: no tombstones to age. */
struct slot {
	uint64_t start;
	int32_t pid;
	uint32_t used;
	/* value follows, aligned to 8 */
};

struct mw_pidmap {
	unsigned char *slots;
	size_t cap; /* power of two */
	size_t n;
	size_t value_size;
	size_t stride;
};

static struct slot *slot_at(const struct mw_pidmap *m, size_t i)
{
	return (struct slot *)(m->slots + i * m->stride);
}

static size_t hash(pid_t pid, uint64_t start)
{
	uint64_t h = ((uint64_t)(uint32_t)pid << 32) ^ start;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h;
}

int mw_pidmap_new(size_t value_size, struct mw_pidmap **out)
{
	struct mw_pidmap *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->value_size = value_size;
	m->stride = (sizeof(struct slot) + value_size + 7) & ~(size_t)7;
	m->cap = 64;
	m->slots = calloc(m->cap, m->stride);
	if (!m->slots) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void mw_pidmap_free(struct mw_pidmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

size_t mw_pidmap_size(const struct mw_pidmap *m)
{
	return m->n;
}

static size_t find(const struct mw_pidmap *m, pid_t pid, uint64_t start, bool *found)
{
	size_t i = hash(pid, start) & (m->cap - 1);

	for (;;) {
		struct slot *s = slot_at(m, i);
		if (!s->used) {
			*found = false;
			return i;
		}
		if (s->pid == pid && s->start == start) {
			*found = true;
			return i;
		}
		i = (i + 1) & (m->cap - 1);
	}
}

void *mw_pidmap_get(struct mw_pidmap *m, pid_t pid, uint64_t start)
{
	bool found;
	size_t i = find(m, pid, start, &found);

	return found ? (void *)(slot_at(m, i) + 1) : NULL;
}

static int grow(struct mw_pidmap *m)
{
	struct mw_pidmap old = *m;

	m->cap *= 2;
	m->slots = calloc(m->cap, m->stride);
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		struct slot *s = slot_at(&old, i);
		bool found;
		size_t j;

		if (!s->used)
			continue;
		j = find(m, s->pid, s->start, &found);
		memcpy(slot_at(m, j), s, m->stride);
		m->n++;
	}
	free(old.slots);
	return 0;
}

void *mw_pidmap_put(struct mw_pidmap *m, pid_t pid, uint64_t start, bool *created)
{
	bool found;
	size_t i;
	struct slot *s;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return NULL;
	i = find(m, pid, start, &found);
	s = slot_at(m, i);
	if (created)
		*created = !found;
	if (!found) {
		memset(s, 0, m->stride);
		s->pid = pid;
		s->start = start;
		s->used = 1;
		m->n++;
	}
	return s + 1;
}

static void remove_at(struct mw_pidmap *m, size_t i)
{
	size_t j = i;

	slot_at(m, i)->used = 0;
	m->n--;
	/* Shift later members of the probe run back so lookups still find them. */
	for (;;) {
		struct slot *s;
		size_t home;

		j = (j + 1) & (m->cap - 1);
		s = slot_at(m, j);
		if (!s->used)
			return;
		home = hash(s->pid, s->start) & (m->cap - 1);
		/* Leave s where it is if its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			memcpy(slot_at(m, i), s, m->stride);
			s->used = 0;
			i = j;
		}
	}
}

bool mw_pidmap_del(struct mw_pidmap *m, pid_t pid, uint64_t start)
{
	bool found;
	size_t i = find(m, pid, start, &found);

	if (found)
		remove_at(m, i);
	return found;
}

void *mw_pidmap_next(struct mw_pidmap *m, size_t *pos, pid_t *pid, uint64_t *start)
{
	while (*pos < m->cap) {
		struct slot *s = slot_at(m, (*pos)++);
		if (!s->used)
			continue;
		if (pid)
			*pid = s->pid;
		if (start)
			*start = s->start;
		return s + 1;
	}
	return NULL;
}

int mw_pidmap_prune(struct mw_pidmap *m, mw_pidmap_keep_fn keep, void *ctx)
{
	struct key {
		pid_t pid;
		uint64_t start;
	} * gone;
	size_t pos = 0, n = 0;
	uint64_t start;
	pid_t pid;
	void *v;

	if (!m->n)
		return 0;
	/* Keys first: deleting while iterating shifts entries under the cursor. */
	gone = malloc(m->n * sizeof(*gone));
	if (!gone)
		return -ENOMEM;
	while ((v = mw_pidmap_next(m, &pos, &pid, &start)))
		if (!keep(v, ctx))
			gone[n++] = (struct key){pid, start};
	for (size_t i = 0; i < n; i++)
		mw_pidmap_del(m, gone[i].pid, gone[i].start);
	free(gone);
	return 0;
}
