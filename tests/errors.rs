//! The error types with `std`: `?` into `Box<dyn Error>` and into `std::io::Result`, the
//! `std::io::Error` conversions of `Errno`, `FillError` and `BatchError` (the `std` features
//! of `ferrocall` and `ferrocall-abi`, which this crate enables), and the errno table
//! against the host's kernel headers and C library.

use std::error::Error;
use std::io;

use ferrocall::{BatchError, Errno, FillError};

fn boxed<E: Error + 'static>(e: E) -> Result<(), Box<dyn Error>> {
    Err(e)?;
    Ok(())
}

fn io_result<E>(e: E) -> io::Result<()>
where
    io::Error: From<E>,
{
    Err(e)?;
    Ok(())
}

#[test]
fn errno_with_question_mark() {
    let e = boxed(Errno::ENOSYS).unwrap_err();
    assert_eq!(e.to_string(), "ENOSYS (Function not implemented)");
    assert_eq!(e.downcast_ref::<Errno>(), Some(&Errno::ENOSYS));

    let e = io_result(Errno::ENOENT).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert_eq!(e.raw_os_error(), Some(2));
    assert_eq!(Errno::from_io_error(&e), Some(Errno::ENOENT));
}

#[test]
fn errno_from_io_error() {
    for &errno in Errno::ALL {
        assert_eq!(Errno::from_io_error(&io::Error::from(errno)), Some(errno));
    }
    let unknown = Errno::from_raw_os_error(4000).unwrap();
    assert_eq!(Errno::from_io_error(&io::Error::from(unknown)), Some(unknown));
    assert_eq!(Errno::from_io_error(&io::Error::from_raw_os_error(0)), None);
    assert_eq!(Errno::from_io_error(&io::Error::from_raw_os_error(4096)), None);
    assert_eq!(Errno::from_io_error(&io::Error::other("not an OS error")), None);
    assert_eq!(Errno::from_io_error(&io::ErrorKind::NotFound.into()), None);
}

#[test]
fn fill_error() {
    let too_small = FillError::TooSmall(4096);
    let errno = FillError::Errno(Errno::ERANGE);
    assert_eq!(format!("{too_small:?}"), "TooSmall(4096)");
    assert_eq!(format!("{errno:?}"), "Errno(ERANGE)");
    assert_eq!(format!("{:?}", Err::<(), _>(errno)), "Err(Errno(ERANGE))");
    assert_eq!(too_small.to_string(), "buffer too small: 4096 bytes needed");
    assert_eq!(errno.to_string(), "ERANGE (Numerical result out of range)");
    assert!(too_small.source().is_none());
    let source = errno.source().and_then(|s| s.downcast_ref::<Errno>());
    assert_eq!(source, Some(&Errno::ERANGE));

    let e = boxed(too_small).unwrap_err();
    assert_eq!(e.downcast_ref::<FillError>(), Some(&too_small));

    let e = io_result(errno).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(34));
    let e = io_result(too_small).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "buffer too small: 4096 bytes needed");
    assert_eq!(e.get_ref().and_then(|e| e.downcast_ref::<FillError>()), Some(&too_small));
}

#[test]
fn batch_error() {
    let b = BatchError { errno: Errno::ENOSYS, completed: 0 };
    assert_eq!(
        b.to_string(),
        "call 0 of the batch failed, after 0 succeeded: ENOSYS (Function not implemented)"
    );
    let b = BatchError { errno: Errno::ENOENT, completed: 3 };
    assert_eq!(
        b.to_string(),
        "call 3 of the batch failed, after 3 succeeded: ENOENT (No such file or directory)"
    );
    let source = b.source().and_then(|s| s.downcast_ref::<Errno>());
    assert_eq!(source, Some(&Errno::ENOENT));

    let e = boxed(b).unwrap_err();
    assert_eq!(e.downcast_ref::<BatchError>(), Some(&b));

    let e = io_result(b).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert_eq!(e.to_string(), b.to_string());
    assert_eq!(e.get_ref().and_then(|e| e.downcast_ref::<BatchError>()), Some(&b));
}

/// Every numbered `#define` of the uapi headers the table was generated from, where the host
/// has them (Debian: linux-libc-dev), and nothing more.
#[test]
fn the_table_is_the_kernel_headers() {
    let mut defines = Vec::new();
    for file in ["errno-base.h", "errno.h"] {
        let path = format!("/usr/include/asm-generic/{file}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{path}: {e}: the errno table is checked against it (apt-get install linux-libc-dev)")
        });
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some("#define"), Some(name), Some(value)) =
                (words.next(), words.next(), words.next())
            {
                if let (true, Ok(n)) = (name.starts_with('E'), value.parse::<u16>()) {
                    defines.push((name.to_string(), n));
                }
            }
        }
    }
    let table: Vec<_> =
        Errno::ALL.iter().map(|e| (e.name().unwrap_or("?").to_string(), e.raw())).collect();
    assert_eq!(table, defines);
}

/// The descriptions are the C library's `strerror()` texts, which the standard library shows
/// for OS errors (`... (os error N)`).
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_descriptions_are_glibcs() {
    for &errno in Errno::ALL {
        let std_text = io::Error::from(errno).to_string();
        let want = format!("{} (os error {})", errno.description().unwrap_or("?"), errno.raw());
        assert_eq!(std_text, want, "{errno:?}");
    }
}
