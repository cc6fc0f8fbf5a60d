//! Malformed requests: unknown operations, registers that disagree with the header, bad
//! sizes, non-zero flags, reserved fields and padding, older (shorter) and newer (longer)
//! requests, misaligned ones; and every operation of the ABI table in its older and newer
//! sizes.

use ferrocall::abi::{Answer, Errno, Op};
use ferrocall_guest::{check, expect_eq, request_bytes, Outcome, Pages, Test};

use crate::common::{
    answer_of, call_at, close, hostile, hostile_raw, one_of_each, useless_args, useless_request,
    USELESS,
};

fn unknown_operations() -> Outcome {
    let unknown = Op::ALL.len() as u32 + 1;
    for op in [0u32, unknown, 999, 1 << 16, u32::MAX] {
        let bytes = request_bytes(40, op, 0, 0, &useless_args(1));
        hostile_raw(&format!("op {op}"), &bytes, u64::from(op), 40, Err(Errno::ENOSYS))?;
    }
    // An operation number that only matches in its low 32 bits is unknown too.
    let bytes = request_bytes(40, USELESS, 0, 0, &useless_args(1));
    hostile_raw("op 1<<32|1", &bytes, (1 << 32) | 1, 40, Err(Errno::ENOSYS))
}

fn registers_must_match_header() -> Outcome {
    let good = useless_request(1, 40);
    hostile_raw("good", &good, 1, 40, Ok(0))?;
    let other_op = request_bytes(40, 2, 0, 0, &useless_args(1));
    hostile_raw("header op 2, rdi 1", &other_op, 1, 40, Err(Errno::EINVAL))?;
    let other_size = useless_request(1, 48);
    hostile_raw("header size 48, rsi 40", &other_size[..40], 1, 40, Err(Errno::EINVAL))?;
    hostile_raw("header size 40, rsi 48", &useless_request(1, 40), 1, 48, Err(Errno::EINVAL))
}

fn bad_sizes() -> Outcome {
    for size in [0u64, 8, 16, 31] {
        let bytes = useless_request(1, 40);
        hostile_raw(&format!("size {size}"), &bytes, 1, size, Err(Errno::EINVAL))?;
    }
    for size in [4097u64, 1 << 20, 1 << 32 | 40, u64::MAX] {
        let bytes = useless_request(1, 40);
        hostile_raw(&format!("size {size:#x}"), &bytes, 1, size, Err(Errno::E2BIG))?;
    }
    Ok(())
}

fn flags_reserved_and_padding_must_be_zero() -> Outcome {
    // Bit 0 is ANSWER_IN_REGISTERS (every lone call may set it since ABI version 5); any
    // other bit, alone or with it, is refused.
    let flags = request_bytes(40, USELESS, 2, 0, &useless_args(1));
    hostile_raw("flags 2", &flags, 1, 40, Err(Errno::EINVAL))?;
    let flags = request_bytes(40, USELESS, 3, 0, &useless_args(1));
    hostile_raw("flags 3", &flags, 1, 40, Err(Errno::EINVAL))?;
    let flags = request_bytes(40, USELESS, 1 << 31, 0, &useless_args(1));
    hostile_raw("flags 1<<31", &flags, 1, 40, Err(Errno::EINVAL))?;
    let reserved = request_bytes(40, USELESS, 0, 7, &useless_args(1));
    hostile_raw("reserved 7", &reserved, 1, 40, Err(Errno::EINVAL))?;
    let mut pad = useless_args(1);
    pad[4] = 1;
    hostile_raw("pad0 1", &request_bytes(40, USELESS, 0, 0, &pad), 1, 40, Err(Errno::EINVAL))
}

fn older_shorter_request() -> Outcome {
    // A caller that knows no arguments: the missing `value` reads as 0.
    let (r, answer) = call_at(8, &useless_request(99, 32), 1, 32);
    expect_eq("size 32", r, Ok(0))?;
    expect_eq("answer", answer_of(&answer), Answer::done(Ok(15)))
}

fn newer_longer_request() -> Outcome {
    let (r, answer) = call_at(8, &useless_request(15, 64), 1, 64);
    hostile("size 64, zero tail", r, Ok(0))?;
    hostile("answer", answer_of(&answer), Answer::done(Ok(30)))?;
    let mut tail = useless_request(15, 64);
    tail[63] = 1;
    hostile_raw("size 64, non-zero tail", &tail, 1, 64, Err(Errno::E2BIG))?;
    let (r, _) = call_at(0, &useless_request(15, 4096), 1, 4096);
    hostile("size 4096, zero tail", r, Ok(0))?;
    let mut far = useless_request(15, 4096);
    far[4095] = 0x80;
    let (r, _) = call_at(0, &far, 1, 4096);
    hostile("size 4096, last byte set", r, Err(Errno::E2BIG))
}

fn misaligned_request() -> Outcome {
    for offset in [1usize, 4, 12] {
        let (r, answer) = call_at(offset, &useless_request(1, 40), 1, 40);
        hostile(&format!("offset {offset}"), r, Err(Errno::EINVAL))?;
        hostile("answer untouched", answer_of(&answer).state, Answer::PENDING)?;
    }
    Ok(())
}

fn every_operation_accepts_older_and_newer_sizes() -> Outcome {
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| e.to_string())?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&devnull);
    let scratch = Pages::map(1, 0).map_err(|e| e.to_string())?;
    // An operation that answers a new descriptor (Open) has it closed after each call, so
    // that the next one answers the same number.
    let release = |op: Op, answer: &Answer| {
        if op == Op::Open && answer.errno == 0 && answer.state == Answer::DONE {
            close(answer.value as i32);
        }
    };
    for (op, normal) in one_of_each(fd, scratch.addr(0)) {
        let size = normal.len() as u64;
        let (want, answer) = call_at(8, &normal, op as u64, size);
        let want_answer = answer_of(&answer);
        release(op, &want_answer);
        check(want.is_ok(), || format!("{op:?}: the normal request failed: {want:?}"))?;
        // Newer: 16 more bytes this kernel does not know, all zero: the same answer.
        let mut newer = normal.clone();
        newer.extend_from_slice(&[0; 16]);
        newer[0..4].copy_from_slice(&((size + 16) as u32).to_le_bytes());
        let (got, answer) = call_at(8, &newer, op as u64, size + 16);
        release(op, &answer_of(&answer));
        hostile(
            &format!("{op:?}, newer size, zero tail"),
            (got, answer_of(&answer)),
            (want, want_answer),
        )?;
        // Newer with something in the unknown part: E2BIG, and no answer.
        let last = newer.len() - 1;
        newer[last] = 1;
        let (got, answer) = call_at(8, &newer, op as u64, size + 16);
        hostile(
            &format!("{op:?}, newer size, non-zero tail"),
            (got, answer_of(&answer).state),
            (Err(Errno::E2BIG), Answer::PENDING),
        )?;
        // Older: no arguments at all; they read as zero. The answer is whatever the call
        // gives with zero arguments, never a failure to decode.
        let mut older = normal[..32].to_vec();
        older[0..4].copy_from_slice(&32u32.to_le_bytes());
        let (got, answer) = call_at(8, &older, op as u64, 32);
        let answer = answer_of(&answer);
        release(op, &answer);
        check(got.is_ok() || answer.state == Answer::DONE, || {
            format!("{op:?}, 32-byte request: {got:?}, {answer:?}")
        })?;
    }
    Ok(())
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("unknown_operations", unknown_operations),
    ("registers_must_match_header", registers_must_match_header),
    ("bad_sizes", bad_sizes),
    ("flags_reserved_and_padding_must_be_zero", flags_reserved_and_padding_must_be_zero),
    ("older_shorter_request", older_shorter_request),
    ("newer_longer_request", newer_longer_request),
    ("misaligned_request", misaligned_request),
    (
        "every_operation_accepts_older_and_newer_sizes",
        every_operation_accepts_older_and_newer_sizes,
    ),
];
