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

/// The current directory as a directory descriptor (`AT_FDCWD`), for calls that take one
/// ([`open`](crate::open)): a relative path starts from the current directory.
#[must_use]
pub const fn cwd() -> BorrowedFd<'static> {
    BorrowedFd { fd: -100, borrow: PhantomData }
}

/// An open file descriptor that the program owns, closed when dropped, as
/// `std::os::fd::OwnedFd`, for `no_std` programs too; with the `std` feature it converts
/// into `std`'s.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OwnedFd {
    fd: i32,
}

impl OwnedFd {
    /// Takes ownership of the raw descriptor `fd`.
    ///
    /// # Safety
    ///
    /// `fd` must be open and owned by nobody else: it is closed when the result is dropped.
    pub const unsafe fn from_raw_fd(fd: i32) -> Self {
        OwnedFd { fd }
    }

    /// The raw descriptor, still owned.
    #[must_use]
    pub const fn as_raw_fd(&self) -> i32 {
        self.fd
    }

    /// Gives up ownership: the caller must close the descriptor.
    #[must_use]
    pub fn into_raw_fd(self) -> i32 {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        const CLOSE: u64 = 3;
        // SAFETY: `close()` of the descriptor this value owns touches no memory of ours;
        // nobody else closes it (the ownership contract of `from_raw_fd`). Its error, as
        // `std`'s `OwnedFd` does, is ignored: the descriptor is released either way.
        let _ = unsafe { crate::arch::syscall6(CLOSE, self.fd as u64, 0, 0, 0, 0, 0) };
    }
}

#[cfg(not(feature = "std"))]
impl AsFd for OwnedFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd { fd: self.fd, borrow: PhantomData }
    }
}

#[cfg(feature = "std")]
impl std::os::fd::AsFd for OwnedFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the descriptor is open while `self` lives, which the result borrows.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) }
    }
}

#[cfg(feature = "std")]
impl From<OwnedFd> for std::os::fd::OwnedFd {
    fn from(fd: OwnedFd) -> Self {
        // SAFETY: `into_raw_fd` hands over the one owner's descriptor, which is open.
        unsafe { std::os::fd::FromRawFd::from_raw_fd(fd.into_raw_fd()) }
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
