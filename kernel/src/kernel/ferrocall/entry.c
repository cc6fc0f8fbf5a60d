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
 */

#include <linux/errno.h>
#include <linux/ferrocall.h>
#include <linux/nospec.h>
#include <linux/ptrace.h>
#include <linux/uaccess.h>

#include <asm/syscall.h>

#include "twins.h"

/* One argument register of a twin, from the request's argument words @w. */
static __always_inline unsigned long ferrocall_twin_arg(u8 spec, const u64 *w)
{
	u64 v = w[spec >> 3];

	switch (spec & 7) {
	case FERROCALL_ARG_U32:
		return (u32)v;
	case FERROCALL_ARG_S32:
		return (long)(s32)v;
	case FERROCALL_ARG_HI_U32:
		return v >> 32;
	case FERROCALL_ARG_HI_S32:
		return (long)(s32)(v >> 32);
	default:
		return v;
	}
}

/*
 * The fast path of ferrocall_enter(), for a request of exactly the size this
 * ABI knows (@t->size, what RSI said): reads its header and its arguments in
 * one user-access window, and builds the twin's arguments from the table
 * (@args is zeroed: a twin with fewer arguments gets zeros in the others).
 * It only accepts: a request it cannot read, an unexpected header or a
 * padding bit set makes it return false, and the Rust decoder
 * (ferrocall_twin()) decides such a request, with the errno it gives. So the
 * table decides nothing the decoder would not, which tests/kernel_header.rs
 * checks on the host.
 */
static __always_inline bool ferrocall_twin_fast(const struct ferrocall_twin *t,
						unsigned long op,
						unsigned long addr,
						unsigned long *args, u32 *flags)
{
	const u64 __user *req = (const u64 __user *)addr;
	u64 head[2], w[FERROCALL_TWIN_WORDS_MAX];
	unsigned int i;

	if (addr % sizeof(u64))
		return false;
	if (can_do_masked_user_access())
		req = masked_user_access_begin(req);
	else if (!user_read_access_begin(req, t->size))
		return false;
	unsafe_get_user(head[0], &req[0], fault);
	unsafe_get_user(head[1], &req[1], fault);
	for (i = 0; i < t->words; i++)
		unsafe_get_user(w[i], &req[FERROCALL_ARGS_OFFSET / 8 + i], fault);
	user_read_access_end();

	/* The header's size and op, then its flags and reserved field. */
	if (head[0] != (t->size | (u64)op << 32) ||
	    head[1] & ~(u64)FERROCALL_ANSWER_IN_REGISTERS)
		return false;
	for (i = 0; i < t->words; i++)
		if (w[i] & t->zero[i])
			return false;
	for (i = 0; i < t->nargs; i++)
		args[i] = ferrocall_twin_arg(t->arg[i], w);
	*flags = head[1];
	return true;
fault:
	user_read_access_end();
	return false;
}

/* A typed call presented as ferrocall(op, size, request). */
static long ferrocall_present(struct pt_regs *regs)
{
	regs->dx = regs->orig_ax;
	regs->orig_ax = __NR_ferrocall;
	return __NR_ferrocall;
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
	unsigned long args[6] = {};
	long nr = t->nr;

	if (unlikely(regs->si != t->size ||
		     !ferrocall_twin_fast(t, op, addr, args, &fc->flags))) {
		nr = ferrocall_twin(op, regs->si, addr, args, &fc->flags);
		if (nr < 0) {
			fc->kind = FERROCALL_ENTRY_REFUSED;
			fc->error = nr;
		}
		if (nr < 0 || nr == __NR_ferrocall)
			return ferrocall_present(regs);
	}

	fc->kind = FERROCALL_ENTRY_TWIN;
	fc->addr = addr;
	/* Only a call answered in place gets the caller's registers back. */
	if (!(fc->flags & FERROCALL_ANSWER_IN_REGISTERS))
		syscall_get_arguments(current, regs, fc->regs);
	ferrocall_set_arguments(regs, args);
	regs->orig_ax = nr;
	return nr;
}

/**
 * ferrocall_enter - present a typed call to the syscall entry work
 * @regs: the task's registers; orig_ax holds the request address
 * @fc:   where to record what the exit needs
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
 * call, not its twin with the caller's registers.
 */
void ferrocall_answer_in_place(struct pt_regs *regs,
			       struct ferrocall_entry *fc, bool ran)
{
	struct ferrocall_answer answer = { .state = FERROCALL_ANSWER_DONE };
	long ret = regs->ax;

	ferrocall_set_arguments(regs, fc->regs);
	if (!ran)
		return;
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		regs->orig_ax = fc->addr;
		return;
	case -ERESTART_RESTARTBLOCK:
		ret = -EINTR;
		break;
	}
	if (ret < 0)
		answer.error = -ret;
	else
		answer.value = ret;
	if (copy_to_user((void __user *)(fc->addr + FERROCALL_ANSWER_OFFSET),
			 &answer, sizeof(answer)))
		ret = -EFAULT;
	regs->ax = ret < 0 ? ret : 0;
}
