//! Linux 7.3's source, from Debian's archive: `linux-source-7.3` of `trixie-backports`, fetched
//! with `apt-get download` through a private apt configuration under `target/kernel/apt-7.3/`
//! (the machine's own sources, lists and caches are not touched), with apt's signature
//! checking on, pinned to one version and the SHA-256 of its `.deb`. The source tarball
//! inside is kept as `target/kernel/linux-source-7.3.tar.xz`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, bail, Error, Result, Workspace};

/// The package version, and the SHA-256 of its `.deb`.
pub const VERSION: &str = "7.3.4-1~bpo13+1";
const SHA256: &str = "703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3";
const PACKAGE: &str = "linux-source-7.3";
/// The key that signs trixie's suites, in Debian 12's `debian-archive-keyring`.
const KEYRING: &str = "/usr/share/keyrings/debian-archive-trixie-automatic.gpg";

/// The archive URI the machine's apt uses for Debian (`URIs:` of its `debian.sources`), so
/// that a mirror configured there serves this download too.
fn archive_uri() -> String {
    let sources = fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    sources
        .lines()
        .filter_map(|l| l.strip_prefix("URIs:"))
        .flat_map(str::split_whitespace)
        .find(|uri| uri.trim_end_matches('/').ends_with("/debian"))
        .unwrap_or("http://deb.debian.org/debian")
        .to_string()
}

/// The tarball of Linux 7.3, fetched and unpacked on first use.
pub fn linux_7_3(ws: &Workspace) -> Result<PathBuf> {
    let base = ws.target().join("kernel");
    let tarball = base.join("linux-source-7.3.tar.xz");
    let stamp = base.join("linux-source-7.3.version");
    if tarball.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(VERSION) {
        return Ok(tarball);
    }
    let apt = base.join("apt-7.3");
    for dir in ["lists/partial", "archives/partial", "cache", "sources.list.d", "dl"] {
        fs::create_dir_all(apt.join(dir))?;
    }
    fs::write(apt.join("sources.list"), "")?;
    if !Path::new(KEYRING).is_file() {
        bail!(
            "{KEYRING} is missing: it verifies Debian trixie's archive\n  install it: apt-get install debian-archive-keyring"
        );
    }
    fs::write(
        apt.join("sources.list.d/trixie-backports.sources"),
        format!(
            "Types: deb\nURIs: {}\nSuites: trixie-backports\nComponents: main\nSigned-By: {KEYRING}\n",
            archive_uri()
        ),
    )?;
    let apt_get = |args: &[&str], dir: &Path| {
        let mut cmd = Command::new("apt-get");
        cmd.current_dir(dir);
        for (key, value) in [
            ("Dir::Etc::SourceList", apt.join("sources.list")),
            ("Dir::Etc::SourceParts", apt.join("sources.list.d")),
            ("Dir::State::Lists", apt.join("lists")),
            ("Dir::Cache", apt.join("cache")),
            ("Dir::Cache::Archives", apt.join("archives")),
        ] {
            cmd.arg("-o").arg(format!("{key}={}", value.display()));
        }
        cmd.args(["-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache="]);
        cmd.args(["-o", "APT::Architectures=amd64", "-o", "APT::Sandbox::User=root", "-q"]);
        cmd.args(args);
        cmd
    };
    util::step("kernel", &format!("fetching {PACKAGE} {VERSION} from Debian's trixie-backports"));
    util::output(&mut apt_get(&["update"], &apt))
        .map_err(|e| Error(format!("apt-get update of trixie-backports failed: {e}")))?;
    let dl = apt.join("dl");
    let deb = dl.join(format!("{PACKAGE}_{}_all.deb", VERSION.replace(':', "%3a")));
    if !deb.is_file() {
        util::output(&mut apt_get(&["download", &format!("{PACKAGE}={VERSION}")], &dl)).map_err(
            |e| {
                Error(format!(
                    "cannot download {PACKAGE} {VERSION}: {e}\n  the archive may no longer have this version: update fetch::VERSION and fetch::SHA256 in xtask/src/fetch.rs (apt-cache policy {PACKAGE} with trixie-backports shows what it has)"
                ))
            },
        )?;
    }
    let sum = util::output(Command::new("sha256sum").arg(&deb))?;
    if sum.split_whitespace().next() != Some(SHA256) {
        let _ = fs::remove_file(&deb);
        bail!("{} has SHA-256 {sum}, not the pinned {SHA256}: refusing it", deb.display());
    }
    util::step("kernel", "unpacking the source tarball from the package");
    let unpacked = apt.join("unpacked");
    if unpacked.exists() {
        fs::remove_dir_all(&unpacked)?;
    }
    util::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    let inner = unpacked.join("usr/src/linux-source-7.3.tar.xz");
    if !inner.is_file() {
        bail!("{} has no usr/src/linux-source-7.3.tar.xz", deb.display());
    }
    fs::rename(&inner, &tarball)?;
    fs::remove_dir_all(&unpacked)?;
    // The .deb itself is no longer needed: the tarball is what builds use.
    let _ = fs::remove_file(&deb);
    fs::write(&stamp, VERSION)?;
    Ok(tarball)
}
