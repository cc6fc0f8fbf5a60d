// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The `#[repr(C)]` layouts of requests, and the field types they are made of.
//!
//! A request in user memory is a [`Request<A>`]: a [`Header`] the caller fills in, an
//! [`Answer`] the kernel writes back, then the operation's arguments `A`. Every layout here
//! has no implicit padding (padding is an explicit [`Pad32`] field that must be zero) and is
//! pinned by the compile-time assertions at the end of this file and in [`ops`](super::ops).

use core::mem::{align_of, offset_of, size_of};

use super::errno::Errno;
use super::ops::{Op, TwinArgs};

/// The first 16 bytes of every request, filled in by the caller.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The size of the whole request in bytes, header included. The kernel accepts a
    /// smaller (older) request than it knows, reading the missing tail as zero, and a
    /// larger (newer) one only if the part it does not know is zero (else `E2BIG`).
    pub size: u32,
    /// The operation number, see [`Op`].
    pub op: u32,
    /// Flags: zero, or [`Header::ANSWER_IN_REGISTERS`] (since ABI version 2, for every lone
    /// call since version 5); any other bit is `EINVAL`.
    pub flags: u32,
    /// Reserved, must be zero (else `EINVAL`).
    pub reserved: u32,
}

impl Header {
    /// The header's size in bytes.
    pub const SIZE: usize = size_of::<Header>();

    /// Flag: answer in registers, for a lone call; the kernel writes nothing into the
    /// request, and the caller copies the answer into its own answer slot. In a batch it is
    /// `EINVAL`.
    ///
    /// - An operation with a legacy twin ([`Op::twin`], ABI version 2): the kernel runs it
    ///   as its twin and leaves the twin's result in `rax` (the value, or `-errno`), exactly
    ///   as the legacy call returns it; `rdi`..`r9` hold the twin's arguments on return.
    /// - An operation without one ([`ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE`], version 5;
    ///   `EINVAL` before): when the operation ran, `rax` is 0 or `-errno` as for a request
    ///   answered in place, `rdx` the answer's value and `r10` [`Answer::DONE`]; when the
    ///   call was refused before it ran (a bad request, a seccomp or tracer verdict), `rax`
    ///   is `-errno` and `r10` is 0, as the kernel presented the call (the
    ///   slot's "pending"; a call made by number, `syscall(1023, …)`, passes `r10` = 0
    ///   itself). A call that is restarted leaves them as they were.
    ///
    /// [`ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE`]: crate::ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE
    pub const ANSWER_IN_REGISTERS: u32 = 1;

    /// The flags a lone request may set.
    pub const KNOWN_FLAGS: u32 = Header::ANSWER_IN_REGISTERS;
}

/// The answer slot of every request, written by the kernel: a `Result<u64, Errno>`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The value: the result on success; for some errors, more detail (for example the
    /// buffer size needed after `ERANGE`).
    pub value: u64,
    /// 0 on success, otherwise the error number.
    pub errno: u32,
    /// [`Answer::PENDING`] until the kernel answers, then [`Answer::DONE`].
    pub state: u32,
}

impl Answer {
    /// The state of an answer the kernel has not written.
    pub const PENDING: u32 = 0;
    /// The state of an answer the kernel has written.
    pub const DONE: u32 = 1;

    /// The answer the kernel writes for `result`.
    pub const fn done(result: Result<u64, Errno>) -> Answer {
        match result {
            Ok(value) => Answer {
                value,
                errno: 0,
                state: Answer::DONE,
            },
            Err(errno) => Answer {
                value: 0,
                errno: errno.raw() as u32,
                state: Answer::DONE,
            },
        }
    }

    /// The answer the kernel writes for an error that carries a value (such as the size
    /// needed after `ERANGE`).
    pub const fn error_with(errno: Errno, value: u64) -> Answer {
        Answer {
            value,
            errno: errno.raw() as u32,
            state: Answer::DONE,
        }
    }

    /// The result this answer holds: `None` while it is pending, or when the kernel wrote
    /// something that is not a valid answer.
    pub const fn result(&self) -> Option<Result<u64, Errno>> {
        if self.state != Answer::DONE {
            return None;
        }
        if self.errno == 0 {
            return Some(Ok(self.value));
        }
        match Errno::new(self.errno as u64) {
            Some(errno) => Some(Err(errno)),
            None => None,
        }
    }

    /// The two words the kernel writes at [`Request::ANSWER_OFFSET`] (the same bytes as
    /// [`Answer::to_bytes`], as little-endian words).
    pub const fn to_words(&self) -> [u64; 2] {
        [self.value, self.errno as u64 | (self.state as u64) << 32]
    }

    /// The answer in `bytes`, the 16 bytes of an answer slot as the kernel writes them (the
    /// inverse of [`Answer::to_bytes`]); `None` if `bytes` is shorter.
    pub fn from_bytes(bytes: &[u8]) -> Option<Answer> {
        Some(Answer {
            value: Field::decode(bytes, 0).ok()?,
            errno: Field::decode(bytes, 8).ok()?,
            state: Field::decode(bytes, 12).ok()?,
        })
    }

    /// The bytes the kernel copies to user memory, at [`Request::ANSWER_OFFSET`].
    pub const fn to_bytes(&self) -> [u8; Request::<()>::ANSWER_SIZE] {
        let v = self.value.to_le_bytes();
        let e = self.errno.to_le_bytes();
        let s = self.state.to_le_bytes();
        [
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], e[0], e[1], e[2], e[3], s[0], s[1],
            s[2], s[3],
        ]
    }
}

/// A request as it lies in user memory: header, answer slot, arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<A> {
    /// Filled in by the caller.
    pub header: Header,
    /// Written by the kernel.
    pub answer: Answer,
    /// The operation's arguments.
    pub args: A,
}

impl<A> Request<A> {
    /// Where the answer slot starts.
    pub const ANSWER_OFFSET: usize = offset_of!(Request<()>, answer);
    /// The size of the answer slot, the only part of a request the kernel writes.
    pub const ANSWER_SIZE: usize = size_of::<Answer>();
    /// Where the arguments start.
    pub const ARGS_OFFSET: usize = offset_of!(Request<()>, args);
}

impl<A: Args> Request<A> {
    /// A request for `args`, with its header filled in and its answer pending.
    pub const fn new(args: A) -> Self {
        Request {
            header: Self::new_header(),
            answer: Answer {
                value: 0,
                errno: 0,
                state: Answer::PENDING,
            },
            args,
        }
    }

    /// The header of a request for `A`: its size and operation, no flag.
    pub const fn new_header() -> Header {
        Header {
            size: size_of::<Self>() as u32,
            op: A::OP.raw(),
            flags: 0,
            reserved: 0,
        }
    }
}

/// The arguments of one operation; implemented by the operation table for each `*Args`.
pub trait Args: Copy {
    /// The operation these are the arguments of.
    const OP: Op;
    /// [`NoBuffers`] when no field is a user buffer, else [`HasBuffers`]: worked out from
    /// the field types, so that a library can accept exactly the buffer-free arguments.
    type Buffers: BufferFlag;
    /// Name, offset and type of each field, in order.
    const FIELDS: &'static [FieldInfo];
    /// Decodes arguments from the bytes that follow the answer slot, zero-extended to the
    /// full size this ABI knows. Fails with `EINVAL` on a non-zero padding field.
    fn decode(bytes: &[u8]) -> Result<Self, Errno>;
    /// For an operation whose twin takes a struct by pointer, that struct's offset in the
    /// arguments and its size ([`ByRef::span`](super::ops::ByRef::span)); `None` otherwise.
    const BY_REF: Option<(usize, usize)>;
    /// The call, of a request at `addr`, as its legacy twin would be made (see [`Op::twin`]):
    /// the system call number and its arguments, or `None` for an operation without a twin.
    fn twin_call(&self, addr: u64) -> Option<(u32, TwinArgs)>;
    /// The arguments of the operation's decoded presentation ([`Op::decoded_layout`]): its
    /// number, then its fields.
    fn decoded_args(&self) -> TwinArgs;
}

/// What the ABI says about one field of an operation's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name.
    pub name: &'static str,
    /// Its offset from the start of the arguments.
    pub offset: usize,
    /// Its type.
    pub ty: FieldType,
}

/// The types an argument field can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// Explicit padding, 4 bytes, must be zero.
    Pad32,
    /// A user buffer the kernel reads: address then length, 16 bytes.
    UserBuf,
    /// A user buffer the kernel writes: address then length, 16 bytes.
    UserBufMut,
    /// A NUL-terminated path in user memory, read once by the kernel: its address, 8 bytes.
    UserPath,
}

impl FieldType {
    /// The size of a field of this type.
    pub const fn size(self) -> usize {
        match self {
            FieldType::U32 | FieldType::I32 | FieldType::Pad32 => 4,
            FieldType::U64 | FieldType::I64 | FieldType::UserPath => 8,
            FieldType::UserBuf | FieldType::UserBufMut => 16,
        }
    }

    /// The name used in the layout snapshot and the docs.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::U32 => "u32",
            FieldType::U64 => "u64",
            FieldType::I32 => "i32",
            FieldType::I64 => "i64",
            FieldType::Pad32 => "pad32",
            FieldType::UserBuf => "userbuf",
            FieldType::UserBufMut => "userbuf_mut",
            FieldType::UserPath => "userpath",
        }
    }
}

/// Whether any of `fields` names user memory: a buffer or a path.
pub const fn has_buffers(fields: &[FieldInfo]) -> bool {
    let mut rest = fields;
    while let [first, tail @ ..] = rest {
        if matches!(
            first.ty,
            FieldType::UserBuf | FieldType::UserBufMut | FieldType::UserPath
        ) {
            return true;
        }
        rest = tail;
    }
    false
}

/// Arguments, or a field, that name no user buffer.
#[derive(Clone, Copy, Debug)]
pub enum NoBuffers {}

/// Arguments, or a field, that name a user buffer.
#[derive(Clone, Copy, Debug)]
pub enum HasBuffers {}

/// [`NoBuffers`] or [`HasBuffers`].
pub trait BufferFlag {
    /// Whether it is [`HasBuffers`].
    const HAS_BUFFERS: bool;
    /// `Self` or `B`: [`HasBuffers`] if either is.
    type Or<B: BufferFlag>: BufferFlag;
}

impl BufferFlag for NoBuffers {
    const HAS_BUFFERS: bool = false;
    type Or<B: BufferFlag> = B;
}

impl BufferFlag for HasBuffers {
    const HAS_BUFFERS: bool = true;
    type Or<B: BufferFlag> = HasBuffers;
}

/// A type that can be a field of an operation's arguments.
pub trait Field: Copy + Sized {
    /// Its type in the table.
    const TYPE: FieldType;
    /// Whether it is a user buffer.
    type Buffers: BufferFlag;
    /// Reads it from `bytes` at `offset`; `EINVAL` if out of range or invalid.
    fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno>;
}

macro_rules! int_field {
    ($($ty:ident => $variant:ident,)*) => {$(
        impl Field for $ty {
            const TYPE: FieldType = FieldType::$variant;
            type Buffers = NoBuffers;
            #[inline]
            fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno> {
                // One load: no intermediate `Result<[u8; N], _>` for the compiler to take
                // apart byte by byte.
                match bytes.get(offset..).and_then(<[u8]>::first_chunk) {
                    Some(array) => Ok($ty::from_le_bytes(*array)),
                    None => Err(Errno::EINVAL),
                }
            }
        }
    )*};
}

int_field! {
    u32 => U32,
    u64 => U64,
    i32 => I32,
    i64 => I64,
}

/// Explicit padding: four bytes that must be zero, so they can become a field later.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pad32(u32);

impl Field for Pad32 {
    const TYPE: FieldType = FieldType::Pad32;
    type Buffers = NoBuffers;
    #[inline]
    fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno> {
        match u32::decode(bytes, offset)? {
            0 => Ok(Pad32(0)),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// A buffer in user memory, described by address and length. The kernel never
/// dereferences `addr`; it copies through it with the checked user-access helpers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserBuf {
    /// The user address of the first byte.
    pub addr: u64,
    /// The length in bytes.
    pub len: u64,
}

impl UserBuf {
    /// The buffer a slice occupies.
    pub fn from_slice(bytes: &[u8]) -> UserBuf {
        UserBuf {
            addr: bytes.as_ptr() as u64,
            len: bytes.len() as u64,
        }
    }

    /// Checks what can be checked without touching memory: a length above `isize::MAX` is
    /// `EINVAL`, a range that wraps around the address space is `EFAULT`. Returns the
    /// address and length as `usize`.
    pub fn check(&self) -> Result<(usize, usize), Errno> {
        let len = usize::try_from(self.len).map_err(|_| Errno::EINVAL)?;
        if isize::try_from(len).is_err() {
            return Err(Errno::EINVAL);
        }
        let addr = usize::try_from(self.addr).map_err(|_| Errno::EFAULT)?;
        addr.checked_add(len).ok_or(Errno::EFAULT)?;
        Ok((addr, len))
    }
}

impl Field for UserBuf {
    const TYPE: FieldType = FieldType::UserBuf;
    type Buffers = HasBuffers;
    #[inline]
    fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno> {
        let len_offset = offset.checked_add(8).ok_or(Errno::EINVAL)?;
        Ok(UserBuf {
            addr: u64::decode(bytes, offset)?,
            len: u64::decode(bytes, len_offset)?,
        })
    }
}

/// A buffer in user memory that the kernel writes into (a [`UserBuf`] by type, so that the
/// table says which buffers an operation fills).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserBufMut {
    /// The user address of the first byte.
    pub addr: u64,
    /// The length in bytes.
    pub len: u64,
}

impl UserBufMut {
    /// The buffer a mutable slice occupies.
    pub fn from_mut_slice(bytes: &mut [u8]) -> UserBufMut {
        UserBufMut {
            addr: bytes.as_mut_ptr() as u64,
            len: bytes.len() as u64,
        }
    }

    /// The same checks as [`UserBuf::check`].
    pub fn check(&self) -> Result<(usize, usize), Errno> {
        UserBuf {
            addr: self.addr,
            len: self.len,
        }
        .check()
    }
}

impl From<UserBufMut> for UserBuf {
    fn from(b: UserBufMut) -> UserBuf {
        UserBuf {
            addr: b.addr,
            len: b.len,
        }
    }
}

impl Field for UserBufMut {
    const TYPE: FieldType = FieldType::UserBufMut;
    type Buffers = HasBuffers;
    #[inline]
    fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno> {
        let UserBuf { addr, len } = UserBuf::decode(bytes, offset)?;
        Ok(UserBufMut { addr, len })
    }
}

/// A NUL-terminated path in user memory, given by its address. The kernel reads it once,
/// into its own memory, with the function the legacy calls use (`getname()`): a path of
/// `PATH_MAX` bytes or more is `ENAMETOOLONG`, an empty one `ENOENT`, a bad address
/// `EFAULT`, as for `openat2()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserPath {
    /// The user address of the path's first byte.
    pub addr: u64,
}

impl Field for UserPath {
    const TYPE: FieldType = FieldType::UserPath;
    type Buffers = HasBuffers;
    #[inline]
    fn decode(bytes: &[u8], offset: usize) -> Result<Self, Errno> {
        Ok(UserPath {
            addr: u64::decode(bytes, offset)?,
        })
    }
}

const _: () = {
    assert!(size_of::<Header>() == 16);
    assert!(offset_of!(Header, size) == 0);
    assert!(offset_of!(Header, op) == 4);
    assert!(offset_of!(Header, flags) == 8);
    assert!(offset_of!(Header, reserved) == 12);
    assert!(size_of::<Answer>() == 16);
    assert!(offset_of!(Answer, value) == 0);
    assert!(offset_of!(Answer, errno) == 8);
    assert!(offset_of!(Answer, state) == 12);
    assert!(align_of::<Answer>() == 8);
    assert!(Request::<()>::ANSWER_OFFSET == 16);
    assert!(Request::<()>::ARGS_OFFSET == 32);
    assert!(size_of::<UserBuf>() == FieldType::UserBuf.size());
    assert!(size_of::<UserBufMut>() == FieldType::UserBufMut.size());
    assert!(size_of::<Pad32>() == FieldType::Pad32.size());
    assert!(size_of::<UserPath>() == FieldType::UserPath.size());
};
