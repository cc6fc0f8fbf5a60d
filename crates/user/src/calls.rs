// SPDX-License-Identifier: MIT OR Apache-2.0

//! The typed calls every [`Kernel`] gets ([`TypedCalls`]), and the same calls on the running
//! kernel as free functions (re-exported at the crate root). Both come from one list: a new
//! operation's wrapper is one entry of `wrappers!` below.

use core::mem::size_of;

use core::sync::atomic::Ordering;

use ferrocall_abi::{
    self as abi, ops, Answer, Args, BatchEntry, Errno, Op, Request, UserBuf, UserBufMut,
};

use crate::batch::{packed_alone, packed_one_by_one, Batch, BufferFree, PackedBatch};
use crate::boundary::{
    backend_of, call_in_registers, issue, issue_from_copy, lone_twin, lone_typed, make_call,
    resumable_flags, typed_enabled, value_of, Backend, Kernel, Native,
};
use crate::error::{BatchError, FillError};
use crate::fd::{AsFd, OwnedFd};

/// Defines [`TypedCalls`] with the fixed methods given first and one default method per
/// wrapper, and for each wrapper a free function of the same name and documentation that
/// makes the call on the running kernel ([`Native`]).
macro_rules! wrappers {
    (
        fixed { $($fixed:tt)* }
        $(
            $(#[$attr:meta])*
            fn $name:ident $(<const $n:ident: usize>)? (&$this:ident $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty $body:block
        )*
    ) => {
        /// The typed calls, for every [`Kernel`]: the crate's free functions are these
        /// methods on [`Native`].
        ///
        /// ```
        /// use ferrocall::{Native, TypedCalls};
        /// let n = Native.write(ferrocall::fd::stdout(), b"from a method\n")?;
        /// assert_eq!(n, 14);
        /// # Ok::<(), ferrocall::Errno>(())
        /// ```
        pub trait TypedCalls: Kernel {
            $($fixed)*
            $(
                $(#[$attr])*
                #[inline]
                fn $name $(<const $n: usize>)? (&$this $(, $arg: $ty)*) -> $ret $body
            )*
        }

        /// The typed calls on the running kernel, re-exported at the crate's root.
        pub mod native {
            use super::*;
            $(
                $(#[$attr])*
                // Inlined like rustix's wrappers: a lone call's cost is mostly its few
                // instructions around `syscall`, which a call frame would add to.
                #[inline]
                pub fn $name $(<const $n: usize>)? ($($arg: $ty),*) -> $ret {
                    Native.$name($($arg),*)
                }
            )*
        }
    };
}

wrappers! {
    fixed {

        /// Enables typed calls once and returns the ABI version; `ENOSYS` on a kernel without
        /// them (including one whose seccomp filter refuses the `prctl`). Every wrapper does
        /// this on first use; where it fails, the wrappers make the calls' legacy twins
        /// (see [`Backend`]).
        #[inline]
        fn enable(&self) -> Result<u32, Errno> {
            typed_enabled(self)
        }

        /// Which backend this kernel's calls take (see [`Backend`]).
        fn backend(&self) -> Backend {
            backend_of(self)
        }

        /// Makes the typed call `request`, of an operation without buffers, and returns its
        /// answer.
        #[inline]
        fn call<A: BufferFree>(&self, request: &mut Request<A>) -> Result<u64, Errno> {
            // SAFETY: `A` names no buffer, so the kernel touches only the request itself.
            if let Some(result) = unsafe { call_in_registers(self, request) } {
                return result;
            }
            // SAFETY: as above.
            value_of(unsafe { self.call_answer(request) })
        }

        /// Makes the typed call `request` and returns the answer slot as the kernel wrote it,
        /// which may hold an error with a value (such as the size needed after `ERANGE`).
        /// `Err` when the kernel wrote no answer: the request could not be read or decoded, or
        /// the call was interrupted.
        ///
        /// # Safety
        ///
        /// Every buffer the request's arguments name must be valid for what the operation does
        /// with it (read for a `UserBuf`, written for a `UserBufMut`) during the call, and not
        /// otherwise accessed meanwhile; a `Batch` request's entries must name requests for
        /// which the same holds. The typed wrappers build such requests from slices.
        #[inline]
        unsafe fn call_answer<A: Args>(&self, request: &mut Request<A>) -> Result<Answer, Errno> {
            if abi::is_request_address(core::ptr::from_mut(request) as u64) {
                // SAFETY: the caller's guarantee.
                unsafe { issue(self, request) }
            } else {
                // SAFETY: the caller's guarantee.
                unsafe { issue_from_copy(self, request) }
            }
        }
    }

    /// `Useless(value)`: `value + 15`, or `EOVERFLOW`: the seed's demonstration call. It has
    /// no legacy twin, so it answers `ENOSYS` where typed calls are not available.
    ///
    /// ```
    /// match ferrocall::useless(15) {
    ///     Ok(sum) => assert_eq!(sum, 30),
    ///     Err(e) => assert_eq!(e, ferrocall::Errno::ENOSYS), // no typed calls here
    /// }
    /// ```
    fn useless(&self, value: u32) -> Result<u32, Errno> {
        // SAFETY: the request names no buffer.
        let sum = unsafe { lone_typed(self, ops::UselessArgs { value, ..Default::default() }) }?;
        u32::try_from(sum).map_err(|_| Errno::EIO)
    }

    /// The process id, as `getpid()`.
    ///
    /// ```
    /// assert_eq!(ferrocall::getpid(), Ok(std::process::id()));
    /// ```
    fn getpid(&self) -> Result<u32, Errno> {
        // SAFETY: the request names no buffer.
        let id = unsafe { lone_twin(self, ops::GetPidArgs {}) }?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// The parent's process id, as `getppid()`.
    ///
    /// ```
    /// let parent = ferrocall::getppid()?;
    /// assert!(parent > 0);
    /// # Ok::<(), ferrocall::Errno>(())
    /// ```
    fn getppid(&self) -> Result<u32, Errno> {
        // SAFETY: the request names no buffer.
        let id = unsafe { lone_twin(self, ops::GetPpidArgs {}) }?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// The real user id, as `getuid()`.
    ///
    /// ```
    /// use std::os::unix::fs::MetadataExt;
    /// let uid = ferrocall::getuid()?;
    /// // The owner of /proc/self is the process's (effective) user.
    /// assert_eq!(uid, std::fs::metadata("/proc/self")?.uid());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn getuid(&self) -> Result<u32, Errno> {
        // SAFETY: the request names no buffer.
        let id = unsafe { lone_twin(self, ops::GetUidArgs {}) }?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// Writes `buf` to `fd`; returns how many bytes were written (maybe fewer), as
    /// `write()`.
    ///
    /// ```
    /// let n = ferrocall::write(std::io::stdout(), b"to standard output\n")?;
    /// assert_eq!(n, 19);
    /// # Ok::<(), ferrocall::Errno>(())
    /// ```
    fn write(&self, fd: impl AsFd, buf: &[u8]) -> Result<usize, Errno> {
        let fd = fd.as_fd().as_raw_fd();
        let args = ops::WriteArgs { fd, buf: UserBuf::from_slice(buf), ..Default::default() };
        // SAFETY: the one buffer is `buf`, borrowed for the call; the kernel only reads it.
        let n = unsafe { lone_twin(self, args) }?;
        usize::try_from(n).ok().filter(|&n| n <= buf.len()).ok_or(Errno::EIO)
    }

    /// Reads from `fd` into `buf`; returns how many bytes were read, 0 at end of file, as
    /// `read()`.
    ///
    /// ```
    /// use std::io::Write;
    /// let (mut tx, rx) = std::os::unix::net::UnixStream::pair()?;
    /// tx.write_all(b"ping")?;
    /// let mut buf = [0u8; 16];
    /// let n = ferrocall::read(&rx, &mut buf)?;
    /// assert_eq!(&buf[..n], b"ping");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn read(&self, fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
        let fd = fd.as_fd().as_raw_fd();
        let user = UserBufMut::from_mut_slice(buf);
        let args = ops::ReadArgs { fd, buf: user, ..Default::default() };
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let n = unsafe { lone_twin(self, args) }?;
        usize::try_from(n).ok().filter(|&n| n <= buf.len()).ok_or(Errno::EIO)
    }

    /// Ends the process (every thread) with status `code & 0xff`, as `exit_group()`, on the
    /// chosen [`Backend`]: returns only if the call could not be made, with the reason
    /// (`ENOSYS` under [`Backend::TypedOnly`] without typed calls). [`exit`](crate::exit)
    /// always ends the process.
    ///
    /// ```no_run
    /// ferrocall::set_backend(ferrocall::Backend::TypedOnly);
    /// let why = ferrocall::try_exit(0);
    /// eprintln!("still running: {why}");
    /// ```
    #[must_use = "it returns only if the process did not end"]
    fn try_exit(&self, code: i32) -> Errno {
        match self.call(&mut Request::new(ops::ExitArgs { code, ..Default::default() })) {
            Err(errno) => errno,
            Ok(_) => Errno::EIO,
        }
    }

    /// Writes the current directory, NUL-terminated, into `buf`; returns its length with
    /// the NUL, as `getcwd()`. [`FillError::TooSmall`] says how large `buf` must be (the
    /// legacy backend finds that out too).
    ///
    /// ```
    /// use ferrocall::FillError;
    /// let mut buf = vec![0u8; 2];
    /// let len = loop {
    ///     match ferrocall::getcwd(&mut buf) {
    ///         Ok(len) => break len,
    ///         Err(FillError::TooSmall(needed)) => buf.resize(needed, 0),
    ///         Err(e) => panic!("getcwd: {e}"),
    ///     }
    /// };
    /// let cwd = std::env::current_dir()?;
    /// assert_eq!(&buf[..len - 1], cwd.as_os_str().as_encoded_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn getcwd(&self, buf: &mut [u8]) -> Result<usize, FillError> {
        let user = UserBufMut::from_mut_slice(buf);
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let answer = unsafe { self.call_answer(&mut Request::new(ops::GetCwdArgs { buf: user })) }?;
        fill_result(answer, buf.len())
    }

    /// Opens `path`, relative to `dirfd` ([`fd::cwd()`](crate::fd::cwd) for the current
    /// directory), as `openat2(dirfd, path, &open_how { flags, mode, resolve }, 24)`; returns
    /// the new descriptor. The kernel runs it from its own copy of the request, so a
    /// seccomp filter on its decoded fields judges the values that run (see
    /// [`Op::decoded_layout`]); where typed calls are not available, it is `openat2()`.
    ///
    /// ```
    /// const O_RDONLY: u64 = 0;
    /// const RESOLVE_NO_SYMLINKS: u64 = 4;
    /// let fd = ferrocall::open(ferrocall::fd::cwd(), c"/", O_RDONLY, 0, RESOLVE_NO_SYMLINKS)?;
    /// assert!(fd.as_raw_fd() >= 0);
    /// # Ok::<(), ferrocall::Errno>(())
    /// ```
    fn open(
        &self,
        dirfd: impl AsFd,
        path: &core::ffi::CStr,
        flags: u64,
        mode: u64,
        resolve: u64,
    ) -> Result<OwnedFd, Errno> {
        let dirfd = dirfd.as_fd().as_raw_fd();
        let path = abi::UserPath { addr: path.as_ptr() as u64 };
        let args = ops::OpenArgs { dirfd, path, flags, mode, resolve, ..Default::default() };
        // SAFETY: the one buffer is `path`, borrowed for the call, NUL-terminated; the kernel
        // only reads it.
        let fd = unsafe { self.call_answer(&mut Request::new(args)) }?
            .result()
            .unwrap_or(Err(Errno::EIO))?;
        let fd = i32::try_from(fd).map_err(|_| Errno::EIO)?;
        // SAFETY: a successful open answers a new descriptor, which nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Writes this kernel's [`Op::Probe`] description into `buf`
    /// and returns its length; read it with [`ferrocall_abi::ops::parse_probe`]. It has no
    /// legacy twin: `ENOSYS` where typed calls are not available.
    ///
    /// ```
    /// let mut buf = [0u8; 512];
    /// if let Ok(len) = ferrocall::probe(&mut buf) {
    ///     let (header, ops) = ferrocall::abi::ops::parse_probe(&buf[..len]).unwrap();
    ///     println!("ABI version {}, {} operations", header.version, ops.count());
    /// }
    /// ```
    fn probe(&self, buf: &mut [u8]) -> Result<usize, FillError> {
        let user = UserBufMut::from_mut_slice(buf);
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let answer = unsafe { self.call_answer(&mut Request::new(ops::ProbeArgs { buf: user })) }?;
        fill_result(answer, buf.len())
    }

    /// Runs the calls of `batch` in one kernel entry; each answers in its own request.
    /// `Ok(n)` when all `n` succeeded; otherwise the first failure and how many succeeded
    /// before it (the failed request's slot holds the error if it ran, later ones are
    /// pending). While a ptrace tracer watches the process, the kernel refuses batches
    /// and the calls are made one by one, with the same results (as on the legacy backend).
    /// Where the kernel stops a batch before a call (a signal handler to run, a job-control
    /// stop, a seccomp verdict that needs a lone call: `SIGSYS`, a tracer or a supervisor),
    /// that call is made alone and the rest go on in a new batch: no call runs twice.
    ///
    /// ```
    /// use ferrocall::abi::ops::{GetPidArgs, GetUidArgs};
    /// use ferrocall::{Batch, Request};
    /// let mut pid = Request::new(GetPidArgs {});
    /// let mut uid = Request::new(GetUidArgs {});
    /// {
    ///     let mut batch: Batch<'_, 2> = Batch::new();
    ///     batch.push(&mut pid)?;
    ///     batch.push(&mut uid)?;
    ///     assert_eq!(ferrocall::batch(&mut batch), Ok(2));
    /// } // the batch borrowed the requests until here
    /// assert_eq!(pid.answer.result(), Some(Ok(u64::from(std::process::id()))));
    /// # Ok::<(), ferrocall::Errno>(())
    /// ```
    fn batch<const N: usize>(&self, batch: &mut Batch<'_, N>) -> Result<usize, BatchError> {
        let entries = batch.entries();
        let fail = |errno, completed| BatchError { errno, completed };
        let flags = resumable_flags(self);
        // Where the kernel stopped the batch: the calls from here are still to make.
        let mut first = 0;
        loop {
            let rest = entries.get(first..).unwrap_or_default();
            let bytes = UserBuf {
                addr: rest.as_ptr() as u64,
                len: (rest.len() * BatchEntry::SIZE) as u64,
            };
            let args = ops::BatchArgs { entries: bytes, flags, ..Default::default() };
            // SAFETY: the entries are the batch's own array, only read; each names a request
            // the batch borrows, pushed under `push`'s or `push_unchecked`'s guarantee.
            let answer = unsafe { self.call_answer(&mut Request::new(args)) }
                .map_err(|e| fail(e, first))?;
            let value = usize::try_from(answer.value).unwrap_or(usize::MAX);
            let alone = match answer.result() {
                Some(Ok(n)) if n as usize == rest.len() => return Ok(entries.len()),
                // Stopped before call `first + n`, which must be made alone.
                Some(Ok(_)) if flags != 0 && value < rest.len() => first + value,
                // A tracer watches this process: the kernel wants the calls one by one.
                Some(Err(Errno::EOPNOTSUPP)) if answer.value == ops::BATCH_REFUSED => first,
                Some(Err(errno)) => return Err(fail(errno, first.saturating_add(value))),
                _ => return Err(fail(Errno::EIO, first)),
            };
            let refused = answer.result().is_some_and(|r| r.is_err());
            let last = if refused { entries.len() } else { alone + 1 };
            for (done, entry) in entries.iter().enumerate().take(last).skip(alone) {
                // SAFETY: each entry was made by `push` or `push_unchecked` from a
                // `&'a mut Request<A>` the batch still borrows, with that request's exact
                // size and operation, under their guarantee about its buffers.
                let ret = unsafe { make_call(self, entry.addr as *mut u8, entry.op, entry.size) };
                if let Err(errno) = Errno::from_syscall_return(ret) {
                    return Err(fail(errno, done));
                }
            }
            first = last;
            if first >= entries.len() {
                return Ok(entries.len());
            }
        }
    }

    /// Runs the calls of `batch` in one kernel entry, their requests read from the batch's
    /// own buffer; the answers come back in order ([`PackedBatch::answer`]). `Ok(n)` when
    /// all `n` succeeded; otherwise the first failure and how many succeeded before it. As
    /// for [`TypedCalls::batch`], while a ptrace tracer watches the process the calls are
    /// made one by one, with the same results.
    ///
    /// ```
    /// use ferrocall::abi::ops::{GetPidArgs, GetPpidArgs};
    /// let mut batch: ferrocall::PackedBatch<2> = ferrocall::PackedBatch::new();
    /// let me = batch.push(GetPidArgs {})?;
    /// let parent = batch.push(GetPpidArgs {})?;
    /// assert_eq!(ferrocall::packed_batch(&mut batch), Ok(2));
    /// assert_eq!(batch.answer(me), Some(Ok(u64::from(std::process::id()))));
    /// assert!(batch.answer(parent).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn packed_batch<const N: usize>(
        &self,
        batch: &mut PackedBatch<'_, N>,
    ) -> Result<usize, BatchError> {
        let fail = |errno, completed| BatchError { errno, completed };
        let count = batch.len;
        // `push` made each answer pending; a batch run again gets them pending again.
        if core::mem::replace(&mut batch.ran, true) {
            for answer in batch.answers.iter_mut().take(count) {
                answer.write(Answer::default());
            }
        }
        let flags = resumable_flags(self);
        // Where the kernel stopped the batch: call `first`, at byte `start` of the requests.
        let (mut first, mut start) = (0, 0);
        loop {
            let base = batch.buf.as_ptr().cast::<u8>();
            let args = ops::PackedBatchArgs {
                requests: UserBuf {
                    addr: base.wrapping_add(start) as u64,
                    len: (batch.used - start) as u64,
                },
                answers: UserBufMut {
                    addr: batch.answers.as_mut_ptr().wrapping_add(first) as u64,
                    len: ((count - first) * size_of::<Answer>()) as u64,
                },
                flags,
                ..Default::default()
            };
            // SAFETY: both buffers are the batch's own, borrowed mutably for the call: the
            // requests from `start` are read, the answers from `first` written. Each request
            // was pushed under `push`'s or `push_unchecked`'s guarantee about its buffers.
            let answer = unsafe { self.call_answer(&mut Request::new(args)) }
                .map_err(|e| fail(e, first))?;
            let value = usize::try_from(answer.value).unwrap_or(usize::MAX);
            match answer.result() {
                Some(Ok(n)) if n as usize == count - first => return Ok(count),
                // Stopped before call `first + n`: make it alone, then go on after it.
                Some(Ok(_)) if flags != 0 && value < count - first => {
                    // SAFETY: as above; the one request is made alone, in place.
                    (first, start) = unsafe { packed_alone(self, batch, first, start, value) }?;
                    if first >= count {
                        return Ok(count);
                    }
                }
                // A tracer watches this process: the kernel wants the calls one by one.
                Some(Err(Errno::EOPNOTSUPP)) if answer.value == ops::BATCH_REFUSED => {
                    // SAFETY: as above; each request is made alone, in place.
                    return unsafe { packed_one_by_one(self, batch, first, start) };
                }
                Some(Err(errno)) => return Err(fail(errno, first.saturating_add(value))),
                _ => return Err(fail(Errno::EIO, first)),
            }
        }
    }

    /// Whether the running kernel offers `op` as a typed call, with requests of at least the
    /// size this library sends (through [`Op::Probe`], asked once: the kernel's answer is
    /// kept). The wrappers work either way (see [`Backend`]).
    ///
    /// ```
    /// use ferrocall::Op;
    /// if ferrocall::supports(Op::GetUid) {
    ///     println!("typed getuid");
    /// }
    /// ```
    #[must_use]
    fn supports(&self, op: Op) -> bool {
        let bit = |raw: u32| 1u64.checked_shl(raw).unwrap_or(0);
        let mut offered = self.support().offered.load(Ordering::Relaxed);
        if offered & 1 == 0 {
            let mut buf = [0u8; 1024];
            let Ok(len) = self.probe(&mut buf) else {
                // No answer (no typed calls here, or not now): asked again next time.
                return false;
            };
            let Some((_, entries)) = ops::parse_probe(buf.get(..len).unwrap_or(&[])) else {
                return false;
            };
            offered = 1;
            for e in entries {
                let ours = Op::from_raw(e.op.into()).map(Op::request_size);
                if ours.is_some_and(|size| e.request_size as usize >= size) {
                    offered |= bit(e.op);
                }
            }
            self.support().offered.store(offered, Ordering::Relaxed);
        }
        offered & bit(op.raw()) != 0
    }
}

impl<K: Kernel + ?Sized> TypedCalls for K {}

fn fill_result(answer: Answer, capacity: usize) -> Result<usize, FillError> {
    match answer.result() {
        Some(Ok(n)) => {
            usize::try_from(n).ok().filter(|&n| n <= capacity).ok_or(FillError::Errno(Errno::EIO))
        }
        Some(Err(Errno::ERANGE)) => {
            Err(usize::try_from(answer.value)
                .map_or(FillError::Errno(Errno::EIO), FillError::TooSmall))
        }
        Some(Err(errno)) => Err(FillError::Errno(errno)),
        None => Err(FillError::Errno(Errno::EIO)),
    }
}
