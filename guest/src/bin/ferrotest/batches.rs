//! Batches, `Batch` and `PackedBatch`: every call runs and is answered, the first failure
//! stops them, hostile entries and buffers, seccomp per call, and `Exit` inside one.

use ferrocall::abi::{self, ops::UselessArgs, Answer, Errno, Op, Request};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    expect_eq, in_child, nr, request_bytes, syscall, Ended, Outcome, Pages, Test, PAGE, PROT_READ,
};

use crate::common::{
    answer_of, call_at, close, hostile, kill_on_typed, rule_for, useless_request,
    useless_then_getpid,
};

fn batch_runs_every_call() -> Outcome {
    use ferrocall::abi::ops::{GetPidArgs, ReadArgs, WriteArgs};
    use ferrocall::Batch;
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
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
    ferrocall::enable().map_err(|e| e.to_string())?;
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
    // A valid entry whose request says otherwise (the common path compares the header it
    // copied with the entry): refused before it runs, its slot left pending.
    let useless_args = |value: u32, pad: u32| [value.to_le_bytes(), pad.to_le_bytes()].concat();
    for (what, header_op, flags, pad) in [
        ("request whose header names another operation", Op::GetPid as u32, 0, 0),
        ("request with a flag set", Op::Useless as u32, 1, 0),
        ("request with a padding bit set", Op::Useless as u32, 0, 7),
    ] {
        let mut bad = Pages::map(1, 0).map_err(|e| e.to_string())?;
        bad.write(0, &request_bytes(40, header_op, flags, 0, &useless_args(5, pad)));
        let (r, a) = raw_batch(&[(1, 40, g), (1, 40, bad.addr(0))]);
        let slot = Answer::from_bytes(&bad.read(16, 16)).unwrap_or_default();
        hostile(what, (r, a.value, slot.state), (Err(Errno::EINVAL), 1, Answer::PENDING))?;
    }
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

fn batches_obey_seccomp_per_call() -> Outcome {
    use ferrocall::BatchError;
    for (packed, op) in [(false, Op::Batch), (true, Op::PackedBatch)] {
        // The batch and Useless are allowed, GetPid is refused as its twin getpid, which
        // is how a call inside a batch is checked too.
        let filter = seccomp::program(
            &[
                Rule { nr: abi::SYSCALL_NR, arg0: Some(op as u64), action: seccomp::ALLOW },
                rule_for(Op::Useless, seccomp::ALLOW),
                Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(Errno::EPERM) },
                rule_for(Op::GetPid, seccomp::errno(Errno::EACCES)),
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

/// A filter another thread installs with `SECCOMP_FILTER_FLAG_TSYNC` while a batch runs
/// judges the batch's later calls. The batch starts under a filter whose action cache allows
/// `getpid` (so its `GetPid`s take the kernel's common path, which asks that cache), signals
/// the thread with a `Write`, and blocks in a `Read` until the thread has installed a filter
/// that fails `getpid` with `EACCES`: every `GetPid` before the `Read` runs, the first one
/// after it is refused.
fn batches_see_a_filter_installed_mid_batch() -> Outcome {
    for packed in [false, true] {
        let (ended, out) = in_child(move || mid_batch_child(packed)).map_err(|e| e.to_string())?;
        let what = if packed { "PackedBatch" } else { "Batch" };
        let out = String::from_utf8_lossy(&out);
        expect_eq(&format!("{what}: the child ({out})"), ended, Ended::Exited(0))?;
    }
    Ok(())
}

/// The child of [`batches_see_a_filter_installed_mid_batch`]: 0 when the batch ran as it
/// should, otherwise a number saying what went wrong (printed details on stdout).
fn mid_batch_child(packed: bool) -> i32 {
    use ferrocall::abi::ops::{GetPidArgs, ReadArgs, WriteArgs};
    use ferrocall::{Batch, BatchError, PackedBatch};
    use ferrocall_seccomp::{Action, Filter};
    let Ok(first) = seccomp::one_rule_filter() else {
        return 101;
    };
    let getpid = Op::GetPid.twin().map_or(0, |t| t.nr);
    let Ok(second) = Filter::new(Action::Allow)
        .rule(ferrocall_seccomp::syscall(getpid).then(Action::errno(Errno::EACCES)))
        .compile()
    else {
        return 102;
    };
    // The process id from the legacy call, before the second filter refuses it (this child
    // was forked by a raw system call, so the C library's view of it is the parent's).
    let pid = Some(syscall(nr::GETPID, [0; 6]));
    if seccomp::install(&first).is_err() {
        return 103;
    }
    let (mut started, mut data) = ([0i32; 2], [0i32; 2]);
    for fds in [&mut started, &mut data] {
        if syscall(nr::PIPE, [fds.as_mut_ptr() as u64, 0, 0, 0, 0, 0]).is_err() {
            return 104;
        }
    }
    let thread = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        // Blocks until the batch's Write: the calls before it have run.
        let _ = syscall(nr::READ, [started[0] as u64, byte.as_mut_ptr() as u64, 1, 0, 0, 0]);
        let installed = seccomp::install_with_flags(&second, seccomp::FILTER_FLAG_TSYNC);
        // Lets the batch's Read return.
        let _ = syscall(nr::WRITE, [data[1] as u64, byte.as_ptr() as u64, 1, 0, 0, 0]);
        installed
    });
    let (signal, mut into) = (*b"s", [0u8; 1]);
    let write =
        WriteArgs { fd: started[1], buf: abi::UserBuf::from_slice(&signal), ..Default::default() };
    let read = ReadArgs {
        fd: data[0],
        buf: abi::UserBufMut::from_mut_slice(&mut into),
        ..Default::default()
    };
    const BEFORE: usize = 4;
    let (result, answers) = if packed {
        let mut batch = PackedBatch::<16>::new();
        for _ in 0..BEFORE {
            let _ = batch.push(GetPidArgs {});
        }
        // SAFETY: `signal` and `into` outlive the batch and are not touched while it runs.
        unsafe {
            let _ = batch.push_unchecked(write);
            let _ = batch.push_unchecked(read);
        }
        for _ in 0..BEFORE {
            let _ = batch.push(GetPidArgs {});
        }
        let r = ferrocall::packed_batch(&mut batch);
        (r, (0..batch.len()).map(|i| batch.answer(i)).collect::<Vec<_>>())
    } else {
        let mut reqs: Vec<Request<GetPidArgs>> =
            (0..2 * BEFORE).map(|_| Request::new(GetPidArgs {})).collect();
        let (mut w, mut r) = (Request::new(write), Request::new(read));
        let (head, tail) = reqs.split_at_mut(BEFORE);
        let result = {
            let mut batch = Batch::<16>::new();
            for req in head.iter_mut() {
                let _ = batch.push(req);
            }
            // SAFETY: as above.
            unsafe {
                let _ = batch.push_unchecked(&mut w);
                let _ = batch.push_unchecked(&mut r);
            }
            for req in tail.iter_mut() {
                let _ = batch.push(req);
            }
            ferrocall::batch(&mut batch)
        };
        let mut answers: Vec<_> = head.iter().map(|q| q.answer.result()).collect();
        answers.extend([w.answer.result(), r.answer.result()]);
        answers.extend(tail.iter().map(|q| q.answer.result()));
        (result, answers)
    };
    let installed = thread.join().ok();
    let mut want = vec![pid; BEFORE];
    want.extend([Some(Ok(1)), Some(Ok(1))]);
    // The refused call has no answer, and no call after it runs.
    want.extend(vec![None; BEFORE]);
    let want_result = Err(BatchError { errno: Errno::EACCES, completed: BEFORE + 2 });
    if installed != Some(Ok(())) || result != want_result || answers != want {
        println!("installed {installed:?}, batch {result:?}, answers {answers:?}");
        return 1;
    }
    0
}

fn packed_batch_runs_every_call() -> Outcome {
    use ferrocall::abi::ops::{GetPidArgs, GetPpidArgs, ReadArgs, WriteArgs};
    use ferrocall::PackedBatch;
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
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

/// A packed batch runs each request from the one copy its checks judged (issue 10, M1): an
/// earlier `Read` of the same batch that rewrites a later request in user memory does not
/// change what runs. The filter refuses `write` to fd 1; the batch's `Write` is checked as a
/// write to `/dev/null`, then its `Read` turns that request's fd into 1 in user memory. The
/// `Write` still writes to `/dev/null`: nothing reaches fd 1 (the child's captured output),
/// and the rewritten request, made alone, is refused.
fn packed_batch_runs_the_bytes_it_checked() -> Outcome {
    use ferrocall_seccomp::{arg, Action, Filter};
    let (ended, out) = in_child(|| {
        if ferrocall::enable().is_err() {
            return 99;
        }
        let Ok(filter) = Filter::new(Action::Allow)
            .rule(
                ferrocall_seccomp::syscall(nr::WRITE as u32)
                    .when(arg(0).eq(1u64))
                    .then(Action::errno(Errno::EPERM)),
            )
            .compile()
        else {
            return 100;
        };
        let Ok(devnull) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return 101;
        };
        let devnull = std::os::fd::AsRawFd::as_raw_fd(&devnull);
        let mut fds = [0i32; 2];
        if syscall(nr::PIPE, [fds.as_mut_ptr() as u64, 0, 0, 0, 0, 0]).is_err() {
            return 102;
        }
        // What the Read will put over the Write's fd: 1.
        let one = 1u32.to_le_bytes();
        if syscall(nr::WRITE, [fds[1] as u64, one.as_ptr() as u64, 4, 0, 0, 0]) != Ok(4) {
            return 103;
        }
        let Ok(mut pages) = Pages::map(2, 0) else {
            return 104;
        };
        let (req, ans, data) = (pages.addr(0), pages.addr(PAGE), pages.addr(PAGE + 256));
        pages.write(PAGE + 256, b"x");
        let size = Op::Write.request_size();
        // The second request's fd field, 32 bytes into it (after its header and answer).
        let write_fd_at = req + size as u64 + 32;
        let request = |op: Op, fd: i32, addr: u64, len: u64| {
            let mut args = (fd as u32).to_le_bytes().to_vec();
            args.extend_from_slice(&[0; 4]);
            args.extend_from_slice(&addr.to_le_bytes());
            args.extend_from_slice(&len.to_le_bytes());
            request_bytes(size as u32, op as u32, 0, 0, &args)
        };
        let read = request(Op::Read, fds[0], write_fd_at, 4);
        let write = request(Op::Write, devnull, data, 1);
        pages.write(0, &[read, write].concat());
        if seccomp::install(&filter).is_err() {
            return 105;
        }
        let (r, a) = raw_packed(req, 2 * size as u64, ans, 32);
        let answers = (answer_of(&pages.read(PAGE, 16)), answer_of(&pages.read(PAGE + 16, 16)));
        let rewritten = u32::from_le_bytes(pages.read(size + 32, 4).try_into().unwrap_or([0; 4]));
        // The rewritten request alone: a write to fd 1, which the filter refuses.
        let alone = call_at(8, &pages.read(size, size), Op::Write as u64, size as u64).0;
        i32::from((r, a.result()) != (Ok(0), Some(Ok(2))))
            | i32::from(answers.0.result() != Some(Ok(4))) << 1
            | i32::from(answers.1.result() != Some(Ok(1))) << 2
            | i32::from(rewritten != 1) << 3
            | i32::from(alone != Err(Errno::EPERM)) << 4
    })
    .map_err(|e| e.to_string())?;
    expect_eq("the child's failure bits", ended, Ended::Exited(0))?;
    expect_eq("what reached fd 1", String::from_utf8_lossy(&out).to_string(), String::new())
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

/// This module's tests, in the order the main suite runs them.
/// A packed batch that ends the process with `Exit` first writes the answers of the calls
/// before it (review L8): a process sharing the batch's memory sees them answered.
fn exit_in_a_packed_batch_leaves_the_answers_before_it() -> Outcome {
    use ferrocall::abi::ops::{ExitArgs, GetPidArgs};
    use ferrocall::PackedBatch;
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    // SAFETY: a fresh anonymous shared mapping of one page, ours until unmapped below.
    let shared = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if shared == libc::MAP_FAILED {
        return Err("mmap of a shared page failed".into());
    }
    const { assert!(core::mem::size_of::<PackedBatch<'static, 2>>() <= 4096) };
    let batch = shared.cast::<PackedBatch<'static, 2>>();
    // SAFETY: the page is aligned, writable and large enough for the batch (asserted above).
    unsafe { batch.write(PackedBatch::new()) };
    let pid = ferrocall_guest::fork_child(|| {
        // SAFETY: the child's copy of the mapping is the same shared page; the parent does
        // not touch it until the child has ended.
        let batch = unsafe { &mut *batch };
        if batch.push(GetPidArgs {}).is_err()
            || batch.push(ExitArgs { code: 7, ..Default::default() }).is_err()
        {
            return 100;
        }
        let _ = ferrocall::packed_batch(batch);
        101
    });
    let ended = ferrocall_guest::wait_exit(pid);
    // SAFETY: the child has ended; the page holds the batch it ran.
    let first = unsafe { (*batch).answer(0) };
    // SAFETY: the mapping made above, no longer used.
    unsafe { libc::munmap(shared, 4096) };
    expect_eq("the child's exit status (Exit's code)", ended, Some(7))?;
    expect_eq("the answer of the call before Exit", first, Some(Ok(pid as u64)))
}

pub const TESTS: &[Test] = &[
    ("batch_runs_every_call", batch_runs_every_call),
    (
        "exit_in_a_packed_batch_leaves_the_answers_before_it",
        exit_in_a_packed_batch_leaves_the_answers_before_it,
    ),
    ("batch_stops_at_the_first_failure", batch_stops_at_the_first_failure),
    ("hostile_batches", hostile_batches),
    ("batches_obey_seccomp_per_call", batches_obey_seccomp_per_call),
    ("batches_see_a_filter_installed_mid_batch", batches_see_a_filter_installed_mid_batch),
    ("packed_batch_runs_every_call", packed_batch_runs_every_call),
    ("packed_batch_stops_at_the_first_failure", packed_batch_stops_at_the_first_failure),
    ("hostile_packed_batches", hostile_packed_batches),
    ("packed_batch_runs_the_bytes_it_checked", packed_batch_runs_the_bytes_it_checked),
    ("exit_inside_a_batch", exit_inside_a_batch),
];
