//! The kernel: extract Debian's Linux 6.12 source under `target/kernel/`, apply the patch
//! series (idempotently, reversing an older series first), copy in the Rust handler and
//! the ABI files, configure (tinyconfig plus `kernel/config/*.config`) and build `bzImage`
//! incrementally, with a progress line instead of a wall of compiler output.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{self, bail, write_if_changed, Error, Result, Workspace};

/// Debian's source tarball of Linux 6.12.
const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// The folder the tarball extracts to.
const TREE: &str = "linux-source-6.12";

/// Which kernel to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Linux 6.12 with the ferrocall patch series and handler.
    Ferrocall,
    /// The same kernel and configuration without ferrocall: what a program meets on a
    /// kernel that does not support typed calls.
    Stock,
    /// The ferrocall kernel with KASAN, lockdep and Rust debug assertions, built with
    /// LLVM (KASAN with Rust needs clang).
    Debug,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Ferrocall => "ferrocall",
            Variant::Stock => "stock",
            Variant::Debug => "debug",
        }
    }

    /// The source tree it builds from: the debug kernel shares the patched one.
    fn tree(self) -> &'static str {
        match self {
            Variant::Ferrocall | Variant::Debug => "ferrocall",
            Variant::Stock => "stock",
        }
    }

    fn patched(self) -> bool {
        self != Variant::Stock
    }

    /// Extra `make` variables.
    fn make_vars(self) -> &'static [&'static str] {
        match self {
            Variant::Debug => &["LLVM=1"],
            _ => &[],
        }
    }

    fn fragments(self) -> &'static [&'static str] {
        match self {
            Variant::Ferrocall => &["kernel/config/base.config", "kernel/config/ferrocall.config"],
            Variant::Stock => &["kernel/config/base.config"],
            Variant::Debug => &[
                "kernel/config/base.config",
                "kernel/config/ferrocall.config",
                "kernel/config/debug.config",
            ],
        }
    }
}

/// Builds the kernel `variant` and returns the path of its `bzImage`.
pub fn build(ws: &Workspace, variant: Variant) -> Result<PathBuf> {
    let base = ws.target().join("kernel");
    let src = base.join(format!("src-{}", variant.tree()));
    let out = base.join(format!("build-{}", variant.name()));
    fs::create_dir_all(&base)?;

    extract(&base, &src)?;
    let applied = base.join(format!("applied-{}", variant.tree()));
    if variant.patched() {
        apply_series(ws, &applied, &src)?;
        sync_rust_sources(ws, &src)?;
    } else if fs::read_dir(&applied).map(|mut d| d.next().is_some()).unwrap_or(false) {
        bail!("{} has patches applied; remove it to start from a fresh source tree", src.display());
    }
    configure(ws, variant, &src, &out)?;
    make(&src, &out, variant)?;
    Ok(out.join("arch/x86/boot/bzImage"))
}

/// The kernel version of a source tree, from its Makefile (`6.12.117`).
pub fn version(src: &Path) -> String {
    let makefile = fs::read_to_string(src.join("Makefile")).unwrap_or_default();
    let field = |name: &str| {
        makefile
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().strip_prefix('=')))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    format!("{}.{}.{}", field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL"))
}

/// A fingerprint of the tarball, to notice a new Debian source package.
fn tarball_stamp() -> Result<String> {
    let meta = fs::metadata(TARBALL).map_err(|e| {
        Error(format!(
            "{TARBALL}: {e}\n  install Debian's kernel source: apt-get install linux-source-6.12"
        ))
    })?;
    let mtime = meta.modified()?.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(format!("{} {}", meta.len(), mtime.as_secs()))
}

fn extract(base: &Path, src: &Path) -> Result<()> {
    let stamp_path = src.join(".ferrocall-extracted");
    let stamp = tarball_stamp()?;
    if fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    if src.exists() {
        util::step("kernel", "the kernel source package changed: extracting it again");
        fs::remove_dir_all(src)?;
    }
    util::step("kernel", &format!("extracting {TARBALL} into {}", src.display()));
    let tmp = base.join("extract.tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    util::run(Command::new("tar").arg("-xf").arg(TARBALL).arg("-C").arg(&tmp))?;
    fs::rename(tmp.join(TREE), src)?;
    fs::remove_dir_all(&tmp)?;
    fs::write(&stamp_path, stamp)?;
    println!("    Linux {} extracted", version(src));
    Ok(())
}

/// The patch files of the series, in order.
fn series(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let dir = ws.root.join("kernel/patches");
    let mut patches: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| Error(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    patches.sort();
    Ok(patches)
}

/// Brings the tree to exactly the current series: nothing to do if it is already applied;
/// otherwise the series applied before (recorded in `applied/`) is reversed and the current
/// one applied. A patch that does not apply is an error naming it, its failed hunks and the
/// kernel version found.
fn apply_series(ws: &Workspace, applied: &Path, src: &Path) -> Result<()> {
    let wanted = series(ws)?;
    let wanted_contents: Vec<(String, Vec<u8>)> =
        wanted.iter().map(|p| Ok((file_name(p), fs::read(p)?))).collect::<Result<_>>()?;
    fs::create_dir_all(applied)?;
    let mut done: Vec<PathBuf> =
        fs::read_dir(applied)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    done.sort();
    let done_contents: Vec<(String, Vec<u8>)> =
        done.iter().map(|p| Ok((file_name(p), fs::read(p)?))).collect::<Result<_>>()?;
    if done_contents == wanted_contents {
        return Ok(());
    }
    // Patches that are the same in both series stay applied, so that their files keep
    // their times and `make` does not rebuild what they touch.
    let keep =
        done_contents.iter().zip(&wanted_contents).take_while(|((_, a), (_, b))| a == b).count();
    for patch in done.iter().skip(keep).rev() {
        util::step("kernel", &format!("reversing the older {}", file_name(patch)));
        let out = patch_cmd(src, patch, &["-R"])?;
        if !out.0 {
            bail!(
                "cannot reverse {} in {}:\n{}\n  remove {} to start from a fresh source tree",
                file_name(patch),
                src.display(),
                out.1,
                src.display()
            );
        }
        fs::remove_file(patch)?;
    }
    for (old, (name, contents)) in done.iter().zip(&wanted_contents).take(keep) {
        if file_name(old) != *name {
            fs::remove_file(old)?;
            fs::write(applied.join(name), contents)?;
        }
    }
    for (patch, (name, contents)) in wanted.iter().zip(&wanted_contents).skip(keep) {
        let (ok, log) = patch_cmd(src, patch, &["--dry-run"])?;
        if !ok {
            bail!(
                "patch {name} does not apply to Linux {} in {}:\n{}\n  the series in kernel/patches/ is made for Linux 6.12.y",
                version(src),
                src.display(),
                log.trim_end()
            );
        }
        util::step("kernel", &format!("applying {name}"));
        let (ok, log) = patch_cmd(src, patch, &[])?;
        if !ok {
            bail!("patch {name} failed after a clean dry run:\n{log}");
        }
        fs::write(applied.join(name), contents)?;
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Runs `patch -p1` with `extra` flags; returns success and the output.
fn patch_cmd(src: &Path, patch: &Path, extra: &[&str]) -> Result<(bool, String)> {
    let out = Command::new("patch")
        .args(["-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-r", "-"])
        .args(extra)
        .arg("-d")
        .arg(src)
        .arg("-i")
        .arg(patch)
        .output()
        .map_err(|e| Error(format!("cannot run patch: {e} (apt-get install patch)")))?;
    let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), log))
}

/// Copies the handler and the ABI files into `kernel/ferrocall/` of the tree; unchanged
/// files are not touched, so `make` rebuilds only when they changed.
fn sync_rust_sources(ws: &Workspace, src: &Path) -> Result<()> {
    let dest = src.join("kernel/ferrocall");
    let abi_src = ws.root.join("crates/abi/src");
    let mut wanted: Vec<(PathBuf, PathBuf)> = vec![
        (ws.root.join("kernel/rust/ferrocall.rs"), dest.join("ferrocall.rs")),
        (abi_src.join("abi.rs"), dest.join("abi.rs")),
    ];
    for entry in fs::read_dir(abi_src.join("abi"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "rs") {
            wanted
                .push((path.clone(), dest.join("abi").join(path.file_name().unwrap_or_default())));
        }
    }
    for (from, to) in &wanted {
        let contents = fs::read(from).map_err(|e| Error(format!("{}: {e}", from.display())))?;
        write_if_changed(to, &contents)?;
    }
    // Files removed from the ABI must not linger in the kernel tree.
    if let Ok(entries) = fs::read_dir(dest.join("abi")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if !wanted.iter().any(|(_, to)| *to == path) {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// Writes `.config` from tinyconfig and the fragments when they (or the series) changed,
/// and checks that every option the fragments ask for is set.
fn configure(ws: &Workspace, variant: Variant, src: &Path, out: &Path) -> Result<()> {
    fs::create_dir_all(out)?;
    let mut hasher = DefaultHasher::new();
    let mut fragments = Vec::new();
    for f in variant.fragments() {
        let path = ws.root.join(f);
        fs::read(&path).map_err(|e| Error(format!("{}: {e}", path.display())))?.hash(&mut hasher);
        fragments.push(path);
    }
    if variant.patched() {
        for p in series(ws)? {
            fs::read(&p)?.hash(&mut hasher);
        }
    }
    version(src).hash(&mut hasher);
    let stamp = format!("{:016x}", hasher.finish());
    let stamp_path = out.join(".ferrocall-config");
    let config = out.join(".config");
    if config.exists() && fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    util::step("kernel", "configuring: tinyconfig + kernel/config fragments");
    // Configure in a scratch folder and copy the result in only if it differs: running the
    // config targets in the build folder would touch its generated headers and rebuild
    // everything even when the configuration comes out the same.
    let scratch = out.with_extension("config-tmp");
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    fs::create_dir_all(&scratch)?;
    let make = |target: &str| -> Result<()> {
        util::output(make_cmd(src, &scratch, variant).arg(target)).map(drop)
    };
    make("tinyconfig")?;
    let new_config = scratch.join(".config");
    let mut merge = Command::new(src.join("scripts/kconfig/merge_config.sh"));
    merge.current_dir(src).arg("-m").arg("-O").arg(&scratch).arg(&new_config).args(&fragments);
    util::output(&mut merge)?;
    make("olddefconfig")?;
    let have = fs::read_to_string(&new_config)?;
    write_if_changed(&config, have.as_bytes())?;
    fs::remove_dir_all(&scratch)?;

    let mut missing = Vec::new();
    for path in &fragments {
        for line in fs::read_to_string(path)?.lines() {
            let line = line.trim();
            if line.starts_with("CONFIG_") && !have.lines().any(|l| l == line) {
                missing.push(line.to_string());
            }
        }
    }
    if !missing.is_empty() {
        let why = util::output(make_cmd(src, out, variant).arg("rustavailable"))
            .err()
            .map(|e| format!("\n  `make rustavailable` says: {e}"))
            .unwrap_or_default();
        bail!(
            "the kernel configuration lacks {} (a dependency is missing){why}",
            missing.join(", ")
        );
    }
    fs::write(stamp_path, stamp)?;
    Ok(())
}

/// `make -C src O=out` with the variant's variables.
fn make_cmd(src: &Path, out: &Path, variant: Variant) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C").arg(src).arg(format!("O={}", out.display())).args(variant.make_vars());
    cmd
}

/// Runs `make bzImage`, showing one progress line; the full log goes to `build.log`.
fn make(src: &Path, out: &Path, variant: Variant) -> Result<()> {
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let log_path = out.join("build.log");
    let steps_path = out.join(".ferrocall-steps");
    let expected: Option<usize> =
        fs::read_to_string(&steps_path).ok().and_then(|s| s.trim().parse().ok());
    util::step(
        "kernel",
        &format!(
            "make bzImage ({} kernel, {jobs} jobs, log in {})",
            variant.name(),
            log_path.display()
        ),
    );
    let mut child = make_cmd(src, out, variant)
        .arg(format!("-j{jobs}"))
        .arg("bzImage")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error(format!("cannot run make: {e}")))?;
    let rx = util::lines_of(&mut child);

    let mut log = fs::File::create(&log_path)?;
    let tty = std::io::stdout().is_terminal();
    let start = Instant::now();
    let mut steps = 0usize;
    let mut last_shown = Instant::now();
    let mut current = String::new();
    let mut tail: Vec<String> = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                writeln!(log, "{line}")?;
                if is_build_step(&line) {
                    steps += 1;
                    current = line.trim().to_string();
                }
                // Keep the last compiler messages, not the step lines around them.
                if !is_build_step(&line) {
                    tail.push(line);
                    if tail.len() > 80 {
                        tail.remove(0);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let every = if tty { Duration::from_millis(500) } else { Duration::from_secs(20) };
        if last_shown.elapsed() >= every && steps > 0 {
            let progress = match expected {
                Some(total) if total > 0 => {
                    format!("{steps}/{total} steps ({}%)", (steps * 100 / total).min(99))
                }
                _ => format!("{steps} steps"),
            };
            let secs = start.elapsed().as_secs();
            let text = format!("    {progress}, {}m{:02}s: {current}", secs / 60, secs % 60);
            if tty {
                print!("\r\x1b[K{}", text.chars().take(120).collect::<String>());
                std::io::stdout().flush()?;
            } else {
                println!("{text}");
            }
            last_shown = Instant::now();
        }
    }
    let status = child.wait()?;
    if tty {
        print!("\r\x1b[K");
    }
    let secs = start.elapsed().as_secs();
    if !status.success() {
        let errors: Vec<&String> = tail.iter().filter(|l| !is_build_step(l)).collect();
        let shown: Vec<&str> = errors.iter().rev().take(40).rev().map(|s| s.as_str()).collect();
        bail!(
            "the kernel build failed after {secs}s; its last messages:\n{}\n  full log: {}",
            shown.join("\n"),
            log_path.display()
        );
    }
    if steps > 50 {
        fs::write(&steps_path, steps.to_string())?;
    }
    println!("    kernel built in {}m{:02}s ({steps} steps)", secs / 60, secs % 60);
    Ok(())
}

/// Whether a make output line is one of kbuild's `  CC      path` step lines.
fn is_build_step(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("  ") else {
        return false;
    };
    let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::is_build_step;

    #[test]
    fn recognises_kbuild_steps() {
        assert!(is_build_step("  CC      kernel/fork.o"));
        assert!(is_build_step("  RUSTC L rust/core.o"));
        assert!(!is_build_step("kernel/fork.c:12: error: expected ';'"));
        assert!(!is_build_step("make[1]: Entering directory '/x'"));
    }
}

#[cfg(test)]
mod series_tests {
    use std::fs;
    use std::path::PathBuf;

    use super::apply_series;
    use crate::util::Workspace;

    /// A scratch workspace with a "kernel tree" of one Makefile and a patch series.
    fn scratch(name: &str) -> (Workspace, PathBuf, PathBuf) {
        let root =
            std::env::temp_dir().join(format!("ferrocall-series-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let src = root.join("src");
        fs::create_dir_all(root.join("kernel/patches")).unwrap();
        fs::create_dir_all(&src).unwrap();
        fs::write(
            src.join("Makefile"),
            "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nobj-y += a.o\n",
        )
        .unwrap();
        (Workspace { root: root.clone() }, src, root.join("applied"))
    }

    fn patch(old: &str, new: &str) -> String {
        format!(
            "--- a/Makefile\n+++ b/Makefile\n@@ -1,4 +1,4 @@\n VERSION = 6\n PATCHLEVEL = 12\n SUBLEVEL = 117\n-{old}\n+{new}\n"
        )
    }

    #[test]
    fn applies_once_and_replaces_a_changed_series() {
        let (ws, src, applied) = scratch("ok");
        let p = ws.root.join("kernel/patches/0001-b.patch");
        fs::write(&p, patch("obj-y += a.o", "obj-y += b.o")).unwrap();
        apply_series(&ws, &applied, &src).unwrap();
        apply_series(&ws, &applied, &src).unwrap();
        assert!(fs::read_to_string(src.join("Makefile")).unwrap().contains("obj-y += b.o"));
        // A changed patch: the old one is reversed, the new one applied.
        fs::write(&p, patch("obj-y += a.o", "obj-y += c.o")).unwrap();
        apply_series(&ws, &applied, &src).unwrap();
        let makefile = fs::read_to_string(src.join("Makefile")).unwrap();
        assert!(makefile.contains("obj-y += c.o") && !makefile.contains("b.o"), "{makefile}");
        let _ = fs::remove_dir_all(&ws.root);
    }

    #[test]
    fn a_patch_that_does_not_apply_names_itself_its_hunk_and_the_kernel() {
        let (ws, src, applied) = scratch("bad");
        fs::write(
            ws.root.join("kernel/patches/0001-x.patch"),
            patch("obj-y += zzz.o", "obj-y += b.o"),
        )
        .unwrap();
        let err = apply_series(&ws, &applied, &src).expect_err("the patch must not apply").0;
        assert!(err.contains("0001-x.patch"), "{err}");
        assert!(err.contains("Hunk #1 FAILED"), "{err}");
        assert!(err.contains("Linux 6.12.117"), "{err}");
        assert!(fs::read_to_string(src.join("Makefile")).unwrap().contains("obj-y += a.o"));
        let _ = fs::remove_dir_all(&ws.root);
    }
}
