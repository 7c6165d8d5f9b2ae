/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The small shared object dlopen_leak loads again and again (one copy per load). */
int mw_payload_value(int x);

int mw_payload_value(int x)
{
	return x * 3 + 1;
}
