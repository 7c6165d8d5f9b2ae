/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memwatch top's screen: the state the panels and key handling share (ncurses side). */
#ifndef MEMWATCH_CLI_TOP_UI_H
#define MEMWATCH_CLI_TOP_UI_H

#include "top.h"

#include <curses.h>

enum top_view { TV_PROCS, TV_SYSTEM, TV_IPC, TV_OOM, TV_DETAIL, TV_HELP };

enum top_pair {
	CP_NONE,
	CP_TITLE, /* column titles */
	CP_SEL,   /* selected row */
	CP_GROW,  /* fast growth */
	CP_WARM,  /* some growth */
	CP_ALERT, /* OOM banner, orphans */
	CP_DIM,   /* "-" and notes */
	CP_USED,  /* meter segments */
	CP_CACHE,
	CP_SLAB,
	CP_SHM,
	CP_KEY, /* function-key labels */
	CP_TAB,
	CP_COUNT
};

enum top_input { TI_NONE, TI_SEARCH, TI_FILTER };

struct top_ui {
	struct top_model *m;
	enum top_view view, back; /* back: where Esc returns from detail and help */
	enum top_col sort;
	bool invert, grouped, color, utf8, quit, paused;
	char filter[128];
	char search[128];
	enum top_input input;
	char edit[128];
	struct top_row **vis; /* the rows shown, in order */
	size_t nvis;
	struct top_row *groups;
	size_t ngroups;
	size_t sel, first;
	pid_t sel_pid;
	uint64_t sel_start;
	bool sel_group;
	bool follow; /* the user picked a row: keep it selected across refreshes */
	char sel_groupname[80];
	int scroll; /* detail/help/system scrolling */
	bool refresh_now;
	char msg[200];
	/* Detail view: the report of the selected process, rebuilt on each refresh. */
	struct top_row detail;
	bool have_detail;
};

/* top_ui.c: shared drawing helpers. */
int top_attr(const struct top_ui *u, enum top_pair p, int mono);
/* Print s (UTF-8 or ASCII, already escaped) at y,x in at most w columns; returns columns used. */
int top_put(int y, int x, int w, const char *s, int attr);
void top_hline(int y, int attr);
void top_rebuild(struct top_ui *u);
void top_select_current(struct top_ui *u);
struct top_row *top_selected(struct top_ui *u);

/* panels: each draws rows y0..LINES-2 */
void top_procs_draw(struct top_ui *u, int y0);
void top_detail_draw(struct top_ui *u, int y0);
void top_system_draw(struct top_ui *u, int y0);
void top_ipc_draw(struct top_ui *u, int y0);
void top_oom_draw(struct top_ui *u, int y0);
void top_help_draw(struct top_ui *u, int y0);
void top_meter(struct top_ui *u, int y, int x, int w, const char *label, const int64_t *parts,
               const enum top_pair *pairs, int nparts, int64_t total, const char *text);
/* A text block with a title, "-" lines when a source is missing; returns next y. */
int top_text_block(struct top_ui *u, int y, const char *title, int r, const struct top_text *t,
                   const char *missing);
/*
 * Why a source gave a panel nothing, into buf: needs when the mode cannot
 * provide it (-EOPNOTSUPP), nodata when nothing is recorded yet (-ENODATA),
 * else "what unreadable: error". needs and nodata may be NULL.
 */
const char *top_why(int rc, const char *needs, const char *nodata, const char *what, char *buf,
                    size_t cap);

/* top_keys.c */
void top_keys_handle(struct top_ui *u, int ch);
struct top_key_help {
	const char *keys;
	const char *what;
};
extern const struct top_key_help top_key_help[];
extern const size_t top_key_help_n;

#endif
