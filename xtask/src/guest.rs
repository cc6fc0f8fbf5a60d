//! The guest side: builds the static musl programs of `guest/` and the kernel selftest of
//! the patch series (`tools/testing/selftests/ferrocall/`, C, static), and packs them with a
//! `/dev/console` node into an initramfs.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::cpio::{self, Entry};
use crate::deps::GUEST_TARGET;
use crate::util::{self, Error, Result, Workspace};

/// The guest programs and where they go in the VM.
const PROGRAMS: &[(&str, &str)] = &[
    ("init", "/init"),
    ("demo", "/bin/demo"),
    ("hello", "/bin/hello"),
    ("ferrotest", "/bin/ferrotest"),
    ("ferrostress", "/bin/ferrostress"),
    ("ferrotrace", "/bin/ferrotrace"),
    ("ferrobench", "/bin/ferrobench"),
    ("ferrocall_test", "/bin/ferrocall_test"),
];

/// The selftest's source in the repository, as the series adds it.
const SELFTEST: &str = "kernel/src/tools/testing/selftests/ferrocall/ferrocall_test.c";

/// Paths of the built guest programs.
pub struct Binaries {
    dir: PathBuf,
}

/// Builds the guest programs (release, static musl).
pub fn build(ws: &Workspace) -> Result<Binaries> {
    util::step("guest", &format!("building the guest programs for {GUEST_TARGET}"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    util::run(Command::new(cargo).current_dir(&ws.root).args([
        "build",
        "--quiet",
        "--release",
        "--package",
        "ferrocall-guest",
        "--target",
        GUEST_TARGET,
    ]))?;
    let bins = Binaries { dir: ws.target().join(GUEST_TARGET).join("release") };
    build_selftest(ws, &bins)?;
    Ok(bins)
}

/// Builds the kernel selftest as a kernel developer's `make -C tools/testing/selftests`
/// would, but static, against the series' uapi header: its `../kselftest.h` is the 6.12
/// tree's (the same on both lines).
fn build_selftest(ws: &Workspace, bins: &Binaries) -> Result<()> {
    let tree = crate::series::pristine_repo(ws, crate::series::LINUX_6_12)?;
    let dir = ws.target().join("selftest");
    fs::create_dir_all(dir.join("ferrocall"))?;
    let kselftest = fs::read(tree.join("tools/testing/selftests/kselftest.h"))?;
    util::write_if_changed(&dir.join("kselftest.h"), &kselftest)?;
    let source = dir.join("ferrocall/ferrocall_test.c");
    util::write_if_changed(&source, &fs::read(ws.root.join(SELFTEST))?)?;
    util::run(
        Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-Werror", "-I"])
            .arg(ws.root.join("kernel/src/include/uapi"))
            .arg("-o")
            .arg(bins.dir.join("ferrocall_test"))
            .arg(&source),
    )
}

impl Binaries {
    /// The built program `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Packs the initramfs and returns its path.
pub fn initramfs(ws: &Workspace, bins: &Binaries) -> Result<PathBuf> {
    let mut files = Vec::new();
    for (name, at) in PROGRAMS {
        let path = bins.dir.join(name);
        let data = fs::read(&path).map_err(|e| Error(format!("{}: {e}", path.display())))?;
        files.push((*at, data));
    }
    let mut entries = vec![
        Entry::Dir("/dev"),
        Entry::CharDev("/dev/console", 5, 1),
        Entry::CharDev("/dev/null", 1, 3),
        Entry::CharDev("/dev/zero", 1, 5),
        Entry::Dir("/bin"),
        Entry::Dir("/proc"),
        Entry::Dir("/tmp"),
    ];
    for (at, data) in &files {
        entries.push(Entry::File(at, 0o755, data));
    }
    let dir = ws.target().join("vm");
    fs::create_dir_all(&dir)?;
    let path = dir.join("initramfs.cpio");
    util::write_if_changed(&path, &cpio::archive(&entries))?;
    Ok(path)
}
