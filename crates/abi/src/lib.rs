// SPDX-License-Identifier: GPL-2.0-only OR MIT
//! The ferrocall ABI, as a crate for userspace and host tests.
//!
//! Everything lives in [`abi`](crate) (the file `abi.rs` and the folder `abi/`): those same
//! files are added to the kernel tree by the patch series and compiled there by kbuild as the
//! module `abi` of the in-kernel handler. This file only makes them a `no_std` crate, and adds
//! what the kernel has no use for: [`Errno`] as a [`core::error::Error`] and, with the `std`
//! feature, its conversions to and from `std::io::Error`.
//!
//! # Features
//!
//! - `std` (off by default): `From<Errno> for std::io::Error` and `Errno::from_io_error`.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]
#![deny(clippy::arithmetic_side_effects)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(test, feature = "std"))]
extern crate std;

mod abi;

pub use abi::*;

/// An `Errno` is an error: `?` turns it into a `Box<dyn Error>` (and, with the `std`
/// feature, into a `std::io::Error`). It has no [`source`](core::error::Error::source).
impl core::error::Error for Errno {}

/// The `std::io::Error` of this errno, by number (`from_raw_os_error`): its `kind()`,
/// `raw_os_error()` and message are those of the same error from the standard library, so
/// `?` works in functions returning `std::io::Result`. The numbers are Linux's, as everywhere
/// in this crate.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<Errno> for std::io::Error {
    fn from(errno: Errno) -> Self {
        std::io::Error::from_raw_os_error(errno.raw_os_error())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl Errno {
    /// The errno of an `std::io::Error` that carries an OS error number in `1..=4095`
    /// ([`std::io::Error::raw_os_error`]); `None` for any other (one made from an
    /// [`ErrorKind`](std::io::ErrorKind) or a message). The reverse of
    /// `std::io::Error::from(errno)`, which never fails. A method rather than `TryFrom`, as
    /// in rustix: it only reads the error, so the caller keeps it either way.
    pub fn from_io_error(error: &std::io::Error) -> Option<Errno> {
        error.raw_os_error().and_then(Errno::from_raw_os_error)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::format;

    use super::Errno;

    #[test]
    fn the_table_is_in_order_and_names_each_number_once() {
        assert_eq!(Errno::ALL.len(), 131);
        assert!(Errno::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Errno::ALL.first(), Some(&Errno::EPERM));
        assert_eq!(Errno::ALL.last(), Some(&Errno::EHWPOISON));
        for e in Errno::ALL {
            assert!(e.name().is_some() && e.description().is_some(), "{e:?}");
        }
    }

    #[test]
    fn aliases_are_constants_not_entries() {
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
        assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
        assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
        assert_eq!(Errno::EWOULDBLOCK.name(), Some("EAGAIN"));
        assert_eq!(Errno::ENOTSUP.name(), Some("EOPNOTSUPP"));
        assert!(!Errno::ALL.iter().any(|e| e.name() == Some("EWOULDBLOCK")));
    }

    #[test]
    fn names_and_texts() {
        assert_eq!(Errno::ECONNRESET.raw(), 104);
        assert_eq!(
            format!("{}", Errno::ECONNRESET),
            "ECONNRESET (Connection reset by peer)"
        );
        assert_eq!(format!("{:?}", Errno::ECONNRESET), "Errno(ECONNRESET)");
        assert_eq!(format!("{}", Errno::EIO), "EIO (Input/output error)");
    }

    #[test]
    fn unknown_numbers_are_kept_and_shown_as_numbers() {
        for raw in [41u16, 58, 134, 512, 4000, 4095] {
            let e = Errno::new(u64::from(raw)).unwrap();
            assert_eq!(e.raw(), raw);
            assert_eq!(e.name(), None);
            assert_eq!(e.description(), None);
            assert_eq!(format!("{e}"), format!("errno {raw}"));
            assert_eq!(format!("{e:?}"), format!("Errno({raw})"));
            assert_eq!(
                Errno::from_syscall_return(e.to_syscall_return() as u64),
                Err(e)
            );
        }
    }

    #[test]
    fn os_error_numbers() {
        assert_eq!(Errno::ENOSYS.raw_os_error(), 38);
        assert_eq!(Errno::from_raw_os_error(38), Some(Errno::ENOSYS));
        assert_eq!(Errno::from_raw_os_error(4095).map(Errno::raw), Some(4095));
        for bad in [0, -1, -38, 4096, i32::MAX, i32::MIN] {
            assert_eq!(Errno::from_raw_os_error(bad), None, "{bad}");
        }
        for raw in 1..=i32::from(Errno::MAX) {
            assert_eq!(
                Errno::from_raw_os_error(raw).map(Errno::raw_os_error),
                Some(raw)
            );
        }
    }

    #[test]
    fn an_errno_is_an_error() {
        fn fails() -> Result<(), std::boxed::Box<dyn core::error::Error>> {
            Err(Errno::ENOSYS)?;
            Ok(())
        }
        let e = fails().unwrap_err();
        assert_eq!(format!("{e}"), "ENOSYS (Function not implemented)");
        assert!(e.source().is_none());
        assert_eq!(e.downcast_ref::<Errno>(), Some(&Errno::ENOSYS));
    }
}
