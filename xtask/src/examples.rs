//! The library as a user meets it, on the host's own kernel (which has no ferrocall, so
//! everything goes through the legacy backend): the crate's examples, run and their output
//! checked, and the README's usage example, extracted verbatim and built as a project of
//! its own that depends on the crate by path.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{self, Error, Result, Workspace};

/// The uid this process runs as (the owner of `/proc/self`).
fn uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Runs every check; returns each one's name and result.
pub fn run(ws: &Workspace) -> Vec<(String, std::result::Result<(), String>)> {
    util::step("host", "the library's examples and the README's usage example, on this kernel");
    let mut checks = Vec::new();
    // A working directory with a long name, so that the getcwd example must grow its buffer.
    let deep = ws.target().join("examples-cwd").join("a-directory-whose-name-needs-more-room");
    let cwd_ok = fs::create_dir_all(&deep).is_ok();
    let deep_text = deep.display().to_string();
    let uid_text = uid().map(|u| format!("uid Some(Ok({u}))")).unwrap_or_default();
    let examples: [(&str, Vec<&str>); 4] = [
        ("hello", vec!["Hello, world!"]),
        ("pipe", vec!["wrote 21 bytes, read 21: \"through a socket pair\""]),
        ("getcwd", vec![deep_text.as_str()]),
        ("batch", vec!["3 calls in one batch", uid_text.as_str()]),
    ];
    for (name, wants) in examples {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(if cwd_ok && name == "getcwd" {
            deep.as_path()
        } else {
            ws.root.as_path()
        })
        .args(["run", "-q", "--manifest-path"])
        .arg(ws.root.join("Cargo.toml"))
        .args(["-p", "ferrocall", "--example", name]);
        let result = output_of(&mut cmd).map_err(|e| e.0).and_then(|out| {
            match wants.iter().find(|want| !out.contains(**want)) {
                None => Ok(()),
                Some(want) => Err(format!("its output lacks `{want}`:\n{out}")),
            }
        });
        checks.push((format!("example {name}"), result));
    }
    checks.push(("README usage example".into(), readme_example(ws).map_err(|e| e.0)));
    checks
}

/// Runs `cmd`, returning its standard output; an error with both outputs if it fails.
fn output_of(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| Error(format!("cannot run {}: {e}", util::show(cmd))))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(Error(format!(
            "{} failed ({}):\n{stdout}{}",
            util::show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(stdout)
}

/// The README section the usage example is taken from.
const SECTION: &str = "## Use it from your program";

/// The first `rust` code block of the README's usage section, and the dependency line of its
/// first `toml` block.
pub fn extract_usage(readme: &str) -> Result<(String, String)> {
    let section = readme
        .split_once(SECTION)
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .ok_or_else(|| Error(format!("README.md has no `{SECTION}` section")))?;
    let block = |lang: &str| -> Result<String> {
        let start = section
            .find(&format!("```{lang}\n"))
            .ok_or_else(|| Error(format!("`{SECTION}` has no ```{lang} block")))?;
        let body = &section[start + lang.len() + 4..];
        let end =
            body.find("```").ok_or_else(|| Error(format!("an unterminated ```{lang} block")))?;
        Ok(body[..end].to_string())
    };
    Ok((block("rust")?, block("toml")?))
}

/// Builds and runs the README's usage example as a separate project.
fn readme_example(ws: &Workspace) -> Result<()> {
    let readme = fs::read_to_string(ws.root.join("README.md"))?;
    let (code, toml) = extract_usage(&readme)?;
    // The README's dependency line names the published crate; here it is the one in this
    // repository, by path, with the same features.
    let dependency =
        toml.lines().find(|l| l.trim_start().starts_with("ferrocall")).ok_or_else(|| {
            Error("the README's toml block has no `ferrocall` dependency line".into())
        })?;
    let features = dependency.split_once("features").map(|(_, f)| {
        f.trim().trim_start_matches('=').trim().trim_end_matches('}').trim().to_string()
    });
    let path = ws.root.join("crates/user").display().to_string();
    let dep = match features {
        Some(f) => format!("ferrocall = {{ path = {path:?}, features = {f} }}"),
        None => format!("ferrocall = {{ path = {path:?} }}"),
    };
    let project = ws.target().join("readme-example");
    fs::create_dir_all(project.join("src"))?;
    util::write_if_changed(
        &project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"readme-example\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{dep}\n\n[workspace]\n"
        )
        .as_bytes(),
    )?;
    util::write_if_changed(&project.join("src/main.rs"), code.as_bytes())?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(&project)
        .args(["run", "-q", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", project.join("target"));
    let out = output_of(&mut cmd)?;
    check_readme_output(&out, Path::new(&project))
}

/// The usage example prints a greeting, its pid and the backend, and the directory it runs
/// in.
fn check_readme_output(out: &str, cwd: &Path) -> Result<()> {
    let wants = ["hello from ferrocall", "on the Legacy backend", &cwd.display().to_string()];
    match wants.iter().find(|w| !out.contains(**w)) {
        None => Ok(()),
        Some(want) => Err(Error(format!("its output lacks `{want}`:\n{out}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::extract_usage;

    #[test]
    fn extracts_the_usage_example() {
        let readme = "# x\n## Use it from your program\n\n```toml\n[dependencies]\nferrocall = { version = \"0.1\", features = [\"std\"] }\n```\n\n```rust\nfn main() {}\n```\n\n## Next\n```rust\nnot this\n```\n";
        let (code, toml) = extract_usage(readme).unwrap();
        assert_eq!(code, "fn main() {}\n");
        assert!(toml.contains("features = [\"std\"]"));
        assert!(extract_usage("# no section\n").unwrap_err().0.contains("no `## Use it"));
    }
}
