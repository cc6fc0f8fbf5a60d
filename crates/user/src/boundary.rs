// SPDX-License-Identifier: MIT OR Apache-2.0

//! The boundary to the kernel: the [`Kernel`] trait, the real one ([`Native`]), the cached
//! support check and [`Backend`] choice, and the one path every typed call takes to the
//! kernel (`make_call`): the typed call itself, or its legacy twin where typed calls are not
//! available. This module and `arch` are the only ones that hand raw pointers to the kernel.

use core::mem::{size_of, MaybeUninit};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use ferrocall_abi::{self as abi, ops, Answer, Args, Call, Errno, Op, Request};

use crate::slots::Slot;

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
///
/// Every `Kernel` gets the wrappers ([`TypedCalls`](crate::TypedCalls)); [`Native`] is the
/// running one, and the free functions of this crate use it:
///
/// ```
/// use ferrocall::{Native, TypedCalls};
/// assert_eq!(Native.getpid(), ferrocall::getpid());
/// ```
pub unsafe trait Kernel {
    /// `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE, 0, 0, 0)`: raw `rax`.
    fn prctl_enable(&self) -> u64;

    /// The typed call `ferrocall(op, size, request)` with `request` in `rax`: raw `rax`.
    ///
    /// # Safety
    ///
    /// `request` must be valid for reads of `size` bytes and for writes of the answer slot,
    /// with no other access during the call, and [`Kernel::prctl_enable`] must have
    /// succeeded. A request whose header asks for its answer in registers
    /// ([`abi::Header::ANSWER_IN_REGISTERS`]) may leave its answer slot uninitialised: the
    /// kernel neither reads nor writes it, and an implementation must not read it either.
    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64;

    /// The typed call of a request of an operation without a legacy twin that asks for its
    /// answer in registers ([`Header::ANSWER_IN_REGISTERS`](abi::Header::ANSWER_IN_REGISTERS),
    /// ABI version 5): raw `rax`, `rdx` and `r10`. The library makes such calls only on a
    /// kernel that reported version 5 or later.
    ///
    /// The default makes the call answered in place instead (the flag cleared for the call)
    /// and gives what a kernel answering in registers would: for a request the operation
    /// answered, `rax`, the slot's value and [`Answer::DONE`]; for one refused before it ran,
    /// `rax`, the request's address and 0. So an implementation that answers only in place
    /// needs nothing more; one that can answer in registers overrides it.
    ///
    /// # Safety
    ///
    /// As [`Kernel::typed_call`].
    unsafe fn typed_call_in_registers(&self, request: *mut u8, op: u32, size: u32) -> [u64; 3] {
        let flags = request.wrapping_add(FLAGS_OFFSET).cast::<u32>();
        // SAFETY: the header's flags lie within the request, which is 8-aligned and the
        // caller's for the call.
        let old = unsafe { flags.read() };
        // SAFETY: as above.
        unsafe { flags.write(old & !abi::Header::ANSWER_IN_REGISTERS) };
        let slot = request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>();
        // The slot pending before the call, so that only an answer of this call reads as
        // one (a refusal leaves it so).
        // SAFETY: the answer slot lies within the request, which is aligned for it and the
        // caller's for the call.
        unsafe { slot.write(Answer::default()) };
        // SAFETY: the caller's guarantee.
        let ret = unsafe { self.typed_call(request, op, size) };
        // SAFETY: as above.
        unsafe { flags.write(old) };
        // SAFETY: the answer slot lies within the request, which is aligned for it.
        let answer = unsafe { read_answer(request) };
        match answer.result() {
            Some(_) => [ret, answer.value, u64::from(Answer::DONE)],
            None => [ret, request as u64, 0],
        }
    }

    /// The legacy system call `nr` with the six arguments `args`: raw `rax`.
    ///
    /// # Safety
    ///
    /// The arguments must satisfy what system call `nr` requires of them (its pointers
    /// valid for what it does with them).
    unsafe fn legacy_call(&self, nr: u32, args: &[u64; 6]) -> u64;

    /// Where this kernel's support check is cached.
    fn support(&self) -> &Support;
}

/// The cached answer to "does this kernel support typed calls, and which version?", and
/// the [`Backend`] the program chose: one per [`Kernel`] (a fake kernel in a test has its
/// own).
///
/// ```
/// let support = ferrocall::Support::new();
/// support.choose(ferrocall::Backend::Legacy);
/// assert_eq!(support.choice(), ferrocall::Backend::Legacy);
/// ```
#[derive(Debug, Default)]
pub struct Support {
    pub(crate) version: AtomicU32,
    choice: AtomicU8,
    /// The kernel's answer to `Probe`, once it gave one: bit 0 says it did, bit `n` that
    /// operation `n` is offered (with requests of at least this library's size).
    pub(crate) offered: AtomicU64,
    /// The one load of a call's fast path: [`Support::FAST_AUTO`] or
    /// [`Support::FAST_TYPED_ONLY`] once typed calls are enabled on a kernel that answers in
    /// registers and the backend allows them, with [`Support::FAST_ALL_IN_REGISTERS`] where
    /// it answers every lone call so, else [`Support::FAST_NONE`] (the slow path decides).
    /// Derived from `version` and `choice` whenever either changes.
    fast: AtomicU8,
    /// Why typed calls are off once `version` is [`Support::UNSUPPORTED`]: `EPERM` when the
    /// kernel has them but refused this process (its `kernel.ferrocall_enabled`), `ENOSYS`
    /// for any other answer. Written before `version` (which publishes it).
    refusal: AtomicU32,
}

impl Support {
    pub(crate) const UNKNOWN: u32 = 0;
    pub(crate) const UNSUPPORTED: u32 = u32::MAX;

    /// A cache that knows nothing yet, with the default choice ([`Backend::Auto`]).
    pub const fn new() -> Self {
        Support {
            version: AtomicU32::new(Support::UNKNOWN),
            choice: AtomicU8::new(0),
            offered: AtomicU64::new(0),
            fast: AtomicU8::new(Support::FAST_NONE),
            refusal: AtomicU32::new(0),
        }
    }

    /// Why typed calls are off (see `refusal`).
    fn refusal(&self) -> Errno {
        let raw = self.refusal.load(Ordering::Relaxed);
        Errno::new(u64::from(raw)).unwrap_or(Errno::ENOSYS)
    }

    /// No fast path: the support check and the backend choice are made on each call.
    pub(crate) const FAST_NONE: u8 = 0;
    /// Typed calls answered in registers, falling back to the twin on `ENOSYS`.
    pub(crate) const FAST_AUTO: u8 = 1;
    /// Typed calls answered in registers, never a fallback.
    pub(crate) const FAST_TYPED_ONLY: u8 = 2;
    /// With [`Support::FAST_AUTO`] or [`Support::FAST_TYPED_ONLY`]: the calls of operations
    /// without a twin are answered in registers too (ABI version 5).
    pub(crate) const FAST_ALL_IN_REGISTERS: u8 = 4;
    /// The backend part of the mode ([`Support::FAST_AUTO`], [`Support::FAST_TYPED_ONLY`]).
    const FAST_BACKEND: u8 = 3;

    /// The fast path's backend: [`Support::FAST_NONE`], [`Support::FAST_AUTO`] or
    /// [`Support::FAST_TYPED_ONLY`].
    #[inline]
    pub(crate) fn fast_backend(fast: u8) -> u8 {
        fast & Support::FAST_BACKEND
    }

    /// The fast path mode, one relaxed load: typed calls need no memory ordering, the
    /// kernel enabled them for every thread of the process.
    #[inline]
    pub(crate) fn fast(&self) -> u8 {
        self.fast.load(Ordering::Relaxed)
    }

    /// Derives the fast path mode from the version and the choice.
    fn refresh_fast(&self) {
        let version = self.version.load(Ordering::Acquire);
        let registers = version != Support::UNKNOWN
            && version != Support::UNSUPPORTED
            && version >= abi::ANSWER_IN_REGISTERS_SINCE;
        let fast = match self.choice() {
            _ if !registers => Support::FAST_NONE,
            Backend::Legacy => Support::FAST_NONE,
            Backend::Auto => Support::FAST_AUTO,
            Backend::Typed | Backend::TypedOnly => Support::FAST_TYPED_ONLY,
        };
        let all =
            fast != Support::FAST_NONE && version >= abi::ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE;
        let fast = if all { fast | Support::FAST_ALL_IN_REGISTERS } else { fast };
        self.fast.store(fast, Ordering::Relaxed);
    }

    /// The backend chosen with [`Support::choose`] (or the `FERROCALL_BACKEND` environment
    /// variable, with the `std` feature).
    pub fn choice(&self) -> Backend {
        match self.choice.load(Ordering::Relaxed) {
            1 => Backend::Typed,
            2 => Backend::Legacy,
            3 => Backend::TypedOnly,
            _ => Backend::Auto,
        }
    }

    /// Chooses how later calls reach the kernel.
    pub fn choose(&self, backend: Backend) {
        let raw = match backend {
            Backend::Auto => 0,
            Backend::Typed => 1,
            Backend::Legacy => 2,
            Backend::TypedOnly => 3,
        };
        self.choice.store(raw, Ordering::Relaxed);
        self.refresh_fast();
    }
}

/// How the wrappers reach the kernel. [`set_backend`](crate::set_backend) chooses;
/// [`backend`](crate::backend) tells which is in use.
///
/// A typed call is made as its *legacy twin* (the system call the ABI table names for it,
/// with the arguments the table maps its fields to, through a raw `syscall`) where typed
/// calls are not available: the kernel has no ferrocall, its administrator does not let
/// this process opt in, or a seccomp filter refuses the typed path (the opt-in `prctl`, or a
/// typed call answered `ENOSYS` or `EPERM` before it ran). A filter that *kills* the
/// process on a typed call cannot be detected by trying it: under such a filter choose
/// [`Backend::Legacy`]. Operations without a twin (`Useless`, `Probe`) answer `ENOSYS` on
/// the legacy backend; batches run their calls one by one, with the same results.
///
/// ```
/// // A program that must not fall back to legacy calls:
/// ferrocall::set_backend(ferrocall::Backend::TypedOnly);
/// match ferrocall::getpid() {
///     Ok(pid) => println!("typed getpid: {pid}"),
///     Err(e) => println!("no typed calls here: {e}"),
/// }
/// # ferrocall::set_backend(ferrocall::Backend::Auto);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Typed calls where the kernel offers them, their legacy twins elsewhere: the default.
    /// [`backend`](crate::backend) never answers it; it tells which of the two is in use.
    Auto,
    /// Typed calls (as a choice: the same as [`Backend::TypedOnly`]).
    Typed,
    /// The legacy twins, whatever the kernel offers.
    Legacy,
    /// Typed calls or nothing: where they are not available, every wrapper answers `ENOSYS`
    /// (and [`exit`](crate::exit) still ends the process, with `exit_group`).
    TypedOnly,
}

/// The running kernel, through the `syscall` instruction.
///
/// ```
/// use ferrocall::TypedCalls;
/// let pid = ferrocall::Native.getpid()?;
/// # let _ = pid;
/// # Ok::<(), ferrocall::Errno>(())
/// ```
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

    unsafe fn typed_call_in_registers(&self, request: *mut u8, op: u32, size: u32) -> [u64; 3] {
        // SAFETY: the caller upholds this method's contract, which is `typed_call`'s.
        unsafe { crate::arch::typed_call_in_registers(request, u64::from(op), u64::from(size)) }
    }

    unsafe fn legacy_call(&self, nr: u32, args: &[u64; 6]) -> u64 {
        let [a0, a1, a2, a3, a4, a5] = *args;
        // SAFETY: the caller guarantees the arguments suit system call `nr`.
        unsafe { crate::arch::syscall6(u64::from(nr), a0, a1, a2, a3, a4, a5) }
    }

    fn support(&self) -> &Support {
        &NATIVE_SUPPORT
    }
}

/// The legacy number of `prctl` on x86_64.
const PRCTL: u64 = 157;

/// Asks the kernel to enable typed calls, once: the slow path of
/// [`TypedCalls::enable`](crate::TypedCalls::enable).
#[cold]
#[inline(never)]
pub(crate) fn enable_now<K: Kernel + ?Sized>(kernel: &K) -> Result<u32, Errno> {
    let (version, refusal) = match Errno::from_syscall_return(kernel.prctl_enable()) {
        Ok(v) if v >= u64::from(abi::MIN_ABI_VERSION) && v < u64::from(Support::UNSUPPORTED) => {
            (v as u32, None)
        }
        // The kernel has typed calls, but its administrator does not let this process opt in
        // (or a seccomp filter answered EPERM): say so, rather than "no such call".
        Err(Errno::EPERM) => (Support::UNSUPPORTED, Some(Errno::EPERM)),
        _ => (Support::UNSUPPORTED, Some(Errno::ENOSYS)),
    };
    #[cfg(feature = "std")]
    choose_from_environment(kernel.support());
    if let Some(errno) = refusal {
        kernel.support().refusal.store(u32::from(errno.raw()), Ordering::Relaxed);
    }
    kernel.support().version.store(version, Ordering::Release);
    kernel.support().refresh_fast();
    match refusal {
        Some(errno) => Err(errno),
        None => Ok(version),
    }
}

/// With the `std` feature, `FERROCALL_BACKEND=typed-only|legacy|auto` chooses the backend
/// of a program that did not choose one itself.
#[cfg(feature = "std")]
fn choose_from_environment(support: &Support) {
    if support.choice() != Backend::Auto {
        return;
    }
    match std::env::var("FERROCALL_BACKEND").as_deref() {
        Ok("typed-only" | "typed") => support.choose(Backend::TypedOnly),
        Ok("legacy") => support.choose(Backend::Legacy),
        _ => {}
    }
}

/// Whether typed calls are enabled, opting in on the first call: the fast path is one load.
#[inline]
pub(crate) fn typed_enabled<K: Kernel + ?Sized>(kernel: &K) -> Result<u32, Errno> {
    match kernel.support().version.load(Ordering::Acquire) {
        Support::UNKNOWN => enable_now(kernel),
        Support::UNSUPPORTED => Err(kernel.support().refusal()),
        version => Ok(version),
    }
}

/// The kernel's ABI version if typed calls are to be made: enabled (opting in first if no
/// call has yet), and not the legacy backend's choice, which never asks the kernel.
#[inline]
fn typed_version<K: Kernel + ?Sized>(kernel: &K, choice: Backend) -> Result<u32, Errno> {
    if choice == Backend::Legacy {
        return Err(Errno::ENOSYS);
    }
    typed_enabled(kernel)
}

/// The `flags` of a batch request: [`ops::BATCH_RESUMABLE`] on a kernel that takes it
/// (the library then makes a stopped batch's call alone and goes on), else 0.
pub(crate) fn resumable_flags<K: Kernel + ?Sized>(kernel: &K) -> u32 {
    match typed_version(kernel, kernel.support().choice()) {
        Ok(version) if version >= abi::BATCH_RESUMABLE_SINCE => ops::BATCH_RESUMABLE,
        _ => 0,
    }
}

/// The backend in use on `kernel` (opting in first if no call has yet).
pub(crate) fn backend_of<K: Kernel + ?Sized>(kernel: &K) -> Backend {
    let typed = typed_enabled(kernel).is_ok();
    match kernel.support().choice() {
        Backend::Legacy => Backend::Legacy,
        Backend::Typed | Backend::TypedOnly if !typed => Backend::TypedOnly,
        Backend::Auto if !typed => Backend::Legacy,
        _ => Backend::Typed,
    }
}

/// Makes the call `request` (`size` bytes, operation `op`): as a typed call where the
/// kernel takes them and the program's [`Backend`] allows, else as its legacy twin
/// ([`emulate`]); raw `rax` in the typed call's convention (0 or `-errno`, the answer slot
/// written when the operation ran).
///
/// # Safety
///
/// As [`Kernel::typed_call`], but typed calls need not be enabled and `request` may be at
/// any address (one that may not be sent in `rax`, [`abi::is_request_address`], is sent
/// from a copy); the buffers the request's arguments name must be valid for what the
/// operation does with them.
#[inline]
pub(crate) unsafe fn make_call<K: Kernel + ?Sized>(
    kernel: &K,
    request: *mut u8,
    op: u32,
    size: u32,
) -> u64 {
    if abi::is_request_address(request as u64) {
        // SAFETY: the caller's guarantee, at a request address.
        unsafe { make_call_at(kernel, request, op, size) }
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { make_call_from_slot(kernel, request, op, size) }
    }
}

/// Whether a program that chose `choice` lets a call fall back to its legacy twin.
fn falls_back(choice: Backend) -> bool {
    !matches!(choice, Backend::TypedOnly | Backend::Typed)
}

/// [`make_call`] for a request at a request address ([`abi::is_request_address`]).
///
/// # Safety
///
/// As [`make_call`], and `request` is a request address.
#[inline]
unsafe fn make_call_at<K: Kernel + ?Sized>(
    kernel: &K,
    request: *mut u8,
    op: u32,
    size: u32,
) -> u64 {
    let choice = kernel.support().choice();
    let may_fall_back = falls_back(choice);
    if let Ok(version) = typed_version(kernel, choice) {
        let op_known = Op::from_raw(op.into());
        let twin = op_known.and_then(Op::twin);
        let in_registers = twin.filter(|_| version >= abi::ANSWER_IN_REGISTERS_SINCE);
        let ret = match in_registers {
            // SAFETY: the caller's guarantee, and typed calls are enabled on a kernel that
            // takes answers in registers.
            Some(_) => unsafe { call_answer_in_registers(kernel, request, op, size) },
            // SAFETY: the caller's guarantee, and typed calls are enabled.
            None => unsafe { kernel.typed_call(request, op, size) },
        };
        if ret as i64 >= 0 || !may_fall_back {
            return ret;
        }
        // Only a call the legacy backend can make is made again, and only when the kernel
        // refused it before it ran: answered in place, ENOSYS or EPERM with the slot
        // pending (a seccomp filter on 1023, or an operation this kernel does not know);
        // answered in registers, ENOSYS (an operation this kernel does not know), since a
        // policy's verdict on the twin is the twin's answer.
        let refused = match (Errno::from_syscall_return(ret), in_registers) {
            (Err(Errno::ENOSYS), Some(_)) => true,
            (Err(Errno::ENOSYS | Errno::EPERM), None) => {
                // SAFETY: the answer slot lies within the request, which is aligned for it.
                unsafe { read_answer(request) }.result().is_none()
            }
            _ => false,
        };
        let has_twin = twin.is_some() || op_known.is_some_and(Op::is_batch);
        if !(refused && has_twin) {
            return ret;
        }
    } else if !may_fall_back {
        return Errno::ENOSYS.to_syscall_return() as u64;
    }
    // SAFETY: the caller's guarantee.
    unsafe { emulate(kernel, request, op, size) }
}

/// Makes the typed call `request` of an operation with a legacy twin with its answer in
/// registers ([`Header::ANSWER_IN_REGISTERS`](abi::Header::ANSWER_IN_REGISTERS)): the kernel
/// runs it as its twin and returns the twin's result in `rax`, which this writes into the
/// request's answer slot, as the kernel does for a request answered in place; raw `rax` in
/// that form (0 or `-errno`).
///
/// # Safety
///
/// As [`make_call`], with typed calls enabled on a kernel of ABI version 2 or later.
#[inline]
unsafe fn call_answer_in_registers<K: Kernel + ?Sized>(
    kernel: &K,
    request: *mut u8,
    op: u32,
    size: u32,
) -> u64 {
    let flags = request.wrapping_add(FLAGS_OFFSET).cast::<u32>();
    // SAFETY: the header's flags lie within the request, which is 8-aligned and ours for
    // the call (the caller's guarantee).
    let old = unsafe { flags.read() };
    // SAFETY: as above.
    unsafe { flags.write(old | abi::Header::ANSWER_IN_REGISTERS) };
    // SAFETY: the caller's guarantee, and typed calls are enabled.
    let ret = unsafe { kernel.typed_call(request, op, size) };
    // SAFETY: as above.
    unsafe { flags.write(old) };
    let result = Errno::from_syscall_return(ret);
    let answer = twin_answer(kernel, op, result);
    // SAFETY: the answer slot lies within the request and is aligned for it.
    unsafe {
        request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>().write(answer);
    }
    match result {
        Ok(_) => 0,
        Err(e) => e.to_syscall_return() as u64,
    }
}

/// Where a request's header flags are.
const FLAGS_OFFSET: usize = core::mem::offset_of!(abi::Header, flags);

/// The answer slot of the request at `request`.
///
/// # Safety
///
/// `request` is an 8-aligned request, valid for reads of its first 32 bytes.
unsafe fn read_answer(request: *const u8) -> Answer {
    // SAFETY: the caller's guarantee; the slot is at a multiple of 8 from the start.
    unsafe { request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>().read() }
}

/// Makes the request at `request` as its legacy twin: decodes it with the ABI's own checked
/// decoder, as the kernel would, makes the twin's system call with the arguments the table
/// maps its fields to, and writes the answer slot, so that the caller sees a typed call's
/// answer. An operation without a twin is `ENOSYS`, with no answer; a batch is refused with
/// `EOPNOTSUPP` and [`ops::BATCH_REFUSED`], as by a kernel that wants the calls one by one.
///
/// # Safety
///
/// As [`make_call`].
#[cold]
unsafe fn emulate<K: Kernel + ?Sized>(kernel: &K, request: *mut u8, op: u32, size: u32) -> u64 {
    let errno = |e: Errno| e.to_syscall_return() as u64;
    let plan = match abi::plan(u64::from(op), u64::from(size), request as u64) {
        Ok(plan) => plan,
        Err(e) => return errno(e),
    };
    // SAFETY: the caller guarantees `size` bytes at `request` are valid for reads, and
    // `plan.size` is `size`.
    let bytes = unsafe { core::slice::from_raw_parts(request.cast_const(), plan.size) };
    let call = match abi::decode::decode_request(&plan, bytes) {
        Ok(call) => call,
        Err(e) => return errno(e),
    };
    let answer = if call.op().is_batch() {
        Answer::error_with(Errno::EOPNOTSUPP, ops::BATCH_REFUSED)
    } else {
        let Some((nr, args)) = call.twin_call(request as u64) else {
            return errno(Errno::ENOSYS);
        };
        // SAFETY: the twin's arguments are the request's fields, which name only buffers
        // the caller guarantees for what the operation (and so its twin) does with them,
        // and, for a twin that takes a struct by pointer, the struct inside the request,
        // which the caller guarantees readable.
        let result = Errno::from_syscall_return(unsafe { kernel.legacy_call(nr, &args.regs) });
        match (call, result) {
            // The typed call says how much room the path needs; getcwd() does not.
            (Call::GetCwd(_), Err(Errno::ERANGE)) => {
                Answer::error_with(Errno::ERANGE, getcwd_len(kernel, nr))
            }
            _ => Answer::done(result),
        }
    };
    // SAFETY: the caller guarantees the answer slot is valid for writes; it is aligned.
    unsafe {
        request.wrapping_add(Request::<()>::ANSWER_OFFSET).cast::<Answer>().write(answer);
    }
    match answer.result() {
        Some(Err(e)) => errno(e),
        _ => 0,
    }
}

/// The length of the current directory's path with its NUL, from legacy `getcwd` (number
/// `nr`) into a buffer of `PATH_MAX` bytes; 0 if even that fails.
#[cold]
fn getcwd_len<K: Kernel + ?Sized>(kernel: &K, nr: u32) -> u64 {
    const PATH_MAX: usize = 4096;
    let mut buf = [0u8; PATH_MAX];
    let args = [buf.as_mut_ptr() as u64, PATH_MAX as u64, 0, 0, 0, 0];
    // SAFETY: getcwd writes at most `PATH_MAX` bytes into `buf`, which is ours.
    let ret = unsafe { kernel.legacy_call(nr, &args) };
    Errno::from_syscall_return(ret).unwrap_or(0)
}

/// The fast path of a typed call from a request address, on a kernel that answers in
/// registers: an operation with a legacy twin (ABI version 2), or one without a twin other
/// than a batch (version 5). One load decides; the request asks for its answer in registers
/// for this one call; the answer (`rax`, the twin's result, or `rax`, `rdx` and `r10`) is
/// written into the request's answer slot, as the kernel writes it for a call answered in
/// place, and its result returned. `None` when the fast path does not apply: the caller
/// takes the slow path ([`issue`]).
///
/// # Safety
///
/// As [`TypedCalls::call_answer`](crate::TypedCalls::call_answer).
#[inline(always)]
pub(crate) unsafe fn call_in_registers<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Option<Result<u64, Errno>> {
    let fast = kernel.support().fast();
    let address = core::ptr::from_mut(request);
    if fast == Support::FAST_NONE || !abi::is_request_address(address as u64) {
        return None;
    }
    let size = size_of::<Request<A>>() as u32;
    let flags = request.header.flags;
    if !const { A::OP.twin().is_some() } {
        // A batch keeps its answer in place, where a refusal lets the library make its calls
        // one by one ([`make_call`]).
        if const { A::OP.is_batch() } || fast & Support::FAST_ALL_IN_REGISTERS == 0 {
            return None;
        }
        request.header.flags = flags | abi::Header::ANSWER_IN_REGISTERS;
        // Pending, as for a call answered in place ([`issue`]): a `Kernel` that answers in
        // place reads it back after the call.
        request.answer = Answer::default();
        // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes at
        // a request address, and typed calls are enabled (the fast path is set only after
        // the opt-in succeeded) on a kernel that answers every lone call in registers; the
        // caller guarantees the buffers its arguments name.
        let registers =
            unsafe { kernel.typed_call_in_registers(address.cast(), A::OP.raw(), size) };
        request.header.flags = flags;
        let (result, answer) = registers_answer(registers);
        request.answer = answer;
        return Some(result);
    }
    request.header.flags = flags | abi::Header::ANSWER_IN_REGISTERS;
    // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes at a
    // request address, and typed calls are enabled (the fast path is set only after the
    // opt-in succeeded) on a kernel that answers in registers; the caller guarantees the
    // buffers its arguments name.
    let ret = unsafe { kernel.typed_call(address.cast(), A::OP.raw(), size) };
    request.header.flags = flags;
    let result = Errno::from_syscall_return(ret);
    if result == Err(Errno::ENOSYS) && Support::fast_backend(fast) == Support::FAST_AUTO {
        // SAFETY: the caller's guarantee.
        return Some(unsafe { fall_back(kernel, request) });
    }
    request.answer = twin_answer(kernel, A::OP.raw(), result);
    Some(result)
}

/// A lone call of an operation with a legacy twin, made by a wrapper that wants only the
/// call's value: the library's shortest path. The request is built on the stack asking
/// for its answer in registers; on a kernel that answers so, one load and one address test
/// decide, and `rax`, the twin's result, is the answer (nobody else reads the request, so
/// its answer slot is not written). Anything else ([`TypedCalls::call_answer`]'s path:
/// no typed calls, an older kernel, a request address that needs a slot) is out of line.
///
/// # Safety
///
/// Every buffer `args` names must be valid for what the operation does with it during the
/// call, as for [`TypedCalls::call_answer`](crate::TypedCalls::call_answer).
#[inline(always)]
pub(crate) unsafe fn lone_twin<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    args: A,
) -> Result<u64, Errno> {
    const { assert!(A::OP.twin().is_some(), "lone_twin takes operations with a twin") };
    let fast = kernel.support().fast();
    let size = size_of::<Request<A>>() as u32;
    let mut request = in_registers(args);
    let address = request.as_mut_ptr();
    // Every path gives raw `rax` in the twin's convention (a twin's value is never in
    // `-4095..=-1`), decoded once below: no `Result` crosses a call.
    let ret = if fast == Support::FAST_NONE || !abi::is_request_address(address as u64) {
        // SAFETY: the caller's guarantee.
        unsafe { lone_twin_slow(kernel, with_slot(&mut request)) }
    } else {
        // SAFETY: `request` is ours, a request of `size` bytes at a request address, asking
        // for its answer in registers (its slot, left uninitialised, is not read); typed
        // calls are enabled (the fast path is set only after the opt-in succeeded) on a
        // kernel that answers so; the caller guarantees the buffers.
        let ret = unsafe { kernel.typed_call(address.cast(), A::OP.raw(), size) };
        match Errno::from_syscall_return(ret) {
            Ok(value) => return Ok(value),
            // SAFETY: the caller's guarantee.
            Err(Errno::ENOSYS) if Support::fast_backend(fast) == Support::FAST_AUTO => unsafe {
                lone_twin_fall_back(kernel, with_slot(&mut request))
            },
            Err(_) => ret,
        }
    };
    Errno::from_syscall_return(ret)
}

/// A lone call of an operation without a legacy twin, made by a wrapper that wants only the
/// call's value: [`lone_twin`]'s counterpart. The request is built on the stack; on a
/// kernel that answers such calls in registers (ABI version 5; the same one relaxed load
/// says so) it asks for that, and `rax`, `rdx` and `r10` say the result
/// ([`registers_result`]); on an older one it is answered in place, and `rax` with the
/// answer slot say it ([`answer_of`]). Anything else ([`TypedCalls::call_answer`]'s path:
/// typed calls not known to be enabled, a request address that needs a slot) is out of
/// line.
///
/// # Safety
///
/// Every buffer `args` names must be valid for what the operation does with it during the
/// call, as for [`TypedCalls::call_answer`](crate::TypedCalls::call_answer).
#[inline(always)]
pub(crate) unsafe fn lone_typed<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    args: A,
) -> Result<u64, Errno> {
    const { assert!(A::OP.twin().is_none(), "lone_typed takes operations without a twin") };
    let fast = kernel.support().fast();
    if fast & Support::FAST_ALL_IN_REGISTERS != 0 {
        let mut request = in_registers(args);
        let address = request.as_mut_ptr();
        if abi::is_request_address(address as u64) {
            let size = size_of::<Request<A>>() as u32;
            // SAFETY: `request` is ours, a request of `size` bytes at a request address,
            // asking for its answer in registers (its slot, left uninitialised, is not read)
            // on a kernel that answers every lone call so (the mode is set only after the
            // opt-in reported it); the caller guarantees the buffers.
            let registers =
                unsafe { kernel.typed_call_in_registers(address.cast(), A::OP.raw(), size) };
            return registers_result(registers);
        }
        let request = with_slot(&mut request);
        request.header.flags = 0;
        // SAFETY: the caller's guarantee.
        return unsafe { lone_typed_slow(kernel, request) };
    }
    // SAFETY: the caller's guarantee.
    unsafe { lone_typed_in_place(kernel, args) }
}

/// [`lone_typed`] on a kernel that answers calls without a twin only in place (ABI version
/// 4 or older), or before typed calls are known to be enabled: out of line, so that the
/// common path does not merge its result with this one's.
///
/// # Safety
///
/// As [`lone_typed`].
#[inline(never)]
unsafe fn lone_typed_in_place<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    args: A,
) -> Result<u64, Errno> {
    let fast = kernel.support().fast();
    let mut request = Request::new(args);
    let address = core::ptr::from_mut(&mut request);
    if fast != Support::FAST_NONE && abi::is_request_address(address as u64) {
        let size = size_of::<Request<A>>() as u32;
        // SAFETY: `request` is ours, a whole request of `size` bytes at a request address;
        // typed calls are enabled (the fast path is set only after the opt-in succeeded);
        // the caller guarantees the buffers.
        let ret = unsafe { kernel.typed_call(address.cast(), A::OP.raw(), size) };
        return value_of(answer_of(ret, request.answer));
    }
    // SAFETY: the caller's guarantee.
    unsafe { lone_typed_slow(kernel, &mut request) }
}

/// A request for `args` that asks for its answer in registers: its header a constant,
/// written whole (one store, where setting the flag after [`Request::new`] took four), its
/// answer slot left uninitialised: the kernel neither reads nor writes the slot of such a
/// request, and [`Kernel::typed_call`] lets it be so ([`with_slot`] makes it whole).
#[inline(always)]
fn in_registers<A: Args>(args: A) -> MaybeUninit<Request<A>> {
    const HEADER: usize = core::mem::offset_of!(Request<()>, header);
    let mut request = MaybeUninit::<Request<A>>::uninit();
    let at = request.as_mut_ptr().cast::<u8>();
    let header = at.wrapping_add(HEADER).cast::<abi::Header>();
    let fields = at.wrapping_add(core::mem::offset_of!(Request<A>, args)).cast::<A>();
    let value = const {
        abi::Header { flags: abi::Header::ANSWER_IN_REGISTERS, ..Request::<A>::new_header() }
    };
    // SAFETY: `header` points to the request's own header field, aligned for it (the request
    // is); written through a raw pointer, no reference to uninitialised memory is made.
    unsafe { header.write(value) };
    // SAFETY: as above, for the arguments field.
    unsafe { fields.write(args) };
    request
}

/// A request of [`in_registers`] made whole, its answer slot pending: for the paths that
/// send it otherwise, or read its slot.
#[inline(always)]
fn with_slot<A: Args>(request: &mut MaybeUninit<Request<A>>) -> &mut Request<A> {
    let offset = core::mem::offset_of!(Request<A>, answer);
    let slot = request.as_mut_ptr().cast::<u8>().wrapping_add(offset).cast::<Answer>();
    // SAFETY: `slot` points to the request's own answer slot, aligned for it (the request
    // is); written through a raw pointer.
    unsafe { slot.write(Answer::default()) };
    // SAFETY: `in_registers` wrote the header and the arguments, and the answer slot is
    // written above: every field is initialised.
    unsafe { request.assume_init_mut() }
}

/// What a lone call of an operation without a twin answered in registers
/// ([`Kernel::typed_call_in_registers`]: raw `rax`, `rdx`, `r10`): the call's result, and
/// its answer slot as a kernel answering in place would have written it. `r10` says whether
/// the operation ran ([`Answer::DONE`]); if it did not, `rax` is the refusal and the slot
/// stays pending. `rax` and `r10` that disagree (a success that did not run, a value
/// besides) are `EIO`, as [`answer_of`] says of `rax` and a slot that disagree.
#[inline(always)]
fn registers_answer([ret, value, state]: [u64; 3]) -> (Result<u64, Errno>, Answer) {
    let status = Errno::from_syscall_return(ret);
    if state != u64::from(Answer::DONE) {
        return (status.and(Err(Errno::EIO)), Answer::default());
    }
    match status {
        Ok(0) => (Ok(value), Answer::done(Ok(value))),
        Ok(_) => (Err(Errno::EIO), Answer::default()),
        Err(e) => (Err(e), Answer::error_with(e, value)),
    }
}

/// The result [`registers_answer`] gives, the common case (the operation ran and succeeded:
/// `r10` and `rax` say so, and `rdx` is the value) tested first.
#[inline(always)]
fn registers_result([ret, value, state]: [u64; 3]) -> Result<u64, Errno> {
    if ret == 0 && state == u64::from(Answer::DONE) {
        return Ok(value);
    }
    Err(registers_error(ret, value, state))
}

/// The error of any other answer [`registers_result`] is given: an answer that is not a
/// success is an error (the three registers apart: an array would be stored to memory on
/// the common path too, to be passed by reference; an `Errno` returned, where a `Result`
/// would be, through memory, merged with the common path's).
#[cold]
#[inline(never)]
fn registers_error(ret: u64, value: u64, state: u64) -> Errno {
    match registers_answer([ret, value, state]).0 {
        Err(errno) => errno,
        // Only `rax` 0 with `r10` saying the operation ran is a success, tested above.
        Ok(_) => Errno::EIO,
    }
}

/// [`lone_typed`] where its fast path does not apply.
///
/// # Safety
///
/// As [`lone_typed`].
#[cold]
#[inline(never)]
unsafe fn lone_typed_slow<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<u64, Errno> {
    // SAFETY: the caller's guarantee.
    value_of(unsafe { crate::TypedCalls::call_answer(kernel, request) })
}

/// The value of a call's answer slot: its result, or `EIO` for a slot the kernel left
/// pending although it said the call ran.
#[inline(always)]
pub(crate) fn value_of(answer: Result<Answer, Errno>) -> Result<u64, Errno> {
    answer?.result().unwrap_or(Err(Errno::EIO))
}

/// [`lone_twin`] where its fast path does not apply: the request, answered in place, goes
/// the way of [`TypedCalls::call_answer`](crate::TypedCalls::call_answer). Raw `rax`.
///
/// # Safety
///
/// As [`lone_twin`].
#[cold]
#[inline(never)]
unsafe fn lone_twin_slow<K: Kernel + ?Sized, A: Args>(kernel: &K, request: &mut Request<A>) -> u64 {
    request.header.flags = 0;
    // SAFETY: the caller's guarantee.
    Errno::syscall_return_of(value_of(unsafe { crate::TypedCalls::call_answer(kernel, request) }))
}

/// [`lone_twin`]'s typed call answered `ENOSYS`: its twin ([`fall_back`]). Raw `rax`.
///
/// # Safety
///
/// As [`lone_twin`].
#[cold]
#[inline(never)]
unsafe fn lone_twin_fall_back<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> u64 {
    request.header.flags = 0;
    // SAFETY: the caller's guarantee.
    Errno::syscall_return_of(unsafe { fall_back(kernel, request) })
}

/// The fast path's typed call answered `ENOSYS`: the operation is not known to this kernel
/// (or a filter answers so), and the program may fall back: its twin, as [`make_call`]
/// would make it.
///
/// # Safety
///
/// As [`call_in_registers`].
#[cold]
#[inline(never)]
unsafe fn fall_back<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<u64, Errno> {
    request.answer = Answer::default();
    let size = size_of::<Request<A>>() as u32;
    // SAFETY: the caller's guarantee, for a whole request of `size` bytes.
    let ret = unsafe { emulate(kernel, core::ptr::from_mut(request).cast(), A::OP.raw(), size) };
    value_of(answer_of(ret, request.answer))
}

/// Makes the typed call `request` from where it is, and checks what the kernel answered:
/// the fast path ([`call_in_registers`]) where it applies, else [`make_call`].
///
/// # Safety
///
/// As [`TypedCalls::call_answer`](crate::TypedCalls::call_answer); `request`'s address is
/// a request address ([`abi::is_request_address`]).
#[inline]
pub(crate) unsafe fn issue<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    // SAFETY: the caller's guarantee.
    if let Some(result) = unsafe { call_in_registers(kernel, request) } {
        return match (request.answer.result(), result) {
            (Some(_), _) => Ok(request.answer),
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Err(Errno::EIO),
        };
    }
    let size = size_of::<Request<A>>() as u32;
    request.answer = Answer::default();
    // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes,
    // valid for reads and for writes of its answer slot; the caller guarantees the rest.
    let ret = unsafe { make_call(kernel, core::ptr::from_mut(request).cast(), A::OP.raw(), size) };
    answer_of(ret, request.answer)
}

/// What a call answered: `rax` (in the typed call's convention) and the answer slot.
fn answer_of(ret: u64, answer: Answer) -> Result<Answer, Errno> {
    match (Errno::from_syscall_return(ret), answer.result()) {
        (Ok(0), Some(Ok(_))) => Ok(answer),
        (Err(e), Some(Err(answered))) if e == answered => Ok(answer),
        (Err(e), None) => Err(e),
        // `rax` and the answer slot disagree: not a ferrocall kernel we understand.
        _ => Err(Errno::EIO),
    }
}

/// The answer of a call of operation `op` answered in registers with `result`, its twin's:
/// what the kernel writes for a call answered in place. A `GetCwd` that failed with `ERANGE`
/// carries the length the path needs, which the twin getcwd() does not give: it is asked
/// of the twin, out of the hot path.
#[inline(always)]
fn twin_answer<K: Kernel + ?Sized>(kernel: &K, op: u32, result: Result<u64, Errno>) -> Answer {
    match result {
        Err(Errno::ERANGE) if op == Op::GetCwd.raw() => getcwd_range(kernel),
        _ => Answer::done(result),
    }
}

/// The answer of a `GetCwd` answered in registers with `ERANGE`: the error, with the
/// length the path needs, from the twin.
#[cold]
fn getcwd_range<K: Kernel + ?Sized>(kernel: &K) -> Answer {
    let nr = Op::GetCwd.twin().map_or(0, |twin| twin.nr);
    Answer::error_with(Errno::ERANGE, getcwd_len(kernel, nr))
}

/// `request`'s address may not be sent in `rax` ([`abi::is_request_address`]): sends a
/// copy from a slot that may ([`Slot`]), and takes its answer; without a free slot,
/// [`make_call`] decides (the twin, or an error).
///
/// # Safety
///
/// As [`issue`], but for any address of `request`.
#[cold]
#[inline(never)]
pub(crate) unsafe fn issue_from_copy<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    let Ok(slot) = Slot::claim_for::<A>() else {
        let size = size_of::<Request<A>>() as u32;
        request.answer = Answer::default();
        // SAFETY: the caller's guarantee, for a whole request of `size` bytes.
        let ret =
            unsafe { make_call(kernel, core::ptr::from_mut(request).cast(), A::OP.raw(), size) };
        return answer_of(ret, request.answer);
    };
    let copy = slot.as_mut_ptr().cast::<Request<A>>();
    // SAFETY: the slot is this thread's until `slot` drops, 8-aligned and large enough for
    // a `Request<A>` (`claim_for`); the copy names the same buffers as `request`.
    unsafe { copy.write(*request) };
    // SAFETY: the copy is initialised, aligned and this thread's alone until `slot` drops.
    let copy = unsafe { &mut *copy };
    // SAFETY: the copy's address is a request address; the caller guarantees the buffers.
    let result = unsafe { issue(kernel, copy) };
    request.answer = copy.answer;
    result
}

/// [`make_call`] for a request whose address may not be sent in `rax`: the same call, sent
/// from a copy in a [`Slot`] whose answer slot is copied back; without a slot, the legacy
/// twin where the backend allows it (the legacy backend makes it anyway), else `-errno`
/// (`EAGAIN` while every slot is taken, `ENOMEM` if none could be mapped).
///
/// # Safety
///
/// As [`make_call`].
#[cold]
#[inline(never)]
unsafe fn make_call_from_slot<K: Kernel + ?Sized>(
    kernel: &K,
    request: *mut u8,
    op: u32,
    size: u32,
) -> u64 {
    let choice = kernel.support().choice();
    let may_fall_back = falls_back(choice);
    // No typed call to make (the legacy backend, or a kernel without them): no slot either.
    if typed_version(kernel, choice).is_err() {
        if !may_fall_back {
            return Errno::ENOSYS.to_syscall_return() as u64;
        }
        // SAFETY: the caller's guarantee; the twin takes the request from anywhere.
        return unsafe { emulate(kernel, request, op, size) };
    }
    let slot = match Slot::claim(size as usize) {
        Ok(slot) => slot,
        // SAFETY: the caller's guarantee.
        Err(_) if may_fall_back => return unsafe { emulate(kernel, request, op, size) },
        Err(errno) => return errno.to_syscall_return() as u64,
    };
    let copy = slot.as_mut_ptr();
    // SAFETY: `request` is valid for reads of `size` bytes (the caller's guarantee) and the
    // slot, this thread's until `slot` drops, holds at least `size` bytes; they are
    // different memory.
    unsafe { core::ptr::copy_nonoverlapping(request, copy, size as usize) };
    // SAFETY: the copy is a whole request at a request address, naming the buffers the
    // caller's guarantee covers.
    let ret = unsafe { make_call_at(kernel, copy, op, size) };
    let answer = Request::<()>::ANSWER_OFFSET;
    // A request shorter than its header and answer was refused before it ran.
    if size as usize >= Request::<()>::ARGS_OFFSET {
        // SAFETY: the answer slot lies within both requests, `size` bytes each.
        unsafe {
            core::ptr::copy_nonoverlapping(
                copy.wrapping_add(answer),
                request.wrapping_add(answer),
                Request::<()>::ANSWER_SIZE,
            );
        }
    }
    ret
}
