//! The boundary to the kernel: the [`Kernel`] trait, the real one ([`Native`]), the
//! cached support check, and the typed wrappers every kernel gets ([`TypedCalls`]).

use core::mem::size_of;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrocall_abi::{self as abi, Args, Errno, Request};

/// The raw system call boundary, as in libtock-rs' `RawSyscalls`: the real kernel
/// ([`Native`]) or a fake one in tests.
///
/// # Safety
///
/// Implementations must behave as the ferrocall ABI says: `typed_call` reads at most
/// `size` bytes at `request` and writes at most the answer slot, and `enable` returns
/// a positive ABI version only if typed calls are from then on answered as such, never as
/// legacy syscalls. The wrappers rely on this to hand out safe functions.
pub unsafe trait Kernel {
    /// `prctl(PR_FERROCALL, PR_FERROCALL_ENABLE, 0, 0, 0)`: raw `rax`.
    fn prctl_enable(&self) -> u64;

    /// The typed call `ferrocall(op, size, request)` with `request` in `rax`: raw `rax`.
    ///
    /// # Safety
    ///
    /// `request` must be valid for reads of `size` bytes and for writes of the answer slot,
    /// with no other access during the call, and [`Kernel::prctl_enable`] must have
    /// succeeded.
    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64;

    /// Where this kernel's support check is cached.
    fn support(&self) -> &Support;
}

/// The cached answer to "does this kernel support typed calls, and which version?".
#[derive(Debug, Default)]
pub struct Support(AtomicU32);

impl Support {
    const UNKNOWN: u32 = 0;
    const UNSUPPORTED: u32 = u32::MAX;

    /// A cache that knows nothing yet.
    pub const fn new() -> Self {
        Support(AtomicU32::new(Support::UNKNOWN))
    }
}

/// The running kernel, through the `syscall` instruction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Native;

static NATIVE_SUPPORT: Support = Support::new();

// SAFETY: the asm issues exactly the calls the trait describes, and a kernel with
// ferrocall answers `PR_FERROCALL_ENABLE` with a version only after enabling typed calls
// for the address space; every other kernel fails it.
unsafe impl Kernel for Native {
    fn prctl_enable(&self) -> u64 {
        // SAFETY: prctl with integer arguments touches no memory of ours.
        unsafe {
            crate::arch::syscall6(
                PRCTL,
                u64::from(abi::PR_FERROCALL),
                abi::PR_FERROCALL_ENABLE,
                0,
                0,
                0,
                0,
            )
        }
    }

    unsafe fn typed_call(&self, request: *mut u8, op: u32, size: u32) -> u64 {
        // SAFETY: the caller upholds this method's contract, which is `typed_call`'s.
        unsafe { crate::arch::typed_call(request, u64::from(op), u64::from(size)) }
    }

    fn support(&self) -> &Support {
        &NATIVE_SUPPORT
    }
}

/// The legacy number of `prctl` on x86_64.
const PRCTL: u64 = 157;

/// The typed calls, for every [`Kernel`].
pub trait TypedCalls: Kernel {
    /// Enables typed calls once and returns the ABI version; `ENOSYS` on a kernel without
    /// them (including one whose seccomp filter refuses the `prctl`).
    fn enable(&self) -> Result<u32, Errno> {
        let cache = &self.support().0;
        match cache.load(Ordering::Acquire) {
            Support::UNKNOWN => {}
            Support::UNSUPPORTED => return Err(Errno::ENOSYS),
            version => return Ok(version),
        }
        let version = match Errno::from_syscall_return(self.prctl_enable()) {
            Ok(v) if v >= u64::from(abi::ABI_VERSION) && v < u64::from(Support::UNSUPPORTED) => {
                v as u32
            }
            _ => Support::UNSUPPORTED,
        };
        cache.store(version, Ordering::Release);
        if version == Support::UNSUPPORTED {
            Err(Errno::ENOSYS)
        } else {
            Ok(version)
        }
    }

    /// Makes the typed call `request` and returns its answer. The request's header must be
    /// the one [`Request::new`] wrote.
    fn call<A: Args>(&self, request: &mut Request<A>) -> Result<u64, Errno> {
        self.enable()?;
        let addr = core::ptr::from_mut(request) as u64;
        if !abi::is_request_address(addr) {
            // The kernel would read this address as a legacy syscall number: send a copy
            // from the stack instead, and take its answer.
            let mut copy = *request;
            if !abi::is_request_address(core::ptr::from_mut(&mut copy) as u64) {
                return Err(Errno::EFAULT);
            }
            let result = self.call(&mut copy);
            request.answer = copy.answer;
            return result;
        }
        let size = size_of::<Request<A>>() as u32;
        // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes,
        // valid for reads and for writes of its answer slot, and `enable` succeeded.
        let ret = unsafe { self.typed_call(addr as *mut u8, A::OP.raw(), size) };
        match Errno::from_syscall_return(ret) {
            Err(errno) => Err(errno),
            Ok(0) => match request.answer.result() {
                Some(result) => result,
                None => Err(Errno::EIO),
            },
            Ok(_) => Err(Errno::EIO),
        }
    }

    /// `Useless(value)`: `value + 15`, or `EOVERFLOW`.
    fn useless(&self, value: u32) -> Result<u32, Errno> {
        let mut request = Request::new(abi::ops::UselessArgs {
            value,
            ..Default::default()
        });
        let sum = self.call(&mut request)?;
        u32::try_from(sum).map_err(|_| Errno::EIO)
    }
}

impl<K: Kernel + ?Sized> TypedCalls for K {}
