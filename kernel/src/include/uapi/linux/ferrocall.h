/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_FERROCALL_H
#define _UAPI_LINUX_FERROCALL_H

#include <linux/types.h>

/*
 * ferrocall: typed system calls.
 *
 * A process that has opted in with prctl(PR_FERROCALL, PR_FERROCALL_ENABLE)
 * may execute SYSCALL with the address of a typed request in RAX, the
 * operation number in RDI and the request size in RSI. The layout of the
 * requests is defined once, in the ferrocall ABI crate: the operation
 * numbers, sizes and layouts below are generated from its table.
 *
 * A lone call of an operation with a legacy twin (write for WRITE, ...) is
 * presented to ptrace, seccomp, audit and the syscall tracepoints as that
 * twin, with the twin's arguments in RDI..R9, and runs as it. With the
 * header flag FERROCALL_ANSWER_IN_REGISTERS, RAX returns the twin's result
 * as the legacy call returns it, nothing is written into the request, and
 * RDI..R9 hold the twin's arguments. Without it, and for every other
 * operation (presented as ferrocall(op, size, request), RDX set to the
 * request address), RAX returns 0 or -errno: the answer slot is written when
 * the operation ran, and left pending when the request was refused before
 * it ran. Since ABI 5, a lone call of an operation without a twin may set
 * FERROCALL_ANSWER_IN_REGISTERS too: nothing is written into the request,
 * and when the operation ran, RAX is 0 or -errno, RDX the answer's value and
 * R10 FERROCALL_ANSWER_DONE; a call refused before it ran leaves R10 zero,
 * as it was presented (a call made by number passes R10 zero itself). RCX
 * and R11 are clobbered as for any SYSCALL.
 */

/* prctl() option: enable typed calls for the calling address space. */
#define PR_FERROCALL			0x46455252	/* "FERR" */
# define PR_FERROCALL_ENABLE		1
# define PR_FERROCALL_STATUS		2

/* The ABI version that PR_FERROCALL_ENABLE returns. */
#define FERROCALL_ABI_VERSION		5

/*
 * The system call number that ptrace, seccomp, audit and the syscall
 * tracepoints see for a typed call without a legacy twin, and for a batch:
 * ferrocall(op, size, request).
 */
#define __NR_ferrocall			1023

/*
 * RAX values below this (4 GiB) are always legacy system call numbers: every
 * value a 32-bit load into EAX gives, legacy, x32 or a negative int, keeps its
 * meaning. A library sends only request addresses whose low 32 bits are a
 * negative int, so that a kernel that does not take them answers ENOSYS.
 */
#define FERROCALL_MIN_ADDR		0x100000000ULL

/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */
/* Operation numbers: RDI, and the header's op. */
#define FERROCALL_OP_USELESS	1
#define FERROCALL_OP_GETPID	2
#define FERROCALL_OP_GETPPID	3
#define FERROCALL_OP_WRITE	4
#define FERROCALL_OP_READ	5
#define FERROCALL_OP_EXIT	6
#define FERROCALL_OP_GETCWD	7
#define FERROCALL_OP_PROBE	8
#define FERROCALL_OP_BATCH	9
#define FERROCALL_OP_PACKED_BATCH	10
#define FERROCALL_OP_GETUID	11
#define FERROCALL_OP_OPEN	12

/* The size of a whole request of each operation in this ABI: RSI. */
#define FERROCALL_SIZE_USELESS	40
#define FERROCALL_SIZE_GETPID	32
#define FERROCALL_SIZE_GETPPID	32
#define FERROCALL_SIZE_WRITE	56
#define FERROCALL_SIZE_READ	56
#define FERROCALL_SIZE_EXIT	40
#define FERROCALL_SIZE_GETCWD	48
#define FERROCALL_SIZE_PROBE	48
#define FERROCALL_SIZE_BATCH	56
#define FERROCALL_SIZE_PACKED_BATCH	72
#define FERROCALL_SIZE_GETUID	32
#define FERROCALL_SIZE_OPEN	72

/* Every request starts with a header, then the answer slot. */
struct ferrocall_header {
	__u32 size;	/* of the whole request */
	__u32 op;
	__u32 flags;	/* FERROCALL_ANSWER_IN_REGISTERS, or zero */
	__u32 reserved;	/* zero */
};

/* The answer slot, the only part of a request the kernel writes. */
struct ferrocall_answer {
	__u64 value;
	__u32 error;	/* 0 or an errno */
	__u32 state;	/* FERROCALL_ANSWER_* */
};

#define FERROCALL_ANSWER_PENDING	0
#define FERROCALL_ANSWER_DONE		1

/* Header flag (ABI 2): a lone call with a twin answers in RAX. */
#define FERROCALL_ANSWER_IN_REGISTERS	1

/* The answer slot starts at this offset of a request. */
#define FERROCALL_ANSWER_OFFSET	16

/* The arguments start at this offset of a request. */
#define FERROCALL_ARGS_OFFSET	32

/* A buffer in the caller's memory. */
struct ferrocall_buf {
	__u64 addr;
	__u64 len;
};

/* The arguments of each operation (none: no struct). */
struct ferrocall_useless_args {
	__u32 value;
	__u32 pad0;	/* zero */
};

struct ferrocall_write_args {
	__s32 fd;
	__u32 pad0;	/* zero */
	struct ferrocall_buf buf;	/* read by the kernel */
};

struct ferrocall_read_args {
	__s32 fd;
	__u32 pad0;	/* zero */
	struct ferrocall_buf buf;	/* written by the kernel */
};

struct ferrocall_exit_args {
	__s32 code;
	__u32 pad0;	/* zero */
};

struct ferrocall_getcwd_args {
	struct ferrocall_buf buf;	/* written by the kernel */
};

struct ferrocall_probe_args {
	struct ferrocall_buf buf;	/* written by the kernel */
};

struct ferrocall_batch_args {
	struct ferrocall_buf entries;	/* read by the kernel */
	__u32 flags;
	__u32 pad0;	/* zero */
};

struct ferrocall_packed_batch_args {
	struct ferrocall_buf requests;	/* read by the kernel */
	struct ferrocall_buf answers;	/* written by the kernel */
	__u32 flags;
	__u32 pad0;	/* zero */
};

struct ferrocall_open_args {
	__s32 dirfd;
	__u32 pad0;	/* zero */
	__u64 path;	/* a NUL-terminated path, read by the kernel */
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

/* One call of a batch: the registers of a lone typed call. */
struct ferrocall_batch_entry {
	__u32 op;
	__u32 size;
	__u64 addr;
};

/* The flags of a batch (ABI 4): it may stop before a call, Ok(n) < calls. */
#define FERROCALL_BATCH_RESUMABLE	1

/* END GENERATED */

#endif /* _UAPI_LINUX_FERROCALL_H */
