/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IPC view: SysV and POSIX objects, orphans (no attached process) highlighted. */
#include "top_ui.h"

void top_ipc_draw(struct top_ui *u, int y0)
{
	struct top_text t = {0};
	char why[128];
	int rc = top_src_ipc(u->m, &t);

	/* Up/Down scroll the list under its heading. */
	if (rc == 0)
		top_text_scroll(&t, 1, (size_t)u->scroll);

	top_text_block(
	        u, y0, "IPC objects (SysV shm/msg/sem, /dev/shm, /dev/mqueue)", rc, &t,
	        top_why(rc, NULL, "no IPC sample in the window", "IPC objects", why, sizeof(why)));
	top_text_free(&t);
}
