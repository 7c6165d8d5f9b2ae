/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top --batch: the process view as plain text, like top -b, for
 * logs and tests. Every column, not truncated; strings escaped as in the TUI.
 */
#include "top.h"

#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void print_header(FILE *f, struct top_model *m, enum top_col sort)
{
	char when[32], win[32], first[32];

	mw_fmt_time(when, sizeof(when), (uint64_t)m->now_ms * 1000000ull);
	mw_fmt_duration(win, sizeof(win), (uint64_t)m->window_ms * 1000000ull);
	if (m->src == TOP_FROM_STORE) {
		fprintf(f, "memwatch top - %s - %s - %s (from %s), %s%s\n", m->host, when,
		        m->opt.db_path, m->opt.db_from ? m->opt.db_from : "?",
		        m->recording ? "memwatchd recording" : "memwatchd not recording",
		        m->at_ms ? " (replay)" : "");
	} else {
		mw_fmt_time(first, sizeof(first), (uint64_t)m->first_ms * 1000000ull);
		fprintf(f,
		        "memwatch top - %s - %s - embedded sampling: no daemon, history starts "
		        "%s\n",
		        m->host, when, first);
	}
	fprintf(f, "Processes: %zu, growth window %s, sorted by %s\n", m->n, win,
	        top_cols[sort].title);
	if (m->oom_ms && m->now_ms - m->oom_ms < TOP_OOM_HOLD_MS) {
		mw_fmt_time(when, sizeof(when), (uint64_t)m->oom_ms * 1000000ull);
		fprintf(f, "OOM KILL at %s\n", when);
	}
	fputc('\n', f);
}

void top_batch_print(FILE *f, struct top_model *m, enum top_col sort, bool invert,
                     const char *filter)
{
	char cell[1024];

	for (size_t i = 0; i < m->n; i++)
		top_model_lazy(m, &m->rows[i], false);
	top_sort(m->rows, m->n, sort, invert);
	print_header(f, m, sort);
	for (int c = 0; c < TC_COUNT; c++) {
		if (c == TC_SPARK)
			continue;
		if (c == TC_COMMAND)
			fputs(top_cols[c].title, f);
		else if (top_cols[c].left)
			fprintf(f, "%-*s ", top_cols[c].width, top_cols[c].title);
		else
			fprintf(f, "%*s ", top_cols[c].width, top_cols[c].title);
	}
	fputc('\n', f);
	for (size_t i = 0; i < m->n; i++) {
		const struct top_row *r = &m->rows[i];

		if (!top_row_matches(r, filter))
			continue;
		for (int c = 0; c < TC_COUNT; c++) {
			if (c == TC_SPARK)
				continue;
			top_cell(r, (enum top_col)c, m->opt.utf8, cell, sizeof(cell));
			if (c == TC_COMMAND)
				fputs(cell, f);
			else if (top_cols[c].left)
				fprintf(f, "%-*s ", top_cols[c].width, cell);
			else
				fprintf(f, "%*s ", top_cols[c].width, cell);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
	fflush(f);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * --bench-refreshes N: refresh N times back to back (no sleep, no output
 * but the figures), as the TUI does for a 40-row screen, so
 * bench/top_refresh can read the CPU per refresh.
 */
/* One refresh as the TUI does it: model, sort, the lookups for a 40-row screen. */
static int screen_refresh(struct top_model *m)
{
	int r = top_model_refresh(m);

	top_sort(m->rows, m->n, TC_GROWTH, false);
	for (size_t k = 0; r == 0 && k < m->n && k < 40; k++)
		top_model_lazy(m, &m->rows[k], true);
	return r;
}

static int bench(struct top_model *m)
{
	double c0, c1, c2;
	int r = top_model_refresh(m);

	if (r < 0)
		return r;
	/* The first screen computes every per-row lookup; later ones reuse them (TTL). */
	c0 = cpu_s();
	r = screen_refresh(m);
	c1 = cpu_s();
	for (int i = 0; i < m->opt.bench_refreshes && r == 0; i++)
		r = screen_refresh(m);
	c2 = cpu_s();
	printf("source %s\nprocesses %zu\nrefreshes %d\ncpu_ms_first_screen %.3f\n"
	       "cpu_ms_per_refresh %.3f\n",
	       m->src == TOP_FROM_STORE ? "store" : "embedded", m->n, m->opt.bench_refreshes,
	       (c1 - c0) * 1000.0, (c2 - c1) * 1000.0 / m->opt.bench_refreshes);
	return r;
}

int top_batch_run(struct top_model *m)
{
	int col = m->opt.sort ? top_col_by_key(m->opt.sort) : TC_GROWTH;
	int r;

	if (m->opt.bench_refreshes)
		return bench(m);
	for (int i = 0; m->opt.iterations == 0 || i < m->opt.iterations; i++) {
		if (i)
			sleep_ns(m->opt.delay_ns);
		r = top_model_refresh(m);
		if (r < 0)
			return r;
		top_batch_print(stdout, m, (enum top_col)col, false, m->opt.filter);
	}
	return 0;
}
