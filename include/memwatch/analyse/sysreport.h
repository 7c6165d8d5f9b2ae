/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report --system: a mw_sysview evaluated, with its hypotheses,
 * tunable advice and OOM forecast. The view is read from the store
 * (store/sysread.c) or sampled by the CLI; rendering is in view/sysreport.h.
 */
#ifndef MEMWATCH_ANALYSE_SYSREPORT_H
#define MEMWATCH_ANALYSE_SYSREPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "memwatch/analyse/oom.h"
#include "memwatch/analyse/syshyp.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/analyse/tuneadvice.h"

struct mw_sysreport {
	struct mw_sysview v;
	struct mw_syshyp_set hyps;
	struct mw_tune_advice advice[4];
	size_t nadvice;
	bool have_forecast;
	struct mw_oom_forecast forecast;
	char source_note[700];
	char host[256]; /* the recording host's name (raw bytes); "" when unknown */
};

/* Evaluate rules and advice over r->v (and r->forecast when have_forecast). */
void mw_sysreport_analyze(struct mw_sysreport *r);
void mw_sysreport_release(struct mw_sysreport *r);

#endif
