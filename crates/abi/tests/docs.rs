//! `docs/abi.md` cannot drift: its generated tables must equal what the operation table
//! renders to (`FERROCALL_BLESS=1 cargo test -p ferrocall-abi` rewrites them).

mod common;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/abi.md");

fn replace_section(doc: &str, name: &str, body: &str) -> String {
    let begin = format!("<!-- BEGIN GENERATED {name} -->\n");
    let end = format!("<!-- END GENERATED {name} -->");
    let start = doc.find(&begin).unwrap_or_else(|| panic!("docs/abi.md lacks `{}`", begin.trim()))
        + begin.len();
    let stop =
        doc[start..].find(&end).unwrap_or_else(|| panic!("docs/abi.md lacks `{end}`")) + start;
    format!("{}{}{}", &doc[..start], body, &doc[stop..])
}

#[test]
fn abi_doc_matches_the_table() {
    let doc = std::fs::read_to_string(DOC).expect("docs/abi.md");
    let mut want = replace_section(&doc, "ops", &common::ops_table());
    want = replace_section(&want, "errnos", &common::errno_table());
    want = replace_section(&want, "snapshot", &format!("```text\n{}```\n", common::snapshot()));
    if std::env::var_os("FERROCALL_BLESS").is_some() {
        std::fs::write(DOC, &want).expect("write docs/abi.md");
        return;
    }
    assert!(
        doc == want,
        "docs/abi.md is out of date: run FERROCALL_BLESS=1 cargo test -p ferrocall-abi"
    );
}
