//! Container runtimes' seccomp profiles (the OCI JSON format of `containers/common`'s
//! `seccomp.json`, which Podman, CRI-O and Buildah apply by default, and of Docker's
//! `default.json`), compiled with this crate's compiler: so that a test or a benchmark can
//! run a real runtime's default profile over typed calls and their legacy twins. Feature
//! `oci` (it needs `std` and `serde_json`); for the host, at build time.
//!
//! What is compiled: the x86_64 part of the profile for a container with the capabilities
//! given — a rule applies if its `includes` (architectures, capabilities) hold and its
//! `excludes` do not; its names become x86_64 numbers (names without one are left out); its
//! argument conditions (`SCMP_CMP_*`) become [`arg`](crate::arg) conditions, all of which
//! must hold. Rules apply in the profile's order, the first that matches deciding; the
//! default action answers every other call, and calls of another architecture.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::{arg, syscall, Action, Cond, Filter, Rule};

/// A profile, compiled: its default action and its rules, in order.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The action for calls no rule matches (`defaultAction`).
    pub default: Action,
    /// The rules, one per system call and condition set, in the profile's order.
    pub rules: Vec<Rule>,
    /// The names the profile gives that have no x86_64 number (other architectures' calls).
    pub skipped: Vec<String>,
}

impl Profile {
    /// The filter: `first` (for example a rule that admits what the profile does not know,
    /// such as typed calls' number 1023), then the profile's rules, then its default action,
    /// which also answers calls of other architectures.
    pub fn filter(&self, first: impl IntoIterator<Item = Rule>) -> Filter {
        let filter = first
            .into_iter()
            .chain(self.rules.iter().cloned())
            .fold(Filter::new(self.default).foreign_arch(self.default), Filter::rule);
        filter
    }
}

/// Why a profile cannot be compiled: what, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciError(String);

impl core::fmt::Display for OciError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "seccomp profile: {}", self.0)
    }
}

impl std::error::Error for OciError {}

/// Compiles the profile `json` for a container holding the capabilities `caps` (names as
/// `CAP_SYS_ADMIN`), with `numbers` giving each x86_64 system call's number by name
/// ([`syscall_numbers`]).
pub fn compile(
    json: &str,
    numbers: &BTreeMap<String, u32>,
    caps: &[&str],
) -> Result<Profile, OciError> {
    let fail = |what: String| OciError(what);
    let doc: Json = serde_json::from_str(json).map_err(|e| fail(format!("not JSON: {e}")))?;
    let default_errno = doc.get("defaultErrnoRet").and_then(Json::as_u64).unwrap_or(1);
    let default = action(text(&doc, "defaultAction")?, None, default_errno)?;
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    let entries = doc
        .get("syscalls")
        .and_then(Json::as_array)
        .ok_or_else(|| fail("no `syscalls` array".into()))?;
    for (i, entry) in entries.iter().enumerate() {
        let at = |what: String| fail(format!("syscalls[{i}]: {what}"));
        if !applies(entry, caps) {
            continue;
        }
        let errno = entry.get("errnoRet").and_then(Json::as_u64);
        let act = action(text(entry, "action").map_err(|e| at(e.0))?, errno, default_errno)
            .map_err(|e| at(e.0))?;
        let conds = entry
            .get("args")
            .and_then(Json::as_array)
            .map(|args| args.iter().map(condition).collect::<Result<Vec<_>, _>>())
            .transpose()
            .map_err(|e| at(e.0))?
            .unwrap_or_default();
        let names = entry
            .get("names")
            .and_then(Json::as_array)
            .ok_or_else(|| at("no `names` array".into()))?;
        for name in names {
            let name = name.as_str().ok_or_else(|| at("a name that is not a string".into()))?;
            let Some(&nr) = numbers.get(name) else {
                skipped.push(name.to_string());
                continue;
            };
            let matched = conds.iter().cloned().fold(syscall(nr), crate::Match::when);
            rules.push(matched.then(act));
        }
    }
    Ok(Profile { default, rules, skipped })
}

/// The capabilities a container runtime gives a container by default (`default_capabilities`
/// of containers.conf, Docker's defaults less `CAP_MKNOD`, `CAP_NET_RAW` and
/// `CAP_AUDIT_WRITE`): what [`compile`] is given for a default container.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// Where Debian's `linux-libc-dev` puts the x86_64 system call numbers.
pub const UNISTD_64: &str = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

/// The numbers of the x86_64 system calls, by name, from this machine's kernel headers
/// ([`UNISTD_64`]); the error says which package provides them.
pub fn system_syscall_numbers() -> Result<BTreeMap<String, u32>, OciError> {
    let header = std::fs::read_to_string(UNISTD_64).map_err(|e| {
        OciError(format!(
            "{UNISTD_64}: {e}: the x86_64 system call numbers come from the kernel's uapi \
             headers (Debian package linux-libc-dev)"
        ))
    })?;
    Ok(syscall_numbers(&header))
}

/// The numbers of the x86_64 system calls, by name, from the kernel's uapi header
/// `asm/unistd_64.h` (`#define __NR_read 0`).
pub fn syscall_numbers(unistd_64_h: &str) -> BTreeMap<String, u32> {
    unistd_64_h
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("#define __NR_")?.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.parse().ok()?))
        })
        .collect()
}

/// The string field `key` of `value`.
fn text<'a>(value: &'a Json, key: &str) -> Result<&'a str, OciError> {
    value.get(key).and_then(Json::as_str).ok_or_else(|| OciError(format!("no `{key}` string")))
}

/// Whether a rule applies on x86_64 to a container holding `caps`.
fn applies(entry: &Json, caps: &[&str]) -> bool {
    let list = |part: &str, key: &str| -> Vec<&str> {
        entry
            .get(part)
            .and_then(|p| p.get(key))
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default()
    };
    let x86_64 = |arches: &[&str]| arches.iter().any(|a| matches!(*a, "amd64" | "x86_64"));
    let held = |wanted: &[&str]| wanted.iter().any(|c| caps.contains(c));
    let (in_arches, in_caps) = (list("includes", "arches"), list("includes", "caps"));
    let (ex_arches, ex_caps) = (list("excludes", "arches"), list("excludes", "caps"));
    (in_arches.is_empty() || x86_64(&in_arches))
        && (in_caps.is_empty() || in_caps.iter().all(|c| caps.contains(c)))
        && !x86_64(&ex_arches)
        && !held(&ex_caps)
}

/// The action `SCMP_ACT_*` named `name`, with the rule's `errnoRet` if any.
fn action(name: &str, errno: Option<u64>, default_errno: u64) -> Result<Action, OciError> {
    let data = |v: u64| u16::try_from(v).map_err(|_| OciError(format!("errno {v} is too large")));
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(data(errno.unwrap_or(default_errno))?),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap(0),
        "SCMP_ACT_TRACE" => Action::Trace(data(errno.unwrap_or(0))?),
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_NOTIFY" => Action::UserNotif,
        other => return Err(OciError(format!("unknown action `{other}`"))),
    })
}

/// The condition of one `args` entry: `{index, value, valueTwo, op}`.
fn condition(arg_entry: &Json) -> Result<Cond, OciError> {
    let number = |key: &str| {
        arg_entry.get(key).and_then(Json::as_u64).ok_or_else(|| OciError(format!("no `{key}`")))
    };
    let index = number("index")?;
    if index > 5 {
        return Err(OciError(format!("argument index {index}: a system call has six")));
    }
    let (value, two) = (number("value")?, number("valueTwo").unwrap_or(0));
    let a = arg(index as usize);
    Ok(match text(arg_entry, "op")? {
        "SCMP_CMP_EQ" => a.eq(value),
        "SCMP_CMP_NE" => a.ne(value),
        "SCMP_CMP_LT" => a.lt(value),
        "SCMP_CMP_LE" => a.le(value),
        "SCMP_CMP_GT" => a.gt(value),
        "SCMP_CMP_GE" => a.ge(value),
        "SCMP_CMP_MASKED_EQ" => a.masked(value).eq(two),
        other => return Err(OciError(format!("unknown comparison `{other}`"))),
    })
}
