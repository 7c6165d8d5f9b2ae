/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process-view columns: titles, widths, cell text, ordering, filtering, grouping. */
#include "top.h"

#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Priority: what survives on a narrow terminal (0 always; higher goes first). */
const struct top_col_def top_cols[TC_COUNT] = {
        [TC_PID] = {"PID", "pid", 7, false, 0},
        [TC_USER] = {"USER", "user", 8, true, 0},
        [TC_RSS] = {"RSS", "rss", 7, false, 0},
        [TC_GROWTH] = {"GROW/m", "growth", 8, false, 0},
        [TC_VSZ] = {"VSZ", "vsz", 7, false, 2},
        [TC_HEAP] = {"HEAP", "heap", 6, false, 3},
        [TC_STACK] = {"STACK", "stack", 6, false, 5},
        [TC_TSTACK] = {"TSTK", "tstack", 6, false, 3},
        [TC_ANON] = {"ANON", "anon", 6, false, 3},
        [TC_FILE] = {"FILE", "file", 6, false, 4},
        [TC_SHM] = {"SHM", "shm", 6, false, 4},
        [TC_SWAP] = {"SWAP", "swap", 6, false, 4},
        [TC_THREADS] = {"THR", "threads", 4, false, 5},
        [TC_FDS] = {"FDS", "fds", 5, false, 5},
        [TC_MINFLT] = {"MINF/s", "minflt", 6, false, 6},
        [TC_MAJFLT] = {"MAJF/s", "majflt", 6, false, 6},
        [TC_OOM] = {"OOM", "oom", 4, false, 6},
        [TC_OOMADJ] = {"ADJ", "oomadj", 5, false, 7},
        /* smaps, slow tier: only on the widest terminals, or when sorted by. */
        [TC_PSS] = {"PSS", "pss", 6, false, 8},
        [TC_USS] = {"USS", "uss", 6, false, 8},
        [TC_HYP] = {"HYP", "hyp", 7, true, 1},
        [TC_SPARK] = {"RSS HISTORY", "history", 12, true, 1},
        [TC_COMMAND] = {"COMMAND", "command", 0, true, 0},
};

int top_col_by_key(const char *key)
{
	for (int c = 0; c < TC_COUNT; c++)
		if (strcasecmp(key, top_cols[c].key) == 0 ||
		    strcasecmp(key, top_cols[c].title) == 0)
			return c;
	return -1;
}

bool top_col_lazy(enum top_col c)
{
	return c == TC_HEAP || c == TC_TSTACK || c == TC_ANON || c == TC_PSS || c == TC_USS ||
	       c == TC_HYP;
}

/* htop-style compact sizes: 980K, 12.3M, 123M, 1.50G. */
static void fmt_size(char *buf, size_t cap, double v, bool sign)
{
	static const char units[] = "KMGTP";
	double a = fabs(v) / 1024.0;
	const char *sg = v < 0 ? "-" : sign && v > 0 ? "+" : "";
	int u = 0;

	if (v == 0) {
		snprintf(buf, cap, "0");
		return;
	}
	while (a >= 1000.0 && u < 4) {
		a /= 1024.0;
		u++;
	}
	if (a < 10 && u > 0)
		snprintf(buf, cap, "%s%.2f%c", sg, a, units[u]);
	else if (a < 100 && u > 0)
		snprintf(buf, cap, "%s%.1f%c", sg, a, units[u]);
	else
		snprintf(buf, cap, "%s%.0f%c", sg, a, units[u]);
}

static void fmt_bytes(char *buf, size_t cap, int64_t v)
{
	if (v == MW_UNKNOWN)
		snprintf(buf, cap, "-");
	else
		fmt_size(buf, cap, (double)v, false);
}

static void fmt_count(char *buf, size_t cap, int64_t v)
{
	if (v == MW_UNKNOWN)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%lld", (long long)v);
}

static void fmt_rate(char *buf, size_t cap, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (v >= 9999.5)
		snprintf(buf, cap, "%.0fk", v / 1000.0);
	else if (v >= 10 || v == 0)
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.1f", v);
}

void top_cell(const struct top_row *r, enum top_col c, bool utf8, char *buf, size_t cap)
{
	switch (c) {
	case TC_PID:
		snprintf(buf, cap, "%d", (int)r->pid);
		break;
	case TC_USER:
		mw_escape_term(r->user, strlen(r->user), buf, cap, utf8);
		break;
	case TC_RSS:
		fmt_bytes(buf, cap, r->m[MW_PM_rss]);
		break;
	case TC_GROWTH:
		if (isnan(r->growth))
			snprintf(buf, cap, "-");
		else
			fmt_size(buf, cap, r->growth, true);
		break;
	case TC_VSZ:
		fmt_bytes(buf, cap, r->m[MW_PM_vsz]);
		break;
	case TC_HEAP:
		fmt_bytes(buf, cap, r->reg[TOP_REG_HEAP]);
		break;
	case TC_STACK:
		fmt_bytes(buf, cap, r->m[MW_PM_stack]);
		break;
	case TC_TSTACK:
		fmt_bytes(buf, cap, r->reg[TOP_REG_TSTACK]);
		break;
	case TC_ANON:
		fmt_bytes(buf, cap, r->reg[TOP_REG_ANON]);
		break;
	case TC_FILE:
		fmt_bytes(buf, cap, r->m[MW_PM_rss_file]);
		break;
	case TC_SHM:
		fmt_bytes(buf, cap, r->m[MW_PM_rss_shmem]);
		break;
	case TC_SWAP:
		fmt_bytes(buf, cap, r->m[MW_PM_swap]);
		break;
	case TC_THREADS:
		fmt_count(buf, cap, r->m[MW_PM_threads]);
		break;
	case TC_FDS:
		fmt_count(buf, cap, r->m[MW_PM_fds]);
		break;
	case TC_MINFLT:
		fmt_rate(buf, cap, r->minflt_s);
		break;
	case TC_MAJFLT:
		fmt_rate(buf, cap, r->majflt_s);
		break;
	case TC_OOM:
		fmt_count(buf, cap, r->m[MW_PM_oom_score]);
		break;
	case TC_OOMADJ:
		fmt_count(buf, cap, r->m[MW_PM_oom_adj]);
		break;
	case TC_PSS:
		fmt_bytes(buf, cap, r->reg[TOP_REG_PSS]);
		break;
	case TC_USS:
		fmt_bytes(buf, cap, r->reg[TOP_REG_USS]);
		break;
	case TC_HYP:
		/* "-": no hypothesis source; blank: analysed, nothing scored. */
		snprintf(buf, cap, "%s", r->tag[0] ? r->tag : r->tag_known ? "" : "-");
		break;
	case TC_SPARK:
		top_sparkline(r->spark, r->spark_done ? r->nspark : 0, top_cols[TC_SPARK].width,
		              utf8, buf, cap);
		break;
	case TC_COMMAND: {
		/* The command line when there is one (names can be spoofed, argv rarely both). */
		const char *s = r->cmdline && *r->cmdline ? r->cmdline : r->comm;
		size_t o;

		if (r->is_group) {
			o = (size_t)snprintf(buf, cap, "[%d] ", r->members);
			mw_escape_term(r->group, strlen(r->group), buf + o, cap - o, utf8);
			break;
		}
		o = mw_escape_term(r->comm, strlen(r->comm), buf, cap, utf8);
		if (s != r->comm && o + 2 < cap) {
			buf[o++] = ':';
			buf[o++] = ' ';
			mw_escape_term(s, strlen(s), buf + o, cap - o, utf8);
		}
		break;
	}
	default:
		buf[0] = '\0';
	}
}

/* A numeric sort key; NAN for unknown (always last). */
static double num_key(const struct top_row *r, enum top_col c)
{
	static const int metric[TC_COUNT] = {
	        [TC_RSS] = MW_PM_rss + 1,         [TC_VSZ] = MW_PM_vsz + 1,
	        [TC_STACK] = MW_PM_stack + 1,     [TC_FILE] = MW_PM_rss_file + 1,
	        [TC_SHM] = MW_PM_rss_shmem + 1,   [TC_SWAP] = MW_PM_swap + 1,
	        [TC_THREADS] = MW_PM_threads + 1, [TC_FDS] = MW_PM_fds + 1,
	        [TC_OOM] = MW_PM_oom_score + 1,   [TC_OOMADJ] = MW_PM_oom_adj + 1,
	};
	int64_t v;

	switch (c) {
	case TC_GROWTH:
		return r->growth;
	case TC_MINFLT:
		return r->minflt_s;
	case TC_MAJFLT:
		return r->majflt_s;
	case TC_HEAP:
		v = r->reg[TOP_REG_HEAP];
		break;
	case TC_TSTACK:
		v = r->reg[TOP_REG_TSTACK];
		break;
	case TC_ANON:
		v = r->reg[TOP_REG_ANON];
		break;
	case TC_PSS:
		v = r->reg[TOP_REG_PSS];
		break;
	case TC_USS:
		v = r->reg[TOP_REG_USS];
		break;
	case TC_SPARK:
		return r->growth;
	default:
		if (!metric[c])
			return NAN;
		v = r->m[metric[c] - 1];
	}
	return v == MW_UNKNOWN ? NAN : (double)v;
}

struct sort_ctx {
	enum top_col col;
	bool invert;
};

static int cmp_rows(const struct top_row *a, const struct top_row *b, const struct sort_ctx *s)
{
	int d = 0;

	switch (s->col) {
	case TC_PID:
		break;
	case TC_USER:
		d = strcmp(a->user, b->user);
		break;
	case TC_COMMAND:
		d = strcmp(a->is_group ? a->group : a->comm, b->is_group ? b->group : b->comm);
		break;
	case TC_HYP:
		/* Processes with a hypothesis first, then by name of the tag. */
		d = (a->tag[0] == 0) - (b->tag[0] == 0);
		if (!d)
			d = strcmp(a->tag, b->tag);
		if (!d) {
			double x = a->growth, y = b->growth;
			d = isnan(x) ? (isnan(y) ? 0 : 1) : isnan(y) ? -1 : (x < y) - (x > y);
		}
		break;
	default: {
		double x = num_key(a, s->col), y = num_key(b, s->col);
		/* Unknown sorts last whichever the direction. */
		if (isnan(x) || isnan(y))
			return isnan(x) && isnan(y) ? (a->pid > b->pid) - (a->pid < b->pid)
			       : isnan(x)           ? 1
			                            : -1;
		d = (x < y) - (x > y); /* descending */
	}
	}
	if (s->invert)
		d = -d;
	if (!d)
		d = (a->pid > b->pid) - (a->pid < b->pid);
	return d;
}

static int cmp_thunk(const void *a, const void *b, void *ctx)
{
	return cmp_rows(a, b, ctx);
}

void top_sort(struct top_row *rows, size_t n, enum top_col c, bool invert)
{
	struct sort_ctx s = {c, invert};

	qsort_r(rows, n, sizeof(*rows), cmp_thunk, &s);
}

static bool contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

bool top_row_matches(const struct top_row *r, const char *filter)
{
	if (!filter || !*filter)
		return true;
	return contains_ci(r->comm, filter) || contains_ci(r->cmdline, filter) ||
	       contains_ci(r->user, filter) || (r->is_group && contains_ci(r->group, filter));
}

static void add_metric(int64_t *acc, int64_t v)
{
	if (v == MW_UNKNOWN)
		return;
	*acc = *acc == MW_UNKNOWN ? v : *acc + v;
}

static void add_rate(double *acc, double v)
{
	if (isnan(v))
		return;
	*acc = isnan(*acc) ? v : *acc + v;
}

static void group_init(struct top_row *g, const struct top_row *r)
{
	memset(g, 0, sizeof(*g));
	g->is_group = true;
	g->pid = r->pid;
	g->uid = r->uid;
	memcpy(g->user, r->user, sizeof(g->user));
	memcpy(g->group, r->group, sizeof(g->group));
	mw_strlcpy(g->comm, r->group, sizeof(g->comm));
	for (int i = 0; i < MW_PM_COUNT; i++)
		g->m[i] = MW_UNKNOWN;
	for (int i = 0; i < TOP_REG_COUNT; i++)
		g->reg[i] = MW_UNKNOWN;
	g->growth = g->minflt_s = g->majflt_s = NAN;
}

/* Sum what adds up (sizes, counts, rates); OOM score is the group's maximum. */
static void group_add(struct top_row *g, const struct top_row *r)
{
	for (int i = 0; i < MW_PM_COUNT; i++) {
		if (i == MW_PM_oom_score || i == MW_PM_oom_adj) {
			if (r->m[i] != MW_UNKNOWN && (g->m[i] == MW_UNKNOWN || r->m[i] > g->m[i]))
				g->m[i] = r->m[i];
			continue;
		}
		add_metric(&g->m[i], r->m[i]);
	}
	for (int i = 0; i < TOP_REG_COUNT; i++)
		add_metric(&g->reg[i], r->reg[i]);
	add_rate(&g->growth, r->growth);
	add_rate(&g->minflt_s, r->minflt_s);
	add_rate(&g->majflt_s, r->majflt_s);
	if (r->pid < g->pid)
		g->pid = r->pid;
	g->members++;
}

int top_group(const struct top_row *rows, size_t n, struct top_row **out, size_t *nout)
{
	struct top_row *g = calloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;

	if (!g)
		return -ENOMEM;
	/* Quadratic in the number of groups, which is small (services on a host). */
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < ng && strcmp(g[k].group, rows[i].group) != 0)
			k++;
		if (k == ng)
			group_init(&g[ng++], &rows[i]);
		group_add(&g[k], &rows[i]);
	}
	*out = g;
	*nout = ng;
	return 0;
}
