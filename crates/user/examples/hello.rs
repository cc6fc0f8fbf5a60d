// SPDX-License-Identifier: MIT OR Apache-2.0

//! Hello, world! through ferrocall: a typed `Write` where the kernel offers typed calls,
//! the legacy `write` elsewhere.
//!
//! ```sh
//! cargo run -p ferrocall --example hello
//! ```

fn main() {
    match ferrocall::write(std::io::stdout(), b"Hello, world!\n") {
        Ok(_) => {}
        Err(e) => eprintln!("write failed: {e}"),
    }
    eprintln!("(made with the {:?} backend)", ferrocall::backend());
}
