//! The generated parts of `docs/abi.md` and of the README cannot drift: they must equal
//! what the operation table renders to (`FERROCALL_BLESS=1 cargo test -p
//! ferrocall-repo-tests` rewrites them).

#[path = "../crates/abi/tests/common/mod.rs"]
mod common;

const ABI_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/abi.md");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

/// Checks (or, with `FERROCALL_BLESS`, rewrites) the generated sections of `path`: each
/// between `<!-- BEGIN GENERATED name -->` and `<!-- END GENERATED name -->`.
fn check(path: &str, file: &str, sections: &[(&str, String)]) {
    common::check_generated_file(path, file, |doc| {
        sections.iter().fold(doc.to_string(), |text, (name, body)| {
            let begin = format!("<!-- BEGIN GENERATED {name} -->\n");
            let end = format!("<!-- END GENERATED {name} -->");
            common::replace_between(&text, file, &begin, &end, body)
        })
    });
}

#[test]
fn abi_doc_matches_the_table() {
    check(
        ABI_DOC,
        "docs/abi.md",
        &[
            ("ops", common::ops_table()),
            ("ops-prose", common::ops_prose()),
            ("twins", common::twin_table()),
            ("decoded", common::decoded_table()),
            ("errnos", common::errno_table()),
            ("snapshot", format!("```text\n{}```\n", common::snapshot())),
        ],
    );
}

#[test]
fn readme_calls_match_the_table() {
    check(README, "README.md", &[("calls", common::readme_calls())]);
}
