// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The one definition of the ferrocall ABI.
//!
//! Userspace and the kernel agree on what is written here and nowhere else: the operation
//! table ([`ops`]), the `#[repr(C)]` layouts of requests and answers ([`layout`]), the error
//! numbers ([`errno`]), the rules the kernel applies to untrusted requests
//! ([`decode`](mod@decode)) and the numbers of the opt-in and of the syscall that tracers see
//! (below).
//!
//! These files are compiled twice: as the `ferrocall-abi` crate, and inside the kernel,
//! where they are the module `abi` of `kernel/ferrocall/ferrocall.rs`. So they use only
//! `core`, contain no `unsafe`, allocate nothing, and never panic on any input: every
//! access to untrusted bytes is checked and every failure is an [`Errno`].
//!
//! The ABI is x86_64 only: integers are little-endian, addresses are 64 bits.

pub mod decode;
pub mod errno;
pub mod layout;
pub mod ops;

pub use decode::{decode, plan, Plan};
pub use errno::Errno;
pub use layout::{
    Answer, Args, BufferFlag, Field, FieldInfo, FieldType, HasBuffers, Header, NoBuffers, Pad32,
    Request, UserBuf, UserBufMut, UserPath,
};
pub use ops::{
    BatchEntry, ByRef, Call, Handler, Op, ProbeEntry, ProbeHeader, Shown, ShownPart, Twin, TwinArgs,
};

/// The version of this ABI, returned by the opt-in. It only grows; a program built for
/// version `n` works on every kernel that reports `n` or more, and a library may use what a
/// later version adds only where the kernel reports it.
///
/// - 1: typed calls answered in place; every lone call seen as `ferrocall(op, size, request)`.
/// - 2: a lone call of an operation with a legacy twin is presented to ptrace, seccomp, audit
///   and the syscall tracepoints as that twin, and runs as it; such a call may ask for its
///   answer in registers ([`Header::ANSWER_IN_REGISTERS`]).
/// - 3: [`Op::Open`], the first operation the kernel runs from its own copy
///   ([`Op::runs_from_copy`]), also shown to seccomp decoded ([`Op::decoded_layout`]).
/// - 4: a request address is taken only above 4 GiB ([`MIN_ADDR`]); below, `rax` is a
///   legacy number in every process. Batches may stop before a call for the caller to make
///   it alone ([`ops::BATCH_RESUMABLE`]). A library of an earlier version that sends a request
///   from below 4 GiB gets `ENOSYS` with its answer slot pending, and makes the twin.
/// - 5: a lone call of an operation without a twin may ask for its answer in registers too
///   ([`Header::ANSWER_IN_REGISTERS`]: `rax` 0 or `-errno`, `rdx` the value, `r10`
///   [`Answer::DONE`] when the operation ran).
pub const ABI_VERSION: u32 = 5;

/// The oldest ABI version a library built from this crate works with.
pub const MIN_ABI_VERSION: u32 = 1;

/// The first ABI version whose kernels take [`Header::ANSWER_IN_REGISTERS`].
pub const ANSWER_IN_REGISTERS_SINCE: u32 = 2;

/// The first ABI version whose kernels take [`Header::ANSWER_IN_REGISTERS`] on a lone call
/// of an operation without a legacy twin.
pub const ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE: u32 = 5;

/// The first ABI version whose kernels take [`ops::BATCH_RESUMABLE`].
pub const BATCH_RESUMABLE_SINCE: u32 = 4;

/// The `prctl()` option that enables typed calls for the calling address space.
///
/// `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE, 0, 0, 0)` returns [`ABI_VERSION`]; a kernel
/// without ferrocall fails it with `EINVAL`, and runs nothing else. The flag is shared by
/// all threads of the address space, kept by `fork()` (the child has a copy of the caller's
/// memory and of its library state) and cleared by `execve()` (a new program opts in itself).
pub const PR_FERROCALL: u32 = 0x4645_5252;
/// `arg2` of [`PR_FERROCALL`]: enable typed calls, return the ABI version.
pub const PR_FERROCALL_ENABLE: u64 = 1;
/// `arg2` of [`PR_FERROCALL`]: return 1 if typed calls are enabled, 0 if not.
pub const PR_FERROCALL_STATUS: u64 = 2;

/// The legacy number under which ptrace, seccomp, audit and the syscall tracepoints see a
/// typed call: `ferrocall(op, size, request)`. It is also callable by number (that is how
/// an interrupted typed call restarts), but only in a process that opted in.
pub const SYSCALL_NR: u32 = 1023;

/// `rax` values below this are legacy syscall numbers, never request addresses: the kernel
/// takes a `rax` for a request address only above 4 GiB (and below `TASK_SIZE_MAX`, in a
/// process that opted in), so every value a 32-bit load into `eax` can give — each legacy
/// number, each x32 number, each negative `int` zero-extended — keeps its stock meaning
/// (since ABI version 4; versions 1 to 3 took any address from 1024, outside the x32 range).
pub const MIN_ADDR: u64 = 1 << 32;

/// The bit that marks x32 syscall numbers (`nr | X32_SYSCALL_BIT`): for seccomp filters,
/// which see such numbers from x32 processes.
pub const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// The bit of a request address that the library always sends set: bit 31, so that the
/// address's low 32 bits, which a kernel without typed calls (or a process whose opt-in was
/// lost) reads as the syscall number, are a negative `int` there: `ENOSYS`, never a legacy
/// call ([`is_request_address`]).
pub const FAIL_CLOSED_BIT: u64 = 1 << 31;

/// The end of user addresses with 4-level paging (`TASK_SIZE_MAX`). The kernel accepts
/// requests below its own `TASK_SIZE_MAX`; the library sends only requests below this.
pub const USER_ADDR_END: u64 = 0x7fff_ffff_f000;

/// Requests must be aligned to this many bytes.
pub const REQUEST_ALIGN: u64 = 8;

/// The largest request size the kernel looks at; a larger size is `E2BIG`.
pub const MAX_REQUEST_SIZE: u64 = 4096;

/// Whether `addr` may be sent as a request address in `rax`: an aligned user address that
/// a ferrocall kernel takes for a request (at least [`MIN_ADDR`]) and whose low 32 bits,
/// read as an `int`, are negative ([`FAIL_CLOSED_BIT`] set). The second half makes the
/// call fail closed: any kernel that does not take it for a request — one without
/// ferrocall, or a process whose opt-in was lost behind the library's back (a checkpoint
/// restored elsewhere, a supervisor that faked the `prctl`) — answers `ENOSYS` and runs
/// nothing. The library sends a request from anywhere else through a copy at such an
/// address.
pub const fn is_request_address(addr: u64) -> bool {
    // One range test and one mask test (this runs on every call): in
    // `MIN_ADDR..USER_ADDR_END`, bit 31 set and the low bits of the alignment clear.
    let low = FAIL_CLOSED_BIT | (REQUEST_ALIGN - 1);
    addr.wrapping_sub(MIN_ADDR) < USER_ADDR_END - MIN_ADDR && addr & low == FAIL_CLOSED_BIT
}
