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
            let value = value.trim_end_matches(['U', 'L']);
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

/// Checks (or, with `FERROCALL_BLESS`, rewrites) the generated section of the C file `path`
/// (under `kernel/src/`): `section`, between its C comment markers.
fn check_generated(path: &str, section: &str) {
    let file = format!("{}/../kernel/src/{path}", env!("CARGO_MANIFEST_DIR"));
    let begin = "/* BEGIN GENERATED from the ABI table: FERROCALL_BLESS=1 cargo test */\n";
    let end = "/* END GENERATED */";
    common::check_generated_file(&file, path, |text| {
        common::replace_between(text, path, begin, end, section)
    });
}

#[test]
fn uapi_header_layouts_are_generated_from_the_table() {
    check_generated("include/uapi/linux/ferrocall.h", &common::uapi_section());
}

#[test]
fn the_entry_codes_twin_table_is_generated_from_the_table() {
    check_generated("include/linux/ferrocall_entry.h", &common::twins_section());
}

/// The entry code's fast path (the table of `<linux/ferrocall_entry.h>`, read as its
/// `ferrocall_enter()` reads it) builds exactly the registers the Rust decoder builds, and
/// refuses exactly the requests whose padding it refuses, for random argument words of
/// every operation with a twin.
#[test]
fn the_twin_table_builds_the_registers_the_decoder_builds() {
    use ferrocall_abi::decode::{decode_lone, plan};
    let mut next = common::xorshift(0x9e37_79b9_7f4a_7c15);
    for op in
        ferrocall_abi::Op::ALL.iter().copied().filter(|op| common::twin_sources(*op).is_some())
    {
        let size = op.request_size();
        let plan = plan(op.raw().into(), size as u64, 4096).expect("a plan");
        for round in 0..2000 {
            let (_, padding) = common::twin_sources(op).expect("a twin");
            let words: Vec<u64> = padding
                .iter()
                .map(|pad| match (round % 2, next()) {
                    // Padding zero half the time, so that both outcomes are common.
                    (0, w) => w & !pad,
                    (_, w) => w,
                })
                .collect();
            let mut bytes = vec![0u8; size];
            bytes[..4].copy_from_slice(&(size as u32).to_le_bytes());
            bytes[4..8].copy_from_slice(&op.raw().to_le_bytes());
            for (i, w) in words.iter().enumerate() {
                let at = ferrocall_abi::Request::<()>::ARGS_OFFSET + 8 * i;
                bytes[at..at + 8].copy_from_slice(&w.to_le_bytes());
            }
            let decoded = decode_lone(&plan, &bytes)
                .ok()
                .and_then(|(call, _)| call.twin_call(0x1000))
                .map(|(nr, args)| (nr, args.regs));
            assert_eq!(
                common::twin_registers_from_words(op, &words),
                decoded,
                "{op:?} with argument words {words:x?}"
            );
        }
    }
}
