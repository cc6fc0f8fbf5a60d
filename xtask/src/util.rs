//! Small shared pieces: the workspace paths, step messages, running commands with clear
//! errors, and running the host tests.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An error to show the user: what failed and, where known, how to fix it.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Error(e.to_string())
    }
}

/// The xtask result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Makes an [`Error`] from a format string.
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::util::Error(format!($($arg)*))) };
}
pub(crate) use bail;

/// Where things are.
pub struct Workspace {
    /// The repository root.
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace this xtask belongs to.
    pub fn find() -> Result<Workspace> {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().ok_or_else(|| Error("xtask has no parent folder".into()))?;
        Ok(Workspace { root: root.to_path_buf() })
    }

    /// `target/`, for everything built.
    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }
}

/// Prints a step header: `==> [what] message`.
pub fn step(what: &str, message: &str) {
    println!("==> [{what}] {message}");
}

/// Runs `cmd` with inherited output; an error names the command if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| Error(format!("cannot start `{}`: {e}", show(cmd))))?;
    if !status.success() {
        bail!("`{}` failed ({status})", show(cmd));
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output; an error shows its standard error.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error(format!("cannot start `{}`: {e}", show(cmd))))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The command line of `cmd`, for messages.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// The lines a child prints on its standard output and error, merged, as they come: one
/// thread per stream sends them down the channel, which closes when both streams end.
/// Bytes that are not UTF-8 (a guest can print anything) are replaced, not fatal.
pub fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let streams = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).map(|n| n > 0).unwrap_or(false) {
                let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string();
                buf.clear();
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

/// Writes `contents` to `path` only if it differs, so that `make` sees no change when
/// there is none. Returns whether it wrote.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<bool> {
    if std::fs::read(path).ok().as_deref() == Some(contents) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)
        .map_err(|e| Error(format!("cannot write {}: {e}", path.display())))?;
    Ok(true)
}

/// Counts of a test run.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
    /// Whether the runner itself succeeded.
    pub ok: bool,
}

impl Default for Counts {
    /// No test yet, and nothing wrong.
    fn default() -> Self {
        Counts { passed: 0, failed: 0, ok: true }
    }
}

impl Counts {
    /// Adds one check `name` that ended with `result`, printing its `PASS`/`FAIL` line (with
    /// the report of a failure).
    pub fn record(&mut self, name: &str, result: std::result::Result<(), String>) {
        match result {
            Ok(()) => {
                println!("PASS {name}");
                self.passed += 1;
            }
            Err(why) => {
                println!("FAIL {name}: {why}");
                self.failed += 1;
                self.ok = false;
            }
        }
    }

    /// Adds the counts of `other`.
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ok &= other.ok;
    }
}

/// Runs `cargo test --workspace --all-features` (the seccomp crate's `oci` compiler has its
/// tests), showing its output, and adds up its `test result:` lines.
pub fn cargo_test(ws: &Workspace) -> Result<Counts> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["test", "--workspace", "--all-features", "--color", "never"])
        .current_dir(&ws.root)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut counts = Counts::default();
    let stdout = child.stdout.take().ok_or_else(|| Error("no stdout".into()))?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some((p, f)) = parse_cargo_result(&line) {
            counts.passed += p;
            counts.failed += f;
        }
    }
    counts.ok = child.wait()?.success();
    if !counts.ok && counts.failed == 0 {
        // It did not build, or a test binary crashed: count that as a failure.
        counts.failed = 1;
    }
    Ok(counts)
}

/// Parses cargo's `test result: ok. 7 passed; 0 failed; ...` line.
pub fn parse_cargo_result(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let mut passed = None;
    let mut failed = None;
    for part in rest.split(['.', ';']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            match what {
                "passed" => passed = n.parse().ok(),
                "failed" => failed = n.parse().ok(),
                _ => {}
            }
        }
    }
    Some((passed?, failed?))
}

#[cfg(test)]
mod tests {
    use super::parse_cargo_result;

    #[test]
    fn parses_cargo_summaries() {
        let ok = "test result: ok. 7 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(parse_cargo_result(ok), Some((7, 0)));
        let bad = "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_cargo_result(bad), Some((3, 2)));
        assert_eq!(parse_cargo_result("running 7 tests"), None);
    }
}
