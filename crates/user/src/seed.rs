// SPDX-License-Identifier: MIT OR Apache-2.0

//! The seed article's interface: a `Syscall` value that is called in place and holds its
//! answer, now a `Result` instead of an `Option<u32>`.

use crate::{Errno, Native, TypedCalls};

/// A system call as a Rust value, as in the seed article: build it, [`call`](Self::call)
/// it, read the answer out of it.
///
/// ```
/// use ferrocall::{Errno, Syscall};
/// let mut lets_be_useless = Syscall::Useless(15, None);
/// lets_be_useless.call();
/// // 30 from a kernel with ferrocall; Useless has no legacy twin to fall back to.
/// assert!(matches!(lets_be_useless, Syscall::Useless(15, Some(Ok(30) | Err(Errno::ENOSYS)))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    /// `Useless(value, answer)`: the kernel answers `value + 15`.
    Useless(u32, Option<Result<u32, Errno>>),
}

impl Syscall {
    /// Makes the call and stores the answer in the value.
    pub fn call(&mut self) {
        match self {
            Syscall::Useless(value, answer) => *answer = Some(Native.useless(*value)),
        }
    }
}
