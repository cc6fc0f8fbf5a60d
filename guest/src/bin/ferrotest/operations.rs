//! The real operations against their legacy twins: `GetPid`/`GetPpid`, `GetUid`,
//! `Write`/`Read` (through pipes, partial writes, bad buffers, an older request), `GetCwd`
//! and `Probe`.

use ferrocall::abi::{self, Answer, Errno, Op};
use ferrocall::{FillError, Native, TypedCalls};
use ferrocall_guest::{
    check, expect_eq, fd, in_child, nr, request_bytes, syscall, typed_raw, Ended, Outcome, Pages,
    Test, PAGE, PROT_READ,
};

use crate::common::{answer_of, call_at, close, getcwd_answers_as_legacy, hostile};

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

fn getuid_matches_legacy() -> Outcome {
    expect_eq("getuid", ferrocall::getuid().map(u64::from), syscall(nr::GETUID, [0; 6]))?;
    // The id follows a change, in a child that gives up root.
    let (ended, _) = in_child(|| {
        if syscall(nr::SETUID, [1234, 0, 0, 0, 0, 0]).is_err() {
            return 100;
        }
        let legacy = syscall(nr::GETUID, [0; 6]);
        i32::from(ferrocall::getuid().map(u64::from) != legacy) | i32::from(legacy != Ok(1234)) << 1
    })
    .map_err(|e| e.to_string())?;
    expect_eq("after setuid(1234), in a child", ended, Ended::Exited(0))
}

fn write_and_read_through_a_pipe() -> Outcome {
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
    expect_eq("typed write", ferrocall::write(fd(w), b"typed bytes"), Ok(11))?;
    expect_eq("typed write of nothing", ferrocall::write(fd(w), b""), Ok(0))?;
    let mut buf = [0u8; 32];
    expect_eq("typed read", ferrocall::read(fd(r), &mut buf[..5]), Ok(5))?;
    expect_eq("bytes", &buf[..5], b"typed")?;
    expect_eq(
        "legacy read of the rest",
        syscall(nr::READ, [r as u64, buf.as_mut_ptr() as u64, 32, 0, 0, 0]),
        Ok(6),
    )?;
    expect_eq("empty non-blocking pipe", ferrocall::read(fd(r), &mut buf), Err(Errno::EAGAIN))?;
    close(w);
    expect_eq("end of file", ferrocall::read(fd(r), &mut buf), Ok(0))?;
    close(r);
    expect_eq("closed fd", ferrocall::read(fd(r), &mut buf), Err(Errno::EBADF))?;
    expect_eq("never opened fd", ferrocall::write(fd(999), b"x"), Err(Errno::EBADF))?;
    expect_eq("negative fd", ferrocall::write(fd(-1), b"x"), Err(Errno::EBADF))
}

fn partial_write_like_legacy() -> Outcome {
    // A non-blocking pipe takes 64 KiB: both paths report the same short count.
    let data = vec![7u8; 100_000];
    let (r1, w1) = ferrocall_guest::nonblocking_pipe()?;
    let legacy = syscall(nr::WRITE, [w1 as u64, data.as_ptr() as u64, data.len() as u64, 0, 0, 0]);
    let (r2, w2) = ferrocall_guest::nonblocking_pipe()?;
    let typed = ferrocall::write(fd(w2), &data).map(|n| n as u64);
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
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
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
        // As write(2): the length is clamped, the unmapped address is EFAULT.
        ("write with a huge length", Op::Write, w, 0x1000, 1 << 63, Errno::EFAULT),
        ("write with u64::MAX length", Op::Write, w, 0x1000, u64::MAX, Errno::EFAULT),
        ("write wrapping the address space", Op::Write, w, u64::MAX - 0xfff, 0x2000, Errno::EFAULT),
        ("read into NULL", Op::Read, r, 0, 8, Errno::EFAULT),
        ("read into a kernel address", Op::Read, r, 0xffff_8880_0000_0000, 8, Errno::EFAULT),
    ];
    // Make the reads have data, so they really copy.
    let _ = ferrocall::write(fd(w), &[1u8; 64]);
    for (what, op, fd, addr, len, want) in cases {
        let (got, _) = call_at(8, &io_request(op, fd, addr, len), op as u64, 56);
        hostile(what, got, Err(want))?;
        // The typed call is its twin: the same registers make the same legacy call.
        let twin = if op == Op::Write { nr::WRITE } else { nr::READ };
        let legacy = syscall(twin, [fd as u64, addr, len, 0, 0, 0]);
        hostile(&format!("{what}, as its twin"), got, legacy)?;
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
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
    let mut bytes = io_request(Op::Write, w, 0x1000, 8);
    bytes.truncate(40);
    bytes[0..4].copy_from_slice(&40u32.to_le_bytes());
    let (got, answer) = call_at(8, &bytes, Op::Write as u64, 40);
    close(r);
    close(w);
    expect_eq("40-byte Write", got, Ok(0))?;
    expect_eq("answer", answer_of(&answer), Answer::done(Ok(0)))
}

fn getcwd_matches_legacy() -> Outcome {
    for dir in [&b"/\0"[..], b"/tmp\0", b"/proc\0"] {
        syscall(nr::CHDIR, [dir.as_ptr() as u64, 0, 0, 0, 0, 0])
            .map_err(|e| format!("chdir: {e}"))?;
        getcwd_answers_as_legacy()?;
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

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("getpid_and_getppid_match_legacy", getpid_and_getppid_match_legacy),
    ("getuid_matches_legacy", getuid_matches_legacy),
    ("write_and_read_through_a_pipe", write_and_read_through_a_pipe),
    ("partial_write_like_legacy", partial_write_like_legacy),
    ("bad_io_buffers", bad_io_buffers),
    ("older_write_request", older_write_request),
    ("getcwd_matches_legacy", getcwd_matches_legacy),
    ("probe_matches_the_table", probe_matches_the_table),
];
