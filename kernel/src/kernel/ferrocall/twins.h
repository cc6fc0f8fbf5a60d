/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The legacy twin of each typed operation, for the entry code's fast path
 * (ferrocall_twin_fast() in entry.c): the twin's system call number, the
 * size of a request of this ABI, and where each of the twin's argument
 * registers is in the request's argument words. The table below is generated
 * from the ABI crate's operation table, the one definition of the ABI
 * (crates/abi/src/abi/ops.rs); tests/kernel_header.rs checks that it is up to
 * date, and that it builds the registers the Rust decoder builds.
 */
#ifndef _KERNEL_FERROCALL_TWINS_H
#define _KERNEL_FERROCALL_TWINS_H

#include <linux/types.h>
#include <uapi/linux/ferrocall.h>

/* Which part of an argument word a twin's argument register holds. */
#define FERROCALL_ARG_U64	0	/* the whole word */
#define FERROCALL_ARG_U32	1	/* the low half, zero-extended */
#define FERROCALL_ARG_S32	2	/* the low half, sign-extended */
#define FERROCALL_ARG_HI_U32	3	/* the high half, zero-extended */
#define FERROCALL_ARG_HI_S32	4	/* the high half, sign-extended */

#define FERROCALL_ARG(word, kind)	((word) << 3 | FERROCALL_ARG_##kind)

/* Room for the argument words of any operation with a twin. */
#define FERROCALL_TWIN_WORDS_MAX	4

/**
 * struct ferrocall_twin - how a typed operation is presented as its twin
 * @nr:    the twin's system call number
 * @size:  the size of a request of this ABI; 0 for an operation without a
 *         twin, which is presented as __NR_ferrocall
 * @words: how many 8-byte words its arguments are
 * @nargs: how many of the twin's argument registers it fills (the rest are 0)
 * @arg:   per register, FERROCALL_ARG(word, kind)
 * @zero:  per argument word, the bits that must be zero (padding)
 */
struct ferrocall_twin {
	u16 nr;
	u8 size;
	u8 words;
	u8 nargs;
	u8 arg[6];
	u64 zero[FERROCALL_TWIN_WORDS_MAX];
};

/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */
/* Operation numbers are below this. */
#define FERROCALL_OPS		12

/* The most argument words of an operation with a twin. */
#define FERROCALL_TWIN_WORDS	3
static_assert(FERROCALL_TWIN_WORDS <= FERROCALL_TWIN_WORDS_MAX);

static const struct ferrocall_twin ferrocall_twins[FERROCALL_OPS] = {
	[FERROCALL_OP_GETPID] = {	/* getpid() */
		.nr = 39, .size = 32, .words = 0, .nargs = 0,
	},
	[FERROCALL_OP_GETPPID] = {	/* getppid() */
		.nr = 110, .size = 32, .words = 0, .nargs = 0,
	},
	[FERROCALL_OP_WRITE] = {	/* write(fd, buf) */
		.nr = 1, .size = 56, .words = 3, .nargs = 3,
		.arg = { FERROCALL_ARG(0, S32), FERROCALL_ARG(1, U64), FERROCALL_ARG(2, U64) },
		.zero = { 0xffffffff00000000, 0x0, 0x0 },
	},
	[FERROCALL_OP_READ] = {	/* read(fd, buf) */
		.nr = 0, .size = 56, .words = 3, .nargs = 3,
		.arg = { FERROCALL_ARG(0, S32), FERROCALL_ARG(1, U64), FERROCALL_ARG(2, U64) },
		.zero = { 0xffffffff00000000, 0x0, 0x0 },
	},
	[FERROCALL_OP_EXIT] = {	/* exit_group(code) */
		.nr = 231, .size = 40, .words = 1, .nargs = 1,
		.arg = { FERROCALL_ARG(0, S32) },
		.zero = { 0xffffffff00000000 },
	},
	[FERROCALL_OP_GETCWD] = {	/* getcwd(buf) */
		.nr = 79, .size = 48, .words = 2, .nargs = 2,
		.arg = { FERROCALL_ARG(0, U64), FERROCALL_ARG(1, U64) },
	},
	[FERROCALL_OP_GETUID] = {	/* getuid() */
		.nr = 102, .size = 32, .words = 0, .nargs = 0,
	},
};
/* END GENERATED */

#endif /* _KERNEL_FERROCALL_TWINS_H */
