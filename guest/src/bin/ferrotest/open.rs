//! Typed `Open` (issue 11): it opens as `openat2()` does and refuses what `openat2()`
//! refuses with the same errno; seccomp sees it as its twin `openat2` and also decoded,
//! `ferrocall(Open, dirfd, path, flags, mode, resolve)`, so a filter can admit it only
//! read-only and beneath its directory — lone or in a batch — which no filter on
//! `openat2` can express. The race of a thread rewriting the request is in `ferrostress`.

use ferrocall::abi::{Errno, Op};
use ferrocall::PackedBatch;
use ferrocall_guest::open::{
    access_mode, inode_of, open_args, openat2, read_only_beneath_filter, Fixture, INSIDE, OPENAT2,
    OUTSIDE_RELATIVE, O_DIRECTORY,
};
use ferrocall_guest::seccomp::install;
use ferrocall_guest::{check, expect_eq, in_child, nr, syscall, Ended, Outcome, Pages, Test};
use ferrocall_seccomp::open::{O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, RESOLVE_BENEATH};

use crate::common::hostile;

/// Typed `Open` through the library, the descriptor given up (the caller closes it).
fn open(
    dirfd: i32,
    path: &std::ffi::CStr,
    flags: u64,
    mode: u64,
    resolve: u64,
) -> Result<i32, Errno> {
    ferrocall::open(ferrocall_guest::fd(dirfd), path, flags, mode, resolve)
        .map(ferrocall::OwnedFd::into_raw_fd)
}

fn close(fd: i32) {
    let _ = syscall(nr::CLOSE, [fd as u64, 0, 0, 0, 0, 0]);
}

fn open_opens_the_file_beneath_its_directory() -> Outcome {
    let fx = Fixture::new()?;
    let fd =
        open(fx.dir, INSIDE, O_RDONLY, 0, RESOLVE_BENEATH).map_err(|e| format!("Open: {e}"))?;
    let mut buf = [0u8; 16];
    let n = syscall(nr::READ, [fd as u64, buf.as_mut_ptr() as u64, 16, 0, 0, 0]);
    let (mode, ino) = (access_mode(fd), inode_of(fd));
    close(fd);
    expect_eq("what it read", n.map(|n| buf[..n as usize].to_vec()), Ok(b"inside\n".to_vec()))?;
    expect_eq("its access mode and inode", (mode, ino), (Ok(O_RDONLY), Ok(fx.inside)))
}

fn open_creates_a_file_with_its_mode() -> Outcome {
    use std::os::unix::fs::PermissionsExt;
    let path = c"/tmp/ferro-open/created";
    let _ = std::fs::remove_file("/tmp/ferro-open/created");
    // The umask applies as for openat2(): clear it for the test.
    let old = syscall(95, [0, 0, 0, 0, 0, 0]).unwrap_or(0o022);
    let fd = open(-100, path, O_CREAT | O_WRONLY, 0o640, 0);
    let _ = syscall(95, [old, 0, 0, 0, 0, 0]);
    let fd = fd.map_err(|e| format!("Open with O_CREAT: {e}"))?;
    let mode = access_mode(fd);
    close(fd);
    let perms =
        std::fs::metadata("/tmp/ferro-open/created").map_err(|e| e.to_string())?.permissions();
    expect_eq("its mode and access", (perms.mode() & 0o777, mode), (0o640, Ok(O_WRONLY)))
}

/// Every refusal of `openat2()` is typed `Open`'s, with the same errno: bad flags, bad
/// resolve bits, a mode without `O_CREAT`, bad and unmapped path pointers, a path too long,
/// an empty path, a bad directory descriptor, an escape from `RESOLVE_BENEATH`, a file
/// where a directory is asked for.
fn open_refuses_what_openat2_refuses() -> Outcome {
    let fx = Fixture::new()?;
    let long = std::ffi::CString::new("x".repeat(5000)).map_err(|e| e.to_string())?;
    // Inaccessible rather than unmapped: a later allocation could map the hole again.
    let hole = Pages::map(1, 0).map_err(|e| e.to_string())?;
    hole.protect(0, ferrocall_guest::PROT_NONE).map_err(|e| e.to_string())?;
    let at = |p: &std::ffi::CStr| p.as_ptr() as u64;
    let cases: [(&str, i32, u64, u64, u64, u64, Errno); 10] = [
        ("an unknown flag", fx.dir, at(INSIDE), 1 << 40, 0, 0, Errno::EINVAL),
        ("an unknown resolve bit", fx.dir, at(INSIDE), O_RDONLY, 0, 1 << 20, Errno::EINVAL),
        ("a mode without O_CREAT", fx.dir, at(INSIDE), O_RDONLY, 0o644, 0, Errno::EINVAL),
        (
            "a mode past 0o7777",
            -100,
            at(c"/tmp/ferro-open/x"),
            O_CREAT | O_WRONLY,
            0o10000,
            0,
            Errno::EINVAL,
        ),
        ("a path at address 16", fx.dir, 16, O_RDONLY, 0, 0, Errno::EFAULT),
        ("a path in an inaccessible page", fx.dir, hole.addr(0), O_RDONLY, 0, 0, Errno::EFAULT),
        ("a path of 5000 bytes", fx.dir, at(&long), O_RDONLY, 0, 0, Errno::ENAMETOOLONG),
        ("an empty path", fx.dir, at(c""), O_RDONLY, 0, 0, Errno::ENOENT),
        ("a bad directory descriptor", 1000, at(INSIDE), O_RDONLY, 0, 0, Errno::EBADF),
        (
            "an escape from RESOLVE_BENEATH",
            fx.dir,
            at(OUTSIDE_RELATIVE),
            O_RDONLY,
            0,
            RESOLVE_BENEATH,
            Errno::EXDEV,
        ),
    ];
    for (what, dirfd, path, flags, mode, resolve, errno) in cases {
        let mut request = ferrocall::Request::new(open_args(dirfd, path, flags, mode, resolve));
        // SAFETY: the path is a C string that outlives the call, or an address meant to be
        // refused, which the kernel only passes to its user-copy functions.
        let typed = unsafe { ferrocall::TypedCalls::call_answer(&ferrocall::Native, &mut request) }
            .map(|a| a.result())
            .map_err(Some);
        let legacy = openat2(dirfd, path, flags, mode, resolve);
        hostile(&format!("Open with {what}"), (typed, legacy), (Ok(Some(Err(errno))), Err(errno)))?;
    }
    let fd = open(fx.dir, INSIDE, O_RDONLY | O_DIRECTORY, 0, 0);
    expect_eq("O_DIRECTORY on a file", fd, Err(Errno::ENOTDIR))?;
    // The size of `how`: openat2() refuses a larger struct whose unknown part is not zero
    // with E2BIG; so does Open for a larger request (the same rule, copy_struct_from_user's),
    // and leaves its answer pending: it was refused before it ran.
    let size = Op::Open.request_size();
    let mut newer = ferrocall_guest::open::open_request(fx.dir, INSIDE.as_ptr() as u64, 0, 0, 0);
    newer.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
    newer[0..4].copy_from_slice(&((size + 8) as u32).to_le_bytes());
    let (typed, slot) = crate::common::call_at(8, &newer, Op::Open as u64, (size + 8) as u64);
    let how = [O_RDONLY, 0, 0, 1u64 << 56];
    let legacy =
        syscall(OPENAT2, [fx.dir as u64, INSIDE.as_ptr() as u64, how.as_ptr() as u64, 32, 0, 0]);
    hostile(
        "Open with a longer request whose tail is not zero",
        (typed, crate::common::answer_of(&slot).state, legacy),
        (Err(Errno::E2BIG), ferrocall::abi::Answer::PENDING, Err(Errno::E2BIG)),
    )
}

/// What the filter child reports: 0 when every check held, else the number of the first
/// that failed.
fn filtered_child(fx: &Fixture, filter: &[ferrocall_seccomp::SockFilter]) -> i32 {
    if install(filter).is_err() {
        return 100;
    }
    type Check = (Result<i32, Errno>, fn(&Result<i32, Errno>) -> bool);
    let checks: [Check; 4] = [
        // Read-only and beneath: admitted, and it opens.
        (open(fx.dir, INSIDE, O_RDONLY, 0, RESOLVE_BENEATH), |r| r.is_ok()),
        // Writable, or not confined: refused by the filter, as it asked.
        (open(fx.dir, INSIDE, O_RDWR, 0, RESOLVE_BENEATH), |r| *r == Err(Errno::EPERM)),
        (open(fx.dir, INSIDE, O_RDONLY, 0, 0), |r| *r == Err(Errno::EPERM)),
        // The contrast: the same open by legacy openat2 passes; the filter cannot see its
        // flags, which are behind a pointer.
        (openat2(fx.dir, INSIDE.as_ptr() as u64, O_RDWR, 0, 0).map(|fd| fd as i32), |r| r.is_ok()),
    ];
    for (i, (result, ok)) in checks.iter().enumerate() {
        if let Ok(fd) = result {
            close(*fd);
        }
        if !ok(result) {
            return i as i32 + 1;
        }
    }
    // In a batch, each Open is judged decoded as when made alone.
    let mut batch = PackedBatch::<2>::new();
    for (flags, resolve) in [(O_RDONLY, RESOLVE_BENEATH), (O_RDWR, RESOLVE_BENEATH)] {
        let args = open_args(fx.dir, INSIDE.as_ptr() as u64, flags, 0, resolve);
        // SAFETY: the path is a static C string, which outlives the batch.
        if unsafe { batch.push_unchecked(args) }.is_err() {
            return 50;
        }
    }
    let result = ferrocall::packed_batch(&mut batch);
    if let Some(Ok(fd)) = batch.answer(0) {
        close(fd as i32);
    }
    match (result.map_err(|e| (e.errno, e.completed)), batch.answer(1)) {
        (Err((Errno::EPERM, 1)), None) => 0,
        _ => 51,
    }
}

fn a_filter_on_decoded_fields_admits_only_read_only_opens_beneath() -> Outcome {
    let fx = Fixture::new()?;
    let filter = read_only_beneath_filter()?;
    let (ended, out) = in_child(|| filtered_child(&fx, &filter)).map_err(|e| e.to_string())?;
    check(out.is_empty(), || format!("child wrote {:?}", String::from_utf8_lossy(&out)))?;
    expect_eq(
        "the filtered child (0: every check held, else the first that failed)",
        ended,
        Ended::Exited(0),
    )
}

/// A filter written for legacy calls only: `openat2` is `EROFS`. The typed `Open` gets the
/// same answer, lone and in a batch, with no rule for ferrocall.
fn a_rule_on_openat2_applies_to_open() -> Outcome {
    let fx = Fixture::new()?;
    let filter = ferrocall_seccomp::Filter::new(ferrocall_seccomp::Action::Allow)
        .rule(
            ferrocall_seccomp::syscall(OPENAT2 as u32)
                .then(ferrocall_seccomp::Action::errno(Errno::EROFS)),
        )
        .compile()
        .map_err(|e| e.to_string())?;
    let (ended, _) = in_child(|| {
        if install(&filter).is_err() {
            return 100;
        }
        let lone = open(fx.dir, INSIDE, O_RDONLY, 0, RESOLVE_BENEATH);
        let legacy = openat2(fx.dir, INSIDE.as_ptr() as u64, O_RDONLY, 0, 0);
        let mut batch = PackedBatch::<1>::new();
        let args = open_args(fx.dir, INSIDE.as_ptr() as u64, O_RDONLY, 0, 0);
        // SAFETY: the path is a static C string, which outlives the batch.
        let _ = unsafe { batch.push_unchecked(args) };
        let batched = ferrocall::packed_batch(&mut batch).map_err(|e| e.errno);
        match (lone, legacy, batched) {
            (Err(Errno::EROFS), Err(Errno::EROFS), Err(Errno::EROFS)) => 0,
            (Err(Errno::EROFS), Err(Errno::EROFS), _) => 3,
            (Err(Errno::EROFS), ..) => 2,
            _ => 1,
        }
    })
    .map_err(|e| e.to_string())?;
    expect_eq("the child (0: lone, legacy and batched all EROFS)", ended, Ended::Exited(0))
}

/// The probe lists `Open` at its request size: how a library learns that this kernel has it.
fn the_probe_lists_open() -> Outcome {
    let mut buf = [0u8; 512];
    let n = ferrocall::probe(&mut buf).map_err(|e| e.to_string())?;
    let (_, entries) = ferrocall::abi::ops::parse_probe(&buf[..n]).ok_or("unreadable probe")?;
    let open = entries.into_iter().find(|e| e.op == Op::Open.raw()).map(|e| e.request_size);
    expect_eq("Open's request size in the probe", open, Some(Op::Open.request_size() as u32))
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("open_opens_the_file_beneath_its_directory", open_opens_the_file_beneath_its_directory),
    ("open_creates_a_file_with_its_mode", open_creates_a_file_with_its_mode),
    ("open_refuses_what_openat2_refuses", open_refuses_what_openat2_refuses),
    (
        "a_filter_on_decoded_fields_admits_only_read_only_opens_beneath",
        a_filter_on_decoded_fields_admits_only_read_only_opens_beneath,
    ),
    ("a_rule_on_openat2_applies_to_open", a_rule_on_openat2_applies_to_open),
    ("the_probe_lists_open", the_probe_lists_open),
];
