/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "htmlstyle.h"
#include "memwatch/base/format.h"

/*
 * Rules both pages share come first; a page's own rules are scoped to its
 * body class where the other page has the same elements (h1, h2, td, th)
 * and would otherwise change look.
 */
static const char css[] =
        /* both */
        "body{margin:2em}table{border-collapse:collapse}td,th{text-align:right}"
        "td:first-child,th:first-child,td.l,table.id td{text-align:left}"
        /* the process report */
        "body.process{font:14px/1.4 system-ui,sans-serif;color:#222;max-width:1100px}"
        ".process h1{font-size:1.4em}"
        ".process h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}"
        ".process td,.process th{padding:2px 10px}"
        ".verdict{font-weight:bold;padding:.5em;border-radius:4px}"
        ".leak{background:#fde2e1}.ok{background:#e3f6e5}.tag{font-family:monospace;"
        "background:#333;color:#fff;padding:0 4px;border-radius:3px}"
        "li.hyp{margin-bottom:1em}.process code{background:#f3f3f3;padding:1px 3px}"
        "svg.region-chart{background:#fafafa;border:1px solid #ddd}"
        "svg .line{fill:none;stroke:#1f6fb2;stroke-width:1.5}svg .area{fill:#1f6fb233}"
        "svg text{font-size:11px;fill:#555}.process figure{margin:1em 0}"
        ".process figcaption{font-weight:bold}.grow{color:#b00}"
        /* the system report */
        "body.system{font-family:sans-serif}"
        ".system td,.system th{border:1px solid #ccc;padding:2px 6px}"
        ".h{margin:1em 0;padding:.5em;border-left:4px solid #c33;background:#fee}";

void mw_html_head(FILE *f, enum mw_html_page page, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	mw_html_escape(f, title);
	fprintf(f, "</title>\n<style>%s</style></head><body class=\"%s\">\n", css,
	        page == MW_HTML_SYSTEM ? "system" : "process");
}
