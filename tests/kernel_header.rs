//! The C side's numbers (`include/uapi/linux/ferrocall.h`, a file the patch series adds
//! from `kernel/src/`) must be the ABI's. The kernel build checks the same at compile time
//! through bindgen; this test catches a mismatch without building a kernel.

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
