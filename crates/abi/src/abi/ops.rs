// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The operation table: the one place an operation is defined.
//!
//! Each entry of the `operations!` table gives an operation its number, its name, its
//! argument fields, the name of the function that runs it (`fn getpid`) and, where there is
//! one, its legacy twin: the x86_64 system call it stands for and how its fields become
//! that call's arguments (`twin 1 write(fd, buf)`: a scalar field is one argument, a
//! buffer two, its address then its length). From it come the [`Op`] enum and its checked
//! decoding, one `#[repr(C)]` argument struct per operation, the decoded [`Call`], the
//! [`Handler`] trait whose one method per operation the kernel (and the library's fake
//! kernel) implements — so a new operation does not build until it has one — and the field
//! and twin metadata used by the layout snapshot, the docs, the tracer and the fuzzer.
//!
//! Rules, checked by the layout snapshot test: numbers are never reused or changed,
//! operations are only appended, and fields are only appended to an operation's arguments
//! (the request size tells the kernel which fields a caller knows).

use core::mem::{offset_of, size_of};

use super::decode;
use super::errno::Errno;
use super::layout::{
    has_buffers, Args, BufferFlag, Field, FieldInfo, FieldType, NoBuffers, Pad32, Request, UserBuf,
    UserBufMut, UserPath,
};

/// `index` if it is below `len`, else 0, computed without a branch: the kernel's
/// `array_index_nospec()`, for a table indexed by a number that came from user memory. A
/// mispredicted range check (the `match` that made an [`Op`] from a raw number, say)
/// cannot then load from past the table (Spectre v1). `len` must be below `isize::MAX`;
/// any `index` gives 0 or itself.
///
/// The index is first hidden from the optimizer (`core::hint::black_box`; this crate
/// forbids `unsafe`, so not an `asm!` barrier), as the kernel's macro hides it with
/// `OPTIMIZER_HIDE_VAR()`: where earlier branches bound it, the compiler would otherwise
/// drop the mask as redundant, and a mispredicted branch is what the mask is for.
#[inline(always)]
pub fn index_nospec(index: usize, len: usize) -> usize {
    let index = core::hint::black_box(index);
    // All ones when `index < len` (then `len - 1 - index` does not wrap and neither value
    // has its top bit set), else 0: the kernel's array_index_mask_nospec().
    let mask = !((index | len.wrapping_sub(1).wrapping_sub(index)) as isize) >> (usize::BITS - 1);
    index & mask as usize
}

/// `HasBuffers` if any of the field types is a user buffer, else [`NoBuffers`].
macro_rules! any_buffers {
    () => {
        NoBuffers
    };
    ($first:ty $(, $rest:ty)*) => {
        <<$first as Field>::Buffers as BufferFlag>::Or<any_buffers!($($rest),*)>
    };
}

/// The [`Twin`] of a table entry: `None` when it names none.
macro_rules! twin {
    () => {
        None
    };
    ($nr:literal $name:ident($($arg:ident),*) $($sname:ident($($sfield:ident),*))?) => {
        Some(Twin {
            nr: $nr,
            name: stringify!($name),
            args: &[$(stringify!($arg)),*],
            by_ref: by_ref!($($sname($($sfield),*))?),
        })
    };
}

/// The [`ByRef`] of a twin: `None` when it takes no struct by pointer.
macro_rules! by_ref {
    () => {
        None
    };
    ($name:ident($($field:ident),*)) => {
        Some(ByRef { name: stringify!($name), fields: &[$(stringify!($field)),*] })
    };
}

/// The twin call of decoded arguments `$args` of a request at `$addr`: `None` when the
/// entry names no twin.
macro_rules! twin_call {
    ($args:expr, $addr:expr;) => {
        None
    };
    (
        $args:expr, $addr:expr;
        $nr:literal ($($arg:ident),*) $($sname:ident($($sfield:ident),*))?
    ) => {
        Some(($nr, TwinArgs::default()$(.with(&$args.$arg))*.by_ref($addr, Self::BY_REF)))
    };
}

macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $num:literal => $name:ident($args:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident : $fty:ty ),* $(,)?
        }) fn $method:ident $(, twin $tnr:literal $tname:ident($($targ:ident),*)
            $(+ &$sname:ident($($sfield:ident),*))?)?;
    )*) => {
        /// An operation number.
        ///
        /// Operations are appended as the ABI grows, so outside this crate a `match` needs a
        /// wildcard arm (the kernel, where the table is compiled as a module, matches
        /// exhaustively).
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Op {
            $( $(#[doc = $doc])* $name = $num, )*
        }

        impl Op {
            /// Every operation, in numeric order.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// The operation numbered `raw`, if there is one. This is the only way from an
            /// untrusted number to an `Op`.
            #[inline]
            pub const fn from_raw(raw: u64) -> Option<Op> {
                match raw {
                    $($num => Some(Op::$name),)*
                    _ => None,
                }
            }

            /// The operation's number.
            pub const fn raw(self) -> u32 {
                self as u32
            }

            /// The operation's name, as in the table.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Op::$name => stringify!($name),)*
                }
            }

            /// The size of the operation's arguments in this version of the ABI.
            pub const fn args_size(self) -> usize {
                match self {
                    $(Op::$name => size_of::<$args>(),)*
                }
            }

            /// The request sizes, in numeric order: a table rather than a `match`, which
            /// the kernel (built without jump tables) would turn into a chain of compares.
            const REQUEST_SIZES: &'static [usize] = &[$(size_of::<Request<$args>>()),*];

            /// The size of a whole request for the operation in this version of the ABI.
            #[inline]
            #[expect(
                clippy::indexing_slicing,
                reason = "operations are numbered from 1 without gaps, checked at compile time"
            )]
            pub fn request_size(self) -> usize {
                // The number an `Op` holds may have come from user memory through a range
                // check the compiler merges with it (`Op::from_raw`).
                let index = (self as usize).wrapping_sub(1);
                Op::REQUEST_SIZES[index_nospec(index, Op::REQUEST_SIZES.len())]
            }

            /// The size a `Batch`'s common path takes a request of the raw operation number
            /// `raw` at: the size this ABI knows for its operation, or 0 for a batch
            /// operation and for a number that names none. One load from a table indexed
            /// by the number, no `match` on it and no [`Op`] made, on the per-call path of a
            /// batch: the table has a power-of-two number of slots and the index is masked
            /// to it (the slots past the operations are 0), so that even a mispredicted
            /// range check cannot load from past it, as the entry code's table of twins
            /// does (`ferrocall_twin_of()`), in fewer instructions than [`index_nospec`].
            #[inline(always)]
            pub fn batch_call_size(raw: u64) -> usize {
                /// A power of two above every operation number.
                const SLOTS: usize = (Op::ALL.len() + 1).next_power_of_two();
                /// [`Op::REQUEST_SIZES`] by raw number, 0 for a batch operation; slot 0
                /// names no operation.
                #[expect(
                    clippy::indexing_slicing,
                    reason = "evaluated at compile time, where it cannot fail"
                )]
                const SIZES: [u16; SLOTS] = {
                    let mut sizes = [0; SLOTS];
                    let mut i = 0;
                    while i < Op::ALL.len() {
                        assert!(Op::REQUEST_SIZES[i] <= u16::MAX as usize);
                        if !Op::ALL[i].is_batch() {
                            sizes[Op::ALL[i] as usize] = Op::REQUEST_SIZES[i] as u16;
                        }
                        i += 1;
                    }
                    sizes
                };
                // The mask keeps the load in the table whatever `raw` is, even where the
                // range check below is mispredicted; hidden from the optimizer, which would
                // otherwise drop it as redundant beside that check.
                let slot = core::hint::black_box(raw) as usize & (SLOTS - 1);
                let size = SIZES.get(slot).copied().unwrap_or(0);
                if raw < SLOTS as u64 {
                    usize::from(size)
                } else {
                    0
                }
            }

            /// The operation's argument fields.
            pub const fn fields(self) -> &'static [FieldInfo] {
                match self {
                    $(Op::$name => <$args as Args>::FIELDS,)*
                }
            }

            /// The operation's documentation, as in the table (one line per doc line).
            pub const fn doc(self) -> &'static str {
                match self {
                    $(Op::$name => concat!($($doc, "\n"),*),)*
                }
            }

            /// The name of the function that runs the operation: the [`Handler`] method,
            /// and the library's wrapper.
            pub const fn function(self) -> &'static str {
                match self {
                    $(Op::$name => stringify!($method),)*
                }
            }

            /// The legacy system call this operation stands for, if it has one.
            pub const fn twin(self) -> Option<Twin> {
                match self {
                    $(Op::$name => twin!($($tnr $tname($($targ),*) $($sname($($sfield),*))?)?),)*
                }
            }
        }

        /// What runs each operation: one method per operation, named by the table. The
        /// kernel's handler implements it, and so does the library's fake kernel in its
        /// host tests; a new operation fails to build until both have its method.
        pub trait Handler {
            /// What a method answers.
            type Answer;
            $(
                #[doc = concat!("Runs [`Op::", stringify!($name), "`].")]
                fn $method(&mut self, args: $args) -> Self::Answer;
            )*
        }

        /// A decoded request: what the kernel dispatches on ([`Call::dispatch`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Call {
            $( $(#[doc = $doc])* $name($args), )*
        }

        impl Call {
            /// Decodes the arguments of `op` from `bytes`, the bytes after the answer slot
            /// zero-extended to the size this ABI knows.
            #[inline(always)]
            pub fn decode_args(op: Op, bytes: &[u8]) -> Result<Call, Errno> {
                match op {
                    $(Op::$name => Ok(Call::$name(<$args as Args>::decode(bytes)?)),)*
                }
            }

            /// Decodes the arguments of `op` from `bytes`, as [`Call::decode_args`], and runs
            /// them with `handler`'s method for `op`, as [`Call::dispatch`], without building
            /// the `Call`: one `match` on the operation, for a call that nothing has to see
            /// decoded before it runs (the fast path of a batch's calls).
            #[inline(always)]
            pub fn decode_dispatch<H: Handler + ?Sized>(
                op: Op,
                bytes: &[u8],
                handler: &mut H,
            ) -> Result<H::Answer, Errno> {
                match op {
                    $(Op::$name => Ok(handler.$method(<$args as Args>::decode(bytes)?)),)*
                }
            }

            /// Decodes and runs, as [`Call::decode_dispatch`], the arguments `bytes` of a
            /// lone request that the entry code read whole: raw operation `op`, of an
            /// operation without a legacy twin, and `size`, the size this ABI knows for it.
            /// `None` for any other operation or size (the caller then reads the request
            /// itself). One `match` on the raw number decides and dispatches.
            #[inline(always)]
            pub fn dispatch_loaded<H: Handler + ?Sized>(
                op: u64,
                size: u64,
                bytes: &[u8],
                handler: &mut H,
            ) -> Option<Result<H::Answer, Errno>> {
                match op {
                    $($num if Op::$name.twin().is_none()
                        && size == size_of::<Request<$args>>() as u64 =>
                    {
                        Some(<$args as Args>::decode(bytes).map(|args| handler.$method(args)))
                    })*
                    _ => None,
                }
            }

            /// Runs the requests at the start of `bytes` (a packed batch's requests as
            /// copied in) while each has the header of `op`'s common path, asking `run`
            /// before each call and handing it each answer: [`Call::dispatch_run_in`] over
            /// one copy. Returns the bytes it ran.
            #[inline(always)]
            pub fn dispatch_run<H: Handler + ?Sized, R: decode::Run<H::Answer>>(
                op: Op,
                mut bytes: &[u8],
                handler: &mut H,
                run: &mut R,
            ) -> usize {
                Call::dispatch_run_in(op, &mut bytes, handler, run)
            }

            /// Runs the requests `requests` hands out while each has the header of `op`'s
            /// common path, asking `run` before each call and handing it each answer:
            /// [`decode::run_of`] for `op`'s arguments, one loop per operation, so that a
            /// run of calls of one operation pays the header check and the dispatch once
            /// per call, not the decoding of the header and the `match` on the operation,
            /// and goes on from one window of the requests to the next. Returns the bytes
            /// it ran.
            #[inline(always)]
            pub fn dispatch_run_in<
                H: Handler + ?Sized,
                R: decode::Run<H::Answer>,
                Q: decode::Requests,
            >(
                op: Op,
                requests: &mut Q,
                handler: &mut H,
                run: &mut R,
            ) -> usize {
                Call::dispatch_run_raw(op.raw().into(), requests, handler, run)
            }

            /// [`Call::dispatch_run_in`] for the raw operation number `raw`, as a batch's
            /// common path has it ([`Op::batch_call_size`]): one `match` on the number, no
            /// [`Op`] made first; 0 for a number that names no operation.
            #[inline(always)]
            pub fn dispatch_run_raw<
                H: Handler + ?Sized,
                R: decode::Run<H::Answer>,
                Q: decode::Requests,
            >(
                raw: u64,
                requests: &mut Q,
                handler: &mut H,
                run: &mut R,
            ) -> usize {
                match raw {
                    $($num => {
                        decode::run_of::<$args, _, _, _, _>(requests, handler, run, H::$method)
                    })*
                    _ => 0,
                }
            }

            /// Runs the one request `bytes` (a call of a `Batch`, as copied in) if it has
            /// the header of `op`'s common path and `run` is ready, handing `run` its
            /// answer: [`decode::call_of`] for the raw operation number `raw`, the packed
            /// runs' checks without their loop. Whether it ran; never for a number that
            /// names no operation.
            #[inline(always)]
            pub fn dispatch_call_raw<H: Handler + ?Sized, R: decode::Run<H::Answer>>(
                raw: u64,
                bytes: &[u8],
                handler: &mut H,
                run: &mut R,
            ) -> bool {
                match raw {
                    $($num => decode::call_of::<$args, _, _, _>(bytes, handler, run, H::$method),)*
                    _ => false,
                }
            }

            /// The operation of this call.
            pub const fn op(&self) -> Op {
                match self {
                    $(Call::$name(_) => Op::$name,)*
                }
            }

            /// Runs the call with `handler`'s method for its operation.
            #[inline(always)]
            pub fn dispatch<H: Handler + ?Sized>(self, handler: &mut H) -> H::Answer {
                match self {
                    $(Call::$name(args) => handler.$method(args),)*
                }
            }

            /// The call, of a request at `addr`, as its legacy twin would be made: the
            /// system call number and its arguments, or `None` for an operation without a
            /// twin. (`addr` matters only to a twin that takes a struct by pointer,
            /// [`Twin::by_ref`]: it points into the request.)
            pub fn twin_call(&self, addr: u64) -> Option<(u32, TwinArgs)> {
                match self {
                    $(Call::$name(args) => args.twin_call(addr),)*
                }
            }

            /// The call's decoded presentation to seccomp ([`Op::decoded_layout`]):
            /// `ferrocall(op, fields…)`, or `None` for an operation that has none.
            pub fn decoded_args(&self) -> Option<TwinArgs> {
                match self {
                    $(Call::$name(args) if Op::$name.has_decoded_presentation() => {
                        Some(args.decoded_args())
                    })*
                    _ => None,
                }
            }
        }

        $(
            $(#[doc = $doc])*
            #[doc = ""]
            #[doc = concat!("The arguments of [`Op::", stringify!($name), "`].")]
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $args {
                $( $(#[doc = $fdoc])* pub $field: $fty, )*
            }

            impl Args for $args {
                const OP: Op = Op::$name;
                type Buffers = any_buffers!($($fty),*);
                const FIELDS: &'static [FieldInfo] = &[$(
                    FieldInfo {
                        name: stringify!($field),
                        offset: offset_of!($args, $field),
                        ty: <$fty as Field>::TYPE,
                    },
                )*];

                const BY_REF: Option<(usize, usize)> = match Op::$name.twin() {
                    Some(Twin { by_ref: Some(by_ref), .. }) => by_ref.span(Self::FIELDS),
                    _ => None,
                };

                #[inline]
                fn twin_call(&self, addr: u64) -> Option<(u32, TwinArgs)> {
                    let _ = addr;
                    twin_call!(self, addr; $($tnr ($($targ),*) $($sname($($sfield),*))?)?)
                }

                #[inline]
                fn decoded_args(&self) -> TwinArgs {
                    TwinArgs::default().with(&Op::$name.raw())$(.with(&self.$field))*
                }

                #[inline]
                fn decode(bytes: &[u8]) -> Result<Self, Errno> {
                    // Operations without arguments do not look at the bytes. The others read
                    // their fields at constant offsets of a fixed-size array, which leaves
                    // one length check for the compiler to keep, not one per field.
                    let bytes: &[u8; size_of::<$args>()] = bytes
                        .get(..size_of::<$args>())
                        .and_then(|b| b.try_into().ok())
                        .ok_or(Errno::EINVAL)?;
                    let _ = bytes;
                    Ok($args {
                        $( $field: <$fty as Field>::decode(bytes, offset_of!($args, $field))?, )*
                    })
                }
            }

            // No implicit padding, and a size that keeps the next request aligned; a struct
            // a twin takes by pointer is made of contiguous fields.
            const _: () = {
                assert!(match Op::$name.twin() {
                    Some(Twin { by_ref: Some(_), .. }) => <$args as Args>::BY_REF.is_some(),
                    _ => true,
                });
                assert!(
                    !Op::$name.has_decoded_presentation()
                        || decoded_arguments(<$args as Args>::FIELDS) <= 5
                );
                assert!(0 $(+ <$fty as Field>::TYPE.size())* == size_of::<$args>());
                assert!(
                    <<$args as Args>::Buffers as BufferFlag>::HAS_BUFFERS
                        == has_buffers(<$args as Args>::FIELDS)
                );
                assert!(size_of::<$args>() % 8 == 0);
                assert!(
                    size_of::<Request<$args>>() == Request::<()>::ARGS_OFFSET + size_of::<$args>()
                );
            };
        )*
    };
}

operations! {
    /// The seed's demonstration call: answers `value + 15`, or `EOVERFLOW` when that does
    /// not fit in a `u32` (the seed's demo: `Useless(15)` answers 30).
    1 => Useless(UselessArgs {
        /// The number to add 15 to.
        value: u32,
        /// Padding, zero.
        pad0: Pad32,
    }) fn useless;
    /// The caller's process id (its thread group id), as `getpid()`.
    2 => GetPid(GetPidArgs {}) fn getpid, twin 39 getpid();
    /// The parent's process id, as `getppid()`.
    3 => GetPpid(GetPpidArgs {}) fn getppid, twin 110 getppid();
    /// Writes `buf` to `fd`, as `write()`: answers the number of bytes written, which may
    /// be fewer than asked. The kernel runs it with the legacy call's own function
    /// (`ksys_write`) and accesses the buffer only through the user-copy functions: a `len`
    /// above `isize::MAX` is `EINVAL`, a range that wraps the address space `EFAULT`.
    4 => Write(WriteArgs {
        /// The file descriptor.
        fd: i32,
        /// Padding, zero.
        pad0: Pad32,
        /// The bytes to write.
        buf: UserBuf,
    }) fn write, twin 1 write(fd, buf);
    /// Reads into `buf` from `fd`, as `read()`: answers the number of bytes read, 0 at end
    /// of file. Runs `ksys_read`, with the buffer rules of [`Op::Write`]. A signal
    /// interrupts a blocking `Read` as it does `read()`: the call is restarted (the answer
    /// slot is left pending meanwhile) or fails with `EINTR`.
    5 => Read(ReadArgs {
        /// The file descriptor.
        fd: i32,
        /// Padding, zero.
        pad0: Pad32,
        /// Where to put the bytes.
        buf: UserBufMut,
    }) fn read, twin 0 read(fd, buf);
    /// Ends the calling process (every thread) with status `code & 0xff`, as
    /// `exit_group()`. Does not return, and writes no answer.
    6 => Exit(ExitArgs {
        /// The exit status.
        code: i32,
        /// Padding, zero.
        pad0: Pad32,
    }) fn exit, twin 231 exit_group(code);
    /// Writes the current working directory, NUL-terminated, into `buf`: answers its
    /// length including the NUL. When `buf` is too small: `ERANGE`, with the length needed
    /// as the answer's value.
    7 => GetCwd(GetCwdArgs {
        /// Where to put the path.
        buf: UserBufMut,
    }) fn getcwd, twin 79 getcwd(buf);
    /// Describes what this kernel offers: writes a [`ProbeHeader`] and one [`ProbeEntry`]
    /// per operation into `buf`, and answers the number of bytes written. When `buf` is too
    /// small: `ERANGE`, with the size needed as the answer's value. A program built against
    /// a newer ABI checks with it that the running kernel knows an operation, and at which
    /// request size.
    8 => Probe(ProbeArgs {
        /// Where to put the description.
        buf: UserBufMut,
    }) fn probe;
    /// Runs several typed calls in one kernel entry. `entries` is an array of
    /// [`BatchEntry`], each the register set of one typed call (`rdi`, `rsi`, `rax`); each
    /// call is checked by seccomp and run exactly as if it had been made alone, and answered
    /// in its own request's answer slot. When all succeed, the batch answers their number.
    /// It stops at the first call that fails and answers that call's errno, with the number
    /// of calls that succeeded before it as the value; the failed call's slot holds the error
    /// if the call ran (it stays pending if it was refused or could not be decoded, as for a
    /// lone call), later slots stay pending. At most [`MAX_BATCH`] entries; a `Batch` inside
    /// a batch is `EINVAL`. Audit and the syscall tracepoints see each call as it would be
    /// presented alone (its twin, or `ferrocall`), between the batch's own entry and exit.
    /// While a ptrace syscall tracer watches the process, a batch is refused with
    /// `EOPNOTSUPP` and the value [`BATCH_REFUSED`]: it stops the process at each call's
    /// entry and exit, so the caller makes its calls one by one. A
    /// pending signal ends a batch between calls with `EINTR`, and so does a call
    /// interrupted after the first. With [`BATCH_RESUMABLE`] in `flags` (since ABI version
    /// 4) the batch may instead *stop* before a call, answering `Ok(n)` with `n` below the
    /// number of calls: call `n` did not run, its slot is pending, and the caller makes it
    /// alone and goes on with the rest. It stops where a lone call would leave the kernel:
    /// a signal pending, or a call interrupted to run a handler (it is made again), and
    /// before a call whose seccomp verdict acts on the task's registers or a watcher
    /// (`TRAP`, `TRACE`, `USER_NOTIF`, `LOG`), which must see a lone call; without the flag
    /// such a call is refused with `EPERM`, and nothing acts on the batch's registers.
    9 => Batch(BatchArgs {
        /// The entries, read by the kernel.
        entries: UserBuf,
        /// [`BATCH_RESUMABLE`], or 0; any other bit is `EINVAL`.
        flags: u32,
        /// Padding, zero.
        pad0: Pad32,
    }) fn batch;
    /// Runs several typed calls in one kernel entry, like [`Op::Batch`], from requests
    /// laid out back to back. The kernel reads `requests` with one copy per
    /// [`PACKED_CHUNK`] bytes rather than one per call, and writes their answers, in order,
    /// with one copy per [`PACKED_ANSWERS`] calls into `answers`,
    /// an array of [`Answer`](crate::Answer) whose length says how many requests to run.
    /// Each request starts where the one before it ends (a request size must be a multiple
    /// of 8, else `EINVAL`), lies within `requests`, and is checked by seccomp and run
    /// exactly as if made alone with its address in `requests` as the request address; the
    /// answer slots inside the requests are neither read nor written. Failure policy,
    /// limits and refusal as for [`Op::Batch`]: it stops at the first failure, answers its
    /// errno with the number of calls that succeeded before it, and the failed call's
    /// answer is written if the call ran; at most [`MAX_BATCH`] calls; a `Batch` or
    /// `PackedBatch` inside is `EINVAL`; `EOPNOTSUPP` with [`BATCH_REFUSED`] while the
    /// process is observed.
    10 => PackedBatch(PackedBatchArgs {
        /// The requests, back to back, read by the kernel.
        requests: UserBuf,
        /// One answer per request, written by the kernel.
        answers: UserBufMut,
        /// [`BATCH_RESUMABLE`], or 0; any other bit is `EINVAL`. A packed batch that stops
        /// before call `n` has written the answers of calls `0..n`.
        flags: u32,
        /// Padding, zero.
        pad0: Pad32,
    }) fn packed_batch;
    /// The caller's real user id, as `getuid()`: in the caller's user namespace, with the
    /// overflow id for one that has no mapping there.
    11 => GetUid(GetUidArgs {}) fn getuid, twin 102 getuid();
    /// Opens `path`, relative to `dirfd`, as `openat2(dirfd, path, &how, sizeof(how))`
    /// with `how` made of `flags`, `mode` and `resolve` (`struct open_how`): answers the new
    /// file descriptor. Unknown `flags` or `resolve` bits, a `mode` without `O_CREAT` or
    /// `O_TMPFILE` and the other refusals of `openat2()` are its errnos. The kernel runs it
    /// from its own copy of the request, never from the `how` its twin is shown with, so a
    /// seccomp filter on its decoded fields ([`Op::decoded_layout`]) judges the values that
    /// run; the path is read once, into the kernel's memory, before anything looks at it.
    12 => Open(OpenArgs {
        /// The directory a relative path starts from, or `AT_FDCWD` (-100).
        dirfd: i32,
        /// Padding, zero.
        pad0: Pad32,
        /// The path, NUL-terminated.
        path: UserPath,
        /// `O_*` flags, as `open_how.flags`.
        flags: u64,
        /// The mode of a file it creates, as `open_how.mode`.
        mode: u64,
        /// `RESOLVE_*` flags, as `open_how.resolve`.
        resolve: u64,
    }) fn open, twin 437 openat2(dirfd, path) + &how(flags, mode, resolve);
}

/// The legacy system call an operation stands for: how a policy written for legacy calls
/// sees it, and what the library makes where typed calls are not available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Twin {
    /// Its x86_64 system call number.
    pub nr: u32,
    /// Its name, as in `man 2`.
    pub name: &'static str,
    /// The fields that become its arguments, in order: a scalar field is one argument, a
    /// buffer two (its address, then its length), a path one (its address).
    pub args: &'static [&'static str],
    /// A struct the twin takes by pointer (`openat2()`'s `struct open_how`), if any: its next
    /// two arguments, after [`Twin::args`].
    pub by_ref: Option<ByRef>,
}

/// A struct that a legacy twin takes by pointer, made of request fields laid out as that
/// struct: the twin is presented with the struct's address *inside the request* and its
/// size, so a tracer or a seccomp supervisor reading it reads the caller's request. The
/// kernel never runs such an operation through that pointer: it runs it from its own copy
/// of the request ([`Op::runs_from_copy`]), so the values it was shown and checked are the
/// values it runs, whatever the caller's memory holds by then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByRef {
    /// The struct's name, as the twin's manual page calls the argument.
    pub name: &'static str,
    /// Its fields, in order: contiguous fields of the operation's arguments.
    pub fields: &'static [&'static str],
}

impl ByRef {
    /// The offset, in the arguments, and the size of the struct made of these of `fields`;
    /// `None` unless they are all there, in order, with no gap.
    pub const fn span(&self, fields: &[FieldInfo]) -> Option<(usize, usize)> {
        let mut start = None;
        let mut end = 0;
        let mut names = self.fields;
        while let [name, rest @ ..] = names {
            let Some(field) = find_field(fields, name) else {
                return None;
            };
            match start {
                None => start = Some(field.offset),
                Some(_) if field.offset != end => return None,
                Some(_) => {}
            }
            end = match field.offset.checked_add(field.ty.size()) {
                Some(end) => end,
                None => return None,
            };
            names = rest;
        }
        match start {
            Some(start) if end > start => Some((start, end.saturating_sub(start))),
            _ => None,
        }
    }
}

/// The field named `name` of `fields`, at compile time.
const fn find_field(fields: &[FieldInfo], name: &str) -> Option<FieldInfo> {
    let mut rest = fields;
    while let [field, tail @ ..] = rest {
        if str_eq(field.name, name) {
            return Some(*field);
        }
        rest = tail;
    }
    None
}

/// How many arguments `fields` take in a decoded presentation ([`Op::decoded_layout`]).
const fn decoded_arguments(fields: &[FieldInfo]) -> usize {
    let mut n: usize = 0;
    let mut rest = fields;
    while let [field, tail @ ..] = rest {
        n = n.saturating_add(match field.ty {
            FieldType::Pad32 => 0,
            FieldType::UserBuf | FieldType::UserBufMut => 2,
            _ => 1,
        });
        rest = tail;
    }
    n
}

/// `a == b`, at compile time.
const fn str_eq(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, ra @ ..], [y, rb @ ..]) if *x == *y => {
                a = ra;
                b = rb;
            }
            _ => return false,
        }
    }
}

/// The arguments of a twin call, as its registers hold them (`rdi`, `rsi`, `rdx`, `r10`,
/// `r8`, `r9`); unused ones are zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwinArgs {
    /// The arguments.
    pub regs: [u64; 6],
    /// How many are used.
    pub len: usize,
}

impl TwinArgs {
    /// These arguments followed by `field`'s.
    fn with<T: TwinArg>(mut self, field: &T) -> Self {
        field.push(&mut self);
        self
    }

    /// These arguments followed by the address and size of the struct at `span` (offset in
    /// the arguments, size) of the request at `addr`; unchanged for `None`.
    fn by_ref(mut self, addr: u64, span: Option<(usize, usize)>) -> Self {
        if let Some((offset, size)) = span {
            let offset = (Request::<()>::ARGS_OFFSET as u64).saturating_add(offset as u64);
            self.push(addr.wrapping_add(offset));
            self.push(size as u64);
        }
        self
    }

    fn push(&mut self, value: u64) {
        if let Some(slot) = self.regs.get_mut(self.len) {
            *slot = value;
            self.len = self.len.saturating_add(1);
        }
    }
}

/// A field type that can be an argument of a twin call.
trait TwinArg {
    /// Appends the field's register value(s) to `regs`.
    fn push(&self, regs: &mut TwinArgs);
}

impl TwinArg for u32 {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(u64::from(*self));
    }
}

impl TwinArg for u64 {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(*self);
    }
}

impl TwinArg for i32 {
    /// Sign-extended, as the C ABI passes an `int`.
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(i64::from(*self) as u64);
    }
}

impl TwinArg for i64 {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(*self as u64);
    }
}

impl TwinArg for UserBuf {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(self.addr);
        regs.push(self.len);
    }
}

impl TwinArg for UserBufMut {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(self.addr);
        regs.push(self.len);
    }
}

impl TwinArg for UserPath {
    fn push(&self, regs: &mut TwinArgs) {
        regs.push(self.addr);
    }
}

impl TwinArg for Pad32 {
    /// Padding is no argument.
    fn push(&self, _: &mut TwinArgs) {}
}

/// One argument of an operation's decoded presentation to seccomp ([`Op::decoded_layout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    /// Its index in `seccomp_data.args`.
    pub arg: usize,
    /// The field it shows.
    pub field: FieldInfo,
    /// What of the field it is: the whole value, or for a buffer its address or its length.
    pub part: ShownPart,
}

/// What of a field an argument of the decoded presentation holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShownPart {
    /// The value: an integer (a signed one sign-extended to 64 bits, as the C ABI passes
    /// it), or a path's address.
    Value,
    /// A buffer's address.
    Addr,
    /// A buffer's length.
    Len,
}

impl Op {
    /// Whether this is one of the batch operations, which a batch may not hold.
    pub const fn is_batch(self) -> bool {
        matches!(self, Op::Batch | Op::PackedBatch)
    }

    /// How many argument registers this operation's twin call fills, as
    /// [`Args::twin_call`](super::layout::Args::twin_call) fills them: a buffer field two
    /// (address, length), any other field one. `None` for an operation without a twin.
    pub fn twin_registers(self) -> Option<usize> {
        let twin = self.twin()?;
        let registers = |name: &&str| match self.fields().iter().find(|f| f.name == *name) {
            Some(f) if matches!(f.ty, FieldType::UserBuf | FieldType::UserBufMut) => 2,
            _ => 1,
        };
        let by_ref = if twin.by_ref.is_some() { 2 } else { 0 };
        Some(
            twin.args
                .iter()
                .map(registers)
                .fold(by_ref, usize::saturating_add),
        )
    }

    /// Whether the kernel runs a lone call of this operation from its own copy of the
    /// request rather than through its twin's system call: an operation whose twin takes a
    /// struct by pointer ([`Twin::by_ref`]), which the twin would read again from user
    /// memory after seccomp saw it.
    pub const fn runs_from_copy(self) -> bool {
        matches!(
            self.twin(),
            Some(Twin {
                by_ref: Some(_),
                ..
            })
        )
    }

    /// Whether seccomp also sees the call decoded, as `ferrocall(op, fields…)`
    /// ([`Op::decoded_layout`]): the operations that run from the kernel's copy
    /// ([`Op::runs_from_copy`]), whose fields a filter on the twin cannot see.
    pub const fn has_decoded_presentation(self) -> bool {
        self.runs_from_copy()
    }

    /// The layout of the operation's decoded presentation to seccomp, the one rule for every
    /// operation: the system call number is [`SYSCALL_NR`](crate::SYSCALL_NR), `args[0]` the
    /// operation's number, then each field in table order, padding skipped: an integer or a
    /// path one argument (its value, or the path's address), a buffer two (its address,
    /// then its length). Fields past `args[5]` are not shown; the operations with a decoded
    /// presentation are checked to show them all. Empty for an operation without one.
    pub fn decoded_layout(self) -> impl Iterator<Item = Shown> {
        let fields = if self.has_decoded_presentation() {
            self.fields()
        } else {
            &[]
        };
        fields
            .iter()
            .filter(|f| f.ty != FieldType::Pad32)
            .flat_map(|&field| {
                let parts: &[ShownPart] = match field.ty {
                    FieldType::UserBuf | FieldType::UserBufMut => {
                        &[ShownPart::Addr, ShownPart::Len]
                    }
                    _ => &[ShownPart::Value],
                };
                parts.iter().map(move |&part| (field, part))
            })
            .zip(1..6)
            .map(|((field, part), arg)| Shown { arg, field, part })
    }
}

/// The kernel reads the requests of a [`Op::PackedBatch`] in chunks of this many bytes.
/// The chunk and the answer group live on the kernel stack, beside the calls they run
/// (a `Read` may go deep into a filesystem): together they stay under 1 KiB, and the
/// handler's whole frame within the 1 KiB `cargo xtask test` holds it to. (480 bytes:
/// twelve 40-byte requests, whole.)
pub const PACKED_CHUNK: usize = 480;

/// The kernel writes the answers of a [`Op::PackedBatch`] in groups of this many.
pub const PACKED_ANSWERS: usize = 16;

/// One call of a [`Op::Batch`]: what a lone typed call passes in registers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchEntry {
    /// The operation (`rdi`).
    pub op: u32,
    /// The request size (`rsi`).
    pub size: u32,
    /// The request's address (`rax`).
    pub addr: u64,
}

impl BatchEntry {
    /// The size of an entry in the array.
    pub const SIZE: usize = size_of::<BatchEntry>();

    /// Decodes the entry at the start of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<BatchEntry, Errno> {
        Ok(BatchEntry {
            op: Field::decode(bytes, 0)?,
            size: Field::decode(bytes, 4)?,
            addr: Field::decode(bytes, 8)?,
        })
    }
}

/// The most entries one [`Op::Batch`] may hold.
pub const MAX_BATCH: usize = 1024;

/// The flag of [`Op::Batch`] and [`Op::PackedBatch`] that lets the kernel stop a batch before
/// a call, answering `Ok(n)` with `n` below the number of calls, for the caller to make call
/// `n` alone and go on (since ABI version 4; an older kernel refuses it: `E2BIG`).
pub const BATCH_RESUMABLE: u32 = 1;

/// The answer value of a [`Op::Batch`] refused as a whole with `EOPNOTSUPP` because the
/// process is observed (the calls must then be made one by one). Any other value with an
/// error is the number of calls that succeeded before the failing one.
pub const BATCH_REFUSED: u64 = u64::MAX;

/// The start of a [`Op::Probe`] answer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeHeader {
    /// The kernel's ABI version.
    pub version: u32,
    /// The number of [`ProbeEntry`] that follow.
    pub count: u32,
}

/// One operation in a [`Op::Probe`] answer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeEntry {
    /// The operation number.
    pub op: u32,
    /// The size of a request for it that this kernel knows.
    pub request_size: u32,
}

/// The size of the [`Op::Probe`] answer of this ABI.
pub const PROBE_SIZE: usize = size_of::<ProbeHeader>() + Op::ALL.len() * size_of::<ProbeEntry>();

/// The [`Op::Probe`] answer of this ABI, as the kernel writes it.
pub fn probe_bytes() -> [u8; PROBE_SIZE] {
    let mut out = [0u8; PROBE_SIZE];
    let count = Op::ALL.len() as u32;
    let mut words = [super::ABI_VERSION, count].into_iter().chain(
        Op::ALL
            .iter()
            .flat_map(|op| [op.raw(), op.request_size() as u32]),
    );
    for chunk in out.chunks_exact_mut(4) {
        if let Some(word) = words.next() {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }
    out
}

/// Reads a [`Op::Probe`] answer: the header and its entries, skipping entries that do not
/// fit. Never panics, whatever the bytes.
pub fn parse_probe(bytes: &[u8]) -> Option<(ProbeHeader, impl Iterator<Item = ProbeEntry> + '_)> {
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(i.checked_mul(4)?..i.checked_mul(4)?.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    };
    let header = ProbeHeader {
        version: word(0)?,
        count: word(1)?,
    };
    let entries = (0..header.count as usize).map_while(move |i| {
        let at = i.checked_mul(2)?.checked_add(2)?;
        Some(ProbeEntry {
            op: word(at)?,
            request_size: word(at.checked_add(1)?)?,
        })
    });
    Some((header, entries))
}

/// Whether the operations are numbered 1, 2, 3… in table order, as `Op::request_size`
/// needs.
#[expect(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "evaluated at compile time, where it cannot fail"
)]
const fn numbered_from_one() -> bool {
    let mut i = 0;
    while i < Op::ALL.len() {
        if Op::ALL[i] as usize != i + 1 {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = {
    assert!(numbered_from_one());
    assert!(size_of::<BatchEntry>() == 16);
    assert!(size_of::<ProbeHeader>() == 8);
    assert!(size_of::<ProbeEntry>() == 8);
};

/// The largest request size of any operation in this version of the ABI: the kernel copies
/// a request into a stack buffer of this size.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, where it cannot fail"
)]
pub const MAX_KNOWN_REQUEST_SIZE: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < Op::REQUEST_SIZES.len() {
        let size = Op::REQUEST_SIZES[i];
        if size > max {
            max = size;
        }
        i += 1;
    }
    max
};
