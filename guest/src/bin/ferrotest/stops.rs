//! Batches that stop before a call (`BATCH_RESUMABLE`, issue 10 point 3 and M4): where a
//! lone call would leave the kernel — a seccomp verdict that acts on a lone call's registers
//! or watchers (TRAP, TRACE, LOG), a signal to handle, a stop — a batch stops before the call,
//! the library makes it alone and goes on, and the results are those of the calls made one
//! by one.

use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

use ferrocall::abi::{ops, Answer, Errno, Op, Request, UserBuf};
use ferrocall::{BatchError, Borrowed, PackedBatch};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    expect_eq, fd, fork_child, handle_signal, in_child, nonblocking_pipe, nr, pipe,
    request_as_bytes, request_bytes, wait_exit, Ended, Outcome, Pages, Test,
};

use crate::common::{answer_of, call_at, close, useless_request};
use crate::seccomp::{sigsys_count, sigsys_info, trap_with, EMULATED};

/// A filter that answers `action` for `write` to `fd`, and allows everything else.
fn on_write(fd: i32, action: u32) -> Vec<seccomp::Insn> {
    let rule = Rule { nr: nr::WRITE as u32, arg0: Some(fd as u64), action };
    seccomp::program(&[rule], seccomp::ALLOW)
}

/// A raw `PackedBatch` of `requests` with the flags `flags`: the batch's result and answer,
/// and the calls' answers.
fn raw_packed(requests: &[Vec<u8>], flags: u32) -> (Result<u64, Errno>, Answer, Vec<Answer>) {
    let mut pages = Pages::map(2, 0).expect("mmap");
    let bytes = requests.concat();
    pages.write(0, &bytes);
    let answers = pages.addr(4096);
    let mut args = Vec::new();
    for word in [pages.addr(0), bytes.len() as u64, answers, 16 * requests.len() as u64] {
        args.extend_from_slice(&word.to_le_bytes());
    }
    args.extend_from_slice(&flags.to_le_bytes());
    args.extend_from_slice(&[0; 4]);
    let size = Op::PackedBatch.request_size() as u32;
    let op = Op::PackedBatch as u32;
    let (r, answer) = call_at(8, &request_bytes(size, op, 0, 0, &args), op.into(), size.into());
    let each = (0..requests.len()).map(|i| answer_of(&pages.read(4096 + 16 * i, 16))).collect();
    (r, answer_of(&answer), each)
}

/// A raw `Write(fd, data)` request; `data` must outlive its use.
fn write_request(fd: i32, data: &[u8]) -> Vec<u8> {
    let args = ops::WriteArgs { fd, buf: UserBuf::from_slice(data), ..Default::default() };
    request_as_bytes(&Request::new(args)).to_vec()
}

/// SECCOMP_RET_TRAP on `write` inside a batch: the batch stops before the `Write`, which the
/// library makes alone, so the SIGSYS handler sees a lone `write` (its number, the fd in
/// `rdi`, the length in `rdx`), once, and its emulated answer is the call's; the calls
/// around it run in the batch. Raw: a resumable batch answers `Ok(1)` (stopped before call
/// 1, nothing raised), an old-form one refuses the call with `EPERM`, also raising nothing.
fn a_trap_verdict_stops_the_batch() -> Outcome {
    let (ended, out) = in_child(|| {
        let Ok((r, w)) = nonblocking_pipe() else { return 99 };
        if ferrocall::enable().is_err() || !trap_with(&on_write(w, seccomp::TRAP)) {
            return 100;
        }
        let data = *b"abcde";
        let calls = [useless_request(1, 40), write_request(w, &data), useless_request(2, 40)];
        let mut failed = 0;
        let (ret, batch, each) = raw_packed(&calls, ops::BATCH_RESUMABLE);
        println!("raw resumable: {ret:?} {batch:?}");
        let stopped = ret == Ok(0) && batch.result() == Some(Ok(1));
        let first_only = each[0].result() == Some(Ok(16)) && each[1].state == Answer::PENDING;
        failed |= i32::from(!stopped || !first_only || sigsys_count() != 0);
        let (ret, batch, _) = raw_packed(&calls, 0);
        println!("raw old form: {ret:?} {batch:?}");
        let refused = ret == Err(Errno::EPERM) && batch.value == 1;
        failed |= i32::from(!refused || sigsys_count() != 0) << 1;
        let pid = u64::from(std::process::id());
        let writer = fd(w);
        let mut packed = PackedBatch::<3>::new();
        let _ = packed.push(ops::GetPidArgs {});
        let _ = packed.push_borrowed(Borrowed::write(&writer, &data));
        let _ = packed.push(ops::GetPidArgs {});
        let ran = ferrocall::packed_batch(&mut packed);
        let answers = [packed.answer(0), packed.answer(1), packed.answer(2)];
        let emulated = Some(Ok(EMULATED));
        failed |=
            i32::from(ran != Ok(3) || answers != [Some(Ok(pid)), emulated, Some(Ok(pid))]) << 2;
        let seen = (sigsys_count(), sigsys_info());
        let arch = seccomp::AUDIT_ARCH_X86_64.into();
        let want = (1, vec![libc::SIGSYS as u64, nr::WRITE, arch, w as u64, 5]);
        failed |= i32::from(seen != want) << 3;
        println!("batch {ran:?}, answers {answers:?}, SIGSYS seen {seen:?}");
        close(r);
        close(w);
        failed
    })
    .map_err(|e| e.to_string())?;
    expect_eq(
        &format!("child's failure bits ({})", String::from_utf8_lossy(&out).trim()),
        ended,
        Ended::Exited(0),
    )
}

/// SECCOMP_RET_LOG and SECCOMP_RET_TRACE (no tracer) on `write` inside a batch: the batch
/// stops before the `Write`, made alone: logged and run (LOG), or `ENOSYS` (TRACE without a
/// tracer), exactly as a lone `write`.
fn log_and_trace_verdicts_stop_the_batch() -> Outcome {
    for (action, want) in [
        (seccomp::LOG, Ok(3)),
        (seccomp::TRACE, Err(BatchError { errno: Errno::ENOSYS, completed: 1 })),
    ] {
        let (ended, out) = in_child(|| {
            let Ok((r, w)) = nonblocking_pipe() else { return 99 };
            if ferrocall::enable().is_err() || seccomp::install(&on_write(w, action)).is_err() {
                return 100;
            }
            let data = *b"abc";
            let calls = [useless_request(1, 40), write_request(w, &data)];
            let (ret, batch, _) = raw_packed(&calls, ops::BATCH_RESUMABLE);
            let mut failed = i32::from(ret != Ok(0) || batch.result() != Some(Ok(1)));
            let mut packed = PackedBatch::<3>::new();
            let _ = packed.push(ops::GetPidArgs {});
            let writer = fd(w);
            let _ = packed.push_borrowed(Borrowed::write(&writer, &data));
            let _ = packed.push(ops::GetPidArgs {});
            let ran = ferrocall::packed_batch(&mut packed);
            failed |= i32::from(ran != want) << 1;
            println!("batch {ran:?}");
            close(r);
            close(w);
            failed
        })
        .map_err(|e| e.to_string())?;
        expect_eq(
            &format!("action {action:#x}: child ({})", String::from_utf8_lossy(&out).trim()),
            ended,
            Ended::Exited(0),
        )?;
    }
    Ok(())
}

/// SECCOMP_RET_USER_NOTIF on `write` to a pipe inside a batch: the batch stops before the
/// `Write`, which the library makes alone, so the supervisor is notified once, of a lone
/// `write` (its number, fd and length), and its reply is the call's answer; the calls
/// around it run in the batch, and the pipe gets nothing (the supervisor did not let the
/// call continue).
fn a_user_notif_verdict_stops_the_batch() -> Outcome {
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let (r, w) = nonblocking_pipe()?;
    let exit = wait_exit(fork_child(|| user_notif_child(w)));
    let mut buf = [0u8; 8];
    // SAFETY: reads into `buf`; the pipe does not block.
    let left = unsafe { libc::read(r, buf.as_mut_ptr().cast(), buf.len()) };
    close(r);
    close(w);
    expect_eq("the child's failure bits, then what the pipe got", (exit, left), (Some(0), -1))
}

/// The reply the supervisor gives to a notified `write`.
const SUPERVISED: i64 = 7;

/// The child of [`a_user_notif_verdict_stops_the_batch`]: installs the filter, starts the
/// supervisor, makes the batch; its failure bits.
fn user_notif_child(w: i32) -> i32 {
    #[repr(C)]
    struct Notif {
        id: u64,
        pid: u32,
        flags: u32,
        nr: i32,
        arch: u32,
        ip: u64,
        args: [u64; 6],
    }
    #[repr(C)]
    struct Resp {
        id: u64,
        val: i64,
        error: i32,
        flags: u32,
    }
    // SECCOMP_IOCTL_NOTIF_RECV and _SEND: _IOWR('!', 0 and 1, the structs above).
    const RECV: u32 = 0xc050_2100;
    const SEND: u32 = 0xc018_2101;
    // The supervisor, started before the filter so that the filter is not its own: it
    // answers one notification (a second would leave its call waiting until the alarm).
    let (tx, rx) = std::sync::mpsc::channel::<i32>();
    let supervisor = std::thread::spawn(move || {
        let listener = rx.recv().ok()?;
        // SAFETY: all-zero bytes are a valid notification to receive into.
        let mut notif: Notif = unsafe { core::mem::zeroed() };
        // SAFETY: receives one notification into `notif`, ours.
        if unsafe { libc::ioctl(listener, RECV as libc::Ioctl, &mut notif) } != 0 {
            return None;
        }
        let resp = Resp { id: notif.id, val: SUPERVISED, error: 0, flags: 0 };
        // SAFETY: sends `resp`, ours.
        unsafe { libc::ioctl(listener, SEND as libc::Ioctl, &resp) };
        Some((notif.nr, notif.args[0], notif.args[2]))
    });
    let Ok(listener) = seccomp::install_with_listener(&on_write(w, seccomp::USER_NOTIF)) else {
        return 100;
    };
    if tx.send(listener).is_err() {
        return 101;
    }
    let data = *b"notified";
    let writer = fd(w);
    let pid = u64::from(std::process::id());
    let mut packed = PackedBatch::<3>::new();
    let _ = packed.push(ops::GetPidArgs {});
    let _ = packed.push_borrowed(Borrowed::write(&writer, &data));
    let _ = packed.push(ops::GetPidArgs {});
    let ran = ferrocall::packed_batch(&mut packed);
    let answers = [packed.answer(0), packed.answer(1), packed.answer(2)];
    let seen = supervisor.join().ok().flatten();
    let mut failed = i32::from(ran != Ok(3));
    failed |=
        i32::from(answers != [Some(Ok(pid)), Some(Ok(SUPERVISED as u64)), Some(Ok(pid))]) << 1;
    failed |= i32::from(seen != Some((nr::WRITE as i32, w as u64, data.len() as u64))) << 2;
    close(listener);
    failed
}

/// The write end of the pipe the SIGUSR1 handler writes one byte into.
static HANDLER_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigusr1(_: libc::c_int) {
    let byte = b'h';
    // SAFETY: write(2) is async-signal-safe; the byte outlives the call.
    unsafe { libc::write(HANDLER_PIPE.load(SeqCst), (&byte as *const u8).cast(), 1) };
}

/// M4: a batch interrupted by a signal whose handler has `SA_RESTART` goes on where it
/// stopped and runs no call twice (the review's test). The batch writes `x` to pipe A, then
/// reads pipe B, which is empty; the parent, on reading the `x`, sends the child SIGUSR1,
/// whose handler writes one byte into B. Made one by one, both calls succeed (the read
/// restarts and gets the handler's byte); so does the batch, and A held one `x`.
fn a_batch_resumes_after_a_restarting_handler() -> Outcome {
    let handler_pipe = |b_write| {
        HANDLER_PIPE.store(b_write, SeqCst);
        let handler = on_sigusr1 as extern "C" fn(_) as usize;
        handle_signal(libc::SIGUSR1, handler, libc::SA_RESTART)
    };
    let (pid, a_read, b_write) = write_then_read_in_a_child(handler_pipe, b'h')?;
    let mut byte = [0u8; 4];
    // SAFETY: reads into `byte`; signals the child.
    let got = unsafe { libc::read(a_read, byte.as_mut_ptr().cast(), 1) };
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGUSR1) };
    let exit = wait_exit(pid);
    // SAFETY: reads what is left of A once the child, its only writer, has ended.
    let rest = unsafe { libc::read(a_read, byte.as_mut_ptr().cast(), byte.len()) };
    close(a_read);
    close(b_write);
    // One `x` read before the signal, then the end of A: nothing ran twice.
    expect_eq(
        "read x, the child's exit (failure bits), then A's end",
        (got, exit, rest),
        (1, Some(0), 0),
    )
}

/// M4: a batch stopped by SIGSTOP and continued by SIGCONT while one of its calls blocks goes
/// on where it stopped. The parent reads the batch's `x` from pipe A, stops the child, waits
/// for the stop, continues it and writes one byte into pipe B, which the batch's `Read` then
/// gets: `Ok(2)`, not `EINTR`.
fn a_batch_resumes_after_sigstop_and_sigcont() -> Outcome {
    let (pid, a_read, b_write) = write_then_read_in_a_child(|_| true, b'p')?;
    let mut byte = [0u8; 1];
    // SAFETY: reads one byte; then signals and waits for the child, and writes one byte.
    let steps = unsafe {
        let got = libc::read(a_read, byte.as_mut_ptr().cast(), 1);
        // Give the child time to block in its `Read`.
        libc::usleep(50_000);
        libc::kill(pid, libc::SIGSTOP);
        let mut status = 0;
        let stopped =
            libc::waitpid(pid, &mut status, libc::WUNTRACED) == pid && libc::WIFSTOPPED(status);
        libc::kill(pid, libc::SIGCONT);
        let wrote = libc::write(b_write, b"p".as_ptr().cast(), 1);
        (got, stopped, wrote)
    };
    let exit = wait_exit(pid);
    close(a_read);
    close(b_write);
    expect_eq("read x, stopped, wrote, child's exit", (steps, exit), ((1, true, 1), Some(0)))
}

/// M4: a batch frozen by the cgroup freezer while one of its calls blocks goes on where it
/// stopped once thawed. The parent reads the batch's `x` from pipe A, moves the child into a
/// cgroup of its own and freezes it (`cgroup.freeze`), waits until `cgroup.events` says
/// `frozen 1` (a batch that kept the task in the kernel would never freeze), thaws it and
/// writes one byte into pipe B, which the batch's `Read` then gets: `Ok(2)`, not `EINTR`,
/// and A held one `x`.
fn a_batch_resumes_after_the_freezer() -> Outcome {
    let group = freezer_cgroup()?;
    let (pid, a_read, b_write) = write_then_read_in_a_child(|_| true, b'f')?;
    let mut byte = [0u8; 4];
    // SAFETY: reads one byte into `byte`.
    let got = unsafe { libc::read(a_read, byte.as_mut_ptr().cast(), 1) };
    // Give the child time to block in its `Read`.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let frozen = freeze_and_thaw(&group, pid);
    // SAFETY: writes one byte.
    let wrote = unsafe { libc::write(b_write, b"f".as_ptr().cast(), 1) };
    let exit = wait_exit(pid);
    // SAFETY: reads what is left of A once the child, its only writer, has ended.
    let rest = unsafe { libc::read(a_read, byte.as_mut_ptr().cast(), byte.len()) };
    close(a_read);
    close(b_write);
    let _ = std::fs::remove_dir(&group);
    expect_eq(
        "read x, froze and thawed, wrote, the child's exit (failure bits), then A's end",
        (got, frozen, wrote, exit, rest),
        (1, Ok(()), 1, Some(0), 0),
    )
}

/// A new cgroup v2 group for the freezer test (the hierarchy mounted on `/cgroup` first).
fn freezer_cgroup() -> Result<std::path::PathBuf, String> {
    let root = std::path::Path::new("/cgroup");
    if !root.join("cgroup.procs").exists() {
        ferrocall_guest::mount(c"cgroup2", c"/cgroup")
            .map_err(|e| format!("{e} (the test kernels need CONFIG_CGROUPS)"))?;
    }
    let group = root.join(format!("ferrotest-freezer-{}", std::process::id()));
    std::fs::create_dir(&group).map_err(|e| format!("mkdir {}: {e}", group.display()))?;
    Ok(group)
}

/// Moves `pid` into `group`, freezes the group, waits (at most 10 s) until it is frozen and
/// thaws it.
fn freeze_and_thaw(group: &std::path::Path, pid: libc::pid_t) -> Result<(), String> {
    let write = |file: &str, value: String| {
        std::fs::write(group.join(file), value).map_err(|e| format!("write {file}: {e}"))
    };
    write("cgroup.procs", pid.to_string())?;
    write("cgroup.freeze", "1".into())?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let frozen = loop {
        let events = std::fs::read_to_string(group.join("cgroup.events"))
            .map_err(|e| format!("read cgroup.events: {e}"))?;
        if events.lines().any(|line| line == "frozen 1") {
            break Ok(());
        }
        if std::time::Instant::now() > deadline {
            break Err(format!("not frozen after 10 s; cgroup.events: {events:?}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    write("cgroup.freeze", "0".into())?;
    frozen
}

/// M4's scenario: pipes A and B; a child runs `setup` (given B's write end), then one packed
/// batch that writes `x` to A and reads one byte of B, which must be `want`; it exits with 0
/// when both calls answered 1, else with its failure bits. Returns the child's pid, and A's
/// read end and B's write end, the parent's (it closed its other two).
fn write_then_read_in_a_child(
    setup: impl FnOnce(i32) -> bool,
    want: u8,
) -> Result<(libc::pid_t, i32, i32), String> {
    let ((a_read, a_write), (b_read, b_write)) = (pipe()?, pipe()?);
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let pid = fork_child(|| {
        close(a_read);
        if !setup(b_write) {
            return 100;
        }
        let mut into = [0u8; 4];
        let (a, b) = (fd(a_write), fd(b_read));
        let mut packed = PackedBatch::<2>::new();
        let _ = packed.push_borrowed(Borrowed::write(&a, b"x"));
        let _ = packed.push_borrowed(Borrowed::read(&b, &mut into));
        let ran = ferrocall::packed_batch(&mut packed);
        let answers = (packed.answer(0), packed.answer(1));
        i32::from(ran != Ok(2))
            | i32::from(answers != (Some(Ok(1)), Some(Ok(1)))) << 1
            | i32::from(into[0] != want) << 2
    });
    // Only the child writes A and reads B: an A without writers reads as the end.
    close(a_write);
    close(b_read);
    Ok((pid, a_read, b_write))
}

pub const TESTS: &[Test] = &[
    ("a_trap_verdict_stops_the_batch", a_trap_verdict_stops_the_batch),
    ("log_and_trace_verdicts_stop_the_batch", log_and_trace_verdicts_stop_the_batch),
    ("a_user_notif_verdict_stops_the_batch", a_user_notif_verdict_stops_the_batch),
    ("a_batch_resumes_after_a_restarting_handler", a_batch_resumes_after_a_restarting_handler),
    ("a_batch_resumes_after_sigstop_and_sigcont", a_batch_resumes_after_sigstop_and_sigcont),
    ("a_batch_resumes_after_the_freezer", a_batch_resumes_after_the_freezer),
];
