//! The errors of calls that are more than one `Errno`: a batch that stopped ([`BatchError`])
//! and a call that fills the caller's buffer ([`FillError`]).

use ferrocall_abi::Errno;

/// Why a batch stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// The error of the first call that failed (or of the batch itself).
    pub errno: Errno,
    /// How many calls succeeded before it.
    pub completed: usize,
}

/// Why a call that fills a caller's buffer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl core::fmt::Display for FillError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FillError::TooSmall(n) => write!(f, "buffer too small: {n} bytes needed"),
            FillError::Errno(e) => e.fmt(f),
        }
    }
}
