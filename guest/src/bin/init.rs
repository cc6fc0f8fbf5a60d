//! `/init` of the test VM: runs the programs named on the kernel command line (after `--`,
//! separated by `::`), one after the other, reports how they ended on a line `cargo xtask`
//! looks for (the first non-zero status, else 0), and restarts the machine, which makes QEMU
//! (started with `-no-reboot`) exit.

use std::process::Command;

use ferrocall_guest::{nr, syscall};

/// The line `cargo xtask` reads the guest's verdict from.
const VERDICT: &str = "ferrocall-guest-exit:";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    mount_proc();
    let mut code = 0;
    if args.is_empty() {
        eprintln!("init: no program to run; put it after `--` on the kernel command line");
        code = 127;
    }
    for command in args.split(|a| a == "::").filter(|c| !c.is_empty()) {
        let status = run(command);
        if code == 0 {
            code = status;
        }
    }
    println!("{VERDICT} {code}");
    restart();
}

/// Runs one command and returns its exit status (128 if a signal killed it, 127 if it could
/// not start).
fn run(command: &[String]) -> i32 {
    let (program, rest) = command.split_first().expect("commands are not empty");
    match Command::new(program).args(rest).status() {
        Ok(status) => status.code().unwrap_or_else(|| {
            eprintln!("init: {program} was killed: {status}");
            128
        }),
        Err(e) => {
            eprintln!("init: cannot run {program}: {e}");
            127
        }
    }
}

/// Mounts procfs on `/proc`, as a system's init does: the tests read `/proc/PID/status` and
/// `/proc/sys`. A failure is reported and the programs still run (the tests that need
/// `/proc` then say what is missing).
fn mount_proc() {
    if let Err(e) = std::fs::create_dir_all("/proc") {
        eprintln!("init: cannot create /proc: {e}");
        return;
    }
    // SAFETY: plain C strings; mounting procfs touches no memory of ours afterwards.
    let mounted = unsafe {
        libc::mount(c"proc".as_ptr(), c"/proc".as_ptr(), c"proc".as_ptr(), 0, core::ptr::null())
    };
    if mounted != 0 {
        eprintln!("init: cannot mount /proc: {}", std::io::Error::last_os_error());
    }
}

/// `reboot(LINUX_REBOOT_CMD_RESTART)`; with `-no-reboot`, QEMU exits instead.
fn restart() -> ! {
    const MAGIC1: u64 = 0xfee1_dead;
    const MAGIC2: u64 = 672_274_793;
    const CMD_RESTART: u64 = 0x0123_4567;
    let r = syscall(nr::REBOOT, [MAGIC1, MAGIC2, CMD_RESTART, 0, 0, 0]);
    eprintln!("init: reboot failed: {r:?}");
    loop {
        std::thread::park();
    }
}
