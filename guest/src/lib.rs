//! Helpers for the programs that run inside the test VM: raw legacy syscalls, pages of
//! memory with chosen protections, raw typed calls with every register chosen, and the
//! small test harness whose `PASS`/`FAIL` lines `cargo xtask test` counts.
//!
//! These programs are static musl binaries; they talk to the kernel through the
//! `ferrocall` crate's `syscall` instruction only.

use ferrocall::abi::{Args, Errno, FieldType, Op, Request};
use ferrocall::arch::{syscall6, typed_call_raw, typed_call_raw_registers};

pub mod audit;
pub mod open;
pub mod seccomp;

/// Legacy syscall numbers used by the guest programs (x86_64).
pub mod nr {
    /// `read`.
    pub const READ: u64 = 0;
    /// `write`.
    pub const WRITE: u64 = 1;
    /// `mmap`.
    pub const MMAP: u64 = 9;
    /// `mprotect`.
    pub const MPROTECT: u64 = 10;
    /// `munmap`.
    pub const MUNMAP: u64 = 11;
    /// `getpid`.
    pub const GETPID: u64 = 39;
    /// `fork`.
    pub const FORK: u64 = 57;
    /// `exit`.
    pub const EXIT: u64 = 60;
    /// `wait4`.
    pub const WAIT4: u64 = 61;
    /// `prctl`.
    pub const PRCTL: u64 = 157;
    /// `reboot`.
    pub const REBOOT: u64 = 169;
    /// `exit_group`.
    pub const EXIT_GROUP: u64 = 231;
    /// `close`.
    pub const CLOSE: u64 = 3;
    /// `pipe`.
    pub const PIPE: u64 = 22;
    /// `dup`.
    pub const DUP: u64 = 32;
    /// `dup2`.
    pub const DUP2: u64 = 33;
    /// `execve`.
    pub const EXECVE: u64 = 59;
    /// `getcwd`.
    pub const GETCWD: u64 = 79;
    /// `chdir`.
    pub const CHDIR: u64 = 80;
    /// `getppid`.
    pub const GETPPID: u64 = 110;
    /// `getuid`.
    pub const GETUID: u64 = 102;
    /// `setuid`.
    pub const SETUID: u64 = 105;
}

/// The descriptor number `raw` as the wrappers take it. The tests hand the kernel any
/// number, bad ones (`-1`, never opened, closed) included, to check its answers; no Rust
/// object owns the descriptors they make (raw `pipe`, `dup2`), so none is closed behind a
/// borrow.
pub fn fd(raw: i32) -> ferrocall::BorrowedFd<'static> {
    // SAFETY: as above: the number is only passed to the kernel, which checks it; the test
    // programs close their raw descriptors only after their last use.
    unsafe { ferrocall::BorrowedFd::borrow_raw(raw) }
}

/// How a child process ended, from `wait4`'s status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Killed(i32),
}

/// Runs `child` in a forked process and returns how it ended and what it wrote to its
/// standard output. `child` runs between `fork()` and exit: it must use raw system calls
/// only (no allocation, no locks) and return the exit status.
pub fn in_child(child: impl FnOnce() -> i32) -> Result<(Ended, Vec<u8>), Errno> {
    let mut fds = [0i32; 2];
    syscall(nr::PIPE, [fds.as_mut_ptr() as u64, 0, 0, 0, 0, 0])?;
    let (r, w) = (fds[0] as u64, fds[1] as u64);
    let pid = syscall(nr::FORK, [0; 6])?;
    if pid == 0 {
        let _ = syscall(nr::DUP2, [w, 1, 0, 0, 0, 0]);
        let code = child();
        let _ = syscall(nr::EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]);
        unreachable!("exit_group returned");
    }
    syscall(nr::CLOSE, [w, 0, 0, 0, 0, 0])?;
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        match syscall(nr::READ, [r, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0, 0]) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n as usize]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    syscall(nr::CLOSE, [r, 0, 0, 0, 0, 0])?;
    let mut status = 0i32;
    syscall(nr::WAIT4, [pid, &mut status as *mut i32 as u64, 0, 0, 0, 0])?;
    let ended = if status & 0x7f == 0 {
        Ended::Exited((status >> 8) & 0xff)
    } else {
        Ended::Killed(status & 0x7f)
    };
    Ok((ended, out))
}

/// `execve(path, [path], [])` with a NUL-terminated `path`; returns only on failure.
pub fn exec(path: &[u8]) -> Errno {
    exec_argv(&[path.as_ptr(), core::ptr::null()])
}

/// `execve(argv[0], argv, [])`: `argv` holds pointers to NUL-terminated strings and ends
/// with a null pointer (else `EINVAL`). Allocates nothing, so it may follow `fork()`;
/// returns only on failure.
pub fn exec_argv(argv: &[*const u8]) -> Errno {
    let (Some(&path), Some(last)) = (argv.first(), argv.last()) else {
        return Errno::EINVAL;
    };
    if !last.is_null() || path.is_null() {
        return Errno::EINVAL;
    }
    let envp = [core::ptr::null::<u8>()];
    match syscall(nr::EXECVE, [path as u64, argv.as_ptr() as u64, envp.as_ptr() as u64, 0, 0, 0]) {
        Err(e) => e,
        Ok(_) => Errno::EIO,
    }
}

/// A legacy syscall with raw registers, decoded: `Ok(rax)` or `Err(errno)`.
pub fn syscall(nr: u64, args: [u64; 6]) -> Result<u64, Errno> {
    // SAFETY: the guest programs pass only integer arguments or addresses of memory they
    // own (or addresses meant to be rejected); a kernel never lets a syscall corrupt the
    // caller's memory except through buffers it was given.
    let ret = unsafe { syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
    Errno::from_syscall_return(ret)
}

/// A pipe whose ends do not block (`pipe2(O_NONBLOCK)`): `(read end, write end)`.
pub fn nonblocking_pipe() -> Result<(i32, i32), String> {
    const O_NONBLOCK: u64 = 0o4000;
    pipe2(O_NONBLOCK)
}

/// A pipe whose ends block: `(read end, write end)`.
pub fn pipe() -> Result<(i32, i32), String> {
    pipe2(0)
}

/// `pipe2(flags)`: `(read end, write end)`.
fn pipe2(flags: u64) -> Result<(i32, i32), String> {
    const PIPE2: u64 = 293;
    let mut fds = [0i32; 2];
    syscall(PIPE2, [fds.as_mut_ptr() as u64, flags, 0, 0, 0, 0])
        .map_err(|e| format!("pipe2: {e}"))?;
    Ok((fds[0], fds[1]))
}

/// Installs `handler` (a `sa_sigaction` or `sa_handler`, as `flags` says) for `signal`;
/// false if it fails.
pub fn handle_signal(signal: libc::c_int, handler: usize, flags: libc::c_int) -> bool {
    // SAFETY: all-zero bytes are a valid sigaction.
    let mut sa: libc::sigaction = unsafe { core::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    // SAFETY: a valid action; the tests' handlers only use atomics, the interrupted
    // context's registers and async-signal-safe system calls.
    unsafe { libc::sigaction(signal, &sa, core::ptr::null_mut()) == 0 }
}

/// Forks with libc's `fork()` — so that, unlike [`in_child`]'s, the child may start threads
/// and take locks — and runs `child` there under a 20-second alarm (a call that never ends
/// fails the test instead of hanging it), exiting with its status. Returns the child's pid.
pub fn fork_child(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child runs `child` and exits without returning here.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: SIGALRM's default action ends this child.
        unsafe { libc::alarm(20) };
        let code = child();
        // SAFETY: ends the child.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for child `pid`: its exit status, or `None` if a signal ended it.
pub fn wait_exit(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    // SAFETY: waits for our child; `status` is ours.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

/// Mounts a filesystem of type `fstype` (its name as source too, as for the kernel's pseudo
/// filesystems) on `target`, creating the folder first; one already mounted there (`EBUSY`)
/// is fine.
pub fn mount(fstype: &core::ffi::CStr, target: &core::ffi::CStr) -> Result<(), String> {
    let path = target.to_string_lossy();
    std::fs::create_dir_all(&*path).map_err(|e| format!("mkdir {path}: {e}"))?;
    // SAFETY: plain C strings that outlive the call; mounting touches no memory of ours
    // afterwards.
    let mounted = unsafe {
        libc::mount(fstype.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, core::ptr::null())
    };
    let error = std::io::Error::last_os_error();
    if mounted != 0 && error.raw_os_error() != Some(libc::EBUSY) {
        return Err(format!("mount {} on {path}: {error}", fstype.to_string_lossy()));
    }
    Ok(())
}

/// The raw typed-call register set: `rax` = `rax`, `rdi` = `op`, `rsi` = `size`,
/// `rdx` = `rdx`, decoded.
pub fn typed_raw(rax: u64, op: u64, size: u64, rdx: u64) -> Result<u64, Errno> {
    // SAFETY: as for `syscall`: the guest programs pass integers, addresses of memory they
    // own, or addresses meant to be rejected.
    Errno::from_syscall_return(unsafe { typed_call_raw(rax, op, size, rdx) })
}

/// [`typed_raw`] for a request answered in registers: `rax` as a result, then `rdx` and
/// `r10` as the call left them.
pub fn typed_raw_registers(
    rax: u64,
    op: u64,
    size: u64,
    rdx: u64,
) -> (Result<u64, Errno>, u64, u64) {
    // SAFETY: as for `typed_raw`.
    let [ret, rdx, r10] = unsafe { typed_call_raw_registers(rax, op, size, rdx) };
    (Errno::from_syscall_return(ret), rdx, r10)
}

/// `prctl(PR_FERROCALL, PR_FERROCALL_STATUS)`: whether typed calls are enabled here.
pub fn ferrocall_status() -> Result<u64, Errno> {
    syscall(
        nr::PRCTL,
        [u64::from(ferrocall::abi::PR_FERROCALL), ferrocall::abi::PR_FERROCALL_STATUS, 0, 0, 0, 0],
    )
}

/// The page size of x86_64.
pub const PAGE: usize = 4096;

/// Pages of anonymous memory, unmapped on drop.
pub struct Pages {
    addr: u64,
    len: usize,
    /// Pages already unmapped: their addresses may since belong to someone else (the
    /// allocator maps pages too), so drop must leave them alone.
    holes: core::cell::RefCell<Vec<usize>>,
}

/// `PROT_NONE`.
pub const PROT_NONE: u64 = 0;
/// `PROT_READ`.
pub const PROT_READ: u64 = 1;
/// `PROT_READ | PROT_WRITE`.
pub const PROT_RW: u64 = 3;

impl Pages {
    /// Maps `count` read-write pages, at `hint` exactly if it is not zero.
    pub fn map(count: usize, hint: u64) -> Result<Pages, Errno> {
        const MAP_PRIVATE_ANONYMOUS: u64 = 0x22;
        const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
        let flags = MAP_PRIVATE_ANONYMOUS | if hint != 0 { MAP_FIXED_NOREPLACE } else { 0 };
        let len = count * PAGE;
        let addr = syscall(nr::MMAP, [hint, len as u64, PROT_RW, flags, u64::MAX, 0])?;
        if hint != 0 && addr != hint {
            return Err(Errno::EEXIST);
        }
        // Room for every hole now: `unmap` must not allocate (see `holes`).
        let holes = core::cell::RefCell::new(Vec::with_capacity(count));
        Ok(Pages { addr, len, holes })
    }

    /// The address of byte `offset`.
    pub fn addr(&self, offset: usize) -> u64 {
        self.addr + offset as u64
    }

    /// Copies `bytes` in at `offset`.
    pub fn write(&mut self, offset: usize, bytes: &[u8]) {
        assert!(offset + bytes.len() <= self.len, "write past the mapping");
        // SAFETY: the range is inside this read-write mapping, which only `self` uses.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.addr(offset) as *mut u8,
                bytes.len(),
            )
        };
    }

    /// Copies `len` bytes out from `offset`.
    pub fn read(&self, offset: usize, len: usize) -> Vec<u8> {
        assert!(offset + len <= self.len, "read past the mapping");
        let mut out = vec![0; len];
        // SAFETY: the range is inside this mapping, which is readable whenever the caller
        // reads it (the tests read only pages they left readable).
        unsafe {
            core::ptr::copy_nonoverlapping(self.addr(offset) as *const u8, out.as_mut_ptr(), len)
        };
        out
    }

    /// Changes the protection of page `index`.
    pub fn protect(&self, index: usize, prot: u64) -> Result<(), Errno> {
        syscall(nr::MPROTECT, [self.addr(index * PAGE), PAGE as u64, prot, 0, 0, 0]).map(drop)
    }

    /// Unmaps page `index`, leaving a hole. It allocates nothing, so the hole stays a hole
    /// until the caller allocates memory.
    pub fn unmap(&self, index: usize) -> Result<(), Errno> {
        syscall(nr::MUNMAP, [self.addr(index * PAGE), PAGE as u64, 0, 0, 0, 0])?;
        self.holes.borrow_mut().push(index);
        Ok(())
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        let holes = self.holes.borrow();
        for index in (0..self.len / PAGE).filter(|i| !holes.contains(i)) {
            let _ = syscall(nr::MUNMAP, [self.addr(index * PAGE), PAGE as u64, 0, 0, 0, 0]);
        }
    }
}

/// The bytes of a request with every header field chosen.
pub fn request_bytes(size: u32, op: u32, flags: u32, reserved: u32, args: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&op.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&reserved.to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(args);
    out
}

/// The bytes of `request`, as the kernel reads them.
pub fn request_as_bytes<A: Args>(request: &Request<A>) -> &[u8] {
    // SAFETY: `Request<A>` is `#[repr(C)]` of a header, an answer and `A`, and the only
    // `Args` types are the operation table's argument structs, whose fields add up to their
    // size and to a multiple of 8 (compile-time assertions in `ops.rs`): the request has no
    // padding, so each of its bytes is initialised; `u8` has no alignment, and the slice
    // borrows `request` for its lifetime.
    unsafe {
        core::slice::from_raw_parts(
            (request as *const Request<A>).cast::<u8>(),
            core::mem::size_of::<Request<A>>(),
        )
    }
}

/// Where the buffers and file descriptors of an operation's request lie, from the ABI's
/// field metadata: what a fuzzer must handle with care, for every operation of the table
/// without a list of them.
#[derive(Clone, Debug, Default)]
pub struct RequestShape {
    /// Each buffer's offset in the request, and whether the kernel writes through it: a
    /// `UserBufMut`, or any buffer of a batch operation, whose entries name requests the
    /// kernel answers into (and a packed batch's answers are written).
    pub bufs: Vec<(usize, bool)>,
    /// The offsets of its `i32` fields named `fd`.
    pub fds: Vec<usize>,
    /// The offsets of its paths (`UserPath`).
    pub paths: Vec<usize>,
}

impl RequestShape {
    /// The shape of `op`'s requests.
    pub fn of(op: Op) -> RequestShape {
        let mut shape = RequestShape::default();
        for field in op.fields() {
            let at = Request::<()>::ARGS_OFFSET + field.offset;
            match field.ty {
                FieldType::UserBuf => shape.bufs.push((at, op.is_batch())),
                FieldType::UserBufMut => shape.bufs.push((at, true)),
                FieldType::I32 if field.name == "fd" => shape.fds.push(at),
                FieldType::UserPath => shape.paths.push(at),
                _ => {}
            }
        }
        shape
    }
}

/// A test's outcome: `Err` holds what went wrong.
pub type Outcome = Result<(), String>;

/// A named test.
pub type Test = (&'static str, fn() -> Outcome);

/// Fails with `msg` unless `cond`.
pub fn check(cond: bool, msg: impl FnOnce() -> String) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

/// Fails unless `got == want`, saying what `what` was.
pub fn expect_eq<T: PartialEq + core::fmt::Debug>(what: &str, got: T, want: T) -> Outcome {
    check(got == want, || format!("{what}: got {got:?}, want {want:?}"))
}

/// The options every test program takes: `--list` prints the names of its tests, and
/// `--only NAME` runs only the tests whose name contains `NAME`, which is an error when none
/// does, unless `--allow-no-match` is given too (`cargo xtask test --filter` passes it to
/// each program: a name may belong to one program only, and xtask checks that some test
/// ran).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--list`.
    pub list: bool,
    /// `--only NAME`.
    pub only: Option<String>,
    /// `--allow-no-match`.
    pub allow_no_match: bool,
}

impl Selection {
    /// Takes the shared options out of `args`, leaving the program's own, in order.
    pub fn take(args: &mut Vec<String>) -> Result<Selection, String> {
        let mut selection = Selection::default();
        let mut rest = Vec::new();
        let mut iter = core::mem::take(args).into_iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--list" => selection.list = true,
                "--allow-no-match" => selection.allow_no_match = true,
                "--only" => match iter.next() {
                    Some(name) if !name.is_empty() => selection.only = Some(name),
                    _ => return Err("--only needs a test name, or part of one".into()),
                },
                _ => rest.push(arg),
            }
        }
        *args = rest;
        Ok(selection)
    }

    /// Whether the test shown as `name` (in `PASS name` lines) is selected.
    pub fn picks(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|part| name.contains(part))
    }

    /// Ends `program` after `--only` selected no test: with status 2 and how to see the
    /// names, or with status 0 after a note if `--allow-no-match` was given. `why` is
    /// appended to the message.
    pub fn nothing_matched(&self, program: &str, why: &str) -> ! {
        let name = self.only.as_deref().unwrap_or_default();
        if self.allow_no_match {
            println!("{program}: `--only {name}` selects no test{why}");
            std::process::exit(0);
        }
        eprintln!(
            "{program}: `--only {name}` selects no test{why}; `{program} --list` prints every \
             test name"
        );
        std::process::exit(2);
    }
}

/// Prints a `# heading` line, then the names of `tests` as `prefix` + name, one a line.
pub fn list_tests(heading: &str, prefix: &str, tests: &[Test]) {
    println!("# {heading}: {} tests", tests.len());
    for (name, _) in tests {
        println!("{prefix}{name}");
    }
}

/// Runs the tests, printing one `PASS name` or `FAIL name: why` line each; returns the
/// number of failures.
pub fn run_tests(tests: &[Test]) -> usize {
    let mut failed = 0;
    for (name, test) in tests {
        match test() {
            Ok(()) => println!("PASS {name}"),
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    failed
}
