/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch top's keys, htop's conventions; the help screen is drawn from the same table. */
#include "top_ui.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "memwatch/base/util.h"

const struct top_key_help top_key_help[] = {
        {"Up/Down, PgUp/PgDn, Home/End", "move the selection; scroll other views"},
        {"Enter", "detail view of the selected process"},
        {"Esc, Backspace", "back from detail or help"},
        {"Tab, Shift-Tab", "next / previous view"},
        {"1 2 3 4", "processes, system, IPC, OOM view"},
        {"F1, h, ?", "this help"},
        {"F3, /", "search name, command or user; jump to it"},
        {"n", "next search match"},
        {"F4, \\", "filter: only matching processes (empty: all)"},
        {"F5, t", "group by systemd service / cgroup (toggle)"},
        {"F6, >, .", "sort by the next column"},
        {"<, ,", "sort by the previous column"},
        {"I", "invert the sort order"},
        {"M, P, G", "sort by RSS, by PID, by growth"},
        {"w", "growth window: 1m, 5m, 15m, 1h"},
        {"[ ]", "replay: one tick back / forward (database)"},
        {"{ }", "replay: ten ticks back / forward"},
        {"L", "back to live (leave replay)"},
        {"Space", "pause / resume refreshing"},
        {"Ctrl-L", "redraw the screen"},
        {"F10, q", "quit"},
};
const size_t top_key_help_n = sizeof(top_key_help) / sizeof(top_key_help[0]);

static void move_sel(struct top_ui *u, long delta)
{
	long s = (long)u->sel + delta;

	if (u->view != TV_PROCS) {
		/* Views are a few screens long at most. */
		u->scroll += (int)delta;
		if (u->scroll < 0)
			u->scroll = 0;
		if (u->scroll > 300)
			u->scroll = 300;
		return;
	}
	if (s < 0)
		s = 0;
	if (s >= (long)u->nvis)
		s = u->nvis ? (long)u->nvis - 1 : 0;
	u->sel = (size_t)s;
	/* At the top, the view shows the leaders; elsewhere it follows the chosen process. */
	u->follow = s > 0;
	top_select_current(u);
}

static void set_sort(struct top_ui *u, int col)
{
	if (col == TC_SPARK)
		col = TC_GROWTH;
	u->sort = (enum top_col)col;
	top_select_current(u);
	top_rebuild(u);
}

static void cycle_sort(struct top_ui *u, int dir)
{
	int c = (int)u->sort;

	do
		c = (c + dir + TC_COUNT) % TC_COUNT;
	while (c == TC_SPARK);
	set_sort(u, c);
}

/* Jump to the next row (after the selection, wrapping) that matches the search text. */
static void search_next(struct top_ui *u, bool from_current)
{
	if (!u->search[0] || !u->nvis)
		return;
	for (size_t k = from_current ? 0 : 1; k <= u->nvis; k++) {
		size_t i = (u->sel + k) % u->nvis;
		if (top_row_matches(u->vis[i], u->search)) {
			u->sel = i;
			u->follow = true;
			top_select_current(u);
			return;
		}
	}
	snprintf(u->msg, sizeof(u->msg), "no process matches '%s'", u->search);
}

static void edit_key(struct top_ui *u, int ch)
{
	size_t len = strlen(u->edit);

	if (ch == 27) {
		u->input = TI_NONE;
		return;
	}
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		if (u->input == TI_FILTER) {
			snprintf(u->filter, sizeof(u->filter), "%s", u->edit);
			top_select_current(u);
			top_rebuild(u);
		}
		u->input = TI_NONE;
		return;
	}
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			u->edit[len - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(u->edit)) {
		u->edit[len] = (char)ch;
		u->edit[len + 1] = '\0';
	}
	/* Incremental, as in htop. */
	if (u->input == TI_SEARCH) {
		snprintf(u->search, sizeof(u->search), "%s", u->edit);
		search_next(u, true);
	} else {
		snprintf(u->filter, sizeof(u->filter), "%s", u->edit);
		top_select_current(u);
		top_rebuild(u);
	}
}

static void set_view(struct top_ui *u, enum top_view v)
{
	u->view = v;
	u->back = v;
	u->scroll = 0;
}

static void step(struct top_ui *u, int delta)
{
	int r = top_model_step(u->m, delta);

	if (r == -EOPNOTSUPP)
		snprintf(u->msg, sizeof(u->msg),
		         "replay needs a database (--db); embedded mode is live only");
	else if (r == -ERANGE)
		snprintf(u->msg, sizeof(u->msg), "no earlier recorded tick");
	else
		u->refresh_now = true;
}

static void cycle_window(struct top_ui *u)
{
	static const int64_t w[] = {60000, 300000, 900000, 3600000};
	size_t i = 0;

	while (i < MW_ARRAY_SIZE(w) && w[i] <= u->m->window_ms)
		i++;
	u->m->window_ms = w[i % MW_ARRAY_SIZE(w)];
	u->refresh_now = true;
}

static bool global_key(struct top_ui *u, int ch)
{
	switch (ch) {
	case 'q':
	case KEY_F(10):
		u->quit = true;
		return true;
	case KEY_F(1):
	case 'h':
	case '?':
		if (u->view != TV_HELP)
			u->view = TV_HELP;
		else
			u->view = u->back;
		u->scroll = 0;
		return true;
	case '\t':
		set_view(u, (enum top_view)((u->back + 1) % 4));
		return true;
	case KEY_BTAB:
		set_view(u, (enum top_view)((u->back + 3) % 4));
		return true;
	case '1':
	case '2':
	case '3':
	case '4':
		set_view(u, (enum top_view)(ch - '1'));
		return true;
	case 27:
	case KEY_BACKSPACE:
	case 127:
		u->view = u->back;
		u->scroll = 0;
		return true;
	case 'w':
		cycle_window(u);
		return true;
	case '[':
	case ']':
	case '{':
	case '}':
		step(u, ch == '[' ? -1 : ch == ']' ? 1 : ch == '{' ? -10 : 10);
		return true;
	case 'L':
		u->m->at_ms = 0;
		u->refresh_now = true;
		return true;
	case ' ':
		u->paused = !u->paused;
		snprintf(u->msg, sizeof(u->msg), "%s", u->paused ? "paused (Space resumes)" : "");
		return true;
	case 12: /* Ctrl-L */
		clearok(curscr, TRUE);
		return true;
	case KEY_RESIZE:
		return true;
	}
	return false;
}

void top_keys_handle(struct top_ui *u, int ch)
{
	int page = LINES - 8 > 1 ? LINES - 8 : 1;

	if (u->input != TI_NONE) {
		edit_key(u, ch);
		return;
	}
	if (global_key(u, ch))
		return;
	switch (ch) {
	case KEY_UP:
	case 'k':
		move_sel(u, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(u, 1);
		break;
	case KEY_PPAGE:
		move_sel(u, -page);
		break;
	case KEY_NPAGE:
		move_sel(u, page);
		break;
	case KEY_HOME:
		move_sel(u, -(long)u->nvis - 100000);
		break;
	case KEY_END:
		move_sel(u, (long)u->nvis + 100000);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (u->view == TV_PROCS && top_selected(u)) {
			top_select_current(u);
			u->follow = true;
			u->view = TV_DETAIL;
			u->scroll = 0;
		}
		break;
	case KEY_F(3):
	case '/':
		u->input = TI_SEARCH;
		u->edit[0] = '\0';
		break;
	case 'n':
		search_next(u, false);
		break;
	case KEY_F(4):
	case '\\':
		u->input = TI_FILTER;
		snprintf(u->edit, sizeof(u->edit), "%s", u->filter);
		break;
	case KEY_F(5):
	case 't':
		u->grouped = !u->grouped;
		top_select_current(u);
		top_rebuild(u);
		break;
	case KEY_F(6):
	case '>':
	case '.':
		cycle_sort(u, 1);
		break;
	case '<':
	case ',':
		cycle_sort(u, -1);
		break;
	case 'I':
		u->invert = !u->invert;
		top_select_current(u);
		top_rebuild(u);
		break;
	case 'M':
		set_sort(u, TC_RSS);
		break;
	case 'P':
		set_sort(u, TC_PID);
		break;
	case 'G':
		set_sort(u, TC_GROWTH);
		break;
	default:
		break;
	}
}

void top_help_draw(struct top_ui *u, int y0)
{
	int y = y0;

	top_put(y++, 0, COLS, "memwatch top: keys (htop conventions). Esc or F1 returns.", A_BOLD);
	y++;
	for (size_t i = (size_t)u->scroll; i < top_key_help_n && y < LINES - 1; i++, y++) {
		top_put(y, 2, 29, top_key_help[i].keys, A_BOLD);
		top_put(y, 32, COLS - 32, top_key_help[i].what, 0);
	}
	if (y < LINES - 2) {
		y++;
		top_put(y++, 0, COLS,
		        "Columns: GROW/m = RSS growth per minute over the window; HYP = top leak"
		        " hypothesis; \"-\" = not available (yet).",
		        top_attr(u, CP_DIM, 0));
	}
}
