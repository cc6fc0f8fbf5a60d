//! The C side (`include/uapi/linux/ferrocall.h`, a file the patch series adds from
//! `kernel/src/`) must be the ABI's: its numbers are checked here (and by the kernel build,
//! through bindgen), and its operation numbers, sizes and layouts are generated from the
//! operation table (`FERROCALL_BLESS=1 cargo test -p ferrocall-repo-tests` rewrites them).

#[path = "../crates/abi/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

const HEADER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../kernel/src/include/uapi/linux/ferrocall.h");

fn header_defines() -> BTreeMap<String, u64> {
    let mut defines = BTreeMap::new();
    for line in std::fs::read_to_string(HEADER).expect("the uapi header").lines() {
        let Some(def) = line.strip_prefix('#') else { continue };
        let Some(def) = def.trim_start().strip_prefix("define") else { continue };
        let mut words = def.split_whitespace();
        if let (Some(name), Some(value)) = (words.next(), words.next()) {
            let value = match value.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => value.parse(),
            };
            if let Ok(v) = value {
                defines.insert(name.to_string(), v);
            }
        }
    }
    defines
}

#[test]
fn uapi_header_matches_the_abi() {
    let d = header_defines();
    let want = [
        ("PR_FERROCALL", u64::from(ferrocall_abi::PR_FERROCALL)),
        ("PR_FERROCALL_ENABLE", ferrocall_abi::PR_FERROCALL_ENABLE),
        ("PR_FERROCALL_STATUS", ferrocall_abi::PR_FERROCALL_STATUS),
        ("FERROCALL_ABI_VERSION", u64::from(ferrocall_abi::ABI_VERSION)),
        ("__NR_ferrocall", u64::from(ferrocall_abi::SYSCALL_NR)),
        ("FERROCALL_MIN_ADDR", ferrocall_abi::MIN_ADDR),
    ];
    for (name, value) in want {
        assert_eq!(
            d.get(name),
            Some(&value),
            "{name} in include/uapi/linux/ferrocall.h vs the ABI crate (found {d:?})"
        );
    }
}

#[test]
fn uapi_header_layouts_are_generated_from_the_table() {
    let header = std::fs::read_to_string(HEADER).expect("the uapi header");
    let begin = "/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */\n";
    let end = "/* END GENERATED */";
    let start = header.find(begin).expect("the header's generated section") + begin.len();
    let stop = header[start..].find(end).expect("the end of the generated section") + start;
    let want = format!("{}{}{}", &header[..start], common::uapi_section(), &header[stop..]);
    if std::env::var_os("FERROCALL_BLESS").is_some() {
        std::fs::write(HEADER, &want).expect("write the uapi header");
        return;
    }
    assert!(
        header == want,
        "include/uapi/linux/ferrocall.h is out of date with the operation table: run FERROCALL_BLESS=1 cargo test -p ferrocall-repo-tests"
    );
}
