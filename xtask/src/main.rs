//! `cargo xtask`: everything from a fresh machine to a booted, tested ferrocall kernel.
//!
//! ```text
//! cargo xtask run      build the patched kernel and the demo, boot it, show its output
//! cargo xtask test     host tests, then the guest test suite in the booted kernel
//! cargo xtask kernel   only build the patched kernel
//! cargo xtask bench    typed calls against legacy ones, side by side in one boot
//! cargo xtask profile  where the instructions of one call go, function by function
//! cargo xtask deps     only check and install what the build needs
//! ```
//!
//! Everything it builds lives under `target/`: the kernel source and build in
//! `target/kernel/`, the initramfs and serial logs in `target/vm/`.

mod bench;
mod cpio;
mod deps;
mod examples;
mod fetch;
mod guest;
mod kernel;
mod package;
mod profile;
mod qemu;
mod serialising;
mod series;
mod util;

use std::process::ExitCode;

use series::Line;
use util::{Result, Workspace};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run       build the patched kernel and the demo, boot it under QEMU, show the demo's output
  test      run every test: the host tests, then on each kernel line (Linux 6.12 and 7.3)
            the guest suites on the patched kernel and on Debian's own kernel of the line
            (without ferrocall), and on a debug build of the patched 6.12 kernel (KASAN,
            lockdep; built with LLVM)
            --quick: skip the debug kernel
            --kernel LINE: only that kernel line
            --filter NAME: only the guest tests whose name contains NAME, on the patched
            kernel only, no host tests (`ferrotest --list`, `ferrostress --list`: the names)
  kernel    build the patched kernel only (--stock: the same source without ferrocall,
            --debug: the debug one)
  bench     measure typed calls against legacy ones, side by side in one boot (target/bench/)
  profile   single-step one run of each benchmark case in the guest and show, function by
            function, where its instructions go (target/bench/profile.md)
  patches   regenerate the kernel patch series (kernel/patches/<line>/) from their sources:
            kernel/series/<line>/ (commit messages, edits of kernel files) and the files they
            add (kernel/src/, the ABI crate); --check: fail if a committed one is stale
  deps      check and install the Debian packages, rustup parts and tools the build needs
  help      show this text

run, test, kernel, bench and profile take --kernel 6.12 (the default, the LTS) or
--kernel 7.3 (the current stable line, fetched from Debian's trixie-backports).

The first `run` or `test` on a fresh machine installs packages (apt-get, as root), extracts
Linux 6.12 under target/kernel/ and builds it: a few minutes. Later runs rebuild only what
changed.";

/// Takes `--kernel LINE` out of `args`: the line named, or `None`.
fn take_line(args: &mut Vec<String>) -> Result<Option<Line>> {
    let Some(at) = args.iter().position(|a| a == "--kernel") else {
        return Ok(None);
    };
    let Some(name) = args.get(at + 1).cloned() else {
        util::bail!("--kernel needs a kernel line: 6.12 or 7.3");
    };
    args.drain(at..at + 2);
    Line::named(&name).map(Some)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let line = match take_line(&mut args) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            return ExitCode::from(2);
        }
    };
    let default_line = line.unwrap_or(series::LINUX_6_12);
    let result = match args.first().map(String::as_str) {
        Some("run") => run(default_line),
        Some("test") => test(&args[1..], line),
        Some("kernel") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            let variant = match args.get(1).map(String::as_str) {
                None => kernel::Variant::Ferrocall,
                Some("--stock") => kernel::Variant::Stock,
                Some("--debug") => kernel::Variant::Debug,
                Some(other) => {
                    return Err(util::Error(format!(
                        "unknown kernel `{other}`: use --stock or --debug"
                    )))
                }
            };
            kernel::build(&ws, default_line, variant).map(|_| true)
        }),
        Some("bench") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            bench::run(&ws, default_line)
        }),
        Some("profile") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            profile::run(&ws, default_line)
        }),
        Some("deps") => Workspace::find().and_then(|ws| deps::ensure(&ws).map(|()| true)),
        Some("patches") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            let check = args.iter().any(|a| a == "--check");
            series::patches(&ws, check).map(|current| current || !check)
        }),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("xtask: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask run`: the seed's demo in the patched kernel.
fn run(line: Line) -> Result<bool> {
    let ws = Workspace::find()?;
    deps::ensure(&ws)?;
    let image = kernel::build(&ws, line, kernel::Variant::Ferrocall)?;
    let bins = guest::build(&ws)?;
    let initrd = guest::initramfs(&ws, &bins)?;
    util::step(
        "boot",
        &format!("booting the patched Linux {} under QEMU, running /bin/demo", line.name),
    );
    let boot = qemu::boot(&ws, &image, &initrd, "/bin/demo", qemu::Show::GuestOutput, 120)?;
    Ok(boot.report())
}

/// The guest runs of `cargo xtask test`: kernel, its description, the programs `/init`
/// runs (separated by `::`), and a timeout in seconds.
const GUEST_RUNS: &[(kernel::Variant, &str, &str, u64)] = &[
    (
        kernel::Variant::Ferrocall,
        "the patched kernel",
        "/bin/ferrotest :: /bin/ferrostress --fuzz-calls 3000000 :: /bin/ferrocall_test",
        900,
    ),
    // Audit, enabled for the rest of a boot once enabled: its suite has a boot of its own.
    (kernel::Variant::Ferrocall, "the patched kernel with audit", "/bin/ferrotest --audit", 300),
    // The same programs on the distribution's kernel of the line, which has no ferrocall (the
    // kernel the library meets on the machines people run): every typed call must be
    // ENOSYS, and nothing else may happen.
    (
        kernel::Variant::Stock,
        "Debian's own kernel, without ferrocall",
        "/bin/ferrotest --stock",
        300,
    ),
];

/// The guest runs on the debug kernel, after the others (skipped by `test --quick`).
const DEBUG_RUNS: &[(kernel::Variant, &str, &str, u64)] = &[
    (
        kernel::Variant::Debug,
        "the debug kernel (KASAN, lockdep)",
        "/bin/ferrotest :: /bin/ferrostress --fuzz-calls 1000000",
        1800,
    ),
    (kernel::Variant::Debug, "the debug kernel with audit", "/bin/ferrotest --audit", 600),
];

/// `cargo xtask test`: host tests and the guest suite; ends with `N passed, N failed`.
/// `--quick` skips the debug kernel; `--filter NAME` runs only the guest tests whose name
/// contains `NAME`, on the patched kernel.
fn test(args: &[String], only: Option<Line>) -> Result<bool> {
    let (mut debug_kernel, mut filter) = (true, None);
    // The name goes on the kernel command line: one word, of the characters of test names.
    let name_part = |name: &str| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_/-.".contains(c))
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => debug_kernel = false,
            "--filter" => match args.next() {
                Some(name) if name_part(name) => filter = Some(name.clone()),
                _ => util::bail!("--filter needs part of a guest test name: letters, digits, _/-."),
            },
            other => util::bail!("test: unknown option `{other}`: use --quick or --filter NAME"),
        }
    }
    let ws = Workspace::find()?;
    deps::ensure(&ws)?;
    let lines: Vec<Line> = match only {
        Some(line) => vec![line],
        None => series::LINES.to_vec(),
    };
    if let Some(name) = filter {
        return test_filtered(&ws, lines[0], &name);
    }
    util::step("host", "cargo test --workspace");
    let mut host = util::cargo_test(&ws)?;
    // The library as a user meets it: its examples and the README's usage example.
    for (name, result) in examples::run(&ws) {
        host.record(&name, result);
    }
    // The series that gets built must be the one its sources generate.
    host.record(
        "the kernel patch series are what their sources generate",
        series::patches(&ws, true).map(drop).map_err(|e| e.0),
    );
    // Kernel style: checkpatch.pl --strict of each line's own tree, on each of its patches.
    for &line in &lines {
        util::step(
            "patches",
            &format!("scripts/checkpatch.pl --strict on kernel/patches/{}", line.name),
        );
        host.record(
            &format!("checkpatch --strict, Linux {}", line.name),
            series::checkpatch(&ws, line)?,
        );
    }
    // The published crates must package, pass their tests as packaged, and publish.
    host.add(&package::check(&ws));
    let bins = guest::build(&ws)?;
    let initrd = guest::initramfs(&ws, &bins)?;
    let mut guest = util::Counts::default();
    let mut per_line = Vec::new();
    let mut clean = true;
    // The debug kernel on the LTS line only: KASAN with Rust needs an LLVM build, which 7.3
    // takes from LLVM 17 on (`cargo xtask kernel --kernel 7.3 --debug`, with Debian's
    // clang-19, lld-19 and llvm-19 installed), and CI's time is better spent on the suites.
    let debug_line = series::LINUX_6_12;
    if debug_kernel && !lines.contains(&debug_line) {
        println!("    (the debug kernel is built on Linux {} only)", debug_line.name);
    }
    for &line in &lines {
        let debug = if debug_kernel && line == debug_line { DEBUG_RUNS } else { &[] };
        let mut counts_of_line = util::Counts::default();
        for (variant, what, command, timeout) in GUEST_RUNS.iter().chain(debug) {
            let image = match variant {
                kernel::Variant::Stock => fetch::distro_kernel(&ws, line)?,
                _ => kernel::build(&ws, line, *variant)?,
            };
            util::step(
                "guest",
                &format!("booting {what} (Linux {}), running {command}", line.name),
            );
            let machine = match variant {
                kernel::Variant::Stock => qemu::Machine::DISTRO,
                _ => qemu::Machine::GUEST,
            };
            let show = qemu::Show::GuestOutput;
            let boot = qemu::boot_on(&ws, &image, &initrd, command, show, *timeout, machine)?;
            counts_of_line.add(&boot.count_tests());
            clean &= boot.report();
        }
        // The Debian package docs/install.md tells users to build, from the kernel the
        // boots used.
        util::step("kernel", &format!("make bindeb-pkg (Linux {})", line.name));
        counts_of_line.record(
            &format!("make bindeb-pkg, Linux {}", line.name),
            kernel::debian_package(&ws, line)?,
        );
        // The kernel's own Rust checks of the handler, in this line's patched tree. Last:
        // clippy rebuilds the kernel's Rust crates, which the next build of the line redoes.
        util::step(
            "kernel",
            &format!("make rustfmtcheck and CLIPPY=1 on the handler (Linux {})", line.name),
        );
        counts_of_line.record(
            &format!("kernel Rust checks, Linux {}", line.name),
            kernel::rust_checks(&ws, line)?,
        );
        guest.add(&counts_of_line);
        per_line.push((line, counts_of_line));
    }

    let passed = host.passed + guest.passed;
    // A guest that crashed or never reported counts as one more failure.
    let failed = host.failed + guest.failed + usize::from(!clean && guest.failed == 0);
    println!();
    println!("host: {} passed, {} failed", host.passed, host.failed);
    for (line, counts) in &per_line {
        println!("guest, Linux {}: {} passed, {} failed", line.name, counts.passed, counts.failed);
    }
    println!("guest: {} passed, {} failed", guest.passed, guest.failed);
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0 && host.ok && clean)
}

/// `cargo xtask test --filter NAME`: the guest tests whose name contains `NAME`, in one
/// boot of the patched kernel running the programs of its full run with `--only NAME`; no
/// host tests, no other kernel. Ends with `N passed, N failed`; a name no test has is an
/// error.
fn test_filtered(ws: &Workspace, line: Line, name: &str) -> Result<bool> {
    let runs: Vec<_> =
        GUEST_RUNS.iter().filter(|run| run.0 == kernel::Variant::Ferrocall).collect();
    let Some((variant, what, _, timeout)) = runs.first() else {
        util::bail!("no guest run on the patched kernel");
    };
    // The programs of every run on the patched kernel, in one boot, in their order (the audit
    // suite, which leaves audit enabled, last). A name may belong to one program only: each
    // may find nothing, as long as one does.
    let command = runs
        .iter()
        .flat_map(|run| run.2.split(" :: "))
        .filter(|program| program.starts_with("/bin/ferro") && !program.contains("ferrocall_test"))
        .map(|program| format!("{program} --only {name} --allow-no-match"))
        .collect::<Vec<_>>()
        .join(" :: ");
    let bins = guest::build(ws)?;
    let initrd = guest::initramfs(ws, &bins)?;
    let image = kernel::build(ws, line, *variant)?;
    util::step("guest", &format!("booting {what} (Linux {}), running {command}", line.name));
    let boot = qemu::boot(ws, &image, &initrd, &command, qemu::Show::GuestOutput, *timeout)?;
    let counts = boot.count_tests();
    let clean = boot.report();
    if clean && counts.passed + counts.failed == 0 {
        util::bail!(
            "no guest test name contains `{name}`; `ferrotest --list` and `ferrostress --list` \
             print them (static programs, they run here too: {} --list)",
            bins.path("ferrotest").display()
        );
    }
    // A guest that crashed or never reported counts as one more failure.
    let failed = counts.failed + usize::from(!clean && counts.failed == 0);
    println!();
    println!("host: skipped (--filter)");
    println!("guest: {} passed, {} failed", counts.passed, counts.failed);
    println!("{} passed, {failed} failed", counts.passed);
    Ok(failed == 0 && clean)
}
