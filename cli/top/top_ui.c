/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top's screen loop: curses setup with a monochrome fallback,
 * the header (meters, source, OOM banner), the view tabs, the key bar,
 * and the refresh timer. Panels draw the middle of the screen.
 */
#include "top_ui.h"

#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

int top_attr(const struct top_ui *u, enum top_pair p, int mono)
{
	if (p == CP_NONE)
		return mono;
	return u->color ? (int)(COLOR_PAIR(p) | ((unsigned)mono & A_BOLD)) : mono;
}

int top_put(int y, int x, int w, const char *s, int attr)
{
	mbstate_t st;
	int used = 0;
	size_t len = strlen(s);

	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	memset(&st, 0, sizeof(st));
	attron(attr);
	move(y, x);
	/* Count display columns, so wide or combining characters never overflow a cell. */
	while (len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, len, &st);
		int cw;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			/* Escaped text never gets here; be safe anyway. */
			wc = L'?';
			k = 1;
			memset(&st, 0, sizeof(st));
		}
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1, wc = L'?';
		if (used + cw > w)
			break;
		addnwstr(&wc, 1);
		used += cw;
		s += k;
		len -= k;
	}
	attroff(attr);
	return used;
}

void top_hline(int y, int attr)
{
	attron(attr);
	mvhline(y, 0, ' ', COLS);
	attroff(attr);
}

static void colors_init(struct top_ui *u)
{
	static const short fg_bg[CP_COUNT][2] = {
	        [CP_TITLE] = {COLOR_BLACK, COLOR_GREEN},
	        [CP_SEL] = {COLOR_BLACK, COLOR_CYAN},
	        [CP_GROW] = {COLOR_RED, -1},
	        [CP_WARM] = {COLOR_YELLOW, -1},
	        [CP_ALERT] = {COLOR_WHITE, COLOR_RED},
	        [CP_DIM] = {COLOR_BLUE, -1},
	        [CP_USED] = {COLOR_GREEN, -1},
	        [CP_CACHE] = {COLOR_YELLOW, -1},
	        [CP_SLAB] = {COLOR_MAGENTA, -1},
	        [CP_SHM] = {COLOR_CYAN, -1},
	        [CP_KEY] = {COLOR_BLACK, COLOR_CYAN},
	        [CP_TAB] = {COLOR_BLACK, COLOR_WHITE},
	};

	u->color = has_colors() && getenv("NO_COLOR") == NULL;
	if (!u->color)
		return;
	start_color();
	use_default_colors();
	for (int p = 1; p < CP_COUNT; p++)
		init_pair((short)p, fg_bg[p][0], fg_bg[p][1]);
}

/* A bar like htop's: colored segments, the figure right-aligned inside the brackets. */
void top_meter(struct top_ui *u, int y, int x, int w, const char *label, const int64_t *parts,
               const enum top_pair *pairs, int nparts, int64_t total, const char *text)
{
	int inner, pos = 0, tl = (int)strlen(text);

	x += top_put(y, x, w, label, top_attr(u, CP_NONE, A_BOLD));
	inner = w - (int)strlen(label) - 2;
	if (inner < 4)
		return;
	top_put(y, x, 1, "[", A_BOLD);
	for (int i = 0; i < nparts && total > 0; i++) {
		int cells;
		if (parts[i] == MW_UNKNOWN || parts[i] <= 0)
			continue;
		cells = (int)((double)parts[i] / (double)total * inner + 0.5);
		if (pos + cells > inner)
			cells = inner - pos;
		for (int k = 0; k < cells; k++)
			top_put(y, x + 1 + pos + k, 1, u->color ? "|" : &"#\0=\0:\0*"[2 * (i % 4)],
			        top_attr(u, pairs[i], A_BOLD));
		pos += cells;
	}
	if (tl < inner)
		top_put(y, x + 1 + inner - tl, tl, text, top_attr(u, CP_DIM, A_BOLD));
	top_put(y, x + 1 + inner, 1, "]", A_BOLD);
}

static void fmt_g(char *buf, size_t cap, int64_t v)
{
	if (v == MW_UNKNOWN)
		snprintf(buf, cap, "-");
	else if (v >= 1000ll << 20)
		snprintf(buf, cap, "%.1fG", (double)v / (1 << 30));
	else
		snprintf(buf, cap, "%.0fM", (double)v / (1 << 20));
}

static int header(struct top_ui *u)
{
	struct top_model *m = u->m;
	const int64_t *mi = m->sys.now.mem;
	char line[1600], when[32], first[32], a[32], b[32];
	int y = 0, w = COLS;

	mw_fmt_time(when, sizeof(when), (uint64_t)m->now_ms * 1000000ull);
	if (m->src == TOP_FROM_STORE)
		snprintf(line, sizeof(line), "memwatch top  %s  %s  %s%s  db %s", m->host, when,
		         m->at_ms ? "REPLAY " : "",
		         m->recording ? "memwatchd recording" : "memwatchd not recording",
		         m->opt.db_path);
	else
		snprintf(line, sizeof(line),
		         "memwatch top  %s  %s  embedded (no daemon), history from %s", m->host,
		         when,
		         mw_fmt_time(first, sizeof(first), (uint64_t)m->first_ms * 1000000ull) +
		                 11);
	top_hline(y, 0);
	top_put(y++, 0, w, line, A_BOLD);
	if (m->sys.valid) {
		int64_t total = mi[MW_MI_mem_total], free_ = mi[MW_MI_mem_free];
		int64_t cache = mi[MW_MI_cached] == MW_UNKNOWN ? 0 : mi[MW_MI_cached];
		int64_t buffers = mi[MW_MI_buffers] == MW_UNKNOWN ? 0 : mi[MW_MI_buffers];
		int64_t slab = mi[MW_MI_slab] == MW_UNKNOWN ? 0 : mi[MW_MI_slab];
		int64_t shm = mi[MW_MI_shmem] == MW_UNKNOWN ? 0 : mi[MW_MI_shmem];
		int64_t used = total - free_ - cache - buffers - slab;
		int64_t parts[4] = {used, shm, slab, cache + buffers - shm};
		enum top_pair pairs[4] = {CP_USED, CP_SHM, CP_SLAB, CP_CACHE};
		int64_t st = m->sys.now.mem[MW_MI_swap_total], sf = m->sys.now.mem[MW_MI_swap_free];
		int64_t sparts[1] = {st != MW_UNKNOWN && sf != MW_UNKNOWN ? st - sf : 0};
		enum top_pair sp[1] = {CP_GROW};
		int half = w / 2;

		parts[0] = used < 0 ? 0 : used;
		fmt_g(a, sizeof(a), total - mi[MW_MI_mem_available]);
		fmt_g(b, sizeof(b), total);
		snprintf(line, sizeof(line), "%s/%s", a, b);
		top_meter(u, y, 0, half - 1, "Mem", parts, pairs, 4, total, line);
		fmt_g(a, sizeof(a), sparts[0]);
		fmt_g(b, sizeof(b), st);
		snprintf(line, sizeof(line), "%s/%s", a, b);
		top_meter(u, y++, half, w - half, "Swp", sparts, sp, 1, st, line);
	} else {
		top_put(y++, 0, w, "Mem -  (no system sample yet)", top_attr(u, CP_DIM, 0));
	}
	{
		const int64_t *psi = m->sys.now.psi;
		char win[32];
		mw_fmt_duration(win, sizeof(win), (uint64_t)m->window_ms * 1000000ull);
		if (m->sys.valid && psi[MW_PSI_psi_some_avg10] != MW_UNKNOWN)
			snprintf(a, sizeof(a), "%.2f/%.2f",
			         (double)psi[MW_PSI_psi_some_avg10] / 100.0,
			         (double)psi[MW_PSI_psi_full_avg10] / 100.0);
		else
			snprintf(a, sizeof(a), "-");
		snprintf(line, sizeof(line),
		         "Processes: %zu   Growth window: %s   Sort: %s%s   PSI some/full avg10: "
		         "%s%s%s",
		         m->n, win, top_cols[u->sort].title, u->invert ? " (asc)" : "", a,
		         u->filter[0] ? "   Filter: " : "", u->filter[0] ? u->filter : "");
		top_put(y++, 0, w, line, 0);
	}
	if (m->oom_ms && m->now_ms - m->oom_ms < TOP_OOM_HOLD_MS && m->now_ms >= m->oom_ms) {
		char ago[32];
		mw_fmt_time(when, sizeof(when), (uint64_t)m->oom_ms * 1000000ull);
		mw_fmt_duration(ago, sizeof(ago),
		                (uint64_t)(m->now_ms - m->oom_ms) * 1000000ull + 1);
		snprintf(line, sizeof(line), " OOM KILL at %s (%s ago): press 4 for the OOM view ",
		         when, ago);
		top_hline(y, top_attr(u, CP_ALERT, A_REVERSE | A_BOLD));
		top_put(y++, 0, w, line, top_attr(u, CP_ALERT, A_REVERSE | A_BOLD));
	}
	return y;
}

static int tabs(struct top_ui *u, int y)
{
	static const char *const names[] = {"1 Processes", "2 System", "3 IPC", "4 OOM"};
	enum top_view cur = u->view == TV_DETAIL || u->view == TV_HELP ? u->back : u->view;
	int x = 0;

	for (int i = 0; i < 4; i++) {
		char t[32];
		snprintf(t, sizeof(t), " %s ", names[i]);
		x += top_put(y, x, COLS - x, t,
		             (int)i == (int)cur ? top_attr(u, CP_TAB, A_REVERSE | A_BOLD) : 0);
		x += top_put(y, x, COLS - x, " ", 0);
	}
	if (u->view == TV_DETAIL)
		top_put(y, x, COLS - x, "> Process detail (Esc back)", A_BOLD);
	return y + 1;
}

static void keybar(struct top_ui *u)
{
	static const char *const keys[][2] = {
	        {"F1", "Help"}, {"F3", "Search"},    {"F4", "Filter"}, {"F5", "Group"},
	        {"F6", "Sort"}, {"Enter", "Detail"}, {"Tab", "View"},  {"F10", "Quit"},
	};
	int y = LINES - 1, x = 0;

	move(y, 0);
	clrtoeol();
	if (u->input != TI_NONE) {
		char line[200];
		snprintf(line, sizeof(line), "%s: %s_   (Enter: done, Esc: cancel)",
		         u->input == TI_SEARCH ? "Search" : "Filter", u->edit);
		top_put(y, 0, COLS, line, A_BOLD);
		return;
	}
	if (u->msg[0]) {
		top_put(y, 0, COLS, u->msg, A_BOLD);
		return;
	}
	for (size_t i = 0; i < MW_ARRAY_SIZE(keys) && x < COLS; i++) {
		x += top_put(y, x, COLS - x, keys[i][0], A_BOLD);
		x += top_put(y, x, COLS - x, keys[i][1], top_attr(u, CP_KEY, A_REVERSE));
		x += top_put(y, x, COLS - x, " ", 0);
	}
}

/* Keep the selection on the same process (or group) across refreshes and re-sorts. */
void top_select_current(struct top_ui *u)
{
	struct top_row *r = top_selected(u);

	if (!r)
		return;
	u->sel_pid = r->pid;
	u->sel_start = r->start_ticks;
	u->sel_group = r->is_group;
	snprintf(u->sel_groupname, sizeof(u->sel_groupname), "%s", r->group);
}

struct top_row *top_selected(struct top_ui *u)
{
	return u->sel < u->nvis ? u->vis[u->sel] : NULL;
}

void top_rebuild(struct top_ui *u)
{
	struct top_model *m = u->m;
	struct top_row *src = m->rows;
	size_t n = m->n;

	/*
	 * Region columns and the tag are looked up for the rows drawn; sorted
	 * by one, every row needs it first, or the order is by pid.
	 */
	if (top_col_lazy(u->sort))
		for (size_t i = 0; i < m->n; i++)
			top_model_lazy(m, &m->rows[i], false);
	free(u->groups);
	u->groups = NULL;
	u->ngroups = 0;
	if (u->grouped && top_group(m->rows, m->n, &u->groups, &u->ngroups) == 0) {
		src = u->groups;
		n = u->ngroups;
	}
	top_sort(src, n, u->sort, u->invert);
	free(u->vis);
	u->vis = calloc(n ? n : 1, sizeof(*u->vis));
	u->nvis = 0;
	if (!u->vis)
		return;
	for (size_t i = 0; i < n; i++)
		if (top_row_matches(&src[i], u->filter))
			u->vis[u->nvis++] = &src[i];
	u->sel = 0;
	for (size_t i = 0; u->follow && i < u->nvis; i++) {
		const struct top_row *r = u->vis[i];
		if (u->sel_group ? r->is_group && strcmp(r->group, u->sel_groupname) == 0
		                 : !r->is_group && r->pid == u->sel_pid &&
		                           r->start_ticks == u->sel_start) {
			u->sel = i;
			break;
		}
	}
}

static void draw(struct top_ui *u)
{
	int y0;

	erase();
	y0 = tabs(u, header(u));
	switch (u->view) {
	case TV_PROCS:
		top_procs_draw(u, y0);
		break;
	case TV_DETAIL:
		top_detail_draw(u, y0 - u->scroll);
		break;
	case TV_SYSTEM:
		top_system_draw(u, y0 - u->scroll);
		break;
	case TV_IPC:
		top_ipc_draw(u, y0);
		break;
	case TV_OOM:
		top_oom_draw(u, y0 - u->scroll);
		break;
	case TV_HELP:
		top_help_draw(u, y0);
		break;
	}
	/* A view scrolled up drew over the header: put the header back on top. */
	for (int i = 0; i < y0; i++) {
		move(i, 0);
		clrtoeol();
	}
	tabs(u, header(u));
	keybar(u);
	refresh();
}

static int do_refresh(struct top_ui *u)
{
	int r;

	top_select_current(u);
	r = top_model_refresh(u->m);
	if (r < 0)
		return r;
	top_rebuild(u);
	return 0;
}

int top_ui_run(struct top_model *m)
{
	struct top_ui u = {0};
	uint64_t next = 0;
	int r = 0, col;

	u.m = m;
	u.utf8 = m->opt.utf8;
	col = m->opt.sort ? top_col_by_key(m->opt.sort) : TC_GROWTH;
	u.sort = (enum top_col)col;
	if (m->opt.filter)
		snprintf(u.filter, sizeof(u.filter), "%s", m->opt.filter);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	colors_init(&u);
	while (!u.quit) {
		uint64_t now = mw_mono_ns();
		int ch;

		if (now >= next || u.refresh_now) {
			bool live = m->at_ms == 0;
			if ((live && !u.paused) || u.refresh_now || next == 0) {
				r = do_refresh(&u);
				if (r < 0)
					break;
			}
			u.refresh_now = false;
			next = now + m->opt.delay_ns;
		}
		draw(&u);
		now = mw_mono_ns();
		timeout(next > now ? (int)((next - now) / 1000000ull) + 1 : 0);
		ch = getch();
		if (ch == ERR)
			continue;
		u.msg[0] = '\0';
		top_keys_handle(&u, ch);
	}
	endwin();
	free(u.vis);
	free(u.groups);
	return r;
}

int top_text_block(struct top_ui *u, int y, const char *title, int r, const struct top_text *t,
                   const char *missing)
{
	if (y >= LINES - 1)
		return y;
	top_put(y++, 0, COLS, title, A_BOLD | A_UNDERLINE);
	if (r < 0 || !t || t->n == 0) {
		char line[300];
		snprintf(line, sizeof(line), "  -   %s", r < 0 ? missing : "none");
		if (y < LINES - 1)
			top_put(y++, 0, COLS, line, top_attr(u, CP_DIM, 0));
		return y + 1;
	}
	/* A line starting with '!' is an alert (orphan, growing cache, forecast). */
	for (size_t i = 0; i < t->n && y < LINES - 1; i++) {
		bool alert = t->lines[i][0] == '!';
		top_put(y, 2, COLS - 2, t->lines[i] + (alert ? 1 : 0),
		        alert ? top_attr(u, CP_GROW, A_BOLD) : 0);
		y++;
	}
	return y + 1;
}

const char *top_why(int rc, const char *needs, const char *nodata, const char *what, char *buf,
                    size_t cap)
{
	if (rc == -EOPNOTSUPP && needs)
		snprintf(buf, cap, "%s", needs);
	else if (rc == -ENODATA && nodata)
		snprintf(buf, cap, "%s", nodata);
	else
		snprintf(buf, cap, "%s unreadable: %s", what, strerror(rc < 0 ? -rc : EIO));
	return buf;
}
