//! Tracing typed calls: `ferrotrace` shows them (and follows forks and threads), a ptrace
//! tracer sees and rewrites them and sees a batch call by call, and the syscall tracepoints
//! show a call with a legacy twin as that twin (its per-syscall events fire once), any other
//! as system call 1023.

use std::process::Command;

use ferrocall::abi::{self, ops::UselessArgs, Answer, Errno, Op, Request};
use ferrocall::{Native, TypedCalls};
use ferrocall_guest::{
    check, expect_eq, fd, in_child, nr, request_bytes, syscall, Ended, Outcome, Test,
};

use crate::common::{traced, traced_at, useless_request, useless_then_getpid, SELF};

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
    // Typed Write and Exit are their twins, write and exit_group, for every tracer.
    expect_line(&trace, "] write(0x1, ")?;
    expect_line(&trace, ", 0xe) = 14")?;
    expect_line(&trace, "] exit_group(0x0) = ?")?;
    expect_line(&trace, "+++ exited with 0 +++")?;
    // After the exec, every call but the opt-in is one the tracer names from the ABI table
    // (a typed call with a twin and its legacy twin look alike, by design), or the library's
    // mapping of its request slots (`mmap`, `munmap`), made when hello's stack lies where a
    // request may not be sent from (bit 31 of the address clear: half of all stacks).
    let after_exec = trace.split("] syscall 59(").nth(1).unwrap_or_default();
    let unnamed = after_exec
        .lines()
        .filter(|l| l.contains("] syscall "))
        .filter(|l| !l.contains("] syscall 9(") && !l.contains("] syscall 11("))
        .count();
    expect_eq("calls after hello's execve not named by the ABI table (just the opt-in)", unnamed, 1)
}

fn ferrotrace_decodes_the_demo_and_errors() -> Outcome {
    let trace = trace_of(&["/bin/demo"])?;
    expect_line(&trace, "Useless { value: 15, pad0: 0 } = Ok(30)")?;
    let trace = trace_of(&[SELF, "--trace-target"])?;
    expect_line(&trace, "Useless { value: 4294967295, pad0: 0 } = Err(EOVERFLOW)")?;
    expect_line(&trace, "] getcwd(")?;
    expect_line(&trace, ", 0x2) = 2")?;
    expect_line(&trace, ", 0x1) = Err(ERANGE)")?;
    expect_line(&trace, "] read(0xffffffffffffffff, ")?;
    // Traced, a batch is refused and its calls come one by one, up to the failing one.
    expect_line(&trace, "Batch { entries: ")?;
    expect_line(&trace, "= Err(EOPNOTSUPP)")?;
    expect_line(&trace, "batch: Useless { value: 1, pad0: 0 } = pending")?;
    expect_line(&trace, "batch: GetPid = pending")?;
    expect_line(&trace, "] Useless { value: 1, pad0: 0 } = Ok(16)")?;
    expect_line(&trace, ", 0x4) = Err(EBADF)")
}

fn ferrotrace_follows_forks_and_threads() -> Outcome {
    let trace = trace_of(&[SELF, "--trace-target"])?;
    let pids: std::collections::BTreeSet<&str> = trace
        .lines()
        .filter(|l| l.contains("] getpid() = "))
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
pub(crate) fn trace_target() {
    let _ = ferrocall::useless(u32::MAX);
    let _ = ferrocall::getpid();
    let _ = ferrocall::getcwd(&mut [0u8; 2]);
    let _ = ferrocall::getcwd(&mut [0u8; 1]);
    let _ = ferrocall::read(fd(-1), &mut [0u8; 4]);
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

fn ptrace_sees_and_rewrites_typed_calls() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let ended = traced(
        || {
            // 1: rewritten to getpid; 2: skipped; 3: a legacy getppid turned into a typed
            // Useless by the tracer; 4: untouched; 5: typed GetUid, seen as getuid and
            // rewritten to getpid, runs getpid as a legacy getuid would.
            let mut failures = 0;
            let mut req = Request::new(UselessArgs { value: 1, ..Default::default() });
            failures += i32::from(
                Native.call(&mut req) != Err(Errno::EIO) || req.answer.state != Answer::PENDING,
            );
            failures += i32::from(ferrocall::useless(2) != Err(Errno::ENOSYS)) << 1;
            let mut useless = Request::new(UselessArgs { value: 5, ..Default::default() });
            let addr = &mut useless as *mut _ as u64;
            let r = syscall(
                nr::GETPPID,
                [Op::Useless as u64, Op::Useless.request_size() as u64, addr, 0, 0, 0],
            );
            failures += i32::from(r != Ok(0) || useless.answer.result() != Some(Ok(20))) << 2;
            failures += i32::from(ferrocall::useless(3) != Ok(18)) << 3;
            let pid = syscall(nr::GETPID, [0; 6]).unwrap_or(0);
            failures += i32::from(ferrocall::getuid() != Ok(pid as u32)) << 4;
            failures
        },
        |regs| {
            seen.push((regs.orig_rax, regs.rdi));
            match (regs.orig_rax, regs.rdi, seen.iter().filter(|s| s.0 == 1023).count()) {
                (1023, 1, 1) => regs.orig_rax = nr::GETPID,
                (1023, 1, 2) => regs.orig_rax = u64::MAX,
                (110, _, _) => regs.orig_rax = 1023,
                (102, _, _) => regs.orig_rax = nr::GETPID,
                _ => return false,
            }
            true
        },
    )?;
    check(seen.contains(&(1023, Op::Useless as u64)), || {
        format!("the tracer never saw syscall 1023 with op 1: {seen:?}")
    })?;
    check(seen.iter().any(|s| s.0 == 102), || format!("the tracer never saw getuid: {seen:?}"))?;
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
            match regs.orig_rax {
                1023 => ops.push(format!("{:?}", Op::from_raw(regs.rdi))),
                39 => ops.push("getpid".into()),
                _ => {}
            }
            false
        },
    )?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))?;
    // The batch is refused (EOPNOTSUPP) and each call comes alone, in order: GetPid as
    // its twin; then the child's own legacy getpid.
    let want = [Some(Op::Batch), Some(Op::Useless)].map(|op| format!("{op:?}"));
    expect_eq(
        "calls the tracer saw",
        ops,
        vec![want[0].clone(), want[1].clone(), "getpid".into(), "getpid".into()],
    )
}

/// The syscall tracepoints (`raw_syscalls:sys_enter` through tracefs) show a typed call
/// without a twin as system call 1023 with the operation, size and request address as its
/// arguments, and one with a twin as the twin; a batch runs in one kernel entry, between
/// whose `sys_enter` and `sys_exit` each of its calls shows as it would alone, in order. The
/// per-syscall events of a twin
/// (`syscalls:sys_enter_getppid`, `sys_exit_getppid`) fire once for a typed GetPpid.
fn syscall_tracepoints_see_typed_calls() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let dir = "/tmp/tracing";
    ferrocall_guest::mount(c"tracefs", c"/tmp/tracing")?;
    let set = |file: &str, value: &str| {
        std::fs::write(format!("{dir}/{file}"), value).map_err(|e| format!("{file}: {e}"))
    };
    let event = "events/raw_syscalls/sys_enter";
    let exit_event = "events/raw_syscalls/sys_exit";
    let twin_events = ["events/syscalls/sys_enter_getppid", "events/syscalls/sys_exit_getppid"];
    set("tracing_on", "0")?;
    set("trace", "")?;
    set(&format!("{event}/filter"), "id == 1023 || id == 39")?;
    set(&format!("{event}/enable"), "1")?;
    set(&format!("{exit_event}/filter"), "id == 1023")?;
    set(&format!("{exit_event}/enable"), "1")?;
    for e in twin_events {
        set(&format!("{e}/enable"), "1")?;
    }
    set("tracing_on", "1")?;
    let mut request = Request::new(UselessArgs { value: 4242, ..Default::default() });
    let lone = Native.call(&mut request);
    let at = core::ptr::from_ref(&request) as u64;
    let (batch, _) = useless_then_getpid(false);
    let (packed, _) = useless_then_getpid(true);
    let ppid = ferrocall::getppid();
    set("tracing_on", "0")?;
    set(&format!("{event}/enable"), "0")?;
    set(&format!("{event}/filter"), "0")?;
    set(&format!("{exit_event}/enable"), "0")?;
    set(&format!("{exit_event}/filter"), "0")?;
    for e in twin_events {
        set(&format!("{e}/enable"), "0")?;
    }
    let trace = std::fs::read_to_string(format!("{dir}/trace")).map_err(|e| e.to_string())?;
    expect_eq("the lone call", lone, Ok(4257))?;
    expect_eq("the batch", batch, Ok(2))?;
    expect_eq("the packed batch", packed, Ok(2))?;
    // `sys_enter: NR 1023 (1, 28, 7ffc…, 0, 0, 0)`: the arguments in hex.
    let calls: Vec<(u64, Vec<u64>)> = trace
        .lines()
        .filter_map(|line| {
            let (nr, args) = line.split_once("sys_enter: NR ")?.1.split_once(" (")?;
            let args = args.strip_suffix(')')?;
            let args = args.split(", ").filter_map(|a| u64::from_str_radix(a, 16).ok()).collect();
            Some((nr.parse().ok()?, args))
        })
        .collect();
    let first = calls.first().map(|c| (c.0, c.1.get(..3).unwrap_or(&[]).to_vec()));
    // The request's address, or that of the copy the library sent when the request's own
    // address may not be sent (bit 31 clear, `abi::is_request_address`).
    let sent = first.as_ref().and_then(|c| c.1.get(2).copied()).unwrap_or(0);
    let at = if abi::is_request_address(at) { at } else { sent };
    check(abi::is_request_address(sent), || format!("sent from {sent:#x}"))?;
    expect_eq(
        "the lone call",
        first,
        Some((1023, vec![Op::Useless as u64, Op::Useless.request_size() as u64, at])),
    )?;
    // The entries, and the exits of 1023 (`sys_exit: NR 1023 = 0`), in order.
    let shown: Vec<String> = trace
        .lines()
        .filter_map(|line| {
            if line.contains("sys_exit: NR 1023 = ") {
                return Some("exit".to_string());
            }
            let (nr, args) = line.split_once("sys_enter: NR ")?.1.split_once(" (")?;
            Some(match nr {
                "1023" => {
                    let op = u64::from_str_radix(args.split(", ").next()?, 16).ok()?;
                    format!("{:?}", Op::from_raw(op))
                }
                nr => format!("NR {nr}"),
            })
        })
        .collect();
    let op = |op: Op| format!("{:?}", Some(op));
    let (getpid, exit) = ("NR 39".to_string(), "exit".to_string());
    // Each batch runs in one kernel entry, its calls shown inside it, each as it would be
    // presented alone (a refused batch would exit before its calls).
    expect_eq(
        "calls the tracepoint saw",
        shown,
        vec![
            op(Op::Useless),
            exit.clone(),
            op(Op::Batch),
            op(Op::Useless),
            exit.clone(),
            getpid.clone(),
            exit.clone(),
            op(Op::PackedBatch),
            op(Op::Useless),
            exit.clone(),
            getpid,
            exit,
        ],
    )?;
    let ppid = ppid.map_err(|e| e.to_string())?;
    let count = |needle: &str| trace.lines().filter(|l| l.contains(needle)).count();
    expect_eq("sys_enter_getppid events", count("sys_getppid()"), 1)?;
    expect_eq("sys_exit_getppid events", count(&format!("sys_getppid -> {ppid:#x}")), 1)
}

/// A lone typed call without a twin is read at entry, before a tracer (or a seccomp
/// supervisor) sees it as system call 1023, and runs from that copy: a tracer that rewrites
/// the request in memory at the entry stop does not change what runs, and one that changes
/// the registers (the request address, the operation) gets the call they name, read
/// afresh; so does one that changes the registers of a request refused at entry.
fn a_tracer_stop_runs_the_request_read_at_entry() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    // A page at a request address (bit 31 set), so that the library sends no copy.
    const AT: u64 = 0x7e00_8000_0000;
    let value_at = AT + Request::<()>::ARGS_OFFSET as u64;
    // Where case 5's refused request lies in the page.
    const REFUSED_AT: usize = 0x100;
    let mut rewrites = Vec::new();
    let mut poked = false;
    let mut refused_seen = false;
    let ended = traced_at(
        || {
            let Ok(mut page) = ferrocall_guest::Pages::map(1, AT) else {
                return 64;
            };
            let mut failures = 0;
            let answer = |page: &ferrocall_guest::Pages| {
                // SAFETY: the page is mapped, aligned and holds a request.
                unsafe { (*(page.addr(0) as *const Request<UselessArgs>)).answer.result() }
            };
            let size = Op::Useless.request_size() as u64;
            let place = |page: &mut ferrocall_guest::Pages, value: u32| {
                page.write(0, &useless_request(value, size as u32));
            };
            let call = |page: &mut ferrocall_guest::Pages, value: u32| {
                place(page, value);
                ferrocall_guest::typed_raw(AT, Op::Useless as u64, size, AT)
            };
            // 1: the tracer writes 100 over the value: the value read at entry runs.
            let r = call(&mut page, 1);
            failures |= i32::from(r != Ok(0) || answer(&page) != Some(Ok(16)));
            // 2: the tracer moves RDX 8 bytes on: that address's "request" (no header) is
            // read and refused, the slot at AT left pending.
            let r = call(&mut page, 2);
            failures |= i32::from(r != Err(Errno::EINVAL) || answer(&page).is_some()) << 1;
            // 3: the tracer names another operation in RDI: refused as a mismatch.
            let r = call(&mut page, 3);
            failures |= i32::from(r != Err(Errno::EINVAL) || answer(&page).is_some()) << 2;
            // 4: untouched.
            let r = call(&mut page, 4);
            failures |= i32::from(r != Ok(0) || answer(&page) != Some(Ok(19))) << 3;
            // 5: a `GetPid` request with an unknown flag, refused at entry and presented as
            // 1023; the tracer names the `Useless` request at AT instead, which runs.
            let get_pid = Op::GetPid.request_size() as u32;
            let bytes = request_bytes(get_pid, Op::GetPid.raw(), 2, 0, &[]);
            page.write(REFUSED_AT, &bytes);
            place(&mut page, 5);
            let at = AT + REFUSED_AT as u64;
            let r = ferrocall_guest::typed_raw(at, Op::GetPid as u64, bytes.len() as u64, at);
            failures |= i32::from(r != Ok(0) || answer(&page) != Some(Ok(20))) << 4;
            failures
        },
        |pid, regs| {
            if regs.orig_rax == 1023 && regs.rdx == AT + REFUSED_AT as u64 {
                refused_seen = regs.rdi == Op::GetPid as u64;
                regs.rdi = Op::Useless as u64;
                regs.rsi = Op::Useless.request_size() as u64;
                regs.rdx = AT;
                return true;
            }
            if regs.orig_rax != 1023 || regs.rdx != AT {
                return false;
            }
            rewrites.push(regs.rdi);
            match rewrites.len() {
                1 => {
                    // SAFETY: POKEDATA writes a word of the stopped tracee's memory.
                    let r = unsafe {
                        libc::ptrace(libc::PTRACE_POKEDATA, pid, value_at as *mut libc::c_void, 100)
                    };
                    poked = r == 0;
                    false
                }
                2 => {
                    regs.rdx = AT + 8;
                    true
                }
                3 => {
                    regs.rdi = Op::GetCwd as u64;
                    true
                }
                _ => false,
            }
        },
    )?;
    check(poked, || "PTRACE_POKEDATA failed".to_string())?;
    check(refused_seen, || "the refused GetPid was not presented as 1023".to_string())?;
    expect_eq("typed calls the tracer stopped", rewrites.len(), 4)?;
    expect_eq("child's failure bits", ended, Ended::Exited(0))
}

fn ptrace_rewrite_in_a_legacy_process() -> Outcome {
    // Without the opt-in, a tracer that turns a call into 1023 gets ENOSYS, as before.
    let out = Command::new(SELF)
        .args(["--legacy", "--only", "legacy_tracer_cannot_make_typed_calls"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    check(out.status.success() && text.contains("PASS"), || format!("{}: {text}", out.status))
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("ferrotrace_decodes_hello", ferrotrace_decodes_hello),
    ("ferrotrace_decodes_the_demo_and_errors", ferrotrace_decodes_the_demo_and_errors),
    ("ferrotrace_follows_forks_and_threads", ferrotrace_follows_forks_and_threads),
    ("ptrace_sees_and_rewrites_typed_calls", ptrace_sees_and_rewrites_typed_calls),
    ("ptrace_rewrite_in_a_legacy_process", ptrace_rewrite_in_a_legacy_process),
    ("a_tracer_stop_runs_the_request_read_at_entry", a_tracer_stop_runs_the_request_read_at_entry),
    ("a_traced_batch_is_seen_call_by_call", a_traced_batch_is_seen_call_by_call),
    ("syscall_tracepoints_see_typed_calls", syscall_tracepoints_see_typed_calls),
];
