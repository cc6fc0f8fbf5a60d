//! Processes and threads: `fork` keeps the opt-in, threads share it, `execve` clears it,
//! and a typed `Exit` ends every thread of the process.

use std::process::Command;

use ferrocall_guest::{
    check, expect_eq, ferrocall_status, in_child, nr, syscall, Ended, Outcome, Test,
};

use crate::common::SELF;

fn fork_keeps_the_opt_in() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    let pid = syscall(nr::FORK, [0; 6]).map_err(|e| format!("fork: {e}"))?;
    if pid == 0 {
        // The child: only raw calls, then leave.
        let ok = ferrocall_status() == Ok(1) && ferrocall::useless(5) == Ok(20);
        let _ = syscall(nr::EXIT_GROUP, [if ok { 0 } else { 1 }, 0, 0, 0, 0, 0]);
        unreachable!();
    }
    let mut status = 0i32;
    syscall(nr::WAIT4, [pid, &mut status as *mut i32 as u64, 0, 0, 0, 0])
        .map_err(|e| format!("wait4: {e}"))?;
    expect_eq("child exit status (0: opted in, Useless worked)", status, 0)
}

fn threads_share_the_opt_in() -> Outcome {
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            std::thread::spawn(move || {
                (0..200u32).all(|i| ferrocall::useless(t * 1000 + i) == Ok(t * 1000 + i + 15))
            })
        })
        .collect();
    let all = handles.into_iter().all(|h| h.join().unwrap_or(false));
    check(all, || "a thread got a wrong answer".into())
}

fn exec_clears_the_opt_in() -> Outcome {
    let out = Command::new(SELF).arg("--status").output().map_err(|e| e.to_string())?;
    expect_eq("status after execve", String::from_utf8_lossy(&out.stdout).trim(), "0")
}

fn exit_ends_the_process() -> Outcome {
    let (ended, _) = in_child(|| ferrocall::exit(42)).map_err(|e| e.to_string())?;
    expect_eq("exit(42)", ended, Ended::Exited(42))?;
    let (ended, _) = in_child(|| ferrocall::exit(0x1ff)).map_err(|e| e.to_string())?;
    expect_eq("exit(0x1ff)", ended, Ended::Exited(0xff))?;
    // Every thread ends, not just the caller.
    let (ended, _) = in_child(|| {
        let _ = std::thread::spawn(|| loop {
            std::thread::park();
        });
        ferrocall::exit(7)
    })
    .map_err(|e| e.to_string())?;
    expect_eq("exit with another thread", ended, Ended::Exited(7))
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("exit_ends_the_process", exit_ends_the_process),
    ("fork_keeps_the_opt_in", fork_keeps_the_opt_in),
    ("threads_share_the_opt_in", threads_share_the_opt_in),
    ("exec_clears_the_opt_in", exec_clears_the_opt_in),
];
