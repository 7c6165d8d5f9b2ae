/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process view: columns chosen to fit the width, one row per process or group. */
#include "top_ui.h"

#include "memwatch/base/util.h"

#include <math.h>
#include <string.h>

#define CMD_MIN 16

/*
 * Columns that fit: everything of priority <= p, with COMMAND getting at
 * least CMD_MIN; and the sort column whatever its priority, so sorting by
 * a column (PSS, USS on most terminals) is how to show it.
 */
static void pick_cols(bool show[TC_COUNT], enum top_col sort)
{
	int extra = top_cols[sort].width + 1;

	for (int p = 8; p >= 0; p--) {
		int w = 0;
		for (int c = 0; c < TC_COUNT; c++) {
			show[c] = top_cols[c].priority <= p;
			if (show[c] && c != TC_COMMAND)
				w += top_cols[c].width + 1;
		}
		if (!show[sort] && sort != TC_SPARK)
			w += extra;
		if (w + CMD_MIN <= COLS || p == 0)
			break;
	}
	if (sort != TC_SPARK)
		show[sort] = true;
}

static int growth_attr(const struct top_ui *u, const struct top_row *r)
{
	if (isnan(r->growth) || r->growth <= 0)
		return 0;
	/* More than 1 MiB a minute is what an operator should look at first. */
	return r->growth >= 1048576.0 ? top_attr(u, CP_GROW, A_BOLD) : top_attr(u, CP_WARM, 0);
}

static void draw_titles(struct top_ui *u, int y, const bool show[TC_COUNT])
{
	int x = 0;

	top_hline(y, top_attr(u, CP_TITLE, A_REVERSE));
	for (int c = 0; c < TC_COUNT && x < COLS; c++) {
		char t[32];
		int w = c == TC_COMMAND ? COLS - x : top_cols[c].width;
		int attr = top_attr(u, CP_TITLE, A_REVERSE);

		if (!show[c])
			continue;
		if (c == (int)u->sort)
			attr |= A_BOLD | A_UNDERLINE;
		if (top_cols[c].left)
			snprintf(t, sizeof(t), "%-*s", w < 31 ? w : 31, top_cols[c].title);
		else
			snprintf(t, sizeof(t), "%*s", w, top_cols[c].title);
		x += top_put(y, x, w, t, attr);
		if (c != TC_COMMAND)
			x += top_put(y, x, 1, " ", top_attr(u, CP_TITLE, A_REVERSE));
	}
}

static void draw_row(struct top_ui *u, int y, struct top_row *r, bool sel,
                     const bool show[TC_COUNT])
{
	char cell[2048], pad[64];
	int x = 0, base = sel ? top_attr(u, CP_SEL, A_REVERSE) : 0;

	top_model_lazy(u->m, r, show[TC_SPARK]);
	if (sel)
		top_hline(y, base);
	for (int c = 0; c < TC_COUNT && x < COLS; c++) {
		int w = c == TC_COMMAND ? COLS - x : top_cols[c].width, attr = base;

		if (!show[c])
			continue;
		top_cell(r, (enum top_col)c, u->utf8, cell, sizeof(cell));
		if (!sel && c == TC_GROWTH)
			attr = growth_attr(u, r);
		else if (!sel && strcmp(cell, "-") == 0)
			attr = top_attr(u, CP_DIM, 0);
		else if (!sel && c == TC_HYP)
			attr = top_attr(u, CP_GROW, A_BOLD);
		if (!top_cols[c].left) {
			int len = (int)strlen(cell); /* numbers: ASCII, one column per byte */
			if (len < w) {
				snprintf(pad, sizeof(pad), "%*s", w - len, "");
				top_put(y, x, w - len, pad, base);
			}
			top_put(y, x + (len < w ? w - len : 0), w, cell, attr);
		} else {
			top_put(y, x, w, cell, attr);
		}
		x += w;
		if (c != TC_COMMAND)
			x += 1;
	}
}

void top_procs_draw(struct top_ui *u, int y0)
{
	bool show[TC_COUNT];
	int rows = LINES - 1 - (y0 + 1);

	pick_cols(show, u->sort);
	draw_titles(u, y0, show);
	if (rows < 1)
		return;
	/* Scroll so the selection stays visible. */
	if (u->sel < u->first)
		u->first = u->sel;
	if (u->sel >= u->first + (size_t)rows)
		u->first = u->sel - (size_t)rows + 1;
	if (u->first > u->nvis)
		u->first = 0;
	for (int i = 0; i < rows && u->first + (size_t)i < u->nvis; i++)
		draw_row(u, y0 + 1 + i, u->vis[u->first + (size_t)i],
		         u->first + (size_t)i == u->sel, show);
	if (u->nvis == 0)
		top_put(y0 + 2, 2, COLS - 2,
		        u->filter[0] ? "no process matches the filter (F4 to change it)"
		                     : "no processes",
		        top_attr(u, CP_DIM, 0));
}
