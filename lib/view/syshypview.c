/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/view/syshyp.h"
#include "memwatch/base/format.h"
#include "memwatch/base/util.h"

#include <stdio.h>
#include <string.h>

static const char *queue_name(const struct mw_sysfact_ipc *q, char *buf, size_t cap)
{
	if (q->kind == MW_IPC_msg)
		snprintf(buf, cap, "SysV message queue key 0x%08llx id %lld",
		         (unsigned long long)(uint32_t)q->key, (long long)q->id);
	else
		snprintf(buf, cap, "POSIX message queue /%s", q->name);
	return buf;
}

/* Intermediate buffers keep the sizes the sentences were built with, so truncation is the same. */
static const char *writer_label(const struct mw_sysfact *head, char *buf, size_t cap)
{
	const struct mw_sysfact_proc *p = &head->queue_backlog.proc;

	switch (head->queue_backlog.writer) {
	case MW_SF_WRITER_SENDER:
		snprintf(buf, cap, "%s[%d]", p->known ? p->comm : "?", (int)p->pid);
		break;
	case MW_SF_WRITER_HOLDER:
		snprintf(buf, cap, "%s[%d] (holds it open for writing)", p->comm, (int)p->pid);
		break;
	default:
		snprintf(buf, cap, "unknown");
		break;
	}
	return buf;
}

const char *mw_syshyp_title(const struct mw_syshyp *h, char *buf, size_t cap)
{
	const struct mw_sysfact *f = &h->head;
	char a[32], b[32], qname[300], writer[160];

	switch (f->kind) {
	case MW_SF_SHM_ORPHANS:
		snprintf(buf, cap,
		         "Orphaned shared memory: %zu SysV segment(s) with no attachments (%s)%s%s",
		         f->shm_orphans.segments,
		         mw_fmt_bytes(a, sizeof(a), f->shm_orphans.segment_bytes),
		         f->shm_orphans.posix_reported ? ", and /dev/shm files nobody holds: " : "",
		         f->shm_orphans.posix_reported
		                 ? mw_fmt_bytes(b, sizeof(b), f->shm_orphans.posix_bytes)
		                 : "");
		break;
	case MW_SF_QUEUE_BACKLOG:
		snprintf(buf, cap, "IPC backlog: %s grows, written by %s, not read",
		         queue_name(&f->queue_backlog.queue, qname, sizeof(qname)),
		         writer_label(f, writer, sizeof(writer)));
		break;
	case MW_SF_CACHE_GROWTH:
		snprintf(buf, cap, "Kernel slab growth: cache %s%s%s%s grows %s/s",
		         f->cache_growth.name,
		         f->cache_growth.aliases[0] ? " (shares its slab with " : "",
		         f->cache_growth.aliases, f->cache_growth.aliases[0] ? ")" : "",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->cache_growth.bytes_per_s));
		break;
	case MW_SF_SUNRECLAIM_GROWTH:
		snprintf(buf, cap, "Kernel slab growth: SUnreclaim grows %s/s%s",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->sunreclaim_growth.bytes_per_s),
		         f->sunreclaim_growth.per_cache
		                 ? ""
		                 : " (which cache: /proc/slabinfo needs root)");
		break;
	case MW_SF_PRESSURE:
		snprintf(buf, cap, "Memory pressure, not a leak: %s",
		         f->pressure.cause == MW_SF_CAUSE_DIRECT_RECLAIM
		                 ? "allocations stall in direct reclaim"
		         : f->pressure.cause == MW_SF_CAUSE_PSI ? "tasks stall on memory (PSI)"
		                                                : "major faults (paging)");
		break;
	case MW_SF_OOM_ETA:
		snprintf(buf, cap, "OOM risk: MemAvailable reaches 0 in %s at the current trend",
		         mw_fmt_duration(a, sizeof(a), (uint64_t)(f->oom_eta.seconds * 1e9)));
		break;
	default:
		snprintf(buf, cap, "%s", h->rule->id);
		break;
	}
	return buf;
}

const char *mw_syshyp_subject(const struct mw_syshyp *h, char *buf, size_t cap)
{
	const struct mw_sysfact *f = &h->head;

	if (cap)
		buf[0] = '\0';
	switch (f->kind) {
	case MW_SF_SHM_ORPHANS:
		for (size_t i = 0; i < f->shm_orphans.nids && cap; i++) {
			size_t len = strlen(buf);
			snprintf(buf + len, cap - len, "%sshm id %lld", len ? ", " : "",
			         (long long)f->shm_orphans.ids[i]);
		}
		break;
	case MW_SF_QUEUE_BACKLOG:
		queue_name(&f->queue_backlog.queue, buf, cap);
		break;
	case MW_SF_CACHE_GROWTH:
		snprintf(buf, cap, "%s", f->cache_growth.name);
		break;
	case MW_SF_SUNRECLAIM_GROWTH:
		snprintf(buf, cap, "SUnreclaim");
		break;
	case MW_SF_PRESSURE:
		snprintf(buf, cap, "reclaim");
		break;
	case MW_SF_OOM_ETA:
		snprintf(buf, cap, "MemAvailable");
		break;
	default:
		break;
	}
	return buf;
}

const char *mw_syshyp_next_step(const struct mw_syshyp *h, char *buf, size_t cap)
{
	const struct mw_sysfact *f = &h->head;
	bool msg = f->kind == MW_SF_QUEUE_BACKLOG && f->queue_backlog.queue.kind == MW_IPC_msg;

	switch (f->kind) {
	case MW_SF_SHM_ORPHANS:
		snprintf(
		        buf, cap,
		        "ipcs -m -p to confirm; if no process will attach again: ipcrm -m <id> (and"
		        " rm /dev/shm/<name> for POSIX files); fix the creator to call"
		        " shmctl(IPC_RMID) once every user has attached");
		break;
	case MW_SF_QUEUE_BACKLOG:
		snprintf(buf, cap,
		         "%s; find or restart the reader; if the messages are not needed: %s",
		         msg ? "ipcs -q -i <id>" : "cat /dev/mqueue/<name>",
		         msg ? "ipcrm -q <id>" : "mq_unlink (rm /dev/mqueue/<name>)");
		break;
	case MW_SF_CACHE_GROWTH:
		/* No process named (none's descriptors moved with the cache): no pid to give. */
		if (h->pid > 0)
			snprintf(buf, cap,
			         "slabtop -s c; for socket/dentry/inode caches check the named"
			         " process's open fds (ls -l /proc/%d/fd | wc -l, lsof -p %d)",
			         (int)h->pid, (int)h->pid);
		else
			snprintf(buf, cap,
			         "slabtop -s c; for socket/dentry/inode caches find who holds them:"
			         " memwatch top sorted by fds (F6), or lsof | awk '{print $2}' | "
			         "sort |"
			         " uniq -c | sort -rn | head");
		break;
	case MW_SF_SUNRECLAIM_GROWTH:
		snprintf(buf, cap,
		         "as root: slabtop -s c, or memwatch report --system as root to rank "
		         "caches");
		break;
	case MW_SF_PRESSURE:
		snprintf(buf, cap,
		         "vmstat 1 and sar -B 1 (pgscand/s) to watch direct reclaim; apply the "
		         "advice"
		         " with sysctl -w vm.<name>=<value> and persist it in /etc/sysctl.d/");
		break;
	case MW_SF_OOM_ETA:
		snprintf(buf, cap,
		         "memwatch oom; memwatch report <pid> for the fastest growing process%s",
		         f->oom_eta.nprotect ? "; set oom_score_adj -1000 on the services listed"
		                             : "");
		break;
	default:
		if (cap)
			buf[0] = '\0';
		break;
	}
	return buf;
}

static const char *creator_label(const struct mw_sysfact_proc *p, char *buf, size_t cap)
{
	if (p->known)
		snprintf(buf, cap, "created by %s[%d] (%s)", p->comm, (int)p->pid,
		         p->alive ? "alive, detached" : "exited");
	else
		snprintf(buf, cap, "created by pid %d (not in the process table)", (int)p->pid);
	return buf;
}

static uint64_t ms_ns(int64_t ms)
{
	return (uint64_t)ms * 1000000ull;
}

const char *mw_sysfact_text(const struct mw_sysfact *f, char *buf, size_t cap)
{
	char a[32], b[32], c[32], d[32], who[128];

	switch (f->kind) {
	case MW_SF_SHM_SEGMENT:
		snprintf(
		        buf, cap,
		        "SysV shm key 0x%08llx id %lld: %s, %s resident, %s, 0 attachments, age %s",
		        (unsigned long long)(uint32_t)f->shm_segment.key,
		        (long long)f->shm_segment.id,
		        mw_fmt_bytes(a, sizeof(a), f->shm_segment.size),
		        mw_fmt_bytes(b, sizeof(b), f->shm_segment.resident),
		        creator_label(&f->shm_segment.creator, who, sizeof(who)),
		        f->shm_segment.age_s == MW_UNKNOWN
		                ? "?"
		                : mw_fmt_duration(c, sizeof(c),
		                                  (uint64_t)f->shm_segment.age_s * 1000000000ull));
		break;
	case MW_SF_POSIX_UNHELD:
		snprintf(buf, cap, "%zu file(s) in /dev/shm open by no process, %s in total",
		         f->posix_unheld.files, mw_fmt_bytes(a, sizeof(a), f->posix_unheld.bytes));
		break;
	case MW_SF_QUEUE_BYTES:
		snprintf(buf, cap,
		         "bytes queued %s -> %s over %s (%s/s, Mann-Kendall p=%.3g, %zu samples)",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->queue_bytes.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)f->queue_bytes.last),
		         mw_fmt_duration(c, sizeof(c), ms_ns(f->queue_bytes.duration_ms)),
		         mw_fmt_bytes_delta(d, sizeof(d), f->queue_bytes.bytes_per_s),
		         f->queue_bytes.mk_p, f->queue_bytes.samples);
		break;
	case MW_SF_QUEUE_MESSAGES:
		snprintf(buf, cap, "%lld messages queued; last sender pid %d, last receiver %s",
		         (long long)f->queue_messages.messages, (int)f->queue_messages.last_sender,
		         f->queue_messages.last_receiver ? "a process that stopped reading"
		                                         : "none ever");
		break;
	case MW_SF_CACHE:
		snprintf(buf, cap,
		         "%s: %s -> %s (%lld objects of %lld B) over %s, Mann-Kendall p=%.3g",
		         f->cache.name, mw_fmt_bytes(a, sizeof(a), (int64_t)f->cache.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)f->cache.last),
		         (long long)f->cache.objects, (long long)f->cache.objsize,
		         mw_fmt_duration(c, sizeof(c), ms_ns(f->cache.duration_ms)), f->cache.mk_p);
		break;
	case MW_SF_CACHE_ALSO:
		snprintf(buf, cap, "also growing: %s at %s/s", f->cache_also.name,
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->cache_also.bytes_per_s));
		break;
	case MW_SF_SUNRECLAIM_TOO:
		snprintf(buf, cap, "SUnreclaim %s -> %s",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->sunreclaim.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)f->sunreclaim.last));
		break;
	case MW_SF_SUNRECLAIM:
		snprintf(buf, cap, "SUnreclaim %s -> %s, Mann-Kendall p=%.3g",
		         mw_fmt_bytes(a, sizeof(a), (int64_t)f->sunreclaim.first),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)f->sunreclaim.last),
		         f->sunreclaim.mk_p);
		break;
	case MW_SF_IN_STEP:
		snprintf(buf, cap,
		         "%s[%d]: %s %.0f -> %.0f in step with the cache (rank correlation %.2f)",
		         f->in_step.proc.comm, (int)f->in_step.proc.pid,
		         f->in_step.series == MW_SF_SERIES_FDS ? "fd count" : "thread count",
		         f->in_step.first, f->in_step.last, f->in_step.correlation);
		break;
	case MW_SF_NONE_IN_STEP:
		snprintf(buf, cap,
		         "no process's fd or thread count rises in step: a driver or a"
		         " kernel-internal user is more likely");
		break;
	case MW_SF_RECLAIM:
		snprintf(buf, cap,
		         "over %.0f s: allocstall +%lld, pgscan_direct +%lld pages, %.1f major "
		         "faults/s",
		         f->reclaim.window_s, (long long)f->reclaim.allocstall,
		         (long long)f->reclaim.pgscan_direct, f->reclaim.majflt_per_s);
		break;
	case MW_SF_PSI:
		snprintf(buf, cap, "PSI memory some avg60 %.2f%%", f->psi.some_avg60_pct);
		break;
	case MW_SF_ADVICE:
		snprintf(buf, cap, "advice: vm.%s %lld -> %lld", f->advice.tunable,
		         (long long)f->advice.current, (long long)f->advice.suggested);
		break;
	case MW_SF_MEM_AVAILABLE:
		snprintf(buf, cap, "MemAvailable %s, falling %s/s (Mann-Kendall p=%.3g)",
		         mw_fmt_bytes(a, sizeof(a), f->mem_available.bytes),
		         mw_fmt_bytes(b, sizeof(b), (int64_t)f->mem_available.falling_per_s),
		         f->mem_available.mk_p);
		break;
	case MW_SF_NEXT_VICTIM:
		snprintf(buf, cap, "next OOM victim now: %s[%d] (score %lld)",
		         f->next_victim.proc.comm, (int)f->next_victim.proc.pid,
		         (long long)f->next_victim.oom_score);
		break;
	case MW_SF_VICTIM_AT_OOM:
		snprintf(buf, cap, "victim when it runs out, projecting growth: %s[%d]",
		         f->victim_at_oom.proc.comm, (int)f->victim_at_oom.proc.pid);
		break;
	case MW_SF_PROTECT:
		snprintf(buf, cap, "protect: %s[%d] has oom_score_adj %lld, should be -1000",
		         f->protect.proc.comm, (int)f->protect.proc.pid, (long long)f->protect.adj);
		break;
	default:
		if (cap)
			buf[0] = '\0';
		break;
	}
	return buf;
}

/* ---- JSON ---- */

static int64_t pid_or_null(pid_t pid)
{
	return pid ? pid : MW_UNKNOWN;
}

static void proc_json(struct mw_json *j, const char *pid_key, const char *comm_key,
                      const struct mw_sysfact_proc *p)
{
	mw_json_int(j, pid_key, pid_or_null(p->pid));
	mw_json_str(j, comm_key, p->known ? p->comm : NULL);
}

static void ipc_json(struct mw_json *j, const struct mw_sysfact_ipc *q)
{
	mw_json_str(j, "ipc_kind", mw_ipc_kind_names[q->kind]);
	mw_json_int(j, "key", q->key);
	mw_json_int(j, "id", q->id);
	mw_json_str(j, "name", q->name);
}

static const char *const writer_names[] = {
        [MW_SF_WRITER_NONE] = "none",
        [MW_SF_WRITER_SENDER] = "sender",
        [MW_SF_WRITER_HOLDER] = "holder",
};

static const char *const cause_names[] = {
        [MW_SF_CAUSE_DIRECT_RECLAIM] = "direct-reclaim",
        [MW_SF_CAUSE_PSI] = "psi",
        [MW_SF_CAUSE_MAJOR_FAULTS] = "major-faults",
};

void mw_sysfact_json(struct mw_json *j, const char *key, const struct mw_sysfact *f)
{
	mw_json_obj_open(j, key);
	mw_json_str(j, "kind", mw_sysfact_kind_names[f->kind]);
	switch (f->kind) {
	case MW_SF_SHM_ORPHANS:
		mw_json_int(j, "segments", (int64_t)f->shm_orphans.segments);
		mw_json_int(j, "segment_bytes", f->shm_orphans.segment_bytes);
		mw_json_int(j, "posix_files", (int64_t)f->shm_orphans.posix_files);
		mw_json_int(j, "posix_bytes", f->shm_orphans.posix_bytes);
		mw_json_bool(j, "posix_reported", f->shm_orphans.posix_reported);
		mw_json_arr_open(j, "segment_ids");
		for (size_t i = 0; i < f->shm_orphans.nids; i++)
			mw_json_int(j, NULL, f->shm_orphans.ids[i]);
		mw_json_arr_close(j);
		break;
	case MW_SF_QUEUE_BACKLOG:
		ipc_json(j, &f->queue_backlog.queue);
		mw_json_str(j, "writer", writer_names[f->queue_backlog.writer]);
		if (f->queue_backlog.writer == MW_SF_WRITER_NONE) {
			mw_json_null(j, "writer_pid");
			mw_json_null(j, "writer_comm");
		} else {
			proc_json(j, "writer_pid", "writer_comm", &f->queue_backlog.proc);
		}
		break;
	case MW_SF_CACHE_GROWTH:
		mw_json_str(j, "cache", f->cache_growth.name);
		mw_json_str(j, "aliases", f->cache_growth.aliases);
		mw_json_num(j, "bytes_per_s", f->cache_growth.bytes_per_s);
		break;
	case MW_SF_SUNRECLAIM_GROWTH:
		mw_json_num(j, "bytes_per_s", f->sunreclaim_growth.bytes_per_s);
		mw_json_bool(j, "per_cache", f->sunreclaim_growth.per_cache);
		break;
	case MW_SF_PRESSURE:
		mw_json_str(j, "cause", cause_names[f->pressure.cause]);
		break;
	case MW_SF_OOM_ETA:
		mw_json_num(j, "seconds", f->oom_eta.seconds);
		mw_json_int(j, "protect", (int64_t)f->oom_eta.nprotect);
		break;
	case MW_SF_SHM_SEGMENT:
		mw_json_int(j, "key", f->shm_segment.key);
		mw_json_int(j, "id", f->shm_segment.id);
		mw_json_int(j, "size", f->shm_segment.size);
		mw_json_int(j, "resident", f->shm_segment.resident);
		mw_json_int(j, "age_s", f->shm_segment.age_s);
		proc_json(j, "creator_pid", "creator_comm", &f->shm_segment.creator);
		if (f->shm_segment.creator.known)
			mw_json_bool(j, "creator_alive", f->shm_segment.creator.alive);
		else
			mw_json_null(j, "creator_alive");
		break;
	case MW_SF_POSIX_UNHELD:
		mw_json_int(j, "files", (int64_t)f->posix_unheld.files);
		mw_json_int(j, "bytes", f->posix_unheld.bytes);
		break;
	case MW_SF_QUEUE_BYTES:
		mw_json_num(j, "first", f->queue_bytes.first);
		mw_json_num(j, "last", f->queue_bytes.last);
		mw_json_num(j, "bytes_per_s", f->queue_bytes.bytes_per_s);
		mw_json_num(j, "mk_p", f->queue_bytes.mk_p);
		mw_json_int(j, "duration_ms", f->queue_bytes.duration_ms);
		mw_json_int(j, "samples", (int64_t)f->queue_bytes.samples);
		break;
	case MW_SF_QUEUE_MESSAGES:
		mw_json_int(j, "messages", f->queue_messages.messages);
		mw_json_int(j, "last_sender_pid", pid_or_null(f->queue_messages.last_sender));
		mw_json_int(j, "last_receiver_pid", pid_or_null(f->queue_messages.last_receiver));
		break;
	case MW_SF_CACHE:
		mw_json_str(j, "cache", f->cache.name);
		mw_json_num(j, "first", f->cache.first);
		mw_json_num(j, "last", f->cache.last);
		mw_json_int(j, "objects", f->cache.objects);
		mw_json_int(j, "objsize", f->cache.objsize);
		mw_json_int(j, "duration_ms", f->cache.duration_ms);
		mw_json_num(j, "mk_p", f->cache.mk_p);
		break;
	case MW_SF_CACHE_ALSO:
		mw_json_str(j, "cache", f->cache_also.name);
		mw_json_num(j, "bytes_per_s", f->cache_also.bytes_per_s);
		break;
	case MW_SF_SUNRECLAIM_TOO:
	case MW_SF_SUNRECLAIM:
		mw_json_num(j, "first", f->sunreclaim.first);
		mw_json_num(j, "last", f->sunreclaim.last);
		mw_json_num(j, "mk_p", f->sunreclaim.mk_p);
		break;
	case MW_SF_IN_STEP:
		proc_json(j, "pid", "comm", &f->in_step.proc);
		mw_json_str(j, "series", f->in_step.series == MW_SF_SERIES_FDS ? "fds" : "threads");
		mw_json_num(j, "first", f->in_step.first);
		mw_json_num(j, "last", f->in_step.last);
		mw_json_num(j, "correlation", f->in_step.correlation);
		break;
	case MW_SF_RECLAIM:
		mw_json_num(j, "window_s", f->reclaim.window_s);
		mw_json_int(j, "allocstall", f->reclaim.allocstall);
		mw_json_int(j, "pgscan_direct", f->reclaim.pgscan_direct);
		mw_json_num(j, "majflt_per_s", f->reclaim.majflt_per_s);
		break;
	case MW_SF_PSI:
		mw_json_num(j, "some_avg60_pct", f->psi.some_avg60_pct);
		break;
	case MW_SF_ADVICE:
		mw_json_str(j, "tunable", f->advice.tunable);
		mw_json_int(j, "current", f->advice.current);
		mw_json_int(j, "suggested", f->advice.suggested);
		break;
	case MW_SF_MEM_AVAILABLE:
		mw_json_int(j, "bytes", f->mem_available.bytes);
		mw_json_num(j, "falling_per_s", f->mem_available.falling_per_s);
		mw_json_num(j, "mk_p", f->mem_available.mk_p);
		break;
	case MW_SF_NEXT_VICTIM:
		proc_json(j, "pid", "comm", &f->next_victim.proc);
		mw_json_int(j, "oom_score", f->next_victim.oom_score);
		break;
	case MW_SF_VICTIM_AT_OOM:
		proc_json(j, "pid", "comm", &f->victim_at_oom.proc);
		break;
	case MW_SF_PROTECT:
		proc_json(j, "pid", "comm", &f->protect.proc);
		mw_json_int(j, "oom_score_adj", f->protect.adj);
		break;
	case MW_SF_NONE_IN_STEP:
	case MW_SF_COUNT:
		break;
	}
	mw_json_obj_close(j);
}
