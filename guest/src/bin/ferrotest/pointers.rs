//! Bad pointers to the request itself: addresses the kernel must refuse, kernel addresses
//! in `rax`, unmapped pages and holes, read-only and inaccessible pages.

use ferrocall::abi::Errno;
use ferrocall_guest::{syscall, typed_raw, Outcome, Pages, Test, PAGE, PROT_NONE, PROT_READ};

use crate::common::{hostile, useless_request, NR, USELESS};

fn bad_addresses_by_number() -> Outcome {
    // Addresses that `rax` cannot carry as a typed call reach the handler this way.
    for addr in [
        0u64,
        8,
        1016,
        0x4000_0000,
        0x0000_8000_0000_0000,
        0x0000_7fff_ffff_f000,
        0xdead_0000_0000_0000,
        0xffff_8000_0000_0000,
        0xffff_ffff_8100_0000,
        0xffff_ffff_ffff_f000,
        u64::MAX - 7,
    ] {
        let r = syscall(NR, [u64::from(USELESS), 40, addr, 0, 0, 0]);
        hostile(&format!("request at {addr:#x}"), r, Err(Errno::EFAULT))?;
    }
    Ok(())
}

fn kernel_addresses_in_rax_are_legacy_numbers() -> Outcome {
    // Not user addresses (even with 5-level paging), so legacy numbers: these low 32 bits
    // name no syscall.
    for rax in [0xffff_ffff_8100_1000u64, 0xffff_8000_0000_1000, 0x0100_0000_0000_1000] {
        hostile(&format!("rax {rax:#x}"), typed_raw(rax, 1, 40, rax), Err(Errno::ENOSYS))?;
    }
    Ok(())
}

fn unmapped_request() -> Outcome {
    let pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.unmap(0).map_err(|e| e.to_string())?;
    let addr = pages.addr(64);
    hostile("unmapped", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

fn request_straddling_into_a_hole() -> Outcome {
    let mut pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.write(PAGE - 24, &useless_request(1, 40)[..24]);
    pages.unmap(1).map_err(|e| e.to_string())?;
    let addr = pages.addr(PAGE - 24);
    hostile("straddling", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

fn unknown_tail_in_a_hole() -> Outcome {
    // The known part is readable, the unknown tail is not.
    let offset = PAGE - 48;
    let mut bytes = useless_request(1, 128);
    bytes.truncate(48);
    let mut pages = Pages::map(2, 0).map_err(|e| e.to_string())?;
    pages.write(offset, &bytes);
    pages.write(offset, &128u32.to_le_bytes());
    pages.unmap(1).map_err(|e| e.to_string())?;
    let addr = pages.addr(offset);
    hostile("tail unmapped, sizes agree", typed_raw(addr, 1, 128, addr), Err(Errno::EFAULT))
}

fn read_only_answer_page() -> Outcome {
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    let bytes = useless_request(1, 40);
    pages.write(0, &bytes);
    pages.protect(0, PROT_READ).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    hostile("read-only request", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))?;
    hostile("request unchanged", pages.read(0, 40), bytes)
}

fn inaccessible_request_page() -> Outcome {
    let mut pages = Pages::map(1, 0).map_err(|e| e.to_string())?;
    pages.write(0, &useless_request(1, 40));
    pages.protect(0, PROT_NONE).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    hostile("PROT_NONE request", typed_raw(addr, 1, 40, addr), Err(Errno::EFAULT))
}

/// A lone `Read` answered in registers (the library's form) loses nothing when its request
/// lies on a read-only page (review L1, the lone case): the kernel writes nothing into the
/// request, so the bytes the read consumed come back in `rax` and in the buffer, as for a
/// legacy `read`. (A request answered in place on such a page gets `EFAULT` after the read
/// ran, as docs/abi.md says: that form needs a writable request.)
fn a_read_answered_in_registers_keeps_its_data_with_a_read_only_request() -> Outcome {
    use ferrocall::abi::{ops::ReadArgs, Header, Op, Request, UserBufMut};
    ferrocall::enable().map_err(|e| format!("enable: {e}"))?;
    let (r, w) = ferrocall_guest::pipe()?;
    let sent =
        syscall(ferrocall_guest::nr::WRITE, [w as u64, b"hello".as_ptr() as u64, 5, 0, 0, 0]);
    hostile("the bytes in the pipe", sent, Ok(5))?;
    // The request on page 0 (at a request address), the buffer on page 1.
    let mut pages = Pages::map(2, 0x7e00_8000_0000).map_err(|e| e.to_string())?;
    let buf = UserBufMut { addr: pages.addr(PAGE), len: 16 };
    let mut req = Request::new(ReadArgs { fd: r, buf, ..Default::default() });
    req.header.flags = Header::ANSWER_IN_REGISTERS;
    let bytes = ferrocall_guest::request_as_bytes(&req).to_vec();
    pages.write(0, &bytes);
    pages.protect(0, PROT_READ).map_err(|e| e.to_string())?;
    let addr = pages.addr(0);
    let got = typed_raw(addr, Op::Read as u64, bytes.len() as u64, addr);
    crate::common::close(r);
    crate::common::close(w);
    hostile("the read's answer in rax", got, Ok(5))?;
    hostile("the bytes read", pages.read(PAGE, 5), b"hello".to_vec())?;
    hostile("the request, unwritten", pages.read(0, bytes.len()), bytes)
}

/// This module's tests, in the order the main suite runs them.
pub const TESTS: &[Test] = &[
    ("bad_addresses_by_number", bad_addresses_by_number),
    ("kernel_addresses_in_rax_are_legacy_numbers", kernel_addresses_in_rax_are_legacy_numbers),
    ("unmapped_request", unmapped_request),
    ("request_straddling_into_a_hole", request_straddling_into_a_hole),
    ("unknown_tail_in_a_hole", unknown_tail_in_a_hole),
    ("read_only_answer_page", read_only_answer_page),
    ("inaccessible_request_page", inaccessible_request_page),
    (
        "a_read_answered_in_registers_keeps_its_data_with_a_read_only_request",
        a_read_answered_in_registers_keeps_its_data_with_a_read_only_request,
    ),
];
