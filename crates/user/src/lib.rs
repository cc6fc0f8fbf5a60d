// SPDX-License-Identifier: MIT OR Apache-2.0

//! ferrocall: typed system calls for Linux, the userspace library.
//!
//! A typed call is a [`Request`] in the caller's memory whose address goes to the kernel in
//! `rax`; the kernel answers into the request. This crate builds requests from the ABI's one
//! definition ([`ferrocall_abi`]), makes the call, and turns the answer into a `Result`:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pid = ferrocall::getpid()?;
//! ferrocall::write(std::io::stdout(), b"hello\n")?;
//! # let _ = pid;
//! # Ok(())
//! # }
//! ```
//!
//! # On every kernel
//!
//! The same program runs on every x86_64 Linux kernel. The library opts in lazily, on the
//! first call, with `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE)`: a kernel without ferrocall
//! fails that with `EINVAL` and runs nothing else. Where typed calls are not available (that
//! kernel, an administrator's refusal, or a seccomp filter that refuses the typed path),
//! each wrapper makes its *legacy twin*, the system call the ABI table names for it, with the
//! same answer; see [`Backend`] to tell which is in use, or to insist on typed calls. The
//! library never lets a request address reach a kernel that would take it for a legacy
//! syscall number: it sends only addresses above 4 GiB whose low 32 bits, read as the
//! `int` such a kernel reads, are negative (`ENOSYS` there, whatever the opt-in state); a
//! request anywhere else is sent from a copy at such an address.
//!
//! # Crate features and support
//!
//! `no_std`, with no dependency besides [`ferrocall_abi`]; the `std` feature adds the
//! conversions to and from `std::io::Error` and the `FERROCALL_BACKEND` environment
//! variable. x86_64 Linux only (a `compile_error!` elsewhere); Rust 1.85 or later.
//!
//! The raw boundary is the [`Kernel`] trait, so the wrappers run against a fake kernel in
//! host tests.

#![no_std]
#![deny(missing_docs)]
#![warn(clippy::multiple_unsafe_ops_per_block)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "ferrocall supports x86_64 Linux only (targets x86_64-unknown-linux-gnu and \
     x86_64-unknown-linux-musl): typed calls are an x86_64 Linux kernel feature, and its \
     legacy fallback makes x86_64 Linux system calls"
);

#[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
#[doc(hidden)]
pub mod arch;

mod batch;
mod boundary;
mod calls;
mod error;
pub mod fd;
mod seed;
mod slots;
#[cfg(test)]
mod tests;

pub use batch::{Batch, Borrowed, BufferFree, PackedBatch};
pub use boundary::{Backend, Kernel, Native, Support};
pub use calls::native::*;
pub use calls::TypedCalls;
pub use error::{BatchError, FillError};
pub use fd::{AsFd, BorrowedFd, OwnedFd};
pub use ferrocall_abi as abi;
pub use ferrocall_abi::{Errno, Op, Request};
pub use seed::Syscall;

/// Ends the process (every thread) with status `code & 0xff`, as `exit_group()`: with the
/// typed `Exit` where typed calls are available, else with the legacy `exit_group` — even
/// under [`Backend::TypedOnly`], since a function that cannot return has no way to report
/// that it could not make the typed call ([`try_exit`] does).
///
/// ```no_run
/// ferrocall::exit(3);
/// ```
pub fn exit(code: i32) -> ! {
    let _ = calls::native::try_exit(code);
    // SAFETY: exit_group takes an integer and does not return.
    unsafe { arch::syscall1_noreturn(EXIT_GROUP, code as u64) }
}

/// The x86_64 number of `exit_group`.
const EXIT_GROUP: u64 = 231;

/// Which backend the wrappers use in this process: [`Backend::Typed`] or
/// [`Backend::Legacy`], or [`Backend::TypedOnly`] when the program insisted on typed calls
/// and the kernel does not offer them (every wrapper then answers `ENOSYS`). Opts in to
/// typed calls first if no call has yet.
///
/// ```
/// match ferrocall::backend() {
///     ferrocall::Backend::Typed => println!("typed calls"),
///     ferrocall::Backend::Legacy => println!("legacy system calls: no ferrocall here"),
///     other => println!("{other:?}"),
/// }
/// ```
#[must_use]
pub fn backend() -> Backend {
    Native.backend()
}

/// Chooses how the wrappers reach the kernel from now on (see [`Backend`]): the default
/// [`Backend::Auto`], [`Backend::Legacy`], or [`Backend::TypedOnly`]. With the `std`
/// feature, the environment variable `FERROCALL_BACKEND` (`typed-only`, `legacy`) makes the
/// same choice for a program that does not make one itself.
pub fn set_backend(backend: Backend) {
    Native.support().choose(backend);
}

/// Enables typed calls for this process if the kernel supports them, and returns the
/// kernel's ABI version; `ENOSYS` if it does not, `EPERM` if it does but refuses this process
/// (the administrator's sysctl `kernel.ferrocall_enabled`: 0 nobody, 1 privileged tasks
/// only). Every wrapper does this on first use, and with the default [`Backend::Auto`] uses
/// the legacy calls when it fails.
pub fn enable() -> Result<u32, Errno> {
    Native.enable()
}
