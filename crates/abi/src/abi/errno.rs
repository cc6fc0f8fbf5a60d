//! Error numbers: Linux's, with their names and descriptions.
//!
//! An [`Errno`] is never zero and never above [`Errno::MAX`], so a syscall return value in
//! `-4095..=-1` decodes to one and nothing else does.

use core::fmt;

/// A Linux error number (`1..=4095`).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(u16);

macro_rules! errnos {
    ($($name:ident = $num:literal, $desc:literal;)*) => {
        impl Errno {
            $(
                #[doc = $desc]
                pub const $name: Errno = Errno($num);
            )*

            /// Every errno this table names, in numeric order.
            pub const ALL: &'static [Errno] = &[$(Errno::$name),*];

            /// The symbolic name (`"EFAULT"`), if this table has one.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($num => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The description (`"Bad address"`), if this table has one.
            pub const fn description(self) -> Option<&'static str> {
                match self.0 {
                    $($num => Some($desc),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EPIPE = 32, "Broken pipe";
    ERANGE = 34, "Numerical result out of range";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Function not implemented";
    EOVERFLOW = 75, "Value too large for defined data type";
    EOPNOTSUPP = 95, "Operation not supported";
}

impl Errno {
    /// The largest errno; syscall return values in `-MAX..=-1` are errors.
    pub const MAX: u16 = 4095;

    /// The errno numbered `raw`, if `raw` is in `1..=4095`.
    pub const fn new(raw: u64) -> Option<Errno> {
        if raw >= 1 && raw <= Errno::MAX as u64 {
            Some(Errno(raw as u16))
        } else {
            None
        }
    }

    /// The number, as in C's `errno`.
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// Decodes a raw legacy syscall return value: `-4095..=-1` is an error, anything else is
    /// a value.
    pub const fn from_syscall_return(ret: u64) -> Result<u64, Errno> {
        match Errno::new(ret.wrapping_neg()) {
            Some(errno) => Err(errno),
            None => Ok(ret),
        }
    }

    /// The value a syscall returns in `rax` for this error: `-errno`.
    pub const fn to_syscall_return(self) -> i64 {
        0i64.wrapping_sub(self.0 as i64)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(desc)) => write!(f, "{name} ({desc})"),
            _ => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}
