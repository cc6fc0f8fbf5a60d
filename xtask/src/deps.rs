//! Checks what the build needs and installs what is missing, saying what it does: Debian
//! packages (with apt-get, as root), the rustup parts the kernel's Rust support and the
//! musl guest programs need, and the bindgen version the kernel accepts.

use std::process::Command;

use crate::util::{self, bail, Result, Workspace};

/// Debian packages: the kernel source, QEMU, and the kernel build's tools.
const PACKAGES: &[&str] = &[
    "linux-source-6.12",
    "qemu-system-x86",
    "make",
    "gcc",
    "bc",
    "bison",
    "flex",
    "libelf-dev",
    "libssl-dev",
    "libclang-dev",
    // The debug kernel is built with LLVM: KASAN with Rust needs clang.
    "clang",
    "lld",
    "llvm",
    "cpio",
    "xz-utils",
    // asm/unistd_64.h: the x86_64 system call numbers a container profile's names become.
    "linux-libc-dev",
    "git",
    // Linux 7.3 from Debian's trixie-backports: its archive key, and the libclang 17 or
    // later its Rust support needs for bindgen (Debian 12's default is 14).
    "debian-archive-keyring",
    "libclang-19-dev",
    // scripts/checkpatch.pl checks SPDX tags with them.
    "python3-ply",
    "python3-git",
    // make bindeb-pkg (7.3's also lists libdw-dev among its build dependencies).
    "dpkg-dev",
    "debhelper",
    "rsync",
    "kmod",
    "libdw-dev",
];

/// The bindgen the kernel's Rust support is built with: 0.73.2 works with rustc 1.95, with
/// libclang 14 for Linux 6.12 and libclang 19 for Linux 7.3 (which needs 0.71.1 or later).
pub const BINDGEN_VERSION: &str = "0.73.2";

/// The musl target of the guest programs.
pub const GUEST_TARGET: &str = "x86_64-unknown-linux-musl";

/// Checks everything and installs what is missing.
pub fn ensure(_ws: &Workspace) -> Result<()> {
    ensure_packages()?;
    ensure_rustup()?;
    ensure_bindgen()?;
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn ensure_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing Debian packages: {list}\n  install them with: sudo apt-get install --no-install-recommends {list}"
        );
    }
    util::step("deps", &format!("installing Debian packages: {list}"));
    util::run(Command::new("apt-get").args(["update", "-q"]))?;
    util::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map_err(|e| util::Error(format!("{e}\n  (the packages needed are: {list})")))?;
    Ok(())
}

fn is_root() -> bool {
    util::output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false)
}

fn ensure_rustup() -> Result<()> {
    let components =
        util::output(Command::new("rustup").args(["component", "list", "--installed"]))
            .map_err(|e| util::Error(format!("{e}\n  the kernel's Rust support needs rustup")))?;
    if !components.lines().any(|l| l.starts_with("rust-src")) {
        util::step("deps", "rustup component add rust-src (the kernel builds its own `core`)");
        util::run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    let targets = util::output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !targets.lines().any(|l| l.trim() == GUEST_TARGET) {
        util::step("deps", &format!("rustup target add {GUEST_TARGET} (static guest programs)"));
        util::run(Command::new("rustup").args(["target", "add", GUEST_TARGET]))?;
    }
    Ok(())
}

fn ensure_bindgen() -> Result<()> {
    let version = Command::new("bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if version == format!("bindgen {BINDGEN_VERSION}") {
        return Ok(());
    }
    let found = if version.is_empty() { "none found".to_string() } else { version };
    util::step(
        "deps",
        &format!("cargo install bindgen-cli {BINDGEN_VERSION} ({found}); this takes a few minutes"),
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    util::run(Command::new(cargo).args([
        "install",
        "bindgen-cli",
        "--version",
        BINDGEN_VERSION,
        "--locked",
    ]))
}
