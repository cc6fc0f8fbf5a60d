// SPDX-License-Identifier: MIT OR Apache-2.0

//! Host tests of the wrappers against a fake kernel, in the style of libtock-rs: the fake
//! decodes requests with the ABI's own decoder, as the real kernel does, so these tests
//! check that what the library sends is what the kernel accepts.

use core::cell::{Cell, RefCell};
use std::vec::Vec;

use ferrocall_abi::{self as abi, ops, Answer, Errno, Op, UserBuf, UserBufMut};

use crate::{Backend, BatchError, FillError, Kernel, Request, Support, TypedCalls};

const FAKE_CWD: &[u8] = b"/fake/working/dir\0";

/// A descriptor number for the fake kernel, which has no descriptors to keep open.
fn fd(raw: i32) -> crate::BorrowedFd<'static> {
    // SAFETY: the fake kernel only compares the number; nothing is opened or closed.
    unsafe { crate::BorrowedFd::borrow_raw(raw) }
}

/// A kernel in-process: `enable` answers `prctl_ret`; typed calls are decoded and answered
/// like the real handler does, unless `answer_override` replaces the raw return.
struct FakeKernel {
    prctl_ret: u64,
    prctl_calls: Cell<u32>,
    typed_calls: Cell<u32>,
    raw_override: Option<u64>,
    support: Support,
    written: RefCell<Vec<u8>>,
    exit_code: Cell<Option<i32>>,
    /// Refuse batches, as the kernel does while a tracer watches.
    observed: bool,
    /// The legacy system calls made, by number.
    legacy_calls: RefCell<Vec<u32>>,
    /// Stop a resumable batch before its call at this index (of that batch), once, as the
    /// kernel does for a pending signal or a seccomp verdict that needs a lone call.
    stop_before: Cell<Option<usize>>,
    /// The calls of operations without a twin answered in registers (ABI version 5).
    in_registers: Cell<u32>,
}

/// The bytes of a user buffer the wrapper passed.
///
/// # Safety
///
/// `buf` must describe memory the caller lent for the call.
unsafe fn user_bytes<'a>(buf: impl Into<UserBuf>) -> &'a mut [u8] {
    let buf: UserBuf = buf.into();
    if buf.len == 0 {
        return &mut [];
    }
    // SAFETY: the caller guarantees the buffer is lent to us for the call.
    unsafe { std::slice::from_raw_parts_mut(buf.addr as *mut u8, buf.len as usize) }
}

impl FakeKernel {
    fn new(prctl_ret: u64) -> Self {
        FakeKernel {
            prctl_ret,
            prctl_calls: Cell::new(0),
            typed_calls: Cell::new(0),
            raw_override: None,
            support: Support::new(),
            written: RefCell::new(Vec::new()),
            exit_code: Cell::new(None),
            observed: false,
            legacy_calls: RefCell::new(Vec::new()),
            stop_before: Cell::new(None),
            in_registers: Cell::new(0),
        }
    }

    fn patched() -> Self {
        FakeKernel::new(u64::from(abi::ABI_VERSION))
    }

    fn stock() -> Self {
        FakeKernel::new(Errno::EINVAL.to_syscall_return() as u64)
    }

    fn handle(&self, op: u32, size: u32, bytes: &mut [u8]) -> Result<(), Errno> {
        let plan = abi::plan(u64::from(op), u64::from(size), bytes.as_ptr() as u64)?;
        let answer = abi::decode::decode_request(&plan, bytes)?.dispatch(&mut FakeCalls(self))?;
        let at = abi::Request::<()>::ANSWER_OFFSET;
        bytes[at..at + 16].copy_from_slice(&answer.to_bytes());
        match answer.result() {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(Errno::EINVAL),
        }
    }
}

/// The fake kernel's side of the operation table: one method per operation, as the real
/// handler has. `Err` when there is no answer to write (the process "exited").
struct FakeCalls<'a>(&'a FakeKernel);

/// Fills `buf` with `data`, or answers `ERANGE` with the size needed.
fn fill(buf: UserBufMut, data: &[u8]) -> Answer {
    // SAFETY: the wrappers pass buffers borrowed from slices for the call.
    let out = unsafe { user_bytes(buf) };
    if out.len() < data.len() {
        return Answer::error_with(Errno::ERANGE, data.len() as u64);
    }
    out[..data.len()].copy_from_slice(data);
    Answer::done(Ok(data.len() as u64))
}

impl abi::Handler for FakeCalls<'_> {
    type Answer = Result<Answer, Errno>;

    fn useless(&mut self, args: ops::UselessArgs) -> Self::Answer {
        Ok(Answer::done(args.value.checked_add(15).map(u64::from).ok_or(Errno::EOVERFLOW)))
    }

    fn getpid(&mut self, _: ops::GetPidArgs) -> Self::Answer {
        Ok(Answer::done(Ok(4242)))
    }

    fn getppid(&mut self, _: ops::GetPpidArgs) -> Self::Answer {
        Ok(Answer::done(Ok(1)))
    }

    fn getuid(&mut self, _: ops::GetUidArgs) -> Self::Answer {
        Ok(Answer::done(Ok(1000)))
    }

    fn write(&mut self, args: ops::WriteArgs) -> Self::Answer {
        if args.fd != 1 {
            return Ok(Answer::done(Err(Errno::EBADF)));
        }
        // SAFETY: the wrappers pass buffers borrowed from slices for the call.
        let data = unsafe { user_bytes(args.buf) };
        self.0.written.borrow_mut().extend_from_slice(data);
        Ok(Answer::done(Ok(data.len() as u64)))
    }

    fn read(&mut self, args: ops::ReadArgs) -> Self::Answer {
        if args.fd != 0 {
            return Ok(Answer::done(Err(Errno::EBADF)));
        }
        // SAFETY: as above.
        let out = unsafe { user_bytes(args.buf) };
        let n = out.len().min(3);
        out[..n].copy_from_slice(&b"abc"[..n]);
        Ok(Answer::done(Ok(n as u64)))
    }

    fn exit(&mut self, args: ops::ExitArgs) -> Self::Answer {
        self.0.exit_code.set(Some(args.code));
        Err(Errno::EPERM)
    }

    fn getcwd(&mut self, args: ops::GetCwdArgs) -> Self::Answer {
        Ok(fill(args.buf, FAKE_CWD))
    }

    fn open(&mut self, args: ops::OpenArgs) -> Self::Answer {
        // SAFETY: the wrapper passes a NUL-terminated path borrowed for the call.
        let path = unsafe { std::ffi::CStr::from_ptr(args.path.addr as *const _) };
        Ok(Answer::done(fake_open(args.dirfd, path, [args.flags, args.mode, args.resolve])))
    }

    fn probe(&mut self, args: ops::ProbeArgs) -> Self::Answer {
        Ok(fill(args.buf, &abi::ops::probe_bytes()))
    }

    fn batch(&mut self, args: ops::BatchArgs) -> Self::Answer {
        if self.0.observed {
            return Ok(Answer::error_with(Errno::EOPNOTSUPP, abi::ops::BATCH_REFUSED));
        }
        // SAFETY: the batch wrapper passes its entry array for the call.
        let raw = unsafe { user_bytes(args.entries) };
        let mut done = 0;
        for entry in raw.chunks_exact(abi::BatchEntry::SIZE) {
            if self.0.stops_before(done, args.flags) {
                return Ok(Answer::done(Ok(done)));
            }
            let e = abi::BatchEntry::decode(entry).unwrap();
            // SAFETY: each entry names a request the batch borrows.
            let req = unsafe { std::slice::from_raw_parts_mut(e.addr as *mut u8, e.size as usize) };
            if let Err(errno) = self.0.handle(e.op, e.size, req) {
                return Ok(Answer::error_with(errno, done));
            }
            done += 1;
        }
        Ok(Answer::done(Ok(done)))
    }

    fn packed_batch(&mut self, args: ops::PackedBatchArgs) -> Self::Answer {
        if self.0.observed {
            return Ok(Answer::error_with(Errno::EOPNOTSUPP, abi::ops::BATCH_REFUSED));
        }
        // SAFETY: the packed batch wrapper passes its own buffers for the call.
        let raw = unsafe { user_bytes(args.requests) };
        // SAFETY: as above; the two do not overlap.
        let out = unsafe { user_bytes(args.answers) };
        let mut done = 0;
        let mut offset = 0;
        for slot in out.chunks_exact_mut(abi::Request::<()>::ANSWER_SIZE) {
            if self.0.stops_before(done, args.flags) {
                return Ok(Answer::done(Ok(done)));
            }
            let rest = &raw[offset..];
            let plan = match abi::decode::packed_plan(rest, rest.as_ptr() as u64, rest.len()) {
                Ok(plan) => plan,
                Err(errno) => return Ok(Answer::error_with(errno, done)),
            };
            // The kernel leaves the requests' own answer slots alone: run a copy.
            let mut copy = rest[..plan.size].to_vec();
            let result = self.0.handle(plan.op.raw(), plan.size as u32, &mut copy);
            let at = abi::Request::<()>::ANSWER_OFFSET;
            slot.copy_from_slice(&copy[at..at + slot.len()]);
            if let Err(errno) = result {
                return Ok(Answer::error_with(errno, done));
            }
            done += 1;
            offset += plan.size;
        }
        Ok(Answer::done(Ok(done)))
    }
}

/// For a request whose header asks for its answer in registers, whose answer slot the
/// caller may leave uninitialised (no kernel reads it): its `size` bytes as the kernel
/// decodes them, the slot read as zero. `None` for any other request.
///
/// # Safety
///
/// `request` is valid for reads of `size` bytes, all initialised but the answer slot of a
/// request that asks for registers.
unsafe fn answered_in_registers(request: *const u8, size: u32) -> Option<Vec<u8>> {
    use abi::layout::Request;
    let size = size as usize;
    let flags_at = core::mem::offset_of!(abi::Header, flags);
    if size < flags_at + 4 {
        return None;
    }
    // SAFETY: the header's flags are within the `size` bytes, and initialised.
    let flags = unsafe { request.wrapping_add(flags_at).cast::<u32>().read_unaligned() };
    if flags & abi::Header::ANSWER_IN_REGISTERS == 0 {
        return None;
    }
    let mut bytes = std::vec![0u8; size];
    let slot = Request::<()>::ANSWER_OFFSET..Request::<()>::ARGS_OFFSET;
    for part in [0..slot.start.min(size), slot.end.min(size)..size] {
        let start = request.wrapping_add(part.start);
        // SAFETY: `part` lies within the `size` bytes and outside the slot: initialised.
        let from = unsafe { std::slice::from_raw_parts(start, part.len()) };
        bytes[part].copy_from_slice(from);
    }
    Some(bytes)
}

// SAFETY: the fake reads `size` bytes at `request` (not the slot of a request that asks for
// registers) and writes only the answer slot, as the trait requires; `prctl_ret` is a
// version only in the `patched` fake.
unsafe impl Kernel for FakeKernel {
    fn prctl_enable(&self) -> u64 {
        self.prctl_calls.set(self.prctl_calls.get() + 1);
        self.prctl_ret
    }

    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
        self.typed_calls.set(self.typed_calls.get() + 1);
        assert!(abi::is_request_address(request as u64), "sent a legacy-looking address");
        if let Some(raw) = self.raw_override {
            return raw;
        }
        let mut copy;
        // SAFETY: the caller guarantees `size` bytes at `request` are ours for the call.
        let bytes = match unsafe { answered_in_registers(request, size) } {
            // Not the slot, which may be uninitialised: a copy of the rest.
            Some(rest) => {
                copy = rest;
                copy.as_mut_slice()
            }
            // SAFETY: as above; the whole request is initialised.
            None => unsafe { std::slice::from_raw_parts_mut(request, size as usize) },
        };
        if self.prctl_ret >= u64::from(abi::ANSWER_IN_REGISTERS_SINCE) {
            if let Some(ret) = self.as_twin(op, size, bytes) {
                return ret;
            }
        }
        Errno::syscall_return_of(self.handle(op, size, bytes).map(|()| 0))
    }

    /// As a kernel of ABI version 5 answers a lone call of an operation without a twin that
    /// asks for its answer in registers: nothing written into the request; `rax` 0 or
    /// `-errno`, `rdx` the value and `r10` `Answer::DONE` when the operation ran, `r10` 0
    /// when the request was refused. An older kernel's decoder refuses the flag.
    unsafe fn typed_call_in_registers(&self, request: *mut u8, op: u32, size: u32) -> [u64; 3] {
        self.typed_calls.set(self.typed_calls.get() + 1);
        assert!(abi::is_request_address(request as u64), "sent a legacy-looking address");
        let refused = |e: Errno| [e.to_syscall_return() as u64, request as u64, 0];
        if let Some(raw) = self.raw_override {
            return [raw, request as u64, 0];
        }
        if self.prctl_ret < u64::from(abi::ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE) {
            return refused(Errno::EINVAL);
        }
        // SAFETY: the caller guarantees `size` bytes at `request` are ours for the call.
        let copy = unsafe { answered_in_registers(request, size) };
        let bytes = match &copy {
            Some(rest) => rest.as_slice(),
            // SAFETY: as above; the whole request is initialised.
            None => unsafe { std::slice::from_raw_parts(request, size as usize) },
        };
        let decoded = abi::plan(u64::from(op), u64::from(size), request as u64)
            .and_then(|plan| abi::decode::decode_request_lone(&plan, bytes));
        let call = match decoded {
            Ok((call, flags)) if flags & abi::Header::ANSWER_IN_REGISTERS != 0 => call,
            Ok(_) => return refused(Errno::EINVAL),
            Err(e) => return refused(e),
        };
        if call.op().twin().is_some() {
            return refused(Errno::EINVAL);
        }
        match call.dispatch(&mut FakeCalls(self)) {
            Ok(answer) => {
                self.in_registers.set(self.in_registers.get() + 1);
                let status = answer.result().map_or(0, |r| Errno::syscall_return_of(r.map(|_| 0)));
                [status, answer.value, u64::from(Answer::DONE)]
            }
            Err(e) => refused(e),
        }
    }

    unsafe fn legacy_call(&self, nr: u32, args: &[u64; 6]) -> u64 {
        self.legacy_calls.borrow_mut().push(nr);
        // SAFETY: the caller's guarantee.
        unsafe { self.legacy(nr, args) }
    }

    fn support(&self) -> &Support {
        &self.support
    }
}

impl FakeKernel {
    /// Whether a batch with `flags` stops before its call `index` (see `stop_before`).
    fn stops_before(&self, index: u64, flags: u32) -> bool {
        let stop =
            flags & ops::BATCH_RESUMABLE != 0 && self.stop_before.get() == Some(index as usize);
        if stop {
            self.stop_before.set(None);
        }
        stop
    }

    /// A lone typed call of an operation with a twin, as a kernel of ABI version 2 makes it:
    /// decoded, run as its twin, answered in `rax` if the request asks, else in place.
    /// `None` for an operation without a twin.
    fn as_twin(&self, op: u32, size: u32, bytes: &mut [u8]) -> Option<u64> {
        let raw = |e: Errno| e.to_syscall_return() as u64;
        let plan = abi::plan(u64::from(op), u64::from(size), bytes.as_ptr() as u64).ok()?;
        plan.op.twin()?;
        let (call, flags) = match abi::decode::decode_request_lone(&plan, bytes) {
            Ok(decoded) => decoded,
            Err(e) => return Some(raw(e)),
        };
        let (nr, args) = call.twin_call(bytes.as_ptr() as u64)?;
        // SAFETY: the twin's arguments are the request's, which name the caller's buffers.
        let ret = unsafe { self.legacy(nr, &args.regs) };
        if flags & abi::Header::ANSWER_IN_REGISTERS != 0 {
            return Some(ret);
        }
        let result = Errno::from_syscall_return(ret);
        let at = abi::Request::<()>::ANSWER_OFFSET;
        bytes[at..at + 16].copy_from_slice(&Answer::done(result).to_bytes());
        Some(result.map_or_else(raw, |_| 0))
    }

    /// The legacy calls of a kernel with the same state as the fake one, by number.
    ///
    /// # Safety
    ///
    /// As [`Kernel::legacy_call`].
    unsafe fn legacy(&self, nr: u32, args: &[u64; 6]) -> u64 {
        let buf = UserBuf { addr: args[1], len: args[2] };
        let ret = Errno::syscall_return_of;
        match nr {
            39 => 4242,
            110 => 1,
            102 => 1000,
            1 if args[0] == 1 => {
                // SAFETY: the library passes the caller's slice for the call.
                let data = unsafe { user_bytes(buf) };
                self.written.borrow_mut().extend_from_slice(data);
                data.len() as u64
            }
            0 if args[0] == 0 => {
                // SAFETY: as above.
                let out = unsafe { user_bytes(buf) };
                let n = out.len().min(3);
                out[..n].copy_from_slice(&b"abc"[..n]);
                n as u64
            }
            0 | 1 => ret(Err(Errno::EBADF)),
            79 => {
                // SAFETY: as above.
                let out = unsafe { user_bytes(UserBuf { addr: args[0], len: args[1] }) };
                if out.len() < FAKE_CWD.len() {
                    return ret(Err(Errno::ERANGE));
                }
                out[..FAKE_CWD.len()].copy_from_slice(FAKE_CWD);
                FAKE_CWD.len() as u64
            }
            231 => {
                self.exit_code.set(Some(args[0] as i32));
                ret(Err(Errno::EPERM))
            }
            437 if args[3] == 24 => {
                // SAFETY: openat2's path, a C string the wrapper borrows for the call.
                let path = unsafe { std::ffi::CStr::from_ptr(args[1] as *const _) };
                // SAFETY: its `struct open_how`, which the library points at the request's
                // own fields.
                let how = unsafe { (args[2] as *const [u64; 3]).read_unaligned() };
                ret(fake_open(args[0] as i32, path, how))
            }
            _ => ret(Err(Errno::ENOSYS)),
        }
    }
}

/// The fake kernel's open: `/fake` opens read-only, as descriptor 7, with no `resolve`
/// restriction but `RESOLVE_BENEATH` (8); anything else is an error.
fn fake_open(
    dirfd: i32,
    path: &std::ffi::CStr,
    [flags, mode, resolve]: [u64; 3],
) -> Result<u64, Errno> {
    match (dirfd, path.to_bytes(), flags, mode, resolve) {
        (-100, b"/fake", 0, 0, 0 | 8) => Ok(7),
        (-100, b"/fake", ..) => Err(Errno::EACCES),
        _ => Err(Errno::ENOENT),
    }
}

/// `open` passes its fields to the kernel, and where typed calls are not available makes
/// `openat2()` with its `struct open_how` pointed at the request's fields.
#[test]
fn open_passes_its_fields_typed_and_as_its_twin() {
    for k in [FakeKernel::patched(), FakeKernel::stock()] {
        let opened = k.open(crate::fd::cwd(), c"/fake", 0, 0, 8);
        assert_eq!(opened.map(crate::OwnedFd::into_raw_fd), Ok(7));
        assert_eq!(k.open(crate::fd::cwd(), c"/fake", 2, 0, 8).err(), Some(Errno::EACCES));
        assert_eq!(k.open(crate::fd::cwd(), c"/other", 0, 0, 0).err(), Some(Errno::ENOENT));
        assert_eq!(k.open(fd(3), c"/fake", 0, 0, 0).err(), Some(Errno::ENOENT));
    }
    let k = FakeKernel::stock();
    let _ = k.open(crate::fd::cwd(), c"/fake", 0, 0, 0).map(crate::OwnedFd::into_raw_fd);
    assert_eq!(*k.legacy_calls.borrow(), [Op::Open.twin().unwrap().nr]);
}

#[test]
fn useless_answers_value_plus_15() {
    let k = FakeKernel::patched();
    assert_eq!(k.useless(15), Ok(30));
    assert_eq!(k.useless(0), Ok(15));
    assert_eq!(k.useless(u32::MAX - 15), Ok(u32::MAX));
    assert_eq!(k.useless(u32::MAX - 14), Err(Errno::EOVERFLOW));
}

/// On a kernel of ABI version 5 a call without a twin is answered in registers: the
/// wrapper's value and the caller's own answer slot are what a kernel answering in place
/// gives, and nothing is written into the request by the kernel.
#[test]
fn a_call_without_a_twin_is_answered_in_registers_on_version_5() {
    let k = FakeKernel::patched();
    const { assert!(abi::ABI_VERSION >= abi::ANSWER_IN_REGISTERS_WITHOUT_TWIN_SINCE) };
    assert_eq!(k.useless(15), Ok(30));
    assert_eq!(k.useless(u32::MAX - 14), Err(Errno::EOVERFLOW));
    // A request of the caller's at a request address: its answer slot holds the answer all
    // the same.
    let before = k.in_registers.get();
    let req = request_at_request_address(ops::UselessArgs { value: 7, ..Default::default() });
    // SAFETY: the request names no buffer.
    let answer = unsafe { k.call_answer(req) };
    assert_eq!(answer.map(|a| a.result()), Ok(Some(Ok(22))));
    assert_eq!(req.answer.result(), Some(Ok(22)));
    assert_eq!(req.header.flags, 0, "the flag is the library's, for the call only");
    assert_eq!(k.in_registers.get(), before + 1);
    // The operation's own error, with the slot written as in place.
    let req =
        request_at_request_address(ops::UselessArgs { value: u32::MAX, ..Default::default() });
    // SAFETY: as above.
    let answer = unsafe { k.call_answer(req) };
    assert_eq!(answer.map(|a| a.result()), Ok(Some(Err(Errno::EOVERFLOW))));
    assert_eq!(req.answer.result(), Some(Err(Errno::EOVERFLOW)));
    assert_eq!(k.in_registers.get(), before + 2);
}

/// A fresh request with `args` at an address that may be sent in `rax`
/// ([`abi::is_request_address`]), in a page of its own.
fn request_at_request_address<A: abi::Args>(args: A) -> &'static mut Request<A> {
    const MAP_FIXED_NOREPLACE_PRIVATE_ANONYMOUS: u64 = 0x10_0022;
    for block in 0x7d00u64..0x7e00 {
        let hint = block << 32 | abi::FAIL_CLOSED_BIT;
        // SAFETY: a fresh anonymous mapping that replaces nothing.
        let got = unsafe {
            crate::arch::syscall6(9, hint, 4096, 3, MAP_FIXED_NOREPLACE_PRIVATE_ANONYMOUS, !0, 0)
        };
        if got == hint {
            assert!(abi::is_request_address(hint));
            let request = hint as *mut Request<A>;
            // SAFETY: the page is ours from now on, writable and page-aligned, so aligned
            // for a request, which fits in it.
            unsafe { request.write(Request::new(args)) };
            // SAFETY: as above, and now initialised; the page is never unmapped, and
            // reached only through the reference returned.
            return unsafe { &mut *request };
        }
    }
    panic!("no free page at a request address");
}

/// A call without a twin refused before it ran (`r10` 0) gives the refusal, its slot
/// pending; `rax` saying success while `r10` says it did not run is `EIO`.
#[test]
fn a_refusal_in_registers_leaves_the_slot_pending() {
    let mut k = FakeKernel::patched();
    k.raw_override = Some(Errno::EPERM.to_syscall_return() as u64);
    assert_eq!(k.useless(15), Err(Errno::EPERM));
    let req = request_at_request_address(ops::UselessArgs { value: 7, ..Default::default() });
    // SAFETY: the request names no buffer.
    assert_eq!(unsafe { k.call_answer(req) }, Err(Errno::EPERM));
    assert_eq!(req.answer.result(), None);
    k.raw_override = Some(0);
    assert_eq!(k.useless(15), Err(Errno::EIO));
    assert_eq!(k.in_registers.get(), 0);
}

/// On a kernel of ABI version 4, whose decoder refuses the flag on an operation without a
/// twin, the library never sets it: such calls are answered in place, as before.
#[test]
fn a_call_without_a_twin_is_answered_in_place_on_version_4() {
    let k = FakeKernel::new(4);
    assert_eq!(k.useless(15), Ok(30));
    let req = request_at_request_address(ops::UselessArgs { value: 7, ..Default::default() });
    // SAFETY: the request names no buffer.
    let answer = unsafe { k.call_answer(req) };
    assert_eq!(answer.map(|a| a.result()), Ok(Some(Ok(22))));
    assert_eq!(req.answer.result(), Some(Ok(22)));
    assert_eq!(k.in_registers.get(), 0);
    assert_eq!(k.typed_calls.get(), 2);
}

/// A `Kernel` that does not answer in registers itself gets the trait's default, which
/// makes the call answered in place and reads the slot: the same answers.
#[test]
fn the_default_register_answer_reads_the_slot() {
    struct InPlace(FakeKernel);
    // SAFETY: the fake's own calls, answered in place.
    unsafe impl Kernel for InPlace {
        fn prctl_enable(&self) -> u64 {
            self.0.prctl_enable()
        }
        unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
            // SAFETY: the caller's guarantee.
            unsafe { self.0.typed_call(request, op, size) }
        }
        unsafe fn legacy_call(&self, nr: u32, args: &[u64; 6]) -> u64 {
            // SAFETY: the caller's guarantee.
            unsafe { self.0.legacy_call(nr, args) }
        }
        fn support(&self) -> &Support {
            self.0.support()
        }
    }
    let k = InPlace(FakeKernel::patched());
    assert_eq!(k.useless(15), Ok(30));
    assert_eq!(k.useless(u32::MAX), Err(Errno::EOVERFLOW));
    assert_eq!(k.0.in_registers.get(), 0);
    let mut inner = FakeKernel::patched();
    inner.raw_override = Some(Errno::EPERM.to_syscall_return() as u64);
    let k = InPlace(inner);
    assert_eq!(k.useless(15), Err(Errno::EPERM));
    // A request whose slot still holds an earlier answer, refused this time: the refusal,
    // not the old answer.
    let req = request_at_request_address(ops::UselessArgs { value: 7, ..Default::default() });
    req.answer = Answer::done(Ok(22));
    // SAFETY: the request names no buffer.
    assert_eq!(unsafe { k.call_answer(req) }, Err(Errno::EPERM));
    assert_eq!(req.answer.result(), None);
    // SAFETY: `req` is a whole request at a request address, ours for the call; it names
    // no buffer.
    let registers = unsafe {
        let size = core::mem::size_of_val(req) as u32;
        req.answer = Answer::done(Ok(22));
        k.typed_call_in_registers(core::ptr::from_mut(req).cast(), Op::Useless.raw(), size)
    };
    assert_eq!(registers[2], 0, "a refusal, not the slot's old answer");
}

#[test]
fn support_is_checked_once() {
    let k = FakeKernel::patched();
    for _ in 0..5 {
        assert_eq!(k.useless(1), Ok(16));
    }
    assert_eq!(k.prctl_calls.get(), 1);
    assert_eq!(k.typed_calls.get(), 5);
}

#[test]
fn stock_kernel_gets_no_typed_call() {
    let k = FakeKernel::stock();
    assert_eq!(k.enable(), Err(Errno::ENOSYS));
    // Useless has no legacy twin.
    assert_eq!(k.useless(15), Err(Errno::ENOSYS));
    assert_eq!(k.useless(15), Err(Errno::ENOSYS));
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(k.typed_calls.get(), 0, "a typed call reached a kernel without ferrocall");
    assert_eq!(k.prctl_calls.get(), 1);
    assert_eq!(*k.legacy_calls.borrow(), [Op::GetPid.twin().unwrap().nr]);
}

#[test]
fn a_refused_opt_in_says_eperm_and_falls_back() {
    // A kernel with ferrocall whose kernel.ferrocall_enabled refuses this process.
    let k = FakeKernel::new(Errno::EPERM.to_syscall_return() as u64);
    assert_eq!(k.enable(), Err(Errno::EPERM));
    assert_eq!(k.enable(), Err(Errno::EPERM), "the reason is kept, not asked again");
    assert_eq!(k.prctl_calls.get(), 1);
    assert_eq!(k.backend(), Backend::Legacy);
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(k.typed_calls.get(), 0);
    // A kernel without ferrocall is still ENOSYS.
    assert_eq!(FakeKernel::stock().enable(), Err(Errno::ENOSYS));
}

#[test]
fn odd_prctl_answers_are_not_support() {
    // A seccomp filter may answer the prctl with any errno, or with 0 (SECCOMP_RET_ERRNO
    // with data 0); a future kernel with an unrelated prctl may answer anything.
    for ret in [0u64, Errno::EPERM.to_syscall_return() as u64, u64::MAX, 1u64 << 40] {
        let k = FakeKernel::new(ret);
        assert_eq!(k.useless(1), Err(Errno::ENOSYS), "prctl answered {ret:#x}");
        assert_eq!(k.backend(), Backend::Legacy);
        assert_eq!(k.typed_calls.get(), 0);
    }
}

#[test]
fn strange_kernel_answers_do_not_panic() {
    for raw in [1u64, 0x1234, u64::MAX - 5000, 0] {
        let mut k = FakeKernel::patched();
        k.raw_override = Some(raw);
        // Return 0 without an answer written is EIO; other non-errors are EIO too.
        let r = k.useless(15);
        assert!(r.is_err(), "raw {raw:#x} gave {r:?}");
    }
    let mut k = FakeKernel::patched();
    k.raw_override = Some(Errno::EFAULT.to_syscall_return() as u64);
    assert_eq!(k.useless(15), Err(Errno::EFAULT));
}

#[test]
fn request_layout_is_what_the_kernel_decodes() {
    let req = abi::Request::new(abi::ops::UselessArgs { value: 7, ..Default::default() });
    assert_eq!(req.header.size, 40);
    assert_eq!(req.header.op, abi::Op::Useless.raw());
    assert_eq!(req.answer.state, Answer::PENDING);
}

#[test]
fn repeated_calls_answer_correctly() {
    let k = FakeKernel::patched();
    assert_eq!(k.enable(), Ok(abi::ABI_VERSION));
    let results: Vec<_> = (0..100).map(|i| k.useless(i)).collect();
    assert!(results.iter().enumerate().all(|(i, r)| *r == Ok(i as u32 + 15)));
}

#[test]
fn process_ids() {
    let k = FakeKernel::patched();
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(k.getppid(), Ok(1));
}

#[test]
fn write_and_read_pass_the_buffers() {
    let k = FakeKernel::patched();
    assert_eq!(k.write(fd(1), b"Hello, world!\n"), Ok(14));
    assert_eq!(k.write(fd(1), b""), Ok(0));
    assert_eq!(k.written.borrow().as_slice(), b"Hello, world!\n");
    assert_eq!(k.write(fd(7), b"x"), Err(Errno::EBADF));
    let mut buf = [0u8; 8];
    assert_eq!(k.read(fd(0), &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    assert_eq!(k.read(fd(0), &mut buf[..2]), Ok(2));
}

#[test]
fn exit_reports_why_it_returned() {
    let k = FakeKernel::patched();
    assert_eq!(k.try_exit(3), Errno::EPERM);
    assert_eq!(k.exit_code.get(), Some(3));
    // Without typed calls: the legacy exit_group (which the fake survives), or nothing.
    let k = FakeKernel::stock();
    assert_eq!(k.try_exit(4), Errno::EPERM);
    assert_eq!(k.exit_code.get(), Some(4));
    let k = FakeKernel::stock();
    k.support.choose(Backend::TypedOnly);
    assert_eq!(k.try_exit(5), Errno::ENOSYS);
    assert_eq!(k.exit_code.get(), None);
}

#[test]
fn getcwd_says_how_much_room_it_needs() {
    let k = FakeKernel::patched();
    let mut small = [0u8; 4];
    assert_eq!(k.getcwd(&mut small), Err(FillError::TooSmall(FAKE_CWD.len())));
    let mut buf = std::vec![0u8; FAKE_CWD.len()];
    assert_eq!(k.getcwd(&mut buf), Ok(FAKE_CWD.len()));
    assert_eq!(buf.as_slice(), FAKE_CWD);
    assert_eq!(k.getcwd(&mut []), Err(FillError::TooSmall(FAKE_CWD.len())));
}

#[test]
fn probe_lists_every_operation() {
    let k = FakeKernel::patched();
    for op in Op::ALL {
        assert!(k.supports(*op), "{op:?}");
    }
    let mut buf = [0u8; 4096];
    let n = k.probe(&mut buf).unwrap();
    let (header, entries) = abi::ops::parse_probe(&buf[..n]).unwrap();
    assert_eq!(header.version, abi::ABI_VERSION);
    let ops: Vec<u32> = entries.map(|e| e.op).collect();
    assert_eq!(ops, Op::ALL.iter().map(|o| o.raw()).collect::<Vec<_>>());
    assert!(!FakeKernel::stock().supports(Op::Useless));
}

#[test]
fn every_wrapper_is_enosys_on_a_stock_kernel_when_typed_only() {
    let k = FakeKernel::stock();
    k.support.choose(Backend::TypedOnly);
    assert_eq!(k.backend(), Backend::TypedOnly);
    assert_eq!(k.getpid(), Err(Errno::ENOSYS));
    assert_eq!(k.getppid(), Err(Errno::ENOSYS));
    assert_eq!(k.getuid(), Err(Errno::ENOSYS));
    assert_eq!(k.write(fd(1), b"x"), Err(Errno::ENOSYS));
    assert_eq!(k.read(fd(0), &mut [0; 4]), Err(Errno::ENOSYS));
    assert_eq!(k.getcwd(&mut [0; 64]), Err(FillError::Errno(Errno::ENOSYS)));
    assert_eq!(k.probe(&mut [0; 64]), Err(FillError::Errno(Errno::ENOSYS)));
    assert_eq!(k.typed_calls.get(), 0);
    assert!(k.written.borrow().is_empty());
    assert!(k.legacy_calls.borrow().is_empty());
}

/// On a kernel without ferrocall every wrapper with a legacy twin makes it, and answers as
/// the typed call would; the others are ENOSYS.
#[test]
fn every_wrapper_falls_back_to_its_twin_on_a_stock_kernel() {
    let k = FakeKernel::stock();
    assert_eq!(k.backend(), Backend::Legacy);
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(k.getppid(), Ok(1));
    assert_eq!(k.getuid(), Ok(1000));
    assert_eq!(k.write(fd(1), b"hi"), Ok(2));
    assert_eq!(k.write(fd(7), b"hi"), Err(Errno::EBADF));
    let mut buf = [0u8; 8];
    assert_eq!(k.read(fd(0), &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    // getcwd() does not say how much room it needs; the fallback finds out.
    assert_eq!(k.getcwd(&mut [0; 4]), Err(FillError::TooSmall(FAKE_CWD.len())));
    let mut cwd = std::vec![0u8; 64];
    assert_eq!(k.getcwd(&mut cwd), Ok(FAKE_CWD.len()));
    assert_eq!(&cwd[..FAKE_CWD.len()], FAKE_CWD);
    // No twin: ENOSYS, and no legacy call made for them.
    let before = k.legacy_calls.borrow().len();
    assert_eq!(k.useless(1), Err(Errno::ENOSYS));
    assert_eq!(k.probe(&mut [0; 256]), Err(FillError::Errno(Errno::ENOSYS)));
    assert!(!k.supports(Op::GetPid));
    assert_eq!(k.legacy_calls.borrow().len(), before);
    assert_eq!(k.typed_calls.get(), 0);
    assert_eq!(*k.written.borrow(), b"hi");
}

/// A batch on a kernel without ferrocall runs its calls one by one as their twins, with
/// the same results and failure rule (stop at the first failure).
#[test]
fn batches_fall_back_call_by_call() {
    let k = FakeKernel::stock();
    let mut a = Request::new(ops::GetPidArgs {});
    let mut b = Request::new(ops::GetPpidArgs {});
    {
        let mut batch: crate::Batch<'_, 4> = crate::Batch::new();
        batch.push(&mut a).unwrap();
        batch.push(&mut b).unwrap();
        assert_eq!(k.batch(&mut batch), Ok(2));
    }
    assert_eq!(a.answer.result(), Some(Ok(4242)));
    assert_eq!(b.answer.result(), Some(Ok(1)));
    let mut packed: crate::PackedBatch<4> = crate::PackedBatch::new();
    packed.push(ops::GetUidArgs {}).unwrap();
    packed.push(ops::UselessArgs { value: 1, ..Default::default() }).unwrap();
    packed.push(ops::GetPidArgs {}).unwrap();
    assert_eq!(k.packed_batch(&mut packed), Err(BatchError { errno: Errno::ENOSYS, completed: 1 }));
    assert_eq!(packed.answer(0), Some(Ok(1000)));
    assert_eq!(packed.answer(2), None);
    assert_eq!(k.typed_calls.get(), 0);
}

/// A typed call refused before it ran (a seccomp filter's ERRNO with ENOSYS or EPERM: the
/// answer slot stays pending) is made as its twin, unless the program insists on typed
/// calls; a typed call that ran and failed is not made again.
#[test]
fn a_refused_typed_call_falls_back_to_its_twin() {
    for refusal in [Errno::ENOSYS, Errno::EPERM] {
        // A kernel of ABI version 1: every call answered in place.
        let mut k = FakeKernel::new(1);
        k.raw_override = Some(refusal.to_syscall_return() as u64);
        assert_eq!(k.getpid(), Ok(4242), "refused with {refusal:?}");
        assert_eq!(k.typed_calls.get(), 1);
        assert_eq!(k.backend(), Backend::Typed);
        k.support.choose(Backend::TypedOnly);
        assert_eq!(k.getpid(), Err(refusal));
    }
    let mut k = FakeKernel::new(1);
    k.raw_override = Some(Errno::EFAULT.to_syscall_return() as u64);
    assert_eq!(k.getpid(), Err(Errno::EFAULT));
    assert!(k.legacy_calls.borrow().is_empty());
    // Chosen legacy: no typed call at all, even on a kernel that has them.
    let k = FakeKernel::patched();
    k.support.choose(Backend::Legacy);
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(k.backend(), Backend::Legacy);
    assert_eq!(k.typed_calls.get(), 0);
}

/// On a kernel of ABI version 2 a call with a twin answers in registers: a policy's refusal
/// of the twin is its answer (making the twin again would meet the same policy), while
/// ENOSYS (an operation the kernel does not know) still falls back to the twin.
#[test]
fn a_call_answered_in_registers_falls_back_only_on_enosys() {
    let mut k = FakeKernel::patched();
    k.raw_override = Some(Errno::EPERM.to_syscall_return() as u64);
    assert_eq!(k.getpid(), Err(Errno::EPERM));
    assert!(k.legacy_calls.borrow().is_empty());
    k.raw_override = Some(Errno::ENOSYS.to_syscall_return() as u64);
    assert_eq!(k.getpid(), Ok(4242));
    assert_eq!(*k.legacy_calls.borrow(), [Op::GetPid.twin().unwrap().nr]);
    k.raw_override = Some(4243);
    assert_eq!(k.getpid(), Ok(4243), "the value in rax is the answer");
}

/// The library sets the answer-in-registers flag only for a kernel that reports ABI version
/// 2 or later: on a version-1 kernel, whose decoder refuses every flag, each call is answered
/// in place, and the caller's request reads the same either way.
#[test]
fn answers_in_place_on_a_version_1_kernel() {
    for version in [1, u64::from(abi::ABI_VERSION)] {
        let k = FakeKernel::new(version);
        assert_eq!(k.getpid(), Ok(4242), "version {version}");
        assert_eq!(k.getuid(), Ok(1000), "version {version}");
        let mut buf = [0u8; 64];
        assert_eq!(k.getcwd(&mut buf), Ok(FAKE_CWD.len()), "version {version}");
        let mut small = [0u8; 4];
        assert_eq!(
            k.getcwd(&mut small),
            Err(FillError::TooSmall(FAKE_CWD.len())),
            "version {version}"
        );
        let mut req = abi::Request::new(ops::GetPpidArgs {});
        // SAFETY: the request names no buffer.
        let answer = unsafe { k.call_answer(&mut req) };
        assert_eq!(answer.map(|a| a.result()), Ok(Some(Ok(1))), "version {version}");
        assert_eq!(req.answer.result(), Some(Ok(1)), "the answer is in the caller's request");
        assert_eq!(req.header.flags, 0, "the caller's request is left as it was");
        // The twin getcwd() does not say how much room the path needs: on version 2 the
        // library asks the kernel with a legacy getcwd of PATH_MAX bytes.
        let getcwd = Op::GetCwd.twin().unwrap().nr;
        let lookups: &[u32] = if version == 1 { &[] } else { &[getcwd] };
        assert_eq!(*k.legacy_calls.borrow(), lookups, "version {version}");
    }
}

#[test]
fn batch_answers_each_call_in_its_slot() {
    use crate::{Batch, BatchError};
    use abi::ops::{GetPidArgs, UselessArgs};
    let k = FakeKernel::patched();
    let mut a = abi::Request::new(UselessArgs { value: 1, ..Default::default() });
    let mut b = abi::Request::new(GetPidArgs {});
    let mut c = abi::Request::new(UselessArgs { value: 2, ..Default::default() });
    let mut batch = Batch::<4>::new();
    batch.push(&mut a).unwrap();
    batch.push(&mut b).unwrap();
    batch.push(&mut c).unwrap();
    assert_eq!(k.batch(&mut batch), Ok(3));
    assert_eq!(a.answer.result(), Some(Ok(16)));
    assert_eq!(b.answer.result(), Some(Ok(4242)));
    assert_eq!(c.answer.result(), Some(Ok(17)));

    // Stop at the first failure: its slot holds the error, the next stays pending.
    let mut bad = abi::Request::new(UselessArgs { value: u32::MAX, ..Default::default() });
    let mut after = abi::Request::new(GetPidArgs {});
    let mut batch = Batch::<2>::new();
    batch.push(&mut bad).unwrap();
    batch.push(&mut after).unwrap();
    let mut extra = abi::Request::new(GetPidArgs {});
    assert_eq!(batch.push(&mut extra), Err(Errno::E2BIG));
    assert_eq!(k.batch(&mut batch), Err(BatchError { errno: Errno::EOVERFLOW, completed: 0 }));
    assert_eq!(bad.answer.result(), Some(Err(Errno::EOVERFLOW)));
    assert_eq!(after.answer.result(), None);
}

#[test]
fn an_observed_batch_runs_its_calls_one_by_one() {
    use crate::{Batch, BatchError};
    use abi::ops::{GetPidArgs, UselessArgs};
    let mut k = FakeKernel::patched();
    k.observed = true;
    let mut a = abi::Request::new(UselessArgs { value: 1, ..Default::default() });
    let mut b = abi::Request::new(GetPidArgs {});
    let mut batch = Batch::<2>::new();
    batch.push(&mut a).unwrap();
    batch.push(&mut b).unwrap();
    assert_eq!(k.batch(&mut batch), Ok(2));
    assert_eq!(k.typed_calls.get(), 3, "the refused batch, then each call alone");
    assert_eq!(a.answer.result(), Some(Ok(16)));
    assert_eq!(b.answer.result(), Some(Ok(4242)));
    let mut bad = abi::Request::new(UselessArgs { value: u32::MAX, ..Default::default() });
    let mut never = abi::Request::new(GetPidArgs {});
    let mut batch = Batch::<2>::new();
    batch.push(&mut bad).unwrap();
    batch.push(&mut never).unwrap();
    assert_eq!(k.batch(&mut batch), Err(BatchError { errno: Errno::EOVERFLOW, completed: 0 }));
    assert_eq!(never.answer.result(), None);
}

#[test]
fn a_packed_batch_answers_in_order() {
    use crate::{BatchError, PackedBatch};
    use abi::ops::{GetPidArgs, UselessArgs, WriteArgs};
    for observed in [false, true] {
        let mut k = FakeKernel::patched();
        k.observed = observed;
        let mut batch = PackedBatch::<4>::new();
        assert_eq!(batch.push(UselessArgs { value: 1, ..Default::default() }), Ok(0));
        assert_eq!(batch.push(GetPidArgs {}), Ok(1));
        let text = b"packed";
        let write = WriteArgs { fd: 1, buf: abi::UserBuf::from_slice(text), ..Default::default() };
        // SAFETY: `text` outlives the batch and is only read.
        assert_eq!(unsafe { batch.push_unchecked(write) }, Ok(2));
        assert_eq!(k.packed_batch(&mut batch), Ok(3), "observed: {observed}");
        assert_eq!(batch.answer(0), Some(Ok(16)));
        assert_eq!(batch.answer(1), Some(Ok(4242)));
        assert_eq!(batch.answer(2), Some(Ok(6)));
        assert_eq!(batch.answer(3), None);
        assert_eq!(&k.written.borrow()[..], text);
        let expected_calls = if observed { 4 } else { 1 };
        assert_eq!(k.typed_calls.get(), expected_calls, "observed: {observed}");

        // Stop at the first failure: its answer holds the error, the next did not run.
        let mut batch = PackedBatch::<3>::new();
        batch.push(GetPidArgs {}).unwrap();
        batch.push(UselessArgs { value: u32::MAX, ..Default::default() }).unwrap();
        batch.push(GetPidArgs {}).unwrap();
        assert_eq!(batch.push(GetPidArgs {}), Err(Errno::E2BIG));
        assert_eq!(
            k.packed_batch(&mut batch),
            Err(BatchError { errno: Errno::EOVERFLOW, completed: 1 })
        );
        assert_eq!(batch.answer(0), Some(Ok(4242)));
        assert_eq!(batch.answer(1), Some(Err(Errno::EOVERFLOW)));
        assert_eq!(batch.answer(2), None);
    }
}

/// Every operation of the table has a wrapper, and the wrapper makes that operation: a new
/// operation fails this test, naming it, until its wrapper is written and named here. The
/// README's table names the wrappers `ferrocall::<Op::function()>`.
#[test]
fn every_operation_has_a_wrapper() {
    let k = FakeKernel::patched();
    for &op in Op::ALL {
        let before = k.typed_calls.get();
        let mut buf = [0u8; 4096];
        let made = match op {
            Op::Useless => k.useless(1).is_ok(),
            Op::GetPid => k.getpid().is_ok(),
            Op::GetPpid => k.getppid().is_ok(),
            Op::GetUid => k.getuid() == Ok(1000),
            Op::Write => k.write(fd(1), b"x").is_ok(),
            Op::Read => k.read(fd(0), &mut buf).is_ok(),
            Op::Exit => {
                let _ = k.try_exit(0);
                k.exit_code.get() == Some(0)
            }
            Op::GetCwd => k.getcwd(&mut buf).is_ok(),
            Op::Probe => k.probe(&mut buf).is_ok(),
            Op::Batch => k.batch(&mut crate::Batch::<1>::new()).is_ok(),
            Op::PackedBatch => k.packed_batch(&mut crate::PackedBatch::<1>::new()).is_ok(),
            Op::Open => {
                let fd = k.open(crate::fd::cwd(), c"/fake", 0, 0, 0);
                fd.map(crate::OwnedFd::into_raw_fd) == Ok(7)
            }
            // `Op` is non-exhaustive: a new operation lands here.
            other => panic!(
                "{other:?} has no wrapper test: write its wrapper (`ferrocall::{}`, one entry of \
                 `wrappers!` in crates/user/src/calls.rs) and its line here",
                other.function()
            ),
        };
        assert!(made, "the wrapper of {} failed", op.name());
        assert!(k.typed_calls.get() > before, "the wrapper of {} made no typed call", op.name());
    }
}

/// `supports` asks the kernel once; a kernel without an answer is asked again later.
#[test]
fn supports_probes_once() {
    let k = FakeKernel::patched();
    assert!(k.supports(Op::GetPid));
    let after_first = k.typed_calls.get();
    assert!(k.supports(Op::GetUid) && k.supports(Op::Write));
    assert_eq!(k.typed_calls.get(), after_first, "supports() probed again");
    let stock = FakeKernel::stock();
    assert!(!stock.supports(Op::GetPid));
    assert_eq!(stock.support.offered.load(core::sync::atomic::Ordering::Relaxed), 0);
}

/// A page of this test process at an address whose low 32 bits are 0: a request there, sent
/// in `rax`, would be the legacy `read` on a kernel that does not take it for a request.
fn misplaced_page() -> &'static mut [u64; 512] {
    const MAP_FIXED_NOREPLACE_PRIVATE_ANONYMOUS: u64 = 0x10_0022;
    for block in 0x7e00u64..0x7f00 {
        let hint = block << 32;
        // SAFETY: a fresh anonymous mapping that replaces nothing.
        let got = unsafe {
            crate::arch::syscall6(9, hint, 4096, 3, MAP_FIXED_NOREPLACE_PRIVATE_ANONYMOUS, !0, 0)
        };
        if got == hint {
            // SAFETY: the page is ours from now on, zeroed and page-aligned; it is never
            // unmapped.
            return unsafe { &mut *(hint as *mut [u64; 512]) };
        }
    }
    panic!("no free page at a 4 GiB boundary");
}

/// A request at an address that may not be sent in `rax` is sent from a slot (the fake
/// kernel asserts that every address it gets fails closed) and answered in place, lone or
/// as a refused batch's calls one by one.
#[test]
fn a_request_anywhere_is_sent_from_an_address_that_fails_closed() {
    use crate::Batch;
    use abi::ops::{GetPidArgs, UselessArgs};
    #[repr(C)]
    struct Two {
        useless: Request<UselessArgs>,
        getpid: Request<GetPidArgs>,
    }
    // SAFETY: the page is ours, zeroed (a valid `Two`: every field an integer) and aligned;
    // it is reached only through this reference.
    let two = unsafe { &mut *misplaced_page().as_mut_ptr().cast::<Two>() };
    for observed in [false, true] {
        let mut k = FakeKernel::patched();
        k.observed = observed;
        two.useless = Request::new(UselessArgs { value: 15, ..Default::default() });
        two.getpid = Request::new(GetPidArgs {});
        assert!(!abi::is_request_address(&two.useless as *const _ as u64));
        // SAFETY: the request names no buffer.
        let answer = unsafe { k.call_answer(&mut two.useless) };
        assert_eq!(answer.map(|x| x.result()), Ok(Some(Ok(30))));
        assert_eq!(two.useless.answer.result(), Some(Ok(30)), "answered in the caller's request");
        two.useless.answer = Answer::default();
        let mut batch = Batch::<2>::new();
        batch.push(&mut two.useless).unwrap();
        batch.push(&mut two.getpid).unwrap();
        assert_eq!(k.batch(&mut batch), Ok(2), "observed: {observed}");
        let sent = if observed { 4 } else { 2 };
        assert_eq!(k.typed_calls.get(), sent, "observed: {observed}");
        assert_eq!(two.useless.answer.result(), Some(Ok(30)));
        assert_eq!(two.getpid.answer.result(), Some(Ok(4242)));
    }
}

/// A kernel that stops a resumable batch before a call (a pending signal, a seccomp verdict
/// that needs a lone call): the library makes that call alone, then the rest in a new batch,
/// and the answers are those of an uninterrupted batch.
#[test]
fn a_stopped_batch_goes_on_after_its_call_made_alone() {
    use crate::{Batch, BatchError, PackedBatch};
    use abi::ops::{GetPidArgs, UselessArgs};
    for at in 0..3 {
        let k = FakeKernel::patched();
        k.stop_before.set(Some(at));
        let mut a = Request::new(UselessArgs { value: 1, ..Default::default() });
        let mut b = Request::new(GetPidArgs {});
        let mut c = Request::new(UselessArgs { value: 2, ..Default::default() });
        let mut batch = Batch::<3>::new();
        batch.push(&mut a).unwrap();
        batch.push(&mut b).unwrap();
        batch.push(&mut c).unwrap();
        assert_eq!(k.batch(&mut batch), Ok(3), "stopped before call {at}");
        let sent = if at == 2 { 2 } else { 3 };
        assert_eq!(k.typed_calls.get(), sent, "batch, the call alone, the rest (if any)");
        assert_eq!(a.answer.result(), Some(Ok(16)));
        assert_eq!(b.answer.result(), Some(Ok(4242)));
        assert_eq!(c.answer.result(), Some(Ok(17)));

        let k = FakeKernel::patched();
        k.stop_before.set(Some(at));
        let mut packed = PackedBatch::<3>::new();
        packed.push(UselessArgs { value: 1, ..Default::default() }).unwrap();
        packed.push(GetPidArgs {}).unwrap();
        packed.push(UselessArgs { value: 2, ..Default::default() }).unwrap();
        assert_eq!(k.packed_batch(&mut packed), Ok(3), "stopped before call {at}");
        assert_eq!(k.typed_calls.get(), sent);
        assert_eq!(
            [packed.answer(0), packed.answer(1), packed.answer(2)],
            [Some(Ok(16)), Some(Ok(4242)), Some(Ok(17))]
        );
    }
    // The call made alone fails: the batch ends there, as if it had failed inside.
    let k = FakeKernel::patched();
    k.stop_before.set(Some(1));
    let mut packed = PackedBatch::<3>::new();
    packed.push(UselessArgs { value: 1, ..Default::default() }).unwrap();
    packed.push(UselessArgs { value: u32::MAX, ..Default::default() }).unwrap();
    packed.push(GetPidArgs {}).unwrap();
    let failed = BatchError { errno: Errno::EOVERFLOW, completed: 1 };
    assert_eq!(k.packed_batch(&mut packed), Err(failed));
    assert_eq!(packed.answer(1), Some(Err(Errno::EOVERFLOW)));
    assert_eq!(packed.answer(2), None);
    // A kernel of version 3 is never asked to stop (it would refuse the flag).
    let k = FakeKernel::new(3);
    k.stop_before.set(Some(1));
    let mut packed = PackedBatch::<2>::new();
    packed.push(GetPidArgs {}).unwrap();
    packed.push(GetPidArgs {}).unwrap();
    assert_eq!(k.packed_batch(&mut packed), Ok(2));
    assert_eq!(k.typed_calls.get(), 1);
}

/// A packed batch run again starts with every answer pending: a call that does not run the
/// second time shows no answer, not the first run's.
#[test]
fn a_packed_batch_run_again_starts_pending() {
    use crate::PackedBatch;
    use abi::ops::{GetPidArgs, UselessArgs};
    let mut packed = PackedBatch::<2>::new();
    packed.push(GetPidArgs {}).unwrap();
    packed.push(UselessArgs { value: 1, ..Default::default() }).unwrap();
    assert_eq!(FakeKernel::patched().packed_batch(&mut packed), Ok(2));
    assert_eq!([packed.answer(0), packed.answer(1)], [Some(Ok(4242)), Some(Ok(16))]);
    // Now on a kernel that runs none of it.
    let stock = FakeKernel::stock();
    stock.support().choose(Backend::TypedOnly);
    assert_eq!(
        stock.packed_batch(&mut packed),
        Err(BatchError { errno: Errno::ENOSYS, completed: 0 })
    );
    assert_eq!([packed.answer(0), packed.answer(1)], [None, None]);
}

/// The legacy backend never asks the kernel anything, batches included: no opt-in.
#[test]
fn the_legacy_backend_batches_without_opting_in() {
    use crate::{Batch, PackedBatch};
    use abi::ops::GetPidArgs;
    let k = FakeKernel::patched();
    k.support().choose(Backend::Legacy);
    let mut a = Request::new(GetPidArgs {});
    let mut batch = Batch::<1>::new();
    batch.push(&mut a).unwrap();
    assert_eq!(k.batch(&mut batch), Ok(1));
    let mut packed = PackedBatch::<1>::new();
    packed.push(GetPidArgs {}).unwrap();
    assert_eq!(k.packed_batch(&mut packed), Ok(1));
    assert_eq!((k.prctl_calls.get(), k.typed_calls.get()), (0, 0));
}
