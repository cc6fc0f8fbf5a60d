//! The guest side: builds the static musl programs of `guest/` and packs them with a
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
];

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
    Ok(Binaries { dir: ws.target().join(GUEST_TARGET).join("release") })
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
