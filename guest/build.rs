//! `hello` has its own entry point and no libc: on the musl guest target, tell the linker
//! to start it at `hello_start`, so musl's start code never runs, and link it as a plain
//! static executable.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        // Not position-independent either: nothing may need relocating before it runs.
        for arg in ["-Wl,-e,hello_start", "-static", "-no-pie"] {
            println!("cargo:rustc-link-arg-bin=hello={arg}");
        }
    }
}
