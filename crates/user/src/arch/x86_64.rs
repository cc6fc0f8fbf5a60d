// SPDX-License-Identifier: MIT OR Apache-2.0

//! The x86_64 `syscall` instruction, for typed and legacy calls.
//!
//! # Safety
//!
//! Every function here executes `syscall`, which can do anything the kernel allows: read
//! and write memory through the pointers passed, map and unmap memory, end the process.
//! Callers uphold what the called system call requires of its arguments.
//!
//! Clobbers, as the kernel's x86_64 syscall ABI defines them: `rax` is the return value,
//! `rcx` and `r11` are overwritten by `syscall`/`sysret`, all other registers and the flags
//! the program can see are preserved; a typed call also clobbers `rdi`..`r9`. No stack is
//! used.

use core::arch::asm;

/// Makes the typed call whose request is at `request`: `rax` = `request` (the seed's ABI),
/// `rdi` = operation, `rsi` = size, and `rdx` = `request` again, which is what the kernel
/// puts there when it presents the call as `ferrocall(op, size, request)`. A call the kernel
/// presents as its legacy twin has the twin's arguments in `rdi`..`r9` instead. Returns raw
/// `rax`.
///
/// # Safety
///
/// The kernel reads `size` bytes at `request` and writes the 16-byte answer slot at
/// `request + 16`; both must be valid for that, and nothing else may access them during
/// the call. The process must have opted in to typed calls: otherwise `rax` is taken as a
/// legacy syscall number.
#[inline]
pub(crate) unsafe fn typed_call(request: *mut u8, op: u64, size: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the request memory is valid and that the kernel takes
    // `rax` as a request address. A call presented as its legacy twin returns with the
    // twin's arguments in `rdi`..`r9` when it answers in registers: all six are clobbered,
    // as are `rcx` and `r11`.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") request as u64 => ret,
            inlateout("rdi") op => _,
            inlateout("rsi") size => _,
            inlateout("rdx") request as u64 => _,
            lateout("r10") _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    ret
}

/// [`typed_call`] for a request that asks for its answer in registers: raw `rax`, `rdx` and
/// `r10` after the call. `r10` goes in as 0, so that it reads 0 whatever kernel answers
/// unless a ferrocall kernel of ABI version 5 or later says the operation ran (see
/// `Header::ANSWER_IN_REGISTERS`).
///
/// # Safety
///
/// As [`typed_call`].
#[inline]
pub(crate) unsafe fn typed_call_in_registers(request: *mut u8, op: u64, size: u64) -> [u64; 3] {
    let (rax, rdx, r10): (u64, u64, u64);
    // SAFETY: as in `typed_call`; `rdx` and `r10` are outputs here, the other argument
    // registers clobbered as there.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") request as u64 => rax,
            inlateout("rdi") op => _,
            inlateout("rsi") size => _,
            inlateout("rdx") request as u64 => rdx,
            inlateout("r10") 0u64 => r10,
            lateout("r8") _,
            lateout("r9") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    [rax, rdx, r10]
}

/// A raw typed call, or anything else, with every register chosen: `rax`, `rdi`, `rsi`,
/// `rdx` (the others zero); returns raw `rax`. `rdi`..`r9` count as clobbered: a typed call
/// answered in registers returns its twin's arguments there.
///
/// # Safety
///
/// As [`syscall6`]: the registers must satisfy what the call they make requires.
#[inline]
pub unsafe fn typed_call_raw(rax: u64, rdi: u64, rsi: u64, rdx: u64) -> u64 {
    // SAFETY: the caller's guarantee, which is `typed_call_raw_registers`'s.
    let [ret, _, _] = unsafe { typed_call_raw_registers(rax, rdi, rsi, rdx) };
    ret
}

/// [`typed_call_raw`] that also returns what a call answered in registers leaves in `rdx`
/// and `r10` (both go in as `rdx` and 0): raw `rax`, `rdx`, `r10`.
///
/// # Safety
///
/// As [`typed_call_raw`].
#[inline]
pub unsafe fn typed_call_raw_registers(rax: u64, rdi: u64, rsi: u64, rdx: u64) -> [u64; 3] {
    let (ret, rdx_out, r10): (u64, u64, u64);
    // SAFETY: the caller guarantees the registers suit the call; the clobbers cover what a
    // typed call may change.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") rax => ret,
            inlateout("rdi") rdi => _,
            inlateout("rsi") rsi => _,
            inlateout("rdx") rdx => rdx_out,
            inlateout("r10") 0u64 => r10,
            inlateout("r8") 0u64 => _,
            inlateout("r9") 0u64 => _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    [ret, rdx_out, r10]
}

/// A legacy system call with up to six arguments; returns raw `rax`. The argument registers
/// are preserved, as the kernel's syscall ABI promises; for a raw typed call, which may
/// return its twin's arguments there, use [`typed_call_raw`].
///
/// # Safety
///
/// The arguments must satisfy what system call `nr` requires of them.
#[inline]
pub unsafe fn syscall6(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the arguments suit the call; the clobbers are the
    // syscall ABI's.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    ret
}

/// A legacy system call that does not return, such as `exit_group`.
///
/// # Safety
///
/// System call `nr` with argument `a0` must not return.
#[inline]
pub unsafe fn syscall1_noreturn(nr: u64, a0: u64) -> ! {
    // SAFETY: the caller guarantees the call does not return, so no register matters
    // after it.
    unsafe {
        asm!("syscall", in("rax") nr, in("rdi") a0, options(nostack, noreturn));
    }
}
