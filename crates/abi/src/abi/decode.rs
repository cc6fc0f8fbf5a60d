// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The rules the kernel applies to an untrusted typed call, as pure functions.
//!
//! The kernel handler copies the request in once and hands the bytes to [`decode`]; the
//! fake kernel of the user library's tests and the tracer use the same functions, so the
//! rules are tested on the host. Nothing here touches memory other than the slices given.

use core::mem::{offset_of, size_of};

use super::errno::Errno;
use super::layout::{Args, Field, Header, Request};
use super::ops::{Call, Op, MAX_KNOWN_REQUEST_SIZE};
use super::{MAX_REQUEST_SIZE, REQUEST_ALIGN};

/// What the kernel must copy in for a call, decided from the registers alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The operation named in `rdi`.
    pub op: Op,
    /// The request size named in `rsi`.
    pub size: usize,
    /// How many bytes to copy from the start of the request: the size, or the size this
    /// ABI knows for the operation if that is smaller. The rest of a larger request must
    /// be zero, which the kernel checks without keeping it.
    pub copy_len: usize,
    /// The size of the operation's requests in this ABI (`op.request_size()`): the bytes
    /// [`decode`] takes.
    pub known: usize,
}

/// Checks the registers of `ferrocall(op, size, addr)` before anything is copied.
///
/// Errors: `ENOSYS` for an unknown operation, `EINVAL` for a misaligned address or a size
/// too small to hold the header and answer, `E2BIG` for a size above `MAX_REQUEST_SIZE`.
#[inline]
pub fn plan(op: u64, size: u64, addr: u64) -> Result<Plan, Errno> {
    let op = Op::from_raw(op).ok_or(Errno::ENOSYS)?;
    if addr % REQUEST_ALIGN != 0 {
        return Err(Errno::EINVAL);
    }
    if size < Request::<()>::ARGS_OFFSET as u64 {
        return Err(Errno::EINVAL);
    }
    if size > MAX_REQUEST_SIZE {
        return Err(Errno::E2BIG);
    }
    let size = usize::try_from(size).map_err(|_| Errno::E2BIG)?;
    let known = op.request_size();
    Ok(Plan {
        op,
        size,
        copy_len: size.min(known),
        known,
    })
}

/// Plans the next request of a [`Op::PackedBatch`] from its first bytes as copied in
/// (`bytes`, at least its header): the plan a lone call would get with the registers its
/// header names, at `addr`, with `left` bytes of the batch's requests from there on.
///
/// Errors: as [`plan`]; `EINVAL` besides when `bytes` is shorter than the header, the size
/// is not a multiple of [`REQUEST_ALIGN`] (the next request starts where this one ends),
/// the request runs past the end of the requests, or it is a batch operation.
#[inline]
pub fn packed_plan(bytes: &[u8], addr: u64, left: usize) -> Result<Plan, Errno> {
    let size: u32 = Field::decode(bytes, offset_of!(Header, size))?;
    let op: u32 = Field::decode(bytes, offset_of!(Header, op))?;
    let (size, op) = (u64::from(size), u64::from(op));
    if size % REQUEST_ALIGN != 0 || Op::from_raw(op).is_some_and(Op::is_batch) {
        return Err(Errno::EINVAL);
    }
    let plan = plan(op, size, addr)?;
    if plan.size > left {
        return Err(Errno::EINVAL);
    }
    Ok(plan)
}

/// The request at the start of `bytes` (a packed batch's requests as copied in, from one
/// request on) when it takes the common path: its header names a known, non-batch operation
/// and exactly the size this ABI knows for it, sets no flag and no reserved bit, and the
/// whole request is in `bytes`. (The request's alignment is the caller's: every size this
/// ABI knows is a multiple of [`REQUEST_ALIGN`], so requests that follow an aligned one at
/// those sizes are aligned.) Returns the operation, the request's argument bytes, which
/// [`Call::decode_args`] then checks field by field as [`decode`] does, and the bytes after
/// the request.
///
/// `None` says only "not the common path": an older or newer size, a bad header, or a
/// request cut by the end of `bytes`. The caller then takes [`packed_plan`] and [`decode`],
/// which give the errno. For every request it accepts, `packed_plan` and [`decode`] accept
/// it too and decode the same call (a host test checks this over random requests), so the
/// two paths never disagree.
#[inline(always)]
pub fn fast_path(bytes: &[u8]) -> Option<(Op, &[u8], &[u8])> {
    fast_path_of(bytes, false)
}

/// [`fast_path`] for a lone request, which may be a batch (only the calls inside a batch
/// may not): the handler's common path for `ferrocall(op, size, request)`.
#[inline(always)]
pub fn lone_fast_path(bytes: &[u8]) -> Option<(Op, &[u8], &[u8])> {
    fast_path_of(bytes, true)
}

#[inline(always)]
fn fast_path_of(bytes: &[u8], batches: bool) -> Option<(Op, &[u8], &[u8])> {
    let head: &[u8; Header::SIZE] = bytes.first_chunk()?;
    // Two words: `size | op << 32`, then `flags | reserved << 32`, which must be zero.
    let (size_op, flags) = head.split_at(8);
    let size_op = u64::from_le_bytes(size_op.try_into().ok()?);
    if u64::from_le_bytes(flags.try_into().ok()?) != 0 {
        return None;
    }
    let size = usize::try_from(size_op & u64::from(u32::MAX)).ok()?;
    let op = Op::from_raw(size_op >> 32).filter(|op| batches || !op.is_batch())?;
    if op.request_size() != size {
        return None;
    }
    let args = bytes.get(Request::<()>::ARGS_OFFSET..size)?;
    Some((op, args, bytes.get(size..)?))
}

/// What a run of calls of one operation reports to ([`Call::dispatch_run`]): the caller of
/// a packed batch, which decides whether each call may run and keeps its answer.
pub trait Run<Answer> {
    /// Whether the next call, of `op`, may run on the common path (nothing else has to see
    /// it first, and the batch has calls left). `false` ends the run before it.
    fn ready(&mut self, op: Op) -> bool;
    /// The answer of a call that ran. `false` ends the run after it.
    fn answered(&mut self, answer: Answer) -> bool;
}

/// Where a run of calls ([`Call::dispatch_run_in`]) takes its requests from: the caller's
/// copy of them, handed out a window at a time, so that one run may go on past the end of
/// one copy (a packed batch's chunk) into the next without starting again.
pub trait Requests {
    /// The run's requests from byte `used` on (counted from the run's first request): all
    /// of them, or at least `size` bytes (one request of the run's operation) while there
    /// are that many. Fewer than `size` bytes end the run. Each call takes the bytes that
    /// run from one window; a later window may be a new copy of what follows them.
    fn window(&mut self, used: usize, size: usize) -> &[u8];
}

/// A run over one copy of the requests.
impl Requests for &[u8] {
    #[inline(always)]
    fn window(&mut self, used: usize, _size: usize) -> &[u8] {
        self.get(used..).unwrap_or(&[])
    }
}

/// The loop of [`Call::dispatch_run_in`] for the operation of `A`: while the request at
/// `requests`' next byte is whole and its header is the one [`fast_path`] accepts for `A`
/// (exactly its size, its operation, no flag, no reserved bit), and `run` is ready, decodes
/// its arguments (a padding bit set ends the run before the call: the caller's full path
/// then gives the errno) and runs them with `method`. Returns the bytes of the requests
/// that ran; every request it runs, [`fast_path`] and [`Call::decode_args`] accept and
/// decode to the same call (a host test checks this, windows of any size included).
///
/// Out of line: each operation's loop is a function of its own, with its own frame, called
/// once per run. Inlined, the loops of every operation would add up in the frame of the
/// caller, which holds a batch's chunk and answers (the kernel's handler must stay well
/// inside its 16 KiB stack, and `cargo xtask test` checks its frames).
#[inline(never)]
pub fn run_of<A: Args, H: ?Sized, Answer, R: Run<Answer>, Q: Requests>(
    requests: &mut Q,
    handler: &mut H,
    run: &mut R,
    method: impl Fn(&mut H, A) -> Answer,
) -> usize {
    let size = size_of::<Request<A>>();
    let mut used = 0;
    loop {
        let bytes = requests.window(used, size);
        // What is left of the window: the requests before it ran.
        let mut rest = bytes;
        // The bytes of this window that ran: `rest` is a tail of `bytes`.
        let ran = |rest: &[u8]| used.wrapping_add(bytes.len().wrapping_sub(rest.len()));
        while let Some(request) = rest.get(..size) {
            let Some(args) = common_args::<A>(request) else {
                return ran(rest);
            };
            if !run.ready(A::OP) {
                return ran(rest);
            }
            // `request` is the first `size` bytes of `rest`: the rest follows it.
            rest = rest.get(size..).unwrap_or(&[]);
            if !run.answered(method(handler, args)) {
                return ran(rest);
            }
        }
        if rest.len() == bytes.len() {
            return used;
        }
        // The requests ran from windows in memory: their bytes add up to no overflow.
        used = ran(rest);
    }
}

/// The arguments of `request`, a request of `A`'s size: `None` unless its header is the one
/// [`fast_path`] accepts for `A` (its size and operation, no flag, no reserved bit) and its
/// arguments decode (no padding bit set).
#[inline(always)]
fn common_args<A: Args>(request: &[u8]) -> Option<A> {
    // `size | op << 32`, then zero flags and reserved field.
    let head = size_of::<Request<A>>() as u64 | u64::from(A::OP.raw()) << 32;
    let (words, args) = request.split_first_chunk::<{ Header::SIZE }>()?;
    let (first, second) = words.split_at(8);
    let first = first.try_into().map_or(0, u64::from_le_bytes);
    let second = second.try_into().map_or(u64::MAX, u64::from_le_bytes);
    if first != head || second != 0 {
        return None;
    }
    A::decode(args.get(Request::<()>::ARGS_OFFSET - Header::SIZE..)?).ok()
}

/// One call of a `Batch`'s common path ([`Call::dispatch_call_raw`]): runs `bytes`, one
/// request of `A`'s size as copied in, with `method` if its header is the one
/// [`fast_path`] accepts for `A`, its arguments decode and `run` is ready, and hands `run`
/// the answer; whether it ran. [`run_of`]'s checks, for one request, without its loop
/// (out of line for the same reason).
#[inline(never)]
pub fn call_of<A: Args, H: ?Sized, Answer, R: Run<Answer>>(
    bytes: &[u8],
    handler: &mut H,
    run: &mut R,
    method: impl Fn(&mut H, A) -> Answer,
) -> bool {
    let request = bytes.get(..size_of::<Request<A>>());
    let Some(args) = request.and_then(common_args::<A>) else {
        return false;
    };
    if !run.ready(A::OP) {
        return false;
    }
    run.answered(method(handler, args));
    true
}

/// Decodes the request `bytes` that the kernel copied in for `plan`: exactly
/// `plan.known` bytes, the first `plan.copy_len` from the caller and the rest
/// zero. For the calls the kernel answers in place: the handler of `ferrocall(op, size,
/// request)` and the calls of a batch, where no flag is allowed.
///
/// Errors: `EINVAL` if the header disagrees with the registers (`rdi`, `rsi`), sets a flag
/// or the reserved field, or a padding field is not zero.
#[inline(always)]
pub fn decode(plan: &Plan, bytes: &[u8]) -> Result<Call, Errno> {
    decode_with_flags(plan, bytes, 0).map(|(call, _)| call)
}

/// [`decode`] for a lone typed call: the header may also set
/// [`Header::ANSWER_IN_REGISTERS`]. Returns the call and its flags.
#[inline(always)]
pub fn decode_lone(plan: &Plan, bytes: &[u8]) -> Result<(Call, u32), Errno> {
    decode_with_flags(plan, bytes, Header::KNOWN_FLAGS)
}

#[inline(always)]
fn decode_with_flags(plan: &Plan, bytes: &[u8], allowed: u32) -> Result<(Call, u32), Errno> {
    let head: &[u8; Header::SIZE] = bytes
        .get(..Header::SIZE)
        .and_then(|b| b.try_into().ok())
        .ok_or(Errno::EINVAL)?;
    let header = Header {
        size: Field::decode(head, 0)?,
        op: Field::decode(head, 4)?,
        flags: Field::decode(head, 8)?,
        reserved: Field::decode(head, 12)?,
    };
    if u64::from(header.size) != plan.size as u64 || header.op != plan.op.raw() {
        return Err(Errno::EINVAL);
    }
    if header.flags & !allowed != 0 || header.reserved != 0 {
        return Err(Errno::EINVAL);
    }
    let args = bytes
        .get(Request::<()>::ARGS_OFFSET..)
        .ok_or(Errno::EINVAL)?;
    Ok((Call::decode_args(plan.op, args)?, header.flags))
}

/// Decodes a whole request already in the decoder's own memory (`bytes`, the request's
/// `plan.size` bytes), by the rules the kernel applies to its copy: the part this ABI knows,
/// zero-extended when the request is older and shorter, then [`decode`]; a newer request's
/// unknown tail must be zero ([`check_unknown_tail`]). For code that holds the request
/// itself: the user library's legacy backend and its fake kernel (the kernel copies from
/// user memory instead, a chunk at a time).
pub fn decode_request(plan: &Plan, bytes: &[u8]) -> Result<Call, Errno> {
    let known = zero_extended(plan, bytes)?;
    decode(plan, known.get(..plan.known).ok_or(Errno::EINVAL)?)
}

/// [`decode_request`] by the rules of [`decode_lone`]: the call and its flags.
pub fn decode_request_lone(plan: &Plan, bytes: &[u8]) -> Result<(Call, u32), Errno> {
    let known = zero_extended(plan, bytes)?;
    decode_lone(plan, known.get(..plan.known).ok_or(Errno::EINVAL)?)
}

/// The part of the request `bytes` that this ABI knows, zero-extended, after checking that
/// the rest is zero.
fn zero_extended(plan: &Plan, bytes: &[u8]) -> Result<[u8; MAX_KNOWN_REQUEST_SIZE], Errno> {
    let mut known = [0u8; MAX_KNOWN_REQUEST_SIZE];
    let head = bytes.get(..plan.copy_len).ok_or(Errno::EINVAL)?;
    known
        .get_mut(..plan.copy_len)
        .ok_or(Errno::EINVAL)?
        .copy_from_slice(head);
    check_unknown_tail(bytes.get(plan.copy_len..plan.size).ok_or(Errno::EINVAL)?)?;
    Ok(known)
}

/// Checks a chunk of the part of a request that this ABI does not know: it must be zero,
/// else the caller asks for something this kernel cannot do (`E2BIG`).
pub fn check_unknown_tail(chunk: &[u8]) -> Result<(), Errno> {
    // A word at a time: this runs on every byte a newer caller sends.
    let words = chunk.chunks_exact(8);
    let rest = words.remainder();
    let any = words.fold(0u64, |acc, w| {
        acc | w.try_into().map_or(u64::MAX, u64::from_ne_bytes)
    }) | rest.iter().fold(0u64, |acc, &b| acc | u64::from(b));
    if any == 0 {
        Ok(())
    } else {
        Err(Errno::E2BIG)
    }
}
