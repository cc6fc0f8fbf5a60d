//! The library's legacy backend: where typed calls are not available (a kernel without
//! ferrocall, a seccomp filter that refuses them, or the program's own choice), every
//! wrapper with a legacy twin makes it and answers as the typed call would; the others
//! answer `ENOSYS`. The suites run with `Backend::TypedOnly`; these tests choose otherwise
//! and put it back.

use ferrocall::abi::{self, ops, Errno, Op};
use ferrocall::{Backend, FillError};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{
    check, expect_eq, fd, ferrocall_status, in_child, nr, syscall, Ended, Outcome, Test,
};

use crate::common::{close, getcwd_answers_as_legacy};

/// Runs `test` with `backend` chosen, then goes back to typed calls only.
fn with_backend(backend: Backend, test: impl FnOnce() -> Outcome) -> Outcome {
    ferrocall::set_backend(backend);
    let outcome = test();
    ferrocall::set_backend(Backend::TypedOnly);
    outcome
}

/// Every wrapper, through whichever backend is in use, against the legacy calls.
fn every_wrapper_answers_as_its_twin() -> Outcome {
    let legacy = |n: u64| syscall(n, [0; 6]).map(|v| v as u32);
    expect_eq("getpid", ferrocall::getpid(), legacy(nr::GETPID))?;
    expect_eq("getppid", ferrocall::getppid(), legacy(nr::GETPPID))?;
    expect_eq("getuid", ferrocall::getuid(), legacy(nr::GETUID))?;
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
    expect_eq("write", ferrocall::write(fd(w), b"through the pipe"), Ok(16))?;
    let mut buf = [0u8; 32];
    let got = ferrocall::read(fd(r), &mut buf).map(|n| buf[..n].to_vec());
    expect_eq("read", got, Ok(b"through the pipe".to_vec()))?;
    expect_eq("read, empty", ferrocall::read(fd(r), &mut buf), Err(Errno::EAGAIN))?;
    expect_eq("write to a bad fd", ferrocall::write(fd(-1), b"x"), Err(Errno::EBADF))?;
    close(r);
    close(w);
    getcwd_answers_as_legacy()?;
    // A batch: its calls one by one, as their twins.
    let mut a = abi::Request::new(ops::GetPidArgs {});
    let mut b = abi::Request::new(ops::GetUidArgs {});
    {
        let mut batch: ferrocall::Batch<'_, 2> = ferrocall::Batch::new();
        batch.push(&mut a).map_err(|e| e.to_string())?;
        batch.push(&mut b).map_err(|e| e.to_string())?;
        expect_eq("batch", ferrocall::batch(&mut batch), Ok(2))?;
    }
    expect_eq("batch: getpid", a.answer.result(), Some(legacy(nr::GETPID).map(u64::from)))?;
    expect_eq("batch: getuid", b.answer.result(), Some(legacy(nr::GETUID).map(u64::from)))?;
    let mut packed: ferrocall::PackedBatch<2> = ferrocall::PackedBatch::new();
    packed.push(ops::GetPpidArgs {}).map_err(|e| e.to_string())?;
    packed.push(ops::GetPidArgs {}).map_err(|e| e.to_string())?;
    expect_eq("packed batch", ferrocall::packed_batch(&mut packed), Ok(2))?;
    expect_eq("packed: getppid", packed.answer(0), Some(legacy(nr::GETPPID).map(u64::from)))?;
    // Exit ends the process with the status asked for.
    let (ended, _) = in_child(|| ferrocall::exit(9)).map_err(|e| e.to_string())?;
    expect_eq("exit(9)", ended, Ended::Exited(9))
}

pub(crate) fn stock_wrappers_fall_back_to_legacy() -> Outcome {
    with_backend(Backend::Auto, || {
        expect_eq("backend", ferrocall::backend(), Backend::Legacy)?;
        every_wrapper_answers_as_its_twin()?;
        // No twin: ENOSYS.
        expect_eq("useless", ferrocall::useless(15), Err(Errno::ENOSYS))?;
        expect_eq("probe", ferrocall::probe(&mut [0; 256]), Err(FillError::Errno(Errno::ENOSYS)))?;
        check(!ferrocall::supports(Op::GetPid), || "supports(GetPid) on a stock kernel".into())?;
        expect_eq("still not opted in", ferrocall_status(), Err(Errno::EINVAL))
    })
}

/// A seccomp filter that refuses number 1023 with `errno` and allows every legacy call:
/// typed calls with a twin are those legacy calls and run typed; Useless has no twin and
/// keeps the refusal; the library opts in and stays on the typed backend.
fn refused_typed_calls_fall_back(errno: Errno) -> Outcome {
    let filter = seccomp::program(
        &[Rule { nr: abi::SYSCALL_NR, arg0: None, action: seccomp::errno(errno) }],
        seccomp::ALLOW,
    );
    let (ended, out) = in_child(|| {
        if seccomp::install(&filter).is_err() {
            return 100;
        }
        ferrocall::set_backend(Backend::Auto);
        let (mut fds, msg) = ([0i32; 2], b"fell back\n");
        if syscall(nr::PIPE, [fds.as_mut_ptr() as u64, 0, 0, 0, 0, 0]).is_err() {
            return 101;
        }
        // The child's own pid: getpid() as its twin.
        let own = syscall(nr::GETPID, [0; 6]).map(|v| v as u32);
        if ferrocall::getpid() != own || ferrocall::backend() != Backend::Typed {
            return 102;
        }
        if ferrocall::write(fd(1), msg) != Ok(msg.len()) {
            return 103;
        }
        // Useless has no twin: the filter's refusal stays.
        if ferrocall::useless(1) != Err(errno) {
            return 104;
        }
        ferrocall::set_backend(Backend::TypedOnly);
        if ferrocall::getpid() != own {
            return 105;
        }
        0
    })
    .map_err(|e| e.to_string())?;
    expect_eq(&format!("child under ERRNO({errno:?}) on 1023"), ended, Ended::Exited(0))?;
    expect_eq("its output", out, b"fell back\n".to_vec())
}

fn wrappers_fall_back_when_seccomp_refuses_typed_calls() -> Outcome {
    refused_typed_calls_fall_back(Errno::EPERM)?;
    refused_typed_calls_fall_back(Errno::ENOSYS)
}

fn legacy_backend_on_a_kernel_with_ferrocall() -> Outcome {
    with_backend(Backend::Legacy, || {
        expect_eq("backend", ferrocall::backend(), Backend::Legacy)?;
        every_wrapper_answers_as_its_twin()?;
        expect_eq("useless", ferrocall::useless(15), Err(Errno::ENOSYS))
    })
}

/// In a process that has not opted in (the `--legacy` suite): the legacy backend never
/// opts in.
pub(crate) fn legacy_backend_never_opts_in() -> Outcome {
    with_backend(Backend::Legacy, || {
        every_wrapper_answers_as_its_twin()?;
        expect_eq("PR_FERROCALL_STATUS", ferrocall_status(), Ok(0))
    })
}

/// This module's tests in the main suite.
pub const TESTS: &[Test] = &[
    (
        "wrappers_fall_back_when_seccomp_refuses_typed_calls",
        wrappers_fall_back_when_seccomp_refuses_typed_calls,
    ),
    ("legacy_backend_on_a_kernel_with_ferrocall", legacy_backend_on_a_kernel_with_ferrocall),
];
