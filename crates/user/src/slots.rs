// SPDX-License-Identifier: MIT OR Apache-2.0

//! Request slots at addresses that fail closed: where a request goes when its own address
//! may not be sent in `rax` ([`abi::is_request_address`]).
//!
//! A request lives where its caller put it, usually the stack, and half of all stacks lie
//! where bit 31 of the address is clear: sent from there, a request's low 32 bits would be
//! a positive `int`, which a kernel that does not take the address for a request (no
//! ferrocall, or an opt-in lost behind the library's back) runs as that legacy system call.
//! So such a request is copied into a slot of one process-wide pool, mapped once, on first
//! use, where every slot's address has bit 31 set, and sent from there. A slot is claimed
//! with one atomic operation and given back after the call; when none is free, or the pool
//! could not be mapped, the caller makes the legacy twin instead.
//!
//! This module maps memory (`mmap`/`munmap`, with raw system calls: it is the library's own
//! housekeeping, not a call the program asked for) and hands out slots; nothing else.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ferrocall_abi::{self as abi, Errno, Request};

/// The bytes of one slot: more than any request of this ABI (a compile-time check in
/// [`Slot::claim_for`]); requests that do not fit are not sent from a slot.
pub(crate) const SLOT_SIZE: usize = 256;

/// How many slots the pool has: threads in a call from a misplaced request at the same time.
const SLOTS: usize = 32;

/// The pool's size in bytes: two pages.
const POOL_SIZE: usize = SLOT_SIZE * SLOTS;

/// The one pool of the process, shared by every [`Kernel`](crate::Kernel).
static POOL: Pool = Pool::new();

/// The pool: where it is mapped, and which slots are taken.
struct Pool {
    /// The pool's address; [`Pool::UNMAPPED`] before the first use, [`Pool::FAILED`] when
    /// no suitable address could be mapped.
    base: AtomicU64,
    /// Bit `n` set while slot `n` is in use.
    busy: AtomicU32,
}

impl Pool {
    const UNMAPPED: u64 = 0;
    const FAILED: u64 = 1;

    const fn new() -> Self {
        Pool { base: AtomicU64::new(Pool::UNMAPPED), busy: AtomicU32::new(0) }
    }

    /// The pool's address, mapping it on the first call; `None` if it could not be mapped.
    fn base(&self) -> Option<u64> {
        match self.base.load(Ordering::Acquire) {
            Pool::UNMAPPED => self.map(),
            Pool::FAILED => None,
            base => Some(base),
        }
    }

    /// Maps the pool where every slot fails closed; the first thread to publish its mapping
    /// wins, and a thread that lost the race unmaps its own.
    #[cold]
    #[inline(never)]
    fn map(&self) -> Option<u64> {
        let mapped = map_fail_closed();
        let new = mapped.unwrap_or(Pool::FAILED);
        match self.base.compare_exchange(Pool::UNMAPPED, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => mapped,
            Err(winner) => {
                if let Some(addr) = mapped {
                    unmap(addr);
                }
                (winner != Pool::FAILED).then_some(winner)
            }
        }
    }
}

/// Whether every byte of `len` bytes at `addr` has an address that fails closed: all in the
/// upper half of one 4 GiB block, above 4 GiB, below the end of user addresses.
fn fails_closed(addr: u64, len: u64) -> bool {
    let Some(last) = addr.checked_add(len - 1) else { return false };
    abi::is_request_address(addr)
        && last < abi::USER_ADDR_END
        && last >> 32 == addr >> 32
        && last & abi::FAIL_CLOSED_BIT != 0
}

/// Maps [`POOL_SIZE`] bytes where every slot's address fails closed: where the kernel puts
/// a new mapping if that is such a place, else at the upper half of the 4 GiB blocks below
/// it (`MAP_FIXED_NOREPLACE`, which never replaces a mapping), trying a few.
fn map_fail_closed() -> Option<u64> {
    const TRIES: u64 = 8;
    let first = map(0)?;
    if fails_closed(first, POOL_SIZE as u64) {
        return Some(first);
    }
    unmap(first);
    // The upper half of the block `first` is in, then of each block below it: where the
    // kernel's own placement (top-down, below the stack) leaves room.
    let block = first & !0xffff_ffff;
    for below in 0..TRIES {
        let Some(hint) = block.checked_sub(below << 32) else { break };
        let hint = hint | abi::FAIL_CLOSED_BIT;
        if hint < abi::MIN_ADDR {
            break;
        }
        let Some(addr) = map(hint) else { continue };
        if addr == hint && fails_closed(addr, POOL_SIZE as u64) {
            return Some(addr);
        }
        // A kernel older than 4.17 ignores MAP_FIXED_NOREPLACE and takes the hint as a hint.
        unmap(addr);
    }
    None
}

/// `mmap(hint, POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)`, with
/// `MAP_FIXED_NOREPLACE` when `hint` is not 0.
fn map(hint: u64) -> Option<u64> {
    const MMAP: u64 = 9;
    const PROT_READ_WRITE: u64 = 3;
    const MAP_PRIVATE_ANONYMOUS: u64 = 0x22;
    const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
    let flags = MAP_PRIVATE_ANONYMOUS | if hint == 0 { 0 } else { MAP_FIXED_NOREPLACE };
    // SAFETY: an anonymous private mapping that replaces nothing (no MAP_FIXED) touches no
    // memory the program uses.
    let ret = unsafe {
        crate::arch::syscall6(MMAP, hint, POOL_SIZE as u64, PROT_READ_WRITE, flags, u64::MAX, 0)
    };
    Errno::from_syscall_return(ret).ok()
}

/// `munmap(addr, POOL_SIZE)` of a mapping [`map`] made and nobody else knows of.
fn unmap(addr: u64) {
    const MUNMAP: u64 = 11;
    // SAFETY: the mapping at `addr` is this module's and was never handed out.
    let _ = unsafe { crate::arch::syscall6(MUNMAP, addr, POOL_SIZE as u64, 0, 0, 0, 0) };
}

/// A claimed slot: [`SLOT_SIZE`] bytes at an address that fails closed, this thread's until
/// dropped.
pub(crate) struct Slot {
    addr: u64,
    index: u32,
}

impl Slot {
    /// Claims a free slot for a request of `size` bytes: `E2BIG` if the request does not
    /// fit, `ENOMEM` if the pool could not be mapped, `EAGAIN` while every slot is taken.
    pub(crate) fn claim(size: usize) -> Result<Slot, Errno> {
        if size > SLOT_SIZE {
            return Err(Errno::E2BIG);
        }
        let base = POOL.base().ok_or(Errno::ENOMEM)?;
        let mut busy = POOL.busy.load(Ordering::Relaxed);
        loop {
            let free = !busy;
            if free == 0 {
                return Err(Errno::EAGAIN);
            }
            let index = free.trailing_zeros();
            let bit = 1 << index;
            match POOL.busy.compare_exchange_weak(
                busy,
                busy | bit,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let addr = base + u64::from(index) * SLOT_SIZE as u64;
                    return Ok(Slot { addr, index });
                }
                Err(now) => busy = now,
            }
        }
    }

    /// Claims a slot for a `Request<A>`: as [`Slot::claim`].
    pub(crate) fn claim_for<A: abi::Args>() -> Result<Slot, Errno> {
        const { assert!(core::mem::size_of::<Request<A>>() <= SLOT_SIZE) };
        Slot::claim(core::mem::size_of::<Request<A>>())
    }

    /// The slot's address: 8-aligned (a multiple of [`SLOT_SIZE`] from a page), and a
    /// request address.
    pub(crate) fn as_mut_ptr(&self) -> *mut u8 {
        self.addr as *mut u8
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        POOL.busy.fetch_and(!(1 << self.index), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fail_closed_and_each_is_claimed_once() {
        // A few: other tests of this process make calls from slots meanwhile.
        let slots: std::vec::Vec<Slot> = (0..4).map(|_| Slot::claim(SLOT_SIZE).unwrap()).collect();
        for slot in &slots {
            assert!(fails_closed(slot.addr, SLOT_SIZE as u64), "{:#x}", slot.addr);
            assert_eq!(slot.addr % 8, 0);
        }
        let mut addrs: std::vec::Vec<u64> = slots.iter().map(|s| s.addr).collect();
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), slots.len(), "a slot handed out twice");
        assert_eq!(Slot::claim(SLOT_SIZE + 1).err(), Some(Errno::E2BIG));
    }

    #[test]
    fn the_fail_closed_test_covers_the_whole_range() {
        assert!(fails_closed(0x7f00_8000_0000, 8192));
        assert!(!fails_closed(0x7f00_ffff_f000, 8192), "crosses into the next block");
        assert!(!fails_closed(0x7f00_7fff_f000, 8192), "starts in the lower half");
        assert!(!fails_closed(0x8000_0000, 8192), "below 4 GiB");
    }
}
