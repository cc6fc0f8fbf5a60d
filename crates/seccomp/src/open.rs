//! The constants a filter on [`Op::Open`](ferrocall_abi::Op::Open) compares with: the
//! `O_*` flags of its `flags` field, the `RESOLVE_*` flags of its `resolve` field, and
//! `AT_FDCWD` for its `dirfd` field (x86_64 values, as in `<asm-generic/fcntl.h>`,
//! `<linux/openat2.h>` and `<linux/fcntl.h>`).
//!
//! ```
//! use ferrocall_abi::Op;
//! use ferrocall_seccomp::open::{AT_FDCWD, O_ACCMODE, O_RDONLY};
//! use ferrocall_seccomp::{allow, field};
//!
//! let rule = allow(Op::Open)
//!     .when(field("dirfd").eq(AT_FDCWD))
//!     .when(field("flags").masked(O_ACCMODE).eq(O_RDONLY));
//! # let _ = rule;
//! ```

/// The bits of `flags` that hold the access mode.
pub const O_ACCMODE: u64 = 0o3;
/// Access mode: read only.
pub const O_RDONLY: u64 = 0o0;
/// Access mode: write only.
pub const O_WRONLY: u64 = 0o1;
/// Access mode: read and write.
pub const O_RDWR: u64 = 0o2;
/// Create the file if it does not exist.
pub const O_CREAT: u64 = 0o100;
/// Open a path only, for `*at()` calls and descriptor operations; no read or write.
pub const O_PATH: u64 = 0o10000000;

/// Resolve: do not cross mount points.
pub const RESOLVE_NO_XDEV: u64 = 0x01;
/// Resolve: no magic links (`/proc/self/fd/…`).
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// Resolve: no symbolic links at all.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Resolve: stay below `dirfd` (no `..` above it, no absolute path).
pub const RESOLVE_BENEATH: u64 = 0x08;
/// Resolve: treat `dirfd` as the root.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// Resolve: only from the dentry cache, else `EAGAIN`.
pub const RESOLVE_CACHED: u64 = 0x20;

/// `dirfd` for "relative to the current working directory". Shown to seccomp
/// sign-extended, as `0xffff_ffff_ffff_ff9c`: compare with this `i32`, which
/// [`Value`](crate::Value) sign-extends.
pub const AT_FDCWD: i32 = -100;
