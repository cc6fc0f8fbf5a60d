/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_FERROCALL_H
#define _UAPI_LINUX_FERROCALL_H

/*
 * ferrocall: typed system calls.
 *
 * A process that has opted in with prctl(PR_FERROCALL, PR_FERROCALL_ENABLE)
 * may execute SYSCALL with the address of a typed request in RAX, the
 * operation number in RDI and the request size in RSI. The kernel sets RDX
 * to the request address (pass it there too to keep RDX unchanged); RAX
 * returns 0 or -errno, RCX and R11 are clobbered as for any SYSCALL. The
 * layout of the requests is defined once, in the ferrocall ABI crate; this
 * header holds only the numbers that C code needs. A host test of the ABI
 * crate checks that they agree.
 */

/* prctl() option: enable typed calls for the calling address space. */
#define PR_FERROCALL			0x46455252	/* "FERR" */
# define PR_FERROCALL_ENABLE		1
# define PR_FERROCALL_STATUS		2

/* The ABI version that PR_FERROCALL_ENABLE returns. */
#define FERROCALL_ABI_VERSION		1

/*
 * The system call number that ptrace, seccomp, audit and the syscall
 * tracepoints see for a typed call: ferrocall(op, size, request).
 */
#define __NR_ferrocall			1023

/* RAX values below this are always legacy system call numbers. */
#define FERROCALL_MIN_ADDR		1024

#endif /* _UAPI_LINUX_FERROCALL_H */
