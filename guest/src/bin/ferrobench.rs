//! `ferrobench`: the typed path against the legacy one, side by side in one boot. Runs every
//! case for `--rounds` rounds, alternating the cases within each round (A B C … A B C …),
//! and prints one `bench: {json}` line per case with the cost of one call (or one batch) in
//! nanoseconds of guest time for every round. Under `qemu -icount shift=0` one nanosecond is
//! one guest instruction, so the numbers are instruction counts; under plain TCG they are
//! only good for ratios. `cargo xtask bench` reads the lines.
//!
//! With `--profile`, it instead runs each case once between two marker system calls, for
//! `cargo xtask profile` to single-step: see `xtask/src/profile.rs`.

use std::hint::black_box;
use std::time::Instant;

use ferrocall::abi::ops::UselessArgs;
use ferrocall::abi::{self, Op, Request};
use ferrocall::{Batch, Native, PackedBatch, TypedCalls};
use ferrocall_guest::{nr, syscall};

/// One case: its name, how many calls one measurement makes, and the work.
struct Case {
    name: String,
    group: &'static str,
    calls_per_run: u64,
    run: Box<dyn FnMut(u64)>,
}

fn case(
    name: impl Into<String>,
    group: &'static str,
    calls_per_run: u64,
    run: impl FnMut(u64) + 'static,
) -> Case {
    Case { name: name.into(), group, calls_per_run, run: Box::new(run) }
}

/// A `Useless` request of `size` bytes (zero tail past the known arguments): the same call,
/// a larger copy.
#[repr(C, align(8))]
struct Padded([u8; 256]);

fn padded_useless(size: usize) -> Box<Padded> {
    let mut p = Box::new(Padded([0; 256]));
    p.0[0..4].copy_from_slice(&(size as u32).to_le_bytes());
    p.0[4..8].copy_from_slice(&(Op::Useless as u32).to_le_bytes());
    p.0[32..36].copy_from_slice(&1u32.to_le_bytes());
    p
}

/// The marker call of `--profile`, an unimplemented number (ENOSYS): keep in step with
/// `xtask/src/profile.rs`.
const MARK_NR: u64 = 999;
const MARK_START: u64 = 0xfe77_0001;
const MARK_END: u64 = 0xfe77_0002;

/// A function whose run-time address tells `cargo xtask profile` where the program was
/// loaded.
#[no_mangle]
#[inline(never)]
pub extern "C" fn ferrobench_profile_anchor() {}

/// Runs each case once between markers (after a warm-up, so no first-touch page faults or
/// lazy set-up are counted).
/// `first` is the index of the first case, so that later calls number theirs after it.
fn profile(cases: &mut [Case], first: usize) {
    for (i, c) in cases.iter_mut().enumerate() {
        let i = first + i;
        println!("profile-case: {i} {}", c.name);
        println!("profile-calls: {i} {}", c.calls_per_run);
        (c.run)(5);
        let _ = syscall(MARK_NR, [MARK_START, i as u64, 0, 0, 0, 0]);
        (c.run)(1);
        let _ = syscall(MARK_NR, [MARK_END, i as u64, 0, 0, 0, 0]);
    }
}

/// Prints what the kernel says of each CPU vulnerability (sysfs, mounted here if the init
/// has not), for `cargo xtask profile`'s report of the serialising instructions.
fn print_vulnerabilities() {
    const DIR: &str = "/sys/devices/system/cpu/vulnerabilities";
    if std::fs::metadata(DIR).is_err() {
        let _ = ferrocall_guest::mount(c"sysfs", c"/sys");
    }
    let Ok(entries) = std::fs::read_dir(DIR) else {
        println!("profile-vulnerability: (cannot read {DIR})");
        return;
    };
    let mut lines: Vec<String> = entries
        .flatten()
        .map(|e| {
            let value = std::fs::read_to_string(e.path()).unwrap_or_default();
            format!("{}: {}", e.file_name().to_string_lossy(), value.trim())
        })
        .collect();
    lines.sort();
    for line in lines {
        println!("profile-vulnerability: {line}");
    }
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    println!("profile-vulnerability: kernel command line: `{}`", cmdline.trim());
}

/// Re-executes this program with address-space randomisation off (as `setarch -R`), once:
/// the stack's address decides whether the library sends a request from where it is or from
/// a copy (`abi::is_request_address`, bit 31), and a benchmark must not change with it. The
/// copy's cost has a case of its own ("sent from a slot").
fn without_aslr() {
    const ADDR_NO_RANDOMIZE: libc::c_ulong = 0x0040000;
    // SAFETY: 0xffffffff only queries the persona.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    if persona < 0 || persona as libc::c_ulong & ADDR_NO_RANDOMIZE != 0 {
        return;
    }
    // SAFETY: sets this process's persona, which the exec below inherits.
    if unsafe { libc::personality(persona as libc::c_ulong | ADDR_NO_RANDOMIZE) } < 0 {
        return;
    }
    let err = std::os::unix::process::CommandExt::exec(
        std::process::Command::new("/proc/self/exe").args(std::env::args_os().skip(1)),
    );
    eprintln!("ferrobench: cannot re-execute without address randomisation: {err}");
}

fn main() {
    without_aslr();
    let arg = |name: &str| -> Option<u64> {
        let args: Vec<String> = std::env::args().collect();
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok())
    };
    // Measure typed calls, never the library's legacy fallback.
    ferrocall::set_backend(ferrocall::Backend::TypedOnly);
    let rounds = arg("--rounds").unwrap_or(11);
    let iters = arg("--iterations").unwrap_or(2000);
    if ferrocall::enable().is_err() {
        eprintln!("ferrobench: the kernel has no ferrocall");
        std::process::exit(1);
    }
    if let Some(group) = group_argument() {
        return measure_group_here(&group, rounds, iters);
    }
    let resolution = clock_resolution();
    println!("bench-clock: {} ns", resolution.as_nanos());
    if resolution > COARSEST_CLOCK {
        eprintln!(
            "ferrobench: the guest clock moves in steps of {resolution:?} (coarser than {COARSEST_CLOCK:?}): \
             its clocksource is probably jiffies, the kernel having failed to calibrate its TSC \
             (see the boot log). Ratios from such a clock would be noise, so none are measured; \
             boot with a reliable clock (cargo xtask passes the host's TSC frequency as \
             tsc_early_khz=)."
        );
        println!("bench-clock: too coarse");
        std::process::exit(3);
    }
    let devnull = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("/dev/null");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&devnull);
    let page = vec![7u8; 4096];

    let mut cases = vec![
        case("legacy getppid", "null", 1, |n| {
            for _ in 0..n {
                let _ = black_box(syscall(nr::GETPPID, [0; 6]));
            }
        }),
        case("typed GetPpid", "null", 1, |n| {
            for _ in 0..n {
                let _ = black_box(ferrocall::getppid());
            }
        }),
        case("typed GetPid", "null", 1, |n| {
            for _ in 0..n {
                let _ = black_box(ferrocall::getpid());
            }
        }),
        case("typed Useless", "null", 1, |n| {
            for i in 0..n {
                let _ = black_box(ferrocall::useless(i as u32));
            }
        }),
    ];
    // Where the typed null call's cost goes, by subtraction: the same call stopped at each
    // stage of the handler, and without the library around it.
    {
        let mut req = padded_useless(40);
        cases.push(case(
            "typed, refused by the register check (unknown op)",
            "breakdown",
            1,
            move |n| {
                let addr = req.0.as_mut_ptr() as u64;
                for _ in 0..n {
                    let _ = black_box(ferrocall_guest::typed_raw(addr, 999, 40, addr));
                }
            },
        ));
        let mut req = padded_useless(40);
        req.0[4] = 2;
        cases.push(case(
            "typed, refused after the copy (header op differs)",
            "breakdown",
            1,
            move |n| {
                let addr = req.0.as_mut_ptr() as u64;
                for _ in 0..n {
                    let _ = black_box(ferrocall_guest::typed_raw(addr, 1, 40, addr));
                }
            },
        ));
        let mut req = padded_useless(40);
        cases.push(case("typed Useless, raw registers (no library)", "breakdown", 1, move |n| {
            let addr = req.0.as_mut_ptr() as u64;
            for _ in 0..n {
                let _ = black_box(ferrocall_guest::typed_raw(addr, 1, 40, addr));
            }
        }));
        // The library's path for a request whose address it may not send (bit 31 clear, as
        // for half of all stacks): a copy in a slot, sent from there.
        let page = ferrocall_guest::Pages::map(1, 0x7e00_0000_0000).expect("a misplaced page");
        let misplaced = page.addr(0) as *mut Request<abi::ops::GetPpidArgs>;
        // SAFETY: the page is ours for the whole run (leaked below), aligned and zeroed.
        unsafe { misplaced.write(Request::new(abi::ops::GetPpidArgs {})) };
        core::mem::forget(page);
        assert!(!abi::is_request_address(misplaced as u64));
        cases.push(case("typed GetPpid, request sent from a slot", "breakdown", 1, move |n| {
            for _ in 0..n {
                // SAFETY: the request lies in the leaked page, used by this case alone.
                let _ = black_box(Native.call(unsafe { &mut *misplaced }));
            }
        }));
        cases.push(case("legacy, unknown number (entry and exit only)", "breakdown", 1, |n| {
            for _ in 0..n {
                let _ = black_box(syscall(999, [0; 6]));
            }
        }));
    }
    for (label, len) in [("1 B", 1usize), ("4 KiB", 4096)] {
        let data = page[..len].to_vec();
        cases.push(case(format!("legacy write {label}"), "write", 1, move |n| {
            for _ in 0..n {
                let _ = black_box(syscall(
                    nr::WRITE,
                    [fd as u64, data.as_ptr() as u64, data.len() as u64, 0, 0, 0],
                ));
            }
        }));
        let data = page[..len].to_vec();
        cases.push(case(format!("typed Write {label}"), "write", 1, move |n| {
            for _ in 0..n {
                let _ = black_box(ferrocall::write(ferrocall_guest::fd(fd), &data));
            }
        }));
    }
    for size in [40usize, 64, 256] {
        let mut req = padded_useless(size);
        cases.push(case(format!("typed Useless, {size}-byte request"), "size", 1, move |n| {
            let addr = req.0.as_mut_ptr() as u64;
            for _ in 0..n {
                let _ = black_box(ferrocall_guest::typed_raw(
                    addr,
                    Op::Useless as u64,
                    size as u64,
                    addr,
                ));
            }
        }));
    }
    for batch_len in [1usize, 2, 4, 8, 32, 128] {
        cases.push(case(format!("batch of {batch_len} Useless"), "batch", batch_len as u64, {
            // Made once, outside the measured calls, as the other cases' requests are.
            let mut reqs: Vec<Request<UselessArgs>> = (0..batch_len)
                .map(|i| Request::new(UselessArgs { value: i as u32, ..Default::default() }))
                .collect();
            move |n| {
                for _ in 0..n {
                    let mut batch = Batch::<128>::new();
                    for r in reqs.iter_mut() {
                        let _ = batch.push(r);
                    }
                    let _ = black_box(Native.batch(&mut batch).ok());
                }
            }
        }));
    }

    for batch_len in [1usize, 2, 4, 8, 32, 128] {
        cases.push(case(
            format!("packed batch of {batch_len} Useless"),
            "packed",
            batch_len as u64,
            move |n| {
                for _ in 0..n {
                    let mut batch = PackedBatch::<128>::new();
                    for i in 0..batch_len {
                        let _ = batch.push(UselessArgs { value: i as u32, ..Default::default() });
                    }
                    let _ = black_box(ferrocall::packed_batch(&mut batch).ok());
                }
            },
        ));
    }

    cases.push(packed_getppid("packed batch of 32 GetPpid", "twin"));

    // The same batch under a seccomp filter, which cannot be taken back: measured last, after
    // every other case, in the same boot.
    let mut filtered = vec![
        packed_getppid("packed batch of 32 GetPpid, one-rule filter", "filter"),
        case("legacy getppid, one-rule filter", "filter", 1, |n| {
            for _ in 0..n {
                let _ = black_box(syscall(nr::GETPPID, [0; 6]));
            }
        }),
    ];

    let profiling = std::env::args().any(|a| a == "--profile");
    if profiling {
        println!("profile-anchor: {:#x}", ferrobench_profile_anchor as *const () as usize);
        print_vulnerabilities();
        profile(&mut cases, 0);
    } else {
        measure(&mut cases, rounds, iters);
    }
    // Audit enabled with no rule (an audit daemon's default state), which cannot be taken
    // back either: measured in a new process, which has an audit context.
    if !profiling {
        if let Err(e) = measure_under_audit(rounds, iters) {
            eprintln!("ferrobench: cannot measure with audit enabled: {e}");
            std::process::exit(1);
        }
        // The filters the action cache cannot answer for, each in a process of its own.
        for group in [FILTER300_GROUP, CONTAINER_GROUP] {
            if let Err(e) = measure_group(group, rounds, iters) {
                eprintln!("ferrobench: cannot measure the {group} group: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Err(e) = install_one_rule_filter() {
        eprintln!("ferrobench: cannot install the one-rule seccomp filter: {e}");
        std::process::exit(1);
    }
    if profiling {
        profile(&mut filtered, cases.len());
    } else {
        measure(&mut filtered, rounds, iters);
    }
    let _ = abi::ABI_VERSION;
}

/// The coarsest clock the measurements accept: a null system call takes a few hundred
/// nanoseconds, and a case's measurement a few milliseconds.
const COARSEST_CLOCK: std::time::Duration = std::time::Duration::from_micros(1);

/// The smallest step the guest's monotonic clock is seen to take, over 100 steps (each
/// waited for over at most a million readings: a jiffies clock moves every few ms, and a
/// clock that never moves must not hang the bench). `Duration::MAX` if it never moved.
fn clock_resolution() -> std::time::Duration {
    let mut best = std::time::Duration::MAX;
    for _ in 0..100 {
        let start = Instant::now();
        let moved = (0..1_000_000).map(|_| Instant::now()).find(|&now| now > start);
        if let Some(now) = moved {
            best = best.min(now - start);
        }
    }
    best
}

/// A `PackedBatch` of 32 `GetPpid`: the calls have a legacy twin, so under a filter each is
/// judged as `getppid`.
fn packed_getppid(name: &str, group: &'static str) -> Case {
    case(name, group, 32, |n| {
        for _ in 0..n {
            let mut batch = PackedBatch::<32>::new();
            for _ in 0..32 {
                let _ = batch.push(ferrocall::abi::ops::GetPpidArgs {});
            }
            let _ = black_box(ferrocall::packed_batch(&mut batch).ok());
        }
    })
}

/// The argument that makes `ferrobench` measure only the cases of one group, named next,
/// in a process of its own: what it sets up (audit enabled, a seccomp filter) cannot be
/// taken back.
const GROUP: &str = "--group";

/// The group enabled audit (with no rule) is measured under: made in a process started
/// after audit was enabled, which has an audit context.
const AUDIT_GROUP: &str = "audit";
/// The group measured under a 300-rule filter the action cache cannot answer for.
const FILTER300_GROUP: &str = "filter300";
/// The group measured under a container runtime's default profile.
const CONTAINER_GROUP: &str = "container";

/// The group named after `--group`, if any.
fn group_argument() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == GROUP)?;
    args.get(at + 1).cloned()
}

/// Enables audit (with no rule) and measures the "audit" group in a new process of this
/// program: a process has an audit context only if audit was enabled when it was made.
fn measure_under_audit(rounds: u64, iters: u64) -> Result<(), String> {
    let audit = ferrocall_guest::audit::Audit::enable()?;
    let result = measure_group(AUDIT_GROUP, rounds, iters);
    drop(audit);
    result
}

/// Measures `group` in a new process of this program.
fn measure_group(group: &str, rounds: u64, iters: u64) -> Result<(), String> {
    let status = std::process::Command::new("/proc/self/exe")
        .args([GROUP, group, "--rounds", &rounds.to_string(), "--iterations", &iters.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {group} group ended with {status}"))
    }
}

/// The cases of a group that runs under a seccomp filter, named `"... , {what}"`: the lone
/// typed `GetPpid`, the packed batch of 32 of them, and the legacy `getppid`, the kernel's
/// own `seccomp_benchmark` method (each against the legacy call under the same filter).
fn filtered_cases(what: &str, group: &'static str) -> Vec<Case> {
    vec![
        case(format!("typed GetPpid, {what}"), group, 1, |n| {
            for _ in 0..n {
                let _ = black_box(ferrocall::getppid());
            }
        }),
        packed_getppid(&format!("packed batch of 32 GetPpid, {what}"), group),
        case(format!("legacy getppid, {what}"), group, 1, |n| {
            for _ in 0..n {
                let _ = black_box(syscall(nr::GETPPID, [0; 6]));
            }
        }),
    ]
}

/// Measures the cases of `group` in this process (started by [`measure_group`]).
fn measure_group_here(group: &str, rounds: u64, iters: u64) {
    let install = |program: Result<Vec<ferrocall_guest::seccomp::Insn>, String>| {
        let program = program.unwrap_or_else(|e| {
            eprintln!("ferrobench: cannot build the {group} group's filter: {e}");
            std::process::exit(1);
        });
        if let Err(e) = ferrocall_guest::seccomp::install(&program) {
            eprintln!("ferrobench: cannot install the {group} group's filter: {e}");
            std::process::exit(1);
        }
    };
    let mut cases = match group {
        AUDIT_GROUP => vec![
            packed_getppid("packed batch of 32 GetPpid, audit on", "audit"),
            case("legacy getppid, audit on", "audit", 1, |n| {
                for _ in 0..n {
                    let _ = black_box(syscall(nr::GETPPID, [0; 6]));
                }
            }),
        ],
        FILTER300_GROUP => {
            install(ferrocall_guest::seccomp::many_rule_filter(300));
            filtered_cases("300-rule filter", "filter300")
        }
        CONTAINER_GROUP => {
            install(Ok(ferrocall_guest::seccomp::container_profile(true)));
            filtered_cases("container profile", "container")
        }
        other => {
            eprintln!("ferrobench: no group {other:?}");
            std::process::exit(2);
        }
    };
    measure(&mut cases, rounds, iters);
}

/// Installs the one-rule filter (`ptrace` fails): it allows `getppid` (so the typed
/// `GetPpid` inside a batch) whatever its arguments, which the kernel's action cache records.
fn install_one_rule_filter() -> Result<(), String> {
    let program = ferrocall_guest::seccomp::one_rule_filter()?;
    ferrocall_guest::seccomp::install(&program).map_err(|e| e.to_string())
}

/// Runs each case for `rounds` rounds, the cases alternating within each round, and prints
/// one `bench:` line per case.
fn measure(cases: &mut [Case], rounds: u64, iters: u64) {
    // Warm up once, then alternate the cases round by round.
    for c in cases.iter_mut() {
        (c.run)(iters / 10 + 1);
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (c, s) in cases.iter_mut().zip(samples.iter_mut()) {
            // Fewer iterations for the big batches, so every measurement takes similar time.
            let n = (iters / c.calls_per_run.min(32)).max(20);
            let start = Instant::now();
            (c.run)(n);
            let ns = start.elapsed().as_nanos() as f64;
            s.push(ns / n as f64);
        }
    }
    for (c, s) in cases.iter().zip(&samples) {
        let list: Vec<String> = s.iter().map(|v| format!("{v:.1}")).collect();
        println!(
            "bench: {{\"name\": \"{}\", \"group\": \"{}\", \"calls\": {}, \"ns\": [{}]}}",
            c.name,
            c.group,
            c.calls_per_run,
            list.join(", ")
        );
    }
}
