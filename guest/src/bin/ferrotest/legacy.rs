//! Legacy system calls: unchanged in a process that opted in (but for the documented
//! change), and in one that never did, which is the `--legacy` suite; the main suite runs
//! it in a fresh process (`legacy_process_suite`), since the opt-in does not survive
//! `execve`. Legacy seccomp filters and tracers behave as without ferrocall.

use std::process::Command;

use ferrocall::abi::{self, Answer, Errno, Op, Request};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    check, expect_eq, ferrocall_status, in_child, nr, syscall, typed_raw, Ended, Outcome, Pages,
    Test,
};

use crate::common::{answer_of, traced, useless_request, NR, SELF};

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
pub(crate) fn legacy_calls_common() -> Outcome {
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
    // Unused on every line: between the 64-bit table and the x32-only numbers (512..).
    expect_eq("nr 511", syscall(511, [0; 6]), Err(Errno::ENOSYS))?;
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

fn legacy_process_suite() -> Outcome {
    let run = run_legacy_process(None)?;
    check(run.success && run.failures.is_empty() && run.passed > 0, || {
        format!("{} ({:?})", run.status, run.failures)
    })
}

/// How the legacy suite shows its tests' names in the main suite's output, and what
/// `--only` matches them against.
pub(crate) const LEGACY_PREFIX: &str = "legacy/";

/// What a run of the `--legacy` suite in a fresh process gave.
pub(crate) struct LegacyRun {
    /// Whether the process exited with status 0.
    pub(crate) success: bool,
    /// How it ended, for messages.
    pub(crate) status: std::process::ExitStatus,
    /// How many of its tests passed.
    pub(crate) passed: usize,
    /// The `name: why` of those that failed.
    pub(crate) failures: Vec<String>,
}

/// Runs the `--legacy` suite (only the tests `only` selects, if given) in a fresh process,
/// which has not opted in, and relays its results as tests of their own, `PASS legacy/NAME`
/// and `FAIL legacy/NAME: why`, and its other lines indented.
pub(crate) fn run_legacy_process(only: Option<&str>) -> Result<LegacyRun, String> {
    let mut command = Command::new(SELF);
    command.arg("--legacy");
    if let Some(name) = only {
        command.args(["--only", name]);
    }
    let out = command.output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut passed, mut failures) = (0, Vec::new());
    for line in text.lines() {
        match line.split_once(' ') {
            Some((verdict @ ("PASS" | "FAIL"), rest)) => {
                println!("{verdict} {LEGACY_PREFIX}{rest}");
                if verdict == "FAIL" {
                    failures.push(rest.to_string());
                } else {
                    passed += 1;
                }
            }
            _ => println!("  legacy process: {line}"),
        }
    }
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        println!("  legacy process: {line}");
    }
    Ok(LegacyRun { success: out.status.success(), status: out.status, passed, failures })
}

fn legacy_not_opted_in() -> Outcome {
    expect_eq("status", ferrocall_status(), Ok(0))
}

pub(crate) fn legacy_upper_bits_ignored() -> Outcome {
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

/// Legacy seccomp and ptrace, the same with and without ferrocall: a filter refuses
/// `getppid`, a tracer turns `getppid` into `getpid` or skips it.
pub(crate) fn legacy_seccomp_and_ptrace() -> Outcome {
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

pub(crate) fn legacy_tracer_cannot_make_typed_calls() -> Outcome {
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

/// This module's tests in the main suite (a process that opted in): last in it, the
/// `--legacy` suite in a fresh process.
pub const TESTS: &[Test] = &[
    ("legacy_calls_after_opt_in", legacy_calls_after_opt_in),
    ("legacy_process_suite", legacy_process_suite),
];

/// The `--legacy` suite, for a process that never opted in; its results show as
/// `legacy/NAME` in the main suite's output.
pub const LEGACY_TESTS: &[Test] = &[
    ("not_opted_in", legacy_not_opted_in),
    ("legacy_calls", legacy_calls_common),
    ("upper_bits_ignored", legacy_upper_bits_ignored),
    ("request_address_is_a_number", legacy_request_address_is_a_number),
    ("legacy_tracer_cannot_make_typed_calls", legacy_tracer_cannot_make_typed_calls),
    ("legacy_seccomp_and_ptrace", legacy_seccomp_and_ptrace),
    ("legacy_backend_never_opts_in", crate::fallback::legacy_backend_never_opts_in),
    // Last: it opts this process in.
    ("thread_started_before_opt_in", legacy_thread_started_before_opt_in),
];
