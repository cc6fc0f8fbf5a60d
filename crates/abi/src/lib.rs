//! The ferrocall ABI, as a crate for userspace and host tests.
//!
//! Everything lives in [`abi`](crate) (the file `abi.rs` and the folder `abi/`): those same
//! files are added to the kernel tree by the patch series and compiled there by kbuild as the
//! module `abi` of the in-kernel handler. This file only makes them a `no_std` crate.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![deny(clippy::arithmetic_side_effects)]

mod abi;

pub use abi::*;
