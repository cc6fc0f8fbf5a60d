// SPDX-License-Identifier: GPL-2.0

//! ferrocall: the kernel's handler of typed system calls.
//!
//! The x86_64 entry code (`arch/x86/entry/`) calls [`ferrocall_syscall`] for the
//! system call `ferrocall(op, size, request)`: a typed call that the entry code rewrote to
//! that number, or a restart of one. The handler copies the request in once, decodes it
//! with the ABI's checked decoder (never a transmute), runs it, and writes the answer slot
//! back, or, for a lone call that asks, puts the answer in its registers.
//!
//! What this file may touch: user memory only through
//! [`UserSlice`](kernel::uaccess::UserSlice) or the C helpers' checked user-access
//! functions (so a bad address is `EFAULT`, never an oops), the registers of the running
//! task's system call that the entry code hands it ([`Registers`]), and the kernel only
//! through the functions the legacy system calls use. The ABI it decodes
//! is the module [`abi`], the very files of the `ferrocall-abi` crate, added beside this file
//! by the same patch.

use core::mem::MaybeUninit;

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong};
use kernel::uaccess::UserSliceReader;

pub mod abi;
mod compat;

use abi::layout::Request;
use abi::{ops, Answer, Call, Errno, UserBuf, UserBufMut};

// The numbers C code uses (include/uapi/linux/ferrocall.h) are the ABI's.
const _: () = {
    assert!(abi::SYSCALL_NR == bindings::__NR_ferrocall);
    assert!(abi::PR_FERROCALL == bindings::PR_FERROCALL);
    assert!(abi::PR_FERROCALL_ENABLE == bindings::PR_FERROCALL_ENABLE as u64);
    assert!(abi::PR_FERROCALL_STATUS == bindings::PR_FERROCALL_STATUS as u64);
    assert!(abi::ABI_VERSION == bindings::FERROCALL_ABI_VERSION);
    assert!(abi::MIN_ADDR == bindings::FERROCALL_MIN_ADDR);
    assert!(abi::X32_SYSCALL_BIT == bindings::__X32_SYSCALL_BIT as u64);
};

// The ABI's errno numbers are the kernel's.
const _: () = {
    assert!(Errno::EFAULT.raw() as u32 == bindings::EFAULT);
    assert!(Errno::EINVAL.raw() as u32 == bindings::EINVAL);
    assert!(Errno::E2BIG.raw() as u32 == bindings::E2BIG);
    assert!(Errno::ENOSYS.raw() as u32 == bindings::ENOSYS);
    assert!(Errno::EOVERFLOW.raw() as u32 == bindings::EOVERFLOW);
    assert!(Errno::ERANGE.raw() as u32 == bindings::ERANGE);
    assert!(Errno::ENOMEM.raw() as u32 == bindings::ENOMEM);
    assert!(Errno::EBADF.raw() as u32 == bindings::EBADF);
    assert!(Errno::EOPNOTSUPP.raw() as u32 == bindings::EOPNOTSUPP);
};

/// The kernel's own restart codes (`ERESTARTSYS`, `ERESTARTNOINTR`, `ERESTARTNOHAND`,
/// `ERESTART_RESTARTBLOCK`; 515 is `ENOIOCTLCMD`, not one of them): a call that ends with
/// one is restarted or turned into `EINTR` by the signal code, so its answer slot is left
/// alone.
fn is_restart(errno: Errno) -> bool {
    matches!(errno.raw(), 512 | 513 | 514 | 516)
}

/// Runs the system call `ferrocall(op, size, addr)` (in `regs`: RDI, RSI, RDX): a typed call
/// of an operation without a legacy twin (the entry code presents the others as their twins,
/// see [`ferrocall_twin`]), a restart of one, or the same made by number.
///
/// Returns 0 when the answer was given with a success, otherwise `-errno`; when the
/// operation itself failed, the answer holds the same errno. The answer goes into the
/// request's answer slot, or, for a request that asks for it
/// ([`abi::Header::ANSWER_IN_REGISTERS`]), into the registers ([`Registers::answer`]). An
/// operation with a twin is `EINVAL` here: it runs only as its twin, so that no policy on the
/// twin is bypassed by making it under this number.
///
/// # Safety
///
/// `regs` must be the running task's registers for the system call it is making, as
/// `do_syscall_64()` passes them ([`Registers::new`]).
#[no_mangle]
pub unsafe extern "C" fn ferrocall_syscall(regs: *mut bindings::pt_regs) -> c_long {
    // SAFETY: the caller's guarantee.
    match unsafe { Registers::new(regs) } {
        Some(regs) => lone_syscall(regs),
        None => Errno::EFAULT.to_syscall_return() as c_long,
    }
}

/// [`ferrocall_syscall`] on the task's registers.
fn lone_syscall(regs: Registers) -> c_long {
    let (op, size, addr) = regs.call();
    // Checked before the plan: the cheaper order on every lone call (the profile).
    let result = match abi::Op::from_raw(op) {
        Some(known) if known.twin().is_some() => Err(Errno::EINVAL),
        _ => handle(op, size, addr, Caller::Lone(regs)).map_err(Halt::errno),
    };
    match result {
        Ok(()) => 0,
        Err(errno) => errno.to_syscall_return() as c_long,
    }
}

/// Runs `ferrocall(op, size, addr)` as [`ferrocall_syscall`] does, for a request the entry
/// code read at entry (`FERROCALL_ENTRY_LOADED`, recorded in `fc`): an operation without a
/// twin, whose first `fc.words` argument words and header flags, as copied in then, are
/// `fc.held` and `fc.flags`. When the operation and size in `regs` are still what the entry
/// code read (a tracer may have changed the registers since), the call is decoded from those
/// words, with every check of a lone call, and run ([`Call::dispatch_loaded`]); the request
/// is not read again. Anything else is the request the registers name, read afresh.
///
/// # Safety
///
/// As [`ferrocall_syscall`], with `regs` not null; and `fc` must point to the entry code's
/// record of the call, valid for reads, its first `words` held words initialised.
#[no_mangle]
pub unsafe extern "C" fn ferrocall_run_loaded(
    regs: *mut bindings::pt_regs,
    fc: *const bindings::ferrocall_entry,
) -> c_long {
    // SAFETY: the caller's guarantee: the task's registers, never null (`do_syscall_64()`
    // passes its own).
    let regs = unsafe { Registers::new_unchecked(regs) };
    let (op, size, addr) = regs.call();
    // SAFETY: the caller's guarantee: `fc` is valid for reads; its integer fields are read
    // by value, and no reference to it is kept.
    let (words, flags, held) = unsafe { ((*fc).words, (*fc).flags, &raw const (*fc).held) };
    let words = usize::from(words).min(HELD_WORDS);
    // SAFETY: the caller's guarantee: `held` holds `HELD_WORDS` `u64`s, of which the first
    // `words` are initialised, viewed as bytes (no alignment, and any initialised byte is a
    // `u8`).
    let bytes = unsafe { core::slice::from_raw_parts(held.cast::<u8>(), words * 8) };
    // The entry code read the words of the operation and size that the registers still
    // name; any other is read afresh.
    let answer = match Call::dispatch_loaded(op, size, bytes, &mut Kernel) {
        Some(Ok(answer)) => answer,
        Some(Err(errno)) => return errno.to_syscall_return() as c_long,
        None => return read_afresh(regs),
    };
    // `answer_lone`, with its success returned straight away: through `answer_lone`'s
    // `Result`, the answer was stored to memory on every call (Useless +2, the profile).
    if flags & abi::Header::ANSWER_IN_REGISTERS != 0
        && answer.errno == 0
        && answer.state == Answer::DONE
    {
        regs.answer(answer.value);
        return 0;
    }
    match answer_lone(regs, addr as usize, flags, answer) {
        Ok(()) => 0,
        Err(halt) => halt.errno().to_syscall_return() as c_long,
    }
}

/// [`ferrocall_run_loaded`]'s call whose registers no longer name the request read at
/// entry: [`ferrocall_syscall`], out of line (its frame is not the common path's).
#[cold]
#[inline(never)]
fn read_afresh(regs: Registers) -> c_long {
    lone_syscall(regs)
}

/// The registers of the running task's system call, as the entry code hands them to the
/// handler: where a lone call's operation, size and request address are read, and where
/// an answer in registers goes.
#[derive(Clone, Copy)]
struct Registers(core::ptr::NonNull<bindings::pt_regs>);

// The answer in registers says "answered" with the answer slot's own state.
const _: () = assert!(Answer::DONE == bindings::FERROCALL_ANSWER_DONE);

impl Registers {
    /// The registers at `regs`; `None` for a null pointer.
    ///
    /// # Safety
    ///
    /// `regs` is the running task's `struct pt_regs` for the system call it is making, as
    /// `do_syscall_64()` passes it: valid for reads and writes until the call returns. Other
    /// code may read and write them during the call too (a batch's seccomp check puts a
    /// call's registers there and back, a tracer stopped by a verdict may change them), so
    /// a `Registers` never holds a reference to them across a call: each access is a read
    /// or a write of its own ([`Registers::call`], [`Registers::answer`]).
    unsafe fn new(regs: *mut bindings::pt_regs) -> Option<Registers> {
        core::ptr::NonNull::new(regs).map(Registers)
    }

    /// [`Registers::new`] for a pointer known not to be null.
    ///
    /// # Safety
    ///
    /// As [`Registers::new`], and `regs` is not null.
    #[inline(always)]
    unsafe fn new_unchecked(regs: *mut bindings::pt_regs) -> Registers {
        // SAFETY: the caller's guarantee: `regs` is not null.
        Registers(unsafe { core::ptr::NonNull::new_unchecked(regs) })
    }

    /// `ferrocall(op, size, request)`'s arguments: RDI, RSI and RDX.
    #[inline(always)]
    fn call(self) -> (u64, u64, u64) {
        // SAFETY: `new`'s guarantee: the registers are valid for reads; the reference lives
        // only for the three reads below, during which nothing else runs on this task.
        let regs = unsafe { self.0.as_ref() };
        (regs.di as u64, regs.si as u64, regs.dx as u64)
    }

    /// The answer of a lone call that ran, asked in registers: its value in RDX and
    /// [`Answer::DONE`] in R10 (RAX, 0 or `-errno`, is the system call's return). A call
    /// refused before it ran leaves R10 zero, as the entry code presented the call.
    #[inline(always)]
    fn answer(self, value: u64) {
        let regs = self.0.as_ptr();
        // SAFETY: `new`'s guarantee: the registers are valid for writes; nothing else runs
        // on this task during the write, and no reference to them is held.
        unsafe { (*regs).dx = value as c_ulong };
        // SAFETY: as above.
        unsafe { (*regs).r10 = Answer::DONE as c_ulong };
    }
}

/// Who makes a call: a lone call, with the registers of its system call, or a call of a
/// [`batch`] after `ran` others, under the batch's [`Watch`].
#[derive(Clone, Copy)]
enum Caller<'a> {
    Lone(Registers),
    Batch(u64, &'a Watch),
}

/// Gives a lone call's answer where its request asked for it: with
/// [`abi::Header::ANSWER_IN_REGISTERS`] in `flags`, the registers ([`Registers::answer`];
/// a success, the common case, first; a restart code has no answer to give there either),
/// else its answer slot ([`answer_call`]).
#[inline(always)]
fn answer_lone(regs: Registers, addr: usize, flags: u32, answer: Answer) -> Result<(), Halt> {
    if flags & abi::Header::ANSWER_IN_REGISTERS != 0 {
        if answer.errno == 0 && answer.state == Answer::DONE {
            regs.answer(answer.value);
            return Ok(());
        }
        // By its parts: the answer need not be in memory on the common path.
        return answer_failed_in_registers(regs, answer.value, answer.errno, answer.state);
    }
    answer_call(addr, answer)
}

/// [`answer_lone`] in registers for an answer that is not a success, given by its parts.
#[cold]
#[inline(never)]
fn answer_failed_in_registers(
    regs: Registers,
    value: u64,
    errno: u32,
    state: u32,
) -> Result<(), Halt> {
    let answer = finish(Answer {
        value,
        errno,
        state,
    })?;
    regs.answer(answer.value);
    outcome(&answer)
}

const _: () = {
    let mut i = 0;
    while i < abi::Op::ALL.len() {
        let op = abi::Op::ALL[i];
        // The entry code reads the arguments of every operation without a twin.
        assert!(op.twin().is_some() || op.args_size() <= HELD_WORDS * 8);
        i += 1;
    }
};

/// The entry code's half of a lone typed call: the legacy system call it stands for.
///
/// For an operation with a legacy twin (the entry code's table calls it for no other),
/// copies the request in once, decodes it with the ABI's checked decoder and returns the
/// twin's number, its six argument registers in `args` and the request's flags in `flags`:
/// the entry code puts them in `pt_regs`, and the call is seen as that legacy call by every
/// hook. For an operation the handler runs from its copy ([`abi::Op::runs_from_copy`]), the
/// decoded arguments also go to `held`, which the entry code keeps for
/// [`ferrocall_run_held`]. A request that does not decode is `-errno`, and so is an
/// operation without a twin (`ENOSYS`).
///
/// # Safety
///
/// `args` must be valid for writes of six `c_ulong`s, `flags` of one `u32` and `held` of
/// `FERROCALL_HELD_WORDS` `u64`s.
#[no_mangle]
pub unsafe extern "C" fn ferrocall_twin(
    op: c_ulong,
    size: c_ulong,
    addr: c_ulong,
    args: *mut c_ulong,
    flags: *mut u32,
    held: *mut u64,
) -> c_long {
    match twin(op as u64, size as u64, addr as u64) {
        Ok((nr, twin_args, request_flags, words)) => {
            // SAFETY: the caller's guarantee: `args` holds six `c_ulong`s, `flags` one `u32`.
            unsafe {
                args.cast::<[c_ulong; 6]>()
                    .write(twin_args.regs.map(|r| r as c_ulong));
                flags.write(request_flags);
            }
            if let Some(words) = words {
                // SAFETY: the caller's guarantee: `held` holds `HELD_WORDS` `u64`s.
                unsafe { held.cast::<[u64; HELD_WORDS]>().write(words) };
            }
            nr as c_long
        }
        Err(errno) => errno.to_syscall_return() as c_long,
    }
}

/// What [`twin`] returns: the twin's number and arguments, the request's flags, and for an
/// operation run from the copy the argument words to hold.
type Twin = (u32, abi::TwinArgs, u32, Option<[u64; HELD_WORDS]>);

/// Copies in and decodes the lone request `ferrocall(op, size, addr)` of an operation with a
/// twin.
#[inline(always)]
fn twin(op: u64, size: u64, addr: u64) -> Result<Twin, Errno> {
    let (plan, _, bytes) = copy_in(op, size, addr)?;
    let known = bytes.get(..plan.known).ok_or(Errno::EINVAL)?;
    let (call, flags) = abi::decode::decode_lone(&plan, known)?;
    let (nr, args) = call.twin_call(addr).ok_or(Errno::ENOSYS)?;
    let held = if plan.op.runs_from_copy() {
        Some(held_words(known)?)
    } else {
        None
    };
    Ok((nr, args, flags, held))
}

/// Room for the arguments of any operation run from the copy (`FERROCALL_HELD_WORDS`).
const HELD_WORDS: usize = bindings::FERROCALL_HELD_WORDS as usize;

const _: () = {
    let mut i = 0;
    while i < abi::Op::ALL.len() {
        let op = abi::Op::ALL[i];
        assert!(!op.runs_from_copy() || op.args_size() <= HELD_WORDS * 8);
        i += 1;
    }
};

/// The argument words of a request the handler runs from its copy, from the part of its one
/// copy that [`abi::decode::decode_lone`] accepted: what the entry code holds, and what
/// [`held_call`] decodes again, with the same result.
fn held_words(known: &[u8]) -> Result<[u64; HELD_WORDS], Errno> {
    let args = known
        .get(Request::<()>::ARGS_OFFSET..)
        .ok_or(Errno::EINVAL)?;
    let mut words = [0u64; HELD_WORDS];
    for (word, chunk) in words.iter_mut().zip(args.chunks_exact(8)) {
        *word = u64::from_le_bytes(chunk.try_into().map_err(|_| Errno::EINVAL)?);
    }
    Ok(words)
}

/// The call the entry code held: decoded again from the held words, which are in the
/// kernel's memory.
fn held_call(op: c_ulong, held: &[u64; HELD_WORDS]) -> Result<Call, Errno> {
    let op = abi::Op::from_raw(op as u64)
        .filter(|op| op.runs_from_copy())
        .ok_or(Errno::EINVAL)?;
    let mut bytes = [0u8; HELD_WORDS * 8];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(held) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Call::decode_args(op, &bytes)
}

/// Whether a call held at entry is still, after the entry work, the twin it was presented
/// as: system call `nr` with arguments `args`. A tracer may have changed either.
///
/// # Safety
///
/// `held` must be valid for reads of `FERROCALL_HELD_WORDS` `u64`s and `args` of six
/// `c_ulong`s.
#[no_mangle]
pub unsafe extern "C" fn ferrocall_held_unchanged(
    op: c_ulong,
    addr: c_ulong,
    held: *const u64,
    nr: c_ulong,
    args: *const c_ulong,
) -> bool {
    // SAFETY: the caller's guarantee.
    let (held, args) = unsafe {
        (
            held.cast::<[u64; HELD_WORDS]>().read(),
            args.cast::<[c_ulong; 6]>().read(),
        )
    };
    match held_call(op, &held).map(|call| call.twin_call(addr as u64)) {
        Ok(Some((twin_nr, twin))) => {
            u64::from(twin_nr) == nr as u64 && twin.regs == args.map(|a| a as u64)
        }
        _ => false,
    }
}

/// Runs a call held at entry, from the held words: first shown to seccomp decoded
/// ([`abi::Op::decoded_layout`]), then run. Returns what its twin would return: the value,
/// or `-errno` (a restart code included: the exit code restarts the typed call).
///
/// # Safety
///
/// `held` must be valid for reads of `FERROCALL_HELD_WORDS` `u64`s.
#[no_mangle]
pub unsafe extern "C" fn ferrocall_run_held(op: c_ulong, held: *const u64) -> c_long {
    // SAFETY: the caller's guarantee.
    let held = unsafe { held.cast::<[u64; HELD_WORDS]>().read() };
    let result = held_call(op, &held).and_then(|call| {
        filter_decoded(&call)?;
        match run(call).result() {
            Some(result) => result,
            None => Err(Errno::EINVAL),
        }
    });
    match result {
        Ok(value) => value as c_long,
        Err(errno) => errno.to_syscall_return() as c_long,
    }
}

/// Shows a call to the task's seccomp filters decoded, as `ferrocall(op, fields…)`, if its
/// operation has that presentation and the task has filters: `Err` with their answer when
/// they refuse it.
fn filter_decoded(call: &Call) -> Result<(), Errno> {
    let Some(decoded) = call.decoded_args() else {
        return Ok(());
    };
    // SAFETY: the check only reads the current task's syscall work flags (no signal check
    // for the first call).
    let next = unsafe { bindings::ferrocall_batch_next(0) };
    if next & bindings::FERROCALL_BATCH_FILTER as c_int == 0 {
        return Ok(());
    }
    seccomp_filter(abi::SYSCALL_NR, decoded.regs, Filtered::Lone).map_err(Halt::errno)
}

/// Runs the task's seccomp filters on system call `nr` with arguments `args`, as
/// `ferrocall_seccomp_filter()` presents it: `Err` with their answer when they refuse it, or
/// [`Halt::Alone`] when the call is in a batch that stops before a call whose verdict needs
/// it made alone.
fn seccomp_filter(nr: u32, args: [u64; 6], how: Filtered) -> Result<(), Halt> {
    let args = args.map(|a| a as c_ulong);
    let how = match how {
        Filtered::Lone => bindings::FERROCALL_FILTER_LONE,
        Filtered::Batch => bindings::FERROCALL_FILTER_BATCH,
        Filtered::Resumable => bindings::FERROCALL_FILTER_RESUMABLE,
    };
    // SAFETY: `args` holds the six registers the check reads. The check runs the task's
    // seccomp filters on these registers, putting the task's back afterwards; it may sleep,
    // signal or end the task (SECCOMP_RET_KILL), and the caller holds no value that needs
    // dropping on that path.
    let verdict =
        unsafe { bindings::ferrocall_seccomp_filter(nr as c_ulong, args.as_ptr(), how as c_int) };
    match verdict {
        0 => Ok(()),
        v if v < 0 => Err(Halt::Failed(errno_of(v))),
        v if v == bindings::FERROCALL_BATCH_ALONE as c_int => Err(Halt::Alone),
        _ => Err(Halt::Failed(Errno::EPERM)),
    }
}

/// Where a call the seccomp filters judge was made: alone (every verdict applies), in a
/// batch (a call whose verdict needs it made alone is refused), or in a batch that may stop
/// before such a call ([`ops::BATCH_RESUMABLE`]).
#[derive(Clone, Copy)]
enum Filtered {
    Lone,
    Batch,
    Resumable,
}

/// A call of a batch shown to audit and the syscall tracepoints, which see its end too.
struct Shown {
    nr: u32,
    args: [c_ulong; 6],
}

impl Shown {
    /// The call ended with `result`: its value or errno, a restart code included.
    fn exit(&self, result: &Result<Answer, Errno>) {
        let outcome = match result {
            Ok(answer) => answer.result().unwrap_or(Err(Errno::EINVAL)),
            Err(errno) => Err(*errno),
        };
        let ret = match outcome {
            Ok(value) => value as c_long,
            Err(errno) => errno.to_syscall_return() as c_long,
        };
        // SAFETY: `args` holds six registers, as for `ferrocall_batch_enter_call()`.
        unsafe { bindings::ferrocall_batch_exit_call(self.nr as c_ulong, self.args.as_ptr(), ret) };
    }
}

/// Why a call of a batch did not succeed.
enum Halt {
    /// It was refused, or it failed, with this errno.
    Failed(Errno),
    /// The batch stops before it, for the caller to make it alone
    /// ([`ops::BATCH_RESUMABLE`]): a signal is pending, or the seccomp filters' verdict on it
    /// acts on a lone call's registers or watchers.
    Alone,
}

impl Halt {
    /// The errno of a lone call, which never stops: `Alone` cannot happen there.
    fn errno(self) -> Errno {
        match self {
            Halt::Failed(errno) => errno,
            Halt::Alone => Errno::EPERM,
        }
    }
}

impl From<Errno> for Halt {
    fn from(errno: Errno) -> Halt {
        Halt::Failed(errno)
    }
}

/// Whether a batch whose request has `flags` may stop before a call
/// ([`ops::BATCH_RESUMABLE`]); `EINVAL` for an unknown flag.
fn stops(flags: u32) -> Result<bool, Errno> {
    if flags & !ops::BATCH_RESUMABLE != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(flags != 0)
}

/// The part of a request this ABI knows, as the kernel copies it in.
type Known = [u8; abi::ops::MAX_KNOWN_REQUEST_SIZE];

/// Storage that `ferrocall_copy_request()` writes a request into: aligned for its word
/// stores.
#[repr(C, align(8))]
struct Aligned<T>(T);

/// The one copy of the lone request `ferrocall(op, size, addr)`: its plan, its address, and
/// the part this ABI knows, in a zeroed buffer so that an older, shorter request reads as
/// zero-extended ([`copy_request`]).
#[inline(always)]
fn copy_in(op: u64, size: u64, addr: u64) -> Result<(abi::decode::Plan, usize, Known), Errno> {
    let plan = abi::plan(op, size, addr)?;
    let addr = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
    let mut bytes = Aligned::<Known>([0; abi::ops::MAX_KNOWN_REQUEST_SIZE]);
    copy_request(addr, &plan, &mut bytes)?;
    Ok((plan, addr, bytes.0))
}

/// The one copy of a lone request: its first `plan.copy_len` bytes into `bytes` (zeroed, so
/// that an older, shorter request reads as zero-extended), and a check that the part of a
/// newer, longer request this ABI does not know is zero. A request of whole words, as every
/// request of this ABI is, is read in one user-access window.
#[inline(always)]
fn copy_request(
    addr: usize,
    plan: &abi::decode::Plan,
    bytes: &mut Aligned<Known>,
) -> Result<(), Errno> {
    let head = bytes.0.get_mut(..plan.copy_len).ok_or(Errno::EINVAL)?;
    if plan.copy_len % 8 == 0 {
        // SAFETY: `head` is writable for its length, a multiple of 8, and starts an
        // `Aligned` buffer, as the helper's word stores need; `addr` is passed as a user
        // address, which the helper reads only through the checked user-access functions.
        let ret = unsafe {
            bindings::ferrocall_copy_request(
                head.as_mut_ptr().cast(),
                addr as *const core::ffi::c_void,
                head.len() as c_ulong,
            )
        };
        if ret != 0 {
            return Err(Errno::EFAULT);
        }
    } else {
        compat::user_slice(addr, plan.copy_len)
            .reader()
            .read_slice(head)
            .map_err(|_| Errno::EFAULT)?;
    }
    if plan.size > plan.copy_len {
        let tail = addr.checked_add(plan.copy_len).ok_or(Errno::EFAULT)?;
        check_unknown_bytes(compat::user_slice(tail, plan.size - plan.copy_len).reader())?;
    }
    Ok(())
}

/// Copies in, decodes and runs the request `ferrocall(op, size, addr)`, and gives its
/// answer: in its answer slot, or, for a lone call that asks, in its registers
/// ([`answer_lone`]). For a call of a [`batch`] (`caller`), unless the batch's [`Watch`]
/// clears it, the decoded call is checked as if made alone ([`batch_next`]) before it runs.
fn handle(op: u64, size: u64, addr: u64, caller: Caller<'_>) -> Result<(), Halt> {
    let (plan, addr, bytes) = copy_in(op, size, addr)?;
    let known = bytes.get(..plan.known).ok_or(Errno::EINVAL)?;
    // The common path: a request of the size this ABI knows that sets no flag, and, in a
    // batch, nothing for `batch_next` to do. It decodes and runs the call in one `match`
    // (the checks of `abi::decode`, see `abi::decode::fast_path`).
    // A lone request may be a batch; a call inside a batch may not.
    let fast = match caller {
        _ if plan.size != plan.known => None,
        Caller::Lone(_) => abi::decode::lone_fast_path(known),
        Caller::Batch(_, watch) if watch.clear_for(plan.op) => abi::decode::fast_path(known),
        Caller::Batch(..) => None,
    };
    let fast = fast
        .filter(|&(op, _, _)| op == plan.op)
        .map(|(op, args, _)| (op, args));
    let (answer, flags) = match fast {
        Some((op, args)) => (Call::decode_dispatch(op, args, &mut Kernel)?, 0),
        None => {
            // Only a lone call may ask for its answer in registers.
            let (call, flags) = match caller {
                Caller::Lone(_) => abi::decode::decode_lone(&plan, known)?,
                Caller::Batch(..) => (abi::decode(&plan, known)?, 0),
            };
            let shown = match caller {
                Caller::Batch(ran, watch) => batch_next(&call, &plan, addr as u64, ran, watch)?,
                Caller::Lone(_) => None,
            };
            let result = execute(call);
            if let Some(shown) = shown {
                shown.exit(&result);
            }
            (result?, flags)
        }
    };
    match caller {
        Caller::Lone(regs) => answer_lone(regs, addr, flags, answer),
        Caller::Batch(..) => answer_call(addr, answer),
    }
}

/// Writes the answer slot of the request at `addr` with `answer`: `Ok` for a success,
/// otherwise the call's errno.
#[inline(always)]
fn answer_in_place(addr: usize, answer: &Answer) -> Result<(), Halt> {
    write_answer(addr, answer)?;
    outcome(answer)
}

/// What the system call returns for a call that gave `answer` (in its slot or in the
/// registers): `Ok` for a success, otherwise the call's errno.
#[inline(always)]
fn outcome(answer: &Answer) -> Result<(), Halt> {
    match answer.result() {
        Some(Ok(_)) => Ok(()),
        Some(Err(errno)) => Err(errno.into()),
        None => Err(Errno::EINVAL.into()),
    }
}

/// [`answer_in_place`] for a call's answer as its handler gave it ([`finish`]: a restart
/// code has no answer to write). A success, the common case, is written without either's
/// mapping.
#[inline(always)]
fn answer_call(addr: usize, answer: Answer) -> Result<(), Halt> {
    if answer.errno == 0 && answer.state == Answer::DONE {
        return write_answer(addr, &answer).map_err(Halt::from);
    }
    answer_failed(addr, answer)
}

/// [`answer_call`] for an answer that is not a success.
#[cold]
#[inline(never)]
fn answer_failed(addr: usize, answer: Answer) -> Result<(), Halt> {
    answer_in_place(addr, &finish(answer)?)
}

/// Runs a decoded call. `Err` when there is no answer to write: the call ended with a
/// restart code (the signal code restarts it or makes it `EINTR`).
#[inline(always)]
fn execute(call: Call) -> Result<Answer, Errno> {
    finish(run(call))
}

/// A call's answer, or `Err` when it ended with a restart code (no answer to write).
#[inline(always)]
fn finish(answer: Answer) -> Result<Answer, Errno> {
    if answer.errno != 0 {
        if let Some(Err(errno)) = answer.result() {
            if is_restart(errno) {
                return Err(errno);
            }
        }
    }
    Ok(answer)
}

/// A request longer than this ABI knows is accepted only if the unknown part is zero, as
/// `copy_struct_from_user()` does. The reader holds exactly that part, at most
/// `MAX_REQUEST_SIZE` bytes; for a request of the size this ABI knows it is empty, and
/// that common case costs one test.
#[inline]
fn check_unknown_tail(reader: UserSliceReader) -> Result<(), Errno> {
    if reader.is_empty() {
        Ok(())
    } else {
        check_unknown_bytes(reader)
    }
}

/// [`check_unknown_tail`] for a non-empty tail: reads it in chunks and checks each.
#[cold]
fn check_unknown_bytes(mut reader: UserSliceReader) -> Result<(), Errno> {
    let mut chunk = [0u8; 64];
    while !reader.is_empty() {
        let len = reader.len().min(chunk.len());
        let part = chunk.get_mut(..len).ok_or(Errno::EINVAL)?;
        reader.read_slice(part).map_err(|_| Errno::EFAULT)?;
        abi::decode::check_unknown_tail(part)?;
    }
    Ok(())
}

/// Writes the answer slot, the only part of a request the kernel writes, in one user-access
/// window (a C helper): its two words. Inlined: it is on every lone call's path.
#[inline(always)]
fn write_answer(addr: usize, answer: &Answer) -> Result<(), Errno> {
    let slot = addr
        .checked_add(Request::<()>::ANSWER_OFFSET)
        .ok_or(Errno::EFAULT)?;
    let [value, status] = answer.to_words();
    // SAFETY: `slot` is passed as a user address, which the helper writes only through the
    // checked user-access functions; a bad address is `EFAULT`.
    let ret =
        unsafe { bindings::ferrocall_put_answer(slot as *mut core::ffi::c_void, value, status) };
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Runs a decoded call: the dispatch on the operation, generated from the ABI table, calls
/// [`Kernel`]'s method for it. Inlined into the paths that decode calls, while the large
/// operations stay out of line.
#[inline(always)]
fn run(call: Call) -> Answer {
    call.dispatch(&mut Kernel)
}

/// The kernel's side of the operation table: one method per operation, each running it as
/// its legacy twin does. A new operation in the table does not build until it has one.
struct Kernel;

impl abi::Handler for Kernel {
    type Answer = Answer;

    #[inline(always)]
    fn useless(&mut self, args: ops::UselessArgs) -> Answer {
        Answer::done(useless(args.value))
    }

    #[inline(always)]
    fn getpid(&mut self, _: ops::GetPidArgs) -> Answer {
        Answer::done(Ok(getpid()))
    }

    #[inline(always)]
    fn getppid(&mut self, _: ops::GetPpidArgs) -> Answer {
        Answer::done(Ok(getppid()))
    }

    #[inline(always)]
    fn write(&mut self, args: ops::WriteArgs) -> Answer {
        Answer::done(write(args.fd, args.buf))
    }

    #[inline(always)]
    fn read(&mut self, args: ops::ReadArgs) -> Answer {
        Answer::done(read(args.fd, args.buf))
    }

    #[inline(always)]
    fn exit(&mut self, args: ops::ExitArgs) -> Answer {
        exit(args.code)
    }

    #[inline(always)]
    fn getcwd(&mut self, args: ops::GetCwdArgs) -> Answer {
        getcwd(args.buf)
    }

    #[inline(always)]
    fn probe(&mut self, args: ops::ProbeArgs) -> Answer {
        probe(args.buf)
    }

    #[inline(always)]
    fn batch(&mut self, args: ops::BatchArgs) -> Answer {
        match stops(args.flags) {
            Ok(stops) => batch(args.entries, stops),
            Err(errno) => Answer::done(Err(errno)),
        }
    }

    #[inline(always)]
    fn packed_batch(&mut self, args: ops::PackedBatchArgs) -> Answer {
        match stops(args.flags) {
            Ok(stops) => packed_batch(args.requests, args.answers, stops),
            Err(errno) => Answer::done(Err(errno)),
        }
    }

    #[inline(always)]
    fn getuid(&mut self, _: ops::GetUidArgs) -> Answer {
        Answer::done(Ok(getuid()))
    }

    #[inline(always)]
    fn open(&mut self, args: ops::OpenArgs) -> Answer {
        Answer::done(open(args))
    }
}

/// The seed's demonstration: `value + 15`, or `EOVERFLOW` past `u32::MAX`.
fn useless(value: u32) -> Result<u64, Errno> {
    value.checked_add(15).map(u64::from).ok_or(Errno::EOVERFLOW)
}

/// Converts a C return value (`-errno` or a count) into a result.
fn from_c_ret(ret: isize) -> Result<u64, Errno> {
    if ret < 0 {
        Err(Errno::new(ret.unsigned_abs() as u64).unwrap_or(Errno::EINVAL))
    } else {
        Ok(ret as u64)
    }
}

/// `getpid()`: the thread group id in the caller's pid namespace.
fn getpid() -> u64 {
    // SAFETY: `get_current()` is the running task, alive for the whole call; a null
    // namespace means the caller's active one, as `task_tgid_vnr()` passes.
    let pid = unsafe {
        bindings::__task_pid_nr_ns(
            bindings::get_current(),
            bindings::pid_type_PIDTYPE_TGID,
            core::ptr::null_mut(),
        )
    };
    pid as u64
}

/// `getppid()`: the parent's thread group id in the caller's pid namespace.
fn getppid() -> u64 {
    // SAFETY: `get_current()` is the running task; `task_active_pid_ns()` of it is valid
    // while it runs, and `task_ppid_nr_ns()` reads `real_parent` under RCU itself.
    let pid = unsafe {
        let me = bindings::get_current();
        bindings::task_ppid_nr_ns(me, bindings::task_active_pid_ns(me))
    };
    pid as u64
}

/// `getuid()`: the real user id in the caller's user namespace.
fn getuid() -> u64 {
    // SAFETY: the helper only reads the current task's credentials, as `getuid()` does.
    u64::from(unsafe { bindings::ferrocall_getuid() })
}

/// `write(fd, buf)` through `ksys_write()`, the function the legacy `write` uses; it checks
/// and copies the user buffer itself.
fn write(fd: i32, buf: UserBuf) -> Result<u64, Errno> {
    let (addr, len) = buf.check()?;
    // SAFETY: `addr` is passed as a user pointer, which `ksys_write()` accesses only through
    // the checked user-copy functions; a bad address is `EFAULT`.
    let ret = unsafe { bindings::ksys_write(fd as c_uint, addr as *const c_char, len) };
    from_c_ret(ret)
}

/// `read(fd, buf)` through `ksys_read()`, the function the legacy `read` uses.
fn read(fd: i32, buf: UserBufMut) -> Result<u64, Errno> {
    let (addr, len) = buf.check()?;
    // SAFETY: as in `write`: `ksys_read()` treats `addr` as a user pointer.
    let ret = unsafe { bindings::ksys_read(fd as c_uint, addr as *mut c_char, len) };
    from_c_ret(ret)
}

/// `openat2(dirfd, path, &how)` from the decoded fields, through `do_openat2_how()`, the
/// function the legacy `openat2` runs once it has copied its `struct open_how` in: `how` is
/// built here, in the kernel's memory, and the path is read once by `getname()` there.
#[inline(never)]
fn open(args: ops::OpenArgs) -> Result<u64, Errno> {
    let mut how = bindings::open_how {
        flags: args.flags,
        mode: args.mode,
        resolve: args.resolve,
    };
    let path = usize::try_from(args.path.addr).map_err(|_| Errno::EFAULT)?;
    // SAFETY: `how` is a valid `open_how` in kernel memory for the call; `path` is passed as
    // a user pointer, which `getname()` reads only through the checked user-copy functions
    // (a bad address is `EFAULT`).
    let ret = unsafe { bindings::do_openat2_how(args.dirfd, path as *const c_char, &mut how) };
    from_c_ret(ret as isize)
}

/// `exit_group(code)`: ends every thread of the caller.
fn exit(code: i32) -> ! {
    // SAFETY: `do_group_exit()` may be called from system call context with any code.
    unsafe { bindings::do_group_exit((code & 0xff) << 8) }
}

/// `getcwd(buf)`: the current directory via `d_path()`, copied out with its NUL.
#[inline(never)]
fn getcwd(buf: UserBufMut) -> Answer {
    match getcwd_inner(buf) {
        Ok(len) => Answer::done(Ok(len)),
        Err((errno, needed)) => Answer::error_with(errno, needed),
    }
}

fn getcwd_inner(buf: UserBufMut) -> Result<u64, (Errno, u64)> {
    const PATH_MAX: usize = bindings::PATH_MAX as usize;
    let fail = |errno: Errno| (errno, 0);
    let (addr, len) = buf.check().map_err(fail)?;
    let mut page = KVec::from_elem(0u8, PATH_MAX, GFP_KERNEL).map_err(|_| fail(Errno::ENOMEM))?;
    let mut pwd = MaybeUninit::<bindings::path>::uninit();
    let mut root = MaybeUninit::<bindings::path>::uninit();
    // SAFETY: the helpers initialise `pwd` and `root` with the caller's working and root
    // directories and take references, which `path_put()` drops; `page` is a writable
    // buffer of `PATH_MAX` bytes.
    let (start, deleted, outside) = unsafe {
        bindings::ferrocall_get_current_pwd(pwd.as_mut_ptr());
        bindings::ferrocall_get_current_root(root.as_mut_ptr());
        let pwd = pwd.assume_init_ref();
        // As getcwd(): a deleted directory has no path; one outside the caller's root has
        // none the caller could use (getcwd marks it "(unreachable)"; this call refuses).
        let deleted = bindings::d_unlinked(pwd.dentry) != 0;
        let outside = !bindings::path_is_under(pwd, root.as_ptr());
        let p = bindings::d_path(pwd, page.as_mut_ptr().cast(), PATH_MAX as c_int);
        bindings::path_put(pwd);
        bindings::path_put(root.as_ptr());
        (p as usize, deleted, outside)
    };
    if deleted || outside {
        return Err(fail(Errno::ENOENT));
    }
    let base = page.as_ptr() as usize;
    // `d_path()` returns an error pointer, or the start of the path, which runs to the end
    // of the buffer, NUL included.
    let offset = start
        .checked_sub(base)
        .filter(|&o| o < PATH_MAX)
        .ok_or(fail(Errno::ENAMETOOLONG))?;
    let path = page.get(offset..).ok_or(fail(Errno::ENAMETOOLONG))?;
    let needed = path.len() as u64;
    if path.len() > len {
        return Err((Errno::ERANGE, needed));
    }
    compat::user_slice(addr, path.len())
        .writer()
        .write_slice(path)
        .map_err(|_| fail(Errno::EFAULT))?;
    Ok(needed)
}

/// `Batch(entries)`: each entry is the register set of one typed call, filtered by seccomp
/// and run by [`handle`] exactly as a lone call. Answers the number of calls when all
/// succeed; otherwise stops at the first failure and answers its errno, with the number of
/// calls that succeeded before it as the value.
#[inline(never)]
fn batch(entries: UserBuf, stops: bool) -> Answer {
    if batch_observed() {
        return Answer::error_with(Errno::EOPNOTSUPP, abi::ops::BATCH_REFUSED);
    }
    let watch = Watch::current(stops);
    let answer = batch_calls(entries, &watch);
    watch.end();
    answer
}

/// The calls of [`batch`], under `watch`.
fn batch_calls(entries: UserBuf, watch: &Watch) -> Answer {
    use abi::ops::{BatchEntry, MAX_BATCH};
    let stops = watch.stops;
    let (addr, len) = match entries.check() {
        Ok(b) => b,
        Err(errno) => return Answer::done(Err(errno)),
    };
    if len % BatchEntry::SIZE != 0 {
        return Answer::done(Err(Errno::EINVAL));
    }
    if len / BatchEntry::SIZE > MAX_BATCH {
        return Answer::done(Err(Errno::E2BIG));
    }
    let mut reader = compat::user_slice(addr, len).reader();
    // The entries are copied in chunks, each entry exactly once.
    let mut chunk = [0u8; 16 * BatchEntry::SIZE];
    let mut done = 0u64;
    while !reader.is_empty() {
        let n = reader.len().min(chunk.len());
        let Some(part) = chunk.get_mut(..n) else {
            break;
        };
        if reader.read_slice(part).is_err() {
            return Answer::done(Err(Errno::EFAULT));
        }
        for raw in part.chunks_exact(BatchEntry::SIZE) {
            let Ok(entry) = BatchEntry::decode(raw) else {
                return Answer::error_with(Errno::EINVAL, done);
            };
            let (op, size, at) = (u64::from(entry.op), u64::from(entry.size), entry.addr);
            // The failed call's own slot holds the error if the call ran; either way the
            // batch's answer names it and how many calls succeeded before it.
            let ran = match batch_call(op, size, at, watch) {
                Some(ran) => ran,
                None if abi::Op::from_raw(op).is_some_and(abi::Op::is_batch) => {
                    return Answer::error_with(Errno::EINVAL, done);
                }
                None => handle(op, size, at, Caller::Batch(done, watch)),
            };
            if let Err(halt) = ran {
                return batch_halted(halt, done, stops);
            }
            // At most `MAX_BATCH` entries (checked above): no overflow.
            done = done.wrapping_add(1);
        }
    }
    Answer::done(Ok(done))
}

/// The common path of a call of a [`batch`]: a request of a known operation other than a
/// batch, of exactly the size this ABI knows for it, aligned, whose header is the one the
/// entry names with no flag set, and that the [`Watch`] clears. It is copied whole in one
/// user-access window, and its operation's checks ([`abi::Call::dispatch_call_raw`], the packed
/// batches' own) checks the header, decodes the arguments and runs them from the copy; the
/// answer is written as [`handle`] writes it. `None` when the call does not take this path:
/// nothing ran, and [`handle`] gives the call its answer (the same, by the full checks:
/// a host test checks that the loop runs only what `abi::decode` accepts).
#[inline(always)]
fn batch_call(op: u64, size: u64, addr: u64, watch: &Watch) -> Option<Result<(), Halt>> {
    const ALIGN: u64 = abi::REQUEST_ALIGN;
    // 0 for a batch operation and an unknown number; every size this ABI knows is a
    // multiple of 8, as the copy helper needs.
    let known = abi::Op::batch_call_size(op);
    if known == 0 || size != known as u64 || addr % ALIGN != 0 {
        return None;
    }
    let size = known;
    let at = usize::try_from(addr).ok()?;
    let mut copy = Aligned([MaybeUninit::<u8>::uninit(); abi::ops::MAX_KNOWN_REQUEST_SIZE]);
    let part = copy.0.get_mut(..size)?;
    // SAFETY: `part` is writable for its length, a multiple of 8, and starts an `Aligned`
    // buffer, as the helper's word stores need; `at` is passed as a user address, which the
    // helper reads only through the checked user-access functions.
    let ret = unsafe {
        bindings::ferrocall_copy_request(
            part.as_mut_ptr().cast(),
            at as *const core::ffi::c_void,
            part.len() as c_ulong,
        )
    };
    // A fault: the full path meets it again and answers it.
    if ret != 0 {
        return None;
    }
    // SAFETY: the helper returned 0, so it wrote every byte of `part`; `MaybeUninit<u8>` has
    // the layout of `u8`.
    let bytes = unsafe { core::slice::from_raw_parts(part.as_ptr().cast::<u8>(), part.len()) };
    let mut call = BatchCall {
        watch,
        answer: None,
    };
    abi::Call::dispatch_call_raw(op, bytes, &mut Kernel, &mut call);
    Some(answer_call(at, call.answer?))
}

/// The one call of [`batch_call`], on its operation's loop (over its request only, and
/// ended by its answer): cleared by the [`Watch`] before it runs; its answer kept for
/// [`batch_call`].
struct BatchCall<'a> {
    watch: &'a Watch,
    answer: Option<Answer>,
}

impl abi::decode::Run<Answer> for BatchCall<'_> {
    #[inline(always)]
    fn ready(&mut self, op: abi::Op) -> bool {
        self.watch.clear_for(op)
    }

    #[inline(always)]
    fn answered(&mut self, answer: Answer) -> bool {
        self.answer = Some(answer);
        false
    }
}

/// Whether a ptrace tracer watches this task's system calls: it stops the task at each
/// call's entry and exit, where it may change the registers, so it must see each call
/// alone; batches are refused and the caller makes the calls one by one. (Audit and the
/// syscall tracepoints are shown each call of a batch: [`Watch::enter`].)
fn batch_observed() -> bool {
    // SAFETY: the check only reads the current task's syscall work flags.
    unsafe { bindings::ferrocall_batch_observed() }
}

/// The current task's flag words that a batch tests before each call
/// (`ferrocall_batch_watch()`): while none of their watched bits is set (no pending signal,
/// no reschedule, no seccomp filter), [`batch_next`] would let the call run, and the call
/// runs without it, for two loads and a test ([`Watch::clear_for`]).
/// It also says whether the batch may stop before a call ([`ops::BATCH_RESUMABLE`]), and
/// counts the calls shown to audit and the syscall tracepoints.
struct Watch {
    words: bindings::ferrocall_watch,
    stops: bool,
    shown: core::cell::Cell<u64>,
    /// The action cache's verdicts asked in this batch: the filter they were asked of, and
    /// a bit per operation it allows whatever the arguments (see [`Watch::cache_allows`]).
    allowed: core::cell::Cell<(*const core::ffi::c_void, u64)>,
}

impl Watch {
    fn current(stops: bool) -> Watch {
        let mut watch = MaybeUninit::<bindings::ferrocall_watch>::uninit();
        // SAFETY: the helper writes every field of the struct it is given.
        let words = unsafe {
            bindings::ferrocall_batch_watch(watch.as_mut_ptr());
            watch.assume_init()
        };
        Watch {
            words,
            stops,
            shown: core::cell::Cell::new(0),
            allowed: core::cell::Cell::new((core::ptr::null(), 0)),
        }
    }

    /// The batch's calls are over: audit gets the batch's own record back, which its first
    /// shown call ended (`ferrocall_batch_end()`).
    fn end(&self) {
        // SAFETY: the helper only opens the current task's audit record of this system call.
        unsafe { bindings::ferrocall_batch_end(self.shown.get() as c_ulong) };
    }

    /// Shows the call `nr(args)` of the batch to audit and the syscall tracepoints, as the
    /// entry work shows a lone call; returns what [`Shown::exit`] needs afterwards.
    fn enter(&self, nr: u32, args: [u64; 6]) -> Shown {
        let args = args.map(|a| a as c_ulong);
        // SAFETY: `args` holds six registers; the helper puts them in the task's registers
        // for the tracepoint, and puts the task's back.
        unsafe {
            bindings::ferrocall_batch_enter_call(
                nr as c_ulong,
                args.as_ptr(),
                self.shown.get() as c_ulong,
            )
        };
        self.shown.set(self.shown.get().wrapping_add(1));
        Shown { nr, args }
    }

    /// Whether the next call, of operation `op`, may skip [`batch_next`]: no signal or
    /// reschedule pending, and either no seccomp filter or one whose action cache allows
    /// `op`'s legacy twin whatever its arguments (the test the filters' own run makes first).
    /// Read afresh before every call, so that a signal, or a filter another thread installs
    /// mid-batch, is seen by the next one.
    #[inline(always)]
    fn clear_for(&self, op: abi::Op) -> bool {
        match self.watched() {
            Watched::Nothing => true,
            Watched::Seccomp => self.cache_allows(op, self.newest_filter()),
            Watched::Else => false,
        }
    }

    /// [`Watch::clear_for`] for the calls of a run of one operation (`op`, the same on every
    /// call of the run): `cleared` is the filter the action cache was found to allow `op`
    /// for in this run ([`NO_FILTER_CLEARED`] before), so that a call under that filter costs
    /// one load and one compare more than a call without filters. A filter another thread
    /// installs mid-run is a new pointer, and that call asks again.
    #[inline(always)]
    fn clear_in_run(&self, op: abi::Op, cleared: &mut *const core::ffi::c_void) -> bool {
        match self.watched() {
            Watched::Nothing => true,
            Watched::Seccomp => {
                let filter = self.newest_filter();
                if filter == *cleared {
                    return true;
                }
                // The run's state stays out of the call (it may stay in registers).
                match self.clear_in_run_slow(op, filter) {
                    Some(now) => {
                        *cleared = now;
                        true
                    }
                    None => false,
                }
            }
            Watched::Else => false,
        }
    }

    /// [`Watch::clear_in_run`] for a call whose filter the run has not cleared yet: the
    /// filter to record as cleared if the cache allows `op`, or `None`.
    #[inline(never)]
    fn clear_in_run_slow(
        &self,
        op: abi::Op,
        filter: *const core::ffi::c_void,
    ) -> Option<*const core::ffi::c_void> {
        if !self.cache_allows(op, filter) {
            return None;
        }
        // Seccomp work without a filter (strict mode) is never cleared by the cache, but
        // a null pointer is not recorded all the same.
        Some(if filter.is_null() {
            NO_FILTER_CLEARED
        } else {
            filter
        })
    }

    /// What the task's flag words say of the next call, read afresh: a signal or reschedule
    /// pending, audit or the tracepoints to show it to ([`Watched::Else`]); seccomp filters
    /// alone ([`Watched::Seccomp`]); or nothing.
    #[inline(always)]
    fn watched(&self) -> Watched {
        let w = &self.words;
        // SAFETY: both pointers are to the running task's `thread_info`, which lives as long
        // as the task, so for the whole of its system call; the words are aligned
        // `unsigned long`s that other CPUs only change atomically, and a volatile read is the
        // kernel's `READ_ONCE()`.
        let (flags, work) = unsafe {
            (
                core::ptr::read_volatile(w.flags),
                core::ptr::read_volatile(w.work),
            )
        };
        if flags & bindings::FERROCALL_WATCH_FLAGS as c_ulong != 0 {
            return Watched::Else;
        }
        match work & w.work_mask {
            0 => Watched::Nothing,
            // Only seccomp: its action cache may answer for the filters.
            seccomp if seccomp & !(bindings::FERROCALL_WATCH_SECCOMP as c_ulong) == 0 => {
                Watched::Seccomp
            }
            // Audit or the tracepoints must be shown the call.
            _ => Watched::Else,
        }
    }

    /// The task's newest seccomp filter, read afresh (null without filters).
    #[inline(always)]
    fn newest_filter(&self) -> *const core::ffi::c_void {
        // SAFETY: `filter` points to the running task's newest-filter pointer (or, in a
        // kernel without seccomp filters, to a static null pointer), which lives as long as
        // the task; it is an aligned word that other threads change only by a single store
        // (`smp_store_release()`), and a volatile read is `READ_ONCE()`.
        unsafe { core::ptr::read_volatile(self.words.filter) }
    }

    /// [`cache_allows`], asked once per operation and filter in a batch: the cache is the
    /// newest filter's (`filter`, just read), fixed when it was attached, so its verdict
    /// holds while the task's newest filter is the same one. A filter another thread
    /// installs mid-batch (TSYNC) is a new pointer, and the next call asks again. (A filter
    /// is freed only with the task, so a pointer is never another filter's.)
    #[inline(always)]
    fn cache_allows(&self, op: abi::Op, filter: *const core::ffi::c_void) -> bool {
        let bit = 1u64 << (op.raw() % 64);
        let (asked_of, allowed) = self.allowed.get();
        if filter == asked_of && allowed & bit != 0 {
            return true;
        }
        if !cache_allows(op) {
            return false;
        }
        let known = if filter == asked_of { allowed } else { 0 };
        self.allowed.set((filter, known | bit));
        true
    }
}

/// What a batch's [`Watch`] says of its next call.
enum Watched {
    /// Nothing to do before it runs.
    Nothing,
    /// Seccomp filters, and nothing else: the action cache may clear the call.
    Seccomp,
    /// A signal or reschedule pending, audit or the tracepoints: the full path.
    Else,
}

/// Whether the task's seccomp filters allow `op`'s calls without running: an operation
/// presented to them only as its legacy twin, whose number their action cache allows on the
/// native architecture whatever the arguments. Never an operation without a twin (its
/// number, `__NR_ferrocall`, is past the cache) or one also shown decoded.
fn cache_allows(op: abi::Op) -> bool {
    match op.twin() {
        Some(twin) if !op.has_decoded_presentation() => {
            // SAFETY: the function only reads the current task's filter, under the same
            // rules as the filters' own run.
            unsafe { bindings::ferrocall_seccomp_cache_allows(twin.nr as c_int) }
        }
        _ => false,
    }
}

/// Whether the call `call` of a batch (request `plan` at `at`) may run after `ran` others:
/// `Err` with `EINTR` for a pending signal, or with the task's seccomp filters' answer. The
/// filters see the call as a lone call is presented: as its legacy twin with the values it
/// will run, or as `ferrocall(op, size, request)` for an operation without a twin. Without
/// filters (the common case) both checks are one call and two flag tests.
fn batch_next(
    call: &Call,
    plan: &abi::decode::Plan,
    at: u64,
    ran: u64,
    watch: &Watch,
) -> Result<Option<Shown>, Halt> {
    // SAFETY: the check yields the CPU if it should, and reads the current task's pending
    // signals and syscall work flags.
    let next = unsafe { bindings::ferrocall_batch_next(ran as c_ulong) };
    if next == bindings::FERROCALL_BATCH_ALONE as c_int {
        return Err(if watch.stops {
            Halt::Alone
        } else {
            Errno::EINTR.into()
        });
    }
    if next == 0 {
        return Ok(None);
    }
    let (nr, args) = call.twin_call(at).map_or(
        (
            abi::SYSCALL_NR,
            [plan.op.raw().into(), plan.size as u64, at, 0, 0, 0],
        ),
        |(nr, args)| (nr, args.regs),
    );
    if next & bindings::FERROCALL_BATCH_FILTER as c_int != 0 {
        let how = if watch.stops {
            Filtered::Resumable
        } else {
            Filtered::Batch
        };
        seccomp_filter(nr, args, how)?;
        // An operation run from the copy is also shown decoded, as when made alone.
        if let Some(decoded) = call.decoded_args() {
            seccomp_filter(abi::SYSCALL_NR, decoded.regs, how)?;
        }
    }
    if next & bindings::FERROCALL_BATCH_WATCHED as c_int != 0 {
        return Ok(Some(watch.enter(nr, args)));
    }
    Ok(None)
}

/// The errno of a C function's negative return, `EPERM` if it is none.
fn errno_of(ret: c_int) -> Errno {
    Errno::new(u64::from(ret.unsigned_abs())).unwrap_or(Errno::EPERM)
}

/// The answer of a batch that ended at call `done` (counted from 0) for `halt`. A batch that
/// `stops` answers `Ok(done)`, below its number of calls, when call `done` must be made
/// alone, and when it was interrupted to run a signal handler after other calls completed:
/// the caller makes it again, as a restart would. Otherwise a restart code restarts the
/// whole batch, which is right only while no call has completed; after that, the
/// interrupted call ends the batch with `EINTR`.
fn batch_halted(halt: Halt, done: u64, stops: bool) -> Answer {
    match halt {
        Halt::Alone => Answer::done(Ok(done)),
        Halt::Failed(errno) if done > 0 && is_restart(errno) => {
            if stops {
                Answer::done(Ok(done))
            } else {
                Answer::error_with(Errno::EINTR, done)
            }
        }
        Halt::Failed(errno) => Answer::error_with(errno, done),
    }
}

/// The requests of a packed batch, read from user memory one chunk at a time: each byte
/// the handler uses comes from one copy.
struct Chunks {
    /// The user address and length of the requests.
    base: usize,
    len: usize,
    /// The chunk holds bytes `start..start + filled` of the requests, in its first `filled`
    /// bytes; the rest of it is uninitialised (nothing to clear on every batch).
    start: usize,
    filled: usize,
    chunk: [MaybeUninit<u8>; abi::ops::PACKED_CHUNK],
}

impl Chunks {
    fn new(base: usize, len: usize) -> Self {
        Chunks {
            base,
            len,
            start: 0,
            filled: 0,
            chunk: [MaybeUninit::uninit(); abi::ops::PACKED_CHUNK],
        }
    }

    /// Reads the next chunk, starting at `offset`, `left` bytes before the end.
    fn refill(&mut self, offset: usize, left: usize) -> Result<(), Errno> {
        let n = left.min(self.chunk.len());
        let at = self.base.checked_add(offset).ok_or(Errno::EFAULT)?;
        let part = self.chunk.get_mut(..n).ok_or(Errno::EINVAL)?;
        // A failed read may leave the chunk partly written: it holds nothing until it succeeds.
        self.filled = 0;
        // The generic copy: for a chunk of many words it is cheaper than a loop of
        // single-word user accesses (the profile).
        copy_from_user(part, at)?;
        self.start = offset;
        self.filled = n;
        Ok(())
    }

    /// The requests' bytes in the chunk from `offset` on; first reads the next chunk, from
    /// `offset`, when fewer than the largest request this ABI knows are left in this one and
    /// the requests go on. `EINVAL` if none are left.
    fn ahead(&mut self, offset: usize) -> Result<&[u8], Errno> {
        const MAX_KNOWN: usize = abi::ops::MAX_KNOWN_REQUEST_SIZE;
        let left = self
            .len
            .checked_sub(offset)
            .filter(|&n| n > 0)
            .ok_or(Errno::EINVAL)?;
        let have = offset
            .checked_sub(self.start)
            .and_then(|from| self.filled.checked_sub(from))
            .unwrap_or(0);
        if have < left.min(MAX_KNOWN) {
            self.refill(offset, left)?;
        }
        let from = offset.checked_sub(self.start).ok_or(Errno::EINVAL)?;
        self.initialised().get(from..).ok_or(Errno::EINVAL)
    }

    /// The bytes the last read put in the chunk.
    #[inline(always)]
    fn initialised(&self) -> &[u8] {
        let init = self.chunk.get(..self.filled).unwrap_or(&[]);
        // SAFETY: `refill` sets `filled` only after `read_raw` has initialised that many bytes
        // from the start of the chunk, and `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { core::slice::from_raw_parts(init.as_ptr().cast::<u8>(), init.len()) }
    }
}

/// Copies `dst.len()` bytes from the user address `addr` into `dst`: the kernel's
/// `copy_from_user()`, which checks that the range is user memory and answers a fault with
/// the bytes it could not copy; `EFAULT` if any. `dst` may be partly written then. (What
/// `UserSliceReader::read_raw` calls, without a reader to make and keep up to date: a
/// packed batch copies its requests a chunk at a time.)
#[inline(always)]
fn copy_from_user(dst: &mut [MaybeUninit<u8>], addr: usize) -> Result<(), Errno> {
    // SAFETY: `dst` is writable for its length, and nothing else refers to it for the call;
    // `copy_from_user()` reads only the user range `addr..addr + len`, which it checks, and
    // a fault there is an error return, never an oops.
    let left = unsafe {
        bindings::copy_from_user(
            dst.as_mut_ptr().cast(),
            addr as *const core::ffi::c_void,
            dst.len() as c_ulong,
        )
    };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copies `src` to the user address `addr`: the kernel's `copy_to_user()`, which checks
/// that the range is user memory; `EFAULT` if any byte could not be written.
#[inline(always)]
fn copy_to_user(addr: usize, src: &[u8]) -> Result<(), Errno> {
    // SAFETY: `src` is readable for its length; `copy_to_user()` writes only the user range
    // `addr..addr + len`, which it checks, and a fault there is an error return.
    let left = unsafe {
        bindings::copy_to_user(
            addr as *mut core::ffi::c_void,
            src.as_ptr().cast(),
            src.len() as c_ulong,
        )
    };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// The answers of a packed batch, written to user memory a group at a time.
struct Answers {
    /// Where the next group goes.
    at: usize,
    /// How many answers the group holds: its first `n` entries, written by `push`.
    n: usize,
    /// Not cleared when a batch starts (a memset of its size cost more than a short batch's
    /// calls): only the entries `push` wrote are ever read. Each is an answer slot's two
    /// words ([`Answer::to_words`]): two stores a call, where its bytes took one a byte.
    group: [MaybeUninit<[u64; 2]>; abi::ops::PACKED_ANSWERS],
}

/// The size of one answer.
const ANSWER_SIZE: usize = Request::<()>::ANSWER_SIZE;

const _: () = assert!(core::mem::size_of::<[u64; 2]>() == ANSWER_SIZE);

impl Answers {
    #[inline(always)]
    fn push(&mut self, answer: &Answer) -> Result<(), Errno> {
        // Below `PACKED_ANSWERS` (a full group is flushed below), so the index is `n`; the
        // remainder spares the bounds check its branch.
        let n = self.n % abi::ops::PACKED_ANSWERS;
        self.group
            .get_mut(n)
            .ok_or(Errno::EINVAL)?
            .write(answer.to_words());
        // The entry is in the group, so `n` is below `PACKED_ANSWERS`: `n + 1` does not
        // overflow.
        self.n = n.wrapping_add(1);
        if self.n == abi::ops::PACKED_ANSWERS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the group's answers after those already written.
    fn flush(&mut self) -> Result<(), Errno> {
        let written = self.group.get(..self.n).ok_or(Errno::EINVAL)?;
        // SAFETY: `push` wrote each of the first `n` entries (`n` only grows there, by one
        // after a write, and is reset to 0 here), so `written` is initialised; an entry
        // (`MaybeUninit<[u64; 2]>`) has the size and layout of `[u64; 2]`, with no padding,
        // so the entries are `written.len() * ANSWER_SIZE` initialised bytes, each answer in
        // the byte order of an answer slot (the words are little-endian on x86_64).
        let bytes = unsafe {
            core::slice::from_raw_parts(written.as_ptr().cast::<u8>(), written.len() * ANSWER_SIZE)
        };
        copy_to_user(self.at, bytes)?;
        self.at = self.at.checked_add(bytes.len()).ok_or(Errno::EFAULT)?;
        self.n = 0;
        Ok(())
    }
}

/// `PackedBatch(requests, answers)`: the calls laid out back to back in `requests`, one
/// answer each in `answers`, with [`batch`]'s checks and failure policy.
#[inline(never)]
fn packed_batch(requests: UserBuf, answers: UserBufMut, stops: bool) -> Answer {
    if batch_observed() {
        return Answer::error_with(Errno::EOPNOTSUPP, abi::ops::BATCH_REFUSED);
    }
    let watch = Watch::current(stops);
    let answer = packed_calls(requests, answers, &watch);
    watch.end();
    answer
}

/// The calls of [`packed_batch`], under `watch`.
fn packed_calls(requests: UserBuf, answers: UserBufMut, watch: &Watch) -> Answer {
    let stops = watch.stops;
    let ((base, len), (at, answers_len)) = match (requests.check(), answers.check()) {
        (Ok(r), Ok(a)) => (r, a),
        (Err(errno), _) | (_, Err(errno)) => return Answer::done(Err(errno)),
    };
    if answers_len % ANSWER_SIZE != 0 {
        return Answer::done(Err(Errno::EINVAL));
    }
    let count = answers_len / ANSWER_SIZE;
    if count > abi::ops::MAX_BATCH {
        return Answer::done(Err(Errno::E2BIG));
    }
    let mut chunks = Chunks::new(base, len);
    let mut out = Answers {
        at,
        n: 0,
        group: [MaybeUninit::uninit(); abi::ops::PACKED_ANSWERS],
    };
    // Requests of the sizes this ABI knows, all multiples of the alignment, follow an
    // aligned first one aligned: the common path checks the alignment once.
    let aligned = base % abi::REQUEST_ALIGN as usize == 0;
    let mut offset = 0;
    let mut done = 0usize;
    let mut failure: Option<Halt> = None;
    while done < count {
        // The common path, for as many calls as it takes: a run of requests of one
        // operation, each of the size this ABI knows for it, and nothing (a signal, a
        // reschedule, a filter to run) for `batch_next` to do. Each call is decoded and run
        // in one `match`, with the checks of `packed_call`; the run reads the next chunk
        // itself when its requests go on past this one.
        let op = match chunks.ahead(offset) {
            Ok(bytes) => abi::decode::fast_path(bytes).map(|(op, _, _)| op),
            Err(errno) => {
                failure = Some(errno.into());
                break;
            }
        };
        // `Exit` takes the full path, which writes the answers of the calls before it.
        if let Some(op) = op.filter(|&op| aligned && op != abi::Op::Exit) {
            // The calls of `op` from here on, while their requests have its header: no
            // more than the batch has left.
            let mut requests = RunRequests {
                start: offset,
                limit: (count - done).saturating_mul(op.request_size()),
                chunks: &mut chunks,
            };
            let mut run = PackedRun {
                watch,
                out: &mut out,
                ended: None,
                cleared: NO_FILTER_CLEARED,
            };
            let used = abi::Call::dispatch_run_in(op, &mut requests, &mut Kernel, &mut run);
            // The requests run lie within the batch's: `offset + used` is at most `len`.
            offset = offset.wrapping_add(used);
            // The calls the run took, each of `op`'s size, no more than the batch has left;
            // the last of them did not complete if the run ended on its answer.
            let took = used / op.request_size();
            done = done.wrapping_add(took);
            if run.ended.is_some() {
                done = done.wrapping_sub(1);
            }
            match run.ended {
                None if used > 0 => continue,
                None => {}
                Some(RunEnd::Lost(errno)) => return answers_lost(errno, done),
                // A call that failed or was interrupted: the batch ends here.
                Some(RunEnd::Answered(answer)) => {
                    match finish(answer) {
                        Ok(failed) => {
                            if let Err(errno) = out.push(&failed) {
                                return answers_lost(errno, done);
                            }
                            failure = Some(answered_error(&failed));
                        }
                        Err(errno) => failure = Some(errno.into()),
                    }
                    break;
                }
            }
        }
        // Any other call: the full path, for this one call.
        match packed_call(&mut chunks, &mut out, watch, offset, done as u64) {
            Ok((answer, size)) => {
                if let Err(errno) = out.push(&answer) {
                    return answers_lost(errno, done);
                }
                // The handler's own answer: done, and its errno is 0 or a valid one.
                if answer.errno != 0 {
                    failure = Some(answered_error(&answer));
                    break;
                }
                done += 1;
                offset += size;
            }
            // No answer: the request was refused before it ran, or it was interrupted, or the
            // batch stops before it.
            Err(halt) => {
                failure = Some(halt);
                break;
            }
        }
    }
    let done = done as u64;
    if out.flush().is_err() {
        return Answer::error_with(Errno::EFAULT, done);
    }
    match failure {
        None => Answer::done(Ok(done)),
        Some(halt) => batch_halted(halt, done, stops),
    }
}

/// The requests of a run of a packed batch ([`abi::decode::Requests`]): the chunk's, from
/// the run's next request on, no further than the calls the batch has left; the next chunk
/// is read when the run's requests go on past this one.
struct RunRequests<'a> {
    /// The run's first request, as an offset into the batch's requests.
    start: usize,
    /// The bytes of the calls the batch has left, from `start`.
    limit: usize,
    chunks: &'a mut Chunks,
}

impl abi::decode::Requests for RunRequests<'_> {
    #[inline(always)]
    fn window(&mut self, used: usize, _size: usize) -> &[u8] {
        let Some(limit) = self.limit.checked_sub(used) else {
            return &[];
        };
        // `used` is what the run took from its windows, within the batch's requests.
        let offset = self.start.wrapping_add(used);
        // A chunk that cannot be read ends the run; the full path meets the fault again.
        match self.chunks.ahead(offset) {
            Ok(bytes) => bytes.get(..limit).unwrap_or(bytes),
            Err(_) => &[],
        }
    }
}

/// A run of calls of one operation on a packed batch's common path
/// ([`abi::Call::dispatch_run_in`]): each call is cleared by the [`Watch`] before it runs, and
/// each answer goes to the group, until the batch's count, a call that answers an error, or
/// an answer that cannot be written.
struct PackedRun<'a> {
    watch: &'a Watch,
    out: &'a mut Answers,
    /// Why the run ended on the answer of its last call, which then did not complete. (The
    /// calls it took are the bytes it ran: no count in the loop.)
    ended: Option<RunEnd>,
    /// The seccomp filter this run's operation was cleared for ([`Watch::clear_in_run`]),
    /// or [`NO_FILTER_CLEARED`].
    cleared: *const core::ffi::c_void,
}

/// What a run's `cleared` filter is before a filter clears its operation: neither null nor
/// the address of a filter (it is not aligned for one).
const NO_FILTER_CLEARED: *const core::ffi::c_void =
    core::ptr::NonNull::<core::ffi::c_void>::dangling().as_ptr();

/// Why a [`PackedRun`] ended before the requests it could run did.
enum RunEnd {
    /// A call answered an error (or a restart), not yet in the group.
    Answered(Answer),
    /// The group could not be written, after call `done` ran.
    Lost(Errno),
}

impl abi::decode::Run<Answer> for PackedRun<'_> {
    #[inline(always)]
    fn ready(&mut self, op: abi::Op) -> bool {
        self.watch.clear_in_run(op, &mut self.cleared)
    }

    #[inline(always)]
    fn answered(&mut self, answer: Answer) -> bool {
        if answer.errno != 0 {
            self.ended = Some(RunEnd::Answered(answer));
            return false;
        }
        if let Err(errno) = self.out.push(&answer) {
            self.ended = Some(RunEnd::Lost(errno));
            return false;
        }
        true
    }
}

/// The failure of a call that answered an error: the handler's own answer, whose errno is
/// a valid one.
fn answered_error(answer: &Answer) -> Halt {
    Halt::Failed(Errno::new(answer.errno.into()).unwrap_or(Errno::EINVAL))
}

/// A packed batch whose answers could not be written after call `done` (counted from 0)
/// ran: `EFAULT` (or the group's error) with the number of calls that ran, that one
/// included, so that a caller never runs them again.
#[cold]
fn answers_lost(errno: Errno, done: usize) -> Answer {
    Answer::error_with(errno, done.wrapping_add(1) as u64)
}

/// Checks and runs the request at `offset` of a packed batch, after `ran` calls; returns
/// its answer and size. An `Exit` first writes the answers `out` holds: the calls before it
/// ran, and the process that ends may share its memory with others that read them.
///
/// No frame on this path, nor on any path to [`exit`], holds a value with `Drop`:
/// `do_group_exit()` does not return, and nothing would run it.
///
/// Out of line: the full path's frame (the decoded call, a zero-extended copy) is not the
/// common path's.
#[inline(never)]
fn packed_call(
    chunks: &mut Chunks,
    out: &mut Answers,
    watch: &Watch,
    offset: usize,
    ran: u64,
) -> Result<(Answer, usize), Halt> {
    let at = chunks.base.checked_add(offset).ok_or(Errno::EFAULT)?;
    let left = chunks.len.checked_sub(offset).ok_or(Errno::EINVAL)?;
    // The header and the known part come from one copy (the largest known request fits).
    let head = chunks.ahead(offset)?;
    let plan = abi::decode::packed_plan(head, at as u64, left)?;
    // A newer, longer request's unknown part is only checked, never used: it is read apart
    // from the chunk.
    let tail = at.checked_add(plan.copy_len).ok_or(Errno::EFAULT)?;
    check_unknown_tail(compat::user_slice(tail, plan.size - plan.copy_len).reader())?;
    let call = if plan.copy_len == plan.known {
        abi::decode(&plan, head.get(..plan.known).ok_or(Errno::EINVAL)?)?
    } else {
        // An older, shorter request: zero-extend it to the size this ABI knows.
        let mut bytes: Known = [0; abi::ops::MAX_KNOWN_REQUEST_SIZE];
        let part = bytes.get_mut(..plan.copy_len).ok_or(Errno::EINVAL)?;
        part.copy_from_slice(head.get(..plan.copy_len).ok_or(Errno::EINVAL)?);
        abi::decode(&plan, bytes.get(..plan.known).ok_or(Errno::EINVAL)?)?
    };
    // The decoded call, in the kernel's memory, is what the filters judge and what runs.
    let shown = batch_next(&call, &plan, at as u64, ran, watch)?;
    if let Call::Exit(_) = call {
        out.flush()?;
    }
    let result = execute(call);
    if let Some(shown) = shown {
        shown.exit(&result);
    }
    Ok((result?, plan.size))
}

/// `Probe(buf)`: the ABI version and every operation with its request size.
#[inline(never)]
fn probe(buf: UserBufMut) -> Answer {
    let (addr, len) = match buf.check() {
        Ok(b) => b,
        Err(errno) => return Answer::done(Err(errno)),
    };
    let bytes = abi::ops::probe_bytes();
    if bytes.len() > len {
        return Answer::error_with(Errno::ERANGE, bytes.len() as u64);
    }
    match compat::user_slice(addr, bytes.len())
        .writer()
        .write_slice(&bytes)
    {
        Ok(()) => Answer::done(Ok(bytes.len() as u64)),
        Err(_) => Answer::done(Err(Errno::EFAULT)),
    }
}
