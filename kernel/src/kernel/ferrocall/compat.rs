// SPDX-License-Identifier: GPL-2.0

//! The kernel APIs whose shape differs between the kernel lines the handler is built for.
//!
//! The newest shape is the default; `Makefile` names an older line with a cfg
//! (`ferrocall_linux_6_12`).

use kernel::uaccess::UserSlice;

/// The user memory `addr..addr + len`, as a [`UserSlice`]: nothing is checked until it is read
/// or written.
///
/// Linux 6.12's `UserPtr` is a `usize`; later kernels made it a newtype, built with
/// `UserPtr::from_addr`.
#[inline(always)]
pub(crate) fn user_slice(addr: usize, len: usize) -> UserSlice {
    #[cfg(ferrocall_linux_6_12)]
    let ptr = addr;
    #[cfg(not(ferrocall_linux_6_12))]
    let ptr = kernel::uaccess::UserPtr::from_addr(addr);
    UserSlice::new(ptr, len)
}
