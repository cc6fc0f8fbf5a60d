//! Helpers shared by the test modules: raw requests placed in fresh pages, the
//! hostile-caller matrix's counter, closing descriptors, the normal request of every operation, a
//! two-call batch, a seccomp filter on one operation, and a traced child.

use ferrocall::abi::{self, ops::UselessArgs, Answer, Errno, FieldType, Op, Request};
use ferrocall_guest::seccomp::{self, Rule};
use ferrocall_guest::{expect_eq, nr, request_bytes, syscall, typed_raw, Ended, Outcome, Pages};

/// This program, which some checks run again in a fresh process.
pub(crate) const SELF: &str = "/bin/ferrotest";
/// `Useless`' operation number, as a request header holds it.
pub(crate) const USELESS: u32 = abi::Op::Useless as u32;
/// The system call number of typed calls made by number.
pub(crate) const NR: u64 = abi::SYSCALL_NR as u64;

/// The arguments of `Useless(value)`.
pub(crate) fn useless_args(value: u32) -> Vec<u8> {
    let mut a = value.to_le_bytes().to_vec();
    a.extend_from_slice(&[0; 4]);
    a
}

/// A well-formed `Useless(value)` request of `size` bytes (args cut or zero-extended).
pub(crate) fn useless_request(value: u32, size: u32) -> Vec<u8> {
    let mut bytes = request_bytes(size, USELESS, 0, 0, &useless_args(value));
    bytes.resize(size as usize, 0);
    bytes
}

/// Places `bytes` at `offset` of a fresh page pair and makes the typed call with `rax`
/// pointing there and the registers `op`/`size`; returns the result and the answer slot.
pub(crate) fn call_at(
    offset: usize,
    bytes: &[u8],
    op: u64,
    size: u64,
) -> (Result<u64, Errno>, Vec<u8>) {
    let mut pages = Pages::map(2, 0).expect("mmap");
    pages.write(offset, bytes);
    let addr = pages.addr(offset);
    let r = typed_raw(addr, op, size, addr);
    let answer = pages.read(offset + 16, 16);
    (r, answer)
}

/// The answer slot in `bytes` (16 bytes, as the kernel writes it).
pub(crate) fn answer_of(bytes: &[u8]) -> Answer {
    Answer::from_bytes(bytes).expect("an answer slot is 16 bytes")
}

/// How many hostile cases ran: each `hostile*` check is one case of the matrix.
pub(crate) static HOSTILE_CASES: std::sync::atomic::AtomicU32 =
    std::sync::atomic::AtomicU32::new(0);

/// One case of the hostile-caller matrix: like `expect_eq`, and counted.
pub(crate) fn hostile<T: PartialEq + core::fmt::Debug>(what: &str, got: T, want: T) -> Outcome {
    HOSTILE_CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    expect_eq(what, got, want)
}

/// A hostile case: a raw request placed at a good address, expecting `want`.
pub(crate) fn hostile_raw(
    what: &str,
    bytes: &[u8],
    op: u64,
    size: u64,
    want: Result<u64, Errno>,
) -> Outcome {
    let (r, _) = call_at(8, bytes, op, size);
    hostile(what, r, want)
}

/// `close(fd)`, ignoring the result.
pub(crate) fn close(fd: i32) {
    let _ = syscall(nr::CLOSE, [fd as u64, 0, 0, 0, 0, 0]);
}

/// The length of the buffers of a normal request ([`normal_request`]): what a scratch
/// page passed to it must hold at least.
pub(crate) const SCRATCH_LEN: u64 = 512;

/// A normal request for every operation of the ABI table (Exit excluded: it would end the
/// test), each built by [`normal_request`].
pub(crate) fn one_of_each(fd: i32, scratch: u64) -> Vec<(Op, Vec<u8>)> {
    let ops = Op::ALL.iter().copied().filter(|&op| op != Op::Exit);
    ops.map(|op| (op, normal_request(op, fd, scratch))).collect()
}

/// The bytes of a request for `op` that a kernel knowing `op` answers with success, built
/// from the ABI's field metadata, so that a new operation needs no edit here when its
/// fields are plain scalars and buffers: a buffer points at `scratch` ([`SCRATCH_LEN`]
/// bytes; empty for the buffers of a batch operation, which would name more requests), an
/// `i32` field named `fd` is `fd` (pass `/dev/null`'s), a path is `/dev/null`, padding and
/// the `flags`, `mode` and `resolve` of a path operation are zero, and any other integer is
/// 7 (`Useless(7)`).
pub(crate) fn normal_request(op: Op, fd: i32, scratch: u64) -> Vec<u8> {
    let mut args = vec![0u8; op.args_size()];
    for field in op.fields() {
        let bytes = match (field.ty, field.name) {
            (FieldType::UserBuf | FieldType::UserBufMut, _) => {
                let len = if op.is_batch() { 0 } else { SCRATCH_LEN };
                [scratch.to_le_bytes(), len.to_le_bytes()].concat()
            }
            (FieldType::I32, "fd") => fd.to_le_bytes().to_vec(),
            (FieldType::UserPath, _) => (c"/dev/null".as_ptr() as u64).to_le_bytes().to_vec(),
            (FieldType::U64, "flags" | "mode" | "resolve") => vec![0; 8],
            (FieldType::U32, "flags") => vec![0; 4],
            (FieldType::Pad32, _) => vec![0; 4],
            (FieldType::U32 | FieldType::I32, _) => 7u32.to_le_bytes().to_vec(),
            (FieldType::U64 | FieldType::I64, _) => 7u64.to_le_bytes().to_vec(),
        };
        args[field.offset..field.offset + bytes.len()].copy_from_slice(&bytes);
    }
    request_bytes(op.request_size() as u32, op.raw(), 0, 0, &args)
}

/// A batch's result and the answers of its calls.
pub(crate) type BatchOutcome =
    (Result<usize, ferrocall::BatchError>, [Option<Result<u64, Errno>>; 2]);

/// Runs `Useless(1)` then `GetPid` in one batch, packed or not.
pub(crate) fn useless_then_getpid(packed: bool) -> BatchOutcome {
    use ferrocall::abi::ops::GetPidArgs;
    use ferrocall::{Batch, PackedBatch};
    let useless = UselessArgs { value: 1, ..Default::default() };
    if packed {
        let mut batch = PackedBatch::<2>::new();
        let _ = batch.push(useless);
        let _ = batch.push(GetPidArgs {});
        let r = ferrocall::packed_batch(&mut batch);
        (r, [batch.answer(0), batch.answer(1)])
    } else {
        let mut a = Request::new(useless);
        let mut b = Request::new(GetPidArgs {});
        let mut batch = Batch::<2>::new();
        let _ = batch.push(&mut a);
        let _ = batch.push(&mut b);
        let r = ferrocall::batch(&mut batch);
        (r, [a.answer.result(), b.answer.result()])
    }
}

/// A filter that allows everything but the typed operation `op`, which kills the process.
pub(crate) fn kill_on_typed(op: Op) -> Vec<seccomp::Insn> {
    seccomp::program(&[rule_for(op, seccomp::KILL_PROCESS)], seccomp::ALLOW)
}

/// A filter rule with `action` on operation `op` as a typed call of it is presented: on its
/// legacy twin's number, or on `ferrocall(op, ...)` for an operation without a twin.
pub(crate) fn rule_for(op: Op, action: u32) -> Rule {
    match op.twin() {
        Some(twin) => Rule { nr: twin.nr, arg0: None, action },
        None => Rule { nr: abi::SYSCALL_NR, arg0: Some(op as u64), action },
    }
}

/// Forks a child that stops for its tracer and then runs `child`; `tracer` sees each
/// syscall-entry stop of the child (with `PTRACE_GETREGS` registers it may change) until
/// the child exits. Returns the child's exit status.
pub(crate) fn traced(
    child: fn() -> i32,
    mut on_entry: impl FnMut(&mut libc::user_regs_struct) -> bool,
) -> Result<Ended, String> {
    traced_at(child, |_, regs| on_entry(regs))
}

/// [`traced`], with the child's pid for `on_entry`, which may also read or write the
/// stopped child's memory.
pub(crate) fn traced_at(
    child: fn() -> i32,
    mut on_entry: impl FnMut(libc::pid_t, &mut libc::user_regs_struct) -> bool,
) -> Result<Ended, String> {
    // SAFETY: fork; the child makes raw system calls and typed calls only, then exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        // SAFETY: no pointers; the child stops until its parent traces it.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
        }
        let code = child();
        let _ = syscall(nr::EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]);
        unreachable!();
    }
    let mut status = 0;
    let mut entering = true;
    // SAFETY: ptrace requests on our stopped child, with valid pointers to `regs`/`status`.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
        libc::ptrace(
            libc::PTRACE_SETOPTIONS,
            pid,
            0,
            libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_EXITKILL,
        );
        libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0);
        loop {
            libc::waitpid(pid, &mut status, 0);
            if libc::WIFEXITED(status) {
                return Ok(Ended::Exited(libc::WEXITSTATUS(status)));
            }
            if libc::WIFSIGNALED(status) {
                return Ok(Ended::Killed(libc::WTERMSIG(status)));
            }
            if libc::WSTOPSIG(status) == libc::SIGTRAP | 0x80 {
                if entering {
                    let mut regs: libc::user_regs_struct = core::mem::zeroed();
                    libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs);
                    if on_entry(pid, &mut regs) {
                        libc::ptrace(libc::PTRACE_SETREGS, pid, 0, &regs);
                    }
                }
                entering = !entering;
            }
            libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0);
        }
    }
}

/// The current directory from the legacy `getcwd`, with its NUL.
fn legacy_getcwd() -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; 4096];
    let n = syscall(nr::GETCWD, [buf.as_mut_ptr() as u64, 4096, 0, 0, 0, 0])
        .map_err(|e| e.to_string())?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// `ferrocall::getcwd` answers the legacy `getcwd`'s path, and says how much room it needs
/// when the buffer is too small or empty.
pub(crate) fn getcwd_answers_as_legacy() -> Outcome {
    let want = legacy_getcwd()?;
    let mut buf = [0u8; 256];
    let got = ferrocall::getcwd(&mut buf).map(|n| buf[..n].to_vec());
    expect_eq("getcwd", got, Ok(want.clone()))?;
    let mut small = vec![0u8; want.len() - 1];
    let too_small = Err(ferrocall::FillError::TooSmall(want.len()));
    expect_eq("getcwd, too small", ferrocall::getcwd(&mut small), too_small)?;
    expect_eq("getcwd, empty", ferrocall::getcwd(&mut []), too_small)
}
