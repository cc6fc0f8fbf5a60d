//! The C side's numbers (`include/uapi/linux/ferrocall.h`, added by the patch series) must
//! be the ABI's. The kernel build checks the same at compile time through bindgen; this
//! test catches a mismatch without building a kernel.

use std::collections::BTreeMap;

fn header_defines() -> BTreeMap<String, u64> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernel/patches");
    let mut defines = BTreeMap::new();
    let mut in_header = false;
    let mut patches: Vec<_> =
        std::fs::read_dir(dir).expect("kernel/patches").flatten().map(|e| e.path()).collect();
    patches.sort();
    for patch in patches {
        for line in std::fs::read_to_string(&patch).expect("patch").lines() {
            if line.starts_with("+++ ") {
                in_header = line.ends_with("include/uapi/linux/ferrocall.h");
            }
            let Some(def) = line.strip_prefix('+').filter(|_| in_header) else {
                continue;
            };
            let def = def.trim_start_matches('#').trim_start();
            let def = def.strip_prefix("define").map(str::trim_start);
            let Some(def) = def.or_else(|| line.strip_prefix("+# define")) else {
                continue;
            };
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
