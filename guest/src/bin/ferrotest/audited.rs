//! The `--audit` suite: audit enabled, with rules, in a boot of its own (enabling audit lasts
//! until the machine stops). A typed call with a legacy twin is audited as that twin, lone
//! or inside a batch; a batch runs under audit (it used to be refused) and keeps a record of
//! its own; and no warning comes from audit's one-record-per-call rule (the boot's log is
//! checked for warnings by the runner).

use std::time::Duration;

use ferrocall::abi::{ops, Op};
use ferrocall::{Borrowed, PackedBatch};
use ferrocall_guest::audit::{field, Audit};
use ferrocall_guest::{check, expect_eq, fd, in_child, nonblocking_pipe, nr, Ended, Outcome, Test};

use crate::common::close;

/// One syscall record: its `syscall`, `a0` and `exit` fields.
type Record = (u64, String, String);

/// What audit recorded for a child that makes a lone typed `Write`, then a packed batch of
/// `GetPid`, `Write` and `Useless`, under a rule on `write`, `getpid` and `ferrocall` (1023):
/// each record's `syscall`, `a0` and `exit`, in order.
fn records_of_a_child() -> Result<(Vec<Record>, Ended), String> {
    let mut audit = Audit::enable()?;
    let nrs = [nr::WRITE as u32, nr::GETPID as u32, ferrocall::abi::SYSCALL_NR];
    audit.record_syscalls(&nrs, std::process::id())?;
    // A child made after audit was enabled has an audit context (this process has none).
    let (ended, _) = in_child(|| {
        let Ok((r, w)) = nonblocking_pipe() else { return 99 };
        let writer = fd(w);
        let lone = ferrocall::write(writer, b"lone");
        let mut packed = PackedBatch::<3>::new();
        let _ = packed.push(ops::GetPidArgs {});
        let _ = packed.push_borrowed(Borrowed::write(&writer, b"in a batch"));
        let _ = packed.push(ops::UselessArgs { value: 1, ..Default::default() });
        let ran = ferrocall::packed_batch(&mut packed);
        close(r);
        close(w);
        i32::from(lone != Ok(4)) | i32::from(ran != Ok(3)) << 1
    })
    .map_err(|e| e.to_string())?;
    let records = audit.syscall_records(Duration::from_millis(500))?;
    let parsed = records
        .iter()
        .filter_map(|r| {
            let syscall = field(r, "syscall")?.parse().ok()?;
            Some((syscall, field(r, "a0")?.to_string(), field(r, "exit")?.to_string()))
        })
        .collect();
    Ok((parsed, ended))
}

/// Typed calls are audited as their twins, inside a batch too, and the batch runs.
fn audit_records_typed_calls_as_their_twins() -> Outcome {
    let (records, ended) = records_of_a_child()?;
    expect_eq("the child's failure bits", ended, Ended::Exited(0))?;
    let shown: Vec<String> = records
        .iter()
        .map(|(nr, a0, exit)| match *nr {
            1023 => format!("ferrocall(op {a0}) = {exit}"),
            nr => format!("{nr}() = {exit}"),
        })
        .collect();
    let op = |op: Op| format!("{:x}", op as u32);
    let want = vec![
        // The lone Write, as write(2): 4 bytes.
        "1() = 4".to_string(),
        // The packed batch: its own record until its first call, ...
        format!("ferrocall(op {}) = 0", op(Op::PackedBatch)),
        // ... each of its calls as a lone call would be presented, ...
        format!("{}() = {}", nr::GETPID, records.get(2).map_or("?", |r| r.2.as_str())),
        "1() = 10".to_string(),
        format!("ferrocall(op {}) = 16", op(Op::Useless)),
        // ... and its own record again, ended with its result (answered in place: 0).
        format!("ferrocall(op {}) = 0", op(Op::PackedBatch)),
    ];
    check(shown == want, || format!("audit recorded {shown:#?}, want {want:#?}"))
}

/// The `--audit` suite.
pub const AUDIT_TESTS: &[Test] =
    &[("audit_records_typed_calls_as_their_twins", audit_records_typed_calls_as_their_twins)];
