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
 * A typed call presented as ferrocall(op, size, request), whatever the fast
 * path put in @regs before it gave up. Its other three arguments are 0, as
 * for a call inside a batch, so that a filter sees the same six values
 * whoever made the call (the caller's R10, R8 and R9 are clobbered, as the
 * ABI says).
 */
static long ferrocall_present(struct pt_regs *regs, unsigned long op,
			      unsigned long size)
{
	regs->di = op;
	regs->si = size;
	regs->r10 = 0;
	regs->r8 = 0;
	regs->r9 = 0;
	regs->dx = regs->orig_ax;
	regs->orig_ax = __NR_ferrocall;
	return __NR_ferrocall;
}

/*
 * ferrocall_enter() for every request its fast path does not take, which
 * leaves @regs as the caller made them. One of an operation without a twin is
 * ferrocall(op, size, request), for the handler to read and decide. One of an
 * operation with a twin is decided by the Rust decoder, which gives every
 * errno: one that asks for its answer in place, one of an operation run from
 * its copy (held), one the fast path could not read or that has an unexpected
 * header or a padding bit set. Returns the twin's number with its arguments
 * in @regs, or __NR_ferrocall, for a refusal too (recorded in @fc).
 */
static noinline long ferrocall_enter_slow(struct pt_regs *regs,
					  struct ferrocall_entry *fc)
{
	unsigned long op = regs->di, size = regs->si, addr = regs->orig_ax;
	const struct ferrocall_twin *t;
	unsigned long args[6];
	long nr;

	if (op >= FERROCALL_OPS)
		return ferrocall_present(regs, op, size);
	t = &ferrocall_twins[array_index_nospec(op, FERROCALL_OPS)];
	if (t->nr == __NR_ferrocall)
		return ferrocall_present(regs, op, size);
	nr = ferrocall_twin(op, size, addr, args, &fc->flags, fc->held);
	if (nr < 0) {
		fc->kind = FERROCALL_ENTRY_REFUSED;
		fc->error = nr;
		fc->op = op;
		fc->size = size;
		fc->addr = addr;
		return ferrocall_present(regs, op, size);
	}
	if (t->held) {
		/* A restart must make the typed call again: keep its registers. */
		fc->kind = FERROCALL_ENTRY_HELD;
		fc->op = op;
		syscall_get_arguments(current, regs, fc->regs);
	} else if (!(fc->flags & FERROCALL_ANSWER_IN_REGISTERS)) {
		/* Answered in place: the caller gets its registers back. */
		fc->kind = FERROCALL_ENTRY_TWIN;
		syscall_get_arguments(current, regs, fc->regs);
	}
	fc->addr = addr;
	ferrocall_set_arguments(regs, args);
	regs->orig_ax = nr;
	return nr;
}

/**
 * ferrocall_enter - present a typed call to the syscall entry work
 * @regs: the task's registers; orig_ax holds the request address
 * @fc:   where to record what the dispatch and the exit need
 *
 * The fast path takes an aligned request of exactly the size this ABI knows
 * for its operation (what RSI said), and reads it in one user-access window:
 * its header, then its argument words. A request of an operation with a twin
 * that asks for its answer in registers (what the library sends) has them
 * put straight into the twin's registers (ferrocall_twin_load(), generated
 * from the ABI table), and leaves @fc as for any system call: from here on
 * it is its twin. A request of an operation without a twin has them copied
 * into @fc, for the handler to run from that copy (ferrocall_run()), which
 * decodes them with every check of a lone call; the call is presented as
 * ferrocall(op, size, request).
 *
 * The fast path only accepts, and changes nothing before it does: any other
 * request goes to ferrocall_enter_slow(), where the Rust decoder
 * (ferrocall_twin()) decides one of an operation with a twin, with the errno
 * it gives, and sets every register it presents, and the handler reads any
 * other itself. So the fast path decides nothing the decoder would not, which
 * tests/kernel_header.rs checks on the host.
 *
 * Return: the system call number the entry work and the table see: the
 * twin's, or __NR_ferrocall for an operation without one and for a request
 * refused here (the entry work sees it; do_syscall_64() answers the refusal
 * without running anything).
 */
long ferrocall_enter(struct pt_regs *regs, struct ferrocall_entry *fc)
{
	unsigned long op = regs->di, addr = regs->orig_ax;
	const struct ferrocall_twin *t;
	const u64 __user *req;
	unsigned int i;
	u64 word;
	long nr;

	if (unlikely(op >= FERROCALL_OPS))
		return ferrocall_present(regs, op, regs->si);
	t = &ferrocall_twins[array_index_nospec(op, FERROCALL_OPS)];
	if (unlikely(!t->head || regs->si != ferrocall_twin_size(t) ||
		     addr % sizeof(u64)))
		return ferrocall_enter_slow(regs, fc);
	nr = t->nr;

	/* From here on, the size is the table's. */
	req = (const u64 __user *)addr;
	if (can_do_masked_user_access())
		req = masked_user_access_begin(req);
	else if (!user_read_access_begin(req, ferrocall_twin_size(t)))
		goto slow_closed;
	/* From the masked address: no read here may go past the user range. */
	unsafe_get_user(word, &req[0], slow);
	/* The header's size and op. */
	if (unlikely(word != t->head))
		goto slow;
	/* Its flags and reserved field. */
	unsafe_get_user(word, &req[1], slow);
	req += FERROCALL_ARGS_OFFSET / sizeof(u64);
	if (likely(word == FERROCALL_ANSWER_IN_REGISTERS)) {
		/* No case for an operation without a twin: it never answers so. */
		if (unlikely(!ferrocall_twin_load(regs, req, op)))
			goto slow;
		user_read_access_end();
		regs->orig_ax = nr;
		return nr;
	}
	if (word || nr != __NR_ferrocall)
		goto slow;
	/* Without a twin, answered in place: ferrocall(op, size, request). */
	for (i = 0; i < t->words; i++)
		unsafe_get_user(fc->held[i], &req[i], slow);
	user_read_access_end();
	fc->kind = FERROCALL_ENTRY_LOADED;
	fc->words = t->words;
	fc->op = op;
	fc->size = regs->si;
	fc->addr = addr;
	regs->dx = addr;
	regs->r10 = 0;
	regs->r8 = 0;
	regs->r9 = 0;
	regs->orig_ax = __NR_ferrocall;
	return __NR_ferrocall;
slow:
	user_read_access_end();
slow_closed:
	return ferrocall_enter_slow(regs, fc);
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
	/* From here on, it is its twin. */
	if (fc->flags & FERROCALL_ANSWER_IN_REGISTERS)
		fc->kind = FERROCALL_ENTRY_NONE;
	else
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
