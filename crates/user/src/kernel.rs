//! The boundary to the kernel: the [`Kernel`] trait, the real one ([`Native`]), the
//! cached support check, and the typed wrappers every kernel gets ([`TypedCalls`]).

use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};
use core::sync::atomic::{AtomicU32, Ordering};

use ferrocall_abi::{
    self as abi, ops, Answer, Args, BatchEntry, Errno, Op, Request, UserBuf, UserBufMut,
};

/// The raw system call boundary, as in libtock-rs' `RawSyscalls`: the real kernel
/// ([`Native`]) or a fake one in tests.
///
/// # Safety
///
/// Implementations must behave as the ferrocall ABI says: `typed_call` reads at most
/// `size` bytes at `request`, writes at most its answer slot, and otherwise touches only the
/// buffers the request's arguments name, as the operation defines; `enable` returns a
/// positive ABI version only if typed calls are from then on answered as such, never as
/// legacy syscalls. The wrappers rely on this to hand out safe functions.
pub unsafe trait Kernel {
    /// `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE, 0, 0, 0)`: raw `rax`.
    fn prctl_enable(&self) -> u64;

    /// The typed call `ferrocall(op, size, request)` with `request` in `rax`: raw `rax`.
    ///
    /// # Safety
    ///
    /// `request` must be valid for reads of `size` bytes and for writes of the answer slot,
    /// with no other access during the call, and [`Kernel::prctl_enable`] must have
    /// succeeded.
    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64;

    /// Where this kernel's support check is cached.
    fn support(&self) -> &Support;
}

/// The cached answer to "does this kernel support typed calls, and which version?".
#[derive(Debug, Default)]
pub struct Support(AtomicU32);

impl Support {
    const UNKNOWN: u32 = 0;
    const UNSUPPORTED: u32 = u32::MAX;

    /// A cache that knows nothing yet.
    pub const fn new() -> Self {
        Support(AtomicU32::new(Support::UNKNOWN))
    }
}

/// The running kernel, through the `syscall` instruction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Native;

static NATIVE_SUPPORT: Support = Support::new();

// SAFETY: the asm issues exactly the calls the trait describes, and a kernel with
// ferrocall answers `PR_FERROCALL_ENABLE` with a version only after enabling typed calls
// for the address space; every other kernel fails it.
unsafe impl Kernel for Native {
    fn prctl_enable(&self) -> u64 {
        // SAFETY: prctl with integer arguments touches no memory of ours.
        unsafe {
            crate::arch::syscall6(
                PRCTL,
                u64::from(abi::PR_FERROCALL),
                abi::PR_FERROCALL_ENABLE,
                0,
                0,
                0,
                0,
            )
        }
    }

    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
        // SAFETY: the caller upholds this method's contract, which is `typed_call`'s.
        unsafe { crate::arch::typed_call(request, u64::from(op), u64::from(size)) }
    }

    fn support(&self) -> &Support {
        &NATIVE_SUPPORT
    }
}

/// The legacy number of `prctl` on x86_64.
const PRCTL: u64 = 157;

/// Asks the kernel to enable typed calls, once: the slow path of [`TypedCalls::enable`].
#[cold]
#[inline(never)]
fn enable_now<K: Kernel + ?Sized>(kernel: &K) -> Result<u32, Errno> {
    let version = match Errno::from_syscall_return(kernel.prctl_enable()) {
        Ok(v) if v >= u64::from(abi::ABI_VERSION) && v < u64::from(Support::UNSUPPORTED) => {
            v as u32
        }
        _ => Support::UNSUPPORTED,
    };
    kernel.support().0.store(version, Ordering::Release);
    if version == Support::UNSUPPORTED {
        Err(Errno::ENOSYS)
    } else {
        Ok(version)
    }
}

/// Makes the typed call `request` from where it is, and checks what the kernel answered.
///
/// # Safety
///
/// As [`TypedCalls::call_answer`], and typed calls are enabled; `request`'s address is a
/// request address ([`abi::is_request_address`]).
#[inline]
unsafe fn issue<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    request.answer = Answer::default();
    let size = size_of::<Request<A>>() as u32;
    // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes,
    // valid for reads and for writes of its answer slot; the caller guarantees the rest.
    let ret = unsafe { kernel.typed_call(core::ptr::from_mut(request).cast(), A::OP.raw(), size) };
    match (Errno::from_syscall_return(ret), request.answer.result()) {
        (Ok(0), Some(Ok(_))) => Ok(request.answer),
        (Err(e), Some(Err(answered))) if e == answered => Ok(request.answer),
        (Err(e), None) => Err(e),
        // `rax` and the answer slot disagree: not a ferrocall kernel we understand.
        _ => Err(Errno::EIO),
    }
}

/// The kernel would read `request`'s address as a legacy syscall number: sends a copy
/// from the stack instead, and takes its answer.
///
/// # Safety
///
/// As [`issue`], but for any address of `request`.
#[cold]
#[inline(never)]
unsafe fn issue_from_copy<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    let mut copy = *request;
    if !abi::is_request_address(core::ptr::from_mut(&mut copy) as u64) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the copy names the same buffers, which the caller's guarantee covers, and
    // its address is a request address.
    let result = unsafe { issue(kernel, &mut copy) };
    request.answer = copy.answer;
    result
}

/// The typed calls, for every [`Kernel`].
pub trait TypedCalls: Kernel {
    /// Enables typed calls once and returns the ABI version; `ENOSYS` on a kernel without
    /// them (including one whose seccomp filter refuses the `prctl`).
    #[inline]
    fn enable(&self) -> Result<u32, Errno> {
        match self.support().0.load(Ordering::Acquire) {
            Support::UNKNOWN => enable_now(self),
            Support::UNSUPPORTED => Err(Errno::ENOSYS),
            version => Ok(version),
        }
    }

    /// Makes the typed call `request`, of an operation without buffers, and returns its
    /// answer.
    #[inline]
    fn call<A: BufferFree>(&self, request: &mut Request<A>) -> Result<u64, Errno> {
        // SAFETY: `A` names no buffer, so the kernel touches only the request itself.
        unsafe { self.call_answer(request) }?.result().unwrap_or(Err(Errno::EIO))
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
        self.enable()?;
        if abi::is_request_address(core::ptr::from_mut(request) as u64) {
            // SAFETY: the caller's guarantee, and `enable` succeeded.
            unsafe { issue(self, request) }
        } else {
            // SAFETY: the caller's guarantee, and `enable` succeeded.
            unsafe { issue_from_copy(self, request) }
        }
    }

    /// `Useless(value)`: `value + 15`, or `EOVERFLOW`.
    fn useless(&self, value: u32) -> Result<u32, Errno> {
        let mut request = Request::new(ops::UselessArgs { value, ..Default::default() });
        let sum = self.call(&mut request)?;
        u32::try_from(sum).map_err(|_| Errno::EIO)
    }

    /// The process id, as `getpid()`.
    fn getpid(&self) -> Result<u32, Errno> {
        let id = self.call(&mut Request::new(ops::GetPidArgs {}))?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// The parent's process id, as `getppid()`.
    fn getppid(&self) -> Result<u32, Errno> {
        let id = self.call(&mut Request::new(ops::GetPpidArgs {}))?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// The real user id, as `getuid()`.
    fn getuid(&self) -> Result<u32, Errno> {
        let id = self.call(&mut Request::new(ops::GetUidArgs {}))?;
        u32::try_from(id).map_err(|_| Errno::EIO)
    }

    /// Writes `buf` to `fd`; returns how many bytes were written (maybe fewer).
    fn write(&self, fd: i32, buf: &[u8]) -> Result<usize, Errno> {
        let args = ops::WriteArgs { fd, buf: UserBuf::from_slice(buf), ..Default::default() };
        // SAFETY: the one buffer is `buf`, borrowed for the call; the kernel only reads it.
        let n = unsafe { self.call_answer(&mut Request::new(args)) }?
            .result()
            .unwrap_or(Err(Errno::EIO))?;
        usize::try_from(n).ok().filter(|&n| n <= buf.len()).ok_or(Errno::EIO)
    }

    /// Reads from `fd` into `buf`; returns how many bytes were read, 0 at end of file.
    fn read(&self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        let user = UserBufMut::from_mut_slice(buf);
        let mut request = Request::new(ops::ReadArgs { fd, buf: user, ..Default::default() });
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let n = unsafe { self.call_answer(&mut request) }?.result().unwrap_or(Err(Errno::EIO))?;
        usize::try_from(n).ok().filter(|&n| n <= buf.len()).ok_or(Errno::EIO)
    }

    /// Ends the process with status `code & 0xff`. Returns only if the typed call could
    /// not be made, with the reason.
    fn exit(&self, code: i32) -> Errno {
        match self.call(&mut Request::new(ops::ExitArgs { code, ..Default::default() })) {
            Err(errno) => errno,
            Ok(_) => Errno::EIO,
        }
    }

    /// Writes the current directory, NUL-terminated, into `buf`; returns its length with
    /// the NUL. [`FillError::TooSmall`] says how large `buf` must be.
    fn getcwd(&self, buf: &mut [u8]) -> Result<usize, FillError> {
        let user = UserBufMut::from_mut_slice(buf);
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let answer = unsafe { self.call_answer(&mut Request::new(ops::GetCwdArgs { buf: user })) }?;
        fill_result(answer, buf.len())
    }

    /// Writes this kernel's [`Op::Probe`](ferrocall_abi::Op::Probe) description into `buf`
    /// and returns its length; read it with [`ferrocall_abi::ops::parse_probe`].
    fn probe(&self, buf: &mut [u8]) -> Result<usize, FillError> {
        let user = UserBufMut::from_mut_slice(buf);
        // SAFETY: the one buffer is `buf`, borrowed mutably for the call.
        let answer = unsafe { self.call_answer(&mut Request::new(ops::ProbeArgs { buf: user })) }?;
        fill_result(answer, buf.len())
    }

    /// Runs the calls of `batch` in one kernel entry; each answers in its own request.
    /// `Ok(n)` when all `n` succeeded; otherwise the first failure and how many succeeded
    /// before it (the failed request's slot holds the error if it ran, later ones are
    /// pending). While a tracer or audit watches the process, the kernel refuses batches
    /// and the calls are made one by one, with the same results.
    fn batch<const N: usize>(&self, batch: &mut Batch<'_, N>) -> Result<usize, BatchError> {
        let entries = batch.entries();
        let bytes = UserBuf {
            addr: entries.as_ptr() as u64,
            len: (entries.len() * BatchEntry::SIZE) as u64,
        };
        let fail = |errno, completed| BatchError { errno, completed };
        // SAFETY: the entries are the batch's own array, only read; each names a request the
        // batch borrows, pushed under `push`'s or `push_unchecked`'s guarantee.
        let answer =
            unsafe { self.call_answer(&mut Request::new(ops::BatchArgs { entries: bytes })) }
                .map_err(|e| fail(e, 0))?;
        match answer.result() {
            Some(Ok(n)) if n as usize == entries.len() => Ok(entries.len()),
            // A tracer or audit watches this process: the kernel wants the calls one by one.
            Some(Err(Errno::EOPNOTSUPP)) if answer.value == ops::BATCH_REFUSED => {
                for (done, entry) in entries.iter().enumerate() {
                    if !abi::is_request_address(entry.addr) {
                        return Err(fail(Errno::EFAULT, done));
                    }
                    // SAFETY: each entry was made by `push` or `push_unchecked` from a
                    // `&'a mut Request<A>` the batch still borrows, with that request's exact
                    // size and operation, under their guarantee about its buffers.
                    let ret =
                        unsafe { self.typed_call(entry.addr as *mut u8, entry.op, entry.size) };
                    if let Err(errno) = Errno::from_syscall_return(ret) {
                        return Err(fail(errno, done));
                    }
                }
                Ok(entries.len())
            }
            Some(Err(errno)) => Err(fail(errno, usize::try_from(answer.value).unwrap_or(0))),
            _ => Err(fail(Errno::EIO, 0)),
        }
    }

    /// Runs the calls of `batch` in one kernel entry, their requests read from the batch's
    /// own buffer; the answers come back in order ([`PackedBatch::answer`]). `Ok(n)` when
    /// all `n` succeeded; otherwise the first failure and how many succeeded before it. As
    /// for [`TypedCalls::batch`], while a tracer or audit watches the process the calls are
    /// made one by one, with the same results.
    fn packed_batch<const N: usize>(
        &self,
        batch: &mut PackedBatch<N>,
    ) -> Result<usize, BatchError> {
        let fail = |errno, completed| BatchError { errno, completed };
        let count = batch.len;
        for answer in batch.answers.iter_mut().take(count) {
            answer.write(Answer::default());
        }
        let args = ops::PackedBatchArgs {
            requests: UserBuf { addr: batch.buf.as_ptr() as u64, len: batch.used as u64 },
            answers: UserBufMut {
                addr: batch.answers.as_mut_ptr() as u64,
                len: (count * size_of::<Answer>()) as u64,
            },
        };
        // SAFETY: both buffers are the batch's own, borrowed mutably for the call: the
        // requests are read, `count` answers written. Each request was pushed under
        // `push`'s or `push_unchecked`'s guarantee about the buffers it names.
        let answer =
            unsafe { self.call_answer(&mut Request::new(args)) }.map_err(|e| fail(e, 0))?;
        match answer.result() {
            Some(Ok(n)) if n as usize == count => Ok(count),
            // A tracer or audit watches this process: the kernel wants the calls one by one.
            Some(Err(Errno::EOPNOTSUPP)) if answer.value == ops::BATCH_REFUSED => {
                // SAFETY: as above; each request is made alone, in place.
                unsafe { packed_one_by_one(self, batch) }
            }
            Some(Err(errno)) => Err(fail(errno, usize::try_from(answer.value).unwrap_or(0))),
            _ => Err(fail(Errno::EIO, 0)),
        }
    }

    /// Whether the running kernel offers `op` with requests of at least the size this
    /// library sends.
    fn supports(&self, op: Op) -> bool {
        let mut buf = [0u8; 4096];
        let Ok(len) = self.probe(&mut buf) else {
            return false;
        };
        let Some((_, mut entries)) = ops::parse_probe(buf.get(..len).unwrap_or(&[])) else {
            return false;
        };
        entries.any(|e| e.op == op.raw() && e.request_size as usize >= op.request_size())
    }
}

/// The arguments of an operation that names no user buffer: the kernel touches only the
/// request itself, so such calls are safe to make from any request.
///
/// Every operation's arguments have it exactly when the ABI table finds no buffer among
/// their field types ([`Args::Buffers`]); nothing else can implement it.
///
/// # Safety
///
/// Implemented only for argument types without [`UserBuf`]/[`UserBufMut`] fields.
pub unsafe trait BufferFree: Args {}

// SAFETY: `Buffers` is `NoBuffers` only when no field type is a buffer, which the ABI works
// out from the field types themselves and checks against the field table at compile time.
unsafe impl<A: Args<Buffers = abi::NoBuffers>> BufferFree for A {}

/// Typed calls to run together in one kernel entry, with [`TypedCalls::batch`]. The batch
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
    fn entries(&self) -> &[BatchEntry] {
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
/// [`TypedCalls::packed_batch`] (the operation [`Op::PackedBatch`]): the kernel reads the
/// requests a chunk at a time and writes the answers a group at a time, so this is the
/// cheapest way to make many calls. Each push copies the request into the batch, so the
/// caller keeps no request alive; the buffers that `push_unchecked` requests name are the
/// caller's to keep valid (no lifetime can say so: they travel as addresses).
pub struct PackedBatch<const N: usize> {
    /// The requests, back to back; the first `used` bytes are initialised.
    buf: [[MaybeUninit<u64>; SLOT_WORDS]; N],
    used: usize,
    len: usize,
    /// The first `len` are initialised (pending until the batch runs); nothing needs to be
    /// cleared for the rest of a large, mostly unused batch.
    answers: [MaybeUninit<Answer>; N],
}

impl<const N: usize> PackedBatch<N> {
    /// An empty batch of at most `N` calls.
    pub const fn new() -> Self {
        PackedBatch {
            buf: [[MaybeUninit::uninit(); SLOT_WORDS]; N],
            used: 0,
            len: 0,
            answers: [const { MaybeUninit::uninit() }; N],
        }
    }

    /// Adds a call of an operation without buffers; returns its index, `E2BIG` when the
    /// batch is full.
    pub fn push<A: BufferFree>(&mut self, args: A) -> Result<usize, Errno> {
        // SAFETY: `A` names no buffer.
        unsafe { self.push_unchecked(args) }
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
        // for `u64`, so the place is aligned for `Request<A>`.
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

    /// The answer of call `index` after [`TypedCalls::packed_batch`]: `None` if it did not
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

impl<const N: usize> Default for PackedBatch<N> {
    fn default() -> Self {
        PackedBatch::new()
    }
}

/// Makes the calls of `batch` one by one, in place, and copies each answer out: what
/// [`TypedCalls::packed_batch`] does when the kernel refuses batches.
///
/// # Safety
///
/// As for [`TypedCalls::packed_batch`]; typed calls are enabled.
#[cold]
unsafe fn packed_one_by_one<K: Kernel + ?Sized, const N: usize>(
    kernel: &K,
    batch: &mut PackedBatch<N>,
) -> Result<usize, BatchError> {
    let base = batch.buf.as_mut_ptr().cast::<u8>();
    let mut start = 0;
    for done in 0..batch.len {
        let fail = |errno| Err(BatchError { errno, completed: done });
        if start >= batch.used {
            return fail(Errno::EIO);
        }
        // `push_unchecked` wrote whole requests back to back from the start of `buf`, and
        // `start < used` is where the next one begins.
        let request = base.wrapping_add(start);
        // SAFETY: its header (the first 16 bytes, aligned) is initialised.
        let header = unsafe { request.cast::<abi::Header>().read() };
        if !abi::is_request_address(request as u64) {
            return fail(Errno::EFAULT);
        }
        // SAFETY: a whole request of `header.size` bytes that the batch owns and borrows
        // mutably, naming buffers under `push_unchecked`'s guarantee; typed calls are enabled.
        let ret = unsafe { kernel.typed_call(request, header.op, header.size) };
        // SAFETY: the answer slot lies within the request, aligned.
        let answer =
            unsafe { request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>().read() };
        if let Some(slot) = batch.answers.get_mut(done) {
            slot.write(answer);
        }
        if let Err(errno) = Errno::from_syscall_return(ret) {
            return fail(errno);
        }
        start += header.size as usize;
    }
    Ok(batch.len)
}

/// Why a batch stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// The error of the first call that failed (or of the batch itself).
    pub errno: Errno,
    /// How many calls succeeded before it.
    pub completed: usize,
}

/// Why a call that fills a caller's buffer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillError {
    /// The buffer is too small: this many bytes are needed.
    TooSmall(usize),
    /// Any other error.
    Errno(Errno),
}

impl From<Errno> for FillError {
    fn from(errno: Errno) -> Self {
        FillError::Errno(errno)
    }
}

impl core::fmt::Display for FillError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FillError::TooSmall(n) => write!(f, "buffer too small: {n} bytes needed"),
            FillError::Errno(e) => e.fmt(f),
        }
    }
}

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

impl<K: Kernel + ?Sized> TypedCalls for K {}
