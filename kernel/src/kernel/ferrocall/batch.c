// SPDX-License-Identifier: GPL-2.0
/*
 * The calls of a ferrocall batch must be seen as if each were made alone:
 * seccomp filters each one as the lone typed call would be presented (its
 * legacy twin, or __NR_ferrocall(op, size, request)), and while a tracer,
 * audit or the syscall tracepoints watch the task, batches are refused so
 * that the caller makes its calls one by one. A batch is never a way around
 * a filter or an observer.
 */

#include <linux/entry-common.h>
#include <linux/err.h>
#include <linux/ferrocall.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/string.h>

#include <asm/syscall.h>

/**
 * ferrocall_batch_observed - whether a batch must be refused
 *
 * Syscall-stop tracers and emulators, audit and the syscall tracepoints see
 * one system call per kernel entry. While any of them watches the current
 * task, a batch is refused (-EOPNOTSUPP) and the caller falls back to making
 * its calls one by one, each seen exactly as a lone call.
 *
 * Return: true if the current task is observed that way.
 */
bool ferrocall_batch_observed(void)
{
	return test_syscall_work(SYSCALL_TRACE) ||
	       test_syscall_work(SYSCALL_EMU) ||
	       test_syscall_work(SYSCALL_AUDIT) ||
	       test_syscall_work(SYSCALL_TRACEPOINT);
}

#ifdef CONFIG_SECCOMP_FILTER
/*
 * Runs the task's seccomp filters on the system call in its pt_regs, as the
 * syscall entry work does: true if it may run. The filters read their
 * seccomp_data from pt_regs (populate_seccomp_data()). Linux 6.12 names this
 * __secure_computing(NULL), 0 to run.
 */
static __always_inline bool ferrocall_seccomp_permit(void)
{
#ifdef FERROCALL_LINUX_6_12
	return __secure_computing(NULL) == 0;
#else
	return __seccomp_permit_syscall();
#endif
}

/**
 * ferrocall_seccomp_filter - run the seccomp filters on a typed call
 * @nr:   the system call it is presented as: its legacy twin, or
 *        __NR_ferrocall
 * @args: the six arguments it is presented with, decoded from the request
 *        that runs
 *
 * For one call of a batch, the filters see the call as it would be presented
 * alone; for a call the handler runs from its copy, they also see it decoded,
 * ferrocall(op, fields...). So do a SECCOMP_RET_TRACE tracer and a
 * SECCOMP_RET_TRAP signal: the call's registers stand in the task's pt_regs
 * while the filters run, and the task's are put back afterwards. A filter
 * that kills does so. Called only when ferrocall_batch_next() says the task
 * has filters.
 *
 * Return: 0 if the call may run; otherwise the filters' negative errno, or
 * -EPERM when they gave none, or when they skipped the call or a tracer
 * changed it (a call inside a batch is run as it was asked for or not at
 * all).
 */
int ferrocall_seccomp_filter(unsigned long nr, const unsigned long *args)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs saved = *regs;
	unsigned long now[6];
	bool permit, changed;
	long ax;

	regs->orig_ax = nr;
	ferrocall_set_arguments(regs, args);

	permit = ferrocall_seccomp_permit();
	syscall_get_arguments(current, regs, now);
	changed = regs->orig_ax != nr || memcmp(now, args, sizeof(now));
	ax = regs->ax;
	*regs = saved;

	if (permit)
		return changed ? -EPERM : 0;
	/* Denied: the filter put its answer where a lone call's would go. */
	if (IS_ERR_VALUE(ax))
		return ax;
	return -EPERM;
}
#else
int ferrocall_seccomp_filter(unsigned long nr, const unsigned long *args)
{
	return 0;
}

bool ferrocall_seccomp_cache_allows(int nr)
{
	return false;
}
#endif

/**
 * ferrocall_batch_watch - what a batch tests before each call
 * @watch: filled with the current task's flag words, and the bits of them
 *         that send a call to ferrocall_batch_next()
 *
 * A batch reads both words before each of its calls (READ_ONCE()): while
 * none of those bits is set, ferrocall_batch_next() would answer 0, and the
 * call runs without calling it, for a load and a test. The words are the
 * running task's own, valid for its whole system call; a filter that another
 * thread installs with SECCOMP_FILTER_FLAG_TSYNC sets the work bit, which the
 * next call of the batch sees.
 */
void ferrocall_batch_watch(struct ferrocall_watch *watch)
{
	struct thread_info *ti = current_thread_info();

	watch->flags = &ti->flags;
	watch->work = &ti->syscall_work;
	watch->flags_mask = _TIF_SIGPENDING | _TIF_NOTIFY_SIGNAL |
			    _TIF_NEED_RESCHED;
	watch->work_mask = SYSCALL_WORK_SECCOMP;
}

/**
 * ferrocall_batch_next - may the next call of a batch run?
 * @ran:  how many calls of the batch have run before it
 *
 * Between two calls a batch yields the CPU if it should, as a loop of lone
 * calls would on each return to user mode, and a pending signal ends the
 * batch there, as it would interrupt such a loop. Only a task with seccomp
 * filters has the call presented to them (ferrocall_seccomp_filter()). A
 * batch calls this only when a bit of ferrocall_batch_watch() is set; a call
 * held at entry asks it (@ran 0) before it is shown decoded.
 *
 * Return: -EINTR if a signal is pending and @ran calls ran; 1 if the task's
 * seccomp filters must judge the call; otherwise 0, the call may run.
 */
int ferrocall_batch_next(unsigned long ran)
{
	if (ran) {
		cond_resched();
		if (signal_pending(current))
			return -EINTR;
	}
#ifdef CONFIG_SECCOMP_FILTER
	if (unlikely(test_syscall_work(SECCOMP)))
		return 1;
#endif
	return 0;
}
