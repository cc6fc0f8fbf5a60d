// SPDX-License-Identifier: MIT OR Apache-2.0

//! The errors of calls that are more than one `Errno`: a batch that stopped ([`BatchError`])
//! and a call that fills the caller's buffer ([`FillError`]).
//!
//! Both are [`core::error::Error`]s whose [`source`](core::error::Error::source) is the
//! [`Errno`] inside, if there is one, so `?` turns them into a `Box<dyn Error>`. With the
//! `std` feature they also convert to `std::io::Error`; a plain [`Errno`] does too, through
//! `ferrocall-abi`'s own `std` feature (which this crate's enables).

use core::fmt;

use ferrocall_abi::Errno;

#[cfg(feature = "std")]
extern crate std;

/// Why a batch stopped.
///
/// Shown as `call 2 of the batch failed, after 2 succeeded: EBADF (Bad file descriptor)`:
/// calls are counted from 0, in the order they were pushed, so the failed call's index is
/// also the number of calls that succeeded. An error of the batch as a whole (a kernel
/// without ferrocall, too many calls) is reported at the first call, which did not run.
///
/// ```
/// use ferrocall::abi::ops::{GetPidArgs, UselessArgs};
/// let mut batch: ferrocall::PackedBatch<2> = ferrocall::PackedBatch::new();
/// batch.push(GetPidArgs {})?;
/// batch.push(UselessArgs { value: u32::MAX, ..Default::default() })?; // overflows
/// let err = ferrocall::packed_batch(&mut batch).unwrap_err();
/// assert_eq!(err.completed, 1); // GetPid ran; Useless failed (EOVERFLOW, or ENOSYS
///                               // where it has no typed call)
/// println!("{err}");
/// # Ok::<(), ferrocall::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct BatchError {
    /// The error of the first call that failed (or of the batch itself).
    pub errno: Errno,
    /// How many calls succeeded before it.
    pub completed: usize,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.completed;
        write!(f, "call {n} of the batch failed, after {n} succeeded: {}", self.errno)
    }
}

/// The [`source`](core::error::Error::source) is the [`Errno`].
impl core::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.errno)
    }
}

/// Why a call that fills a caller's buffer failed.
///
/// Its `Debug` shows the variant with what it holds: `TooSmall(4096)`, `Errno(ENOSYS)`.
///
/// ```
/// use ferrocall::FillError;
/// match ferrocall::getcwd(&mut [0u8; 1]) {
///     Err(FillError::TooSmall(needed)) => assert!(needed > 1),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum FillError {
    /// The buffer is too small: this many bytes are needed.
    TooSmall(usize),
    /// Any other error.
    Errno(Errno),
}

impl From<Errno> for FillError {
    fn from(errno: Errno) -> Self {
        FillError::Errno(errno)
    }
}

impl fmt::Display for FillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FillError::TooSmall(n) => write!(f, "buffer too small: {n} bytes needed"),
            FillError::Errno(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl fmt::Debug for FillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FillError::TooSmall(n) => f.debug_tuple("TooSmall").field(n).finish(),
            // `Errno(ENOSYS)`, not the derived `Errno(Errno(ENOSYS))`: the errno's own
            // Debug already reads as this variant.
            FillError::Errno(e) => fmt::Debug::fmt(e, f),
        }
    }
}

/// The [`source`](core::error::Error::source) of [`FillError::Errno`] is the [`Errno`];
/// [`FillError::TooSmall`] has none.
impl core::error::Error for FillError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            FillError::TooSmall(_) => None,
            FillError::Errno(e) => Some(e),
        }
    }
}

/// With the `std` feature. [`FillError::Errno`] becomes the OS error of that number (as
/// `From<Errno>` does, so `raw_os_error()` is the errno); [`FillError::TooSmall`] an error
/// of kind [`InvalidInput`](std::io::ErrorKind::InvalidInput) that keeps the `FillError`,
/// and with it the size needed (`get_ref()` and `downcast_ref::<FillError>()` give it back).
#[cfg(feature = "std")]
impl From<FillError> for std::io::Error {
    fn from(error: FillError) -> Self {
        match error {
            FillError::Errno(errno) => errno.into(),
            FillError::TooSmall(_) => std::io::Error::new(std::io::ErrorKind::InvalidInput, error),
        }
    }
}

/// With the `std` feature. An error of the kind of the errno's OS error (`ENOENT` gives
/// `NotFound`, as `std::io::Error::from_raw_os_error` would) that keeps the whole
/// `BatchError`, so that which call failed is not lost: `get_ref()` and `downcast_ref::<BatchError>()` give it
/// back, and its message is the `BatchError`'s. `raw_os_error()` is `None`; use
/// `Errno::from_io_error` only on errors of single calls.
#[cfg(feature = "std")]
impl From<BatchError> for std::io::Error {
    fn from(error: BatchError) -> Self {
        let kind = std::io::Error::from(error.errno).kind();
        std::io::Error::new(kind, error)
    }
}
