//! Repository-level checks, kept apart from the published crates because they read files
//! outside them: `docs/abi.md`'s and the README's generated tables (`docs.rs`), and the
//! kernel's uapi header against the ABI (`kernel_header.rs`). Regenerate what they check
//! with `FERROCALL_BLESS=1 cargo test --workspace`.
