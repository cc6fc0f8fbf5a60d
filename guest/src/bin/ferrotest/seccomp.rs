//! seccomp and typed calls: a typed-only program under a filter that allows only typed
//! calls, filters on number 1023 and on the operation in `rdi`, and the `TRAP`, `KILL` and
//! `TRACE` actions.

use ferrocall::abi::{self, Errno, Op, Request};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    check, exec, expect_eq, fd, in_child, nr, syscall, typed_raw, Ended, Outcome, Test,
};

use crate::common::kill_on_typed;

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
        failures += i32::from(ferrocall::write(fd(1), b"x") != Err(Errno::EACCES));
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

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("hello_uses_only_typed_calls", hello_uses_only_typed_calls),
    ("typed_only_filter_kills_legacy_calls", typed_only_filter_kills_legacy_calls),
    ("seccomp_sees_typed_calls_as_one_number", seccomp_sees_typed_calls_as_one_number),
    ("seccomp_filters_by_operation", seccomp_filters_by_operation),
    ("seccomp_trap_reports_1023", seccomp_trap_reports_1023),
    ("seccomp_kill_and_trace_actions", seccomp_kill_and_trace_actions),
];
