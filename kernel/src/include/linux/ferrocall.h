/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_FERROCALL_H
#define _LINUX_FERROCALL_H

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <uapi/linux/ferrocall.h>

#ifdef CONFIG_FERROCALL

/**
 * ferrocall_syscall - run one typed call
 * @op:   the operation number the caller passed in RDI
 * @size: the request size the caller passed in RSI
 * @addr: the user address of the request
 *
 * Implemented in Rust (kernel/ferrocall/ferrocall.rs). Copies the request
 * in once, checks it against @op and @size, runs it and writes the answer
 * back into the request.
 *
 * Return: 0 when the answer was written and reports success, otherwise a
 * negative errno.
 */
long ferrocall_syscall(unsigned long op, unsigned long size,
		       unsigned long addr);

/* Implemented in kernel/ferrocall/batch.c, out of line for the Rust side. */
bool ferrocall_batch_observed(void);
int ferrocall_batch_next(unsigned long op, unsigned long size,
			 unsigned long addr, unsigned long ran);

/*
 * Typed calls are enabled per address space, see PR_FERROCALL. Since mm->flags
 * became the bitmap mm_flags_t (NUM_MM_FLAG_BITS), it is read through
 * mm_flags_test(); before, it was a plain unsigned long.
 */
static __always_inline bool ferrocall_enabled(struct task_struct *tsk)
{
#ifdef NUM_MM_FLAG_BITS
	return tsk->mm && mm_flags_test(MMF_FERROCALL, tsk->mm);
#else
	return tsk->mm && test_bit(MMF_FERROCALL, &tsk->mm->flags);
#endif
}

#else /* !CONFIG_FERROCALL */

static __always_inline bool ferrocall_enabled(struct task_struct *tsk)
{
	return false;
}

#endif /* CONFIG_FERROCALL */

#endif /* _LINUX_FERROCALL_H */
