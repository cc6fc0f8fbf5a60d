/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The entry code's fast path for typed calls: ferrocall_enter(), inlined in
 * do_syscall_64(), and the legacy twin of each typed operation it uses: the
 * twin's system call number, the size of a request of this ABI, and how the
 * twin's argument registers are made from the request's argument words,
 * their padding checked. The table and ferrocall_twin_load() are generated
 * from the ABI crate's operation table, the one definition of the ABI
 * (crates/abi/src/abi/ops.rs); tests/kernel_header.rs checks that they are up
 * to date, and that they build the registers the Rust decoder builds.
 */
#ifndef _LINUX_FERROCALL_ENTRY_H
#define _LINUX_FERROCALL_ENTRY_H

#include <linux/compiler.h>
#include <linux/entry-common.h>
#include <linux/ferrocall.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include <asm/ptrace.h>
#include <asm/syscall.h>

#ifdef CONFIG_FERROCALL

/*
 * What ferrocall_enter() returns, other than a system call number, for a
 * call it read at entry for the handler: FERROCALL_LOADED_AT_ENTRY for one
 * without a twin (FERROCALL_ENTRY_LOADED once recorded), which
 * ferrocall_run_at_entry() runs at once where there is no entry work;
 * FERROCALL_HELD_AT_ENTRY for one held as its twin (FERROCALL_ENTRY_HELD,
 * from the slow path). The number either was presented as is in orig_ax. A
 * twin answered in registers, the common case, returns the twin's number,
 * so that telling them apart costs it one test of a register's sign.
 */
#define FERROCALL_LOADED_AT_ENTRY	(-2L)
#define FERROCALL_HELD_AT_ENTRY		(-3L)

/* What ferrocall_twin_load() did. */
#define FERROCALL_LOAD_FAILED	0
#define FERROCALL_LOAD_TWIN	1
#define FERROCALL_LOAD_NO_TWIN	2

/**
 * struct ferrocall_twin - how a typed operation is presented as its twin
 * @head:  the first word of a request the fast path takes: its size (the
 *         size of a request of this ABI) and operation (FERROCALL_HEAD());
 *         0 for an operation it never takes, one run from its copy (@held)
 * @nr:    the twin's system call number; __NR_ferrocall for an operation
 *         without a twin
 * @held:  1 for an operation the handler runs from its copy: always decoded
 *         by the Rust decoder, never by the fast path
 * @words: how many argument words a request of this ABI has: for an
 *         operation without a twin (never 0), those the entry code reads for
 *         the handler, which decodes and checks them; for one with a twin, 0
 *         says that all six of the twin's registers are 0
 *
 * How a twin's arguments are read is ferrocall_twin_load(), below.
 */
struct ferrocall_twin {
	u64 head;
	u16 nr;
	u8 held;
	u8 words;
};

/*
 * The first word of a request header: its size, then its operation. A table
 * entry's @head is that word, so its low half is the size the fast path takes.
 */
#define FERROCALL_HEAD(size, op)	((u64)(size) | (u64)(op) << 32)

/*
 * The table entry of operation @op, below FERROCALL_OPS: the index is masked
 * to the table's power-of-two size, so that even under a mispredicted bounds
 * check the load stays inside the table (as array_index_nospec() would, in
 * fewer instructions); the slots past FERROCALL_OPS are zero. The compiler
 * must not drop the mask as redundant, hence OPTIMIZER_HIDE_VAR().
 */
#define ferrocall_twin_of(op)						\
({									\
	unsigned long __op = (op);					\
									\
	OPTIMIZER_HIDE_VAR(__op);					\
	&ferrocall_twins[__op & (FERROCALL_TWIN_SLOTS - 1)];		\
})

/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */
/* Operation numbers are below this. */
#define FERROCALL_OPS		13
/* The table's slots: a power of two, see ferrocall_twin_of(). */
#define FERROCALL_TWIN_SLOTS	16

static const struct ferrocall_twin ferrocall_twins[FERROCALL_TWIN_SLOTS] = {
	[FERROCALL_OP_USELESS] = {	/* ferrocall(), read at entry */
		.nr = __NR_ferrocall, .words = 1,
		.head = FERROCALL_HEAD(40, FERROCALL_OP_USELESS),
	},
	[FERROCALL_OP_GETPID] = {	/* getpid() */
		.nr = 39, .words = 0,
		.head = FERROCALL_HEAD(32, FERROCALL_OP_GETPID),
	},
	[FERROCALL_OP_GETPPID] = {	/* getppid() */
		.nr = 110, .words = 0,
		.head = FERROCALL_HEAD(32, FERROCALL_OP_GETPPID),
	},
	[FERROCALL_OP_WRITE] = {	/* write(fd, buf) */
		.nr = 1, .words = 3,
		.head = FERROCALL_HEAD(56, FERROCALL_OP_WRITE),
	},
	[FERROCALL_OP_READ] = {	/* read(fd, buf) */
		.nr = 0, .words = 3,
		.head = FERROCALL_HEAD(56, FERROCALL_OP_READ),
	},
	[FERROCALL_OP_EXIT] = {	/* exit_group(code) */
		.nr = 231, .words = 1,
		.head = FERROCALL_HEAD(40, FERROCALL_OP_EXIT),
	},
	[FERROCALL_OP_GETCWD] = {	/* getcwd(buf) */
		.nr = 79, .words = 2,
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
		.nr = 102, .words = 0,
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
 * arguments in @regs (FERROCALL_LOAD_TWIN); @words is the table's (0:
 * every register is 0). FERROCALL_LOAD_NO_TWIN for any operation without a
 * case, which it does not read: one without a twin, as the caller checks;
 * FERROCALL_LOAD_FAILED for a word it cannot read or with a padding bit
 * set. @regs are as they were unless it gives FERROCALL_LOAD_TWIN.
 */
static __always_inline int ferrocall_twin_load(struct pt_regs *regs,
					       const u64 __user *args,
					       unsigned long op,
					       unsigned int words)
{
	u64 w[3];

	if (!words) {
		regs->di = 0;
		regs->si = 0;
		regs->dx = 0;
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return FERROCALL_LOAD_TWIN;
	}
	switch (op) {
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
		return FERROCALL_LOAD_TWIN;
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
		return FERROCALL_LOAD_TWIN;
	case FERROCALL_OP_GETCWD:	/* getcwd(buf) */
		unsafe_get_user(w[0], &args[0], fail);
		unsafe_get_user(w[1], &args[1], fail);
		regs->di = w[0];
		regs->si = w[1];
		regs->dx = 0;
		regs->r10 = 0;
		regs->r8 = 0;
		regs->r9 = 0;
		return FERROCALL_LOAD_TWIN;
	default:	/* no twin: read at entry */
		return FERROCALL_LOAD_NO_TWIN;
	}
fail:
	return FERROCALL_LOAD_FAILED;
}

/* END GENERATED */

/*
 * A typed call presented as ferrocall(op, size, request), RDI and RSI holding
 * its operation and size: the request address @addr in RDX, and the other
 * three arguments 0, as for a call inside a batch, so that a filter sees the
 * same six values whoever made the call (the caller's R10, R8 and R9 are
 * clobbered, as the ABI says).
 */
static __always_inline long ferrocall_present_request(struct pt_regs *regs,
						      unsigned long addr)
{
	regs->dx = addr;
	regs->r10 = 0;
	regs->r8 = 0;
	regs->r9 = 0;
	regs->orig_ax = __NR_ferrocall;
	return __NR_ferrocall;
}

/* ferrocall(op, size, request), whatever is in RDI and RSI. */
static __always_inline long ferrocall_present(struct pt_regs *regs,
					      unsigned long op,
					      unsigned long size)
{
	regs->di = op;
	regs->si = size;
	return ferrocall_present_request(regs, regs->orig_ax);
}

/*
 * In kernel/ferrocall/entry.c: ferrocall_enter() for every request its fast
 * path does not take, which leaves @regs as the caller made them.
 */
long ferrocall_enter_slow(struct pt_regs *regs, struct ferrocall_entry *fc);

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
 * twin's, or __NR_ferrocall for a request refused here (the entry work sees
 * it; do_syscall_64() answers the refusal without running anything) and for
 * one the handler reads itself; FERROCALL_LOADED_AT_ENTRY or
 * FERROCALL_HELD_AT_ENTRY for a call read at entry for the handler,
 * presented as orig_ax says.
 */
static __always_inline long ferrocall_enter(struct pt_regs *regs,
					    struct ferrocall_entry *fc)
{
	unsigned long op = regs->di, addr = regs->orig_ax;
	const struct ferrocall_twin *t;
	const u64 __user *req;
	unsigned int i, words;
	u64 head, word;
	long nr;

	if (unlikely(op >= FERROCALL_OPS))
		return ferrocall_present(regs, op, regs->si);
	t = ferrocall_twin_of(op);
	head = t->head;
	if (unlikely(!head || regs->si != (u32)head || addr % sizeof(u64)))
		return ferrocall_enter_slow(regs, fc);
	nr = t->nr;
	words = t->words;

	/* From here on, the size is the table's. */
	req = (const u64 __user *)addr;
	if (can_do_masked_user_access())
		req = masked_user_access_begin(req);
	else if (!user_read_access_begin(req, (u32)head))
		goto slow_closed;
	/* From the masked address: no read here may go past the user range. */
	unsafe_get_user(word, &req[0], slow);
	/* The header's size and op. */
	if (unlikely(word != head))
		goto slow;
	/* Its flags and reserved field. */
	unsafe_get_user(word, &req[1], slow);
	req += FERROCALL_ARGS_OFFSET / sizeof(u64);
	if (likely(word == FERROCALL_ANSWER_IN_REGISTERS)) {
		int loaded = ferrocall_twin_load(regs, req, op, words);

		if (likely(loaded == FERROCALL_LOAD_TWIN)) {
			user_read_access_end();
			regs->orig_ax = nr;
			return nr;
		}
		if (loaded != FERROCALL_LOAD_NO_TWIN || nr != __NR_ferrocall)
			goto slow;
		fc->flags = FERROCALL_ANSWER_IN_REGISTERS;
	} else if (word || nr != __NR_ferrocall) {
		goto slow;
	} else {
		fc->flags = 0;
	}
	/* Without a twin: ferrocall(op, size, request). */
	for (i = 0; i < words; i++)
		unsafe_get_user(fc->held[i], &req[i], slow);
	user_read_access_end();
	fc->words = words;
	ferrocall_present_request(regs, addr);
	return FERROCALL_LOADED_AT_ENTRY;
slow:
	user_read_access_end();
slow_closed:
	return ferrocall_enter_slow(regs, fc);
}

/**
 * ferrocall_run_at_entry - run a call read at entry before the entry work
 * @regs: the task's registers, as ferrocall_enter() presented the call
 * @fc:   what ferrocall_enter() recorded
 * @read: what ferrocall_enter() returned: FERROCALL_LOADED_AT_ENTRY or
 *        FERROCALL_HELD_AT_ENTRY
 *
 * A call without a twin read at entry, in a task with no syscall entry work:
 * nothing (seccomp, ptrace, audit, the syscall tracepoints, Syscall User
 * Dispatch) sees or changes the call before it runs, so the handler runs it
 * here, from what was read, exactly as the dispatch of __NR_ferrocall would
 * (ferrocall_run()), without testing again that the registers still name
 * it; the caller then skips the entry work and the dispatch, as for a call
 * the entry work skipped, its result in RAX. Otherwise the entry work sees
 * the call first: this records what it is shown (FERROCALL_ENTRY_LOADED, the
 * operation, size and request address presented), which ferrocall_run()
 * checks afterwards. A call held as its twin always takes that path.
 *
 * Return: true if the call ran.
 */
static __always_inline bool ferrocall_run_at_entry(struct pt_regs *regs,
						   struct ferrocall_entry *fc,
						   long read)
{
	unsigned long work;

	if (unlikely(read != FERROCALL_LOADED_AT_ENTRY))
		return false;
	work = READ_ONCE(current_thread_info()->syscall_work);
	if (likely(!(work & SYSCALL_WORK_ENTER))) {
		regs->ax = ferrocall_run_loaded(regs, fc);
		return true;
	}
	fc->kind = FERROCALL_ENTRY_LOADED;
	fc->op = regs->di;
	fc->size = regs->si;
	fc->addr = regs->dx;
	return false;
}

#endif /* CONFIG_FERROCALL */

#endif /* _LINUX_FERROCALL_ENTRY_H */
