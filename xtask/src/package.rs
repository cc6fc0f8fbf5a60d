//! The packaging checks of `cargo xtask test`: the crates we publish (`ferrocall-abi`,
//! `ferrocall`) must package, build from their packages, pass their own tests there, and be
//! accepted by `cargo publish --dry-run`. Each check counts as one host test.
//!
//! `cargo package` and `cargo publish --dry-run` read the crates.io index (to resolve and
//! verify the packages), so they need the registry; a failure that only comes from not
//! reaching it says so. The tests of the packaged crates run offline: the packaged
//! `ferrocall` depends on `ferrocall-abi` from crates.io, which is patched to the packaged
//! `ferrocall-abi` beside it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, Counts, Error, Result, Workspace};

/// The crates that are published, in dependency order. Every other member of the workspace
/// has `publish = false`.
pub const PUBLISHED: &[&str] = &["ferrocall-abi", "ferrocall"];

/// Runs the packaging checks, showing a `PASS`/`FAIL` line per check and, for a failed one,
/// why; returns how many passed and failed.
pub fn check(ws: &Workspace) -> Counts {
    util::step("host", "packaging: cargo package, the packages' tests, cargo publish --dry-run");
    let mut package = vec!["package".to_string()];
    for name in PUBLISHED {
        package.extend(["-p".to_string(), name.to_string()]);
    }
    package.push("--allow-dirty".into());
    let mut counts = Counts::default();
    let packaged = (|| {
        // The packages tested next, and what they are built against, must be these.
        if target(ws).exists() {
            fs::remove_dir_all(target(ws))?;
        }
        forget_unpacked_packages()?;
        cargo(ws, &package)
    })();
    let tested = match &packaged {
        Ok(()) => test_packages(ws),
        Err(_) => Err(Error("not run: cargo package failed".into())),
    };
    let published =
        cargo(ws, &["publish", "--workspace", "--dry-run", "--allow-dirty"].map(String::from));
    for (what, result) in [
        ("the published crates package and build from their packages", packaged),
        ("the packaged crates pass their own tests", tested),
        ("cargo publish --workspace --dry-run accepts them", published),
    ] {
        counts.record(&format!("packaging: {what}"), result.map_err(|e| e.0));
    }
    counts
}

/// Runs `cargo <args>` in the workspace, quietly; an error shows its output, and says when
/// the failure is only that the registry could not be reached.
fn cargo(ws: &Workspace, args: &[String]) -> Result<()> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Under target/ whatever CARGO_TARGET_DIR says: that is where the packages are looked for.
    cmd.args(args).arg("--target-dir").arg(target(ws));
    cmd.args(["--color", "never"]).current_dir(&ws.root);
    let out =
        cmd.output().map_err(|e| Error(format!("cannot start `{}`: {e}", util::show(&cmd))))?;
    if out.status.success() {
        return Ok(());
    }
    let log =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let cause = if registry_unreachable(&log) {
        "the crates.io registry could not be reached (no network, or a proxy or mirror is \
         missing): this check needs it, the crates themselves may be fine"
    } else {
        "the crates would not publish as they are"
    };
    Err(Error(format!(
        "`{}` failed ({}): {cause}:\n{}",
        util::show(&cmd),
        out.status,
        last_lines(&log, 30)
    )))
}

/// Extracts the `.crate` files `cargo package` wrote into `target/package/check/`, as one
/// workspace that takes `ferrocall-abi` from beside it instead of crates.io, and runs
/// `cargo test --workspace --all-features --offline` there: only what the packages contain is
/// there to read.
fn test_packages(ws: &Workspace) -> Result<()> {
    let version = VERSION;
    let packages = target(ws).join("package");
    let dir = packages.join("check");
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    let mut members = Vec::new();
    for (name, file) in PUBLISHED.iter().zip(crate_files(ws)) {
        if !file.exists() {
            util::bail!("{} is missing after cargo package", file.display());
        }
        // `-m`: the files get the time of extraction, not the archive's fixed old one, so
        // that cargo rebuilds them instead of reusing the last check's build.
        util::output(Command::new("tar").arg("-xzmf").arg(&file).arg("-C").arg(&dir))?;
        members.push(format!("\"{name}-{version}\""));
    }
    fs::write(dir.join("Cargo.toml"), check_manifest(&members.join(", "), version))?;
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--workspace", "--all-features", "--offline", "--color", "never"])
        .env("CARGO_TARGET_DIR", packages.join("check-target"))
        .current_dir(&dir);
    let out =
        cmd.output().map_err(|e| Error(format!("cannot start `{}`: {e}", util::show(&cmd))))?;
    if !out.status.success() {
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        util::bail!(
            "`{}` in {} failed ({}) (a test that reads a file outside its crate fails only \
             here):\n{}",
            util::show(&cmd),
            rel(ws, &dir),
            out.status,
            last_lines(&log, 30)
        );
    }
    Ok(())
}

/// Removes the copies of our packages that an earlier `cargo package` unpacked into
/// `$CARGO_HOME/registry/src/-<hash>/` (its local overlay registry): cargo unpacks a
/// `.crate` only where no copy is, so after an ABI change it would build `ferrocall` against
/// the old `ferrocall-abi` of the same version. Crates from crates.io are left alone.
fn forget_unpacked_packages() -> Result<()> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")) else {
        return Ok(());
    };
    let Ok(registries) = fs::read_dir(&src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for name in PUBLISHED {
            let copy = registry.path().join(format!("{name}-{VERSION}"));
            if copy.exists() {
                fs::remove_dir_all(&copy)?;
            }
        }
    }
    Ok(())
}

/// The target folder of the packaging checks, apart from the workspace's: cargo takes the
/// packaged `ferrocall-abi` for a registry crate, which it never rebuilds once built, so a
/// check in the workspace's folder would verify `ferrocall` against an older build of it.
/// Emptied before each run.
fn target(ws: &Workspace) -> PathBuf {
    ws.target().join("packaging")
}

/// The version of the published crates: the workspace's, as xtask's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `.crate` files `cargo package` writes, one per [`PUBLISHED`] crate.
fn crate_files(ws: &Workspace) -> Vec<PathBuf> {
    let packages = target(ws).join("package");
    PUBLISHED.iter().map(|name| packages.join(format!("{name}-{VERSION}.crate"))).collect()
}

/// The manifest of the workspace of extracted packages.
fn check_manifest(members: &str, version: &str) -> String {
    format!(
        "# Written by cargo xtask test: the packaged crates, as crates.io would have them.\n\
         [workspace]\nmembers = [{members}]\nresolver = \"2\"\n\n\
         [patch.crates-io]\nferrocall-abi = {{ path = \"ferrocall-abi-{version}\" }}\n"
    )
}

/// Whether cargo's output says it could not reach the registry (its index or a download).
pub fn registry_unreachable(log: &str) -> bool {
    const SIGNS: &[&str] = &[
        "download of config.json failed",
        "failed to download from",
        "failed to fetch `http",
        "failed to update registry",
        "unable to update registry",
        "failed to query replaced source registry",
        "failed to get 200 response",
        "network failure seems to have happened",
        "spurious network error",
        "could not resolve host",
        "couldn't resolve host",
        "could not connect to server",
        "timeout was reached",
    ];
    let log = log.to_ascii_lowercase();
    SIGNS.iter().any(|sign| log.contains(sign))
}

/// The last `n` lines of `text`.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `path` relative to the workspace root, for messages.
fn rel(ws: &Workspace, path: &Path) -> String {
    path.strip_prefix(&ws.root).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_an_unreachable_registry() {
        let refused = "    Updating crates.io index\nerror: download of config.json failed\n\n\
            Caused by:\n  failed to download from `https://index.crates.io/config.json`\n\n\
            Caused by:\n  [7] Could not connect to server (Failed to connect to 127.0.0.1 port 9)";
        assert!(registry_unreachable(refused));
        let dns = "error: failed to query replaced source registry `crates-io`\n\n\
            Caused by:\n  [6] Couldn't resolve host name (Could not resolve host: index.crates.io)";
        assert!(registry_unreachable(dns));
        let manifest = "error: failed to prepare local package for uploading\n\nCaused by:\n  \
            all dependencies must have a version requirement specified when packaging.\n  \
            dependency `ferrocall-abi` does not specify a version";
        assert!(!registry_unreachable(manifest));
    }

    /// Only the crates in [`PUBLISHED`] may be published: every other member says
    /// `publish = false` (so `cargo publish --workspace` skips it).
    #[test]
    fn only_the_published_crates_are_publishable() {
        let ws = Workspace::find().unwrap();
        let root = fs::read_to_string(ws.root.join("Cargo.toml")).unwrap();
        let members = root
            .lines()
            .find_map(|l| l.trim().strip_prefix("members = ["))
            .expect("a one-line `members = [...]` in the root Cargo.toml");
        for member in members.trim_end_matches(']').split(',').map(|m| m.trim().trim_matches('"')) {
            let manifest = fs::read_to_string(ws.root.join(member).join("Cargo.toml")).unwrap();
            let name = manifest
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .map(|n| n.trim_matches('"'))
                .unwrap();
            let unpublished = manifest.lines().any(|l| l.trim() == "publish = false");
            assert_eq!(
                !unpublished,
                PUBLISHED.contains(&name),
                "{member}/Cargo.toml: only {PUBLISHED:?} may be published, every other crate \
                 needs `publish = false`"
            );
        }
    }

    #[test]
    fn the_check_workspace_patches_the_abi() {
        let manifest = check_manifest("\"ferrocall-abi-0.1.0\", \"ferrocall-0.1.0\"", "0.1.0");
        assert!(manifest.contains("members = [\"ferrocall-abi-0.1.0\", \"ferrocall-0.1.0\"]"));
        assert!(manifest.contains("ferrocall-abi = { path = \"ferrocall-abi-0.1.0\" }"));
    }
}
