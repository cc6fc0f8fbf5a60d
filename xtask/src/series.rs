//! The kernel patch series: generated from the repository's sources, never edited by hand.
//!
//! A series for one kernel line lives in `kernel/series/<line>/`: one `NNNN-name.commit`
//! file per commit, in order. A commit file reads like a mail: header lines, a blank line,
//! then the commit message body.
//!
//! ```text
//! Subject: ferrocall: add the opt-in to typed system calls
//! Edits: 0001-opt-in.diff
//! Adds: include/linux/ferrocall.h include/uapi/linux/ferrocall.h
//!
//! In an address space ...
//! ```
//!
//! `Edits` names a diff, beside the commit file, of the kernel's own files (the few lines a
//! feature must change in `sys.c`, the entry code, …), against the pristine tree plus the
//! commits before it. `Adds` names the files the commit adds, each copied from the
//! repository: `kernel/src/<path>` by default, or `<path>=<source>` (a source ending in `/`
//! is a folder of `.rs` files). Each added file belongs to exactly one commit, so it has one
//! place to be edited: the repository.
//!
//! `cargo xtask patches` turns that into `kernel/patches/<line>/*.patch` with git: the
//! pristine source tree is a git repository (`target/kernel/git-<line>`), each commit is
//! made in a scratch worktree with fixed author, committer and dates, and `git format-patch`
//! writes the series. The output depends only on the inputs, so a committed series that
//! does not match its sources is stale, which `cargo xtask test` checks. The kernel build
//! applies the committed series with `git am` onto the same pristine tree: what is tested is
//! exactly what a kernel developer applies.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, bail, write_if_changed, Error, Result, Workspace};

/// The identity and date of every generated commit: the series must not depend on who
/// generated it, or when.
const AUTHOR: &str = "ferrocall developers";
const EMAIL: &str = "dev@ferrocall.invalid";
const DATE: &str = "2026-11-30T12:00:00+0000";

/// A kernel line the series is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its name, as in `kernel/series/<name>` and `--kernel <name>`.
    pub name: &'static str,
    /// The folder its source tarball extracts to.
    pub tree: &'static str,
}

/// Linux 6.12 LTS, from Debian 12's `linux-source-6.12`: the default.
pub const LINUX_6_12: Line = Line { name: "6.12", tree: "linux-source-6.12" };

/// Linux 7.3, the current stable line, from Debian's `linux-source-7.3` (trixie-backports).
pub const LINUX_7_3: Line = Line { name: "7.3", tree: "linux-source-7.3" };

/// Every kernel line, the default first.
pub const LINES: &[Line] = &[LINUX_6_12, LINUX_7_3];

impl Line {
    /// The line named `name` (`6.12`, `7.3`).
    pub fn named(name: &str) -> Result<Line> {
        LINES.iter().copied().find(|l| l.name == name).ok_or_else(|| {
            let names: Vec<&str> = LINES.iter().map(|l| l.name).collect();
            Error(format!("unknown kernel line `{name}`: use {}", names.join(" or ")))
        })
    }

    /// Its source tarball: Debian's package for 6.12, fetched from the archive for 7.3.
    pub fn tarball(self, ws: &Workspace) -> Result<PathBuf> {
        if self == LINUX_7_3 {
            return crate::fetch::linux_7_3(ws);
        }
        let path = PathBuf::from(format!("/usr/src/linux-source-{}.tar.xz", self.name));
        if !path.is_file() {
            bail!(
                "{}: missing\n  install Debian's kernel source: apt-get install linux-source-{}",
                path.display(),
                self.name
            );
        }
        Ok(path)
    }

    /// Extra environment of its kernel builds: the libclang bindgen loads. Linux 7.3's Rust
    /// support needs libclang 17 or later (Debian 12's `libclang-19-dev`); 6.12 is built with
    /// Debian 12's default LLVM 14, and bindgen must then load libclang 14 too (left to
    /// itself it takes the newest installed, whose options differ from clang 14's).
    pub fn build_env(self) -> &'static [(&'static str, &'static str)] {
        if self == LINUX_7_3 {
            &[("LIBCLANG_PATH", "/usr/lib/llvm-19/lib")]
        } else {
            &[("LIBCLANG_PATH", "/usr/lib/llvm-14/lib")]
        }
    }
}

/// One commit of a series, as its `.commit` file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitSpec {
    /// The `.commit` file's name.
    pub file: String,
    /// The subject line.
    pub subject: String,
    /// The message body (everything after the header lines).
    pub body: String,
    /// The diff of existing kernel files, if any (a file beside the commit file).
    pub edits: Option<String>,
    /// The files it adds: kernel path and repository path (relative to the root).
    pub adds: Vec<(String, String)>,
}

/// Reads a `.commit` file's text.
pub fn parse_commit(file: &str, text: &str) -> Result<CommitSpec> {
    let (head, body) = text
        .split_once("\n\n")
        .ok_or_else(|| Error(format!("{file}: no blank line between the headers and the body")))?;
    let mut spec = CommitSpec {
        file: file.to_string(),
        subject: String::new(),
        body: body.trim().to_string(),
        edits: None,
        adds: Vec::new(),
    };
    for line in head.lines() {
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| Error(format!("{file}: `{line}` is not a `Key: value` header")))?;
        let value = value.trim();
        match key {
            "Subject" => spec.subject = value.to_string(),
            "Edits" => spec.edits = Some(value.to_string()),
            "Adds" => {
                for word in value.split_whitespace() {
                    let (path, source) = match word.split_once('=') {
                        Some((path, source)) => (path.to_string(), source.to_string()),
                        None => (word.to_string(), format!("kernel/src/{word}")),
                    };
                    spec.adds.push((path, source));
                }
            }
            other => bail!("{file}: unknown header `{other}` (Subject, Edits, Adds)"),
        }
    }
    if spec.subject.is_empty() {
        bail!("{file}: no Subject header");
    }
    if !spec.body.contains("Signed-off-by:") {
        bail!("{file}: the message needs a Signed-off-by line");
    }
    Ok(spec)
}

/// The folder of a line's series description.
fn spec_dir(ws: &Workspace, line: Line) -> PathBuf {
    ws.root.join("kernel/series").join(line.name)
}

/// The folder of a line's generated patches.
pub fn patch_dir(ws: &Workspace, line: Line) -> PathBuf {
    ws.root.join("kernel/patches").join(line.name)
}

/// The commits of a line's series, in order.
pub fn commits(ws: &Workspace, line: Line) -> Result<Vec<CommitSpec>> {
    let dir = spec_dir(ws, line);
    files_ending(&dir, "commit")
        .map_err(|e| Error(format!("{}: {e}", dir.display())))?
        .iter()
        .map(|p| {
            let text = fs::read_to_string(p).map_err(|e| Error(format!("{}: {e}", p.display())))?;
            parse_commit(&file_name(p), &text)
        })
        .collect()
}

/// Every file a commit adds, expanded (a folder source gives one file per `.rs` in it):
/// kernel path and absolute source path.
pub fn added_files(ws: &Workspace, spec: &CommitSpec) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for (path, source) in &spec.adds {
        let from = ws.root.join(source);
        if source.ends_with('/') {
            let mut names: Vec<String> = fs::read_dir(&from)
                .map_err(|e| Error(format!("{}: {}: {e}", spec.file, from.display())))?
                .filter_map(|e| e.ok().map(|e| file_name(&e.path())))
                .filter(|n| n.ends_with(".rs"))
                .collect();
            names.sort();
            for name in names {
                out.push((format!("{}{name}", path), from.join(&name)));
            }
        } else {
            if !from.is_file() {
                bail!("{}: adds {path} from {source}, which does not exist", spec.file);
            }
            out.push((path.clone(), from));
        }
    }
    Ok(out)
}

/// The committed patches of a line, in order.
pub fn committed(ws: &Workspace, line: Line) -> Result<Vec<PathBuf>> {
    let dir = patch_dir(ws, line);
    files_ending(&dir, "patch")
        .map_err(|e| Error(format!("{}: {e} (run cargo xtask patches)", dir.display())))
}

/// The files of `dir` with the extension `ext`, in name order.
fn files_ending(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

pub fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `git` in `dir`, with the fixed identity and dates of generated commits.
pub fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    for (k, v) in [
        ("GIT_AUTHOR_NAME", AUTHOR),
        ("GIT_AUTHOR_EMAIL", EMAIL),
        ("GIT_AUTHOR_DATE", DATE),
        ("GIT_COMMITTER_NAME", AUTHOR),
        ("GIT_COMMITTER_EMAIL", EMAIL),
        ("GIT_COMMITTER_DATE", DATE),
    ] {
        cmd.env(k, v);
    }
    // The user's git configuration must not change what is generated.
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null").env("GIT_CONFIG_NOSYSTEM", "1");
    cmd.args(["-c", "core.autocrlf=false", "-c", "advice.detachedHead=false"]);
    cmd
}

/// The pristine tree of `line` as a git repository whose one commit is tagged `pristine`;
/// extracted and committed once (a minute or two), again only if the tarball changes.
pub fn pristine_repo(ws: &Workspace, line: Line) -> Result<PathBuf> {
    let base = ws.target().join("kernel");
    let repo = base.join(format!("git-{}", line.name));
    let tarball = line.tarball(ws)?;
    let stamp = tarball_stamp(&tarball)?;
    let stamp_path = base.join(format!("git-{}.stamp", line.name));
    if repo.join(".git").is_dir() && fs::read_to_string(&stamp_path).ok().as_deref() == Some(&stamp)
    {
        return Ok(repo);
    }
    if repo.exists() {
        util::step("kernel", "the kernel source package changed: making the pristine tree again");
        fs::remove_dir_all(&repo)?;
    }
    fs::create_dir_all(&base)?;
    util::step(
        "kernel",
        &format!("extracting {} into a git tree, {}", tarball.display(), repo.display()),
    );
    let tmp = base.join(format!("extract-{}.tmp", line.name));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    util::run(Command::new("tar").arg("-xf").arg(&tarball).arg("-C").arg(&tmp))?;
    fs::rename(tmp.join(line.tree), &repo)?;
    fs::remove_dir_all(&tmp)?;
    println!(
        "    Linux {} extracted; committing it (takes a minute)",
        crate::kernel::version(&repo)
    );
    util::output(git(&repo).args(["init", "-q", "-b", "pristine"]))?;
    util::output(git(&repo).args(["add", "-A", "-f", "."]))?;
    let message = format!("Linux {} ({})", crate::kernel::version(&repo), tarball.display());
    util::output(git(&repo).args(["commit", "-q", "--no-verify", "-m", &message]))?;
    util::output(git(&repo).args(["tag", "-f", "pristine"]))?;
    fs::write(&stamp_path, stamp)?;
    Ok(repo)
}

/// A fingerprint of the tarball, to notice a new Debian source package.
fn tarball_stamp(tarball: &Path) -> Result<String> {
    let meta = fs::metadata(tarball).map_err(|e| Error(format!("{}: {e}", tarball.display())))?;
    let mtime = meta.modified()?.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(format!("{} {}", meta.len(), mtime.as_secs()))
}

/// A worktree of the pristine repository at `path`, made if missing (a plain folder there,
/// from an older build, is replaced).
pub fn worktree(repo: &Path, path: &Path) -> Result<()> {
    if path.join(".git").is_file() {
        return Ok(());
    }
    if path.exists() {
        util::step("kernel", &format!("replacing {} with a git worktree", path.display()));
        fs::remove_dir_all(path)?;
    }
    let _ = util::output(git(repo).args(["worktree", "prune"]));
    util::step("kernel", &format!("checking out the pristine tree into {}", path.display()));
    util::output(
        git(repo).arg("worktree").arg("add").arg("-q").arg("--detach").arg(path).arg("pristine"),
    )?;
    Ok(())
}

/// Generates the series of `line` from its sources: the patch files' names and contents.
pub fn generate(ws: &Workspace, line: Line) -> Result<Vec<(String, Vec<u8>)>> {
    let specs = commits(ws, line)?;
    let repo = pristine_repo(ws, line)?;
    let tree = ws.target().join("kernel").join(format!("series-{}", line.name));
    worktree(&repo, &tree)?;
    util::output(git(&tree).args(["checkout", "-q", "-f", "--detach", "pristine"]))?;
    util::output(git(&tree).args(["clean", "-q", "-f", "-d", "-x"]))?;
    let dir = spec_dir(ws, line);
    for spec in &specs {
        if let Some(edits) = &spec.edits {
            let diff = dir.join(edits);
            if !diff.is_file() {
                bail!("{}: its edits {} do not exist", spec.file, diff.display());
            }
            let out =
                git(&tree).args(["apply", "--index", "--whitespace=nowarn"]).arg(&diff).output()?;
            if !out.status.success() {
                bail!(
                    "{} (from {}) does not apply to Linux {}:\n{}",
                    edits,
                    spec.file,
                    crate::kernel::version(&tree),
                    String::from_utf8_lossy(&out.stderr).trim_end()
                );
            }
        }
        for (path, from) in added_files(ws, spec)? {
            let to = tree.join(&path);
            // An added file must be new, or it would silently replace the kernel's.
            let tracked = git(&tree).args(["ls-files", "--error-unmatch", &path]).output()?;
            if tracked.status.success() {
                bail!(
                    "{}: adds {path}, which the kernel (or an earlier commit) already has",
                    spec.file
                );
            }
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::copy(&from, &to).map_err(|e| Error(format!("{}: {e}", from.display())))?;
            util::output(git(&tree).args(["add", "-f", &path]))?;
        }
        let message = format!("{}\n\n{}\n", spec.subject, spec.body);
        let msg_path = ws.target().join("kernel").join(format!("series-{}.msg", line.name));
        fs::write(&msg_path, message)?;
        util::output(
            git(&tree)
                .args(["commit", "-q", "--no-verify", "--allow-empty", "--cleanup=verbatim", "-F"])
                .arg(&msg_path),
        )?;
    }
    let out = ws.target().join("kernel").join(format!("series-{}.out", line.name));
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    util::output(
        git(&tree)
            .args(["format-patch", "-q", "--zero-commit", "--no-signature", "--full-index", "-o"])
            .arg(&out)
            .arg("pristine..HEAD"),
    )?;
    let mut files: Vec<PathBuf> =
        fs::read_dir(&out)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files.iter().map(|p| Ok((file_name(p), fs::read(p)?))).collect()
}

/// `cargo xtask patches [--check]`: regenerates the committed series of every kernel line
/// from the sources, or (`--check`) fails if one is stale. Returns whether all were current.
pub fn patches(ws: &Workspace, check: bool) -> Result<bool> {
    let mut current = true;
    for &line in LINES {
        current &= patches_of(ws, line, check)?;
    }
    Ok(current)
}

fn patches_of(ws: &Workspace, line: Line, check: bool) -> Result<bool> {
    util::step(
        "patches",
        &format!("generating the Linux {} series from kernel/series/{}", line.name, line.name),
    );
    let generated = generate(ws, line)?;
    let dir = patch_dir(ws, line);
    let have: Vec<(String, Vec<u8>)> = committed(ws, line)
        .unwrap_or_default()
        .iter()
        .map(|p| Ok((file_name(p), fs::read(p)?)))
        .collect::<Result<_>>()?;
    if have == generated {
        println!("    kernel/patches/{}: {} patches, up to date", line.name, generated.len());
        return Ok(true);
    }
    if check {
        let stale: Vec<&str> = generated
            .iter()
            .filter(|g| !have.contains(g))
            .map(|(n, _)| n.as_str())
            .chain(have.iter().filter(|h| !generated.contains(h)).map(|(n, _)| n.as_str()))
            .collect();
        bail!(
            "kernel/patches/{} is stale ({}): it must be what its sources generate.\n  run `cargo xtask patches` and commit the result",
            line.name,
            stale.join(", ")
        );
    }
    fs::create_dir_all(&dir)?;
    for (name, contents) in &generated {
        if write_if_changed(&dir.join(name), contents)? {
            println!("    wrote kernel/patches/{}/{name}", line.name);
        }
    }
    for (name, _) in &have {
        if !generated.iter().any(|(n, _)| n == name) {
            fs::remove_file(dir.join(name))?;
            println!("    removed kernel/patches/{}/{name}", line.name);
        }
    }
    Ok(false)
}

/// `scripts/checkpatch.pl --strict` of the line's own tree on every committed patch of the
/// line: `Ok` when it finds nothing (no error, warning or check), else its report.
pub fn checkpatch(ws: &Workspace, line: Line) -> Result<std::result::Result<(), String>> {
    let repo = pristine_repo(ws, line)?;
    let mut report = String::new();
    for patch in committed(ws, line)? {
        let out = Command::new("perl")
            .arg(repo.join("scripts/checkpatch.pl"))
            .args(["--strict", "--quiet", "--no-summary", "--show-types"])
            .arg(&patch)
            .current_dir(&repo)
            // Its SPDX check runs `python3` and needs Debian's python3-ply: put the system's
            // python first, ahead of any other on the PATH.
            .env("PATH", format!("/usr/bin:{}", std::env::var("PATH").unwrap_or_default()))
            .output()
            .map_err(|e| Error(format!("cannot run scripts/checkpatch.pl: {e}")))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() || !text.trim().is_empty() {
            report.push_str(&format!("{}:\n{text}\n", file_name(&patch)));
        }
    }
    Ok(if report.is_empty() { Ok(()) } else { Err(report) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_commit_file() {
        let text = "Subject: x86/entry: a change\nEdits: 0002-entry.diff\nAdds: a/b.c kernel/ferrocall/abi/=crates/abi/src/abi/\n\nWhy it is made.\n\nSigned-off-by: A <a@b>\n";
        let spec = parse_commit("0002-entry.commit", text).unwrap();
        assert_eq!(spec.subject, "x86/entry: a change");
        assert_eq!(spec.edits.as_deref(), Some("0002-entry.diff"));
        assert_eq!(
            spec.adds,
            vec![
                ("a/b.c".to_string(), "kernel/src/a/b.c".to_string()),
                ("kernel/ferrocall/abi/".to_string(), "crates/abi/src/abi/".to_string()),
            ]
        );
        assert!(spec.body.starts_with("Why it is made."));
    }

    #[test]
    fn a_bad_commit_file_says_what_is_wrong() {
        let no_sob = parse_commit("x.commit", "Subject: a\n\nbody\n").unwrap_err().0;
        assert!(no_sob.contains("Signed-off-by"), "{no_sob}");
        let bad_key = parse_commit("x.commit", "Subjct: a\n\nSigned-off-by: a\n").unwrap_err().0;
        assert!(bad_key.contains("unknown header `Subjct`"), "{bad_key}");
        let no_body = parse_commit("x.commit", "Subject: a\n").unwrap_err().0;
        assert!(no_body.contains("no blank line"), "{no_body}");
    }

    /// What each committed patch adds must be, byte for byte, the repository file it comes
    /// from: a host-side check that the series is not stale, without a kernel tree (the
    /// full check, `cargo xtask patches --check`, regenerates the series).
    #[test]
    fn committed_series_adds_the_current_sources() {
        for &line in LINES {
            committed_series_of(line);
        }
    }

    fn committed_series_of(line: Line) {
        let ws = Workspace::find().unwrap();
        let specs = commits(&ws, line).unwrap();
        let patches = committed(&ws, line).unwrap();
        assert_eq!(
            patches.len(),
            specs.len(),
            "kernel/patches/{} has {} patches for {} commit files: run cargo xtask patches",
            line.name,
            patches.len(),
            specs.len()
        );
        for (spec, patch) in specs.iter().zip(&patches) {
            let text = fs::read_to_string(patch).unwrap();
            assert!(
                text.contains("Subject: [PATCH")
                    && text.contains(spec.subject.split_whitespace().next().unwrap()),
                "{} does not look like the patch of {}: run cargo xtask patches",
                file_name(patch),
                spec.file
            );
            for (path, from) in added_files(&ws, spec).unwrap() {
                let want = fs::read_to_string(&from).unwrap();
                let got = new_file_in_patch(&text, &path).unwrap_or_else(|| {
                    panic!("{} does not add {path}: run cargo xtask patches", file_name(patch))
                });
                assert!(
                    got == want,
                    "{} adds an older {path} than {}: run cargo xtask patches",
                    file_name(patch),
                    from.display()
                );
            }
        }
    }

    /// The contents of the file `path` that `patch` creates, from its `+` lines.
    fn new_file_in_patch(patch: &str, path: &str) -> Option<String> {
        let start = patch.find(&format!("diff --git a/{path} b/{path}\nnew file mode"))?;
        let rest = &patch[start..];
        let hunk = rest.find("\n@@ ")? + 1;
        let mut out = String::new();
        let mut no_newline = false;
        for line in rest[hunk..].lines().skip(1) {
            if let Some(l) = line.strip_prefix('+') {
                out.push_str(l);
                out.push('\n');
            } else if line.starts_with("\\ No newline") {
                no_newline = true;
            } else {
                break;
            }
        }
        if no_newline {
            out.pop();
        }
        Some(out)
    }
}
