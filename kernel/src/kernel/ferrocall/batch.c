// SPDX-License-Identifier: GPL-2.0
/*
 * The calls of a ferrocall batch must be seen as if each were made alone:
 * seccomp filters each one as the lone typed call would be presented (its
 * legacy twin, or __NR_ferrocall(op, size, request)); a verdict that needs a
 * lone call's registers stops a resumable batch before the call; audit and
 * the syscall tracepoints are shown each call as that presentation; and
 * while a ptrace tracer watches the task, batches are refused so that the
 * caller makes its calls one by one. A batch is never a way around a filter
 * or an observer.
 */

#include <linux/audit.h>
#include <linux/entry-common.h>
#include <linux/err.h>
#include <linux/ferrocall.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/string.h>

#include <asm/syscall.h>
#include <trace/events/syscalls.h>

/**
 * ferrocall_batch_observed - whether a batch must be refused
 *
 * Syscall-stop tracers and emulators (ptrace) stop the task at each system
 * call's entry and exit, and may change its registers there. While one
 * watches the current task, a batch is refused (-EOPNOTSUPP) and the caller
 * falls back to making its calls one by one, each seen exactly as a lone
 * call. Audit and the syscall tracepoints are shown each call of a batch
 * instead (ferrocall_batch_enter_call()).
 *
 * Return: true if the current task is observed that way.
 */
bool ferrocall_batch_observed(void)
{
	return test_syscall_work(SYSCALL_TRACE) ||
	       test_syscall_work(SYSCALL_EMU);
}

#ifdef CONFIG_AUDITSYSCALL
/* Whether audit keeps records of the current task's system calls. */
static bool ferrocall_batch_audited(void)
{
	return test_syscall_work(SYSCALL_AUDIT) && !audit_dummy_context();
}

/*
 * Audit keeps one record per system call, and warns on a second entry: the
 * first call of a batch ends the batch's own record first.
 */
static void ferrocall_audit_enter(unsigned long nr, const unsigned long *args,
				  unsigned long audited)
{
	if (!audited)
		__audit_syscall_exit(1, 0);
	__audit_syscall_entry(nr, args[0], args[1], args[2], args[3]);
}

static void ferrocall_audit_exit(long ret)
{
	__audit_syscall_exit(!IS_ERR_VALUE(ret), ret);
}

static void ferrocall_audit_reopen(const struct pt_regs *regs)
{
	__audit_syscall_entry(regs->orig_ax, regs->di, regs->si, regs->dx,
			      regs->r10);
}
#else
static bool ferrocall_batch_audited(void)
{
	return false;
}

static void ferrocall_audit_enter(unsigned long nr, const unsigned long *args,
				  unsigned long audited)
{
}

static void ferrocall_audit_exit(long ret)
{
}

static void ferrocall_audit_reopen(const struct pt_regs *regs)
{
}
#endif

/**
 * ferrocall_batch_enter_call - show a call of a batch to audit and tracepoints
 * @nr:      the system call it is presented as
 * @args:    its six arguments
 * @audited: how many calls of this batch audit was shown before
 *
 * As the syscall entry work does for a lone call, after seccomp: the
 * sys_enter tracepoint fires with the call's registers in pt_regs (so the
 * per-syscall events, syscalls:sys_enter_<twin>, see it), and audit opens a
 * record of it. Audit keeps one record per system call and warns on a second
 * entry, so the first call of a batch first ends the batch's own record,
 * which ferrocall_batch_end() opens again. Called only for a task that
 * ferrocall_batch_next() said is watched.
 */
void ferrocall_batch_enter_call(unsigned long nr, const unsigned long *args,
				unsigned long audited)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs saved;

	if (test_syscall_work(SYSCALL_TRACEPOINT)) {
		saved = *regs;
		regs->orig_ax = nr;
		ferrocall_set_arguments(regs, args);
		trace_sys_enter(regs, nr);
		*regs = saved;
	}
	if (ferrocall_batch_audited())
		ferrocall_audit_enter(nr, args, audited);
}

/**
 * ferrocall_batch_exit_call - end a call of a batch for audit and tracepoints
 * @nr:   the system call it was presented as
 * @args: its six arguments
 * @ret:  its result: a value or -errno, a restart code included
 *
 * As the syscall exit work does for a lone call: audit writes the record of
 * the call if its rules ask, and the sys_exit tracepoint fires with the call's
 * registers and result in pt_regs.
 */
void ferrocall_batch_exit_call(unsigned long nr, const unsigned long *args,
			       long ret)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs saved;

	if (ferrocall_batch_audited())
		ferrocall_audit_exit(ret);
	if (test_syscall_work(SYSCALL_TRACEPOINT)) {
		saved = *regs;
		regs->orig_ax = nr;
		ferrocall_set_arguments(regs, args);
		regs->ax = ret;
		trace_sys_exit(regs, ret);
		*regs = saved;
	}
}

/**
 * ferrocall_batch_end - the calls of a batch are over
 * @audited: how many calls of the batch audit was shown
 *
 * Opens the batch's own audit record again, which its first call ended, so
 * that the syscall exit work ends it with the batch's result, as for any
 * system call.
 */
void ferrocall_batch_end(unsigned long audited)
{
	if (audited && ferrocall_batch_audited())
		ferrocall_audit_reopen(current_pt_regs());
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
 * @how:  FERROCALL_FILTER_LONE for a lone call shown decoded, which applies
 *        every verdict; FERROCALL_FILTER_BATCH for a call of a batch, which
 *        refuses with -EPERM a call whose verdict needs it made alone;
 *        FERROCALL_FILTER_RESUMABLE for one of a batch that may stop before it
 *        (FERROCALL_BATCH_RESUMABLE)
 *
 * For one call of a batch, the filters see the call as it would be presented
 * alone; for a call the handler runs from its copy, they also see it decoded,
 * ferrocall(op, fields...). So do a SECCOMP_RET_TRACE tracer and a
 * SECCOMP_RET_TRAP signal: the call's registers stand in the task's pt_regs
 * while the filters run, and the task's are put back afterwards. A filter
 * that kills does so. Called only when ferrocall_batch_next() says the task
 * has filters.
 *
 * Inside a batch, a call whose verdict is not ALLOW, ERRNO or a KILL
 * (ferrocall_seccomp_batch_verdict()) is not run there: a TRAP, TRACE,
 * USER_NOTIF or LOG verdict acts on the registers, the signal frame or the
 * record of a lone call, so a batch that may stop does so before it, for the
 * caller to make it alone, and one that may not refuses it.
 *
 * Return: 0 if the call may run; FERROCALL_BATCH_ALONE if the batch must stop
 * before it; otherwise the filters' negative errno, or -EPERM when they gave
 * none, or when they skipped the call or a tracer changed it, or the call
 * needs to be made alone (a call inside a batch is run as it was asked for or
 * not at all).
 */
int ferrocall_seccomp_filter(unsigned long nr, const unsigned long *args,
			     int how)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs saved = *regs;
	unsigned long now[6];
	bool permit, changed;
	int verdict;
	long ax;

	regs->orig_ax = nr;
	ferrocall_set_arguments(regs, args);

	verdict = how == FERROCALL_FILTER_LONE ? FERROCALL_SECCOMP_APPLY :
		  ferrocall_seccomp_batch_verdict();
	if (verdict == FERROCALL_SECCOMP_ALLOW) {
		*regs = saved;
		return 0;
	}
	if (verdict == FERROCALL_SECCOMP_ALONE) {
		*regs = saved;
		return how == FERROCALL_FILTER_RESUMABLE ? FERROCALL_BATCH_ALONE :
		       -EPERM;
	}
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
int ferrocall_seccomp_filter(unsigned long nr, const unsigned long *args,
			     int how)
{
	return 0;
}

bool ferrocall_seccomp_cache_allows(int nr)
{
	return false;
}
#endif

#ifndef CONFIG_SECCOMP_FILTER
/* The newest filter of every task, in a kernel without seccomp filters. */
static const void *const ferrocall_no_filter;
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
#ifdef CONFIG_SECCOMP_FILTER
	watch->filter = (const void *const *)&current->seccomp.filter;
#else
	watch->filter = &ferrocall_no_filter;
#endif
	watch->work_mask = SYSCALL_WORK_SECCOMP | SYSCALL_WORK_SYSCALL_TRACEPOINT;
	/* Audit enabled with no rule to apply (a dummy context) records nothing. */
	if (ferrocall_batch_audited())
		watch->work_mask |= SYSCALL_WORK_SYSCALL_AUDIT;
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
 * Return: FERROCALL_BATCH_ALONE if a signal is pending and @ran calls ran
 * (the batch stops there, or ends with -EINTR if it may not stop); otherwise
 * FERROCALL_BATCH_FILTER if the task's seccomp filters must judge the call,
 * and FERROCALL_BATCH_WATCHED if audit or the syscall tracepoints must be
 * shown it (ferrocall_batch_enter_call()), or 0: the call may run.
 */
int ferrocall_batch_next(unsigned long ran)
{
	int next = 0;

	if (ran) {
		cond_resched();
		if (signal_pending(current))
			return FERROCALL_BATCH_ALONE;
	}
#ifdef CONFIG_SECCOMP_FILTER
	if (unlikely(test_syscall_work(SECCOMP)))
		next |= FERROCALL_BATCH_FILTER;
#endif
	if (unlikely(test_syscall_work(SYSCALL_TRACEPOINT) ||
		     ferrocall_batch_audited()))
		next |= FERROCALL_BATCH_WATCHED;
	return next;
}
