//! The ABI only grows: this test compares the operation table with the checked-in snapshot
//! (`crates/abi/abi.snapshot`) and fails on any incompatible change, saying what moved.
//! A compatible extension (a new operation, a new field at the end, padding that becomes a
//! field) also fails until the snapshot is regenerated with `FERROCALL_BLESS=1 cargo test`,
//! so the checked-in snapshot always describes the current ABI.

mod common;

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
struct OpSnap {
    name: String,
    size: usize,
    fields: Vec<(String, usize, String)>,
    /// `nr name(args)`, once the operation has a legacy twin.
    twin: Option<String>,
}

fn parse(text: &str) -> (Vec<String>, BTreeMap<u32, OpSnap>) {
    let mut fixed = Vec::new();
    let mut ops = BTreeMap::new();
    let mut current: Option<u32> = None;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("op ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let num: u32 = parts[0].parse().expect("op number");
            let size =
                parts[2].strip_prefix("size=").and_then(|s| s.parse().ok()).expect("op size");
            ops.insert(
                num,
                OpSnap { name: parts[1].to_string(), size, fields: Vec::new(), twin: None },
            );
            current = Some(num);
        } else if let Some(rest) = line.trim().strip_prefix("twin ") {
            let op = ops.get_mut(&current.expect("twin before op")).expect("op");
            op.twin = Some(rest.to_string());
        } else if let Some(rest) = line.trim().strip_prefix("field ") {
            let (name, rest) = rest.split_once('@').expect("field@");
            let (offset, ty) = rest.split_once(':').expect("offset:type");
            let op = ops.get_mut(&current.expect("field before op")).expect("op");
            op.fields.push((name.to_string(), offset.parse().expect("offset"), ty.to_string()));
        } else {
            fixed.push(line.to_string());
        }
    }
    (fixed, ops)
}

/// Every way `new` breaks a program built against `old`.
fn incompatibilities(old: &str, new: &str) -> Vec<String> {
    let (old_fixed, old_ops) = parse(old);
    let (new_fixed, new_ops) = parse(new);
    let mut problems = Vec::new();
    for line in &old_fixed {
        if line.starts_with("abi_version") {
            continue;
        }
        if !new_fixed.contains(line) {
            problems.push(format!("the common layout changed: `{line}` is gone"));
        }
    }
    for (num, old_op) in &old_ops {
        let Some(new_op) = new_ops.get(num) else {
            problems.push(format!("operation {num} ({}) was removed", old_op.name));
            continue;
        };
        if new_op.name != old_op.name {
            problems
                .push(format!("operation {num} was renamed {} -> {}", old_op.name, new_op.name));
        }
        if new_op.size < old_op.size {
            problems.push(format!(
                "{}: request shrank from {} to {} bytes",
                old_op.name, old_op.size, new_op.size
            ));
        }
        for (name, offset, ty) in &old_op.fields {
            match new_op.fields.iter().find(|(n, _, _)| n == name) {
                Some((_, o, t)) => {
                    if o != offset {
                        problems.push(format!(
                            "{}: field `{name}` moved from offset {offset} to {o}",
                            old_op.name
                        ));
                    }
                    if t != ty {
                        problems.push(format!(
                            "{}: field `{name}` changed type {ty} -> {t}",
                            old_op.name
                        ));
                    }
                }
                None => {
                    // Padding may become a real field of the same size at the same offset.
                    let filled = ty == "pad32"
                        && new_op
                            .fields
                            .iter()
                            .any(|(_, o, t)| o == offset && (t == "u32" || t == "i32"));
                    if !filled {
                        problems.push(format!(
                            "{}: field `{name}` was removed or renamed",
                            old_op.name
                        ));
                    }
                }
            }
        }
        // A twin is what policies written for legacy calls see: once given, it stays.
        if let Some(twin) = &old_op.twin {
            if new_op.twin.as_ref() != Some(twin) {
                problems.push(format!(
                    "{}: its legacy twin `{twin}` changed to {:?}",
                    old_op.name, new_op.twin
                ));
            }
        }
        let old_args_end = old_op.size.saturating_sub(32);
        for (name, offset, _) in &new_op.fields {
            let known = old_op.fields.iter().any(|(n, o, _)| n == name || o == offset);
            if !known && *offset < old_args_end {
                problems.push(format!(
                    "{}: new field `{name}` at offset {offset} is not appended",
                    old_op.name
                ));
            }
        }
    }
    let old_max = old_ops.keys().max().copied().unwrap_or(0);
    for (num, op) in &new_ops {
        if !old_ops.contains_key(num) && *num < old_max {
            problems
                .push(format!("new operation {num} ({}) is not appended after {old_max}", op.name));
        }
    }
    problems
}

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/abi.snapshot");

#[test]
fn abi_is_append_only() {
    let current = common::snapshot();
    if std::env::var_os("FERROCALL_BLESS").is_some() {
        let old = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
        let problems = incompatibilities(&old, &current);
        assert!(
            problems.is_empty(),
            "refusing to bless an incompatible ABI:\n{}",
            problems.join("\n")
        );
        std::fs::write(SNAPSHOT, &current).expect("write snapshot");
        return;
    }
    let old = std::fs::read_to_string(SNAPSHOT).expect("crates/abi/abi.snapshot is missing");
    let problems = incompatibilities(&old, &current);
    assert!(
        problems.is_empty(),
        "the ABI changed incompatibly with crates/abi/abi.snapshot:\n  {}",
        problems.join("\n  ")
    );
    assert_eq!(
        old, current,
        "the ABI grew compatibly; regenerate the snapshot: FERROCALL_BLESS=1 cargo test -p ferrocall-abi"
    );
}

#[test]
fn detects_a_moved_field() {
    let old = "op 1 Useless size=40\n  field value@0:u32\n  field pad0@4:pad32\n";
    let moved = "op 1 Useless size=40\n  field pad0@0:pad32\n  field value@4:u32\n";
    let problems = incompatibilities(old, moved);
    assert!(
        problems.iter().any(|p| p.contains("`value` moved from offset 0 to 4")),
        "{problems:?}"
    );
}

#[test]
fn accepts_appended_fields_and_operations() {
    let old = "op 1 Useless size=40\n  field value@0:u32\n  field pad0@4:pad32\n";
    let new = "op 1 Useless size=48\n  field value@0:u32\n  field flags@4:u32\n  field more@8:u64\nop 2 GetPid size=32\n";
    assert_eq!(incompatibilities(old, new), Vec::<String>::new());
    let retyped = "op 1 Useless size=40\n  field value@0:u64\n";
    assert!(!incompatibilities(old, retyped).is_empty());
    assert_eq!(incompatibilities(old, new), Vec::<String>::new());
}

#[test]
fn detects_renumbering_and_removal() {
    let old = "op 1 Useless size=40\nop 2 GetPid size=32\n";
    let new = "op 1 Useless size=40\nop 3 GetPid size=32\n";
    let problems = incompatibilities(old, new);
    assert!(
        problems.iter().any(|p| p.contains("operation 2 (GetPid) was removed")),
        "{problems:?}"
    );
}

#[test]
fn detects_a_changed_common_layout() {
    let old = "header size@0:u32 op@4:u32\nop 1 Useless size=40\n";
    let new = "header op@0:u32 size@4:u32\nop 1 Useless size=40\n";
    assert!(!incompatibilities(old, new).is_empty());
}

#[test]
fn a_legacy_twin_once_given_stays() {
    let old = "op 2 GetPid size=32\n  twin 39 getpid()\n";
    let gained =
        "op 2 GetPid size=32\n  twin 39 getpid()\nop 3 GetPpid size=32\n  twin 110 getppid()\n";
    assert_eq!(incompatibilities(old, gained), Vec::<String>::new());
    let changed = "op 2 GetPid size=32\n  twin 110 getppid()\n";
    let problems = incompatibilities(old, changed);
    assert!(
        problems.iter().any(|p| p.contains("legacy twin `39 getpid()` changed")),
        "{problems:?}"
    );
    let lost = "op 2 GetPid size=32\n";
    assert!(!incompatibilities(old, lost).is_empty());
    // An operation without a twin may gain one (a policy then sees it as that call).
    let old = "op 4 Write size=56\n";
    let new = "op 4 Write size=56\n  twin 1 write(fd,buf)\n";
    assert_eq!(incompatibilities(old, new), Vec::<String>::new());
}
