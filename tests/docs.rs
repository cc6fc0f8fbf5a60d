//! The generated parts of `docs/abi.md` and of the README cannot drift: they must equal
//! what the operation table renders to (`FERROCALL_BLESS=1 cargo test -p
//! ferrocall-repo-tests` rewrites them).

#[path = "../crates/abi/tests/common/mod.rs"]
mod common;

const ABI_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/abi.md");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

fn replace_section(doc: &str, file: &str, name: &str, body: &str) -> String {
    let begin = format!("<!-- BEGIN GENERATED {name} -->\n");
    let end = format!("<!-- END GENERATED {name} -->");
    let start =
        doc.find(&begin).unwrap_or_else(|| panic!("{file} lacks `{}`", begin.trim())) + begin.len();
    let stop = doc[start..].find(&end).unwrap_or_else(|| panic!("{file} lacks `{end}`")) + start;
    format!("{}{}{}", &doc[..start], body, &doc[stop..])
}

/// Checks (or, with `FERROCALL_BLESS`, rewrites) the generated sections of `path`.
fn check(path: &str, file: &str, sections: &[(&str, String)]) {
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut want = doc.clone();
    for (name, body) in sections {
        want = replace_section(&want, file, name, body);
    }
    if std::env::var_os("FERROCALL_BLESS").is_some() {
        std::fs::write(path, &want).unwrap_or_else(|e| panic!("write {file}: {e}"));
        return;
    }
    assert!(
        doc == want,
        "{file} is out of date with the operation table: run FERROCALL_BLESS=1 cargo test -p ferrocall-repo-tests"
    );
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
            ("errnos", common::errno_table()),
            ("snapshot", format!("```text\n{}```\n", common::snapshot())),
        ],
    );
}

#[test]
fn readme_calls_match_the_table() {
    check(README, "README.md", &[("calls", common::readme_calls())]);
}
