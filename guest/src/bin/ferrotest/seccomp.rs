//! seccomp and typed calls: a typed call with a legacy twin gets exactly the twin's verdict
//! (a profile written for legacy calls applies unchanged: ALLOW, ERRNO, KILL, TRAP with the
//! twin's number and registers, TRACE), while calls without a twin are filtered on number
//! 1023 and the operation in `rdi`.

use ferrocall::abi::{self, Errno, Op, Request};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    check, exec, expect_eq, fd, fork_child, handle_signal, in_child, nr, request_bytes, syscall,
    typed_raw, typed_raw_registers, wait_exit, Ended, Outcome, Pages, Test,
};

use crate::common::{answer_of, kill_on_typed, rule_for};

const HELLO: &[u8] = b"/bin/hello\0";
const DEMO: &[u8] = b"/bin/demo\0";

/// A profile written for legacy calls only: `execve` to start a program, the opt-in, `mmap`
/// and `munmap` (the library maps its request slots once, when the program's stack lies
/// where a request may not be sent from, and unmaps a first mapping that lies where no slot
/// may be: every program's allocator needs them too), and `write` and `exit_group`. Anything
/// else kills the process. It names no ferrocall number.
fn write_and_exit_filter() -> Vec<seccomp::Insn> {
    seccomp::program(
        &[
            Rule { nr: nr::EXECVE as u32, arg0: None, action: seccomp::ALLOW },
            Rule {
                nr: nr::PRCTL as u32,
                arg0: Some(u64::from(abi::PR_FERROCALL)),
                action: seccomp::ALLOW,
            },
            Rule { nr: nr::MMAP as u32, arg0: None, action: seccomp::ALLOW },
            Rule { nr: nr::MUNMAP as u32, arg0: None, action: seccomp::ALLOW },
            Rule { nr: nr::WRITE as u32, arg0: None, action: seccomp::ALLOW },
            Rule { nr: nr::EXIT_GROUP as u32, arg0: None, action: seccomp::ALLOW },
        ],
        seccomp::KILL_PROCESS,
    )
}

/// hello makes only typed calls (Write, Exit): a profile that allows their twins allows
/// them, with no rule for ferrocall.
fn a_profile_for_the_twins_admits_typed_calls() -> Outcome {
    check(std::path::Path::new("/bin/hello").exists(), || "/bin/hello is missing".into())?;
    let filter = write_and_exit_filter();
    let (ended, out) = in_child(|| match seccomp::install(&filter) {
        Ok(()) => exec(HELLO).raw().into(),
        Err(_) => 100,
    })
    .map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out).into_owned();
    expect_eq("hello's end and output", (ended, out), (Ended::Exited(0), "Hello, world!\n".into()))
}

fn the_same_profile_kills_other_legacy_calls() -> Outcome {
    // The control: the std demo makes other legacy calls at startup, and the filter kills it.
    let filter = write_and_exit_filter();
    let (ended, out) = in_child(|| match seccomp::install(&filter) {
        Ok(()) => exec(DEMO).raw().into(),
        Err(_) => 100,
    })
    .map_err(|e| e.to_string())?;
    const SIGSYS: i32 = 31;
    expect_eq("demo's end", ended, Ended::Killed(SIGSYS))?;
    expect_eq("demo's output", out, Vec::new())
}

/// The review's hole: a deny rule on `write` to fd 1 must stop typed Write to fd 1, in both
/// answer forms, and leave fd 2 alone.
fn a_rule_on_write_applies_to_typed_write() -> Outcome {
    let deny = seccomp::program(
        &[Rule { nr: nr::WRITE as u32, arg0: Some(1), action: seccomp::errno(Errno::EPERM) }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&deny).is_err() {
            return 100;
        }
        let mut bits = 0;
        bits |= i32::from(ferrocall::write(fd(1), b"") != Err(Errno::EPERM));
        bits |= i32::from(syscall(nr::WRITE, [1, 0, 0, 0, 0, 0]) != Err(Errno::EPERM)) << 1;
        bits |= i32::from(ferrocall::write(fd(2), b"") != Ok(0)) << 2;
        // A request answered in place (ABI version 1's form): refused before it ran, so its
        // answer slot stays pending.
        let mut req = Request::new(abi::ops::WriteArgs { fd: 1, ..Default::default() });
        let addr = &mut req as *mut _ as u64;
        let size = core::mem::size_of_val(&req) as u64;
        bits |= i32::from(typed_raw(addr, Op::Write as u64, size, addr) != Err(Errno::EPERM)) << 3;
        bits |= i32::from(req.answer.result().is_some()) << 4;
        bits
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn calls_without_a_twin_are_seen_as_1023() -> Outcome {
    // Deny number 1023: typed calls without a twin fail, typed GetPid (getpid) and legacy
    // calls go on.
    let deny = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(Errno::EPERM) }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if seccomp::install(&deny).is_err() {
            return 100;
        }
        let mut bits = 0;
        bits |= i32::from(ferrocall::useless(1) != Err(Errno::EPERM));
        bits |= i32::from(ferrocall::getpid().is_err()) << 1;
        bits |= i32::from(
            syscall(abi::SYSCALL_NR.into(), [1, 40, 0x1000, 0, 0, 0]) != Err(Errno::EPERM),
        ) << 2;
        bits |= i32::from(syscall(nr::GETPID, [0; 6]).is_err()) << 3;
        // Asked in registers, the refusal leaves r10 0: the call did not run.
        let Ok(mut pages) = Pages::map(1, 0) else {
            return 101;
        };
        let mut args = 1u32.to_le_bytes().to_vec();
        args.extend_from_slice(&[0; 4]);
        let air = abi::Header::ANSWER_IN_REGISTERS;
        pages.write(0, &request_bytes(40, Op::Useless as u32, air, 0, &args));
        let addr = pages.addr(0);
        let (r, _, r10) = typed_raw_registers(addr, Op::Useless as u64, 40, addr);
        bits |= i32::from(r != Err(Errno::EPERM) || r10 != 0) << 4;
        bits
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn seccomp_filters_by_operation() -> Outcome {
    // On number 1023, allow Useless only; other operations without a twin get EACCES. The
    // operation the filter sees is `rdi`, and the kernel runs that one or nothing.
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
        let mut bits = 0;
        bits |= i32::from(ferrocall::useless(1) != Ok(16));
        bits |= i32::from(ferrocall::getpid().is_err()) << 1;
        bits |= i32::from(ferrocall::write(fd(1), b"") != Ok(0)) << 2;
        let mut probe = [0u8; 512];
        bits |=
            i32::from(ferrocall::TypedCalls::probe(&ferrocall::Native, &mut probe).is_ok()) << 3;
        // A GetPid request sent with rdi = Useless: the filter allows it, the kernel refuses
        // it because the request says otherwise.
        let mut req = Request::new(ferrocall::abi::ops::GetPidArgs {});
        let addr = &mut req as *mut _ as u64;
        bits |= i32::from(typed_raw(addr, Op::Useless as u64, 32, addr) != Err(Errno::EINVAL)) << 4;
        bits
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

/// A typed call presented as 1023 shows a filter `args[3..5]` = 0 whatever the caller left
/// in `r10`, `r8` and `r9` (review L6): a rule on them sees the values a call inside a
/// batch shows, and the caller gets them back zeroed, as the ABI says.
fn a_call_presented_as_1023_shows_zero_in_args_3_to_5() -> Outcome {
    use ferrocall_seccomp::{arg, Action, Filter};
    let nonzero = [(3, Errno::E2BIG), (4, Errno::ERANGE), (5, Errno::EDOM)];
    let filter = nonzero
        .iter()
        .fold(Filter::new(Action::Allow), |f, &(index, errno)| {
            f.rule(
                ferrocall_seccomp::syscall(abi::SYSCALL_NR)
                    .when(arg(index).ne(0u64))
                    .then(Action::errno(errno)),
            )
        })
        .compile()
        .map_err(|e| e.to_string())?;
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let (ended, out) = in_child(|| {
        if seccomp::install(&filter).is_err() {
            return 100;
        }
        // At a request address, wherever this test's stack lies.
        let Ok(mut pages) = Pages::map(1, 0x7e00_8000_0000) else {
            return 101;
        };
        let req = Request::new(abi::ops::UselessArgs { value: 1, ..Default::default() });
        let bytes = ferrocall_guest::request_as_bytes(&req);
        pages.write(0, bytes);
        let addr = pages.addr(0);
        if !abi::is_request_address(addr) {
            return 102;
        }
        let (ret, r10, r8, r9): (u64, u64, u64, u64);
        // SAFETY: a typed Useless of the request in `pages`, ours and whole for the call;
        // the kernel writes only its answer slot. Every register the call may change is an
        // output or clobbered.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") addr => ret,
                inlateout("rdi") Op::Useless as u64 => _,
                inlateout("rsi") bytes.len() as u64 => _,
                inlateout("rdx") addr => _,
                inlateout("r10") 0x1111u64 => r10,
                inlateout("r8") 0x2222u64 => r8,
                inlateout("r9") 0x3333u64 => r9,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        let answer = answer_of(&pages.read(16, 16)).result();
        println!("rax {ret:#x}, answer {answer:?}, r10 {r10:#x}, r8 {r8:#x}, r9 {r9:#x}");
        i32::from(ret != 0 || answer != Some(Ok(16))) | i32::from((r10, r8, r9) != (0, 0, 0)) << 1
    })
    .map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out);
    expect_eq(&format!("child's failure bits ({})", out.trim()), ended, Ended::Exited(0))
}

/// Number 1023 runs no operation that has a twin: made by number, GetPid would be a getpid
/// that a rule on getpid does not see.
fn an_operation_with_a_twin_never_runs_as_1023() -> Outcome {
    // In a process that opted in: elsewhere, 1023 is ENOSYS whatever the operation.
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    let req = Request::new(abi::ops::GetPidArgs {});
    // SAFETY: a request is plain old data.
    let bytes =
        unsafe { core::slice::from_raw_parts((&req as *const Request<_>).cast::<u8>(), 32) };
    pages.write(0, bytes);
    let addr = pages.addr(0);
    let r = syscall(abi::SYSCALL_NR.into(), [Op::GetPid as u64, 32, addr, 0, 0, 0]);
    expect_eq("ferrocall(GetPid) by number", r, Err(Errno::EINVAL))?;
    expect_eq("its answer slot", answer_of(&pages.read(16, 16)).result(), None)
}

/// What the SIGSYS handler saw: signal, `si_syscall`, `si_arch`, and the `rdi` and `rdx` of
/// the interrupted call as its `ucontext` holds them.
static SIGSYS_INFO: [std::sync::atomic::AtomicU64; 5] = [
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
];

/// How many times the SIGSYS handler ran.
static SIGSYS_COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What the SIGSYS handler answers in `rax`, as an emulator of the trapped call does: a
/// count a `write` of 5 bytes may return.
pub(crate) const EMULATED: u64 = 3;

extern "C" fn on_sigsys(_: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    SIGSYS_COUNT.fetch_add(1, SeqCst);
    // SAFETY: the kernel passes a valid siginfo and ucontext; for SIGSYS, `_syscall` is at
    // 24 and `_arch` at 28 of struct siginfo (its _sigsys member).
    unsafe {
        let base = info as *const u8;
        SIGSYS_INFO[0].store((*info).si_signo as u64, SeqCst);
        SIGSYS_INFO[1]
            .store(u64::from(core::ptr::read_unaligned(base.add(24) as *const u32)), SeqCst);
        SIGSYS_INFO[2]
            .store(u64::from(core::ptr::read_unaligned(base.add(28) as *const u32)), SeqCst);
        let regs = &mut (*(uc as *mut libc::ucontext_t)).uc_mcontext.gregs;
        SIGSYS_INFO[3].store(regs[libc::REG_RDI as usize] as u64, SeqCst);
        SIGSYS_INFO[4].store(regs[libc::REG_RDX as usize] as u64, SeqCst);
        regs[libc::REG_RAX as usize] = EMULATED as i64;
    }
}

/// Installs `on_sigsys` and `filter`; false if either fails.
pub(crate) fn trap_with(filter: &[seccomp::Insn]) -> bool {
    let handler =
        on_sigsys as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as usize;
    handle_signal(libc::SIGSYS, handler, libc::SA_SIGINFO) && seccomp::install(filter).is_ok()
}

/// What the SIGSYS handler last saw (see `SIGSYS_INFO`).
pub(crate) fn sigsys_info() -> Vec<u64> {
    SIGSYS_INFO.iter().map(|a| a.load(std::sync::atomic::Ordering::SeqCst)).collect()
}

/// How many times the SIGSYS handler ran in this process.
pub(crate) fn sigsys_count() -> u64 {
    SIGSYS_COUNT.load(std::sync::atomic::Ordering::SeqCst)
}

/// SECCOMP_RET_TRAP on `write`: typed Write raises SIGSYS naming `write`, with the twin's
/// registers in the `ucontext` (fd in `rdi`, length in `rdx`), and the value an emulator
/// puts in `rax` is the typed call's answer, as for the legacy call.
fn seccomp_trap_on_a_twin_is_the_twins() -> Outcome {
    let trap = seccomp::program(&[rule_for(Op::Write, seccomp::TRAP)], seccomp::ALLOW);
    let (ended, _) = in_child(|| {
        if !trap_with(&trap) {
            return 100;
        }
        let r = ferrocall::write(fd(2), b"abcde");
        let info = sigsys_info();
        let want = [libc::SIGSYS as u64, nr::WRITE, seccomp::AUDIT_ARCH_X86_64.into(), 2, 5];
        i32::from(r != Ok(EMULATED as usize)) | i32::from(info != want) << 1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn seccomp_trap_reports_1023() -> Outcome {
    let trap = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::TRAP }],
        seccomp::ALLOW,
    );
    let (ended, _) = in_child(|| {
        if !trap_with(&trap) {
            return 100;
        }
        let r = ferrocall::useless(1);
        let info = sigsys_info();
        // The call did not run (no answer: the emulator's rax is not an answer of this
        // form); the signal named syscall 1023 on x86_64, with the operation in rdi.
        i32::from(r.is_ok())
            | i32::from(
                info[..4]
                    != [
                        libc::SIGSYS as u64,
                        abi::SYSCALL_NR.into(),
                        seccomp::AUDIT_ARCH_X86_64.into(),
                        Op::Useless as u64,
                    ],
            ) << 1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn seccomp_kill_and_trace_actions() -> Outcome {
    for op in [Op::GetPid, Op::Useless] {
        let kill = kill_on_typed(op);
        let (ended, _) = in_child(|| {
            if seccomp::install(&kill).is_err() {
                return 100;
            }
            if op == Op::GetPid && ferrocall::useless(1) != Ok(16) {
                return 1;
            }
            if op == Op::Useless && ferrocall::getpid().is_err() {
                return 1;
            }
            let _ = if op == Op::GetPid { ferrocall::getpid() } else { ferrocall::useless(1) };
            2
        })
        .map_err(|e| e.to_string())?;
        expect_eq(&format!("KILL_PROCESS on {op:?}"), ended, Ended::Killed(libc::SIGSYS))?;
        // SECCOMP_RET_TRACE with no tracer attached: the call fails with ENOSYS.
        let trace = seccomp::program(&[rule_for(op, seccomp::TRACE)], seccomp::ALLOW);
        let (ended, _) = in_child(|| {
            if seccomp::install(&trace).is_err() {
                return 100;
            }
            let r = if op == Op::GetPid { ferrocall::getpid() } else { ferrocall::useless(1) };
            i32::from(r != Err(Errno::ENOSYS))
        })
        .map_err(|e| e.to_string())?;
        expect_eq(&format!("TRACE on {op:?} without a tracer"), ended, Ended::Exited(0))?;
    }
    Ok(())
}

/// Syscall User Dispatch's selector byte: `SYSCALL_DISPATCH_FILTER_BLOCK` (1) sends the
/// thread's system calls to its SIGSYS handler, `..._ALLOW` (0) lets them run.
static SUD_SELECTOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The SIGSYS handler under Syscall User Dispatch: emulates the call as `on_sigsys` does,
/// then lets the thread's calls through (its `rt_sigreturn` among them).
extern "C" fn on_sud(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    on_sigsys(sig, info, uc);
    SUD_SELECTOR.store(0, std::sync::atomic::Ordering::SeqCst);
}

/// Syscall User Dispatch keeps its meaning in a process that opted in (issue 10, M3): a
/// thread that armed it makes no typed calls, so its SIGSYS handler sees every call as the
/// thread made it — a dispatcher's own number that looks like a request address (0x1008) is
/// that number, with the thread's `rdx` — and the library, refused, makes the legacy twins
/// (a typed-only operation is `ENOSYS`). Disarmed, typed calls work again.
fn syscall_user_dispatch_sees_what_the_thread_passed() -> Outcome {
    const PR_SET_SYSCALL_USER_DISPATCH: u64 = 59;
    const PR_SYS_DISPATCH_ON: u64 = 1;
    const PR_SYS_DISPATCH_OFF: u64 = 0;
    const NUMBER: u64 = 0x1008;
    let (ended, out) = in_child(|| {
        if ferrocall::enable().is_err() {
            return 100;
        }
        ferrocall::set_backend(ferrocall::Backend::Auto);
        let Ok(devnull) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return 101;
        };
        let handler =
            on_sud as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as usize;
        if !handle_signal(libc::SIGSYS, handler, libc::SA_SIGINFO) {
            return 102;
        }
        let selector = SUD_SELECTOR.as_ptr() as u64;
        let arm = [PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, selector, 0];
        if syscall(nr::PRCTL, arm).is_err() {
            return 103;
        }
        // Blocked: the dispatcher's own call reaches the handler as the thread made it.
        SUD_SELECTOR.store(1, std::sync::atomic::Ordering::SeqCst);
        let own = syscall(NUMBER, [7, 0, 0x1234, 0, 0, 0]);
        let info = sigsys_info();
        // Allowed again (the handler said so): typed calls stay off while armed.
        let write = ferrocall::write(fd(std::os::fd::AsRawFd::as_raw_fd(&devnull)), b"abcde");
        let typed_only = ferrocall::useless(1);
        let off =
            syscall(nr::PRCTL, [PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0, 0]);
        let typed_again = ferrocall::useless(1);
        let want = [libc::SIGSYS as u64, NUMBER, seccomp::AUDIT_ARCH_X86_64.into(), 7, 0x1234];
        println!("{own:?} {info:?} {write:?} {typed_only:?} {off:?} {typed_again:?}");
        i32::from(own != Ok(EMULATED))
            | i32::from(info != want) << 1
            | i32::from(write != Ok(5)) << 2
            | i32::from(typed_only != Err(Errno::ENOSYS)) << 3
            | i32::from(off.is_err()) << 4
            | i32::from(typed_again != Ok(16)) << 5
    })
    .map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out);
    expect_eq(&format!("child's failure bits ({})", out.trim()), ended, Ended::Exited(0))
}

/// This module's tests, in the order the main suite runs them.
/// A real container runtime's default profile, written for legacy calls, judges every typed
/// call with a twin exactly as that twin: each operation made typed and as its legacy call
/// under it gives the same result. Calls without a twin and batches (1023, which it does not
/// know) get its default answer, `ENOSYS`; the library's default backend then makes a
/// batch's calls one by one.
fn a_container_profile_judges_typed_calls_as_their_twins() -> Outcome {
    let program = seccomp::container_profile(false);
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
    let pid = fork_child(|| {
        if seccomp::install(&program).is_err() {
            return 100;
        }
        container_child(r, w)
    });
    let exit = wait_exit(pid);
    crate::common::close(r);
    crate::common::close(w);
    expect_eq("the child's failure bits (1 << operation)", exit, Some(0))
}

/// Under the profile: each operation typed and as its twin; a bit per operation that differs.
fn container_child(r: i32, w: i32) -> i32 {
    use ferrocall::abi::ops::{GetPidArgs, UselessArgs};
    let legacy = |nr: u64, args: [u64; 6]| syscall(nr, args);
    let mut failed = 0;
    let mut differs = |op: Op, typed: Result<u64, Errno>, twin: Result<u64, Errno>| {
        if typed != twin {
            println!("{op:?}: typed {typed:?}, twin {twin:?}");
            failed |= 1 << (op as u32);
        }
    };
    let up = |r: Result<u32, Errno>| r.map(u64::from);
    differs(Op::GetPid, up(ferrocall::getpid()), legacy(nr::GETPID, [0; 6]));
    differs(Op::GetPpid, up(ferrocall::getppid()), legacy(nr::GETPPID, [0; 6]));
    differs(Op::GetUid, up(ferrocall::getuid()), legacy(102, [0; 6]));
    let data = b"container";
    let typed = ferrocall::write(fd(w), data).map(|n| n as u64);
    differs(Op::Write, typed, legacy(nr::WRITE, [w as u64, data.as_ptr() as u64, 9, 0, 0, 0]));
    let mut buf = [0u8; 9];
    let typed = ferrocall::read(fd(r), &mut buf).map(|n| n as u64);
    let twin = legacy(nr::READ, [r as u64, buf.as_mut_ptr() as u64, 9, 0, 0, 0]);
    differs(Op::Read, typed, twin);
    let mut cwd = [0u8; 256];
    let typed = ferrocall::getcwd(&mut cwd).map(|n| n as u64).map_err(|e| match e {
        ferrocall::FillError::Errno(errno) => errno,
        ferrocall::FillError::TooSmall(_) => Errno::ERANGE,
    });
    differs(Op::GetCwd, typed, legacy(nr::GETCWD, [cwd.as_mut_ptr() as u64, 256, 0, 0, 0, 0]));
    let opened = ferrocall::open(ferrocall::fd::cwd(), c"/dev/null", 0, 0, 0);
    let typed = opened.map(|f| {
        crate::common::close(f.into_raw_fd());
        0
    });
    let how = [0u64; 3];
    let twin = legacy(
        437,
        [(-100i64) as u64, c"/dev/null".as_ptr() as u64, how.as_ptr() as u64, 24, 0, 0],
    )
    .map(|f| {
        crate::common::close(f as i32);
        0
    });
    differs(Op::Open, typed, twin);
    // No twin: the profile's default answer, and no legacy call to fall back on.
    differs(Op::Useless, ferrocall::useless(1).map(u64::from), Err(Errno::ENOSYS));
    // A batch is 1023 too: refused typed-only; made call by call by the default backend.
    let mut batch = ferrocall::PackedBatch::<2>::new();
    let _ = batch.push(GetPidArgs {});
    let _ = batch.push(UselessArgs { value: 1, ..Default::default() });
    let refused = ferrocall::packed_batch(&mut batch).map_err(|e| e.errno);
    differs(Op::PackedBatch, refused.map(|n| n as u64), Err(Errno::ENOSYS));
    ferrocall::set_backend(ferrocall::Backend::Auto);
    let mut batch = ferrocall::PackedBatch::<1>::new();
    let _ = batch.push(GetPidArgs {});
    let one_by_one = ferrocall::packed_batch(&mut batch).map(|n| n as u64).map_err(|e| e.errno);
    differs(Op::Batch, one_by_one, Ok(1));
    failed
}

pub const TESTS: &[Test] = &[
    (
        "a_container_profile_judges_typed_calls_as_their_twins",
        a_container_profile_judges_typed_calls_as_their_twins,
    ),
    ("a_profile_for_the_twins_admits_typed_calls", a_profile_for_the_twins_admits_typed_calls),
    ("the_same_profile_kills_other_legacy_calls", the_same_profile_kills_other_legacy_calls),
    ("a_rule_on_write_applies_to_typed_write", a_rule_on_write_applies_to_typed_write),
    ("calls_without_a_twin_are_seen_as_1023", calls_without_a_twin_are_seen_as_1023),
    ("seccomp_filters_by_operation", seccomp_filters_by_operation),
    ("an_operation_with_a_twin_never_runs_as_1023", an_operation_with_a_twin_never_runs_as_1023),
    (
        "a_call_presented_as_1023_shows_zero_in_args_3_to_5",
        a_call_presented_as_1023_shows_zero_in_args_3_to_5,
    ),
    ("seccomp_trap_on_a_twin_is_the_twins", seccomp_trap_on_a_twin_is_the_twins),
    ("seccomp_trap_reports_1023", seccomp_trap_reports_1023),
    ("seccomp_kill_and_trace_actions", seccomp_kill_and_trace_actions),
    (
        "syscall_user_dispatch_sees_what_the_thread_passed",
        syscall_user_dispatch_sees_what_the_thread_passed,
    ),
];
