// SPDX-License-Identifier: MIT OR Apache-2.0

//! The current directory with `GetCwd`, growing the buffer when the call says how much
//! room the path needs.
//!
//! ```sh
//! cargo run -p ferrocall --example getcwd
//! ```

use ferrocall::FillError;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut buf = vec![0u8; 8];
    let len = loop {
        match ferrocall::getcwd(&mut buf) {
            Ok(len) => break len,
            // Too small: the error says how large the buffer must be.
            Err(FillError::TooSmall(needed)) => buf.resize(needed, 0),
            Err(e) => return Err(e.into()),
        }
    };
    // The path comes with its NUL.
    let path = String::from_utf8_lossy(&buf[..len.saturating_sub(1)]);
    println!("{path}");
    Ok(())
}
