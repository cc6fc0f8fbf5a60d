//! Packages from Debian's archive, fetched with `apt-get download` and unpacked under
//! `target/kernel/`, never installed:
//! - Linux 7.3's source, `linux-source-7.3` of `trixie-backports`, through a private apt
//!   configuration under `target/kernel/apt-7.3/` (the machine's own sources, lists and caches
//!   are not touched), with apt's signature checking on, pinned to one version and the SHA-256
//!   of its `.deb`; the source tarball inside is kept as `target/kernel/linux-source-7.3.tar.xz`;
//! - the distribution's kernel of each line, the one the stock suite boots (a kernel without
//!   ferrocall, as the machines that will run ferrocall's programs have): Debian 12's
//!   `linux-image-<version>-cloud-amd64-unsigned` of the installed `linux-source-6.12`'s
//!   version, from the machine's own apt sources (where that source came from), and Debian
//!   13's `linux-binary-7.3.4+deb13-cloud-amd64`, through the private configuration, pinned
//!   like the source. Its `/boot/vmlinuz-*` is kept under `target/kernel/distro-<line>/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::series::{self, Line};
use crate::util::{self, bail, Error, Result, Workspace};

/// The package version of Linux 7.3's source and distribution kernel, and the SHA-256 of
/// each `.deb`.
pub const VERSION: &str = "7.3.4-1~bpo13+1";
const SHA256: &str = "703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3";
const PACKAGE: &str = "linux-source-7.3";
const KERNEL_7_3: &str = "linux-binary-7.3.4+deb13-cloud-amd64";
const KERNEL_7_3_SHA256: &str = "c4fbc8e404958693b28825474c20742d70594d65ca58aea7be6a279c81eb6fa0";
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

/// Where a package comes from.
#[derive(Clone, Copy)]
enum Archive {
    /// The machine's own apt sources.
    Machine,
    /// Debian's trixie-backports, through the private configuration (updated once per run).
    TrixieBackports,
}

/// An `apt-get` command for `archive`, run in `dir`.
fn apt_get(ws: &Workspace, archive: Archive, args: &[&str], dir: &Path) -> Command {
    let mut cmd = Command::new("apt-get");
    cmd.current_dir(dir);
    if let Archive::TrixieBackports = archive {
        let apt = ws.target().join("kernel/apt-7.3");
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
    }
    cmd.args(["-o", "APT::Architectures=amd64", "-o", "APT::Sandbox::User=root", "-q"]);
    cmd.args(args);
    cmd
}

/// The private apt configuration of trixie-backports, written and updated.
fn trixie_backports(ws: &Workspace) -> Result<()> {
    let apt = ws.target().join("kernel/apt-7.3");
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
    util::output(&mut apt_get(ws, Archive::TrixieBackports, &["update"], &apt))
        .map_err(|e| Error(format!("apt-get update of trixie-backports failed: {e}")))?;
    Ok(())
}

/// Downloads `package` `version` from `archive` into `dir` and checks its SHA-256 when one
/// is pinned; returns the `.deb`.
fn download(
    ws: &Workspace,
    archive: Archive,
    (package, version, sha256): (&str, &str, Option<&str>),
    dir: &Path,
) -> Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let from = match archive {
        Archive::Machine => "the machine's apt sources",
        Archive::TrixieBackports => "Debian's trixie-backports",
    };
    util::step("kernel", &format!("fetching {package} {version} from {from}"));
    let deb = dir.join(format!("{package}_{}_amd64.deb", version.replace(':', "%3a")));
    let deb_all = dir.join(format!("{package}_{}_all.deb", version.replace(':', "%3a")));
    if !deb.is_file() && !deb_all.is_file() {
        let wanted = format!("{package}={version}");
        let fetch = || util::output(&mut apt_get(ws, archive, &["download", &wanted], dir));
        let mut fetched = fetch();
        // The machine's package lists may be older than its installed packages: update
        // them once and try again.
        if fetched.is_err() && matches!(archive, Archive::Machine) {
            util::step("kernel", "apt-get update (the package lists lack it)");
            util::output(Command::new("apt-get").args(["update", "-q"]))?;
            fetched = fetch();
        }
        fetched.map_err(|e| {
            Error(format!(
                "cannot download {package} {version} from {from}: {e}\n  the archive may no longer have this version: `apt-cache policy {package}` shows what it has (for trixie-backports, update the pins in xtask/src/fetch.rs)"
            ))
        })?;
    }
    let deb = if deb.is_file() { deb } else { deb_all };
    if let Some(pinned) = sha256 {
        let sum = util::output(Command::new("sha256sum").arg(&deb))?;
        if sum.split_whitespace().next() != Some(pinned) {
            let _ = fs::remove_file(&deb);
            bail!("{} has SHA-256 {sum}, not the pinned {pinned}: refusing it", deb.display());
        }
    }
    Ok(deb)
}

/// The tarball of Linux 7.3, fetched and unpacked on first use.
pub fn linux_7_3(ws: &Workspace) -> Result<PathBuf> {
    let base = ws.target().join("kernel");
    let tarball = base.join("linux-source-7.3.tar.xz");
    let stamp = base.join("linux-source-7.3.version");
    if tarball.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(VERSION) {
        return Ok(tarball);
    }
    trixie_backports(ws)?;
    let apt = base.join("apt-7.3");
    let deb =
        download(ws, Archive::TrixieBackports, (PACKAGE, VERSION, Some(SHA256)), &apt.join("dl"))?;
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

/// The distribution's kernel of `line` (see the module's documentation): its image, fetched
/// and unpacked on first use.
pub fn distro_kernel(ws: &Workspace, line: Line) -> Result<PathBuf> {
    let (archive, package, version, sha256) = if line == series::LINUX_7_3 {
        (
            Archive::TrixieBackports,
            KERNEL_7_3.to_string(),
            VERSION.to_string(),
            Some(KERNEL_7_3_SHA256),
        )
    } else {
        // The image Debian built from the source the patched kernel is built from.
        let source = format!("linux-source-{}", line.name);
        let version =
            util::output(Command::new("dpkg-query").args(["-W", "-f=${Version}", &source]))
                .map_err(|e| {
                    Error(format!("{source} is not installed ({e}): cargo xtask deps installs it"))
                })?;
        let Some(package) = image_package(&version) else {
            bail!("cannot tell the image package of {source} {version}: expected a version like 6.12.117-1~deb12u1");
        };
        (Archive::Machine, package, version, None)
    };
    let dir = ws.target().join(format!("kernel/distro-{}", line.name));
    let stamp = dir.join("package");
    let wanted = format!("{package} {version}");
    let kept = dir.join("vmlinuz");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && kept.is_file() {
        return Ok(kept);
    }
    if let Archive::TrixieBackports = archive {
        trixie_backports(ws)?;
    }
    let deb = download(ws, archive, (&package, &version, sha256), &dir.join("dl"))?;
    let unpacked = dir.join("unpacked");
    if unpacked.exists() {
        fs::remove_dir_all(&unpacked)?;
    }
    util::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    let Some(image) = vmlinuz(&unpacked) else {
        bail!("{} holds no boot/vmlinuz-* nor usr/lib/modules/*/vmlinuz", deb.display());
    };
    fs::rename(&image, &kept)?;
    fs::remove_dir_all(&unpacked)?;
    let _ = fs::remove_file(&deb);
    fs::write(&stamp, wanted)?;
    Ok(kept)
}

/// The package of Debian's cloud kernel image built from the kernel source package version
/// `version` (`6.12.117-1~deb12u1` is `linux-image-6.12.117+deb12-cloud-amd64-unsigned`).
fn image_package(version: &str) -> Option<String> {
    let upstream = version.split(['-', '~']).next().filter(|u| !u.is_empty())?;
    let (_, debian) = version.rsplit_once("~deb")?;
    let release: String = debian.chars().take_while(char::is_ascii_digit).collect();
    if release.is_empty() {
        return None;
    }
    Some(format!("linux-image-{upstream}+deb{release}-cloud-amd64-unsigned"))
}

/// The kernel image a Debian kernel package unpacked in `dir` holds: `boot/vmlinuz-*`
/// (Debian 12) or `usr/lib/modules/*/vmlinuz` (Debian 13's `linux-binary-*`).
fn vmlinuz(dir: &Path) -> Option<PathBuf> {
    let entries =
        |d: PathBuf| fs::read_dir(d).into_iter().flatten().filter_map(|e| e.ok()).map(|e| e.path());
    let named = |p: &PathBuf, prefix: &str| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix))
    };
    entries(dir.join("boot")).find(|p| named(p, "vmlinuz-")).or_else(|| {
        entries(dir.join("usr/lib/modules")).map(|m| m.join("vmlinuz")).find(|p| p.is_file())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_image_package_of_a_source_version() {
        assert_eq!(
            super::image_package("6.12.117-1~deb12u1").as_deref(),
            Some("linux-image-6.12.117+deb12-cloud-amd64-unsigned")
        );
        assert_eq!(super::image_package("6.12.117-1").as_deref(), None);
        assert_eq!(super::image_package("-1~deb12u1").as_deref(), None);
    }
}
