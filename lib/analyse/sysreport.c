/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/sysreport.h"
#include "memwatch/base/util.h"

void mw_sysreport_analyze(struct mw_sysreport *r)
{
	struct mw_tune_input in;

	mw_syshyp_tune_input(&r->v, &in);
	r->nadvice = mw_tune_advise(&in, r->advice, MW_ARRAY_SIZE(r->advice));
	mw_syshyp_eval(&r->v, r->have_forecast ? &r->forecast : NULL, &r->hyps);
}

void mw_sysreport_release(struct mw_sysreport *r)
{
	mw_sysview_release(&r->v);
	if (r->have_forecast)
		mw_oom_forecast_release(&r->forecast);
	r->have_forecast = false;
}
