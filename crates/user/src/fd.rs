// SPDX-License-Identifier: MIT OR Apache-2.0

//! The file descriptors the wrappers take: borrowed, as in `std::os::fd` (I/O safety), for
//! `no_std` programs too. A wrapper takes any [`AsFd`]; with the `std` feature that is every
//! `std::os::fd::AsFd` type (`File`, `Stdout`, `UnixStream`, `OwnedFd`, …).

use core::marker::PhantomData;

/// A file descriptor borrowed for `'fd`: open, and not closed by anyone, while it lives.
///
/// ```
/// use ferrocall::fd::{self, AsFd};
/// let out = fd::stdout();
/// assert_eq!(out.as_fd().as_raw_fd(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct BorrowedFd<'fd> {
    fd: i32,
    borrow: PhantomData<&'fd ()>,
}

impl BorrowedFd<'_> {
    /// Borrows the raw descriptor `fd`.
    ///
    /// # Safety
    ///
    /// `fd` must be open, and stay open, for the whole lifetime of the result, as for
    /// `std::os::fd::BorrowedFd::borrow_raw`.
    ///
    /// ```
    /// // SAFETY: standard error stays open while this program runs.
    /// let err = unsafe { ferrocall::fd::BorrowedFd::borrow_raw(2) };
    /// assert_eq!(err.as_raw_fd(), 2);
    /// ```
    pub const unsafe fn borrow_raw(fd: i32) -> Self {
        BorrowedFd { fd, borrow: PhantomData }
    }

    /// The raw descriptor.
    #[must_use]
    pub const fn as_raw_fd(self) -> i32 {
        self.fd
    }
}

/// The standard input, borrowed for the life of the process, as `std::io::stdin().as_fd()`.
#[must_use]
pub const fn stdin() -> BorrowedFd<'static> {
    BorrowedFd { fd: 0, borrow: PhantomData }
}

/// The standard output, borrowed for the life of the process, as
/// `std::io::stdout().as_fd()`.
///
/// ```
/// ferrocall::write(ferrocall::fd::stdout(), b"to standard output\n")?;
/// # Ok::<(), ferrocall::Errno>(())
/// ```
#[must_use]
pub const fn stdout() -> BorrowedFd<'static> {
    BorrowedFd { fd: 1, borrow: PhantomData }
}

/// The standard error, borrowed for the life of the process, as
/// `std::io::stderr().as_fd()`.
#[must_use]
pub const fn stderr() -> BorrowedFd<'static> {
    BorrowedFd { fd: 2, borrow: PhantomData }
}

/// Something that holds an open file descriptor and lends it, as `std::os::fd::AsFd`.
pub trait AsFd {
    /// The descriptor, borrowed for as long as `self` is.
    fn as_fd(&self) -> BorrowedFd<'_>;
}

impl AsFd for BorrowedFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        *self
    }
}

/// Without `std`, references lend what they point to (with `std`, `std::os::fd::AsFd`'s own
/// impl for references covers them).
#[cfg(not(feature = "std"))]
impl<T: AsFd + ?Sized> AsFd for &T {
    fn as_fd(&self) -> BorrowedFd<'_> {
        (**self).as_fd()
    }
}

#[cfg(feature = "std")]
impl<T: std::os::fd::AsFd + ?Sized> AsFd for T {
    fn as_fd(&self) -> BorrowedFd<'_> {
        let fd = std::os::fd::AsFd::as_fd(self);
        // SAFETY: `fd` is open for as long as `self` is borrowed, which the result's
        // lifetime is tied to.
        unsafe { BorrowedFd::borrow_raw(std::os::fd::AsRawFd::as_raw_fd(&fd)) }
    }
}
