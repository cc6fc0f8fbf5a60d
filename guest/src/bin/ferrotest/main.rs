//! The guest test suite: runs inside the VM on the patched kernel and prints one
//! `PASS name` / `FAIL name: why` line per test, then `ferrotest: N passed, N failed`.
//!
//! The process opts in to typed calls on its first typed call. Checks that need a process
//! that has not opted in run in a fresh copy of this program (`ferrotest --legacy`): the
//! opt-in does not survive `execve`.
//!
//! ```text
//! ferrotest                  the main suite (on the patched kernel)
//! ferrotest --legacy         the legacy suite, in a process that never opted in
//! ferrotest --stock          the suite for a kernel without ferrocall
//! ferrotest --audit          the audit suite, in a boot of its own (audit stays enabled)
//! ferrotest --list           the names of every suite's tests
//! ferrotest [--legacy | --stock] --only NAME [--allow-no-match]
//!                            only the tests whose name contains NAME
//! ```
//!
//! One module per concern, each with its table of tests; `common` holds what several use.

mod audited;
mod batches;
mod common;
mod fallback;
mod legacy;
mod malformed;
mod open;
mod operations;
mod pointers;
mod processes;
mod seccomp;
mod stock;
mod stops;
mod tracing;
mod typed_path;

use ferrocall_guest::{ferrocall_status, list_tests, run_tests, Selection, Test};

use audited::AUDIT_TESTS;
use legacy::{LEGACY_PREFIX, LEGACY_TESTS};
use stock::STOCK_TESTS;

/// The main suite, for a process on the patched kernel: the modules' tables in this order.
/// The legacy module comes last: its `legacy_process_suite` runs the `--legacy` suite in a
/// fresh process.
fn main_tests() -> Vec<Test> {
    [
        typed_path::TESTS,
        malformed::TESTS,
        pointers::TESTS,
        operations::TESTS,
        open::TESTS,
        seccomp::TESTS,
        batches::TESTS,
        stops::TESTS,
        tracing::TESTS,
        processes::TESTS,
        fallback::TESTS,
        legacy::TESTS,
    ]
    .concat()
}

/// Which suite a run is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Suite {
    Main,
    Legacy,
    Stock,
    Audit,
}

const USAGE: &str = "use no argument (the main suite), --legacy, --stock, --audit, --list, \
                     --only NAME [--allow-no-match] (with --legacy, --stock or --audit: in that \
                     suite), \
                     --status, --try-enable or --trace-target";

fn main() {
    // The suites test the kernel's typed path: a wrapper must never quietly make its legacy
    // twin instead. The tests of the library's fallback choose it themselves.
    ferrocall::set_backend(ferrocall::Backend::TypedOnly);
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let selection = Selection::take(&mut args).unwrap_or_else(|why| usage_error(&why));
    let suite = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => Suite::Main,
        ["--legacy"] => Suite::Legacy,
        ["--stock"] => Suite::Stock,
        ["--audit"] => Suite::Audit,
        ["--trace-target"] => return tracing::trace_target(),
        ["--status"] => return println!("{}", ferrocall_status().unwrap_or(u64::MAX)),
        ["--try-enable"] => return processes::try_enable(),
        other => usage_error(&format!("unknown arguments {other:?}")),
    };
    if selection.list {
        list_tests("ferrotest: the main suite", "", &main_tests());
        list_tests(
            "ferrotest --legacy: in a process that never opted in; the main suite runs it \
             (legacy_process_suite) and shows its tests as legacy/NAME",
            LEGACY_PREFIX,
            LEGACY_TESTS,
        );
        list_tests("ferrotest --stock: on a kernel without ferrocall", "", STOCK_TESTS);
        list_tests("ferrotest --audit: with audit enabled, in a boot of its own", "", AUDIT_TESTS);
        return;
    }
    if selection.only.is_some() {
        run_selected(suite, &selection);
    }
    let main_tests = main_tests();
    let tests = match suite {
        Suite::Main => &main_tests[..],
        Suite::Legacy => LEGACY_TESTS,
        Suite::Stock => STOCK_TESTS,
        Suite::Audit => AUDIT_TESTS,
    };
    let failed = run_tests(tests);
    print_hostile_cases();
    if suite == Suite::Main {
        println!("ferrotest: {} passed, {} failed", tests.len() - failed, failed);
    }
    std::process::exit(i32::from(failed != 0));
}

/// `--only NAME`: runs the selected tests of `suite`, each where it belongs, and exits.
/// In the main suite, selected tests of the legacy suite run in a fresh process (unless
/// `legacy_process_suite`, which runs them all, is selected too); tests of the stock suite
/// need a kernel without ferrocall, so they run only with `--stock`.
fn run_selected(suite: Suite, selection: &Selection) -> ! {
    let pick = |tests: &[Test], prefix: &str| -> Vec<Test> {
        tests
            .iter()
            .filter(|(name, _)| selection.picks(&format!("{prefix}{name}")))
            .copied()
            .collect()
    };
    let name = selection.only.as_deref().unwrap_or_default();
    let failed = match suite {
        Suite::Legacy | Suite::Stock | Suite::Audit => {
            let (tests, prefix) = match suite {
                Suite::Legacy => (LEGACY_TESTS, LEGACY_PREFIX),
                Suite::Audit => (AUDIT_TESTS, ""),
                _ => (STOCK_TESTS, ""),
            };
            let picked = pick(tests, prefix);
            if picked.is_empty() {
                selection.nothing_matched("ferrotest", "");
            }
            let failed = run_tests(&picked);
            print_hostile_cases();
            failed
        }
        Suite::Main => {
            let main = pick(&main_tests(), "");
            let runs_legacy_suite = main.iter().any(|(n, _)| *n == "legacy_process_suite");
            let legacy =
                if runs_legacy_suite { Vec::new() } else { pick(LEGACY_TESTS, LEGACY_PREFIX) };
            let stock = pick(STOCK_TESTS, "").len();
            let stock_note = format!(
                "{stock} test(s) of the stock suite, which run on a kernel without ferrocall: \
                 `ferrotest --stock --only {name}`"
            );
            if main.is_empty() && legacy.is_empty() {
                let why =
                    if stock == 0 { String::new() } else { format!(" here, only {stock_note}") };
                selection.nothing_matched("ferrotest", &why);
            }
            let mut failed = run_tests(&main);
            let mut passed = main.len() - failed;
            let mut broken = false;
            if !legacy.is_empty() {
                match legacy::run_legacy_process(Some(name)) {
                    Ok(run) => {
                        passed += run.passed;
                        failed += run.failures.len();
                        broken = !run.success && run.failures.is_empty();
                        if broken {
                            println!("ferrotest: the legacy process failed: {}", run.status);
                        }
                    }
                    Err(why) => {
                        println!("ferrotest: cannot run the legacy process: {why}");
                        broken = true;
                    }
                }
            }
            print_hostile_cases();
            if stock > 0 {
                println!("ferrotest: not run here, also selected: {stock_note}");
            }
            println!("ferrotest: {passed} passed, {failed} failed");
            failed + usize::from(broken)
        }
    };
    std::process::exit(i32::from(failed != 0));
}

/// The `stats:` line of the hostile-caller matrix, if any case of it ran.
fn print_hostile_cases() {
    let cases = common::HOSTILE_CASES.load(std::sync::atomic::Ordering::Relaxed);
    if cases > 0 {
        println!("stats: hostile matrix: {cases} cases, each answered with its errno");
    }
}

fn usage_error(why: &str) -> ! {
    eprintln!("ferrotest: {why}; {USAGE}");
    std::process::exit(2);
}
