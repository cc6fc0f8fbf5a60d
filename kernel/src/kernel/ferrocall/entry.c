// SPDX-License-Identifier: GPL-2.0
/*
 * A lone typed call of an operation with a legacy twin is that twin: before
 * the syscall entry work runs, ferrocall_enter() copies the request in once,
 * decodes it and puts the twin's number and arguments in pt_regs: a request
 * of the size this ABI knows with the table generated from the ABI crate
 * (<linux/ferrocall_entry.h>, inlined in do_syscall_64()), any other here,
 * with the Rust decoder, which gives every errno.
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
#include <linux/ferrocall_entry.h>
#include <linux/ptrace.h>
#include <linux/uaccess.h>

#include <asm/syscall.h>

/*
 * ferrocall_enter() for every request its fast path does not take, which
 * leaves @regs as the caller made them. One of an operation without a twin is
 * ferrocall(op, size, request), for the handler to read and decide. One of an
 * operation with a twin is decided by the Rust decoder, which gives every
 * errno: one that asks for its answer in place, one of an operation run from
 * its copy (held), one the fast path could not read or that has an unexpected
 * header or a padding bit set. Returns the twin's number with its arguments
 * in @regs, or __NR_ferrocall, for a refusal too (recorded in @fc), or
 * FERROCALL_HELD_AT_ENTRY for a call held (its twin's number in orig_ax).
 */
noinline long ferrocall_enter_slow(struct pt_regs *regs,
				   struct ferrocall_entry *fc)
{
	unsigned long op = regs->di, size = regs->si, addr = regs->orig_ax;
	const struct ferrocall_twin *t;
	unsigned long args[6];
	long nr;

	if (op >= FERROCALL_OPS)
		return ferrocall_present(regs, op, size);
	t = ferrocall_twin_of(op);
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
	return t->held ? FERROCALL_HELD_AT_ENTRY : nr;
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
