//! The guest test suite: runs inside the VM on the patched kernel and prints one
//! `PASS name` / `FAIL name: why` line per test, then `ferrotest: N passed, N failed`.
//!
//! The process opts in to typed calls on its first typed call. Checks that need a process
//! that has not opted in run in a fresh copy of this program (`ferrotest --legacy`): the
//! opt-in does not survive `execve`.

use std::process::Command;

use ferrocall::abi::{self, ops::UselessArgs, Answer, Errno, Op, Request};
use ferrocall::{FillError, Native, Syscall, TypedCalls};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    check, exec, expect_eq, ferrocall_status, in_child, nr, request_bytes, run_tests, syscall,
    typed_raw, Ended, Outcome, Pages, Test, PAGE, PROT_NONE, PROT_READ,
};

const SELF: &str = "/bin/ferrotest";
const USELESS: u32 = abi::Op::Useless as u32;
const NR: u64 = abi::SYSCALL_NR as u64;

fn useless_args(value: u32) -> Vec<u8> {
    let mut a = value.to_le_bytes().to_vec();
    a.extend_from_slice(&[0; 4]);
    a
}

/// A well-formed `Useless(value)` request of `size` bytes (args cut or zero-extended).
fn useless_request(value: u32, size: u32) -> Vec<u8> {
    let mut bytes = request_bytes(size, USELESS, 0, 0, &useless_args(value));
    bytes.resize(size as usize, 0);
    bytes
}

/// Places `bytes` at `offset` of a fresh page pair and makes the typed call with `rax`
/// pointing there and the registers `op`/`size`; returns the result and the answer slot.
fn call_at(offset: usize, bytes: &[u8], op: u64, size: u64) -> (Result<u64, Errno>, Vec<u8>) {
    let mut pages = Pages::map(2, 0).expect("mmap");
    pages.write(offset, bytes);
    let addr = pages.addr(offset);
    let r = typed_raw(addr, op, size, addr);
    let answer = pages.read(offset + 16, 16);
    (r, answer)
}

fn answer_of(bytes: &[u8]) -> Answer {
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    Answer { value: u64_at(0), errno: u32_at(8), state: u32_at(12) }
}

/// How many hostile cases ran: each `hostile*` check is one case of the matrix.
static HOSTILE_CASES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// One case of the hostile-caller matrix: like `expect_eq`, and counted.
fn hostile<T: PartialEq + core::fmt::Debug>(what: &str, got: T, want: T) -> Outcome {
    HOSTILE_CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    expect_eq(what, got, want)
}

/// A hostile case: a raw request placed at a good address, expecting `want`.
fn hostile_raw(what: &str, bytes: &[u8], op: u64, size: u64, want: Result<u64, Errno>) -> Outcome {
    let (r, _) = call_at(8, bytes, op, size);
    hostile(what, r, want)
}

// ---- the typed path works --------------------------------------------------------------

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

// ---- malformed requests ----------------------------------------------------------------

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
    let flags = request_bytes(40, USELESS, 1, 0, &useless_args(1));
    hostile_raw("flags 1", &flags, 1, 40, Err(Errno::EINVAL))?;
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

// ---- bad pointers ----------------------------------------------------------------------

fn bad_addresses_by_number() -> Outcome {
    // Addresses that `rax` cannot carry as a typed call reach the handler this way.
    for addr in [
        0u64,
        8,
        1016,
        0x4000_0000,
        0x0000_8000_0000_0000,
        0x0000_7fff_ffff_f000,
        0xdead_0000_0000_0000,
        0xffff_8000_0000_0000,
        0xffff_ffff_8100_0000,
        0xffff_ffff_ffff_f000,
        u64::MAX - 7,
    ] {
        let r = syscall(NR, [u64::from(USELESS), 40, addr, 0, 0, 0]);
        hostile(&format!("request at {addr:#x}"), r, Err(Errno::EFAULT))?;
    }
    Ok(())
}

fn kernel_addresses_in_rax_are_legacy_numbers() -> Outcome {
    // Not user addresses (even with 5-level paging), so legacy numbers: these low 32 bits
    // name no syscall.
    for rax in [0xffff_ffff_8100_1000u64, 0xffff_8000_0000_1000, 0x0100_0000_0000_1000] {
        hostile(&format!("rax {rax:#x}"), typed_raw(rax, 1, 40, rax), Err(Errno::ENOSYS))?;
    }
    Ok(())
}

fn unmapped_request() -> Outcome {
    let pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.unmap(0).map_err(|e| e.to_string())?;
    let addr = pages.addr(64);
    hostile("unmapped", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

fn request_straddling_into_a_hole() -> Outcome {
    let mut pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.write(PAGE - 24, &useless_request(1, 40)[..24]);
    pages.unmap(1).map_err(|e| e.to_string())?;
    let addr = pages.addr(PAGE - 24);
    hostile("straddling", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

fn unknown_tail_in_a_hole() -> Outcome {
    // The known part is readable, the unknown tail is not.
    let offset = PAGE - 48;
    let mut bytes = useless_request(1, 128);
    bytes.truncate(48);
    let mut pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.write(offset, &bytes);
    pages.write(offset, &128u32.to_le_bytes());
    pages.unmap(1).map_err(|e| e.to_string())?;
    let addr = pages.addr(offset);
    hostile("tail unmapped, sizes agree", typed_raw(addr, 1, 128, addr), Err(Errno::EFAULT))
}

fn read_only_answer_page() -> Outcome {
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    let bytes = useless_request(1, 40);
    pages.write(0, &bytes);
    pages.protect(0, PROT_READ).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    hostile("read-only request", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))?;
    hostile("request unchanged", pages.read(0, 40), bytes)
}

fn inaccessible_request_page() -> Outcome {
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    pages.write(0, &useless_request(1, 40));
    pages.protect(0, PROT_NONE).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    hostile("PROT_NONE request", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

// ---- legacy calls in a process that opted in -------------------------------------------

fn legacy_calls_after_opt_in() -> Outcome {
    expect_eq("status", ferrocall_status(), Ok(1))?;
    legacy_calls_common()?;
    // The x32 range is never a request address: still ENOSYS.
    expect_eq("x32 getpid", syscall(0x4000_0000 | nr::GETPID, [0; 6]), Err(Errno::ENOSYS))?;
    // Documented change: a user address with the upper bits set is a typed call here, not
    // getpid. This one is odd, so the handler rejects it as misaligned.
    let rax = (1 << 32) | nr::GETPID;
    expect_eq("(1<<32)|39", syscall(rax, [1, 40, rax, 0, 0, 0]), Err(Errno::EINVAL))
}

/// Legacy behaviour that is the same whether or not the process opted in.
fn legacy_calls_common() -> Outcome {
    let pid = u64::from(std::process::id());
    expect_eq("getpid", syscall(nr::GETPID, [0; 6]), Ok(pid))?;
    let msg = b"";
    expect_eq(
        "write(1, \"\", 0)",
        syscall(nr::WRITE, [1, msg.as_ptr() as u64, 0, 0, 0, 0]),
        Ok(0),
    )?;
    let (r, w) = pipe()?;
    let data = b"typed";
    expect_eq("write(pipe)", syscall(nr::WRITE, [w, data.as_ptr() as u64, 5, 0, 0, 0]), Ok(5))?;
    let mut buf = [0u8; 8];
    expect_eq("read(pipe)", syscall(nr::READ, [r, buf.as_mut_ptr() as u64, 8, 0, 0, 0]), Ok(5))?;
    expect_eq("data", &buf[..5], &data[..])?;
    expect_eq("nr 463", syscall(463, [0; 6]), Err(Errno::ENOSYS))?;
    expect_eq("nr 1000", syscall(1000, [0; 6]), Err(Errno::ENOSYS))?;
    expect_eq("nr -1", syscall(u64::MAX, [0; 6]), Err(Errno::ENOSYS))?;
    expect_eq("nr -2", syscall(u64::MAX - 1, [0; 6]), Err(Errno::ENOSYS))?;
    expect_eq("x32 nr 1023", syscall(0x4000_0000 | 1023, [0; 6]), Err(Errno::ENOSYS))?;
    check(syscall(3, [r, 0, 0, 0, 0, 0]).is_ok() && syscall(3, [w, 0, 0, 0, 0, 0]).is_ok(), || {
        "close failed".into()
    })
}

fn pipe() -> Result<(u64, u64), String> {
    let mut fds = [0i32; 2];
    syscall(22, [fds.as_mut_ptr() as u64, 0, 0, 0, 0, 0]).map_err(|e| format!("pipe: {e}"))?;
    Ok((fds[0] as u64, fds[1] as u64))
}

// ---- processes and threads -------------------------------------------------------------

fn fork_keeps_the_opt_in() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let pid = syscall(nr::FORK, [0; 6]).map_err(|e| format!("fork: {e}"))?;
    if pid == 0 {
        // The child: only raw calls, then leave.
        let ok = ferrocall_status() == Ok(1) && ferrocall::useless(5) == Ok(20);
        let _ = syscall(nr::EXIT_GROUP, [if ok { 0 } else { 1 }, 0, 0, 0, 0, 0]);
        unreachable!();
    }
    let mut status = 0i32;
    syscall(nr::WAIT4, [pid, &mut status as *mut i32 as u64, 0, 0, 0, 0])
        .map_err(|e| format!("wait4: {e}"))?;
    expect_eq("child exit status (0: opted in, Useless worked)", status, 0)
}

fn threads_share_the_opt_in() -> Outcome {
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            std::thread::spawn(move || {
                (0..200u32).all(|i| ferrocall::useless(t * 1000 + i) == Ok(t * 1000 + i + 15))
            })
        })
        .collect();
    let all = handles.into_iter().all(|h| h.join().unwrap_or(false));
    check(all, || "a thread got a wrong answer".into())
}

fn exec_clears_the_opt_in() -> Outcome {
    let out = Command::new(SELF).arg("--status").output().map_err(|e| e.to_string())?;
    expect_eq("status after execve", String::from_utf8_lossy(&out.stdout).trim(), "0")
}

fn legacy_process_suite() -> Outcome {
    let out = Command::new(SELF).arg("--legacy").output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut failures = Vec::new();
    // Its results count as tests of their own: `PASS legacy/name`.
    for line in text.lines() {
        match line.split_once(' ') {
            Some((verdict @ ("PASS" | "FAIL"), rest)) => {
                println!("{verdict} legacy/{rest}");
                if verdict == "FAIL" {
                    failures.push(rest.to_string());
                }
            }
            _ => println!("  legacy process: {line}"),
        }
    }
    check(out.status.success() && failures.is_empty() && text.contains("PASS"), || {
        format!("{} ({failures:?})", out.status)
    })
}

// ---- the process that never opted in ---------------------------------------------------

fn legacy_not_opted_in() -> Outcome {
    expect_eq("status", ferrocall_status(), Ok(0))
}

fn legacy_upper_bits_ignored() -> Outcome {
    let pid = u64::from(std::process::id());
    expect_eq("(1<<32)|39", syscall((1 << 32) | nr::GETPID, [0; 6]), Ok(pid))?;
    expect_eq("(0xdead<<32)|39", syscall((0xdead << 32) | nr::GETPID, [0; 6]), Ok(pid))?;
    expect_eq("x32 getpid", syscall(0x4000_0000 | nr::GETPID, [0; 6]), Err(Errno::ENOSYS))
}

fn legacy_request_address_is_a_number() -> Outcome {
    // A valid request at an address whose low 32 bits name no syscall: without the opt-in
    // it is a legacy number (ENOSYS), and the kernel does not touch the request.
    let mut pages = Pages::map(1, 0x7e00_0000_2000).map_err(|e| format!("mmap: {e}"))?;
    pages.write(0, &useless_request(15, 40));
    let addr = pages.addr(0);
    expect_eq("request in rax", typed_raw(addr, 1, 40, addr), Err(Errno::ENOSYS))?;
    expect_eq("answer untouched", answer_of(&pages.read(16, 16)).state, Answer::PENDING)?;
    expect_eq("syscall 1023", syscall(NR, [1, 40, addr, 0, 0, 0]), Err(Errno::ENOSYS))?;
    expect_eq("answer untouched", answer_of(&pages.read(16, 16)).state, Answer::PENDING)
}

fn legacy_thread_started_before_opt_in() -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        rx.recv().ok();
        ferrocall::useless(100)
    });
    let version = ferrocall::enable();
    tx.send(()).ok();
    expect_eq("enable", version, Ok(abi::ABI_VERSION))?;
    expect_eq("useless in an older thread", worker.join().ok(), Some(Ok(115)))
}

// ---- real operations -------------------------------------------------------------------

fn getpid_and_getppid_match_legacy() -> Outcome {
    expect_eq("getpid", ferrocall::getpid().map(u64::from), syscall(nr::GETPID, [0; 6]))?;
    expect_eq("getppid", ferrocall::getppid().map(u64::from), syscall(nr::GETPPID, [0; 6]))?;
    let (ended, _) = in_child(|| {
        let same = ferrocall::getpid().map(u64::from) == syscall(nr::GETPID, [0; 6])
            && ferrocall::getppid().map(u64::from) == syscall(nr::GETPPID, [0; 6]);
        i32::from(!same)
    })
    .map_err(|e| e.to_string())?;
    expect_eq("in a child", ended, Ended::Exited(0))
}

fn nonblocking_pipe() -> Result<(i32, i32), String> {
    const O_NONBLOCK: u64 = 0o4000;
    let mut fds = [0i32; 2];
    syscall(293, [fds.as_mut_ptr() as u64, O_NONBLOCK, 0, 0, 0, 0])
        .map_err(|e| format!("pipe2: {e}"))?;
    Ok((fds[0], fds[1]))
}

fn close(fd: i32) {
    let _ = syscall(nr::CLOSE, [fd as u64, 0, 0, 0, 0, 0]);
}

fn write_and_read_through_a_pipe() -> Outcome {
    let (r, w) = nonblocking_pipe()?;
    expect_eq("typed write", ferrocall::write(w, b"typed bytes"), Ok(11))?;
    expect_eq("typed write of nothing", ferrocall::write(w, b""), Ok(0))?;
    let mut buf = [0u8; 32];
    expect_eq("typed read", ferrocall::read(r, &mut buf[..5]), Ok(5))?;
    expect_eq("bytes", &buf[..5], b"typed")?;
    expect_eq(
        "legacy read of the rest",
        syscall(nr::READ, [r as u64, buf.as_mut_ptr() as u64, 32, 0, 0, 0]),
        Ok(6),
    )?;
    expect_eq("empty non-blocking pipe", ferrocall::read(r, &mut buf), Err(Errno::EAGAIN))?;
    close(w);
    expect_eq("end of file", ferrocall::read(r, &mut buf), Ok(0))?;
    close(r);
    expect_eq("closed fd", ferrocall::read(r, &mut buf), Err(Errno::EBADF))?;
    expect_eq("never opened fd", ferrocall::write(999, b"x"), Err(Errno::EBADF))?;
    expect_eq("negative fd", ferrocall::write(-1, b"x"), Err(Errno::EBADF))
}

fn partial_write_like_legacy() -> Outcome {
    // A non-blocking pipe takes 64 KiB: both paths report the same short count.
    let data = vec![7u8; 100_000];
    let (r1, w1) = nonblocking_pipe()?;
    let legacy = syscall(nr::WRITE, [w1 as u64, data.as_ptr() as u64, data.len() as u64, 0, 0, 0]);
    let (r2, w2) = nonblocking_pipe()?;
    let typed = ferrocall::write(w2, &data).map(|n| n as u64);
    for fd in [r1, w1, r2, w2] {
        close(fd);
    }
    check(matches!(legacy, Ok(n) if n < data.len() as u64), || format!("legacy wrote {legacy:?}"))?;
    expect_eq("typed vs legacy partial write", typed, legacy)
}

/// A raw `Write`/`Read` request with every field chosen.
fn io_request(op: Op, fd: i32, addr: u64, len: u64) -> Vec<u8> {
    let mut args = fd.to_le_bytes().to_vec();
    args.extend_from_slice(&[0; 4]);
    args.extend_from_slice(&addr.to_le_bytes());
    args.extend_from_slice(&len.to_le_bytes());
    request_bytes(56, op as u32, 0, 0, &args)
}

fn bad_io_buffers() -> Outcome {
    let (r, w) = nonblocking_pipe()?;
    let cases: Vec<(&str, Op, i32, u64, u64, Errno)> = vec![
        ("write from NULL", Op::Write, w, 0, 8, Errno::EFAULT),
        ("write from a kernel address", Op::Write, w, 0xffff_ffff_8100_0000, 8, Errno::EFAULT),
        (
            "write from a non-canonical address",
            Op::Write,
            w,
            0x0100_0000_0000_0000,
            8,
            Errno::EFAULT,
        ),
        ("write with a huge length", Op::Write, w, 0x1000, 1 << 63, Errno::EINVAL),
        ("write with u64::MAX length", Op::Write, w, 0x1000, u64::MAX, Errno::EINVAL),
        ("write wrapping the address space", Op::Write, w, u64::MAX - 0xfff, 0x2000, Errno::EFAULT),
        ("read into NULL", Op::Read, r, 0, 8, Errno::EFAULT),
        ("read into a kernel address", Op::Read, r, 0xffff_8880_0000_0000, 8, Errno::EFAULT),
    ];
    // Make the reads have data, so they really copy.
    let _ = ferrocall::write(w, &[1u8; 64]);
    for (what, op, fd, addr, len, want) in cases {
        let (got, _) = call_at(8, &io_request(op, fd, addr, len), op as u64, 56);
        hostile(what, got, Err(want))?;
    }
    // A read-only page as the destination of a read, an unmapped one as the source of a
    // write. The requests are placed first: nothing may be allocated between making the
    // hole and the call, or the allocator could map the hole again.
    let pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    let (ro, hole) = (pages.addr(0), pages.addr(PAGE));
    let mut reqs = Pages::map(1, 0).map_err(|e| e.to_string())?;
    reqs.write(0, &io_request(Op::Read, r, ro, 8));
    reqs.write(64, &io_request(Op::Write, w, hole, 8));
    pages.protect(0, PROT_READ).map_err(|e| e.to_string())?;
    pages.unmap(1).map_err(|e| e.to_string())?;
    let read_ro = typed_raw(reqs.addr(0), Op::Read as u64, 56, reqs.addr(0));
    let write_hole = typed_raw(reqs.addr(64), Op::Write as u64, 56, reqs.addr(64));
    hostile("read into a read-only page", read_ro, Err(Errno::EFAULT))?;
    hostile("write from an unmapped page", write_hole, Err(Errno::EFAULT))?;
    close(r);
    close(w);
    Ok(())
}

fn older_write_request() -> Outcome {
    // A caller that knows only `fd`: the missing buffer reads as empty.
    let (r, w) = nonblocking_pipe()?;
    let mut bytes = io_request(Op::Write, w, 0x1000, 8);
    bytes.truncate(40);
    bytes[0..4].copy_from_slice(&40u32.to_le_bytes());
    let (got, answer) = call_at(8, &bytes, Op::Write as u64, 40);
    close(r);
    close(w);
    expect_eq("40-byte Write", got, Ok(0))?;
    expect_eq("answer", answer_of(&answer), Answer::done(Ok(0)))
}

fn exit_ends_the_process() -> Outcome {
    let (ended, _) = in_child(|| {
        ferrocall::exit(42);
        1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("exit(42)", ended, Ended::Exited(42))?;
    let (ended, _) = in_child(|| {
        ferrocall::exit(0x1ff);
        1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("exit(0x1ff)", ended, Ended::Exited(0xff))?;
    // Every thread ends, not just the caller.
    let (ended, _) = in_child(|| {
        let _ = std::thread::spawn(|| loop {
            std::thread::park();
        });
        ferrocall::exit(7);
        1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("exit with another thread", ended, Ended::Exited(7))
}

fn legacy_getcwd() -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; 4096];
    let n = syscall(nr::GETCWD, [buf.as_mut_ptr() as u64, 4096, 0, 0, 0, 0])
        .map_err(|e| e.to_string())?;
    buf.truncate(n as usize);
    Ok(buf)
}

fn getcwd_matches_legacy() -> Outcome {
    for dir in [&b"/\0"[..], b"/tmp\0", b"/proc\0"] {
        syscall(nr::CHDIR, [dir.as_ptr() as u64, 0, 0, 0, 0, 0])
            .map_err(|e| format!("chdir: {e}"))?;
        let want = legacy_getcwd()?;
        let mut buf = [0u8; 64];
        let got = ferrocall::getcwd(&mut buf).map(|n| buf[..n].to_vec());
        expect_eq("getcwd", got, Ok(want.clone()))?;
        let mut small = vec![0u8; want.len() - 1];
        expect_eq(
            "too small",
            ferrocall::getcwd(&mut small),
            Err(FillError::TooSmall(want.len())),
        )?;
        expect_eq("empty", ferrocall::getcwd(&mut []), Err(FillError::TooSmall(want.len())))?;
    }
    let read_only = Pages::map(1, 0).map_err(|e| e.to_string())?;
    read_only.protect(0, PROT_READ).map_err(|e| e.to_string())?;
    let mut args = read_only.addr(0).to_le_bytes().to_vec();
    args.extend_from_slice(&64u64.to_le_bytes());
    let (got, answer) =
        call_at(8, &request_bytes(48, Op::GetCwd as u32, 0, 0, &args), Op::GetCwd as u64, 48);
    expect_eq("getcwd into a read-only page", got, Err(Errno::EFAULT))?;
    expect_eq("answer", answer_of(&answer), Answer::done(Err(Errno::EFAULT)))?;
    syscall(nr::CHDIR, [c"/".as_ptr() as u64, 0, 0, 0, 0, 0])
        .map(drop)
        .map_err(|e| e.to_string())?;
    // A deleted working directory has no path: ENOENT, as getcwd() says.
    let dir = c"/tmp/gone";
    syscall(83, [dir.as_ptr() as u64, 0o755, 0, 0, 0, 0]).map_err(|e| format!("mkdir: {e}"))?;
    syscall(nr::CHDIR, [dir.as_ptr() as u64, 0, 0, 0, 0, 0]).map_err(|e| format!("chdir: {e}"))?;
    syscall(84, [dir.as_ptr() as u64, 0, 0, 0, 0, 0]).map_err(|e| format!("rmdir: {e}"))?;
    let legacy = syscall(nr::GETCWD, [0x1000, 0, 0, 0, 0, 0]).err();
    let mut buf = [0u8; 64];
    let typed = ferrocall::getcwd(&mut buf);
    syscall(nr::CHDIR, [c"/".as_ptr() as u64, 0, 0, 0, 0, 0]).map_err(|e| e.to_string())?;
    expect_eq("legacy getcwd in a deleted directory", legacy, Some(Errno::ENOENT))?;
    expect_eq("typed GetCwd in a deleted directory", typed, Err(FillError::Errno(Errno::ENOENT)))
}

fn probe_matches_the_table() -> Outcome {
    let mut buf = [0u8; 256];
    let n = Native.probe(&mut buf).map_err(|e| e.to_string())?;
    expect_eq("probe size", n, abi::ops::PROBE_SIZE)?;
    let (header, entries) = abi::ops::parse_probe(&buf[..n]).ok_or("unparsable probe")?;
    expect_eq("version", header.version, abi::ABI_VERSION)?;
    let got: Vec<(u32, u32)> = entries.map(|e| (e.op, e.request_size)).collect();
    let want: Vec<(u32, u32)> =
        Op::ALL.iter().map(|o| (o.raw(), o.request_size() as u32)).collect();
    expect_eq("operations", got, want)?;
    expect_eq(
        "too small",
        Native.probe(&mut buf[..8]),
        Err(FillError::TooSmall(abi::ops::PROBE_SIZE)),
    )?;
    check(Op::ALL.iter().all(|op| ferrocall::supports(*op)), || "supports() is false".into())
}

// ---- seccomp -----------------------------------------------------------------------------

const HELLO: &[u8] = b"/bin/hello\0";
const DEMO: &[u8] = b"/bin/demo\0";

/// Only what a typed-only program needs: `execve` to start it, the opt-in, and typed
/// `Write` and `Exit`. Anything else kills the process.
fn typed_only_filter() -> Vec<seccomp::Insn> {
    let nr_typed = abi::SYSCALL_NR;
    seccomp::program(
        &[
            Rule { nr: nr::EXECVE as u32, arg0: None, action: seccomp::ALLOW },
            Rule {
                nr: nr::PRCTL as u32,
                arg0: Some(u64::from(abi::PR_FERROCALL)),
                action: seccomp::ALLOW,
            },
            Rule { nr: nr_typed, arg0: Some(Op::Write as u64), action: seccomp::ALLOW },
            Rule { nr: nr_typed, arg0: Some(Op::Exit as u64), action: seccomp::ALLOW },
        ],
        seccomp::KILL_PROCESS,
    )
}

fn hello_uses_only_typed_calls() -> Outcome {
    check(std::path::Path::new("/bin/hello").exists(), || "/bin/hello is missing".into())?;
    let filter = typed_only_filter();
    let (ended, out) = in_child(|| match seccomp::install(&filter) {
        Ok(()) => exec(HELLO).raw().into(),
        Err(_) => 100,
    })
    .map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out).into_owned();
    expect_eq("hello's end and output", (ended, out), (Ended::Exited(0), "Hello, world!\n".into()))
}

fn typed_only_filter_kills_legacy_calls() -> Outcome {
    // The control: the std demo makes legacy calls at startup, and the filter kills it.
    let filter = typed_only_filter();
    let (ended, out) = in_child(|| match seccomp::install(&filter) {
        Ok(()) => exec(DEMO).raw().into(),
        Err(_) => 100,
    })
    .map_err(|e| e.to_string())?;
    const SIGSYS: i32 = 31;
    expect_eq("demo's end", ended, Ended::Killed(SIGSYS))?;
    expect_eq("demo's output", out, Vec::new())
}

fn seccomp_sees_typed_calls_as_one_number() -> Outcome {
    // Deny number 1023: every typed call fails, legacy calls go on.
    let deny = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(Errno::EPERM) }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&deny).is_err() {
            return 100;
        }
        let mut failures = 0;
        failures += i32::from(ferrocall::useless(1) != Err(Errno::EPERM));
        failures += i32::from(ferrocall::getpid() != Err(Errno::EPERM));
        failures += i32::from(
            syscall(abi::SYSCALL_NR.into(), [1, 40, 0x1000, 0, 0, 0]) != Err(Errno::EPERM),
        );
        failures += i32::from(syscall(nr::GETPID, [0; 6]).is_err());
        failures
    })
    .map_err(|e| e.to_string())?;
    expect_eq("typed calls denied, legacy allowed (failures)", ended, Ended::Exited(0))
}

fn seccomp_filters_by_operation() -> Outcome {
    // Allow Useless only; other operations get EACCES. The operation the filter sees is
    // `rdi`, and the kernel runs that one or nothing.
    let only_useless = seccomp::program(
        &[
            Rule { nr: abi::SYSCALL_NR, arg0: Some(Op::Useless as u64), action: seccomp::ALLOW },
            Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(Errno::EACCES) },
        ],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&only_useless).is_err() {
            return 100;
        }
        let mut failures = 0;
        failures += i32::from(ferrocall::useless(1) != Ok(16));
        failures += i32::from(ferrocall::getpid() != Err(Errno::EACCES));
        failures += i32::from(ferrocall::write(1, b"x") != Err(Errno::EACCES));
        // A GetPid request sent with rdi = Useless: the filter allows it, the kernel refuses
        // it because the request says otherwise.
        let mut req = Request::new(ferrocall::abi::ops::GetPidArgs {});
        let addr = &mut req as *mut _ as u64;
        failures += i32::from(typed_raw(addr, Op::Useless as u64, 32, addr) != Err(Errno::EINVAL));
        failures
    })
    .map_err(|e| e.to_string())?;
    expect_eq("failures", ended, Ended::Exited(0))
}

// ---- every operation: older and newer request sizes ------------------------------------

/// A normal request for every operation (Exit excluded: it would end the test), with the
/// buffers it needs; `/dev/null` for the file descriptors.
fn one_of_each(devnull: i32, scratch: u64) -> Vec<(Op, Vec<u8>)> {
    let buf = |addr: u64, len: u64| {
        let mut b = addr.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b
    };
    let io = |fd: i32, addr: u64, len: u64| {
        let mut b = fd.to_le_bytes().to_vec();
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&buf(addr, len));
        b
    };
    let mut out = Vec::new();
    for op in Op::ALL.iter().copied().filter(|&op| op != Op::Exit) {
        let args = match op {
            Op::Useless => useless_args(7),
            Op::Write => io(devnull, scratch, 16),
            Op::Read => io(devnull, scratch, 16),
            Op::GetCwd | Op::Probe => buf(scratch, 512),
            Op::Batch => buf(scratch, 0),
            Op::PackedBatch => [buf(scratch, 0), buf(scratch, 0)].concat(),
            _ => Vec::new(),
        };
        out.push((op, request_bytes(op.request_size() as u32, op as u32, 0, 0, &args)));
    }
    out
}

fn every_operation_accepts_older_and_newer_sizes() -> Outcome {
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| e.to_string())?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&devnull);
    let scratch = Pages::map(1, 0).map_err(|e| e.to_string())?;
    for (op, normal) in one_of_each(fd, scratch.addr(0)) {
        let size = normal.len() as u64;
        let (want, answer) = call_at(8, &normal, op as u64, size);
        let want_answer = answer_of(&answer);
        check(want.is_ok(), || format!("{op:?}: the normal request failed: {want:?}"))?;
        // Newer: 16 more bytes this kernel does not know, all zero: the same answer.
        let mut newer = normal.clone();
        newer.extend_from_slice(&[0; 16]);
        newer[0..4].copy_from_slice(&((size + 16) as u32).to_le_bytes());
        let (got, answer) = call_at(8, &newer, op as u64, size + 16);
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
        check(got.is_ok() || answer.state == Answer::DONE, || {
            format!("{op:?}, 32-byte request: {got:?}, {answer:?}")
        })?;
    }
    Ok(())
}

/// Legacy seccomp and ptrace, the same with and without ferrocall: a filter refuses
/// `getppid`, a tracer turns `getppid` into `getpid` or skips it.
fn legacy_seccomp_and_ptrace() -> Outcome {
    let refuse = seccomp::program(
        &[Rule { nr: nr::GETPPID as u32, arg0: None, action: seccomp::errno(Errno::EPERM) }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&refuse).is_err() {
            return 100;
        }
        i32::from(syscall(nr::GETPPID, [0; 6]) != Err(Errno::EPERM))
            | i32::from(syscall(nr::GETPID, [0; 6]).is_err()) << 1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("seccomp ERRNO on getppid", ended, Ended::Exited(0))?;
    let mut calls = 0;
    let ended = traced(
        || {
            let pid = syscall(nr::GETPID, [0; 6]);
            i32::from(syscall(nr::GETPPID, [0; 6]) != pid)
                | i32::from(syscall(nr::GETPPID, [0; 6]) != Err(Errno::ENOSYS)) << 1
        },
        |regs| {
            if regs.orig_rax != nr::GETPPID {
                return false;
            }
            calls += 1;
            regs.orig_rax = if calls == 1 { nr::GETPID } else { u64::MAX };
            true
        },
    )?;
    expect_eq("a tracer rewriting getppid", ended, Ended::Exited(0))
}

// ---- batches -----------------------------------------------------------------------------

fn batch_runs_every_call() -> Outcome {
    use ferrocall::abi::ops::{GetPidArgs, ReadArgs, WriteArgs};
    use ferrocall::Batch;
    let (r, w) = nonblocking_pipe()?;
    let data = b"batched";
    let mut into = [0u8; 16];
    let mut a = Request::new(UselessArgs { value: 5, ..Default::default() });
    let mut b = Request::new(GetPidArgs {});
    let mut c = Request::new(WriteArgs {
        fd: w,
        buf: abi::UserBuf::from_slice(data),
        ..Default::default()
    });
    let mut d = Request::new(ReadArgs {
        fd: r,
        buf: abi::UserBufMut::from_mut_slice(&mut into),
        ..Default::default()
    });
    let mut batch = Batch::<4>::new();
    batch.push(&mut a).map_err(|e| e.to_string())?;
    batch.push(&mut b).map_err(|e| e.to_string())?;
    // SAFETY: `data` and `into` outlive the batch and are not touched until it has run.
    unsafe { batch.push_unchecked(&mut c) }.map_err(|e| e.to_string())?;
    // SAFETY: as above.
    unsafe { batch.push_unchecked(&mut d) }.map_err(|e| e.to_string())?;
    let result = ferrocall::batch(&mut batch);
    close(r);
    close(w);
    expect_eq("batch", result, Ok(4))?;
    expect_eq("Useless", a.answer.result(), Some(Ok(20)))?;
    expect_eq("GetPid", b.answer.result(), Some(Ok(u64::from(std::process::id()))))?;
    expect_eq("Write", c.answer.result(), Some(Ok(7)))?;
    expect_eq("Read after the Write", d.answer.result(), Some(Ok(7)))?;
    expect_eq("bytes", &into[..7], data)
}

fn batch_stops_at_the_first_failure() -> Outcome {
    use ferrocall::abi::ops::GetPidArgs;
    use ferrocall::{Batch, BatchError};
    let mut ok = Request::new(UselessArgs { value: 1, ..Default::default() });
    let mut bad = Request::new(UselessArgs { value: u32::MAX, ..Default::default() });
    let mut never = Request::new(GetPidArgs {});
    let mut batch = Batch::<3>::new();
    batch.push(&mut ok).map_err(|e| e.to_string())?;
    batch.push(&mut bad).map_err(|e| e.to_string())?;
    batch.push(&mut never).map_err(|e| e.to_string())?;
    let result = ferrocall::batch(&mut batch);
    expect_eq("batch", result, Err(BatchError { errno: Errno::EOVERFLOW, completed: 1 }))?;
    expect_eq("first", ok.answer.result(), Some(Ok(16)))?;
    expect_eq("second", bad.answer.result(), Some(Err(Errno::EOVERFLOW)))?;
    expect_eq("third, never run", never.answer.state, Answer::PENDING)
}

/// A raw `Batch` request over `entries` (each `op`, `size`, `addr`).
fn raw_batch(entries: &[(u32, u32, u64)]) -> (Result<u64, Errno>, Answer) {
    let mut bytes = Vec::new();
    for (op, size, addr) in entries {
        bytes.extend_from_slice(&op.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&addr.to_le_bytes());
    }
    let mut args = (bytes.as_ptr() as u64).to_le_bytes().to_vec();
    args.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    let (r, answer) =
        call_at(8, &request_bytes(48, Op::Batch as u32, 0, 0, &args), Op::Batch as u64, 48);
    (r, answer_of(&answer))
}

fn hostile_batches() -> Outcome {
    let mut good = Pages::map(1, 0).map_err(|e| e.to_string())?;
    good.write(0, &useless_request(1, 40));
    let g = good.addr(0);
    let (r, a) = raw_batch(&[(1, 40, g), (1, 40, 0), (1, 40, g)]);
    hostile("entry with a NULL request", (r, a.value), (Err(Errno::EFAULT), 1))?;
    let (r, a) = raw_batch(&[(1, 40, g), (Op::Batch as u32, 48, g)]);
    hostile("a batch inside a batch", (r, a.value), (Err(Errno::EINVAL), 1))?;
    let (r, _) = raw_batch(&[(1, 40, 0xffff_ffff_8100_0000)]);
    hostile("entry with a kernel address", r, Err(Errno::EFAULT))?;
    let (r, _) = raw_batch(&[(1, 48, g)]);
    hostile("entry whose size disagrees", r, Err(Errno::EINVAL))?;
    let (r, _) = raw_batch(&[(Op::Exit as u32 + 100, 40, g)]);
    hostile("entry with an unknown operation", r, Err(Errno::ENOSYS))?;
    let (r, a) = raw_batch(&[]);
    hostile("empty batch", (r, a.result()), (Ok(0), Some(Ok(0))))?;
    // The entry array itself.
    for (what, addr, len, want) in [
        ("entries at NULL", 0u64, 16u64, Errno::EFAULT),
        ("entries in kernel memory", 0xffff_ffff_8100_0000, 16, Errno::EFAULT),
        ("entries of a partial size", g, 15, Errno::EINVAL),
        ("too many entries", g, 16 * 1025, Errno::E2BIG),
        ("entries wrapping", u64::MAX - 7, 16, Errno::EFAULT),
    ] {
        let mut args = addr.to_le_bytes().to_vec();
        args.extend_from_slice(&len.to_le_bytes());
        let (r, _) =
            call_at(8, &request_bytes(48, Op::Batch as u32, 0, 0, &args), Op::Batch as u64, 48);
        hostile(what, r, Err(want))?;
    }
    Ok(())
}

/// A batch's result and the answers of its calls.
type BatchOutcome = (Result<usize, ferrocall::BatchError>, [Option<Result<u64, Errno>>; 2]);

/// Runs `Useless(1)` then `GetPid` in one batch, packed or not.
fn useless_then_getpid(packed: bool) -> BatchOutcome {
    use ferrocall::abi::ops::GetPidArgs;
    use ferrocall::{Batch, PackedBatch};
    let useless = UselessArgs { value: 1, ..Default::default() };
    if packed {
        let mut batch = PackedBatch::<2>::new();
        let _ = batch.push(useless);
        let _ = batch.push(GetPidArgs {});
        let r = ferrocall::packed_batch(&mut batch);
        (r, [batch.answer(0), batch.answer(1)])
    } else {
        let mut a = Request::new(useless);
        let mut b = Request::new(GetPidArgs {});
        let mut batch = Batch::<2>::new();
        let _ = batch.push(&mut a);
        let _ = batch.push(&mut b);
        let r = ferrocall::batch(&mut batch);
        (r, [a.answer.result(), b.answer.result()])
    }
}

fn batches_obey_seccomp_per_call() -> Outcome {
    use ferrocall::BatchError;
    for (packed, op) in [(false, Op::Batch), (true, Op::PackedBatch)] {
        // The batch and Useless are allowed, GetPid is refused: inside a batch too.
        let filter = seccomp::program(
            &[
                Rule { nr: abi::SYSCALL_NR, arg0: Some(op as u64), action: seccomp::ALLOW },
                Rule {
                    nr: abi::SYSCALL_NR,
                    arg0: Some(Op::Useless as u64),
                    action: seccomp::ALLOW,
                },
                Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(Errno::EACCES) },
            ],
            seccomp::ALLOW,
        );
        let (ended, _) = in_child(|| {
            if seccomp::install(&filter).is_err() {
                return 100;
            }
            let (r, [a, b]) = useless_then_getpid(packed);
            i32::from(r != Err(BatchError { errno: Errno::EACCES, completed: 1 }))
                | i32::from(a != Some(Ok(16))) << 1
                | i32::from(b.is_some()) << 2
        })
        .map_err(|e| e.to_string())?;
        expect_eq(&format!("{op:?}: child's failure bits"), ended, Ended::Exited(0))?;
        // A filter that kills on GetPid kills a batch that holds one.
        let kill = kill_on_typed(Op::GetPid);
        let (ended, _) = in_child(|| {
            if seccomp::install(&kill).is_err() {
                return 100;
            }
            let _ = useless_then_getpid(packed);
            1
        })
        .map_err(|e| e.to_string())?;
        expect_eq(&format!("{op:?}: KILL_PROCESS inside"), ended, Ended::Killed(libc::SIGSYS))?;
    }
    Ok(())
}

fn packed_batch_runs_every_call() -> Outcome {
    use ferrocall::abi::ops::{GetPidArgs, GetPpidArgs, ReadArgs, WriteArgs};
    use ferrocall::PackedBatch;
    let (r, w) = nonblocking_pipe()?;
    let data = b"packed";
    let mut into = [0u8; 16];
    let mut batch = PackedBatch::<200>::new();
    let e = |e: Errno| e.to_string();
    batch.push(UselessArgs { value: 5, ..Default::default() }).map_err(e)?;
    batch.push(GetPidArgs {}).map_err(e)?;
    batch.push(GetPpidArgs {}).map_err(e)?;
    let write = WriteArgs { fd: w, buf: abi::UserBuf::from_slice(data), ..Default::default() };
    // SAFETY: `data` and `into` outlive the batch and are not touched until it has run.
    unsafe { batch.push_unchecked(write) }.map_err(e)?;
    let read =
        ReadArgs { fd: r, buf: abi::UserBufMut::from_mut_slice(&mut into), ..Default::default() };
    // SAFETY: as above.
    unsafe { batch.push_unchecked(read) }.map_err(e)?;
    // Enough requests of mixed sizes to cross several of the kernel's chunks and answer
    // groups, with requests straddling chunk boundaries.
    while batch.len() < 200 {
        let i = batch.len() as u32;
        if i % 3 == 0 {
            batch.push(GetPidArgs {}).map_err(e)?;
        } else {
            batch.push(UselessArgs { value: i, ..Default::default() }).map_err(e)?;
        }
    }
    let result = ferrocall::packed_batch(&mut batch);
    close(r);
    close(w);
    expect_eq("packed batch", result, Ok(200))?;
    let pid = u64::from(std::process::id());
    let ppid = syscall(nr::GETPPID, [0; 6]).map_err(e)?;
    expect_eq("Useless", batch.answer(0), Some(Ok(20)))?;
    expect_eq("GetPid", batch.answer(1), Some(Ok(pid)))?;
    expect_eq("GetPpid", batch.answer(2), Some(Ok(ppid)))?;
    expect_eq("Write", batch.answer(3), Some(Ok(6)))?;
    expect_eq("Read after the Write", batch.answer(4), Some(Ok(6)))?;
    expect_eq("bytes", &into[..6], data)?;
    for i in 5..200u32 {
        let want = if i % 3 == 0 { pid } else { u64::from(i) + 15 };
        expect_eq(&format!("call {i}"), batch.answer(i as usize), Some(Ok(want)))?;
    }
    Ok(())
}

fn packed_batch_stops_at_the_first_failure() -> Outcome {
    use ferrocall::abi::ops::GetPidArgs;
    use ferrocall::{BatchError, PackedBatch};
    let mut batch = PackedBatch::<3>::new();
    let e = |e: Errno| e.to_string();
    batch.push(UselessArgs { value: 1, ..Default::default() }).map_err(e)?;
    batch.push(UselessArgs { value: u32::MAX, ..Default::default() }).map_err(e)?;
    batch.push(GetPidArgs {}).map_err(e)?;
    let result = ferrocall::packed_batch(&mut batch);
    expect_eq("packed batch", result, Err(BatchError { errno: Errno::EOVERFLOW, completed: 1 }))?;
    expect_eq("first", batch.answer(0), Some(Ok(16)))?;
    expect_eq("second", batch.answer(1), Some(Err(Errno::EOVERFLOW)))?;
    expect_eq("third, never run", batch.answer(2), None)
}

/// A raw `PackedBatch` request over `requests` (at `req_at`, `req_len`) with answers at
/// `ans_at` (`ans_len` bytes).
fn raw_packed(
    req_at: u64,
    req_len: u64,
    ans_at: u64,
    ans_len: u64,
) -> (Result<u64, Errno>, Answer) {
    let mut args = Vec::new();
    for word in [req_at, req_len, ans_at, ans_len] {
        args.extend_from_slice(&word.to_le_bytes());
    }
    let op = Op::PackedBatch as u32;
    let (r, answer) = call_at(8, &request_bytes(64, op, 0, 0, &args), u64::from(op), 64);
    (r, answer_of(&answer))
}

fn hostile_packed_batches() -> Outcome {
    let mut pages = Pages::map(3, 0).map_err(|e| e.to_string())?;
    let (req, ans) = (pages.addr(0), pages.addr(PAGE));
    // Write `requests` back to back at the start of page 0 and run them; the answers go to
    // page 1.
    let run = |pages: &mut Pages, requests: &[Vec<u8>], count: u64| {
        let bytes: Vec<u8> = requests.concat();
        pages.write(0, &bytes);
        raw_packed(req, bytes.len() as u64, ans, count * 16)
    };
    let one = useless_request(1, 40);
    let (r, a) = run(&mut pages, &[one.clone(), one.clone()], 2);
    hostile("two good requests", (r, a.result()), (Ok(0), Some(Ok(2))))?;
    let (r, a) = run(&mut pages, &[one.clone(), useless_request(1, 44)], 2);
    hostile("a request size not a multiple of 8", (r, a.value), (Err(Errno::EINVAL), 1))?;
    let (r, a) = run(&mut pages, std::slice::from_ref(&one), 2);
    hostile("more answers than requests", (r, a.value), (Err(Errno::EINVAL), 1))?;
    let nested = request_bytes(64, Op::PackedBatch as u32, 0, 0, &[0; 32]);
    let (r, a) = run(&mut pages, &[one.clone(), nested], 2);
    hostile("a packed batch inside a packed batch", (r, a.value), (Err(Errno::EINVAL), 1))?;
    let batch = request_bytes(48, Op::Batch as u32, 0, 0, &[0; 16]);
    let (r, _) = run(&mut pages, &[batch], 1);
    hostile("a batch inside a packed batch", r, Err(Errno::EINVAL))?;
    let (r, _) = run(&mut pages, &[request_bytes(40, Op::Exit as u32 + 100, 0, 0, &[0; 8])], 1);
    hostile("an unknown operation in a packed batch", r, Err(Errno::ENOSYS))?;
    let mut tail = useless_request(1, 48);
    tail[44] = 1;
    let (r, _) = run(&mut pages, &[tail], 1);
    hostile("a newer request with a non-zero tail", r, Err(Errno::E2BIG))?;
    let (r, a) = run(&mut pages, &[useless_request(1, 48), useless_request(2, 32)], 2);
    hostile("newer and older requests", (r, a.result()), (Ok(0), Some(Ok(2))))?;
    // The zero-extended older request computed 0 + 15.
    let second = answer_of(&pages.read(PAGE + 16, 16));
    hostile("the older request's answer", second.result(), Some(Ok(15)))?;
    let mut flagged = useless_request(1, 40);
    flagged[8] = 1;
    let (r, a) = run(&mut pages, &[one.clone(), flagged], 2);
    hostile("an unknown flag in a packed request", (r, a.value), (Err(Errno::EINVAL), 1))?;
    // The buffers themselves.
    pages.write(0, &one);
    for (what, req_at, req_len, ans_at, ans_len, want) in [
        ("requests at NULL", 0u64, 40u64, ans, 16u64, Errno::EFAULT),
        ("requests in kernel memory", 0xffff_ffff_8100_0000, 40, ans, 16, Errno::EFAULT),
        ("requests wrapping", u64::MAX - 7, 40, ans, 16, Errno::EFAULT),
        ("requests in an unmapped page", pages.addr(2 * PAGE), 40, ans, 16, Errno::EFAULT),
        ("answers of a partial size", req, 40, ans, 15, Errno::EINVAL),
        ("too many answers", req, 40, ans, 16 * 1025, Errno::E2BIG),
        ("answers in kernel memory", req, 40, 0xffff_ffff_8100_0000, 16, Errno::EFAULT),
        ("answers in a read-only page", req, 40, pages.addr(2 * PAGE), 16, Errno::EFAULT),
    ] {
        if what == "requests in an unmapped page" {
            pages.unmap(2).map_err(|e| e.to_string())?;
        }
        if what == "answers in a read-only page" {
            let ro = Pages::map(1, 0).map_err(|e| e.to_string())?;
            ro.protect(0, PROT_READ).map_err(|e| e.to_string())?;
            let (r, _) = raw_packed(req_at, req_len, ro.addr(0), ans_len);
            hostile(what, r, Err(want))?;
            continue;
        }
        let (r, _) = raw_packed(req_at, req_len, ans_at, ans_len);
        hostile(what, r, Err(want))?;
    }
    let (r, a) = raw_packed(req, 0, ans, 0);
    hostile("an empty packed batch", (r, a.result()), (Ok(0), Some(Ok(0))))
}

/// `Exit` inside a batch ends the process there, with its status, as a lone `Exit` would.
fn exit_inside_a_batch() -> Outcome {
    use ferrocall::abi::ops::ExitArgs;
    use ferrocall::{Batch, PackedBatch};
    for packed in [false, true] {
        let (ended, _) = in_child(move || {
            if packed {
                let mut batch = PackedBatch::<3>::new();
                let _ = batch.push(UselessArgs { value: 1, ..Default::default() });
                let _ = batch.push(ExitArgs { code: 7, ..Default::default() });
                let _ = batch.push(UselessArgs { value: 2, ..Default::default() });
                let _ = ferrocall::packed_batch(&mut batch);
            } else {
                let mut a = Request::new(UselessArgs { value: 1, ..Default::default() });
                let mut exit = Request::new(ExitArgs { code: 7, ..Default::default() });
                let mut batch = Batch::<2>::new();
                let _ = batch.push(&mut a);
                let _ = batch.push(&mut exit);
                let _ = ferrocall::batch(&mut batch);
            }
            // Reached only if the Exit did not end the process.
            1
        })
        .map_err(|e| e.to_string())?;
        let what = if packed { "Exit in a packed batch" } else { "Exit in a batch" };
        expect_eq(what, ended, Ended::Exited(7))?;
    }
    Ok(())
}

// ---- ptrace and the tracer --------------------------------------------------------------

/// Runs `ferrotrace -o FILE` on `program` and returns the trace.
fn trace_of(program: &[&str]) -> Result<String, String> {
    let path = "/tmp/trace.txt";
    let status = Command::new("/bin/ferrotrace")
        .args(["-o", path])
        .args(program)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("ferrotrace: {e}"))?;
    let trace = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    check(status.success(), || format!("ferrotrace {program:?} ended with {status}:\n{trace}"))?;
    Ok(trace)
}

fn expect_line(trace: &str, want: &str) -> Outcome {
    check(trace.lines().any(|l| l.contains(want)), || format!("no line with `{want}` in:\n{trace}"))
}

fn ferrotrace_decodes_hello() -> Outcome {
    let trace = trace_of(&["/bin/hello"])?;
    expect_line(&trace, &format!("syscall 157({:#x}, 0x1,", abi::PR_FERROCALL))?;
    expect_line(&trace, r#"Write { fd: 1, pad0: 0, buf: "Hello, world!\n" (14 bytes) } = Ok(14)"#)?;
    expect_line(&trace, "Exit { code: 0, pad0: 0 } = ?")?;
    expect_line(&trace, "+++ exited with 0 +++")?;
    // After the exec: nothing but the opt-in and the typed calls.
    let after_exec = trace.split("] syscall 59(").nth(1).unwrap_or_default();
    let legacy = after_exec.lines().filter(|l| l.contains("] syscall ")).count();
    expect_eq("legacy calls after hello's execve (just the opt-in)", legacy, 1)
}

fn ferrotrace_decodes_the_demo_and_errors() -> Outcome {
    let trace = trace_of(&["/bin/demo"])?;
    expect_line(&trace, "Useless { value: 15, pad0: 0 } = Ok(30)")?;
    let trace = trace_of(&[SELF, "--trace-target"])?;
    expect_line(&trace, "Useless { value: 4294967295, pad0: 0 } = Err(EOVERFLOW)")?;
    expect_line(&trace, "GetCwd { buf: ")?;
    expect_line(&trace, r#"(2 bytes) } = Ok(2) "/\x00""#)?;
    expect_line(&trace, "(1 bytes) } = Err(ERANGE) value 2")?;
    expect_line(&trace, "Read { fd: -1, pad0: 0, buf: ")?;
    // Traced, a batch is refused and its calls come one by one, up to the failing one.
    expect_line(&trace, "Batch { entries: ")?;
    expect_line(&trace, "= Err(EOPNOTSUPP)")?;
    expect_line(&trace, "batch: Useless { value: 1, pad0: 0 } = pending")?;
    expect_line(&trace, "batch: GetPid = pending")?;
    expect_line(&trace, "] Useless { value: 1, pad0: 0 } = Ok(16)")?;
    expect_line(&trace, "= Err(EBADF)")
}

fn ferrotrace_follows_forks_and_threads() -> Outcome {
    let trace = trace_of(&[SELF, "--trace-target"])?;
    let pids: std::collections::BTreeSet<&str> = trace
        .lines()
        .filter(|l| l.contains("] GetPid = Ok("))
        .filter_map(|l| l.split(']').next())
        .collect();
    check(pids.len() >= 3, || {
        format!(
            "GetPid from {} tasks, want the process, its thread and its child:\n{trace}",
            pids.len()
        )
    })
}

/// The `--trace-target` mode: typed calls in the main thread, a second thread and a child.
fn trace_target() {
    let _ = ferrocall::useless(u32::MAX);
    let _ = ferrocall::getpid();
    let _ = ferrocall::getcwd(&mut [0u8; 2]);
    let _ = ferrocall::getcwd(&mut [0u8; 1]);
    let _ = ferrocall::read(-1, &mut [0u8; 4]);
    let mut one = Request::new(UselessArgs { value: 1, ..Default::default() });
    let mut two = Request::new(UselessArgs { value: u32::MAX, ..Default::default() });
    let mut three = Request::new(abi::ops::GetPidArgs {});
    let mut batch = ferrocall::Batch::<3>::new();
    let _ = batch.push(&mut one);
    let _ = batch.push(&mut two);
    let _ = batch.push(&mut three);
    let _ = ferrocall::batch(&mut batch);
    let _ = std::thread::spawn(ferrocall::getpid).join();
    let _ = in_child(|| {
        let _ = ferrocall::getpid();
        0
    });
}

/// Forks a child that stops for its tracer and then runs `child`; `tracer` sees each
/// syscall-entry stop of the child (with `PTRACE_GETREGS` registers it may change) until
/// the child exits. Returns the child's exit status.
fn traced(
    child: fn() -> i32,
    mut on_entry: impl FnMut(&mut libc::user_regs_struct) -> bool,
) -> Result<Ended, String> {
    // SAFETY: fork; the child makes raw system calls and typed calls only, then exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        // SAFETY: no pointers; the child stops until its parent traces it.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
        }
        let code = child();
        let _ = syscall(nr::EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]);
        unreachable!();
    }
    let mut status = 0;
    let mut entering = true;
    // SAFETY: ptrace requests on our stopped child, with valid pointers to `regs`/`status`.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
        libc::ptrace(
            libc::PTRACE_SETOPTIONS,
            pid,
            0,
            libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_EXITKILL,
        );
        libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0);
        loop {
            libc::waitpid(pid, &mut status, 0);
            if libc::WIFEXITED(status) {
                return Ok(Ended::Exited(libc::WEXITSTATUS(status)));
            }
            if libc::WIFSIGNALED(status) {
                return Ok(Ended::Killed(libc::WTERMSIG(status)));
            }
            if libc::WSTOPSIG(status) == libc::SIGTRAP | 0x80 {
                if entering {
                    let mut regs: libc::user_regs_struct = core::mem::zeroed();
                    libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs);
                    if on_entry(&mut regs) {
                        libc::ptrace(libc::PTRACE_SETREGS, pid, 0, &regs);
                    }
                }
                entering = !entering;
            }
            libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0);
        }
    }
}

fn ptrace_sees_and_rewrites_typed_calls() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let ended = traced(
        || {
            // 1: rewritten to getpid; 2: skipped; 3: a legacy getppid turned into a typed
            // GetPid by the tracer; 4: untouched.
            let mut failures = 0;
            let mut req = Request::new(UselessArgs { value: 1, ..Default::default() });
            failures += i32::from(
                Native.call(&mut req) != Err(Errno::EIO) || req.answer.state != Answer::PENDING,
            );
            failures += i32::from(ferrocall::useless(2) != Err(Errno::ENOSYS)) << 1;
            let mut getpid = Request::new(abi::ops::GetPidArgs {});
            let addr = &mut getpid as *mut _ as u64;
            let r = syscall(nr::GETPPID, [Op::GetPid as u64, 32, addr, 0, 0, 0]);
            let pid = syscall(nr::GETPID, [0; 6]).unwrap_or(0);
            failures += i32::from(r != Ok(0) || getpid.answer.result() != Some(Ok(pid))) << 2;
            failures += i32::from(ferrocall::useless(3) != Ok(18)) << 3;
            failures
        },
        |regs| {
            seen.push((regs.orig_rax, regs.rdi));
            match (regs.orig_rax, regs.rdi, seen.iter().filter(|s| s.0 == 1023).count()) {
                (1023, 1, 1) => regs.orig_rax = nr::GETPID,
                (1023, 1, 2) => regs.orig_rax = u64::MAX,
                (110, _, _) => regs.orig_rax = 1023,
                _ => return false,
            }
            true
        },
    )?;
    check(seen.contains(&(1023, Op::Useless as u64)), || {
        format!("the tracer never saw syscall 1023 with op 1: {seen:?}")
    })?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn a_traced_batch_is_seen_call_by_call() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let mut ops = Vec::new();
    let ended = traced(
        || {
            let mut a = Request::new(UselessArgs { value: 1, ..Default::default() });
            let mut b = Request::new(abi::ops::GetPidArgs {});
            let mut batch = ferrocall::Batch::<2>::new();
            let _ = batch.push(&mut a);
            let _ = batch.push(&mut b);
            let r = ferrocall::batch(&mut batch);
            let pid = syscall(nr::GETPID, [0; 6]).unwrap_or(0);
            i32::from(r != Ok(2))
                | i32::from(a.answer.result() != Some(Ok(16))) << 1
                | i32::from(b.answer.result() != Some(Ok(pid))) << 2
        },
        |regs| {
            if regs.orig_rax == 1023 {
                ops.push(regs.rdi);
            }
            false
        },
    )?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))?;
    // The batch is refused (EOPNOTSUPP) and each call comes alone, in order.
    expect_eq(
        "operations the tracer saw",
        ops,
        vec![Op::Batch as u64, Op::Useless as u64, Op::GetPid as u64],
    )
}

/// The syscall tracepoints (`raw_syscalls:sys_enter` through tracefs) show a typed call as
/// system call 1023 with the operation, size and request address as its arguments; while
/// they are on, the kernel refuses batches and each call shows alone, in order.
fn syscall_tracepoints_see_typed_calls() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let dir = "/tmp/tracing";
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    // SAFETY: plain C strings; mounting tracefs touches no memory of ours afterwards.
    let mounted = unsafe {
        libc::mount(
            c"tracefs".as_ptr(),
            c"/tmp/tracing".as_ptr(),
            c"tracefs".as_ptr(),
            0,
            core::ptr::null(),
        )
    };
    if mounted != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EBUSY) {
        return Err(format!("mount tracefs: {}", std::io::Error::last_os_error()));
    }
    let set = |file: &str, value: &str| {
        std::fs::write(format!("{dir}/{file}"), value).map_err(|e| format!("{file}: {e}"))
    };
    let event = "events/raw_syscalls/sys_enter";
    set("tracing_on", "0")?;
    set("trace", "")?;
    set(&format!("{event}/filter"), "id == 1023")?;
    set(&format!("{event}/enable"), "1")?;
    set("tracing_on", "1")?;
    let mut request = Request::new(UselessArgs { value: 4242, ..Default::default() });
    let lone = Native.call(&mut request);
    let at = core::ptr::from_ref(&request) as u64;
    let (batch, _) = useless_then_getpid(false);
    let (packed, _) = useless_then_getpid(true);
    set("tracing_on", "0")?;
    set(&format!("{event}/enable"), "0")?;
    set(&format!("{event}/filter"), "0")?;
    let trace = std::fs::read_to_string(format!("{dir}/trace")).map_err(|e| e.to_string())?;
    expect_eq("the lone call", lone, Ok(4257))?;
    expect_eq("the batch, made call by call", batch, Ok(2))?;
    expect_eq("the packed batch, made call by call", packed, Ok(2))?;
    // `sys_enter: NR 1023 (1, 28, 7ffc…, 0, 0, 0)`: the arguments in hex.
    let calls: Vec<Vec<u64>> = trace
        .lines()
        .filter_map(|line| line.split_once("sys_enter: NR 1023 (")?.1.strip_suffix(')'))
        .map(|args| args.split(", ").filter_map(|a| u64::from_str_radix(a, 16).ok()).collect())
        .collect();
    let first = calls.first().map(|c| c.get(..3).unwrap_or(&[]).to_vec());
    expect_eq("the lone call's arguments", first, Some(vec![Op::Useless as u64, 40, at]))?;
    let ops: Vec<u64> = calls.iter().filter_map(|c| c.first().copied()).collect();
    let (useless, getpid) = (Op::Useless as u64, Op::GetPid as u64);
    expect_eq(
        "operations the tracepoint saw",
        ops,
        vec![useless, Op::Batch as u64, useless, getpid, Op::PackedBatch as u64, useless, getpid],
    )
}

fn ptrace_rewrite_in_a_legacy_process() -> Outcome {
    // Without the opt-in, a tracer that turns a call into 1023 gets ENOSYS, as before.
    let out = Command::new(SELF)
        .args(["--only", "legacy_tracer_cannot_make_typed_calls"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    check(out.status.success() && text.contains("PASS"), || format!("{}: {text}", out.status))
}

fn legacy_tracer_cannot_make_typed_calls() -> Outcome {
    let ended = traced(
        || {
            let mut req = Request::new(abi::ops::GetPidArgs {});
            let addr = &mut req as *mut _ as u64;
            let r = syscall(nr::GETPPID, [Op::GetPid as u64, 32, addr, 0, 0, 0]);
            i32::from(r != Err(Errno::ENOSYS) || req.answer.state != Answer::PENDING)
        },
        |regs| {
            if regs.orig_rax == nr::GETPPID {
                regs.orig_rax = 1023;
                return true;
            }
            false
        },
    )?;
    expect_eq("child", ended, Ended::Exited(0))
}

// ---- seccomp actions ---------------------------------------------------------------------

static SIGSYS_INFO: [std::sync::atomic::AtomicU32; 3] = [
    std::sync::atomic::AtomicU32::new(0),
    std::sync::atomic::AtomicU32::new(0),
    std::sync::atomic::AtomicU32::new(0),
];

extern "C" fn on_sigsys(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo; for SIGSYS, `_call_addr` is at 16,
    // `_syscall` at 24 and `_arch` at 28 (struct siginfo's _sigsys member).
    unsafe {
        let base = info as *const u8;
        SIGSYS_INFO[0].store((*info).si_signo as u32, std::sync::atomic::Ordering::SeqCst);
        SIGSYS_INFO[1].store(
            core::ptr::read_unaligned(base.add(24) as *const u32),
            std::sync::atomic::Ordering::SeqCst,
        );
        SIGSYS_INFO[2].store(
            core::ptr::read_unaligned(base.add(28) as *const u32),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

fn seccomp_trap_reports_1023() -> Outcome {
    let trap = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::TRAP }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        // SAFETY: all-zero bytes are a valid sigaction; the handler only stores atomics.
        let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
        sa.sa_sigaction = on_sigsys
            as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
            as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        // SAFETY: a valid action for SIGSYS.
        if unsafe { libc::sigaction(libc::SIGSYS, &sa, core::ptr::null_mut()) } != 0
            || seccomp::install(&trap).is_err()
        {
            return 100;
        }
        let r = ferrocall::useless(1);
        let info: Vec<u32> =
            SIGSYS_INFO.iter().map(|a| a.load(std::sync::atomic::Ordering::SeqCst)).collect();
        // The call did not run (no answer); the signal named syscall 1023 on x86_64.
        i32::from(r.is_ok()) | i32::from(info != [libc::SIGSYS as u32, 1023, 0xc000_003e]) << 1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

/// A filter that allows everything but the typed operation `op`, which kills the process.
fn kill_on_typed(op: Op) -> Vec<seccomp::Insn> {
    seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: Some(op as u64), action: seccomp::KILL_PROCESS }],
        seccomp::ALLOW,
    )
}

fn seccomp_kill_and_trace_actions() -> Outcome {
    let kill = kill_on_typed(Op::GetPid);
    let (ended, _) = in_child(|| {
        if seccomp::install(&kill).is_err() {
            return 100;
        }
        if ferrocall::useless(1) != Ok(16) {
            return 1;
        }
        let _ = ferrocall::getpid();
        2
    })
    .map_err(|e| e.to_string())?;
    expect_eq("KILL_PROCESS on GetPid", ended, Ended::Killed(libc::SIGSYS))?;
    // SECCOMP_RET_TRACE with no tracer attached: the call fails with ENOSYS.
    let trace = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::TRACE }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&trace).is_err() {
            return 100;
        }
        i32::from(ferrocall::useless(1) != Err(Errno::ENOSYS))
    })
    .map_err(|e| e.to_string())?;
    expect_eq("TRACE without a tracer", ended, Ended::Exited(0))
}

// ---- a kernel without ferrocall ---------------------------------------------------------

fn stock_opt_in_fails() -> Outcome {
    expect_eq("enable()", ferrocall::enable(), Err(Errno::ENOSYS))?;
    expect_eq("PR_FERROCALL_STATUS", ferrocall_status(), Err(Errno::EINVAL))?;
    expect_eq(
        "syscall 1023",
        syscall(abi::SYSCALL_NR.into(), [1, 40, 0x1000, 0, 0, 0]),
        Err(Errno::ENOSYS),
    )
}

fn stock_every_wrapper_is_enosys() -> Outcome {
    let (r, w) = nonblocking_pipe()?;
    expect_eq("useless", ferrocall::useless(15), Err(Errno::ENOSYS))?;
    expect_eq("getpid", ferrocall::getpid(), Err(Errno::ENOSYS))?;
    expect_eq("getppid", ferrocall::getppid(), Err(Errno::ENOSYS))?;
    expect_eq("write", ferrocall::write(w, b"must not arrive"), Err(Errno::ENOSYS))?;
    expect_eq("read", ferrocall::read(r, &mut [0; 8]), Err(Errno::ENOSYS))?;
    expect_eq("getcwd", ferrocall::getcwd(&mut [0; 64]), Err(FillError::Errno(Errno::ENOSYS)))?;
    expect_eq("probe", Native.probe(&mut [0; 256]), Err(FillError::Errno(Errno::ENOSYS)))?;
    check(!ferrocall::supports(Op::Useless), || "supports(Useless) on a stock kernel".into())?;
    expect_eq("exit returns", ferrocall::exit(3), Errno::ENOSYS)?;
    let mut seed = Syscall::Useless(15, None);
    seed.call();
    expect_eq("seed demo", seed, Syscall::Useless(15, Some(Err(Errno::ENOSYS))))?;
    // Nothing was written: the pipe is empty.
    let mut buf = [0u8; 8];
    let left = syscall(nr::READ, [r as u64, buf.as_mut_ptr() as u64, 8, 0, 0, 0]);
    close(r);
    close(w);
    expect_eq("pipe after the typed write", left, Err(Errno::EAGAIN))
}

const MAIN_TESTS: &[Test] = &[
    ("demo_value", demo_value),
    ("seed_syscall_value", seed_syscall_value),
    ("useless_edge_values", useless_edge_values),
    ("answer_slot_holds_the_result", answer_slot_holds_the_result),
    ("opt_in_reports_version", opt_in_reports_version),
    ("explicit_number_form", explicit_number_form),
    ("unknown_operations", unknown_operations),
    ("registers_must_match_header", registers_must_match_header),
    ("bad_sizes", bad_sizes),
    ("flags_reserved_and_padding_must_be_zero", flags_reserved_and_padding_must_be_zero),
    ("older_shorter_request", older_shorter_request),
    ("newer_longer_request", newer_longer_request),
    ("misaligned_request", misaligned_request),
    ("bad_addresses_by_number", bad_addresses_by_number),
    ("kernel_addresses_in_rax_are_legacy_numbers", kernel_addresses_in_rax_are_legacy_numbers),
    ("unmapped_request", unmapped_request),
    ("request_straddling_into_a_hole", request_straddling_into_a_hole),
    ("unknown_tail_in_a_hole", unknown_tail_in_a_hole),
    ("read_only_answer_page", read_only_answer_page),
    ("inaccessible_request_page", inaccessible_request_page),
    ("getpid_and_getppid_match_legacy", getpid_and_getppid_match_legacy),
    ("write_and_read_through_a_pipe", write_and_read_through_a_pipe),
    ("partial_write_like_legacy", partial_write_like_legacy),
    ("bad_io_buffers", bad_io_buffers),
    ("older_write_request", older_write_request),
    ("exit_ends_the_process", exit_ends_the_process),
    ("getcwd_matches_legacy", getcwd_matches_legacy),
    ("probe_matches_the_table", probe_matches_the_table),
    ("hello_uses_only_typed_calls", hello_uses_only_typed_calls),
    ("typed_only_filter_kills_legacy_calls", typed_only_filter_kills_legacy_calls),
    ("seccomp_sees_typed_calls_as_one_number", seccomp_sees_typed_calls_as_one_number),
    ("seccomp_filters_by_operation", seccomp_filters_by_operation),
    ("seccomp_trap_reports_1023", seccomp_trap_reports_1023),
    (
        "every_operation_accepts_older_and_newer_sizes",
        every_operation_accepts_older_and_newer_sizes,
    ),
    ("batch_runs_every_call", batch_runs_every_call),
    ("batch_stops_at_the_first_failure", batch_stops_at_the_first_failure),
    ("hostile_batches", hostile_batches),
    ("batches_obey_seccomp_per_call", batches_obey_seccomp_per_call),
    ("packed_batch_runs_every_call", packed_batch_runs_every_call),
    ("packed_batch_stops_at_the_first_failure", packed_batch_stops_at_the_first_failure),
    ("hostile_packed_batches", hostile_packed_batches),
    ("exit_inside_a_batch", exit_inside_a_batch),
    ("seccomp_kill_and_trace_actions", seccomp_kill_and_trace_actions),
    ("ferrotrace_decodes_hello", ferrotrace_decodes_hello),
    ("ferrotrace_decodes_the_demo_and_errors", ferrotrace_decodes_the_demo_and_errors),
    ("ferrotrace_follows_forks_and_threads", ferrotrace_follows_forks_and_threads),
    ("ptrace_sees_and_rewrites_typed_calls", ptrace_sees_and_rewrites_typed_calls),
    ("ptrace_rewrite_in_a_legacy_process", ptrace_rewrite_in_a_legacy_process),
    ("a_traced_batch_is_seen_call_by_call", a_traced_batch_is_seen_call_by_call),
    ("syscall_tracepoints_see_typed_calls", syscall_tracepoints_see_typed_calls),
    ("legacy_calls_after_opt_in", legacy_calls_after_opt_in),
    ("fork_keeps_the_opt_in", fork_keeps_the_opt_in),
    ("threads_share_the_opt_in", threads_share_the_opt_in),
    ("exec_clears_the_opt_in", exec_clears_the_opt_in),
    ("legacy_process_suite", legacy_process_suite),
];

const LEGACY_TESTS: &[Test] = &[
    ("not_opted_in", legacy_not_opted_in),
    ("legacy_calls", legacy_calls_common),
    ("upper_bits_ignored", legacy_upper_bits_ignored),
    ("request_address_is_a_number", legacy_request_address_is_a_number),
    ("legacy_tracer_cannot_make_typed_calls", legacy_tracer_cannot_make_typed_calls),
    ("legacy_seccomp_and_ptrace", legacy_seccomp_and_ptrace),
    // Last: it opts this process in.
    ("thread_started_before_opt_in", legacy_thread_started_before_opt_in),
];

const STOCK_TESTS: &[Test] = &[
    ("stock/opt_in_fails", stock_opt_in_fails),
    ("stock/every_wrapper_is_enosys", stock_every_wrapper_is_enosys),
    ("stock/legacy_calls", legacy_calls_common),
    ("stock/upper_bits_ignored", legacy_upper_bits_ignored),
    ("stock/seccomp_and_ptrace", legacy_seccomp_and_ptrace),
    ("stock/tracer_cannot_make_typed_calls", legacy_tracer_cannot_make_typed_calls),
];

fn main() {
    let mode = std::env::args().nth(1);
    let tests = match mode.as_deref() {
        None => MAIN_TESTS,
        Some("--legacy") => LEGACY_TESTS,
        Some("--stock") => STOCK_TESTS,
        Some("--only") => {
            let name = std::env::args().nth(2).unwrap_or_default();
            let all = MAIN_TESTS.iter().chain(LEGACY_TESTS).chain(STOCK_TESTS);
            let picked: Vec<Test> =
                all.filter(|(n, _)| n.contains(name.as_str())).copied().collect();
            std::process::exit(i32::from(run_tests(&picked) != 0));
        }
        Some("--trace-target") => {
            trace_target();
            return;
        }
        Some("--status") => {
            println!("{}", ferrocall_status().unwrap_or(u64::MAX));
            return;
        }
        Some(other) => {
            eprintln!(
                "ferrotest: unknown mode {other}; use no argument, --legacy, --stock or --status"
            );
            std::process::exit(2);
        }
    };
    let failed = run_tests(tests);
    let cases = HOSTILE_CASES.load(std::sync::atomic::Ordering::Relaxed);
    if cases > 0 {
        println!("stats: hostile matrix: {cases} cases, each answered with its errno");
    }
    if mode.is_none() {
        println!("ferrotest: {} passed, {} failed", tests.len() - failed, failed);
    }
    std::process::exit(i32::from(failed != 0));
}
