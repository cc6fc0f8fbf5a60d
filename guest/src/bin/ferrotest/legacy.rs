//! Legacy system calls: unchanged in a process that opted in (but for the documented
//! change), and in one that never did, which is the `--legacy` suite; the main suite runs
//! it in a fresh process (`legacy_process_suite`), since the opt-in does not survive
//! `execve`. Legacy seccomp filters and tracers behave as without ferrocall.

use std::process::Command;

use ferrocall::abi::{self, Answer, Errno, Op, Request};
use ferrocall::Kernel;
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
    expect_eq("(1<<32)|39", syscall(rax, [1, 40, rax, 0, 0, 0]), Err(Errno::EINVAL))?;
    below_4_gib_keeps_its_meaning()
}

/// Every `rax` a 32-bit load into `eax` gives keeps its stock meaning after the opt-in
/// (review L3): a negative `int`, zero-extended, is `ENOSYS` with every other register as
/// the caller left it, as on a kernel without ferrocall — not a typed call that writes `rdx`.
fn below_4_gib_keeps_its_meaning() -> Outcome {
    for rax in [0xffff_ffffu64, 0xffff_fffe, 0x8000_1000, 0x8000_0000, 0x7fff_f000, 0x1000] {
        let (ret, rdx) = syscall_keeping_rdx(rax, 0x1234);
        expect_eq(&format!("rax {rax:#x}"), Errno::from_syscall_return(ret), Err(Errno::ENOSYS))?;
        expect_eq(&format!("rdx after rax {rax:#x}"), rdx, 0x1234)?;
    }
    Ok(())
}

/// `syscall` with `rax` and `rdx` chosen, the other argument registers 0: `rax` and `rdx`
/// after it.
fn syscall_keeping_rdx(rax: u64, rdx: u64) -> (u64, u64) {
    let (ret, rdx_after): (u64, u64);
    // SAFETY: the numbers passed are unused legacy numbers (ENOSYS) and touch no memory;
    // the kernel clobbers only rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") rax => ret,
            inlateout("rdx") rdx => rdx_after,
            in("rdi") 0u64, in("rsi") 0u64, in("r10") 0u64, in("r8") 0u64, in("r9") 0u64,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    (ret, rdx_after)
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
    let (r, w) = ferrocall_guest::pipe().map(|(r, w)| (r as u64, w as u64))?;
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

/// A [`Kernel`](ferrocall::Kernel) that says typed calls are enabled without asking: what
/// the library meets when the opt-in is lost behind its back (a checkpoint restored into a
/// new process, a supervisor that answers unknown `prctl`s with success).
struct LostOptIn;

static LOST_OPT_IN: ferrocall::Support = ferrocall::Support::new();

// SAFETY: the contract is broken on purpose (the opt-in "succeeds" but `rax` stays a
// legacy number): the test checks that the library's address rule keeps this harmless.
// Everything else is `Native`'s.
unsafe impl ferrocall::Kernel for LostOptIn {
    fn prctl_enable(&self) -> u64 {
        u64::from(abi::ABI_VERSION)
    }

    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
        // SAFETY: the caller's guarantee.
        unsafe { ferrocall::Native.typed_call(request, op, size) }
    }

    unsafe fn legacy_call(&self, nr: u32, args: &[u64; 6]) -> u64 {
        // SAFETY: the caller's guarantee.
        unsafe { ferrocall::Native.legacy_call(nr, args) }
    }

    fn support(&self) -> &ferrocall::Support {
        &LOST_OPT_IN
    }
}

/// Review H2: the library's typed calls fail closed when its opt-in was lost. In this
/// process, which never opted in, a library that believes it did sends only addresses whose
/// low 32 bits are a negative `int`: every typed call is `ENOSYS`, never a legacy call, and
/// the wrappers make their twins. A request placed where its low 32 bits are `dup`'s number
/// is sent from a copy: sent from where it is, it would duplicate a descriptor (shown first).
fn legacy_lost_opt_in_fails_closed() -> Outcome {
    use ferrocall::TypedCalls;
    let pid = u64::from(std::process::id());
    expect_eq("status", ferrocall_status(), Ok(0))?;
    expect_eq("getpid", LostOptIn.getpid().map(u64::from), Ok(pid))?;
    expect_eq("useless (no twin)", LostOptIn.useless(15), Err(Errno::ENOSYS))?;
    let pages = Pages::map(1, 0x7d00_0000_0000).map_err(|e| format!("mmap: {e}"))?;
    let at = pages.addr(0) + nr::DUP;
    let request = Request::new(abi::ops::GetPidArgs {});
    let op = Op::GetPid as u64;
    // What the rule prevents: this address in `rax` here is dup(2).
    let free = lowest_free_fd()?;
    let dup = typed_raw(at, op, 32, at);
    expect_eq("the request's address as a legacy number: dup(op)", dup, Ok(free))?;
    syscall(nr::CLOSE, [free, 0, 0, 0, 0, 0]).map_err(|e| format!("close: {e}"))?;
    // SAFETY: `at` lies in the page, 8-aligned, and is reached only through this reference.
    let placed = unsafe {
        (at as *mut Request<abi::ops::GetPidArgs>).write(request);
        &mut *(at as *mut Request<abi::ops::GetPidArgs>)
    };
    // SAFETY: the request names no buffer.
    let answer = unsafe { LostOptIn.call_answer(placed) };
    expect_eq("the library's call", answer.map(|a| a.result()), Ok(Some(Ok(pid))))?;
    expect_eq("no descriptor duplicated", lowest_free_fd(), Ok(free))?;
    LostOptIn.support().choose(ferrocall::Backend::TypedOnly);
    expect_eq("typed only: getpid", LostOptIn.getpid(), Err(Errno::ENOSYS))?;
    expect_eq("typed only: no descriptor duplicated", lowest_free_fd(), Ok(free))
}

/// The descriptor number the next `dup` gives.
fn lowest_free_fd() -> Result<u64, String> {
    let fd = syscall(nr::DUP, [0, 0, 0, 0, 0, 0]).map_err(|e| format!("dup: {e}"))?;
    syscall(nr::CLOSE, [fd, 0, 0, 0, 0, 0]).map_err(|e| format!("close: {e}"))?;
    Ok(fd)
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
    ("lost_opt_in_fails_closed", legacy_lost_opt_in_fails_closed),
    // Last: it opts this process in.
    ("thread_started_before_opt_in", legacy_thread_started_before_opt_in),
];
