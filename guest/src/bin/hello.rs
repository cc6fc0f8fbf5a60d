//! Hello, world! with typed calls only: no libc, no std, no legacy system call after the
//! opt-in. It prints with the typed `Write` and leaves with the typed `Exit`; the guest test
//! `hello_uses_only_typed_calls` runs it under a seccomp filter that kills the process on any
//! other system call.

#![cfg_attr(target_env = "musl", no_std, no_main)]

#[cfg(not(target_env = "musl"))]
fn main() {
    eprintln!("hello is a guest program: build it for x86_64-unknown-linux-musl");
    std::process::exit(2);
}

#[cfg(target_env = "musl")]
use core::panic::PanicInfo;

// The process entry point (the linker is told so with `-e hello_start`): the kernel starts
// it with the stack 16-byte aligned and no return address; make the frame a call would and
// enter Rust.
#[cfg(target_env = "musl")]
core::arch::global_asm!(
    ".globl hello_start",
    "hello_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym hello_main,
);

#[cfg(target_env = "musl")]
extern "C" fn hello_main() -> ! {
    let code = match ferrocall::write(1, b"Hello, world!\n") {
        Ok(14) => 0,
        _ => 1,
    };
    ferrocall::exit(code);
    // The typed Exit failed (a kernel without ferrocall): nothing legacy may run, so stop
    // with an invalid instruction.
    // SAFETY: `ud2` only raises SIGILL; it has no other effect.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}

// rustc links musl's start file, which names these; it is never run (the entry point is
// `hello_start`, and `--gc-sections` drops it), so they only satisfy the linker.
#[cfg(target_env = "musl")]
#[no_mangle]
extern "C" fn main() -> i32 {
    1
}

#[cfg(target_env = "musl")]
#[no_mangle]
extern "C" fn __libc_start_main() -> i32 {
    1
}

#[cfg(target_env = "musl")]
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // SAFETY: `ud2` only raises SIGILL; it has no other effect.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}
