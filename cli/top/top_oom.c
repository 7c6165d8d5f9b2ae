/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OOM view: the kills `memwatch oom` lists (its history, so the two
 * agree with or without eBPF), the kernel's own ranking (oom_score) of the
 * processes now, and the forecast.
 */
#include "top_ui.h"

#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <stdlib.h>
#include <string.h>

static int by_score(const void *a, const void *b)
{
	const struct top_row *x = *(const struct top_row *const *)a;
	const struct top_row *y = *(const struct top_row *const *)b;

	if (x->m[MW_PM_oom_score] != y->m[MW_PM_oom_score])
		return x->m[MW_PM_oom_score] < y->m[MW_PM_oom_score] ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int ranking(struct top_ui *u, int y)
{
	struct top_model *m = u->m;
	struct top_row **v = calloc(m->n ? m->n : 1, sizeof(*v));
	char line[2048], cell[6][256];
	size_t n = 0;

	if (!v)
		return y;
	for (size_t i = 0; i < m->n; i++)
		if (m->rows[i].m[MW_PM_oom_score] != MW_UNKNOWN)
			v[n++] = &m->rows[i];
	mw_qsort(v, n, sizeof(*v), by_score);
	top_put(y++, 0, COLS, "Next victims by the kernel's badness (oom_score), now",
	        A_BOLD | A_UNDERLINE);
	snprintf(line, sizeof(line), "%7s %5s %5s %8s %9s  %s", "PID", "SCORE", "ADJ", "RSS",
	         "GROW/m", "COMMAND");
	top_hline(y, top_attr(u, CP_TITLE, A_REVERSE));
	top_put(y++, 0, COLS, line, top_attr(u, CP_TITLE, A_REVERSE));
	for (size_t i = 0; i < n && y < LINES - 1; i++) {
		top_cell(v[i], TC_PID, u->utf8, cell[0], 256);
		top_cell(v[i], TC_OOM, u->utf8, cell[1], 256);
		top_cell(v[i], TC_OOMADJ, u->utf8, cell[2], 256);
		top_cell(v[i], TC_RSS, u->utf8, cell[3], 256);
		top_cell(v[i], TC_GROWTH, u->utf8, cell[4], 256);
		mw_escape_term(v[i]->comm, strlen(v[i]->comm), cell[5], 256, u->utf8);
		snprintf(line, sizeof(line), "%7s %5s %5s %8s %9s  %s", cell[0], cell[1], cell[2],
		         cell[3], cell[4], cell[5]);
		top_put(y++, 0, COLS, line, i == 0 ? A_BOLD : 0);
		if (i >= 9)
			break;
	}
	free(v);
	return y + 1;
}

void top_oom_draw(struct top_ui *u, int y0)
{
	struct top_text t = {0};
	char why[128];
	int y = y0, rc;

	rc = top_src_oom_history(u->m, &t);
	y = top_text_block(u, y, "OOM kills in the last hour (recorded by memwatchd)", rc, &t,
	                   top_why(rc, "kill history needs a database recorded by memwatchd", NULL,
	                           "kill history", why, sizeof(why)));
	top_text_free(&t);
	y = ranking(u, y);
	rc = top_src_oom_forecast(u->m, &t);
	top_text_block(
	        u, y, "Forecast: who is killed first, and when, at current rates", rc, &t,
	        top_why(rc, NULL, "forecast needs a system sample", "forecast", why, sizeof(why)));
	top_text_free(&t);
}
