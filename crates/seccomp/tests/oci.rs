//! The default profile of a container runtime (`profiles/containers-common.json`), compiled
//! with `ferrocall_seccomp::oci`, judges calls as the runtime means it to: checked with the
//! interpreter, on x86_64 numbers from the system's kernel headers.

#![cfg(feature = "oci")]

use std::collections::BTreeMap;

use ferrocall_abi::{Errno, Op, SYSCALL_NR};
use ferrocall_seccomp::oci::{compile, system_syscall_numbers, Profile, DEFAULT_CAPS};
use ferrocall_seccomp::{arg, interp, syscall, Action, SeccompData};

const PROFILE: &str = include_str!("../profiles/containers-common.json");

fn numbers() -> BTreeMap<String, u32> {
    system_syscall_numbers().unwrap_or_else(|e| panic!("{e}"))
}

fn profile() -> Profile {
    compile(PROFILE, &numbers(), DEFAULT_CAPS).expect("the profile compiles")
}

fn verdict(program: &[ferrocall_seccomp::SockFilter], nr: u32, args: [u64; 6]) -> Action {
    let ret = interp::run(program, &SeccompData::new(nr as i32, args)).expect("the program runs");
    Action::from_ret(ret)
}

#[test]
fn the_container_profile_judges_as_the_runtime_means() {
    let numbers = numbers();
    let nr = |name: &str| numbers[name];
    let profile = profile();
    assert_eq!(profile.default, Action::errno(Errno::ENOSYS), "defaultErrnoRet 38");
    let program = profile.filter([]).compile().expect("it compiles to BPF");
    assert!(program.len() < 4096, "{} instructions", program.len());
    interp::check(&program).expect("the kernel's checker would accept it");
    for allowed in ["getpid", "getppid", "getuid", "write", "read", "getcwd", "openat2"] {
        assert_eq!(verdict(&program, nr(allowed), [0; 6]), Action::Allow, "{allowed}");
    }
    // Without CAP_SYS_ADMIN, bpf() is EPERM; an unknown call is the default, ENOSYS.
    assert_eq!(verdict(&program, nr("bpf"), [0; 6]), Action::errno(Errno::EPERM));
    assert_eq!(verdict(&program, 1000, [0; 6]), Action::errno(Errno::ENOSYS));
    // Rules with argument conditions: personality(0) only among those values; audit
    // sockets (AF_NETLINK = 16, NETLINK_AUDIT = 9) refused with EINVAL without
    // CAP_AUDIT_WRITE, other sockets allowed.
    assert_eq!(verdict(&program, nr("personality"), [0; 6]), Action::Allow);
    assert_eq!(verdict(&program, nr("personality"), [1, 0, 0, 0, 0, 0]), profile.default);
    assert_eq!(verdict(&program, nr("socket"), [16, 3, 9, 0, 0, 0]), Action::Errno(22));
    assert_eq!(verdict(&program, nr("socket"), [2, 1, 0, 0, 0, 0]), Action::Allow);
    // Typed calls without a twin and batches (1023) are unknown to it.
    assert_eq!(
        verdict(&program, SYSCALL_NR, [Op::Useless as u64, 40, 0, 0, 0, 0]),
        profile.default
    );
    // With CAP_SYS_ADMIN, bpf() is allowed.
    let admin = compile(PROFILE, &numbers, &[DEFAULT_CAPS, &["CAP_SYS_ADMIN"]].concat()).unwrap();
    let program = admin.filter([]).compile().unwrap();
    assert_eq!(verdict(&program, nr("bpf"), [0; 6]), Action::Allow);
    // The names left out are other architectures' calls, or calls x86_64 does not have.
    assert!(profile.skipped.iter().any(|n| n == "_llseek"), "{:?}", profile.skipped);
    assert!(!profile.skipped.iter().any(|n| n == "write"));
}

/// The one rule that admits typed calls without a twin and batches, put before the
/// profile's: number 1023 allowed; every call with a twin keeps its twin's verdict.
#[test]
fn one_rule_admits_typed_calls_without_a_twin() {
    let numbers = numbers();
    let admit = syscall(SYSCALL_NR).when(arg(0).ne(0)).then(Action::Allow);
    let program = profile().filter([admit]).compile().unwrap();
    for op in [Op::Useless, Op::Batch, Op::PackedBatch] {
        assert_eq!(verdict(&program, SYSCALL_NR, [op as u64, 48, 0, 0, 0, 0]), Action::Allow);
    }
    assert_eq!(verdict(&program, numbers["bpf"], [0; 6]), Action::errno(Errno::EPERM));
}

#[test]
fn profile_errors_say_where() {
    let numbers = numbers();
    let bad = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["write"], "action": "SCMP_ACT_SOMETIMES"}]}"#;
    let e = compile(bad, &numbers, &[]).unwrap_err().to_string();
    assert!(e.contains("syscalls[1]") && e.contains("SCMP_ACT_SOMETIMES"), "{e}");
    let e = compile("{", &numbers, &[]).unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
    let bad_arg = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#;
    let e = compile(bad_arg, &numbers, &[]).unwrap_err().to_string();
    assert!(e.contains("argument index 6"), "{e}");
}
