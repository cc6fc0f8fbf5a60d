/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The legacy twin of each typed operation, for the entry code's fast path
 * (ferrocall_enter() in entry.c): the twin's system call number, the
 * size of a request of this ABI, and how the twin's argument registers are
 * made from the request's argument words, their padding checked. What
 * follows is generated from the ABI crate's operation table, the one
 * definition of the ABI
 * (crates/abi/src/abi/ops.rs); tests/kernel_header.rs checks that it is up to
 * date, and that it builds the registers the Rust decoder builds.
 */
#ifndef _KERNEL_FERROCALL_TWINS_H
#define _KERNEL_FERROCALL_TWINS_H

#include <linux/ferrocall.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include <asm/ptrace.h>

/**
 * struct ferrocall_twin - how a typed operation is presented as its twin
 * @head:  the first word of a request the fast path takes: its size (the
 *         size of a request of this ABI) and operation (FERROCALL_HEAD());
 *         0 for an operation it never takes, one run from its copy (@held)
 * @nr:    the twin's system call number; __NR_ferrocall for an operation
 *         without a twin
 * @held:  1 for an operation the handler runs from its copy: always decoded
 *         by the Rust decoder, never by the fast path
 * @words: for an operation without a twin, how many argument words a request
 *         of this ABI has, which the entry code reads for the handler (which
 *         decodes and checks them)
 *
 * How a twin's arguments are read is ferrocall_twin_load(), below.
 */
struct ferrocall_twin {
	u64 head;
	u16 nr;
	u8 held;
	u8 words;
};

/* The first word of a request header: its size, then its operation. */
#define FERROCALL_HEAD(size, op)	((u64)(size) | (u64)(op) << 32)

/* The size of a request the fast path takes, 0 for none (see @head). */
static __always_inline u32 ferrocall_twin_size(const struct ferrocall_twin *t)
{
	return (u32)t->head;
}

/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */
/* Operation numbers are below this. */
#define FERROCALL_OPS		13

static const struct ferrocall_twin ferrocall_twins[FERROCALL_OPS] = {
	[FERROCALL_OP_USELESS] = {	/* ferrocall(), read at entry */
		.nr = __NR_ferrocall, .words = 1,
		.head = FERROCALL_HEAD(40, FERROCALL_OP_USELESS),
	},
	[FERROCALL_OP_GETPID] = {	/* getpid() */
		.nr = 39,
		.head = FERROCALL_HEAD(32, FERROCALL_OP_GETPID),
	},
	[FERROCALL_OP_GETPPID] = {	/* getppid() */
		.nr = 110,
		.head = FERROCALL_HEAD(32, FERROCALL_OP_GETPPID),
	},
	[FERROCALL_OP_WRITE] = {	/* write(fd, buf) */
		.nr = 1,
		.head = FERROCALL_HEAD(56, FERROCALL_OP_WRITE),
	},
	[FERROCALL_OP_READ] = {	/* read(fd, buf) */
		.nr = 0,
		.head = FERROCALL_HEAD(56, FERROCALL_OP_READ),
	},
	[FERROCALL_OP_EXIT] = {	/* exit_group(code) */
		.nr = 231,
		.head = FERROCALL_HEAD(40, FERROCALL_OP_EXIT),
	},
	[FERROCALL_OP_GETCWD] = {	/* getcwd(buf) */
		.nr = 79,
		.head = FERROCALL_HEAD(48, FERROCALL_OP_GETCWD),
	},
	[FERROCALL_OP_PROBE] = {	/* ferrocall(), read at entry */
		.nr = __NR_ferrocall, .words = 2,
		.head = FERROCALL_HEAD(48, FERROCALL_OP_PROBE),
	},
	[FERROCALL_OP_BATCH] = {	/* ferrocall(), read at entry */
		.nr = __NR_ferrocall, .words = 3,
		.head = FERROCALL_HEAD(56, FERROCALL_OP_BATCH),
	},
	[FERROCALL_OP_PACKED_BATCH] = {	/* ferrocall(), read at entry */
		.nr = __NR_ferrocall, .words = 5,
		.head = FERROCALL_HEAD(72, FERROCALL_OP_PACKED_BATCH),
	},
	[FERROCALL_OP_GETUID] = {	/* getuid() */
		.nr = 102,
		.head = FERROCALL_HEAD(32, FERROCALL_OP_GETUID),
	},
	[FERROCALL_OP_OPEN] = {	/* openat2(dirfd, path, &how), run from the copy */
		.nr = 437, .held = 1,
	},
};

/* The entry record holds the argument words of every operation without a twin. */
static_assert(5 <= FERROCALL_HELD_WORDS);

/*
 * Reads the argument words of a request of operation @op, which the fast
 * path takes, from @args (inside a user-access window), and puts the twin's
 * arguments in @regs. False for a word it cannot read or with a padding
 * bit set, and for an operation it does not present: @regs are then as
 * they were.
 */
static __always_inline bool ferrocall_twin_load(struct pt_regs *regs,
						const u64 __user *args,
						unsigned long op)
{
	u64 w[3];

	switch (op) {
	case FERROCALL_OP_GETPID:	/* getpid() */
	case FERROCALL_OP_GETPPID:	/* getppid() */
	case FERROCALL_OP_GETUID:	/* getuid() */
		regs->di = 0;
		regs->si = 0;
		regs->dx = 0;
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return true;
	case FERROCALL_OP_WRITE:	/* write(fd, buf) */
	case FERROCALL_OP_READ:	/* read(fd, buf) */
		unsafe_get_user(w[0], &args[0], fail);
		if (w[0] & 0xffffffff00000000)
			goto fail;
		unsafe_get_user(w[1], &args[1], fail);
		unsafe_get_user(w[2], &args[2], fail);
		regs->di = (long)(s32)w[0];
		regs->si = w[1];
		regs->dx = w[2];
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return true;
	case FERROCALL_OP_EXIT:	/* exit_group(code) */
		unsafe_get_user(w[0], &args[0], fail);
		if (w[0] & 0xffffffff00000000)
			goto fail;
		regs->di = (long)(s32)w[0];
		regs->si = 0;
		regs->dx = 0;
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return true;
	case FERROCALL_OP_GETCWD:	/* getcwd(buf) */
		unsafe_get_user(w[0], &args[0], fail);
		unsafe_get_user(w[1], &args[1], fail);
		regs->di = w[0];
		regs->si = w[1];
		regs->dx = 0;
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return true;
	}
fail:
	return false;
}

/* END GENERATED */

#endif /* _KERNEL_FERROCALL_TWINS_H */
