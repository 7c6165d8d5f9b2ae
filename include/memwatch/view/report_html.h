/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report --html: one self-contained page (inline CSS and SVG, no
 * script, no external URL) with one chart per region that has data
 * (<svg class="region-chart" data-region="NAME">) and the hypotheses.
 * Every string from /proc is HTML-escaped.
 */
#ifndef MEMWATCH_REPORT_HTML_H
#define MEMWATCH_REPORT_HTML_H

#include <stdio.h>

#include "memwatch/view/report.h"

/* Write the page; returns 0 or -EIO when the stream failed. */
int mw_report_write_html(FILE *f, const struct mw_report *rep);

#endif
