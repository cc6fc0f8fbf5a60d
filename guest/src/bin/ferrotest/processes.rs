//! Processes and threads: `fork` keeps the opt-in, threads share it, `execve` clears it,
//! and a typed `Exit` ends every thread of the process; administrators see who opted in
//! (`/proc/PID/status`) and choose who may (`kernel.ferrocall_enabled`).

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

/// The value of the `Ferrocall:` line of `/proc/<pid>/status` (`pid` may be `self`).
fn status_line(pid: &str) -> Result<String, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("Ferrocall:"))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("{path} has no Ferrocall: line"))
}

/// `ferrotest --try-enable`: in this fresh process, prints its `Ferrocall:` status line, the
/// result of opting in, the line again, and whether the library's `getpid()` still answers
/// (typed, or by its legacy fallback when the opt-in was refused).
pub fn try_enable() {
    ferrocall::set_backend(ferrocall::Backend::Auto);
    let before = status_line("self").unwrap_or_else(|e| e);
    let enabled = match ferrocall::enable() {
        Ok(_) => "ok".to_string(),
        Err(e) => e.name().unwrap_or("?").to_string(),
    };
    let after = status_line("self").unwrap_or_else(|e| e);
    let getpid = ferrocall::getpid() == Ok(std::process::id());
    println!("{before} {enabled} {after} getpid:{getpid}");
}

/// Runs `ferrotest --try-enable` as user `uid` (forked, `setuid`, `execve`: raw calls, as
/// the test kernel has no `AF_UNIX`, which `std`'s spawn with a uid wants); returns what it
/// printed.
fn try_enable_as(uid: u32) -> Result<String, String> {
    let argv = [
        c"/bin/ferrotest".as_ptr().cast::<u8>(),
        c"--try-enable".as_ptr().cast(),
        core::ptr::null(),
    ];
    let (ended, out) = in_child(|| {
        if syscall(nr::SETUID, [u64::from(uid), 0, 0, 0, 0, 0]).is_err() {
            return 100;
        }
        let _ = ferrocall_guest::exec_argv(&argv);
        101
    })
    .map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out).trim().to_string();
    expect_eq(&format!("{SELF} --try-enable as uid {uid} ({out})"), ended, Ended::Exited(0))?;
    Ok(out)
}

fn proc_status_shows_who_opted_in() -> Outcome {
    ferrocall::enable().map_err(|e| e.to_string())?;
    expect_eq("this process, opted in", status_line("self")?, "1".to_string())?;
    let pid = std::process::id().to_string();
    expect_eq("this process, by its pid", status_line(&pid)?, "1".to_string())?;
    // A fresh process has not opted in until its prctl.
    expect_eq("a fresh process", try_enable_as(0)?, "0 ok 1 getpid:true".to_string())
}

/// The sysctl that decides who may opt in.
const ENABLED: &str = "/proc/sys/kernel/ferrocall_enabled";

/// Sets `kernel.ferrocall_enabled`; `Err` with the write's error.
fn set_enabled(value: &str) -> Result<(), std::io::Error> {
    std::fs::write(ENABLED, value)
}

fn the_sysctl_decides_who_may_opt_in() -> Outcome {
    const NOBODY: u32 = 65534;
    let boot = std::fs::read_to_string(ENABLED).map_err(|e| format!("{ENABLED}: {e}"))?;
    expect_eq("the boot value (CONFIG_FERROCALL_DEFAULT_ENABLED)", boot.trim(), "2")?;
    let result = (|| -> Outcome {
        for (value, root, nobody) in [
            ("2", "0 ok 1 getpid:true", "0 ok 1 getpid:true"),
            ("1", "0 ok 1 getpid:true", "0 EPERM 0 getpid:true"),
            ("0", "0 EPERM 0 getpid:true", "0 EPERM 0 getpid:true"),
        ] {
            set_enabled(value).map_err(|e| format!("{ENABLED} = {value}: {e}"))?;
            expect_eq(&format!("{value}: root"), try_enable_as(0)?, root.to_string())?;
            expect_eq(&format!("{value}: nobody"), try_enable_as(NOBODY)?, nobody.to_string())?;
        }
        // Only new opt-ins: this process opted in before, keeps its typed calls, and may
        // ask again.
        expect_eq("enable again after 0", ferrocall::enable().is_ok(), true)?;
        expect_eq("a typed call after 0", ferrocall::useless(1), Ok(16))?;
        // Values outside 0..=2 are refused.
        let three = set_enabled("3").map_err(|e| e.raw_os_error());
        expect_eq("writing 3", three, Err(Some(libc::EINVAL)))
    })();
    set_enabled(boot.trim()).map_err(|e| format!("restoring {ENABLED}: {e}"))?;
    result
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("exit_ends_the_process", exit_ends_the_process),
    ("fork_keeps_the_opt_in", fork_keeps_the_opt_in),
    ("threads_share_the_opt_in", threads_share_the_opt_in),
    ("exec_clears_the_opt_in", exec_clears_the_opt_in),
    ("proc_status_shows_who_opted_in", proc_status_shows_who_opted_in),
    ("the_sysctl_decides_who_may_opt_in", the_sysctl_decides_who_may_opt_in),
];
