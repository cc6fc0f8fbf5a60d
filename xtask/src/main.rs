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
mod guest;
mod kernel;
mod profile;
mod qemu;
mod util;

use std::process::ExitCode;

use util::{Result, Workspace};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run       build the patched kernel and the demo, boot it under QEMU, show the demo's output
  test      run every test: the host tests, then the guest suites on the patched kernel,
            on the same kernel without ferrocall, and on a debug build of the patched
            kernel (KASAN, lockdep; built with LLVM)
            --quick: skip the debug kernel
  kernel    build the patched kernel only (--stock: without ferrocall, --debug: the debug one)
  bench     measure typed calls against legacy ones, side by side in one boot (target/bench/)
  profile   single-step one run of each benchmark case in the guest and show, function by
            function, where its instructions go (target/bench/profile.md)
  deps      check and install the Debian packages, rustup parts and tools the build needs
  help      show this text

The first `run` or `test` on a fresh machine installs packages (apt-get, as root), extracts
Linux 6.12 under target/kernel/ and builds it: a few minutes. Later runs rebuild only what
changed.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(!args.iter().any(|a| a == "--quick")),
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
            kernel::build(&ws, variant).map(|_| true)
        }),
        Some("bench") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            bench::run(&ws)
        }),
        Some("profile") => Workspace::find().and_then(|ws| {
            deps::ensure(&ws)?;
            profile::run(&ws)
        }),
        Some("deps") => Workspace::find().and_then(|ws| deps::ensure(&ws).map(|()| true)),
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
fn run() -> Result<bool> {
    let ws = Workspace::find()?;
    deps::ensure(&ws)?;
    let image = kernel::build(&ws, kernel::Variant::Ferrocall)?;
    let bins = guest::build(&ws)?;
    let initrd = guest::initramfs(&ws, &bins)?;
    util::step("boot", "booting the patched kernel under QEMU, running /bin/demo");
    let boot = qemu::boot(&ws, &image, &initrd, "/bin/demo", qemu::Show::GuestOutput, 120)?;
    Ok(boot.report())
}

/// The guest runs of `cargo xtask test`: kernel, its description, the programs `/init`
/// runs (separated by `::`), and a timeout in seconds.
const GUEST_RUNS: &[(kernel::Variant, &str, &str, u64)] = &[
    (
        kernel::Variant::Ferrocall,
        "the patched kernel",
        "/bin/ferrotest :: /bin/ferrostress --fuzz-calls 3000000",
        900,
    ),
    // The same programs on the same kernel without ferrocall: every typed call must be
    // ENOSYS, and nothing else may happen.
    (kernel::Variant::Stock, "the kernel without ferrocall", "/bin/ferrotest --stock", 300),
];

/// The guest runs on the debug kernel, after the others (skipped by `test --quick`).
const DEBUG_RUNS: &[(kernel::Variant, &str, &str, u64)] = &[(
    kernel::Variant::Debug,
    "the debug kernel (KASAN, lockdep)",
    "/bin/ferrotest :: /bin/ferrostress --fuzz-calls 1000000",
    1800,
)];

/// `cargo xtask test`: host tests and the guest suite; ends with `N passed, N failed`.
fn test(debug_kernel: bool) -> Result<bool> {
    let ws = Workspace::find()?;
    deps::ensure(&ws)?;
    util::step("host", "cargo test --workspace");
    let host = util::cargo_test(&ws)?;
    let bins = guest::build(&ws)?;
    let initrd = guest::initramfs(&ws, &bins)?;
    let mut guest = qemu::GuestCounts { passed: 0, failed: 0 };
    let mut clean = true;
    let runs = GUEST_RUNS.iter().chain(if debug_kernel { DEBUG_RUNS } else { &[] });
    for (variant, what, command, timeout) in runs {
        let image = kernel::build(&ws, *variant)?;
        util::step("guest", &format!("booting {what}, running {command}"));
        let boot = qemu::boot(&ws, &image, &initrd, command, qemu::Show::GuestOutput, *timeout)?;
        let counts = boot.count_tests();
        guest.passed += counts.passed;
        guest.failed += counts.failed;
        clean &= boot.report();
    }

    let passed = host.passed + guest.passed;
    // A guest that crashed or never reported counts as one more failure.
    let failed = host.failed + guest.failed + usize::from(!clean && guest.failed == 0);
    println!();
    println!("host: {} passed, {} failed", host.passed, host.failed);
    println!("guest: {} passed, {} failed", guest.passed, guest.failed);
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0 && host.ok && clean)
}
