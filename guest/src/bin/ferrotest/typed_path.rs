//! The typed path works: the seed's demo, `Useless`' edge values, the answer slot, the
//! opt-in's version, the explicit `syscall(1023, op, size, request)` form, and both answer
//! forms of a call with a twin (in place, as ABI version 1 programs expect, and in
//! registers).

use ferrocall::abi::{self, ops::UselessArgs, Answer, Errno, Header, Op, Request};
use ferrocall::{Native, Syscall, TypedCalls};
use ferrocall_guest::{
    expect_eq, ferrocall_status, nr, request_bytes, syscall, typed_raw_registers, Outcome, Pages,
    Test,
};

use crate::common::{answer_of, call_at, useless_request, NR, USELESS};

fn demo_value() -> Outcome {
    expect_eq("useless(15)", ferrocall::useless(15), Ok(30))
}

fn seed_syscall_value() -> Outcome {
    let mut call = Syscall::Useless(15, None);
    call.call();
    expect_eq("Syscall::Useless(15, None).call()", call, Syscall::Useless(15, Some(Ok(30))))
}

fn useless_edge_values() -> Outcome {
    expect_eq("useless(0)", ferrocall::useless(0), Ok(15))?;
    expect_eq("useless(MAX-15)", ferrocall::useless(u32::MAX - 15), Ok(u32::MAX))?;
    expect_eq("useless(MAX-14)", ferrocall::useless(u32::MAX - 14), Err(Errno::EOVERFLOW))?;
    expect_eq("useless(MAX)", ferrocall::useless(u32::MAX), Err(Errno::EOVERFLOW))
}

fn answer_slot_holds_the_result() -> Outcome {
    let mut ok = Request::new(UselessArgs { value: 1, ..Default::default() });
    expect_eq("call", Native.call(&mut ok), Ok(16))?;
    expect_eq("answer", ok.answer, Answer::done(Ok(16)))?;
    let mut err = Request::new(UselessArgs { value: u32::MAX, ..Default::default() });
    expect_eq("call", Native.call(&mut err), Err(Errno::EOVERFLOW))?;
    expect_eq("answer", err.answer, Answer::done(Err(Errno::EOVERFLOW)))?;
    expect_eq("args untouched", err.args.value, u32::MAX)
}

fn opt_in_reports_version() -> Outcome {
    expect_eq("enable()", ferrocall::enable(), Ok(abi::ABI_VERSION))?;
    expect_eq("PR_FERROCALL_STATUS", ferrocall_status(), Ok(1))
}

fn explicit_number_form() -> Outcome {
    // ferrocall(op, size, request) by number: how an interrupted typed call restarts.
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    pages.write(0, &useless_request(20, 40));
    let r = syscall(NR, [u64::from(USELESS), 40, pages.addr(0), 0, 0, 0]);
    expect_eq("syscall(1023, Useless, 40, req)", r, Ok(0))?;
    expect_eq("answer", answer_of(&pages.read(16, 16)), Answer::done(Ok(35)))
}

/// A request of an operation with a twin without flags, as a program built for ABI version
/// 1 sends it, is answered in place: `rax` 0 or `-errno`, the answer in its slot. With
/// `ANSWER_IN_REGISTERS` the twin's result is in `rax` and the slot stays pending. Any
/// other flag is `EINVAL`, with nothing run.
fn both_answer_forms() -> Outcome {
    let pid = syscall(nr::GETPID, [0; 6]).map_err(|e| e.to_string())?;
    let getpid = |flags: u32| {
        call_at(8, &request_bytes(32, Op::GetPid as u32, flags, 0, &[]), Op::GetPid as u64, 32)
    };
    let (r, slot) = getpid(0);
    expect_eq("in place: rax", r, Ok(0))?;
    expect_eq("in place: answer", answer_of(&slot), Answer::done(Ok(pid)))?;
    let (r, slot) = getpid(Header::ANSWER_IN_REGISTERS);
    expect_eq("in registers: rax", r, Ok(pid))?;
    expect_eq("in registers: answer", answer_of(&slot), Answer::default())?;
    let (r, slot) = getpid(2);
    expect_eq("unknown flag: rax", r, Err(Errno::EINVAL))?;
    expect_eq("unknown flag: answer", answer_of(&slot), Answer::default())?;
    // A failing twin in place: read(-1) is EBADF, in the slot too.
    let mut args = (-1i32).to_le_bytes().to_vec();
    args.extend_from_slice(&[0; 4]);
    args.extend_from_slice(&0x1000u64.to_le_bytes());
    args.extend_from_slice(&4u64.to_le_bytes());
    let read = request_bytes(56, Op::Read as u32, 0, 0, &args);
    let (r, slot) = call_at(8, &read, Op::Read as u64, 56);
    expect_eq("read(-1) in place: rax", r, Err(Errno::EBADF))?;
    expect_eq("read(-1) in place: answer", answer_of(&slot), Answer::done(Err(Errno::EBADF)))
}

/// A lone call of an operation without a twin that asks for its answer in registers (ABI
/// version 5): when the operation ran, `rax` is 0 or `-errno`, `rdx` the value and `r10`
/// `Answer::DONE`, and the request's answer slot is not written; a request refused before
/// it ran leaves `r10` 0. Read at entry, and by number (the restart's path), alike.
fn answers_in_registers_without_a_twin() -> Outcome {
    let useless = |value: u32, flags: u32, pad: u32| {
        let mut args = value.to_le_bytes().to_vec();
        args.extend_from_slice(&pad.to_le_bytes());
        request_bytes(40, Op::Useless as u32, flags, 0, &args)
    };
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    let mut call = |bytes: &[u8], number: bool| {
        pages.write(0, bytes);
        let got = if number {
            typed_raw_registers(NR, u64::from(USELESS), 40, addr)
        } else {
            typed_raw_registers(addr, u64::from(USELESS), 40, addr)
        };
        (got, answer_of(&pages.read(16, 16)))
    };
    let air = Header::ANSWER_IN_REGISTERS;
    for number in [false, true] {
        let how = if number { "by number" } else { "typed" };
        let ((r, rdx, r10), slot) = call(&useless(20, air, 0), number);
        expect_eq(&format!("{how}: rax"), r, Ok(0))?;
        expect_eq(&format!("{how}: rdx"), rdx, 35)?;
        expect_eq(&format!("{how}: r10"), r10, u64::from(Answer::DONE))?;
        expect_eq(&format!("{how}: slot"), slot, Answer::default())?;
        // The operation's own failure.
        let ((r, _, r10), slot) = call(&useless(u32::MAX, air, 0), number);
        expect_eq(&format!("{how}: overflow rax"), r, Err(Errno::EOVERFLOW))?;
        expect_eq(&format!("{how}: overflow r10"), r10, u64::from(Answer::DONE))?;
        expect_eq(&format!("{how}: overflow slot"), slot, Answer::default())?;
        // Refused before it ran: a padding bit.
        let ((r, _, r10), slot) = call(&useless(20, air, 1), number);
        expect_eq(&format!("{how}: padding rax"), r, Err(Errno::EINVAL))?;
        expect_eq(&format!("{how}: padding r10"), r10, 0)?;
        expect_eq(&format!("{how}: padding slot"), slot, Answer::default())?;
    }
    // The same request without the flag, as an older program sends it: in place.
    let ((r, _, r10), slot) = call(&useless(20, 0, 0), false);
    expect_eq("in place: rax", r, Ok(0))?;
    expect_eq("in place: r10", r10, 0)?;
    expect_eq("in place: slot", slot, Answer::done(Ok(35)))
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("demo_value", demo_value),
    ("seed_syscall_value", seed_syscall_value),
    ("useless_edge_values", useless_edge_values),
    ("answer_slot_holds_the_result", answer_slot_holds_the_result),
    ("opt_in_reports_version", opt_in_reports_version),
    ("explicit_number_form", explicit_number_form),
    ("both_answer_forms", both_answer_forms),
    ("answers_in_registers_without_a_twin", answers_in_registers_without_a_twin),
];
