//! Build steps of the guest programs, on the host:
//!
//! - `hello` has its own entry point and no libc: on the musl guest target, tell the linker
//!   to start it at `hello_start`, so musl's start code never runs, and link it as a plain
//!   static executable;
//! - a container runtime's default seccomp profile (`crates/seccomp/profiles/`, JSON) is
//!   compiled to classic BPF with `ferrocall_seccomp::oci`, for x86_64 numbers from the
//!   build machine's kernel headers, into `$OUT_DIR/containers-common.bpf` (the guest test
//!   `a_container_profile_judges_typed_calls_as_their_twins` installs it).

use std::path::Path;

use ferrocall_seccomp::oci;

/// The profile, from this crate's folder.
const PROFILE: &str = "../crates/seccomp/profiles/containers-common.json";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={PROFILE}");
    println!("cargo:rerun-if-changed={}", oci::UNISTD_64);
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        // Not position-independent either: nothing may need relocating before it runs.
        for arg in ["-Wl,-e,hello_start", "-static", "-no-pie"] {
            println!("cargo:rustc-link-arg-bin=hello={arg}");
        }
    }
    if let Err(why) = compile_profile() {
        eprintln!("ferrocall-guest: {why}");
        std::process::exit(1);
    }
}

/// Compiles the profile into `$OUT_DIR/containers-common.bpf` (`struct sock_filter`s), and
/// with a first rule admitting number 1023 into `containers-common-ferrocall.bpf`.
fn compile_profile() -> Result<(), String> {
    let json = std::fs::read_to_string(PROFILE).map_err(|e| format!("{PROFILE}: {e}"))?;
    let numbers = oci::system_syscall_numbers().map_err(|e| e.to_string())?;
    let profile =
        oci::compile(&json, &numbers, oci::DEFAULT_CAPS).map_err(|e| format!("{PROFILE}: {e}"))?;
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    // As it is, and with one rule first that admits typed calls' number 1023 (the bench).
    let admit = ferrocall_seccomp::syscall(1023).then(ferrocall_seccomp::Action::Allow);
    for (name, first) in
        [("containers-common.bpf", None), ("containers-common-ferrocall.bpf", Some(admit))]
    {
        let program = profile.filter(first).compile().map_err(|e| format!("{PROFILE}: {e:?}"))?;
        let path = Path::new(&out).join(name);
        std::fs::write(&path, ferrocall_seccomp::to_bytes(&program))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
