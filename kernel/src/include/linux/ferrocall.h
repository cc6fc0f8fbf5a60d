/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FERROCALL_H
#define _LINUX_FERROCALL_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <uapi/linux/ferrocall.h>
#include <uapi/linux/openat2.h>

#ifdef CONFIG_FERROCALL

/* The most argument words of an operation the handler runs from its copy. */
#define FERROCALL_HELD_WORDS	5

/**
 * struct ferrocall_entry - a typed call between the entry and the exit work
 * @kind: FERROCALL_ENTRY_NONE for any other system call (the one field set on
 *        every entry), a typed call answered in registers and run as its
 *        legacy twin included; FERROCALL_ENTRY_REFUSED for a request refused
 *        at entry, FERROCALL_ENTRY_LOADED for a call without a twin whose
 *        request was read at entry (presented as ferrocall(op, size,
 *        request), run by the handler from @held), FERROCALL_ENTRY_TWIN for
 *        a typed call run as its twin and answered in place,
 *        FERROCALL_ENTRY_HELD for one presented as its twin and run by the
 *        handler from @held
 * @words: for FERROCALL_ENTRY_LOADED, how many words of @held were read
 * @op: the operation, for FERROCALL_ENTRY_LOADED and FERROCALL_ENTRY_HELD
 * @flags: the request's header flags (FERROCALL_ANSWER_IN_REGISTERS), for
 *         FERROCALL_ENTRY_LOADED, FERROCALL_ENTRY_TWIN and FERROCALL_ENTRY_HELD
 * @error: for FERROCALL_ENTRY_REFUSED, its -errno
 * @size: for FERROCALL_ENTRY_REFUSED and FERROCALL_ENTRY_LOADED, the request
 *        size the call was presented with
 * @addr: the request's user address
 * @regs: the caller's RDI, RSI, RDX, R10, R8 and R9, kept for a call
 *        answered in place or run from @held, and put back after it
 * @held: for FERROCALL_ENTRY_LOADED and FERROCALL_ENTRY_HELD, the request's
 *        arguments as copied in at entry: what runs, whatever user memory
 *        holds by then
 *
 * Lives on the stack of do_syscall_64() for one system call.
 */
struct ferrocall_entry {
	u8 kind;
	u8 words;
	u16 op;
	u32 flags;
	long error;
	unsigned long size;
	unsigned long addr;
	unsigned long regs[6];
	u64 held[FERROCALL_HELD_WORDS];
};

#define FERROCALL_ENTRY_NONE	0
#define FERROCALL_ENTRY_REFUSED	1
#define FERROCALL_ENTRY_LOADED	2
#define FERROCALL_ENTRY_TWIN	3
#define FERROCALL_ENTRY_HELD	4

/**
 * ferrocall_syscall - run ferrocall(op, size, request)
 * @regs: the task's registers: the operation number in RDI, the request size
 *        in RSI and the user address of the request in RDX
 *
 * Implemented in Rust (kernel/ferrocall/ferrocall.rs). Copies the request
 * in once, checks it against the operation and size, runs it and writes the
 * answer back into the request, or, if the request asks for it
 * (FERROCALL_ANSWER_IN_REGISTERS), its value into RDX and
 * FERROCALL_ANSWER_DONE into R10. Runs only operations without a legacy
 * twin: the others are presented and run as their twin (ferrocall_enter()).
 *
 * Return: 0 when the answer was given and reports success, otherwise a
 * negative errno.
 */
long ferrocall_syscall(struct pt_regs *regs);

/*
 * Implemented in Rust: copies in and decodes a lone request of an operation
 * with a legacy twin (the entry code calls it for no other). Returns the
 * twin's number with its arguments in @args and the request's flags in
 * @flags, or -errno for a request that does not decode. For an operation the
 * handler runs from its copy, also its argument words in @held.
 */
long ferrocall_twin(unsigned long op, unsigned long size, unsigned long addr,
		    unsigned long *args, u32 *flags, u64 *held);

/*
 * Implemented in Rust, for a call held at entry (FERROCALL_ENTRY_HELD):
 * ferrocall_held_unchanged() says whether @nr and @args are still the twin
 * it was presented as; ferrocall_run_held() shows it to seccomp decoded and
 * runs it from @held, returning what its twin would (a value or -errno).
 */
bool ferrocall_held_unchanged(unsigned long op, unsigned long addr,
			      const u64 *held, unsigned long nr,
			      const unsigned long *args);
long ferrocall_run_held(unsigned long op, const u64 *held);

/*
 * Implemented in Rust, for a call without a twin read at entry
 * (FERROCALL_ENTRY_LOADED): runs ferrocall(op, size, request) from @regs as
 * ferrocall_syscall() does, but from the argument words (@fc->words of
 * @fc->held) and the header flags (@fc->flags) read at entry when the
 * operation and size are still those of the request read at entry.
 */
long ferrocall_run_loaded(struct pt_regs *regs,
			  const struct ferrocall_entry *fc);

/*
 * Puts the six arguments of a system call in the registers the x86_64 entry
 * code passes them in (RDI, RSI, RDX, R10, R8, R9): the counterpart of
 * syscall_get_arguments(), which Linux 6.12 does not have for x86_64.
 */
static __always_inline void ferrocall_set_arguments(struct pt_regs *regs,
						    const unsigned long *args)
{
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

/* Implemented in kernel/ferrocall/entry.c. */
long ferrocall_hold(struct pt_regs *regs, struct ferrocall_entry *fc, long nr);
void ferrocall_answer_in_place(struct pt_regs *regs,
			       struct ferrocall_entry *fc, bool ran);

/*
 * Whether a call presented as ferrocall(op, size, request) still is after the
 * entry work (FERROCALL_ENTRY_REFUSED and FERROCALL_ENTRY_LOADED record what
 * was presented): a tracer may have changed RDI, RSI or RDX.
 */
static __always_inline bool ferrocall_as_presented(struct pt_regs *regs,
						   struct ferrocall_entry *fc)
{
	return regs->dx == fc->addr && regs->di == fc->op &&
	       regs->si == fc->size;
}

/**
 * ferrocall_syscall_done - finish a typed call that ran as its twin
 * @regs: the task's registers, the twin's result in regs->ax
 * @fc:   what ferrocall_enter() recorded
 * @ran:  false if the entry work skipped the call
 *
 * A call that asked for its answer in registers has it (it left @fc as any
 * system call does): nothing to do, but for a restart of a call run from its
 * copy. One that did not gets it written into its request, and its registers
 * back.
 */
static __always_inline void ferrocall_syscall_done(struct pt_regs *regs,
						   struct ferrocall_entry *fc,
						   bool ran)
{
	if (unlikely(fc->kind >= FERROCALL_ENTRY_TWIN))
		ferrocall_answer_in_place(regs, fc, ran);
}

/*
 * The thread flags that send a batch's call to ferrocall_batch_next() (a
 * pending signal, a reschedule), and the part of the syscall work that is
 * seccomp's, whose action cache may answer for the filters: constants, as
 * an enum so that the Rust side's bindings have their values.
 */
enum {
	FERROCALL_WATCH_FLAGS = _TIF_SIGPENDING | _TIF_NOTIFY_SIGNAL |
				_TIF_NEED_RESCHED,
	FERROCALL_WATCH_SECCOMP = SYSCALL_WORK_SECCOMP,
};

/**
 * struct ferrocall_watch - the flag words a batch tests before each call
 * @flags: the current task's thread flags (FERROCALL_WATCH_FLAGS send a call
 *         to ferrocall_batch_next())
 * @work: the current task's syscall work flags
 * @work_mask: the syscall work that sends a call to ferrocall_batch_next():
 *             seccomp filters (FERROCALL_WATCH_SECCOMP), the syscall
 *             tracepoints, and audit when it keeps records
 * @filter: where the current task's newest seccomp filter is read (a static
 *          NULL pointer without CONFIG_SECCOMP_FILTER): the action cache that
 *          answers is that filter's, fixed when it was attached, so a verdict
 *          of it holds as long as this pointer reads the same
 */
struct ferrocall_watch {
	const unsigned long *flags;
	const unsigned long *work;
	unsigned long work_mask;
	const void *const *filter;
};

/*
 * Implemented in kernel/ferrocall/batch.c, out of line for the Rust side.
 * ferrocall_batch_next() and ferrocall_seccomp_filter() answer
 * FERROCALL_BATCH_ALONE when a batch must stop before the call, for the
 * caller to make it alone (FERROCALL_BATCH_RESUMABLE).
 */
#define FERROCALL_BATCH_FILTER	1
#define FERROCALL_BATCH_ALONE	2
#define FERROCALL_BATCH_WATCHED	4
bool ferrocall_batch_observed(void);
void ferrocall_batch_watch(struct ferrocall_watch *watch);
int ferrocall_batch_next(unsigned long ran);
void ferrocall_batch_enter_call(unsigned long nr, const unsigned long *args,
				unsigned long audited);
void ferrocall_batch_exit_call(unsigned long nr, const unsigned long *args,
			       long ret);
void ferrocall_batch_end(unsigned long audited);
int ferrocall_seccomp_filter(unsigned long nr, const unsigned long *args,
			     int how);

/* How ferrocall_seccomp_filter() applies a verdict. */
#define FERROCALL_FILTER_LONE		0
#define FERROCALL_FILTER_BATCH		1
#define FERROCALL_FILTER_RESUMABLE	2

/*
 * In kernel/seccomp.c, beside the action cache and the filter run they use
 * (batch.c without filters).
 */
#define FERROCALL_SECCOMP_ALLOW	0
#define FERROCALL_SECCOMP_APPLY	1
#define FERROCALL_SECCOMP_ALONE	2
bool ferrocall_seccomp_cache_allows(int nr);
int ferrocall_seccomp_batch_verdict(void);

/*
 * Typed calls are enabled per address space, see PR_FERROCALL. Since mm->flags
 * became the bitmap mm_flags_t (NUM_MM_FLAG_BITS), it is read through
 * mm_flags_test(); before, it was a plain unsigned long.
 */
static __always_inline bool ferrocall_mm_enabled(struct mm_struct *mm)
{
#ifdef NUM_MM_FLAG_BITS
	return mm_flags_test(MMF_FERROCALL, mm);
#else
	return test_bit(MMF_FERROCALL, &mm->flags);
#endif
}

static __always_inline bool ferrocall_enabled(struct task_struct *tsk)
{
	return tsk->mm && ferrocall_mm_enabled(tsk->mm);
}

/*
 * Whether the current task's SYSCALL with a request address in RAX is a typed
 * call: in an address space that opted in, and not in a thread that armed
 * Syscall User Dispatch. A dispatcher's handler must see the registers as the
 * thread passed them (its own numbers may look like request addresses), so
 * such a thread gets the stock meaning of every RAX value, and the library
 * its legacy calls. A task that makes a system call from user mode has an
 * address space (only do_exit() drops it, and the task never returns to user
 * mode after that): current->mm is not tested for NULL here.
 */
static __always_inline bool ferrocall_takes_typed_calls(void)
{
	return ferrocall_mm_enabled(current->mm) &&
	       !test_syscall_work(SYSCALL_USER_DISPATCH);
}

/**
 * ferrocall_run - run ferrocall(op, size, request) for do_syscall_64()
 * @regs: the task's registers after the entry work: RDI, RSI and RDX hold
 *        the operation, the size and the request address
 * @fc:   what ferrocall_enter() recorded
 *
 * Runs a call read at entry from its copy if the entry work left the
 * operation, size and request address as presented; it was made in a process
 * that opted in. Otherwise, in a process that opted in, runs a call held at
 * entry from its copy, as the twin it was presented as; answers the refusal
 * of a request that did not decode at entry, if still as presented; and
 * reads afresh the request the registers name, as for a call a tracer
 * changed, a restart of a typed call or the call made by number.
 *
 * Return: false if the process did not opt in (__NR_ferrocall is then an
 * unused number), else true with the system call's result in RAX.
 */
static __always_inline bool ferrocall_run(struct pt_regs *regs,
					  struct ferrocall_entry *fc)
{
	long ret;

	if (likely(fc->kind == FERROCALL_ENTRY_LOADED) &&
	    ferrocall_as_presented(regs, fc))
		ret = ferrocall_run_loaded(regs, fc);
	else if (!ferrocall_enabled(current))
		return false;
	else if (unlikely(fc->kind == FERROCALL_ENTRY_HELD))
		ret = ferrocall_run_held(fc->op, fc->held);
	else if (unlikely(fc->kind == FERROCALL_ENTRY_REFUSED) &&
		 ferrocall_as_presented(regs, fc))
		ret = fc->error;
	else
		ret = ferrocall_syscall(regs);
	regs->ax = ret;
	return true;
}

#else /* !CONFIG_FERROCALL */

struct ferrocall_entry {
};

static __always_inline void ferrocall_syscall_done(struct pt_regs *regs,
						   struct ferrocall_entry *fc,
						   bool ran)
{
}

static __always_inline bool ferrocall_enabled(struct task_struct *tsk)
{
	return false;
}

#endif /* CONFIG_FERROCALL */

#endif /* _LINUX_FERROCALL_H */
