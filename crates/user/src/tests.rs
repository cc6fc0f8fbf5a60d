//! Host tests of the wrappers against a fake kernel, in the style of libtock-rs: the fake
//! decodes requests with the ABI's own decoder, as the real kernel does, so these tests
//! check that what the library sends is what the kernel accepts.

use core::cell::Cell;
use std::vec::Vec;

use ferrocall_abi::{self as abi, Answer, Call, Errno};

use crate::{Kernel, Support, TypedCalls};

/// A kernel in-process: `enable` answers `prctl_ret`; typed calls are decoded and answered
/// like the real handler does, unless `answer_override` replaces the raw return.
struct FakeKernel {
    prctl_ret: u64,
    prctl_calls: Cell<u32>,
    typed_calls: Cell<u32>,
    raw_override: Option<u64>,
    support: Support,
}

impl FakeKernel {
    fn new(prctl_ret: u64) -> Self {
        FakeKernel {
            prctl_ret,
            prctl_calls: Cell::new(0),
            typed_calls: Cell::new(0),
            raw_override: None,
            support: Support::new(),
        }
    }

    fn patched() -> Self {
        FakeKernel::new(u64::from(abi::ABI_VERSION))
    }

    fn stock() -> Self {
        FakeKernel::new(Errno::EINVAL.to_syscall_return() as u64)
    }

    fn handle(op: u32, size: u32, bytes: &mut [u8]) -> Result<(), Errno> {
        let plan = abi::plan(u64::from(op), u64::from(size), bytes.as_ptr() as u64)?;
        let mut known = std::vec![0u8; plan.op.request_size()];
        known[..plan.copy_len].copy_from_slice(&bytes[..plan.copy_len]);
        abi::decode::check_unknown_tail(&bytes[plan.copy_len..])?;
        let answer = match abi::decode(&plan, &known)? {
            Call::Useless(args) => Answer::done(
                args.value
                    .checked_add(15)
                    .map(u64::from)
                    .ok_or(Errno::EOVERFLOW),
            ),
        };
        let at = abi::Request::<()>::ANSWER_OFFSET;
        bytes[at..at + 16].copy_from_slice(&answer.to_bytes());
        match answer.result() {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(Errno::EINVAL),
        }
    }
}

// SAFETY: the fake reads `size` bytes at `request` and writes only the answer slot, as
// the trait requires; `prctl_ret` is a version only in the `patched` fake.
unsafe impl Kernel for FakeKernel {
    fn prctl_enable(&self) -> u64 {
        self.prctl_calls.set(self.prctl_calls.get() + 1);
        self.prctl_ret
    }

    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
        self.typed_calls.set(self.typed_calls.get() + 1);
        assert!(
            abi::is_request_address(request as u64),
            "sent a legacy-looking address"
        );
        if let Some(raw) = self.raw_override {
            return raw;
        }
        // SAFETY: the caller guarantees `size` bytes at `request` are ours for the call.
        let bytes = unsafe { std::slice::from_raw_parts_mut(request, size as usize) };
        match FakeKernel::handle(op, size, bytes) {
            Ok(()) => 0,
            Err(e) => e.to_syscall_return() as u64,
        }
    }

    fn support(&self) -> &Support {
        &self.support
    }
}

#[test]
fn useless_answers_value_plus_15() {
    let k = FakeKernel::patched();
    assert_eq!(k.useless(15), Ok(30));
    assert_eq!(k.useless(0), Ok(15));
    assert_eq!(k.useless(u32::MAX - 15), Ok(u32::MAX));
    assert_eq!(k.useless(u32::MAX - 14), Err(Errno::EOVERFLOW));
}

#[test]
fn support_is_checked_once() {
    let k = FakeKernel::patched();
    for _ in 0..5 {
        assert_eq!(k.useless(1), Ok(16));
    }
    assert_eq!(k.prctl_calls.get(), 1);
    assert_eq!(k.typed_calls.get(), 5);
}

#[test]
fn stock_kernel_gets_no_typed_call() {
    let k = FakeKernel::stock();
    assert_eq!(k.enable(), Err(Errno::ENOSYS));
    assert_eq!(k.useless(15), Err(Errno::ENOSYS));
    assert_eq!(k.useless(15), Err(Errno::ENOSYS));
    assert_eq!(
        k.typed_calls.get(),
        0,
        "a typed call reached a kernel without ferrocall"
    );
    assert_eq!(k.prctl_calls.get(), 1);
}

#[test]
fn odd_prctl_answers_are_not_support() {
    // A seccomp filter may answer the prctl with any errno, or with 0 (SECCOMP_RET_ERRNO
    // with data 0); a future kernel with an unrelated prctl may answer anything.
    for ret in [
        0u64,
        Errno::EPERM.to_syscall_return() as u64,
        u64::MAX,
        1u64 << 40,
    ] {
        let k = FakeKernel::new(ret);
        assert_eq!(k.useless(1), Err(Errno::ENOSYS), "prctl answered {ret:#x}");
        assert_eq!(k.typed_calls.get(), 0);
    }
}

#[test]
fn strange_kernel_answers_do_not_panic() {
    for raw in [1u64, 0x1234, u64::MAX - 5000, 0] {
        let mut k = FakeKernel::patched();
        k.raw_override = Some(raw);
        // Return 0 without an answer written is EIO; other non-errors are EIO too.
        let r = k.useless(15);
        assert!(r.is_err(), "raw {raw:#x} gave {r:?}");
    }
    let mut k = FakeKernel::patched();
    k.raw_override = Some(Errno::EFAULT.to_syscall_return() as u64);
    assert_eq!(k.useless(15), Err(Errno::EFAULT));
}

#[test]
fn request_layout_is_what_the_kernel_decodes() {
    let req = abi::Request::new(abi::ops::UselessArgs {
        value: 7,
        ..Default::default()
    });
    assert_eq!(req.header.size, 40);
    assert_eq!(req.header.op, abi::Op::Useless.raw());
    assert_eq!(req.answer.state, Answer::PENDING);
}

#[test]
fn repeated_calls_answer_correctly() {
    let k = FakeKernel::patched();
    assert_eq!(k.enable(), Ok(abi::ABI_VERSION));
    let results: Vec<_> = (0..100).map(|i| k.useless(i)).collect();
    assert!(results
        .iter()
        .enumerate()
        .all(|(i, r)| *r == Ok(i as u32 + 15)));
}
