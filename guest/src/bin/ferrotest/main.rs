//! The guest test suite: runs inside the VM on the patched kernel and prints one
//! `PASS name` / `FAIL name: why` line per test, then `ferrotest: N passed, N failed`.
//!
//! The process opts in to typed calls on its first typed call. Checks that need a process
//! that has not opted in run in a fresh copy of this program (`ferrotest --legacy`): the
//! opt-in does not survive `execve`.
//!
//! One module per concern, each with its table of tests; `common` holds what several use.

mod batches;
mod common;
mod legacy;
mod malformed;
mod operations;
mod pointers;
mod processes;
mod seccomp;
mod stock;
mod tracing;
mod typed_path;

use ferrocall_guest::{ferrocall_status, run_tests, Test};

/// The main suite, for a process on the patched kernel: the modules' tables in this order.
/// The legacy module comes last: its `legacy_process_suite` runs the `--legacy` suite in a
/// fresh process.
fn main_tests() -> Vec<Test> {
    [
        typed_path::TESTS,
        malformed::TESTS,
        pointers::TESTS,
        operations::TESTS,
        seccomp::TESTS,
        batches::TESTS,
        tracing::TESTS,
        processes::TESTS,
        legacy::TESTS,
    ]
    .concat()
}

fn main() {
    let mode = std::env::args().nth(1);
    let main_tests = main_tests();
    let tests = match mode.as_deref() {
        None => &main_tests[..],
        Some("--legacy") => legacy::LEGACY_TESTS,
        Some("--stock") => stock::STOCK_TESTS,
        Some("--only") => {
            let name = std::env::args().nth(2).unwrap_or_default();
            let all = main_tests.iter().chain(legacy::LEGACY_TESTS).chain(stock::STOCK_TESTS);
            let picked: Vec<Test> =
                all.filter(|(n, _)| n.contains(name.as_str())).copied().collect();
            std::process::exit(i32::from(run_tests(&picked) != 0));
        }
        Some("--trace-target") => {
            tracing::trace_target();
            return;
        }
        Some("--status") => {
            println!("{}", ferrocall_status().unwrap_or(u64::MAX));
            return;
        }
        Some(other) => {
            eprintln!(
                "ferrotest: unknown mode {other}; use no argument, --legacy, --stock or --status"
            );
            std::process::exit(2);
        }
    };
    let failed = run_tests(tests);
    let cases = common::HOSTILE_CASES.load(std::sync::atomic::Ordering::Relaxed);
    if cases > 0 {
        println!("stats: hostile matrix: {cases} cases, each answered with its errno");
    }
    if mode.is_none() {
        println!("ferrotest: {} passed, {} failed", tests.len() - failed, failed);
    }
    std::process::exit(i32::from(failed != 0));
}
