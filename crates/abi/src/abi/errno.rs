// SPDX-License-Identifier: GPL-2.0-only OR MIT
//! Error numbers: Linux's, with their names and descriptions.
//!
//! An [`Errno`] is never zero and never above [`Errno::MAX`], so a syscall return value in
//! `-4095..=-1` decodes to one and nothing else does.

use core::fmt;

/// A Linux error number (`1..=4095`).
///
/// Every number in that range is a valid `Errno`, named or not: one this table does not name
/// (a newer kernel's, or a driver's) is kept as it is and shown as a number (`errno 4000`).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[must_use]
pub struct Errno(u16);

macro_rules! errnos {
    ($($name:ident = $num:literal, $desc:literal;)*) => {
        impl Errno {
            $(
                #[doc = concat!($desc, " (", stringify!($num), ").")]
                pub const $name: Errno = Errno($num);
            )*

            /// Every errno this table names, in numeric order, each number once (aliases such
            /// as [`Errno::EWOULDBLOCK`] are not entries).
            pub const ALL: &'static [Errno] = &[$(Errno::$name),*];

            /// The symbolic name (`"EFAULT"`), if this table has one. For a number with
            /// aliases it is the kernel's main name (`"EAGAIN"`, not `"EWOULDBLOCK"`).
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

// The whole Linux errno table for x86_64, generated once (not at build time) from the
// kernel's uapi headers `asm-generic/errno-base.h` and `asm-generic/errno.h` (x86_64's
// `asm/errno.h` only includes them), as in Debian's linux-libc-dev 6.1 and unchanged in
// Linux 6.12: every `#define` with a number, in numeric order (41 and 58 are unused). The
// descriptions are glibc's `strerror()` texts (glibc 2.36, C locale), which are what users
// see from `perror`, `strerror` and `std::io::Error`; the kernel's header comments differ in
// places ("I/O error"). The headers' aliases (`EWOULDBLOCK`, `EDEADLOCK`) and libc's
// `ENOTSUP` are extra constants below, not entries, so `ALL` and `name()` give each number
// once.
//
// Deliberately not here: the kernel-internal codes of `include/linux/errno.h`
// (`ERESTARTSYS` = 512 and up). They are not meant to reach userspace (the kernel restarts
// the call or turns them into `EINTR`; the few that leak, like `ENOTSUPP` = 524, are kernel
// bugs). An `Errno` still holds one, as a number without a name.
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
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ECHRNG = 44, "Channel number out of range";
    EL2NSYNC = 45, "Level 2 not synchronized";
    EL3HLT = 46, "Level 3 halted";
    EL3RST = 47, "Level 3 reset";
    ELNRNG = 48, "Link number out of range";
    EUNATCH = 49, "Protocol driver not attached";
    ENOCSI = 50, "No CSI structure available";
    EL2HLT = 51, "Level 2 halted";
    EBADE = 52, "Invalid exchange";
    EBADR = 53, "Invalid request descriptor";
    EXFULL = 54, "Exchange full";
    ENOANO = 55, "No anode";
    EBADRQC = 56, "Invalid request code";
    EBADSLT = 57, "Invalid slot";
    EBFONT = 59, "Bad font file format";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOSR = 63, "Out of streams resources";
    ENONET = 64, "Machine is not on the network";
    ENOPKG = 65, "Package not installed";
    EREMOTE = 66, "Object is remote";
    ENOLINK = 67, "Link has been severed";
    EADV = 68, "Advertise error";
    ESRMNT = 69, "Srmount error";
    ECOMM = 70, "Communication error on send";
    EPROTO = 71, "Protocol error";
    EMULTIHOP = 72, "Multihop attempted";
    EDOTDOT = 73, "RFS specific error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTUNIQ = 76, "Name not unique on network";
    EBADFD = 77, "File descriptor in bad state";
    EREMCHG = 78, "Remote address changed";
    ELIBACC = 79, "Can not access a needed shared library";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ELIBSCN = 81, ".lib section in a.out corrupted";
    ELIBMAX = 82, "Attempting to link in too many shared libraries";
    ELIBEXEC = 83, "Cannot exec a shared library directly";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    ESTRPIPE = 86, "Streams pipe error";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EUCLEAN = 117, "Structure needs cleaning";
    ENOTNAM = 118, "Not a XENIX named type file";
    ENAVAIL = 119, "No XENIX semaphores available";
    EISNAM = 120, "Is a named type file";
    EREMOTEIO = 121, "Remote I/O error";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    EMEDIUMTYPE = 124, "Wrong medium type";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EKEYEXPIRED = 127, "Key has expired";
    EKEYREVOKED = 128, "Key has been revoked";
    EKEYREJECTED = 129, "Key was rejected by service";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
}

impl Errno {
    /// The same number as [`Errno::EAGAIN`] (an alias in the kernel's header).
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// The same number as [`Errno::EDEADLK`] (an alias in the kernel's header).
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// The same number as [`Errno::EOPNOTSUPP`] (libc's alias; the kernel has no `ENOTSUP`).
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

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

    /// The number as an `i32`, as `std::io::Error::raw_os_error` and libc's `errno` hold it.
    pub const fn raw_os_error(self) -> i32 {
        // Lossless: a u16 always fits an i32 (`i32::from` is not const).
        self.0 as i32
    }

    /// The errno numbered `raw`, as `std::io::Error::raw_os_error` gives it, if `raw` is in
    /// `1..=4095`; `None` for 0 (no error) and for anything else.
    pub const fn from_raw_os_error(raw: i32) -> Option<Errno> {
        if raw >= 1 && raw <= Errno::MAX as i32 {
            Some(Errno(raw as u16))
        } else {
            None
        }
    }

    /// Decodes a raw legacy syscall return value: `-4095..=-1` is an error, anything else is
    /// a value.
    pub const fn from_syscall_return(ret: u64) -> Result<u64, Errno> {
        // One compare: `ret` is in `-4095..=-1` exactly when it is at least `-4095`.
        if ret >= 0u64.wrapping_sub(Errno::MAX as u64) {
            Err(Errno(ret.wrapping_neg() as u16))
        } else {
            Ok(ret)
        }
    }

    /// A result as a legacy syscall returns it in `rax`: the value, or `-errno` (the inverse
    /// of [`Errno::from_syscall_return`] for every value outside `-4095..=-1`).
    pub const fn syscall_return_of(result: Result<u64, Errno>) -> u64 {
        match result {
            Ok(value) => value,
            Err(e) => e.to_syscall_return() as u64,
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
