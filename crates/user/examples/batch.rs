// SPDX-License-Identifier: MIT OR Apache-2.0

//! Several calls in one kernel entry with a `PackedBatch` (one by one, as legacy calls, on
//! a kernel without ferrocall: the same answers).
//!
//! ```sh
//! cargo run -p ferrocall --example batch
//! ```

use ferrocall::abi::ops::{GetPidArgs, GetPpidArgs, GetUidArgs};
use ferrocall::PackedBatch;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut batch: PackedBatch<3> = PackedBatch::new();
    let pid = batch.push(GetPidArgs {})?;
    let ppid = batch.push(GetPpidArgs {})?;
    let uid = batch.push(GetUidArgs {})?;
    let ran = ferrocall::packed_batch(&mut batch)?;
    println!("{ran} calls in one batch");
    println!(
        "pid {:?}, ppid {:?}, uid {:?}",
        batch.answer(pid),
        batch.answer(ppid),
        batch.answer(uid)
    );
    Ok(())
}
