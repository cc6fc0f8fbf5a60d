//! ferrocall: typed system calls for Linux, the userspace library.
//!
//! A typed call is a [`Request`] in the caller's memory whose address goes to the kernel in
//! `rax`; the kernel answers into the request. This crate builds requests from the ABI's one
//! definition ([`ferrocall_abi`]), makes the call, and turns the answer into a
//! `Result<_, Errno>`:
//!
//! ```no_run
//! assert_eq!(ferrocall::useless(15), Ok(30));
//! ```
//!
//! The library never lets a request address reach a kernel that would take it for a legacy
//! syscall number. It opts in lazily, on the first call, with
//! `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE)`: a kernel without ferrocall fails that with
//! `EINVAL` and runs nothing else, and from then on every wrapper returns `ENOSYS` without
//! entering the kernel. Addresses the kernel would read as a legacy number (below 1024, the
//! x32 range) are never sent: such a request is copied to the stack first.
//!
//! `no_std`; the raw boundary is the [`Kernel`] trait, so the wrappers run against a fake
//! kernel in host tests.

#![no_std]
#![deny(missing_docs)]
#![warn(clippy::multiple_unsafe_ops_per_block)]

#[cfg(test)]
extern crate std;

#[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
pub mod arch;

mod batch;
mod boundary;
mod calls;
mod error;
mod seed;
#[cfg(test)]
mod tests;

pub use batch::{Batch, BufferFree, PackedBatch};
pub use boundary::{Kernel, Native, Support};
pub use calls::native::*;
pub use calls::TypedCalls;
pub use error::{BatchError, FillError};
pub use ferrocall_abi as abi;
pub use ferrocall_abi::{Errno, Op, Request};
pub use seed::Syscall;

/// Enables typed calls for this process if the kernel supports them, and returns the
/// kernel's ABI version; `ENOSYS` if it does not. Every wrapper does this on first use.
pub fn enable() -> Result<u32, Errno> {
    Native.enable()
}
