//! Minimal seccomp-BPF filters for the guest tests: build a program of a few checks on the
//! system call number and its first argument, and install it, or one built with
//! `ferrocall-seccomp`, in the calling thread.

use ferrocall::abi::Errno;

use crate::{nr, syscall};

/// One classic-BPF instruction (`struct sock_filter`), as `ferrocall-seccomp` builds them.
pub use ferrocall_seccomp::SockFilter as Insn;

pub use ferrocall_seccomp::bpf::{
    SECCOMP_RET_ALLOW as ALLOW, SECCOMP_RET_KILL_PROCESS as KILL_PROCESS, SECCOMP_RET_LOG as LOG,
    SECCOMP_RET_TRACE as TRACE, SECCOMP_RET_TRAP as TRAP, SECCOMP_RET_USER_NOTIF as USER_NOTIF,
};
/// `seccomp_data.arch` (and `si_arch` of a SECCOMP_RET_TRAP signal) on x86_64.
pub use ferrocall_seccomp::AUDIT_ARCH_X86_64;

/// `SECCOMP_RET_ERRNO | errno`.
pub const fn errno(e: Errno) -> u32 {
    ferrocall_seccomp::Action::errno(e).to_ret()
}

use ferrocall_seccomp::bpf::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
const JEQ: u16 = BPF_JMP | BPF_JEQ | BPF_K;
const RET: u16 = BPF_RET | BPF_K;

/// A rule: what to answer for system call `nr` (and, if given, first argument `arg0`).
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The system call number.
    pub nr: u32,
    /// The first argument it must have, if any (compared as 64 bits).
    pub arg0: Option<u64>,
    /// The `SECCOMP_RET_*` action.
    pub action: u32,
}

/// Builds a filter: kill on a foreign architecture, apply the first matching rule, else
/// `default`.
pub fn program(rules: &[Rule], default: u32) -> Vec<Insn> {
    let ld = |k: u32| Insn { code: LD_ABS, jt: 0, jf: 0, k };
    let ret = |k: u32| Insn { code: RET, jt: 0, jf: 0, k };
    let mut p =
        vec![ld(4), Insn { code: JEQ, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 }, ret(KILL_PROCESS)];
    for rule in rules {
        // Each rule: load nr; if it differs, skip this rule's instructions.
        match rule.arg0 {
            None => {
                p.push(ld(0));
                p.push(Insn { code: JEQ, jt: 0, jf: 1, k: rule.nr });
                p.push(ret(rule.action));
            }
            Some(arg) => {
                p.push(ld(0));
                p.push(Insn { code: JEQ, jt: 0, jf: 5, k: rule.nr });
                p.push(ld(16)); // args[0], low half
                p.push(Insn { code: JEQ, jt: 0, jf: 3, k: arg as u32 });
                p.push(ld(20)); // args[0], high half
                p.push(Insn { code: JEQ, jt: 0, jf: 1, k: (arg >> 32) as u32 });
                p.push(ret(rule.action));
            }
        }
    }
    p.push(ret(default));
    p
}

/// A filter of one rule, as a service manager's might: `ptrace` fails with `EPERM`,
/// everything else runs. It allows every legacy twin whatever its arguments, which the
/// kernel's action cache records (the bench's filtered case, the mid-batch TSYNC test).
pub fn one_rule_filter() -> Result<Vec<Insn>, String> {
    use ferrocall_seccomp::{Action, Filter};
    const PTRACE: u32 = 101;
    Filter::new(Action::Allow)
        .rule(ferrocall_seccomp::syscall(PTRACE).then(Action::errno(Errno::EPERM)))
        .compile()
        .map_err(|e| e.to_string())
}

/// A filter of `rules` rules, each on its own system call and checking its first
/// argument, as the kernel's `seccomp_benchmark` measures a filter the action cache cannot
/// answer for: the last rule is `getppid`'s, so a `getppid` (typed, or inside a batch) runs
/// every rule before the filter allows it. Nothing the bench makes matches a rule.
pub fn many_rule_filter(rules: u32) -> Result<Vec<Insn>, String> {
    use ferrocall_seccomp::{arg, Action, Filter};
    const GETPPID: u32 = 110;
    // Numbers from 500 up: none is a system call the bench makes (1023 included).
    let others = (0..rules.saturating_sub(1)).map(|i| 500 + i).filter(|&nr| nr != 1023);
    let deny = Action::errno(Errno::EPERM);
    others
        .chain([GETPPID])
        .enumerate()
        .fold(Filter::new(Action::Allow), |filter, (i, nr)| {
            let never = 0xfee1_0000 + i as u64;
            filter.rule(ferrocall_seccomp::syscall(nr).when(arg(0).eq(never)).then(deny))
        })
        .compile()
        .map_err(|e| e.to_string())
}

/// The default seccomp profile of containers/common (Podman, CRI-O, Buildah), compiled to
/// BPF on the host by the build script (`ferrocall_seccomp::oci`), with one rule first
/// that admits typed calls' number 1023, which it does not know (`with_ferrocall`), or as
/// it is.
pub fn container_profile(with_ferrocall: bool) -> Vec<Insn> {
    const AS_IS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/containers-common.bpf"));
    const WITH_FERROCALL: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/containers-common-ferrocall.bpf"));
    let bytes = if with_ferrocall { WITH_FERROCALL } else { AS_IS };
    bytes
        .chunks_exact(8)
        .map(|b| Insn {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect()
}

/// Installs `program` in the calling thread (after `PR_SET_NO_NEW_PRIVS`). Uses only raw
/// system calls, so it is safe between `fork()` and `execve()`.
pub fn install(program: &[Insn]) -> Result<(), Errno> {
    install_with_flags(program, 0)
}

/// `SECCOMP_FILTER_FLAG_TSYNC`: install the filter in every thread of the process.
pub const FILTER_FLAG_TSYNC: u64 = 1;

/// [`install`] with `SECCOMP_FILTER_FLAG_*` `flags`, such as [`FILTER_FLAG_TSYNC`].
pub fn install_with_flags(program: &[Insn], flags: u64) -> Result<(), Errno> {
    install_returning(program, flags).map(drop)
}

/// [`install`] with `SECCOMP_FILTER_FLAG_NEW_LISTENER`: returns the descriptor a supervisor
/// receives the `SECCOMP_RET_USER_NOTIF` notifications of the calling thread on.
pub fn install_with_listener(program: &[Insn]) -> Result<i32, Errno> {
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: u64 = 8;
    install_returning(program, SECCOMP_FILTER_FLAG_NEW_LISTENER).map(|fd| fd as i32)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, program)`: its value.
fn install_returning(program: &[Insn], flags: u64) -> Result<u64, Errno> {
    #[repr(C)]
    struct Fprog {
        len: u16,
        filter: *const Insn,
    }
    let prog = Fprog { len: program.len() as u16, filter: program.as_ptr() };
    const PR_SET_NO_NEW_PRIVS: u64 = 38;
    const SECCOMP: u64 = 317;
    const SECCOMP_SET_MODE_FILTER: u64 = 1;
    syscall(nr::PRCTL, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0])?;
    syscall(SECCOMP, [SECCOMP_SET_MODE_FILTER, flags, &prog as *const Fprog as u64, 0, 0, 0])
}
