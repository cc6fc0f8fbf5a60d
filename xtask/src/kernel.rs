//! The kernel: a git worktree of Debian's pristine Linux 6.12 source under `target/kernel/`,
//! the committed patch series applied to it with `git am` (idempotently: only the patches
//! that changed are applied again), configured (tinyconfig plus `kernel/config/*.config`)
//! and built incrementally, with a progress line instead of a wall of compiler output.
//! The series holds everything, the Rust handler and the ABI module included (see
//! [`series`](crate::series)): nothing is copied into the tree beside it.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::series::{self, Line};
use crate::util::{self, bail, write_if_changed, Error, Result, Workspace};

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

    /// Extra `make` variables: the debug kernel is built with LLVM (on Linux 7.3, Debian
    /// 12's LLVM 19: 7.3 needs LLVM 17 or later).
    fn make_vars(self, line: Line) -> &'static [&'static str] {
        match (self, line) {
            (Variant::Debug, series::LINUX_7_3) => &["LLVM=-19"],
            (Variant::Debug, _) => &["LLVM=1"],
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

/// Builds the kernel `variant` of `line` and returns the path of its `bzImage`.
pub fn build(ws: &Workspace, line: Line, variant: Variant) -> Result<PathBuf> {
    let base = ws.target().join("kernel");
    let (src, out) = folders(ws, line, variant);
    fs::create_dir_all(&base)?;

    let repo = series::pristine_repo(ws, line)?;
    series::worktree(&repo, &src)?;
    let applied = base.join(format!("applied-{}-{}", line.name, variant.tree()));
    let wanted: Vec<(String, Vec<u8>)> = if variant.patched() {
        series::committed(ws, line)?
            .iter()
            .map(|p| Ok((series::file_name(p), fs::read(p)?)))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    apply_series(&wanted, &applied, &src, line)?;
    configure(ws, line, variant, &src, &out)?;
    make(&src, &out, line, variant)?;
    Ok(out.join("arch/x86/boot/bzImage"))
}

/// The source tree and the build folder of `variant` of `line`, under `target/kernel/`
/// (the debug kernel builds from the patched tree).
fn folders(ws: &Workspace, line: Line, variant: Variant) -> (PathBuf, PathBuf) {
    let base = ws.target().join("kernel");
    (
        base.join(format!("src-{}-{}", line.name, variant.tree())),
        base.join(format!("build-{}-{}", line.name, variant.name())),
    )
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

/// Brings the worktree `tree` to exactly the pristine source plus `wanted`, applied with
/// `git am`: nothing to do if that is what it holds (as recorded in `applied/`); otherwise
/// the patches both series share stay applied (their files keep their times, so `make`
/// does not rebuild what they touch), the tree is reset to the last of them and the rest
/// applied. A patch that does not apply is an error naming it, git's reason and the kernel
/// version found.
fn apply_series(
    wanted: &[(String, Vec<u8>)],
    applied: &Path,
    tree: &Path,
    line: Line,
) -> Result<()> {
    fs::create_dir_all(applied)?;
    let mut done: Vec<PathBuf> =
        fs::read_dir(applied)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    done.sort();
    let done: Vec<(String, Vec<u8>)> =
        done.iter().map(|p| Ok((series::file_name(p), fs::read(p)?))).collect::<Result<_>>()?;
    let commits: Vec<String> =
        util::output(series::git(tree).args(["rev-list", "--reverse", "pristine..HEAD"]))?
            .lines()
            .map(str::to_string)
            .collect();
    // What `applied/` records must be what the tree holds; if not, start from pristine.
    let keep = if commits.len() == done.len() {
        done.iter().zip(wanted).take_while(|(a, b)| a == b).count()
    } else {
        0
    };
    if keep == done.len() && keep == wanted.len() {
        return Ok(());
    }
    let target = match keep.checked_sub(1).and_then(|i| commits.get(i)) {
        Some(commit) => commit.clone(),
        None => "pristine".to_string(),
    };
    if keep < done.len() {
        util::step("kernel", &format!("taking back {} older patches", done.len() - keep));
    }
    util::output(series::git(tree).args(["reset", "-q", "--hard", &target]))?;
    util::output(series::git(tree).args(["clean", "-q", "-f", "-d"]))?;
    for (name, _) in done.iter().skip(keep) {
        let _ = fs::remove_file(applied.join(name));
    }
    for (name, contents) in wanted.iter().skip(keep) {
        util::step("kernel", &format!("git am {name}"));
        let patch = PathBuf::from(format!("{}.incoming", applied.display()));
        fs::write(&patch, contents)?;
        let out =
            series::git(tree).args(["am", "-q", "--whitespace=nowarn"]).arg(&patch).output()?;
        if !out.status.success() {
            let why = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let _ = series::git(tree).args(["am", "--abort"]).output();
            bail!(
                "patch {name} does not apply to Linux {} in {}:\n{}\n  the series is made for Linux {}.y",
                version(tree),
                tree.display(),
                why.trim_end(),
                line.name
            );
        }
        fs::write(applied.join(name), contents)?;
    }
    Ok(())
}

/// Writes `.config` from tinyconfig and the fragments when they (or the series) changed,
/// and checks that every option the fragments ask for is set.
fn configure(ws: &Workspace, line: Line, variant: Variant, src: &Path, out: &Path) -> Result<()> {
    fs::create_dir_all(out)?;
    let mut hasher = DefaultHasher::new();
    let mut fragments = Vec::new();
    for f in variant.fragments() {
        let path = ws.root.join(f);
        fs::read(&path).map_err(|e| Error(format!("{}: {e}", path.display())))?.hash(&mut hasher);
        fragments.push(path);
    }
    // Options whose name differs between the lines (kernel/config/linux-<line>.config).
    let per_line = ws.root.join(format!("kernel/config/linux-{}.config", line.name));
    if let Ok(bytes) = fs::read(&per_line) {
        bytes.hash(&mut hasher);
        fragments.push(per_line);
    }
    if variant.patched() {
        for p in series::committed(ws, line)? {
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
        util::output(make_cmd(src, &scratch, line, variant).arg(target)).map(drop)
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
        let why = util::output(make_cmd(src, out, line, variant).arg("rustavailable"))
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
fn make_cmd(src: &Path, out: &Path, line: Line, variant: Variant) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C").arg(src).arg(format!("O={}", out.display())).args(variant.make_vars(line));
    cmd.envs(line.build_env().iter().copied());
    // `cargo xtask` runs under cargo, which tells its child this workspace's Rust version;
    // clippy would take it for the kernel's and warn that it differs from .clippy.toml's.
    cmd.env_remove("CARGO_PKG_RUST_VERSION");
    cmd
}

/// Runs `make bzImage`, showing one progress line; the full log goes to `build.log`.
fn make(src: &Path, out: &Path, line: Line, variant: Variant) -> Result<()> {
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
    let mut child = make_cmd(src, out, line, variant)
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
            // The total is that of the largest build so far: an incremental build ends early,
            // and one that outgrows it shows its count alone.
            let progress = match expected {
                Some(total) if total > steps => {
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
    if steps > 50 && steps > expected.unwrap_or(0) {
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

/// The kernel's own Rust checks on the handler, in the patched tree of `line` (built
/// first): `make rustfmtcheck` (the kernel's rustfmt settings, over the tree's Rust) and
/// the handler's objects rebuilt with `CLIPPY=1` (the kernel's clippy lints, as errors).
/// `Ok(Err(report))` when a check finds something.
pub fn rust_checks(ws: &Workspace, line: Line) -> Result<std::result::Result<(), String>> {
    build(ws, line, Variant::Ferrocall)?;
    let (src, out) = folders(ws, line, Variant::Ferrocall);
    let mut report = String::new();
    let fmt = make_cmd(&src, &out, line, Variant::Ferrocall).arg("rustfmtcheck").output()?;
    if !fmt.status.success() {
        report.push_str(&format!(
            "make rustfmtcheck:\n{}{}\n",
            String::from_utf8_lossy(&fmt.stdout),
            String::from_utf8_lossy(&fmt.stderr)
        ));
    }
    // Rebuild the handler's objects under clippy (the next build makes them again without).
    // kbuild rebuilds the kernel's own Rust crates under clippy first.
    let object = "kernel/ferrocall/ferrocall.o";
    let _ = fs::remove_file(out.join(object));
    let clippy =
        make_cmd(&src, &out, line, Variant::Ferrocall).args(["CLIPPY=1", object]).output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&clippy.stdout),
        String::from_utf8_lossy(&clippy.stderr)
    );
    if !clippy.status.success() || text.contains("warning:") {
        report.push_str(&format!("make CLIPPY=1 {object}:\n{text}\n"));
    }
    // The clippy build is the same code: measure the handler's stack frames in it (kbuild's
    // CONFIG_FRAME_WARN does not look at Rust).
    let listing = Command::new("objdump")
        .args(["-d", "--demangle", "--no-show-raw-insn"])
        .arg(out.join(object))
        .output()?;
    let frames = frame_sizes(&String::from_utf8_lossy(&listing.stdout));
    if let Err(why) = check_frames(&frames) {
        report.push_str(&format!("stack frames of {object}: {why}\n"));
    }
    Ok(if report.is_empty() { Ok(()) } else { Err(report) })
}

/// The most stack one function of the handler may reserve in its prologue.
const FRAME_LIMIT: u64 = 1024;

/// The deepest paths through the handler before it calls into the rest of the kernel (a
/// packed batch's call that the seccomp filters judge; a packed batch's run of calls of one
/// operation, whose loop calls the operation), and the most stack each may reserve: the C
/// side (`ferrocall_seccomp_filter()`'s saved registers, the filters' run) and the call
/// itself need the rest of the 16 KiB stack.
const DEEPEST_PATHS: &[&[&str]] = &[
    &["packed_batch", "packed_call", "batch_next", "seccomp_filter"],
    &["packed_batch", "run_of"],
];
const DEEPEST_PATH_LIMIT: u64 = 1536;

/// The bytes each function of an `objdump -d` listing reserves with `sub $N,%rsp` among its
/// first instructions, by (demangled enough) name: the last identifier of a Rust symbol.
fn frame_sizes(listing: &str) -> std::collections::BTreeMap<String, u64> {
    let mut frames = std::collections::BTreeMap::new();
    let mut current: Option<(String, usize)> = None;
    for line in listing.lines() {
        if let Some(symbol) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")) {
            current = Some((short_name(symbol.1), 0));
            continue;
        }
        let Some((name, seen)) = current.as_mut() else { continue };
        *seen += 1;
        if *seen > 12 {
            continue;
        }
        if let Some(imm) = line.split("sub    $0x").nth(1).and_then(|r| r.strip_suffix(",%rsp")) {
            if let Ok(bytes) = u64::from_str_radix(imm, 16) {
                // A generic function has a frame per instance: keep the largest.
                let frame = frames.entry(name.clone()).or_insert(bytes);
                *frame = (*frame).max(bytes);
            }
        }
    }
    frames
}

/// The function's own name in a symbol as `objdump --demangle` prints it: the last
/// segment of its path, without generic arguments (`ferrocall[5e1f]::packed_batch` is
/// `packed_batch`, `abi[3c1c]::decode::run_of::<abi[3c1c]::ops::WriteArgs, …>` is `run_of`,
/// `<ferrocall[5e1f]::Watch>::clear_for` is `clear_for`); a C symbol as it is.
fn short_name(symbol: &str) -> String {
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    let bytes = symbol.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&symbol[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&symbol[start..]);
    // Generic arguments (`::<…>`) and an impl's type (`<T as Trait>`) are not the name.
    let name = segments.iter().rev().find(|s| !s.starts_with('<')).unwrap_or(&symbol);
    name.split('<').next().unwrap_or(name).to_string()
}

/// Checks the frames against [`FRAME_LIMIT`] and [`DEEPEST_PATH_LIMIT`], and prints them.
fn check_frames(
    frames: &std::collections::BTreeMap<String, u64>,
) -> std::result::Result<(), String> {
    let paths: Vec<(String, u64)> = DEEPEST_PATHS
        .iter()
        .map(|path| (path.join(" > "), path.iter().filter_map(|f| frames.get(*f)).sum()))
        .collect();
    let largest = frames.iter().max_by_key(|(_, bytes)| **bytes);
    for (path, bytes) in &paths {
        println!("    handler stack: {path}: {bytes} bytes");
    }
    println!("    handler stack: largest frame {largest:?}");
    if frames.get("packed_batch").is_none() {
        return Err("no frame found for packed_batch: did the listing's format change?".into());
    }
    let over: Vec<String> = frames
        .iter()
        .filter(|(_, bytes)| **bytes > FRAME_LIMIT)
        .map(|(name, bytes)| format!("{name} reserves {bytes} bytes"))
        .collect();
    if !over.is_empty() {
        return Err(format!("{} (at most {FRAME_LIMIT} each)", over.join(", ")));
    }
    if let Some((path, bytes)) = paths.iter().find(|(_, bytes)| *bytes > DEEPEST_PATH_LIMIT) {
        return Err(format!(
            "the path {path} reserves {bytes} bytes (at most {DEEPEST_PATH_LIMIT})"
        ));
    }
    Ok(())
}

/// `make bindeb-pkg` in the patched build of `line` (built first), as docs/install.md tells
/// users to: `Ok(Err(report))` unless it makes a `linux-image` package holding the kernel.
pub fn debian_package(ws: &Workspace, line: Line) -> Result<std::result::Result<(), String>> {
    build(ws, line, Variant::Ferrocall)?;
    let (src, out) = folders(ws, line, Variant::Ferrocall);
    let base = ws.target().join("kernel");
    // The packages land beside the build folder; start from none.
    let is_image = |p: &Path| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.starts_with(&format!("linux-image-{}", line.name)) && name.ends_with(".deb")
    };
    let debs = || -> Vec<PathBuf> {
        fs::read_dir(&base).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    };
    for old in debs().iter().filter(|p| is_image(p)) {
        let _ = fs::remove_file(old);
    }
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let made = make_cmd(&src, &out, line, Variant::Ferrocall)
        .arg(format!("-j{jobs}"))
        .arg("bindeb-pkg")
        .output()?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    if !made.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Ok(Err(format!("make bindeb-pkg failed:\n{}", tail.join("\n"))));
    }
    let Some(image) = debs().into_iter().find(|p| is_image(p)) else {
        return Ok(Err("make bindeb-pkg made no linux-image package".into()));
    };
    let contents = util::output(Command::new("dpkg-deb").arg("-c").arg(&image))?;
    if !contents.lines().any(|l| l.contains("./boot/vmlinuz-")) {
        return Ok(Err(format!("{} holds no /boot/vmlinuz-*", image.display())));
    }
    println!("    {}", image.display());
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::is_build_step;

    #[test]
    fn measures_frames_from_an_objdump_listing() {
        let listing = "\
0000000000000c30 <ferrocall[c8550c56ac75853e]::packed_batch>:
     c30:\tpush   %rbp
     c3e:\tsub    $0x3c8,%rsp
0000000000000170 <ferrocall[c8550c56ac75853e]::packed_call>:
     17a:\tsub    $0x118,%rsp
0000000000000000 <ferrocall_twin>:
     5efe:\tsub    $0xf8,%rsp
0000000000000d00 <abi[3c1c0]::decode::run_of::<abi[3c1c0]::ops::WriteArgs, ferrocall[c8550c56ac75853e]::Kernel>>:
     d04:\tsub    $0x40,%rsp
0000000000000e00 <abi[3c1c0]::decode::run_of::<abi[3c1c0]::ops::UselessArgs, ferrocall[c8550c56ac75853e]::Kernel>>:
     e04:\tsub    $0x90,%rsp
0000000000000f00 <<ferrocall[c8550c56ac75853e]::Watch>::clear_for>:
     f04:\tsub    $0x20,%rsp
";
        let frames = super::frame_sizes(listing);
        assert_eq!(frames.get("packed_batch"), Some(&0x3c8));
        assert_eq!(frames.get("packed_call"), Some(&0x118));
        assert_eq!(frames.get("ferrocall_twin"), Some(&0xf8));
        // A generic function's instances: the largest frame.
        assert_eq!(frames.get("run_of"), Some(&0x90));
        assert_eq!(frames.get("clear_for"), Some(&0x20));
        assert!(super::check_frames(&frames).is_ok());
        let mut big = frames.clone();
        big.insert("packed_batch".into(), 2048);
        assert!(super::check_frames(&big).unwrap_err().contains("packed_batch reserves 2048"));
        big.insert("packed_batch".into(), 1000);
        big.insert("batch_next".into(), 600);
        assert!(super::check_frames(&big)
            .unwrap_err()
            .contains("the path packed_batch > packed_call"));
        big.insert("batch_next".into(), 0);
        big.insert("run_of".into(), 600);
        assert!(super::check_frames(&big).unwrap_err().contains("the path packed_batch > run_of"));
    }

    #[test]
    fn recognises_kbuild_steps() {
        assert!(is_build_step("  CC      kernel/fork.o"));
        assert!(is_build_step("  RUSTC L rust/core.o"));
        assert!(!is_build_step("kernel/fork.c:12: error: expected ';'"));
        assert!(!is_build_step("make[1]: Entering directory '/x'"));
    }
}
