//! Boots a kernel and initramfs under `qemu-system-x86_64 -accel tcg` with a timeout,
//! captures the serial console to `target/vm/serial.log`, and judges the run: the guest's
//! `ferrocall-guest-exit: N` line is its verdict, and any kernel oops, BUG, WARNING, panic
//! or sanitizer report fails the run whatever the verdict.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{self, Counts, Error, Result, Workspace};

/// The line the guest's init prints last.
const VERDICT: &str = "ferrocall-guest-exit:";
/// The kernel's last line before it runs `/init`: guest output starts after it.
const INIT_STARTS: &str = "Run /init as init process";
/// Serial log text that means the kernel went wrong.
const PROBLEMS: &[&str] = &[
    "Oops",
    "BUG:",
    "WARNING:",
    "Kernel panic",
    "kernel BUG",
    "KASAN",
    "UBSAN",
    "general protection fault",
    "Call Trace:",
    "stack-protector",
];

/// What to show while the guest runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Everything the guest prints after the kernel starts `/init`, and kernel problems.
    GuestOutput,
    /// Only kernel problems.
    Nothing,
}

/// How QEMU runs the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Plain TCG, as fast as the host allows.
    Tcg,
    /// `-icount shift=0`: one guest instruction advances guest time by 1 ns, so guest
    /// clocks count instructions, deterministically.
    Icount,
}

/// The outcome of one boot.
pub struct Boot {
    /// Every serial line.
    pub lines: Vec<String>,
    /// The guest's exit code, if it reported one.
    pub verdict: Option<i32>,
    /// Serial lines that show a kernel problem.
    pub problems: Vec<String>,
    /// Whether the timeout ended the run.
    pub timed_out: Option<u64>,
    /// Where the serial log was written.
    pub log: PathBuf,
}

/// How many vCPUs a guest gets, and how QEMU runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Plain TCG or icount.
    pub mode: Mode,
    /// The vCPUs.
    pub cpus: u32,
}

impl Machine {
    /// The test kernels' guest: two vCPUs under plain TCG, so that threads run in parallel.
    pub const GUEST: Machine = Machine { mode: Mode::Tcg, cpus: 2 };
    /// A distribution's kernel: one vCPU. With two, a generic kernel's many code patches at
    /// boot (static keys, through `int3`) now and then race with the other vCPU under QEMU's
    /// multi-threaded TCG and oops in `sched_clock_cpu()`; one vCPU has no cross-modifying
    /// code.
    pub const DISTRO: Machine = Machine { mode: Mode::Tcg, cpus: 1 };
}

/// Boots `image` with `initrd` on [`Machine::GUEST`], running `program` as the guest's job.
pub fn boot(
    ws: &Workspace,
    image: &Path,
    initrd: &Path,
    program: &str,
    show: Show,
    timeout_secs: u64,
) -> Result<Boot> {
    boot_on(ws, image, initrd, program, show, timeout_secs, Machine::GUEST)
}

/// Boots `image` with `initrd` on `machine`, running `program` as the guest's job, shown as
/// `show`, for at most `timeout_secs`.
pub fn boot_on(
    ws: &Workspace,
    image: &Path,
    initrd: &Path,
    program: &str,
    show: Show,
    timeout_secs: u64,
    machine: Machine,
) -> Result<Boot> {
    let Machine { mode, cpus } = machine;
    let dir = ws.target().join("vm");
    fs::create_dir_all(&dir)?;
    let name: String = program
        .rsplit('/')
        .next()
        .unwrap_or("guest")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let log_path = dir.join(format!("serial-{}-{name}.log", image_name(image)));
    let mut child = command(image, initrd, program, mode, cpus)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(cannot_start)?;

    let rx = util::lines_of(&mut child);

    let mut log = fs::File::create(&log_path)?;
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let mut boot = Boot {
        lines: Vec::new(),
        verdict: None,
        problems: Vec::new(),
        timed_out: None,
        log: log_path,
    };
    let mut in_guest = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = child.kill();
            boot.timed_out = Some(timeout_secs);
            break;
        }
        let line = match rx.recv_timeout(left) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        writeln!(log, "{line}")?;
        let problem = PROBLEMS.iter().any(|p| line.contains(p));
        if problem {
            boot.problems.push(line.clone());
        }
        if let Some(code) = line.strip_prefix(VERDICT) {
            boot.verdict = code.trim().parse().ok();
            // What follows is the machine shutting down.
            in_guest = false;
        }
        if show == Show::GuestOutput && (in_guest || problem) {
            println!("{line}");
        }
        if line.contains(INIT_STARTS) {
            in_guest = true;
        }
        boot.lines.push(line);
    }
    let _ = child.wait();
    Ok(boot)
}

/// The QEMU command that boots `image` with `initrd` on `cpus` CPUs in `mode`, with
/// `program` as the guest's job.
pub fn command(image: &Path, initrd: &Path, program: &str, mode: Mode, cpus: u32) -> Command {
    command_with(image, initrd, program, mode, cpus, "", "")
}

/// [`command`] with `kernel_args` added to the kernel's command line and `cpu_features`
/// (`,name=value…`) to QEMU's CPU model.
pub fn command_with(
    image: &Path,
    initrd: &Path,
    program: &str,
    mode: Mode,
    cpus: u32,
    kernel_args: &str,
    cpu_features: &str,
) -> Command {
    // Under plain TCG the guest's TSC is the host's, but the guest calibrates it against an
    // emulated PIT, which fails now and then ("Unable to calibrate against PIT", "No
    // reference (HPET/PMTIMER) available") and leaves it on the jiffies clock: tell it the
    // host's frequency instead, and trust it. Under icount the TSC follows the instruction
    // count, and the kernel calibrates it deterministically.
    let clock = match (mode, host_tsc_khz()) {
        (Mode::Tcg, Some(khz)) => format!("tsc_early_khz={khz} tsc=reliable "),
        _ => String::new(),
    };
    let extra = if kernel_args.is_empty() { String::new() } else { format!("{kernel_args} ") };
    let append = format!("console=ttyS0 panic=-1 loglevel=7 {clock}{extra}-- {program}");
    // Under icount, `rep movsb` counts one instruction per byte, which says nothing about its
    // cost on hardware: hide fast-string support so the kernel's user-copy routines move
    // words, as on CPUs without it. The TCG runs keep `-cpu max` as is.
    let cpu = if mode == Mode::Icount { "max,-fsrm,-erms" } else { "max" };
    let cpu = format!("{cpu}{cpu_features}");
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-accel", "tcg", "-cpu", &cpu, "-smp", &cpus.to_string(), "-m", "512M"])
        .args(["-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot"])
        .args(if mode == Mode::Icount { &["-icount", "shift=0"][..] } else { &[][..] })
        .arg("-kernel")
        .arg(image)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        .arg(append);
    cmd
}

/// The host's TSC frequency in kHz, measured once against the monotonic clock over 50 ms;
/// `None` when the host's TSC does not tick at a constant rate (its `/proc/cpuinfo` lacks
/// `constant_tsc` or `nonstop_tsc`) or the measure is implausible.
fn host_tsc_khz() -> Option<u64> {
    static KHZ: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *KHZ.get_or_init(|| {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
        let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
        let constant = ["constant_tsc", "nonstop_tsc"]
            .iter()
            .all(|f| flags.split_whitespace().any(|w| w == *f));
        if !constant {
            return None;
        }
        let (start, cycles) = (Instant::now(), rdtsc());
        std::thread::sleep(Duration::from_millis(50));
        let (cycles, elapsed) = (rdtsc().wrapping_sub(cycles), start.elapsed());
        let khz = u128::from(cycles) * 1_000_000 / elapsed.as_nanos().max(1);
        u64::try_from(khz).ok().filter(|khz| (100_000..=10_000_000).contains(khz))
    })
}

/// The host's time-stamp counter.
#[cfg(target_arch = "x86_64")]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` reads a counter and has no precondition; every x86_64 CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The error for a QEMU that does not start.
pub fn cannot_start(e: std::io::Error) -> Error {
    Error(format!("cannot start qemu-system-x86_64: {e} (apt-get install qemu-system-x86)"))
}

/// A short name for the kernel `image`, from its build folder (`build-stock` → `stock`).
fn image_name(image: &Path) -> String {
    image
        .ancestors()
        .filter_map(|p| p.file_name()?.to_str()?.strip_prefix("build-").map(str::to_string))
        .next()
        .unwrap_or_else(|| "kernel".into())
}

impl Boot {
    /// Whether the guest ran to its verdict with exit code 0 and the kernel stayed clean;
    /// prints what went wrong otherwise, with the last serial lines.
    pub fn report(&self) -> bool {
        let mut why = Vec::new();
        if let Some(secs) = self.timed_out {
            why.push(format!("the guest did not finish within {secs}s"));
        }
        match self.verdict {
            Some(0) => {}
            Some(code) => why.push(format!("the guest program exited with status {code}")),
            None if self.timed_out.is_none() => {
                why.push("the guest never reported its exit status (did the kernel panic?)".into())
            }
            None => {}
        }
        if !self.problems.is_empty() {
            why.push(format!(
                "the kernel reported {} problem line(s), first: {}",
                self.problems.len(),
                self.problems[0]
            ));
        }
        if why.is_empty() {
            return true;
        }
        eprintln!("\nxtask: the VM run failed:");
        for w in &why {
            eprintln!("  - {w}");
        }
        eprintln!("  last serial lines (full log: {}):", self.log.display());
        let start = self.lines.len().saturating_sub(40);
        for line in &self.lines[start..] {
            eprintln!("  | {line}");
        }
        false
    }

    /// Counts the guest suite's `PASS name` and `FAIL name: why` lines.
    /// The tests' results: `PASS`/`FAIL` lines of the guest programs, and the TAP lines
    /// (`ok 3 …`, `not ok 3 …`) of the kernel selftest.
    pub fn count_tests(&self) -> Counts {
        let tap = |line: &str, prefix: &str| {
            line.strip_prefix(prefix).is_some_and(|rest| {
                let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
                !number.is_empty()
                    && rest[number.len()..].starts_with(' ')
                    && !rest.contains("# SKIP")
            })
        };
        let passed = self.lines.iter().filter(|l| l.starts_with("PASS ") || tap(l, "ok ")).count();
        let failed =
            self.lines.iter().filter(|l| l.starts_with("FAIL ") || tap(l, "not ok ")).count();
        Counts { passed, failed, ok: failed == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::Boot;

    #[test]
    fn counts_harness_lines_and_tap_results() {
        let lines = [
            "PASS demo_value",
            "FAIL bad_sizes: E2BIG",
            "TAP version 13",
            "1..4",
            "ok 1 the opt-in answers ABI version 1",
            "not ok 2 Useless(15) answers 30",
            "ok 3 # SKIP no seccomp",
            "ok then",
            "  | PASS relayed",
        ];
        let boot = Boot {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            verdict: Some(0),
            problems: Vec::new(),
            timed_out: None,
            log: std::path::PathBuf::new(),
        };
        let counts = boot.count_tests();
        assert_eq!((counts.passed, counts.failed), (2, 2));
    }
}
