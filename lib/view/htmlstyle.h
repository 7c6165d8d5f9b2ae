/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one stylesheet of memwatch's HTML pages and the head that carries
 * it, so the process and the system report change together. Private to
 * lib/view/.
 */
#ifndef MW_VIEW_HTMLSTYLE_H
#define MW_VIEW_HTMLSTYLE_H

#include <stdio.h>

/* Which page: its rules are scoped to the body's class, so each keeps its own look. */
enum mw_html_page {
	MW_HTML_PROCESS,
	MW_HTML_SYSTEM,
};

/*
 * <!DOCTYPE html> through the opening <body>, with the stylesheet inline
 * (the pages are self-contained). title is escaped: it may carry a comm.
 */
void mw_html_head(FILE *f, enum mw_html_page page, const char *title);

#endif
