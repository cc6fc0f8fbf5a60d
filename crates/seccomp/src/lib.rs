//! Seccomp filters for ferrocall's typed calls, written by field name from the ABI table.
//!
//! A typed call is shown to seccomp the way the kernel runs it (see
//! [`Op::twin`](ferrocall_abi::Op::twin) and
//! [`Op::decoded_layout`](ferrocall_abi::Op::decoded_layout)):
//!
//! - an operation with a legacy twin is shown as that twin (typed `Write` as `write(fd, buf,
//!   len)`): filter it with [`syscall`] and [`arg`], as the legacy call;
//! - an operation with a decoded presentation (today [`Op::Open`](ferrocall_abi::Op::Open))
//!   is shown as its twin *and then* decoded, as `ferrocall(op, fields…)`, number
//!   [`SYSCALL_NR`](ferrocall_abi::SYSCALL_NR) (1023): filter it with [`typed`], [`allow`]
//!   or [`deny`] and [`field`], by the field's name in the ABI table; the values it shows
//!   are the values that run;
//! - an operation without a twin (`Useless`, `Probe`, the batches) is shown as
//!   `ferrocall(op, size, request)`: [`typed`] with [`arg`] conditions.
//!
//! [`Filter::compile`] turns the rules into a classic BPF program, which the kernel's checker
//! accepts whatever its size (up to its limit of 4096 instructions); [`interp`] runs such a
//! program on the host, as the kernel does, for tests. Installing it (`prctl` or `seccomp()`
//! with a `struct sock_fprog` pointing at [`to_bytes`]) is left to the program, the one
//! `unsafe` step.
//!
//! ```
//! use ferrocall_abi::{Errno, Op};
//! use ferrocall_seccomp::open::{O_ACCMODE, O_RDONLY, RESOLVE_BENEATH};
//! use ferrocall_seccomp::{allow, arg, deny, field, interp, syscall, Action, Filter, SeccompData};
//!
//! let prog = Filter::new(Action::Allow)
//!     // A typed Open that only reads, beneath its directory:
//!     .rule(
//!         allow(Op::Open)
//!             .when(field("flags").masked(O_ACCMODE).eq(O_RDONLY))
//!             .when(field("resolve").masked(RESOLVE_BENEATH).eq(RESOLVE_BENEATH)),
//!     )
//!     // every other typed Open:
//!     .rule(deny(Op::Open, Action::errno(Errno::EPERM)))
//!     // and write(1, …), legacy or typed:
//!     .rule(syscall(1).when(arg(0).eq(1)).then(Action::errno(Errno::EPERM)))
//!     .compile()?;
//!
//! let write_1 = SeccompData::new(1, [1, 0x1000, 5, 0, 0, 0]);
//! assert_eq!(interp::run(&prog, &write_1)?, Action::errno(Errno::EPERM).to_ret());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;
#[cfg(feature = "oci")]
extern crate std;

pub mod bpf;
mod filter;
pub mod interp;
#[cfg(feature = "oci")]
pub mod oci;
pub mod open;

pub use bpf::{to_bytes, SeccompData, SockFilter};
pub use filter::{
    allow, arg, deny, field, syscall, typed, BuildError, Cond, Filter, Masked, Match, Operand,
    Rule, Value,
};

use bpf::{
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE,
    SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};
use ferrocall_abi::Errno;

/// `AUDIT_ARCH_X86_64`: the [`SeccompData::arch`] of a 64-bit x86 system call (x32 calls
/// have it too, with [`X32_SYSCALL_BIT`](ferrocall_abi::X32_SYSCALL_BIT) set in `nr`).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// What seccomp does with a call: the `SECCOMP_RET_*` value a filter returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Kill the whole process (`SECCOMP_RET_KILL_PROCESS`).
    KillProcess,
    /// Kill the calling thread (`SECCOMP_RET_KILL_THREAD`).
    KillThread,
    /// Raise `SIGSYS`, with this value as `si_errno` (`SECCOMP_RET_TRAP`).
    Trap(u16),
    /// Fail the call with this errno, without running it (`SECCOMP_RET_ERRNO`; the kernel
    /// caps it at 4095).
    Errno(u16),
    /// Ask the supervisor listening on the filter's descriptor (`SECCOMP_RET_USER_NOTIF`).
    UserNotif,
    /// Stop for the ptrace tracer with this message (`SECCOMP_RET_TRACE`).
    Trace(u16),
    /// Run the call and log it (`SECCOMP_RET_LOG`).
    Log,
    /// Run the call (`SECCOMP_RET_ALLOW`).
    Allow,
}

impl Action {
    /// Fail the call with `errno`: `Action::Errno(errno.raw())`.
    pub const fn errno(errno: Errno) -> Action {
        Action::Errno(errno.raw())
    }

    /// The value a filter returns for this action.
    pub const fn to_ret(self) -> u32 {
        match self {
            Action::KillProcess => SECCOMP_RET_KILL_PROCESS,
            Action::KillThread => SECCOMP_RET_KILL_THREAD,
            Action::Trap(data) => SECCOMP_RET_TRAP | data as u32,
            Action::Errno(data) => SECCOMP_RET_ERRNO | data as u32,
            Action::UserNotif => SECCOMP_RET_USER_NOTIF,
            Action::Trace(data) => SECCOMP_RET_TRACE | data as u32,
            Action::Log => SECCOMP_RET_LOG,
            Action::Allow => SECCOMP_RET_ALLOW,
        }
    }

    /// What the kernel does with a filter's return value `ret`: its action bits decide, an
    /// unknown action kills the process, an errno above 4095 is 4095, and the data of
    /// actions that take none is ignored.
    pub const fn from_ret(ret: u32) -> Action {
        let data = (ret & SECCOMP_RET_DATA) as u16;
        match ret & SECCOMP_RET_ACTION_FULL {
            SECCOMP_RET_KILL_THREAD => Action::KillThread,
            SECCOMP_RET_TRAP => Action::Trap(data),
            SECCOMP_RET_ERRNO if data > Errno::MAX => Action::Errno(Errno::MAX),
            SECCOMP_RET_ERRNO => Action::Errno(data),
            SECCOMP_RET_USER_NOTIF => Action::UserNotif,
            SECCOMP_RET_TRACE => Action::Trace(data),
            SECCOMP_RET_LOG => Action::Log,
            SECCOMP_RET_ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }
}
