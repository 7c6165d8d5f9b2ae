/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sparklines: eight block heights in UTF-8, a ramp of ASCII characters elsewhere. */
#include "top.h"

#include <math.h>
#include <string.h>

void top_sparkline(const double *v, int n, int width, bool utf8, char *buf, size_t cap)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-=+*#@";
	double lo = INFINITY, hi = -INFINITY;
	size_t o = 0;
	int first;

	buf[0] = '\0';
	if (n <= 0 || width <= 0)
		return;
	/* The newest points, right-aligned like a scrolling graph. */
	first = n > width ? n - width : 0;
	for (int i = first; i < n; i++)
		if (!isnan(v[i])) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	for (int i = first; i < n; i++) {
		int level = 0;
		const char *s;
		char a[2] = {0};

		if (isnan(v[i])) {
			s = " ";
		} else {
			if (hi > lo)
				level = (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5);
			if (utf8) {
				s = blocks[level];
			} else {
				a[0] = ascii[level];
				s = a;
			}
		}
		if (o + strlen(s) + 1 > cap)
			break;
		memcpy(buf + o, s, strlen(s));
		o += strlen(s);
	}
	buf[o] = '\0';
}
