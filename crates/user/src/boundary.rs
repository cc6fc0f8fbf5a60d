//! The boundary to the kernel: the [`Kernel`] trait, the real one ([`Native`]), the cached
//! support check, and the one path every typed call takes to the kernel (`issue`). This
//! module and `arch` are the only ones that hand raw pointers to the kernel.

use core::mem::size_of;
use core::sync::atomic::{AtomicU32, Ordering};

use ferrocall_abi::{self as abi, Answer, Args, Errno, Request};

/// The raw system call boundary, as in libtock-rs' `RawSyscalls`: the real kernel
/// ([`Native`]) or a fake one in tests.
///
/// # Safety
///
/// Implementations must behave as the ferrocall ABI says: `typed_call` reads at most
/// `size` bytes at `request`, writes at most its answer slot, and otherwise touches only the
/// buffers the request's arguments name, as the operation defines; `enable` returns a
/// positive ABI version only if typed calls are from then on answered as such, never as
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
pub struct Support(pub(crate) AtomicU32);

impl Support {
    pub(crate) const UNKNOWN: u32 = 0;
    pub(crate) const UNSUPPORTED: u32 = u32::MAX;

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

/// Asks the kernel to enable typed calls, once: the slow path of [`TypedCalls::enable`].
#[cold]
#[inline(never)]
pub(crate) fn enable_now<K: Kernel + ?Sized>(kernel: &K) -> Result<u32, Errno> {
    let version = match Errno::from_syscall_return(kernel.prctl_enable()) {
        Ok(v) if v >= u64::from(abi::ABI_VERSION) && v < u64::from(Support::UNSUPPORTED) => {
            v as u32
        }
        _ => Support::UNSUPPORTED,
    };
    kernel.support().0.store(version, Ordering::Release);
    if version == Support::UNSUPPORTED {
        Err(Errno::ENOSYS)
    } else {
        Ok(version)
    }
}

/// Makes the typed call `request` from where it is, and checks what the kernel answered.
///
/// # Safety
///
/// As [`TypedCalls::call_answer`], and typed calls are enabled; `request`'s address is a
/// request address ([`abi::is_request_address`]).
#[inline]
pub(crate) unsafe fn issue<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    request.answer = Answer::default();
    let size = size_of::<Request<A>>() as u32;
    // SAFETY: `request` is an exclusive reference to a whole request of `size` bytes,
    // valid for reads and for writes of its answer slot; the caller guarantees the rest.
    let ret = unsafe { kernel.typed_call(core::ptr::from_mut(request).cast(), A::OP.raw(), size) };
    match (Errno::from_syscall_return(ret), request.answer.result()) {
        (Ok(0), Some(Ok(_))) => Ok(request.answer),
        (Err(e), Some(Err(answered))) if e == answered => Ok(request.answer),
        (Err(e), None) => Err(e),
        // `rax` and the answer slot disagree: not a ferrocall kernel we understand.
        _ => Err(Errno::EIO),
    }
}

/// The kernel would read `request`'s address as a legacy syscall number: sends a copy
/// from the stack instead, and takes its answer.
///
/// # Safety
///
/// As [`issue`], but for any address of `request`.
#[cold]
#[inline(never)]
pub(crate) unsafe fn issue_from_copy<K: Kernel + ?Sized, A: Args>(
    kernel: &K,
    request: &mut Request<A>,
) -> Result<Answer, Errno> {
    let mut copy = *request;
    if !abi::is_request_address(core::ptr::from_mut(&mut copy) as u64) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the copy names the same buffers, which the caller's guarantee covers, and
    // its address is a request address.
    let result = unsafe { issue(kernel, &mut copy) };
    request.answer = copy.answer;
    result
}
