// SPDX-License-Identifier: GPL-2.0

//! ferrocall: the kernel's handler of typed system calls.
//!
//! The x86_64 entry code (`arch/x86/entry/common.c`) calls [`ferrocall_syscall`] for the
//! system call `ferrocall(op, size, request)`: a typed call that the entry code rewrote to
//! that number, or a restart of one. The handler copies the request in once, decodes it
//! with the ABI's checked decoder (never a transmute), runs it, and writes the answer slot
//! back.
//!
//! What this file may touch: user memory only through [`UserSlice`] (so a bad address is
//! `EFAULT`, never an oops), and the kernel only through the functions the legacy system
//! calls use. The ABI it decodes is the module [`abi`], the very files of the
//! `ferrocall-abi` crate, copied here by the build.

use core::ffi::{c_long, c_ulong};

use kernel::bindings;
use kernel::uaccess::{UserSlice, UserSliceReader};

pub mod abi;

use abi::layout::Request;
use abi::{Answer, Call, Errno};

// The numbers C code uses (include/uapi/linux/ferrocall.h) are the ABI's.
const _: () = {
    assert!(abi::SYSCALL_NR == bindings::__NR_ferrocall);
    assert!(abi::PR_FERROCALL == bindings::PR_FERROCALL);
    assert!(abi::PR_FERROCALL_ENABLE == bindings::PR_FERROCALL_ENABLE as u64);
    assert!(abi::PR_FERROCALL_STATUS == bindings::PR_FERROCALL_STATUS as u64);
    assert!(abi::ABI_VERSION == bindings::FERROCALL_ABI_VERSION);
    assert!(abi::MIN_ADDR == bindings::FERROCALL_MIN_ADDR as u64);
    assert!(abi::X32_SYSCALL_BIT == bindings::__X32_SYSCALL_BIT as u64);
};

// The ABI's errno numbers are the kernel's.
const _: () = {
    assert!(Errno::EFAULT.raw() as u32 == bindings::EFAULT);
    assert!(Errno::EINVAL.raw() as u32 == bindings::EINVAL);
    assert!(Errno::E2BIG.raw() as u32 == bindings::E2BIG);
    assert!(Errno::ENOSYS.raw() as u32 == bindings::ENOSYS);
    assert!(Errno::EOVERFLOW.raw() as u32 == bindings::EOVERFLOW);
    assert!(Errno::ERANGE.raw() as u32 == bindings::ERANGE);
};

/// Runs the typed call `ferrocall(op, size, addr)`.
///
/// Returns 0 when the answer slot was written with a success, otherwise `-errno`; when the
/// operation itself failed, the answer slot holds the same errno.
#[no_mangle]
pub extern "C" fn ferrocall_syscall(op: c_ulong, size: c_ulong, addr: c_ulong) -> c_long {
    match handle(op, size, addr) {
        Ok(()) => 0,
        Err(errno) => errno.to_syscall_return(),
    }
}

fn handle(op: u64, size: u64, addr: u64) -> Result<(), Errno> {
    let plan = abi::plan(op, size, addr)?;
    let addr = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;

    // The one copy of the request: the part this ABI knows, into a zeroed buffer so that an
    // older, shorter request reads as zero-extended.
    let mut bytes = [0u8; abi::ops::MAX_KNOWN_REQUEST_SIZE];
    let mut reader = UserSlice::new(addr, plan.size).reader();
    let head = bytes.get_mut(..plan.copy_len).ok_or(Errno::EINVAL)?;
    reader.read_slice(head).map_err(|_| Errno::EFAULT)?;
    check_unknown_tail(reader)?;

    let known = bytes.get(..plan.op.request_size()).ok_or(Errno::EINVAL)?;
    let call = abi::decode(&plan, known)?;
    let answer = run(call);
    write_answer(addr, &answer)?;
    match answer.result() {
        Some(Ok(_)) => Ok(()),
        Some(Err(errno)) => Err(errno),
        None => Err(Errno::EINVAL),
    }
}

/// A request longer than this ABI knows is accepted only if the unknown part is zero, as
/// `copy_struct_from_user()` does. The reader holds exactly that part, at most
/// `MAX_REQUEST_SIZE` bytes.
fn check_unknown_tail(mut reader: UserSliceReader) -> Result<(), Errno> {
    let mut chunk = [0u8; 64];
    while !reader.is_empty() {
        let len = reader.len().min(chunk.len());
        let part = chunk.get_mut(..len).ok_or(Errno::EINVAL)?;
        reader.read_slice(part).map_err(|_| Errno::EFAULT)?;
        abi::decode::check_unknown_tail(part)?;
    }
    Ok(())
}

/// Writes the answer slot, the only part of a request the kernel writes.
fn write_answer(addr: usize, answer: &Answer) -> Result<(), Errno> {
    let slot = addr.checked_add(Request::<()>::ANSWER_OFFSET).ok_or(Errno::EFAULT)?;
    UserSlice::new(slot, Request::<()>::ANSWER_SIZE)
        .writer()
        .write_slice(&answer.to_bytes())
        .map_err(|_| Errno::EFAULT)
}

/// Runs a decoded call; the dispatch on the operation.
fn run(call: Call) -> Answer {
    match call {
        Call::Useless(args) => Answer::done(useless(args.value)),
    }
}

/// The seed's demonstration: `value + 15`, or `EOVERFLOW` past `u32::MAX`.
fn useless(value: u32) -> Result<u64, Errno> {
    value.checked_add(15).map(u64::from).ok_or(Errno::EOVERFLOW)
}
