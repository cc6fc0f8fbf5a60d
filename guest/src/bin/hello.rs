//! Hello, world! with typed calls only: no libc, no std, no legacy system call after the
//! opt-in. It prints with the typed `Write` and leaves with the typed `Exit`; the guest test
//! `a_profile_for_the_twins_admits_typed_calls` runs it under a seccomp filter that allows
//! only `execve`, the opt-in and the twins `write` and `exit_group`, and kills the process on
//! any other system call.

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
    // Typed calls or nothing: no legacy fallback for the write.
    ferrocall::set_backend(ferrocall::Backend::TypedOnly);
    let code = match ferrocall::write(ferrocall::fd::stdout(), b"Hello, world!\n") {
        Ok(14) => 0,
        _ => 1,
    };
    // The typed Exit (a kernel without ferrocall: the legacy exit_group, status 1).
    ferrocall::exit(code)
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

// Without libc, the two memory functions the compiler may call (the library's legacy
// fallback copies a request and clears a buffer; this program never takes that path, but
// links it).

/// `memcpy`, as the compiler expects it.
///
/// # Safety
///
/// `dest` and `src` are valid for `n` bytes and do not overlap.
#[cfg(target_env = "musl")]
#[no_mangle]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges; `rep movsb` copies exactly `n` bytes
    // forwards and touches nothing else (the direction flag is clear in Rust code).
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dest => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
    dest
}

/// `memset`, as the compiler expects it.
///
/// # Safety
///
/// `dest` is valid for writes of `n` bytes.
#[cfg(target_env = "musl")]
#[no_mangle]
unsafe extern "C" fn memset(dest: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range; `rep stosb` writes exactly `n` bytes.
    unsafe {
        core::arch::asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dest => _,
            in("al") value as u8,
            options(nostack, preserves_flags),
        );
    }
    dest
}

#[cfg(target_env = "musl")]
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // SAFETY: `ud2` only raises SIGILL; it has no other effect.
    unsafe { core::arch::asm!("ud2", options(noreturn)) }
}
