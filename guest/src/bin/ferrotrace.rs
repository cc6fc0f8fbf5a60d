//! `ferrotrace`: like `strace -f`, for typed calls. Runs a program under ptrace, follows its
//! forks and threads, and prints every system call: typed calls decoded from the tracee's
//! memory with the ABI's own table (operation name, fields, buffers abbreviated, and the
//! result or errno), legacy ones by number.
//!
//! ```text
//! ferrotrace [-o FILE] PROGRAM [ARGS...]
//! ```
//!
//! It relies on what the kernel shows every tracer (`PTRACE_GET_SYSCALL_INFO`): a typed call
//! of an operation with a legacy twin is that twin, exactly as a legacy call of it (shown by
//! the twin's name, as the ABI table gives it: `write(0x1, 0x7ffd…, 0xe) = 14`); any other
//! typed call is system call 1023, `ferrocall(op, size, request)`, decoded.

use std::collections::HashMap;
use std::ffi::CString;
use std::fmt::Write as _;
use std::io::Write as _;

use ferrocall::abi::{self, Answer, Errno, FieldType, Op, Request};

const PTRACE_GET_SYSCALL_INFO: u32 = 0x420e;
const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
const PTRACE_SYSCALL_INFO_EXIT: u8 = 2;

/// `struct ptrace_syscall_info`, as much of it as the tracer reads.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct SyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    /// Entry: `nr`, then six arguments. Exit: `rval`, then `is_error` in the low byte.
    data: [u64; 7],
    ret_data: u32,
    pad2: u32,
}

/// What a thread was doing at its last syscall-entry stop.
struct Pending {
    nr: u64,
    args: [u64; 6],
    /// The decoded typed request, if it was one.
    typed: Option<String>,
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut out: Box<dyn std::io::Write> = Box::new(std::io::stderr());
    if args.first().map(String::as_str) == Some("-o") && args.len() >= 2 {
        let path = args.remove(1);
        args.remove(0);
        match std::fs::File::create(&path) {
            Ok(f) => out = Box::new(f),
            Err(e) => fail(&format!("cannot create {path}: {e}")),
        }
    }
    if args.is_empty() {
        fail("usage: ferrotrace [-o FILE] PROGRAM [ARGS...]");
    }
    let code = trace(&args, &mut out);
    let _ = out.flush();
    std::process::exit(code);
}

fn fail(msg: &str) -> ! {
    eprintln!("ferrotrace: {msg}");
    std::process::exit(2);
}

/// Starts `argv` under ptrace and follows it and its descendants until they are all gone;
/// returns the first process's exit status.
fn trace(argv: &[String], out: &mut dyn std::io::Write) -> i32 {
    let cargs: Vec<CString> =
        argv.iter().map(|a| CString::new(a.as_str()).unwrap_or_default()).collect();
    let mut cptrs: Vec<*const libc::c_char> = cargs.iter().map(|a| a.as_ptr()).collect();
    cptrs.push(core::ptr::null());
    // SAFETY: fork in a single-threaded tracer; the child only calls async-signal-safe
    // functions before execvp.
    let child = unsafe { libc::fork() };
    if child < 0 {
        fail("fork failed");
    }
    if child == 0 {
        // SAFETY: PTRACE_TRACEME and raise take no pointers; `cptrs` is a NULL-terminated
        // array of C strings that outlives the call.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
            libc::execvp(cptrs[0], cptrs.as_ptr());
            libc::_exit(127);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child with a valid status pointer.
    unsafe { libc::waitpid(child, &mut status, 0) };
    let options = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_EXITKILL;
    // SAFETY: the child is in a ptrace stop; the options are plain flags.
    unsafe {
        libc::ptrace(libc::PTRACE_SETOPTIONS, child, 0, options);
        libc::ptrace(libc::PTRACE_SYSCALL, child, 0, 0);
    }
    let mut pending: HashMap<libc::pid_t, Pending> = HashMap::new();
    let mut first_status = 0;
    loop {
        // SAFETY: waiting for any traced child with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid < 0 {
            break;
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            let how = if libc::WIFEXITED(status) {
                format!("exited with {}", libc::WEXITSTATUS(status))
            } else {
                format!("killed by signal {}", libc::WTERMSIG(status))
            };
            if let Some(p) = pending.get(&pid) {
                // A call that never returned, such as exit_group.
                let call = p.typed.clone().unwrap_or_else(|| legacy_call(p.nr, &p.args));
                let _ = writeln!(out, "[pid {pid}] {call} = ?");
            }
            let _ = writeln!(out, "[pid {pid}] +++ {how} +++");
            if pid == child {
                first_status = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                };
            }
            pending.remove(&pid);
            continue;
        }
        let mut inject = 0;
        if libc::WIFSTOPPED(status) {
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP | 0x80 {
                syscall_stop(pid, &mut pending, out);
            } else if sig == libc::SIGTRAP || sig == libc::SIGSTOP && (status >> 16) != 0 {
                // A ptrace event (clone, fork, exec) or a new thread's first stop.
            } else if sig != libc::SIGSTOP {
                let _ = writeln!(out, "[pid {pid}] --- signal {sig} ---");
                inject = sig;
            }
        }
        // SAFETY: `pid` is a traced child in a stop; resume it to its next syscall stop.
        unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, inject) };
    }
    first_status
}

fn syscall_info(pid: libc::pid_t) -> Option<SyscallInfo> {
    let mut info = SyscallInfo::default();
    // SAFETY: the kernel writes at most `size_of::<SyscallInfo>()` bytes into `info`.
    let n = unsafe {
        libc::ptrace(
            PTRACE_GET_SYSCALL_INFO as _,
            pid,
            core::mem::size_of::<SyscallInfo>(),
            &mut info as *mut SyscallInfo,
        )
    };
    (n > 0).then_some(info)
}

fn syscall_stop(
    pid: libc::pid_t,
    pending: &mut HashMap<libc::pid_t, Pending>,
    out: &mut dyn std::io::Write,
) {
    let Some(info) = syscall_info(pid) else {
        return;
    };
    match info.op {
        PTRACE_SYSCALL_INFO_ENTRY => {
            let nr = info.data[0];
            let mut args = [0u64; 6];
            args.copy_from_slice(&info.data[1..7]);
            let typed = (nr == u64::from(abi::SYSCALL_NR)).then(|| describe_request(pid, &args));
            pending.insert(pid, Pending { nr, args, typed });
        }
        PTRACE_SYSCALL_INFO_EXIT => {
            let Some(p) = pending.remove(&pid) else {
                return;
            };
            let rval = info.data[0] as i64;
            let is_error = info.data[1] & 0xff != 0;
            let result = if is_error {
                match Errno::new(rval.unsigned_abs()) {
                    Some(e) => format!("Err({})", e.name().unwrap_or("?")),
                    None => format!("{rval}"),
                }
            } else {
                format!("{rval}")
            };
            let line = match p.typed {
                Some(call) => format!("{call} = {}", typed_result(pid, &p.args, is_error, &result)),
                None => format!("{} = {result}", legacy_call(p.nr, &p.args)),
            };
            let _ = writeln!(out, "[pid {pid}] {line}");
            if p.nr == u64::from(abi::SYSCALL_NR) && p.args[0] == Op::Batch as u64 {
                for sub in batch_calls(pid, p.args[2]) {
                    let _ = writeln!(out, "[pid {pid}]   batch: {sub}");
                }
            }
        }
        _ => {}
    }
}

/// A legacy call as the tracer shows it: by the name the ABI table gives it when it is some
/// operation's twin (with as many arguments as the twin takes), else by number.
fn legacy_call(nr: u64, args: &[u64; 6]) -> String {
    let show = |args: &[u64]| args.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>().join(", ");
    let twin = Op::ALL.iter().find_map(|op| {
        let twin = op.twin().filter(|t| u64::from(t.nr) == nr)?;
        Some((twin.name, op.twin_registers()?))
    });
    match twin {
        Some((name, regs)) => format!("{name}({})", show(&args[..regs.min(6)])),
        None => format!("syscall {}({})", nr as i64, show(args)),
    }
}

/// Reads `len` bytes of the tracee's memory at `addr`, a word at a time with
/// `PTRACE_PEEKDATA` (which every tracer has, unlike `process_vm_readv`).
fn peek(pid: libc::pid_t, addr: u64, len: usize) -> Option<Vec<u8>> {
    let start = addr & !7;
    let end = addr.checked_add(len as u64)?;
    let mut bytes = Vec::with_capacity(len + 16);
    let mut at = start;
    while at < end {
        // SAFETY: PEEKDATA reads the stopped tracee's memory and returns it; errors are
        // reported through errno, which is cleared first.
        let word = unsafe {
            *libc::__errno_location() = 0;
            let w = libc::ptrace(libc::PTRACE_PEEKDATA, pid, at as *mut libc::c_void, 0);
            if w == -1 && *libc::__errno_location() != 0 {
                return None;
            }
            w
        };
        bytes.extend_from_slice(&word.to_le_bytes());
        at += 8;
    }
    let skip = (addr - start) as usize;
    Some(bytes[skip..skip + len].to_vec())
}

/// A buffer's bytes, abbreviated and escaped like strace does.
fn show_bytes(bytes: &[u8], total: u64) -> String {
    let mut s = String::from("\"");
    for &b in bytes.iter().take(32) {
        match b {
            b'\n' => s.push_str("\\n"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if total > 32 {
        s.push_str("...");
    }
    s
}

fn word(bytes: &[u8], at: usize, size: usize) -> Option<u64> {
    let b = bytes.get(at..at + size)?;
    let mut w = [0u8; 8];
    w[..size].copy_from_slice(b);
    Some(u64::from_le_bytes(w))
}

/// Each call of the batch whose request is at `addr`, decoded with its answer (or `pending`
/// for the calls the batch did not reach).
fn batch_calls(pid: libc::pid_t, addr: u64) -> Vec<String> {
    let Some(req) = peek(pid, addr, Op::Batch.request_size()) else { return Vec::new() };
    let at = Request::<()>::ARGS_OFFSET;
    let (Some(entries), Some(len)) = (word(&req, at, 8), word(&req, at + 8, 8)) else {
        return Vec::new();
    };
    let count = (len as usize / abi::BatchEntry::SIZE).min(abi::ops::MAX_BATCH);
    let Some(raw) = peek(pid, entries, count * abi::BatchEntry::SIZE) else {
        return vec![format!("unreadable entries at {entries:#x}")];
    };
    raw.chunks_exact(abi::BatchEntry::SIZE)
        .filter_map(|e| abi::BatchEntry::decode(e).ok())
        .map(|e| {
            let args = [u64::from(e.op), u64::from(e.size), e.addr, 0, 0, 0];
            let call = describe_request(pid, &args);
            let slot = peek(pid, e.addr + Request::<()>::ANSWER_OFFSET as u64, 16);
            let state = slot.as_deref().and_then(|s| word(s, 12, 4)).unwrap_or(0) as u32;
            if state == Answer::DONE {
                let is_error = slot.as_deref().and_then(|s| word(s, 8, 4)).unwrap_or(0) != 0;
                format!("{call} = {}", typed_result(pid, &args, is_error, "?"))
            } else {
                format!("{call} = pending")
            }
        })
        .collect()
}

/// `Name { field: value, ... }` for the typed request at `args[2]`, decoded with the ABI's
/// table; buffers the kernel reads are shown with their content.
fn describe_request(pid: libc::pid_t, args: &[u64; 6]) -> String {
    let (op_nr, size, addr) = (args[0], args[1], args[2]);
    let Some(op) = Op::from_raw(op_nr) else {
        return format!("ferrocall(op {op_nr}, size {size}, {addr:#x})");
    };
    let len = (size as usize).min(op.request_size());
    let Some(bytes) = peek(pid, addr, len) else {
        return format!("{}(unreadable request at {addr:#x})", op.name());
    };
    let base = Request::<()>::ARGS_OFFSET;
    let mut fields = Vec::new();
    for f in op.fields() {
        let at = base + f.offset;
        let value = match f.ty {
            FieldType::U32 | FieldType::Pad32 => word(&bytes, at, 4).map(|v| v.to_string()),
            FieldType::I32 => word(&bytes, at, 4).map(|v| (v as u32 as i32).to_string()),
            FieldType::U64 => word(&bytes, at, 8).map(|v| v.to_string()),
            FieldType::I64 => word(&bytes, at, 8).map(|v| (v as i64).to_string()),
            FieldType::UserBuf => word(&bytes, at, 8).zip(word(&bytes, at + 8, 8)).map(|(a, n)| {
                match peek(pid, a, (n as usize).min(32)) {
                    Some(data) => format!("{} ({n} bytes)", show_bytes(&data, n)),
                    None => format!("{a:#x} ({n} bytes, unreadable)"),
                }
            }),
            FieldType::UserBufMut => word(&bytes, at, 8)
                .zip(word(&bytes, at + 8, 8))
                .map(|(a, n)| format!("{a:#x} ({n} bytes)")),
            FieldType::UserPath => word(&bytes, at, 8).map(|a| match peek(pid, a, 64) {
                Some(data) => {
                    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                    format!("{:?}", String::from_utf8_lossy(&data[..end]))
                }
                None => format!("{a:#x} (unreadable)"),
            }),
        };
        fields.push(format!("{}: {}", f.name, value.unwrap_or_else(|| "(missing)".into())));
    }
    if fields.is_empty() {
        op.name().to_string()
    } else {
        format!("{} {{ {} }}", op.name(), fields.join(", "))
    }
}

/// The answer of the typed call at `addr` that stopped at its exit, if its request asked for
/// it in registers (ABI version 5): `rax` the status, `rdx` the value and `r10` whether the
/// operation ran (`Answer::DONE`); a call refused before it ran has a pending answer.
fn answer_in_registers(pid: libc::pid_t, addr: u64) -> Option<Answer> {
    let header = peek(pid, addr, abi::Header::SIZE)?;
    let flags = word(&header, core::mem::offset_of!(abi::Header, flags), 4)? as u32;
    if flags & abi::Header::ANSWER_IN_REGISTERS == 0 {
        return None;
    }
    // SAFETY: all-zero bytes are a valid `user_regs_struct` (integers only).
    let mut regs: libc::user_regs_struct = unsafe { core::mem::zeroed() };
    // SAFETY: `pid` is a traced child in a syscall stop; the kernel writes its registers
    // into `regs`, a whole `user_regs_struct`.
    let got = unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut _) };
    if got != 0 {
        return None;
    }
    if regs.r10 != u64::from(Answer::DONE) {
        return Some(Answer::default());
    }
    let errno = Errno::new((regs.rax as i64).unsigned_abs()).filter(|_| (regs.rax as i64) < 0);
    Some(match errno {
        Some(e) => Answer::error_with(e, regs.rdx),
        None => Answer::done(Ok(regs.rdx)),
    })
}

/// The result of a typed call: `Ok(value)` from the answer slot, with the content of the
/// buffer the kernel filled, or the error.
fn typed_result(pid: libc::pid_t, args: &[u64; 6], is_error: bool, raw: &str) -> String {
    let addr = args[2];
    let Some(slot) = peek(pid, addr + Request::<()>::ANSWER_OFFSET as u64, 16) else {
        return raw.to_string();
    };
    let answer = match answer_in_registers(pid, addr) {
        Some(answer) => answer,
        None => Answer::from_bytes(&slot).unwrap_or_default(),
    };
    match (answer.result(), is_error) {
        (Some(Ok(v)), false) => {
            let filled = Op::from_raw(args[0]).and_then(|op| {
                let f = op.fields().iter().find(|f| f.ty == FieldType::UserBufMut)?;
                let req = peek(pid, addr, op.request_size().min(args[1] as usize))?;
                let at = Request::<()>::ARGS_OFFSET + f.offset;
                let data = peek(pid, word(&req, at, 8)?, (v as usize).min(32))?;
                Some(show_bytes(&data, v))
            });
            match filled {
                Some(s) => format!("Ok({v}) {s}"),
                None => format!("Ok({v})"),
            }
        }
        (Some(Err(e)), true) if answer.value != 0 => {
            format!("Err({}) value {}", e.name().unwrap_or("?"), answer.value)
        }
        (Some(Err(e)), true) => format!("Err({})", e.name().unwrap_or("?")),
        _ => format!("{raw} (no answer written)"),
    }
}
