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

mod kernel;
mod seed;
#[cfg(test)]
mod tests;

pub use ferrocall_abi as abi;
pub use ferrocall_abi::{Errno, Op, Request};
pub use kernel::{
    Batch, BatchError, BufferFree, FillError, Kernel, Native, PackedBatch, Support, TypedCalls,
};
pub use seed::Syscall;

/// `Useless(value)`: the seed's demonstration call, `value + 15` computed by the kernel.
/// `EOVERFLOW` when the sum does not fit in a `u32`.
pub fn useless(value: u32) -> Result<u32, Errno> {
    Native.useless(value)
}

/// The process id, as `getpid()`.
pub fn getpid() -> Result<u32, Errno> {
    Native.getpid()
}

/// The parent's process id, as `getppid()`.
pub fn getppid() -> Result<u32, Errno> {
    Native.getppid()
}

/// The real user id, as `getuid()`.
pub fn getuid() -> Result<u32, Errno> {
    Native.getuid()
}

/// Writes `buf` to `fd`; returns how many bytes were written (maybe fewer).
pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    Native.write(fd, buf)
}

/// Reads from `fd` into `buf`; returns how many bytes were read, 0 at end of file.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    Native.read(fd, buf)
}

/// Ends the process (all threads) with status `code & 0xff`, as `exit_group()`. Returns
/// only if the typed call could not be made, with the reason (`ENOSYS` on a kernel without
/// ferrocall).
pub fn exit(code: i32) -> Errno {
    Native.exit(code)
}

/// Writes the current directory, NUL-terminated, into `buf` and returns its length with
/// the NUL; [`FillError::TooSmall`] says how large `buf` must be.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, FillError> {
    Native.getcwd(buf)
}

/// Runs the calls of `batch` in one kernel entry, see [`TypedCalls::batch`].
pub fn batch<const N: usize>(batch: &mut Batch<'_, N>) -> Result<usize, BatchError> {
    Native.batch(batch)
}

/// Runs the calls of a [`PackedBatch`] in one kernel entry; see [`TypedCalls::packed_batch`].
pub fn packed_batch<const N: usize>(batch: &mut PackedBatch<N>) -> Result<usize, BatchError> {
    Native.packed_batch(batch)
}

/// Writes the running kernel's description (its ABI version and every operation it
/// offers, with the request size it knows) into `buf` and returns its length; read it
/// with [`abi::ops::parse_probe`]. [`FillError::TooSmall`] says how large `buf` must be.
pub fn probe(buf: &mut [u8]) -> Result<usize, FillError> {
    Native.probe(buf)
}

/// Whether the running kernel offers `op` (through the `Probe` operation).
pub fn supports(op: Op) -> bool {
    Native.supports(op)
}

/// Enables typed calls for this process if the kernel supports them, and returns the
/// kernel's ABI version; `ENOSYS` if it does not. Every wrapper does this on first use.
pub fn enable() -> Result<u32, Errno> {
    Native.enable()
}
