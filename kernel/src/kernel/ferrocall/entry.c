// SPDX-License-Identifier: GPL-2.0
/*
 * A lone typed call of an operation with a legacy twin is that twin: before
 * the syscall entry work runs, ferrocall_enter() copies the request in once,
 * decodes it and puts the twin's number and arguments in pt_regs: a request
 * of the size this ABI knows from the table generated from the ABI crate
 * (twins.h), any other with the Rust decoder, which gives every errno.
 * ptrace, seccomp, audit and the syscall tracepoints then see, and the
 * system call table runs, exactly the legacy call, so every policy written
 * for the twin applies unchanged. The other typed calls are presented as
 * ferrocall(op, size, request), __NR_ferrocall.
 *
 * An operation whose twin takes a struct by pointer (Open: openat2() and its
 * struct open_how) is presented as its twin too, the pointer aimed at the
 * struct inside the request, but the twin would read that struct again from
 * user memory after seccomp judged the call. So the table does not run it:
 * its arguments, as copied in and checked, are held in the entry record, and
 * the handler runs them (ferrocall_run_held()), after showing them decoded
 * to seccomp as well.
 */

#include <linux/errno.h>
#include <linux/ferrocall.h>
#include <linux/nospec.h>
#include <linux/ptrace.h>
#include <linux/uaccess.h>

#include <asm/syscall.h>

#include "twins.h"

/*
 * Before a typed call's registers become its twin's: only a call answered in
 * place gets the caller's registers back (ferrocall_answer_in_place()).
 */
static __always_inline void ferrocall_keep_arguments(struct pt_regs *regs,
						     struct ferrocall_entry *fc)
{
	if (!(fc->flags & FERROCALL_ANSWER_IN_REGISTERS))
		syscall_get_arguments(current, regs, fc->regs);
}

/*
 * The fast path of ferrocall_enter(), for a request of exactly the size this
 * ABI knows (@t->size, what RSI said): reads its header and its arguments in
 * one user-access window, and presents it as its twin from the table. It
 * only accepts: a request it cannot read, an unexpected header or a padding
 * bit set makes it return false with @regs untouched, and the Rust decoder
 * (ferrocall_twin()) decides such a request, with the errno it gives. So the
 * table decides nothing the decoder would not, which tests/kernel_header.rs
 * checks on the host.
 */
static __always_inline bool ferrocall_twin_fast(struct pt_regs *regs,
						struct ferrocall_entry *fc,
						const struct ferrocall_twin *t,
						unsigned long op)
{
	const u64 __user *req = (const u64 __user *)regs->orig_ax;
	const u64 __user *args;
	u64 head, flags, w0 = 0, w1 = 0, w2 = 0;

	if ((unsigned long)req % sizeof(u64))
		return false;
	if (can_do_masked_user_access())
		req = masked_user_access_begin(req);
	else if (!user_read_access_begin(req, t->size))
		return false;
	/* From the masked address: no read here may go past the user range. */
	args = req + FERROCALL_ARGS_OFFSET / sizeof(u64);
	unsafe_get_user(head, &req[0], fault);
	unsafe_get_user(flags, &req[1], fault);
	if (t->words > 0)
		unsafe_get_user(w0, &args[0], fault);
	if (t->words > 1)
		unsafe_get_user(w1, &args[1], fault);
	if (t->words > 2)
		unsafe_get_user(w2, &args[2], fault);
	user_read_access_end();

	/* The header's size and op, its flags and reserved field, padding. */
	if (head != (t->size | (u64)op << 32) ||
	    flags & ~(u64)FERROCALL_ANSWER_IN_REGISTERS ||
	    (w0 & t->zero[0]) | (w1 & t->zero[1]) | (w2 & t->zero[2]))
		return false;

	fc->flags = flags;
	fc->kind = FERROCALL_ENTRY_TWIN;
	ferrocall_keep_arguments(regs, fc);
	ferrocall_twin_arguments(regs, op, w0, w1, w2);
	return true;
fault:
	user_read_access_end();
	return false;
}

/*
 * A typed call presented as ferrocall(op, size, request). Its other three
 * arguments are 0, as for a call inside a batch, so that a filter sees the
 * same six values whoever made the call (the caller's R10, R8 and R9 are
 * clobbered, as the ABI says).
 */
static long ferrocall_present(struct pt_regs *regs)
{
	regs->r10 = 0;
	regs->r8 = 0;
	regs->r9 = 0;
	regs->dx = regs->orig_ax;
	regs->orig_ax = __NR_ferrocall;
	return __NR_ferrocall;
}

/*
 * The slow path of ferrocall_enter_twin(): any request the table does not
 * take, and every request of an operation run from its copy (@t->held), is
 * decided by the Rust decoder. Returns the twin's number with its arguments
 * in @regs, or -errno for a request refused here (recorded in @fc).
 */
static noinline long ferrocall_enter_decoded(struct pt_regs *regs,
					     struct ferrocall_entry *fc,
					     const struct ferrocall_twin *t,
					     unsigned long op)
{
	unsigned long args[6];
	long nr;

	nr = ferrocall_twin(op, regs->si, regs->orig_ax, args, &fc->flags,
			    fc->held);
	if (nr < 0) {
		fc->kind = FERROCALL_ENTRY_REFUSED;
		fc->error = nr;
		return nr;
	}
	if (t->held) {
		/* A restart must make the typed call again: keep its registers. */
		fc->kind = FERROCALL_ENTRY_HELD;
		fc->op = op;
		syscall_get_arguments(current, regs, fc->regs);
	} else {
		fc->kind = FERROCALL_ENTRY_TWIN;
		ferrocall_keep_arguments(regs, fc);
	}
	ferrocall_set_arguments(regs, args);
	return nr;
}

/*
 * ferrocall_enter() for an operation with a twin, out of line so that the
 * other typed calls do not pay for its frame.
 */
static noinline long ferrocall_enter_twin(struct pt_regs *regs,
					  struct ferrocall_entry *fc,
					  const struct ferrocall_twin *t,
					  unsigned long op)
{
	unsigned long addr = regs->orig_ax;
	long nr = t->nr;

	if (unlikely(t->held || regs->si != t->size ||
		     !ferrocall_twin_fast(regs, fc, t, op))) {
		nr = ferrocall_enter_decoded(regs, fc, t, op);
		if (nr < 0)
			return ferrocall_present(regs);
	}
	fc->addr = addr;
	regs->orig_ax = nr;
	return nr;
}

/**
 * ferrocall_enter - present a typed call to the syscall entry work
 * @regs: the task's registers; orig_ax holds the request address
 * @fc:   where to record what the dispatch and the exit need
 *
 * Return: the system call number the entry work and the table see: the
 * twin's, or __NR_ferrocall for an operation without one and for a request
 * refused here (the entry work sees it; do_syscall_64() answers the refusal
 * without running anything).
 */
long ferrocall_enter(struct pt_regs *regs, struct ferrocall_entry *fc)
{
	unsigned long op = regs->di;
	const struct ferrocall_twin *t;

	if (op < FERROCALL_OPS) {
		t = &ferrocall_twins[array_index_nospec(op, FERROCALL_OPS)];
		if (t->size)
			return ferrocall_enter_twin(regs, fc, t, op);
	}
	/* Without a twin, the call is ferrocall(op, size, request). */
	return ferrocall_present(regs);
}

/**
 * ferrocall_hold - dispatch a call held at entry, if it is still as presented
 * @regs: the task's registers after the entry work
 * @fc:   what ferrocall_enter() recorded (FERROCALL_ENTRY_HELD)
 * @nr:   the system call number the entry work left
 *
 * A call held at entry runs only as the call the entry work was shown. A
 * tracer that changed its number or arguments gets what it asked for: the
 * table runs that legacy call, and the typed call is answered as a twin.
 *
 * Return: __NR_ferrocall, for do_syscall_64() to run the held call, or @nr.
 */
long ferrocall_hold(struct pt_regs *regs, struct ferrocall_entry *fc, long nr)
{
	unsigned long now[6];

	syscall_get_arguments(current, regs, now);
	if (ferrocall_held_unchanged(fc->op, fc->addr, fc->held, nr, now))
		return __NR_ferrocall;
	fc->kind = FERROCALL_ENTRY_TWIN;
	return nr;
}

/**
 * ferrocall_answer_in_place - answer a twin call as ABI version 1 did
 * @regs: the task's registers, the twin's result in regs->ax
 * @fc:   what ferrocall_enter() recorded
 * @ran:  false if the entry work skipped the call
 *
 * A request without FERROCALL_ANSWER_IN_REGISTERS gets its answer slot
 * written and RAX set to 0 or -errno, and the caller's registers back. A call
 * the entry work skipped (a seccomp filter or a tracer) has no answer: RAX
 * keeps the refusal. A call that ends with a restart code gets the typed
 * call's registers back entirely, so that the signal code restarts the typed
 * call, not its twin with the caller's registers. A call run from its copy
 * that asked for its answer in registers comes here only for that restart:
 * its twin would read the request again.
 */
void ferrocall_answer_in_place(struct pt_regs *regs,
			       struct ferrocall_entry *fc, bool ran)
{
	struct ferrocall_answer answer = { .state = FERROCALL_ANSWER_DONE };
	long ret = regs->ax;
	bool restart = ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
		       ret == -ERESTARTNOHAND;

	if (fc->flags & FERROCALL_ANSWER_IN_REGISTERS) {
		if (ran && restart) {
			ferrocall_set_arguments(regs, fc->regs);
			regs->orig_ax = fc->addr;
		}
		return;
	}
	ferrocall_set_arguments(regs, fc->regs);
	if (!ran)
		return;
	if (restart) {
		regs->orig_ax = fc->addr;
		return;
	}
	if (ret == -ERESTART_RESTARTBLOCK)
		ret = -EINTR;
	if (ret < 0)
		answer.error = -ret;
	else
		answer.value = ret;
	if (copy_to_user((void __user *)(fc->addr + FERROCALL_ANSWER_OFFSET),
			 &answer, sizeof(answer)))
		ret = -EFAULT;
	regs->ax = ret < 0 ? ret : 0;
}
