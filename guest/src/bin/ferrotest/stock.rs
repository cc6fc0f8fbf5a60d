//! The `--stock` suite, for a kernel without ferrocall: the opt-in fails, every typed call
//! is `ENOSYS` and does nothing, and legacy calls, seccomp and ptrace behave as ever.

use ferrocall::abi::{self, Answer, Errno, Op};
use ferrocall::{FillError, Native, Syscall, TypedCalls};
use ferrocall_guest::{
    check, expect_eq, fd, ferrocall_status, nr, syscall, Outcome, Pages, Test, PAGE,
};

use crate::common::{answer_of, close, normal_request, NR, SCRATCH_LEN};
use crate::legacy::{
    legacy_calls_common, legacy_seccomp_and_ptrace, legacy_tracer_cannot_make_typed_calls,
    legacy_upper_bits_ignored,
};

fn stock_opt_in_fails() -> Outcome {
    expect_eq("enable()", ferrocall::enable(), Err(Errno::ENOSYS))?;
    expect_eq("PR_FERROCALL_STATUS", ferrocall_status(), Err(Errno::EINVAL))?;
    expect_eq(
        "syscall 1023",
        syscall(abi::SYSCALL_NR.into(), [1, 40, 0x1000, 0, 0, 0]),
        Err(Errno::ENOSYS),
    )
}

fn stock_every_wrapper_is_enosys() -> Outcome {
    let (r, w) = ferrocall_guest::nonblocking_pipe()?;
    expect_eq("useless", ferrocall::useless(15), Err(Errno::ENOSYS))?;
    expect_eq("getpid", ferrocall::getpid(), Err(Errno::ENOSYS))?;
    expect_eq("getppid", ferrocall::getppid(), Err(Errno::ENOSYS))?;
    expect_eq("getuid", ferrocall::getuid(), Err(Errno::ENOSYS))?;
    expect_eq("write", ferrocall::write(fd(w), b"must not arrive"), Err(Errno::ENOSYS))?;
    expect_eq("read", ferrocall::read(fd(r), &mut [0; 8]), Err(Errno::ENOSYS))?;
    expect_eq("getcwd", ferrocall::getcwd(&mut [0; 64]), Err(FillError::Errno(Errno::ENOSYS)))?;
    expect_eq("probe", Native.probe(&mut [0; 256]), Err(FillError::Errno(Errno::ENOSYS)))?;
    check(!ferrocall::supports(Op::Useless), || "supports(Useless) on a stock kernel".into())?;
    expect_eq("try_exit returns", ferrocall::try_exit(3), Errno::ENOSYS)?;
    expect_eq("backend", ferrocall::backend(), ferrocall::Backend::TypedOnly)?;
    let mut seed = Syscall::Useless(15, None);
    seed.call();
    expect_eq("seed demo", seed, Syscall::Useless(15, Some(Err(Errno::ENOSYS))))?;
    // Every operation of the ABI table, as a normal request sent by number (here a request
    // address in `rax` would be a legacy syscall number): ENOSYS, no answer, nothing read
    // or written. Even Exit is safe to send: this kernel has no ferrocall.
    expect_eq("PR_FERROCALL_STATUS", ferrocall_status(), Err(Errno::EINVAL))?;
    let mut pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    for &op in Op::ALL {
        check(!ferrocall::supports(op), || format!("supports({op:?}) on a stock kernel"))?;
        let request = normal_request(op, w, pages.addr(PAGE));
        pages.write(0, &request);
        let size = request.len() as u64;
        let r = syscall(NR, [u64::from(op.raw()), size, pages.addr(0), 0, 0, 0]);
        expect_eq(&format!("{op:?} by number"), r, Err(Errno::ENOSYS))?;
        let answer = answer_of(&pages.read(16, 16));
        expect_eq(&format!("{op:?}: answer"), answer.state, Answer::PENDING)?;
    }
    let scratch = pages.read(PAGE, SCRATCH_LEN as usize);
    check(scratch.iter().all(|&b| b == 0), || "a typed call wrote into its buffer".into())?;
    // Nothing was written: the pipe is empty.
    let mut buf = [0u8; 8];
    let left = syscall(nr::READ, [r as u64, buf.as_mut_ptr() as u64, 8, 0, 0, 0]);
    close(r);
    close(w);
    expect_eq("pipe after the typed write", left, Err(Errno::EAGAIN))
}

/// The `--stock` suite.
pub const STOCK_TESTS: &[Test] = &[
    ("stock/opt_in_fails", stock_opt_in_fails),
    ("stock/every_wrapper_is_enosys", stock_every_wrapper_is_enosys),
    ("stock/wrappers_fall_back_to_legacy", crate::fallback::stock_wrappers_fall_back_to_legacy),
    ("stock/legacy_calls", legacy_calls_common),
    ("stock/upper_bits_ignored", legacy_upper_bits_ignored),
    ("stock/seccomp_and_ptrace", legacy_seccomp_and_ptrace),
    ("stock/tracer_cannot_make_typed_calls", legacy_tracer_cannot_make_typed_calls),
];
