// SPDX-License-Identifier: MIT OR Apache-2.0

//! Many typed calls in one kernel entry: [`Batch`] (requests where the caller keeps them) and
//! [`PackedBatch`] (requests copied back to back), and [`BufferFree`], the arguments that
//! can be batched (and called) without `unsafe`.

use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};

use ferrocall_abi::{self as abi, ops, Answer, Args, BatchEntry, Errno, Request};

use crate::boundary::Kernel;
use crate::error::BatchError;
use crate::fd::AsFd;

/// The arguments of an operation that names no user buffer: the kernel touches only the
/// request itself, so such calls are safe to make from any request.
///
/// Every operation's arguments have it exactly when the ABI table finds no buffer among
/// their field types ([`Args::Buffers`]); nothing else can implement it.
///
/// # Safety
///
/// Implemented only for argument types without [`UserBuf`](abi::UserBuf)/[`UserBufMut`](abi::UserBufMut) fields.
pub unsafe trait BufferFree: Args {}

// SAFETY: `Buffers` is `NoBuffers` only when no field type is a buffer, which the ABI works
// out from the field types themselves and checks against the field table at compile time.
unsafe impl<A: Args<Buffers = abi::NoBuffers>> BufferFree for A {}

/// Typed calls to run together in one kernel entry, with [`TypedCalls::batch`](crate::TypedCalls::batch). The batch
/// borrows its requests until it is dropped, so nothing else touches them during the call.
pub struct Batch<'a, const N: usize> {
    /// The first `len` are initialised; the rest never need to be (no memset of a large,
    /// mostly unused batch).
    entries: [MaybeUninit<BatchEntry>; N],
    len: usize,
    requests: PhantomData<&'a mut ()>,
}

impl<'a, const N: usize> Batch<'a, N> {
    /// An empty batch of at most `N` calls.
    pub const fn new() -> Self {
        Batch { entries: [const { MaybeUninit::uninit() }; N], len: 0, requests: PhantomData }
    }

    /// Adds a call of an operation without buffers; `E2BIG` when the batch is full.
    pub fn push<A: BufferFree>(&mut self, request: &'a mut Request<A>) -> Result<(), Errno> {
        // SAFETY: `A` names no buffer.
        unsafe { self.push_unchecked(request) }
    }

    /// Adds any call; `E2BIG` when the batch is full.
    ///
    /// # Safety
    ///
    /// The buffers the request's arguments name must stay valid for what the operation does
    /// with them, and otherwise untouched, until the batch has run and been dropped (the
    /// batch borrows the request, not the buffers). It must not be a `Batch` request.
    pub unsafe fn push_unchecked<A: Args>(
        &mut self,
        request: &'a mut Request<A>,
    ) -> Result<(), Errno> {
        let slot = self.entries.get_mut(self.len).ok_or(Errno::E2BIG)?;
        request.answer = Answer::default();
        slot.write(BatchEntry {
            op: A::OP.raw(),
            size: size_of::<Request<A>>() as u32,
            addr: core::ptr::from_mut(request) as u64,
        });
        self.len += 1;
        Ok(())
    }

    /// The entries pushed so far.
    pub(crate) fn entries(&self) -> &[BatchEntry] {
        let len = self.len.min(N);
        // SAFETY: `push_unchecked` initialised the first `len` entries (and never lets `len`
        // pass `N`); `MaybeUninit<T>` has `T`'s layout, so they read as a `[BatchEntry]`.
        unsafe { core::slice::from_raw_parts(self.entries.as_ptr().cast(), len) }
    }

    /// The number of calls in the batch.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch has no call.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for Batch<'_, N> {
    fn default() -> Self {
        Batch::new()
    }
}

/// The words of one request slot of a [`PackedBatch`]: enough for the largest request.
const SLOT_WORDS: usize = ops::MAX_KNOWN_REQUEST_SIZE.div_ceil(8);

/// Typed calls laid out back to back in one buffer, run in one kernel entry with
/// [`TypedCalls::packed_batch`](crate::TypedCalls::packed_batch) (the operation
/// [`Op::PackedBatch`](abi::Op::PackedBatch)): the kernel reads the requests a chunk at a
/// time and writes the answers a group at a time, so this is the cheapest way to make many
/// calls. Each push copies the request into the batch, so the caller keeps no request alive;
/// the buffers of calls pushed with [`push_borrowed`](Self::push_borrowed) stay borrowed
/// for the batch's lifetime `'buf`, so nothing else can touch them while it may run.
///
/// The batch lives where it is declared: `N` request slots of the largest request size
/// (80 bytes each today) plus `N` answers of 16 bytes, so about 96 × `N` bytes of stack for
/// a local one; at most [`MAX_BATCH`](abi::ops::MAX_BATCH) calls run in one batch (a
/// larger one is `E2BIG`).
///
/// ```
/// use ferrocall::{Borrowed, PackedBatch};
/// let (mut one, mut two) = ([0u8; 8], [0u8; 8]);
/// let (tx, rx) = std::os::unix::net::UnixStream::pair()?;
/// let mut batch: PackedBatch<'_, 3> = PackedBatch::new();
/// batch.push_borrowed(Borrowed::write(&tx, b"hi"))?;
/// let read = batch.push_borrowed(Borrowed::read(&rx, &mut one))?;
/// batch.push_borrowed(Borrowed::getcwd(&mut two))?; // 8 bytes may be too small
/// let ran = ferrocall::packed_batch(&mut batch);
/// assert_eq!(batch.answer(read), Some(Ok(2)));
/// drop(batch); // the buffers are the caller's again
/// assert_eq!(&one[..2], b"hi");
/// # let _ = ran;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PackedBatch<'buf, const N: usize> {
    /// The requests, back to back; the first `used` bytes are initialised.
    pub(crate) buf: [[MaybeUninit<u64>; SLOT_WORDS]; N],
    pub(crate) used: usize,
    pub(crate) len: usize,
    /// The first `len` are initialised (pending until the batch runs); nothing needs to be
    /// cleared for the rest of a large, mostly unused batch.
    pub(crate) answers: [MaybeUninit<Answer>; N],
    /// Whether the batch ran: its answers are then the last run's, to be made pending
    /// again before it runs again (`push` makes each new one pending).
    pub(crate) ran: bool,
    /// The buffers of the calls pushed with `push_borrowed`.
    buffers: PhantomData<&'buf mut [u8]>,
}

impl<'buf, const N: usize> PackedBatch<'buf, N> {
    /// An empty batch of at most `N` calls.
    pub const fn new() -> Self {
        PackedBatch {
            buf: [[MaybeUninit::uninit(); SLOT_WORDS]; N],
            used: 0,
            len: 0,
            answers: [const { MaybeUninit::uninit() }; N],
            ran: false,
            buffers: PhantomData,
        }
    }

    /// Adds a call of an operation without buffers; returns its index, `E2BIG` when the
    /// batch is full.
    pub fn push<A: BufferFree>(&mut self, args: A) -> Result<usize, Errno> {
        // SAFETY: `A` names no buffer.
        unsafe { self.push_unchecked(args) }
    }

    /// Adds a call whose buffers the batch borrows until it is dropped; returns its index,
    /// `E2BIG` when the batch is full.
    pub fn push_borrowed<A: Args>(&mut self, args: Borrowed<'buf, A>) -> Result<usize, Errno> {
        // SAFETY: `Borrowed` holds arguments whose buffers are slices borrowed for `'buf`
        // (mutably for those the kernel writes), and the batch keeps that borrow for its
        // own lifetime; a `Borrowed` is never a batch operation.
        unsafe { self.push_unchecked(args.args) }
    }

    /// Adds any call; returns its index, `E2BIG` when the batch is full.
    ///
    /// # Safety
    ///
    /// The buffers the arguments name must stay valid for what the operation does with
    /// them, and otherwise untouched, until the batch has run and been dropped. It must not
    /// be a batch operation (the kernel refuses those with `EINVAL`).
    pub unsafe fn push_unchecked<A: Args>(&mut self, args: A) -> Result<usize, Errno> {
        const { assert!(size_of::<Request<A>>() <= SLOT_WORDS * 8) };
        const { assert!(size_of::<Request<A>>() % 8 == 0) };
        const { assert!(core::mem::align_of::<Request<A>>() <= 8) };
        let index = self.len;
        let start = self.used;
        let slot = self.answers.get_mut(index).ok_or(Errno::E2BIG)?;
        slot.write(Answer::default());
        let base = self.buf.as_mut_ptr().cast::<u8>();
        // SAFETY: every request pushed so far used at most one slot's worth of bytes, and
        // `index < N`, so `start + size_of::<Request<A>>()` is within the `N` slots of
        // `buf`; `start` is a multiple of 8 (every request size is), and `buf` is aligned
        // for `u64`, so the place is aligned for `Request<A>`. The whole request is written
        // (its answer slot too, which the kernel neither reads nor writes in a packed
        // batch): the requests are handed to the kernel as initialised bytes.
        unsafe { base.wrapping_add(start).cast::<Request<A>>().write(Request::new(args)) };
        self.used = start + size_of::<Request<A>>();
        self.len = index + 1;
        Ok(index)
    }

    /// The number of calls in the batch.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch has no call.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The answer of call `index` after [`TypedCalls::packed_batch`](crate::TypedCalls::packed_batch): `None` if it did not
    /// run (a call after a failure, or an index past the end).
    pub fn answer(&self, index: usize) -> Option<Result<u64, Errno>> {
        self.answers().get(index)?.result()
    }

    /// The answers of the calls pushed so far.
    fn answers(&self) -> &[Answer] {
        let len = self.len.min(N);
        // SAFETY: `push_unchecked` initialised the first `len` answers (and never lets `len`
        // pass `N`); `MaybeUninit<T>` has `T`'s layout.
        unsafe { core::slice::from_raw_parts(self.answers.as_ptr().cast(), len) }
    }
}

impl<const N: usize> Default for PackedBatch<'_, N> {
    fn default() -> Self {
        PackedBatch::new()
    }
}

/// Makes the calls of `batch` from call `first`, at byte `start` of its requests, one by
/// one, in place, and copies each answer out: what
/// [`TypedCalls::packed_batch`](crate::TypedCalls::packed_batch) does when the kernel refuses
/// batches.
///
/// # Safety
///
/// As for [`TypedCalls::packed_batch`](crate::TypedCalls::packed_batch); `start` is where
/// call `first` begins.
#[cold]
pub(crate) unsafe fn packed_one_by_one<K: Kernel + ?Sized, const N: usize>(
    kernel: &K,
    batch: &mut PackedBatch<'_, N>,
    first: usize,
    start: usize,
) -> Result<usize, BatchError> {
    let (mut done, mut start) = (first, start);
    while done < batch.len {
        // SAFETY: the caller's guarantee, for call `done` at `start`.
        (done, start) = unsafe { packed_alone(kernel, batch, done, start, 0) }?;
    }
    Ok(batch.len)
}

/// Makes call `first + skip` of `batch` alone, in place, and copies its answer out, where
/// call `first` begins at byte `start` of the requests (the calls before it ran in a batch
/// the kernel stopped there): returns the call after it and where that begins.
///
/// # Safety
///
/// As for [`TypedCalls::packed_batch`](crate::TypedCalls::packed_batch); `start` is where
/// call `first` begins.
pub(crate) unsafe fn packed_alone<K: Kernel + ?Sized, const N: usize>(
    kernel: &K,
    batch: &mut PackedBatch<'_, N>,
    first: usize,
    start: usize,
    skip: usize,
) -> Result<(usize, usize), BatchError> {
    let base = batch.buf.as_mut_ptr().cast::<u8>();
    let mut start = start;
    let mut done = first;
    loop {
        let fail = |errno| Err(BatchError { errno, completed: done });
        if start >= batch.used || done >= batch.len {
            return fail(Errno::EIO);
        }
        // `push_unchecked` wrote whole requests back to back from the start of `buf`, and
        // `start < used` is where call `done` begins.
        let request = base.wrapping_add(start);
        // SAFETY: its header (the first 16 bytes, aligned) is initialised.
        let header = unsafe { request.cast::<abi::Header>().read() };
        start += header.size as usize;
        if done < first + skip {
            done += 1;
            continue;
        }
        // SAFETY: a whole request of `header.size` bytes that the batch owns and borrows
        // mutably, naming buffers under `push_unchecked`'s guarantee.
        let ret = unsafe { crate::boundary::make_call(kernel, request, header.op, header.size) };
        // SAFETY: the answer slot lies within the request, aligned.
        let answer =
            unsafe { request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>().read() };
        if let Some(slot) = batch.answers.get_mut(done) {
            slot.write(answer);
        }
        if let Err(errno) = Errno::from_syscall_return(ret) {
            return fail(errno);
        }
        return Ok((done + 1, start));
    }
}

/// The arguments of a call that names the caller's buffers, borrowed for `'buf` (mutably
/// for those the kernel writes): what [`PackedBatch::push_borrowed`] takes, so that batching
/// a `Write` or a `Read` needs no `unsafe`. Buffer-free arguments convert with `From`.
///
/// ```
/// use ferrocall::Borrowed;
/// let mut buf = [0u8; 64];
/// let stdin = ferrocall::fd::stdin();
/// let read = Borrowed::read(&stdin, &mut buf);
/// let pid = Borrowed::from(ferrocall::abi::ops::GetPidArgs {});
/// # let _ = (read, pid);
/// ```
#[derive(Debug)]
pub struct Borrowed<'buf, A> {
    args: A,
    buffers: PhantomData<&'buf mut [u8]>,
}

impl<'buf> Borrowed<'buf, ops::WriteArgs> {
    /// `Write { fd, buf }`: the kernel reads `buf`; `fd` stays borrowed too.
    pub fn write(fd: &'buf impl AsFd, buf: &'buf [u8]) -> Self {
        let fd = fd.as_fd().as_raw_fd();
        let args = ops::WriteArgs { fd, buf: abi::UserBuf::from_slice(buf), ..Default::default() };
        Borrowed { args, buffers: PhantomData }
    }
}

impl<'buf> Borrowed<'buf, ops::ReadArgs> {
    /// `Read { fd, buf }`: the kernel writes into `buf`; `fd` stays borrowed too.
    pub fn read(fd: &'buf impl AsFd, buf: &'buf mut [u8]) -> Self {
        let fd = fd.as_fd().as_raw_fd();
        let buf = abi::UserBufMut::from_mut_slice(buf);
        Borrowed { args: ops::ReadArgs { fd, buf, ..Default::default() }, buffers: PhantomData }
    }
}

impl<'buf> Borrowed<'buf, ops::GetCwdArgs> {
    /// `GetCwd { buf }`: the kernel writes the path into `buf`.
    pub fn getcwd(buf: &'buf mut [u8]) -> Self {
        let buf = abi::UserBufMut::from_mut_slice(buf);
        Borrowed { args: ops::GetCwdArgs { buf }, buffers: PhantomData }
    }
}

impl<A: BufferFree> From<A> for Borrowed<'_, A> {
    fn from(args: A) -> Self {
        Borrowed { args, buffers: PhantomData }
    }
}
