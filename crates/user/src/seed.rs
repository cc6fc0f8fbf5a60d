// SPDX-License-Identifier: MIT OR Apache-2.0

//! The seed article's interface: a `Syscall` value that is called in place and holds its
//! answer, now a `Result` instead of an `Option<u32>`.

use crate::{Errno, Native, TypedCalls};

/// A system call as a Rust value, as in the seed article: build it, [`call`](Self::call)
/// it, read the answer out of it.
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
