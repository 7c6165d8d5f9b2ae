/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/perfev.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#define TRACEFS "/sys/kernel/tracing"

/* perf's x86 register numbers, in the order a sample lists them for our mask. */
enum { PR_AX, PR_BX, PR_CX, PR_DX, PR_SI, PR_DI, PR_BP, PR_SP, PR_IP, PR_R8 = 16 };
#define REGS_MASK (0x1ffull | (0xffull << PR_R8))
/* Sample position (bit order of REGS_MASK) -> DWARF register number. */
static const int perf_to_dwarf[MW_NREGS] = {
        0 /*ax*/, 3 /*bx*/, 2 /*cx*/, 1 /*dx*/, 4 /*si*/, 5 /*di*/, 6 /*bp*/, 7 /*sp*/, 16 /*ip*/,
        8,        9,        10,       11,       12,       13,       14,       15};

struct mw_perfev {
	int fd;
	void *base;
	size_t map_len, data_len;
	bool raw, regs_stack, period;
	uint8_t *scratch; /* a record that wraps around the ring end is copied here */
	size_t scratch_cap;
};

int mw_tracepoint_id(const char *group, const char *name, uint64_t *id)
{
	char path[512], buf[32];
	struct stat st;
	int r;

	if (stat(TRACEFS "/events", &st) < 0 && mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0 &&
	    errno != EBUSY)
		return -errno;
	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s/id", group, name);
	r = mw_read_file(path, buf, sizeof(buf), NULL);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return mw_parse_u64(buf, id);
}

int mw_uprobe_pmu_type(uint32_t *type)
{
	char buf[32];
	uint64_t v;
	int r = mw_read_file("/sys/bus/event_source/devices/uprobe/type", buf, sizeof(buf), NULL);

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	r = mw_parse_u64(buf, &v);
	if (r < 0)
		return r;
	*type = (uint32_t)v;
	return 0;
}

int mw_perfev_open(const struct mw_perfev_options *o, struct mw_perfev **out)
{
	struct perf_event_attr a = {0};
	struct mw_perfev *e;
	int r;

	a.size = sizeof(a);
	a.type = o->type;
	a.config = o->config;
	a.config1 = o->config1;
	a.config2 = o->config2;
	a.inherit = o->inherit;
	a.disabled = 1;
	a.exclude_kernel = o->type != PERF_TYPE_TRACEPOINT;
	a.exclude_hv = 1;
	if (o->sample) {
		a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
		if (o->freq) {
			a.freq = 1;
			a.sample_freq = o->freq;
			a.sample_type |= PERF_SAMPLE_PERIOD;
		} else {
			a.sample_period = o->period ? o->period : 1;
		}
		if (o->raw)
			a.sample_type |= PERF_SAMPLE_RAW;
		if (o->stack_bytes) {
			a.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
			a.sample_regs_user = REGS_MASK;
			a.sample_stack_user = o->stack_bytes;
		}
		a.use_clockid = 1;
		a.clockid = CLOCK_MONOTONIC;
		a.wakeup_events = o->wakeup_events ? o->wakeup_events : 1;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->raw = o->raw;
	e->period = o->sample && o->freq;
	e->regs_stack = o->stack_bytes > 0;
	e->fd = (int)syscall(SYS_perf_event_open, &a, o->pid, o->cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (e->fd < 0) {
		r = -errno;
		free(e);
		return r;
	}
	if (o->output_fd > 0 && o->sample) {
		/* Share another event's ring on the same cpu: one buffer and one fd to poll. */
		if (ioctl(e->fd, PERF_EVENT_IOC_SET_OUTPUT, o->output_fd) < 0) {
			r = -errno;
			mw_perfev_close(e);
			return r;
		}
	} else if (o->sample) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		uint32_t pages = o->ring_pages ? o->ring_pages : 8;

		if (pages & (pages - 1)) {
			mw_perfev_close(e);
			return -EINVAL;
		}
		e->data_len = pages * page;
		e->map_len = e->data_len + page;
		e->base = mmap(NULL, e->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
		if (e->base == MAP_FAILED) {
			r = -errno;
			e->base = NULL;
			mw_perfev_close(e);
			return r;
		}
	}
	if (o->filter && ioctl(e->fd, PERF_EVENT_IOC_SET_FILTER, o->filter) < 0) {
		r = -errno;
		mw_perfev_close(e);
		return r;
	}
	if (ioctl(e->fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		r = -errno;
		mw_perfev_close(e);
		return r;
	}
	*out = e;
	return 0;
}

void mw_perfev_close(struct mw_perfev *e)
{
	if (!e)
		return;
	if (e->fd >= 0)
		ioctl(e->fd, PERF_EVENT_IOC_DISABLE, 0);
	if (e->base)
		munmap(e->base, e->map_len);
	if (e->fd >= 0)
		close(e->fd);
	free(e->scratch);
	free(e);
}

int mw_perfev_fd(const struct mw_perfev *e)
{
	return e->fd;
}

int mw_perfev_read_count(struct mw_perfev *e, uint64_t *out)
{
	uint64_t v;

	if (read(e->fd, &v, sizeof(v)) != sizeof(v))
		return errno ? -errno : -EIO;
	*out = v;
	return 0;
}

struct cursor {
	const uint8_t *p, *end;
};

static int take(struct cursor *c, void *dst, size_t n)
{
	if ((size_t)(c->end - c->p) < n)
		return -EBADMSG;
	if (dst)
		memcpy(dst, c->p, n);
	c->p += n;
	return 0;
}

int mw_perf_parse_sample(const uint8_t *p, size_t len, bool period, bool raw, bool regs_stack,
                         struct mw_perf_sample *s)
{
	struct cursor c = {p, p + len};
	uint32_t ids[2];
	uint64_t v;

	memset(s, 0, sizeof(*s));
	if (take(&c, ids, sizeof(ids)) < 0 || take(&c, &s->time_ns, 8) < 0)
		return -EBADMSG;
	s->pid = (pid_t)ids[0];
	s->tid = (pid_t)ids[1];
	s->period = 1;
	if (period && take(&c, &s->period, 8) < 0)
		return -EBADMSG;
	if (raw) {
		if (take(&c, &s->raw_len, 4) < 0)
			return -EBADMSG;
		s->raw = c.p;
		if (take(&c, NULL, s->raw_len) < 0)
			return -EBADMSG;
	}
	if (!regs_stack)
		return 0;
	if (take(&c, &v, 8) < 0)
		return -EBADMSG;
	if (v != PERF_SAMPLE_REGS_ABI_NONE) {
		uint64_t r[MW_NREGS];
		if (take(&c, r, sizeof(r)) < 0)
			return -EBADMSG;
		for (int i = 0; i < MW_NREGS; i++)
			s->regs[perf_to_dwarf[i]] = r[i];
		s->has_regs = v == PERF_SAMPLE_REGS_ABI_64;
	}
	if (take(&c, &v, 8) < 0)
		return -EBADMSG;
	if (v) {
		const uint8_t *data = c.p;
		uint64_t dyn;
		if (take(&c, NULL, v) < 0 || take(&c, &dyn, 8) < 0)
			return -EBADMSG;
		s->stack = data;
		s->stack_len = dyn < v ? dyn : v;
	}
	return 0;
}

/* A pointer to n contiguous bytes at ring offset off, copying when the record wraps. */
static const uint8_t *ring_bytes(struct mw_perfev *e, uint64_t off, size_t n)
{
	const uint8_t *data = (const uint8_t *)e->base + (e->map_len - e->data_len);
	size_t at = off & (e->data_len - 1);

	if (at + n <= e->data_len)
		return data + at;
	if (n > e->scratch_cap) {
		uint8_t *p = realloc(e->scratch, n);
		if (!p)
			return NULL;
		e->scratch = p;
		e->scratch_cap = n;
	}
	memcpy(e->scratch, data + at, e->data_len - at);
	memcpy(e->scratch + (e->data_len - at), data, n - (e->data_len - at));
	return e->scratch;
}

int mw_perfev_drain(struct mw_perfev *e, mw_perf_sample_fn fn, void *arg, uint64_t *lost,
                    uint64_t *throttled)
{
	struct perf_event_mmap_page *meta = e->base;
	uint64_t head, tail;
	int r = 0;

	if (!meta)
		return -EINVAL;
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	tail = meta->data_tail;
	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		const uint8_t *rec = ring_bytes(e, tail, sizeof(h));

		if (!rec)
			return -ENOMEM;
		memcpy(&h, rec, sizeof(h));
		if (h.size < sizeof(h) || tail + h.size > head)
			break;
		rec = ring_bytes(e, tail, h.size);
		if (!rec) {
			r = -ENOMEM;
			break;
		}
		if (h.type == PERF_RECORD_SAMPLE) {
			struct mw_perf_sample s;
			if (mw_perf_parse_sample(rec + sizeof(h), h.size - sizeof(h), e->period,
			                         e->raw, e->regs_stack, &s) == 0)
				fn(arg, &s);
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			uint64_t n;
			memcpy(&n, rec + sizeof(h) + 8, 8);
			if (lost)
				*lost += n;
		} else if (h.type == PERF_RECORD_THROTTLE && throttled) {
			(*throttled)++;
		}
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return r;
}
