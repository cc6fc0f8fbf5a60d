// SPDX-License-Identifier: MIT OR Apache-2.0

//! Writes into one end of a connected socket pair and reads it back from the other with
//! the typed `Write` and `Read` (or their legacy twins on a kernel without ferrocall).
//!
//! ```sh
//! cargo run -p ferrocall --example pipe
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (writer, reader) = std::os::unix::net::UnixStream::pair()?;
    let sent = ferrocall::write(&writer, b"through a socket pair")?;
    let mut buf = [0u8; 64];
    let got = ferrocall::read(&reader, &mut buf)?;
    println!("wrote {sent} bytes, read {got}: {:?}", String::from_utf8_lossy(&buf[..got]));
    Ok(())
}
