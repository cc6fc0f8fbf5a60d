//! What the tests of typed `Open` share: a directory with a file inside and one outside
//! it, raw `Open` requests, the filter that admits an `Open` only read-only and beneath its
//! directory (judged on the fields the kernel decoded, built by name with
//! `ferrocall-seccomp`), and the race of issue 11: a thread rewriting a request's flags,
//! resolve and path while another opens through it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ferrocall::abi::{self, ops::OpenArgs, Errno, Op, Request, UserPath};
use ferrocall_seccomp::open::{O_ACCMODE, O_RDONLY, O_RDWR, RESOLVE_BENEATH};
use ferrocall_seccomp::{allow, deny, field, Action, Filter};

use crate::{request_as_bytes, syscall, typed_raw, Pages};

/// The directory the tests open beneath.
pub const DIR: &str = "/tmp/ferro-open/dir";
/// The file inside it, by its name there.
pub const INSIDE: &std::ffi::CStr = c"inside";
/// A file outside it, as a path relative to it.
pub const OUTSIDE_RELATIVE: &std::ffi::CStr = c"../outside";
/// The same file, by its absolute path.
pub const OUTSIDE_ABSOLUTE: &std::ffi::CStr = c"/tmp/ferro-open/outside";

/// `openat2()`'s number: `Open`'s twin, from the ABI table.
pub const OPENAT2: u64 = match Op::Open.twin() {
    Some(twin) => twin.nr as u64,
    None => panic!("Open has a twin"),
};
/// `fcntl()`'s number and its `F_GETFL`.
const FCNTL: u64 = 72;
const F_GETFL: u64 = 3;
/// `fstat()`'s number.
const FSTAT: u64 = 5;
/// `O_DIRECTORY`.
pub const O_DIRECTORY: u64 = 0o200000;

/// The directory, opened: its descriptor, and the inode numbers of the file inside and the
/// one outside.
pub struct Fixture {
    /// The directory's descriptor (`O_RDONLY | O_DIRECTORY`), kept open.
    pub dir: i32,
    /// The inode of `DIR/inside`.
    pub inside: u64,
    /// The inode of the file outside.
    pub outside: u64,
}

impl Fixture {
    /// Makes the directory and its two files, and opens the directory.
    pub fn new() -> Result<Fixture, String> {
        use std::os::unix::fs::MetadataExt;
        std::fs::create_dir_all(DIR).map_err(|e| format!("mkdir {DIR}: {e}"))?;
        let inside = format!("{DIR}/inside");
        let outside = OUTSIDE_ABSOLUTE.to_str().unwrap_or_default();
        std::fs::write(&inside, b"inside\n").map_err(|e| format!("{inside}: {e}"))?;
        std::fs::write(outside, b"outside\n").map_err(|e| format!("{outside}: {e}"))?;
        let ino = |p: &str| std::fs::metadata(p).map(|m| m.ino()).map_err(|e| format!("{p}: {e}"));
        let path = std::ffi::CString::new(DIR).map_err(|e| e.to_string())?;
        let dir = openat2(-100, path.as_ptr() as u64, O_DIRECTORY, 0, 0)
            .map_err(|e| format!("open {DIR}: {e}"))? as i32;
        Ok(Fixture { dir, inside: ino(&inside)?, outside: ino(outside)? })
    }
}

/// The inode of the open descriptor `fd`.
pub fn inode_of(fd: i32) -> Result<u64, Errno> {
    let mut stat = [0u64; 18];
    syscall(FSTAT, [fd as u64, stat.as_mut_ptr() as u64, 0, 0, 0, 0])?;
    Ok(stat[1])
}

/// The access mode (`O_RDONLY`, `O_WRONLY` or `O_RDWR`) of the open descriptor `fd`.
pub fn access_mode(fd: i32) -> Result<u64, Errno> {
    Ok(syscall(FCNTL, [fd as u64, F_GETFL, 0, 0, 0, 0])? & O_ACCMODE)
}

/// The arguments of a typed `Open`.
pub fn open_args(dirfd: i32, path: u64, flags: u64, mode: u64, resolve: u64) -> OpenArgs {
    OpenArgs { dirfd, path: UserPath { addr: path }, flags, mode, resolve, ..Default::default() }
}

/// The bytes of a typed `Open` request.
pub fn open_request(dirfd: i32, path: u64, flags: u64, mode: u64, resolve: u64) -> Vec<u8> {
    request_as_bytes(&Request::new(open_args(dirfd, path, flags, mode, resolve))).to_vec()
}

/// Legacy `openat2(dirfd, path, &{flags, mode, resolve}, 24)`.
pub fn openat2(dirfd: i32, path: u64, flags: u64, mode: u64, resolve: u64) -> Result<u64, Errno> {
    let how = [flags, mode, resolve];
    syscall(OPENAT2, [dirfd as u64, path, how.as_ptr() as u64, 24, 0, 0])
}

/// The offset of an `Open` field in a request, from the ABI table.
pub fn offset_of(name: &str) -> usize {
    let field = Op::Open.fields().iter().find(|f| f.name == name);
    Request::<()>::ARGS_OFFSET + field.map_or(0, |f| f.offset)
}

/// The filter of issue 11: a typed `Open` is admitted only read-only and with
/// `RESOLVE_BENEATH`, judged on its decoded fields; any other typed `Open` is `EPERM`.
/// Everything else, its twin `openat2` included, is allowed: no filter on `openat2` can
/// say this, its `how` is behind a pointer.
pub fn read_only_beneath_filter() -> Result<Vec<ferrocall_seccomp::bpf::SockFilter>, String> {
    Filter::new(Action::Allow)
        .rule(
            allow(Op::Open)
                .when(field("flags").masked(O_ACCMODE).eq(O_RDONLY))
                .when(field("resolve").masked(RESOLVE_BENEATH).eq(RESOLVE_BENEATH)),
        )
        .rule(deny(Op::Open, Action::errno(Errno::EPERM)))
        .compile()
        .map_err(|e| e.to_string())
}

/// What the race saw, call by call.
#[derive(Clone, Copy, Debug, Default)]
pub struct RaceCounts {
    /// Opens that gave a read-only descriptor of the file inside.
    pub opened: u64,
    /// Refused by the filter (`EPERM`).
    pub refused: u64,
    /// Refused by `RESOLVE_BENEATH` (`EXDEV`).
    pub beneath: u64,
    /// Writable descriptors: never, for typed calls.
    pub writable: u64,
    /// Descriptors of a file outside the directory: never, for typed calls.
    pub escaped: u64,
    /// Any other result: never.
    pub other: u64,
    /// The mutator's rewrites.
    pub rewrites: u64,
}

impl RaceCounts {
    /// Whether no call ran what the filter forbids: nothing writable, nothing outside,
    /// nothing else.
    pub fn holds(&self) -> bool {
        self.writable == 0 && self.escaped == 0 && self.other == 0
    }

    /// Whether the race mixed its outcomes: some opens read-only inside, some refused by the
    /// filter, some by `RESOLVE_BENEATH`.
    pub fn mixed(&self) -> bool {
        self.opened > 0 && self.refused > 0 && self.beneath > 0
    }
}

/// Runs `calls` Opens of `INSIDE` beneath the fixture's directory, read-only, through one
/// request in a shared page, while a thread rewrites its flags (`O_RDONLY`/`O_RDWR`), its
/// resolve (`RESOLVE_BENEATH`/0) and its path (inside, outside by a relative or an
/// absolute path). Typed: the request itself, answered in place or, every other call, in
/// registers. Legacy (`typed == false`): `openat2()` with its `how` pointed at the same
/// fields, which it reads after any filter could look. Every descriptor is checked and
/// closed.
pub fn race(fx: &Fixture, calls: u64, typed: bool) -> Result<RaceCounts, String> {
    let mut page = Pages::map(1, 0).map_err(|e| e.to_string())?;
    // The paths live in the same page, so that a path pointer changes in its low half only.
    let mut at = 1024;
    let mut paths = Vec::new();
    for p in [INSIDE, OUTSIDE_RELATIVE, OUTSIDE_ABSOLUTE] {
        page.write(at, p.to_bytes_with_nul());
        paths.push(page.addr(at));
        at += 256;
    }
    page.write(0, &open_request(fx.dir, paths[0], O_RDONLY, 0, RESOLVE_BENEATH));
    let addr = page.addr(0);
    let (flags_at, resolve_at, path_at) =
        (offset_of("flags"), offset_of("resolve"), offset_of("path"));
    let stop = Arc::new(AtomicBool::new(false));
    let mutator = {
        let stop = stop.clone();
        let path_lows: Vec<u32> = paths.iter().map(|&p| p as u32).collect();
        std::thread::spawn(move || {
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut rewrites = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (offset, value) = match x % 3 {
                    0 => (flags_at, if x & 8 == 0 { O_RDONLY } else { O_RDWR } as u32),
                    1 => (resolve_at, if x & 8 == 0 { RESOLVE_BENEATH } else { 0 } as u32),
                    _ => (path_at, path_lows[(x >> 4) as usize % path_lows.len()]),
                };
                // SAFETY: the page stays mapped until this thread is joined; the kernel
                // reads it only through its user-copy functions, which take any content.
                unsafe { core::ptr::write_volatile((addr + offset as u64) as *mut u32, value) };
                rewrites += 1;
                for _ in 0..(x >> 8) % 64 {
                    core::hint::spin_loop();
                }
            }
            rewrites
        })
    };
    let mut counts = RaceCounts::default();
    for i in 0..calls {
        let result = if typed {
            let in_registers = i % 2 == 1;
            let flags = if in_registers { abi::Header::ANSWER_IN_REGISTERS } else { 0 };
            page.write(8, &flags.to_le_bytes());
            match typed_raw(addr, Op::Open as u64, Op::Open.request_size() as u64, addr) {
                Ok(v) if in_registers => Ok(v),
                Ok(_) => abi::Answer::from_bytes(&page.read(Request::<()>::ANSWER_OFFSET, 16))
                    .and_then(|answer| answer.result())
                    .unwrap_or(Err(Errno::EIO)),
                Err(e) => Err(e),
            }
        } else {
            let path = u64::from_le_bytes(page.read(path_at, 8).try_into().unwrap_or_default());
            // openat2() with its `how` pointed at the request's fields, which the mutator
            // rewrites: they are read after any filter could look.
            syscall(OPENAT2, [fx.dir as u64, path, addr + flags_at as u64, 24, 0, 0])
        };
        match result {
            Ok(fd) => {
                let fd = fd as i32;
                let mode = access_mode(fd);
                let inode = inode_of(fd);
                let _ = syscall(crate::nr::CLOSE, [fd as u64, 0, 0, 0, 0, 0]);
                match (mode, inode) {
                    (Ok(m), _) if m != O_RDONLY => counts.writable += 1,
                    (_, Ok(ino)) if ino == fx.outside => counts.escaped += 1,
                    (Ok(_), Ok(ino)) if ino == fx.inside => counts.opened += 1,
                    _ => counts.other += 1,
                }
            }
            Err(Errno::EPERM) => counts.refused += 1,
            Err(Errno::EXDEV) => counts.beneath += 1,
            Err(_) => counts.other += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    counts.rewrites = mutator.join().map_err(|_| "the mutator panicked".to_string())?;
    Ok(counts)
}
