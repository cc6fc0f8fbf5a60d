/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The legacy twin of each typed operation, for the entry code's fast path
 * (ferrocall_twin_fast() in entry.c): the twin's system call number, the
 * size of a request of this ABI, its padding, and how the twin's argument
 * registers are made from the request's argument words. What follows is generated
 * from the ABI crate's operation table, the one definition of the ABI
 * (crates/abi/src/abi/ops.rs); tests/kernel_header.rs checks that it is up to
 * date, and that it builds the registers the Rust decoder builds.
 */
#ifndef _KERNEL_FERROCALL_TWINS_H
#define _KERNEL_FERROCALL_TWINS_H

#include <linux/ferrocall.h>
#include <linux/types.h>

#include <asm/ptrace.h>

/* Room for the argument words of any operation with a twin: w0..w2 below. */
#define FERROCALL_TWIN_WORDS_MAX	3

/**
 * struct ferrocall_twin - how a typed operation is presented as its twin
 * @nr:    the twin's system call number
 * @size:  the size of a request of this ABI; 0 for an operation without a
 *         twin, which is presented as __NR_ferrocall
 * @words: how many 8-byte words its arguments are
 * @held:  1 for an operation the handler runs from its copy: always decoded
 *         by the Rust decoder, never by the fast path
 * @zero:  per argument word, the bits that must be zero (padding)
 */
struct ferrocall_twin {
	u16 nr;
	u8 size;
	u8 words;
	u8 held;
	u64 zero[FERROCALL_TWIN_WORDS_MAX];
};

static __always_inline void
ferrocall_set_twin_arguments(struct pt_regs *regs, unsigned long a0,
			     unsigned long a1, unsigned long a2,
			     unsigned long a3, unsigned long a4,
			     unsigned long a5)
{
	const unsigned long args[6] = { a0, a1, a2, a3, a4, a5 };

	ferrocall_set_arguments(regs, args);
}

/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */
/* Operation numbers are below this. */
#define FERROCALL_OPS		13

/* The most argument words of an operation with a twin. */
#define FERROCALL_TWIN_WORDS	3
static_assert(FERROCALL_TWIN_WORDS <= FERROCALL_TWIN_WORDS_MAX);

static const struct ferrocall_twin ferrocall_twins[FERROCALL_OPS] = {
	[FERROCALL_OP_GETPID] = {	/* getpid() */
		.nr = 39, .size = 32, .words = 0,
	},
	[FERROCALL_OP_GETPPID] = {	/* getppid() */
		.nr = 110, .size = 32, .words = 0,
	},
	[FERROCALL_OP_WRITE] = {	/* write(fd, buf) */
		.nr = 1, .size = 56, .words = 3,
		.zero = { 0xffffffff00000000, 0x0, 0x0 },
	},
	[FERROCALL_OP_READ] = {	/* read(fd, buf) */
		.nr = 0, .size = 56, .words = 3,
		.zero = { 0xffffffff00000000, 0x0, 0x0 },
	},
	[FERROCALL_OP_EXIT] = {	/* exit_group(code) */
		.nr = 231, .size = 40, .words = 1,
		.zero = { 0xffffffff00000000 },
	},
	[FERROCALL_OP_GETCWD] = {	/* getcwd(buf) */
		.nr = 79, .size = 48, .words = 2,
	},
	[FERROCALL_OP_GETUID] = {	/* getuid() */
		.nr = 102, .size = 32, .words = 0,
	},
	[FERROCALL_OP_OPEN] = {	/* openat2(dirfd, path, &how), run from the copy */
		.nr = 437, .size = 72, .held = 1,
	},
};

/*
 * Puts the twin's arguments in @regs, from the argument words @w0..@w2 of a
 * request of operation @op, which has a twin.
 */
static __always_inline void ferrocall_twin_arguments(struct pt_regs *regs,
						     unsigned long op, u64 w0,
						     u64 w1, u64 w2)
{
	switch (op) {
	case FERROCALL_OP_GETPID:	/* getpid() */
		ferrocall_set_twin_arguments(regs, 0, 0, 0, 0, 0, 0);
		break;
	case FERROCALL_OP_GETPPID:	/* getppid() */
		ferrocall_set_twin_arguments(regs, 0, 0, 0, 0, 0, 0);
		break;
	case FERROCALL_OP_WRITE:	/* write(fd, buf) */
		ferrocall_set_twin_arguments(regs, (long)(s32)w0, w1, w2, 0, 0, 0);
		break;
	case FERROCALL_OP_READ:	/* read(fd, buf) */
		ferrocall_set_twin_arguments(regs, (long)(s32)w0, w1, w2, 0, 0, 0);
		break;
	case FERROCALL_OP_EXIT:	/* exit_group(code) */
		ferrocall_set_twin_arguments(regs, (long)(s32)w0, 0, 0, 0, 0, 0);
		break;
	case FERROCALL_OP_GETCWD:	/* getcwd(buf) */
		ferrocall_set_twin_arguments(regs, w0, w1, 0, 0, 0, 0);
		break;
	case FERROCALL_OP_GETUID:	/* getuid() */
		ferrocall_set_twin_arguments(regs, 0, 0, 0, 0, 0, 0);
		break;
	}
}

/* END GENERATED */

#endif /* _KERNEL_FERROCALL_TWINS_H */
