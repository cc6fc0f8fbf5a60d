// SPDX-License-Identifier: GPL-2.0
/*
 * A lone typed call of an operation with a legacy twin is that twin: before
 * the syscall entry work runs, ferrocall_enter() copies the request in once,
 * decodes it (in Rust) and puts the twin's number and arguments in pt_regs.
 * ptrace, seccomp, audit and the syscall tracepoints then see, and the
 * system call table runs, exactly the legacy call, so every policy written
 * for the twin applies unchanged. The other typed calls are presented as
 * ferrocall(op, size, request), __NR_ferrocall.
 */

#include <linux/errno.h>
#include <linux/ferrocall.h>
#include <linux/ptrace.h>
#include <linux/uaccess.h>

#include <asm/syscall.h>

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
	unsigned long addr = regs->orig_ax;
	unsigned long args[6];
	long nr;

	nr = ferrocall_twin(regs->di, regs->si, addr, args, &fc->flags);
	if (nr < 0 || nr == __NR_ferrocall) {
		if (nr < 0) {
			fc->kind = FERROCALL_ENTRY_REFUSED;
			fc->error = nr;
		}
		regs->dx = addr;
		regs->orig_ax = __NR_ferrocall;
		return __NR_ferrocall;
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
