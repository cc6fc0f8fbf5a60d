//! Repository-level checks, kept apart from the published crates because they read files
//! outside them or need the `std` feature: `docs/abi.md`'s and the README's generated tables
//! (`docs.rs`), the kernel's uapi header against the ABI (`kernel_header.rs`), and the error
//! types against the kernel's errno headers and `?` into `Box<dyn Error>`/`io::Error`
//! (`errors.rs`). Regenerate what they check
//! with `FERROCALL_BLESS=1 cargo test --workspace`.
