//! The kernel's decoding rules, tested on the host: the handler runs exactly these
//! functions on the bytes it copied in.

mod common;

use ferrocall_abi::decode::decode_request;
use ferrocall_abi::ops::{self, UselessArgs};
use ferrocall_abi::{
    is_request_address, plan, Answer, Call, Errno, FieldType, Op, Request, ShownPart,
};

fn useless_bytes(value: u32, size: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&Op::Useless.raw().to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&value.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.resize(size as usize, 0);
    b
}

fn decode_as_kernel(op: u64, size: u64, bytes: &[u8]) -> Result<Call, Errno> {
    decode_request(&plan(op, size, 0x1000)?, bytes)
}

#[test]
fn decodes_a_request_built_by_the_library() {
    let req = Request::new(UselessArgs { value: 15, ..Default::default() });
    assert_eq!(req.header.size as usize, Op::Useless.request_size());
    let bytes = useless_bytes(15, 40);
    assert_eq!(
        decode_as_kernel(1, 40, &bytes),
        Ok(Call::Useless(UselessArgs { value: 15, ..Default::default() }))
    );
}

#[test]
fn plan_checks_registers() {
    assert_eq!(plan(0, 40, 0x1000).unwrap_err(), Errno::ENOSYS);
    assert_eq!(plan(1 << 32 | 1, 40, 0x1000).unwrap_err(), Errno::ENOSYS);
    assert_eq!(plan(1, 31, 0x1000).unwrap_err(), Errno::EINVAL);
    assert_eq!(plan(1, 40, 0x1004).unwrap_err(), Errno::EINVAL);
    assert_eq!(plan(1, 4097, 0x1000).unwrap_err(), Errno::E2BIG);
    assert_eq!(plan(1, u64::MAX, 0x1000).unwrap_err(), Errno::E2BIG);
    let p = plan(1, 4096, 0x1000).unwrap();
    assert_eq!((p.size, p.copy_len), (4096, 40));
    let p = plan(1, 32, 0x1000).unwrap();
    assert_eq!((p.size, p.copy_len), (32, 32));
}

#[test]
fn header_must_agree_with_registers() {
    let bytes = useless_bytes(1, 40);
    assert_eq!(decode_as_kernel(1, 48, &useless_bytes(1, 40)[..40]), Err(Errno::EINVAL));
    let mut other = bytes.clone();
    other[4] = 2;
    assert_eq!(decode_as_kernel(1, 40, &other), Err(Errno::EINVAL));
    for (at, what) in [(8, "flags"), (12, "reserved"), (36, "padding")] {
        let mut b = bytes.clone();
        b[at] = 1;
        assert_eq!(decode_as_kernel(1, 40, &b), Err(Errno::EINVAL), "{what}");
    }
}

#[test]
fn sizes_follow_copy_struct_from_user() {
    // Older: the missing value reads as zero.
    let short = useless_bytes(9, 32);
    assert_eq!(decode_as_kernel(1, 32, &short), Ok(Call::Useless(UselessArgs::default())));
    // Newer: a zero tail is fine, a non-zero one is E2BIG.
    let long = useless_bytes(9, 64);
    assert!(decode_as_kernel(1, 64, &long).is_ok());
    let mut bad = long.clone();
    bad[50] = 1;
    assert_eq!(decode_as_kernel(1, 64, &bad), Err(Errno::E2BIG));
}

/// `is_request_address` is written as two tests for speed: it says what its definition
/// says, for the edges of each condition and for random addresses.
#[test]
fn request_addresses_as_defined() {
    use ferrocall_abi::{FAIL_CLOSED_BIT, MIN_ADDR, REQUEST_ALIGN, USER_ADDR_END};
    let defined = |addr: u64| {
        (MIN_ADDR..USER_ADDR_END).contains(&addr)
            && addr & FAIL_CLOSED_BIT != 0
            && addr % REQUEST_ALIGN == 0
    };
    let mut next = common::xorshift(0x2545_f491_4f6c_dd1d);
    let edges = [0, MIN_ADDR, USER_ADDR_END, FAIL_CLOSED_BIT, u64::MAX, 1 << 47, 1 << 63];
    for base in edges {
        for delta in 0..=(2 * FAIL_CLOSED_BIT / 0x1000_0000 + 16) {
            for addr in [
                base.wrapping_add(delta * 0x1000_0000),
                base.wrapping_sub(delta),
                base.wrapping_add(delta) | FAIL_CLOSED_BIT,
                base.wrapping_sub(delta) | FAIL_CLOSED_BIT,
            ] {
                assert_eq!(is_request_address(addr), defined(addr), "{addr:#x}");
            }
        }
    }
    for _ in 0..1_000_000 {
        let r = next();
        for addr in [r, r >> 16, (r >> 16) | FAIL_CLOSED_BIT, (r >> 16) & !7] {
            assert_eq!(is_request_address(addr), defined(addr), "{addr:#x}");
        }
    }
}

#[test]
fn request_addresses() {
    assert!(!is_request_address(0));
    assert!(!is_request_address(1024), "below 4 GiB: a legacy number on every kernel");
    assert!(!is_request_address(0xffff_fff8), "a negative int, zero-extended");
    assert!(!is_request_address(0x4000_0000 + 1024), "x32 range");
    assert!(!is_request_address(0x1_0000_0000), "low 32 bits 0: read");
    assert!(!is_request_address(0x7f00_0000_0020), "low 32 bits 32: dup");
    assert!(!is_request_address(0x7f00_7fff_fff8), "low 32 bits a positive int");
    assert!(is_request_address(0x1_8000_0000));
    assert!(is_request_address(0x7f00_8000_0020));
    assert!(!is_request_address(0x7f00_8000_0021), "misaligned");
    assert!(is_request_address(0x7fff_ffff_e000));
    assert!(!is_request_address(0x7fff_ffff_f000));
    assert!(!is_request_address(0xffff_8000_8000_0000));
    assert!(!is_request_address(!7));
    for addr in [0x1_8000_0000u64, 0x7f12_fedc_ba98, 0x5555_8000_0008] {
        if is_request_address(addr) {
            // What a kernel that does not take it for a request reads: `int nr`.
            assert!((addr as u32 as i32) < 0, "{addr:#x} would be legacy call {}", addr as u32);
        }
    }
}

#[test]
fn answers_round_trip() {
    for r in [Ok(0), Ok(u64::MAX), Err(Errno::EFAULT), Err(Errno::EOVERFLOW)] {
        let a = Answer::done(r);
        let bytes = a.to_bytes();
        let back = Answer {
            value: u64::from_le_bytes(bytes[0..8].try_into().unwrap()),
            errno: u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
            state: u32::from_le_bytes(bytes[12..16].try_into().unwrap()),
        };
        assert_eq!(back.result(), Some(r));
        assert_eq!(Answer::from_bytes(&bytes), Some(back));
        assert_eq!(Answer::from_bytes(&bytes[..15]), None);
        let [value, status] = a.to_words();
        let mut from_words = value.to_le_bytes().to_vec();
        from_words.extend_from_slice(&status.to_le_bytes());
        assert_eq!(from_words, bytes, "the words the kernel writes are the answer's bytes");
    }
    assert_eq!(Answer::default().result(), None, "pending");
    let bogus = Answer { value: 0, errno: 5000, state: Answer::DONE };
    assert_eq!(bogus.result(), None, "not an errno");
}

#[test]
fn errno_decoding() {
    assert_eq!(Errno::from_syscall_return(0), Ok(0));
    assert_eq!(Errno::from_syscall_return(-14i64 as u64), Err(Errno::EFAULT));
    assert_eq!(Errno::from_syscall_return(-4095i64 as u64).unwrap_err().raw(), 4095);
    assert_eq!(Errno::from_syscall_return(-4096i64 as u64), Ok(-4096i64 as u64));
    assert_eq!(Errno::EFAULT.to_string(), "EFAULT (Bad address)");
    assert_eq!(format!("{:?}", Errno::ENOSYS), "Errno(ENOSYS)");
    assert_eq!(Errno::new(0), None);
    assert_eq!(Errno::new(4096), None);
    assert_eq!(Errno::new(1000).unwrap().to_string(), "errno 1000");
}

/// Random and mutated requests never panic the decoder and always give a known answer.
#[test]
fn decoder_never_panics() {
    let mut next = common::xorshift(0x9e37_79b9_7f4a_7c15);
    let base = useless_bytes(5, 64);
    for _ in 0..200_000 {
        let mut bytes = base.clone();
        let len = (next() % 80) as usize;
        bytes.resize(len, 0);
        for _ in 0..(next() % 4) {
            if !bytes.is_empty() {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
        }
        let op = if next() % 4 == 0 { next() } else { 1 };
        let size = if next() % 4 == 0 { next() % 5000 } else { len as u64 };
        let _ = decode_as_kernel(op, size, &bytes);
    }
}

#[test]
fn packed_plan_reads_the_next_request() {
    use ferrocall_abi::decode::packed_plan;
    let p = packed_plan(&useless_bytes(1, 40), 0x1000, 40).unwrap();
    assert_eq!((p.op, p.size, p.copy_len, p.known), (Op::Useless, 40, 40, 40));
    // An older (32-byte) and a newer (48-byte) request are planned like lone calls.
    assert_eq!(packed_plan(&useless_bytes(1, 32), 0x1000, 32).map(|p| p.copy_len), Ok(32));
    assert_eq!(packed_plan(&useless_bytes(1, 48), 0x1000, 48).map(|p| p.copy_len), Ok(40));
    // The next request would be misaligned.
    assert_eq!(packed_plan(&useless_bytes(1, 44), 0x1000, 44), Err(Errno::EINVAL));
    // It runs past the requests.
    assert_eq!(packed_plan(&useless_bytes(1, 40), 0x1000, 39), Err(Errno::EINVAL));
    // Fewer bytes than the size and operation fields.
    assert_eq!(packed_plan(&useless_bytes(1, 40)[..7], 0x1000, 40), Err(Errno::EINVAL));
    // No batch inside a batch; an unknown operation is ENOSYS, as for a lone call.
    for op in [Op::Batch, Op::PackedBatch] {
        let mut b = useless_bytes(1, 48);
        b[4..8].copy_from_slice(&op.raw().to_le_bytes());
        assert_eq!(packed_plan(&b, 0x1000, 48), Err(Errno::EINVAL), "{op:?}");
    }
    let mut b = useless_bytes(1, 40);
    b[4..8].copy_from_slice(&999u32.to_le_bytes());
    assert_eq!(packed_plan(&b, 0x1000, 40), Err(Errno::ENOSYS));
    // The address rules are `plan`'s.
    assert_eq!(packed_plan(&useless_bytes(1, 40), 0x1004, 40), Err(Errno::EINVAL));
    assert!(Op::ALL.iter().filter(|op| op.is_batch()).eq([Op::Batch, Op::PackedBatch].iter()));
}

/// What the tracer and the docs count from the table is what a decoded call fills.
#[test]
fn twin_registers_match_the_twin_call() {
    for &op in Op::ALL {
        let zeros = [0u8; ferrocall_abi::ops::MAX_KNOWN_REQUEST_SIZE];
        let call = Call::decode_args(op, &zeros).expect("all-zero arguments decode");
        let filled = call.twin_call(0x1000).map(|(_, args)| args.len);
        assert_eq!(op.twin_registers(), filled, "{op:?}");
    }
}

/// An operation whose twin takes a struct by pointer is shown with the struct's address
/// inside the request and its size, and runs from the kernel's copy.
#[test]
fn a_twin_that_takes_a_struct_is_shown_a_pointer_into_the_request() {
    use ferrocall_abi::ops::OpenArgs;
    let args = OpenArgs {
        dirfd: -100,
        path: ferrocall_abi::UserPath { addr: 0x5000 },
        flags: 0o100,
        mode: 0o640,
        resolve: 8,
        ..Default::default()
    };
    let addr = 0x7000_0000u64;
    let (nr, twin) = Call::Open(args).twin_call(addr).expect("Open has a twin");
    let how = addr + ferrocall_abi::Request::<()>::ARGS_OFFSET as u64 + 16;
    assert_eq!(nr, 437);
    assert_eq!(twin.regs, [(-100i64) as u64, 0x5000, how, 24, 0, 0]);
    assert_eq!(Op::Open.twin_registers(), Some(twin.len));
    assert!(Op::Open.runs_from_copy());
    // Every other twin runs as its twin, whatever the request's address.
    for &op in Op::ALL.iter().filter(|op| op.twin().is_some() && **op != Op::Open) {
        assert!(!op.runs_from_copy(), "{op:?}");
        let zeros = [0u8; ferrocall_abi::ops::MAX_KNOWN_REQUEST_SIZE];
        let call = Call::decode_args(op, &zeros).expect("all-zero arguments decode");
        assert_eq!(call.twin_call(0x1000), call.twin_call(0x2000), "{op:?}");
    }
}

/// The decoded presentation puts each field where `decoded_layout` says, sign-extending
/// signed fields, and only operations that run from the copy have one.
#[test]
fn the_decoded_presentation_follows_its_layout() {
    let mut next = common::xorshift(0x2545_f491_4f6c_dd1d);
    for &op in Op::ALL {
        let mut bytes = [0u8; ferrocall_abi::ops::MAX_KNOWN_REQUEST_SIZE];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&next().to_le_bytes());
        }
        for f in op.fields().iter().filter(|f| f.ty == FieldType::Pad32) {
            bytes[f.offset..f.offset + 4].fill(0);
        }
        let call = Call::decode_args(op, &bytes).expect("padding is zero");
        let Some(shown) = call.decoded_args() else {
            assert!(!op.has_decoded_presentation(), "{op:?}");
            assert_eq!(op.decoded_layout().count(), 0, "{op:?}");
            continue;
        };
        assert!(op.has_decoded_presentation(), "{op:?}");
        assert_eq!(shown.regs[0], u64::from(op.raw()));
        let layout: Vec<_> = op.decoded_layout().collect();
        assert_eq!(layout.len() + 1, shown.len, "{op:?}: every field is shown");
        for s in layout {
            let at = s.field.offset + if s.part == ShownPart::Len { 8 } else { 0 };
            let raw = match s.field.ty.size() {
                4 => u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())),
                _ => u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()),
            };
            let want = match s.field.ty {
                FieldType::I32 => i64::from(raw as u32 as i32) as u64,
                _ => raw,
            };
            assert_eq!(shown.regs[s.arg], want, "{op:?}.{} in args[{}]", s.field.name, s.arg);
        }
    }
}

/// A handler that hands back the call it was given: what [`Call::decode_dispatch`] ran.
struct Echo;

impl ferrocall_abi::Handler for Echo {
    type Answer = Call;
    fn useless(&mut self, a: ops::UselessArgs) -> Call {
        Call::Useless(a)
    }
    fn getpid(&mut self, a: ops::GetPidArgs) -> Call {
        Call::GetPid(a)
    }
    fn getppid(&mut self, a: ops::GetPpidArgs) -> Call {
        Call::GetPpid(a)
    }
    fn write(&mut self, a: ops::WriteArgs) -> Call {
        Call::Write(a)
    }
    fn read(&mut self, a: ops::ReadArgs) -> Call {
        Call::Read(a)
    }
    fn exit(&mut self, a: ops::ExitArgs) -> Call {
        Call::Exit(a)
    }
    fn getcwd(&mut self, a: ops::GetCwdArgs) -> Call {
        Call::GetCwd(a)
    }
    fn probe(&mut self, a: ops::ProbeArgs) -> Call {
        Call::Probe(a)
    }
    fn batch(&mut self, a: ops::BatchArgs) -> Call {
        Call::Batch(a)
    }
    fn packed_batch(&mut self, a: ops::PackedBatchArgs) -> Call {
        Call::PackedBatch(a)
    }
    fn getuid(&mut self, a: ops::GetUidArgs) -> Call {
        Call::GetUid(a)
    }
    fn open(&mut self, a: ops::OpenArgs) -> Call {
        Call::Open(a)
    }
}

/// A random request for the fast-path tests: mostly well-formed (a known operation at its
/// size, zero flags, random argument bytes with zero padding now and then), sometimes not.
fn random_request(next: &mut impl FnMut() -> u64) -> Vec<u8> {
    let op = match next() % 8 {
        0 => (next() % 16) as u32,
        _ => Op::ALL[(next() % Op::ALL.len() as u64) as usize].raw(),
    };
    let size = match (next() % 6, Op::from_raw(op.into())) {
        (0, _) | (_, None) => (next() % 12 * 8) as u32,
        (1, Some(o)) => (o.request_size() - 8) as u32,
        (2, Some(o)) => (o.request_size() + 8) as u32,
        (_, Some(o)) => o.request_size() as u32,
    };
    let mut b = Vec::new();
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&op.to_le_bytes());
    let flags: u64 = if next() % 8 == 0 { 1 << (next() % 64) } else { 0 };
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&next().to_le_bytes());
    b.extend_from_slice(&next().to_le_bytes());
    while b.len() < size as usize + 16 {
        let word = next();
        // Zero words often enough that padding fields decode.
        b.extend_from_slice(&(if word % 3 == 0 { 0 } else { word }).to_le_bytes());
    }
    let cut = match next() % 10 {
        0 => (next() as usize) % (b.len() + 1),
        _ => b.len(),
    };
    b.truncate(cut);
    b
}

/// The lone fast path takes batches too, and otherwise what the packed one takes; what it
/// takes, the general path decodes the same.
#[test]
fn the_lone_fast_path_decodes_what_the_general_path_decodes() {
    use ferrocall_abi::decode::{decode, fast_path, lone_fast_path, plan};
    let mut next = common::xorshift(0x5851_f42d_4c95_7f2d);
    let mut batches = 0;
    for _ in 0..200_000 {
        let bytes = random_request(&mut next);
        let Some((op, args, rest)) = lone_fast_path(&bytes) else {
            assert!(fast_path(&bytes).is_none(), "{bytes:02x?}");
            continue;
        };
        assert_eq!(op.request_size(), args.len() + 32);
        if !op.is_batch() {
            assert_eq!(fast_path(&bytes), Some((op, args, rest)));
        }
        batches += usize::from(op.is_batch());
        let size = op.request_size();
        let general = plan(op.raw().into(), size as u64, 0x1000)
            .and_then(|plan| decode(&plan, &bytes[..size]));
        assert_eq!(Call::decode_dispatch(op, args, &mut Echo), general, "{bytes:02x?}");
    }
    assert!(batches > 100, "the random requests hold batches too ({batches})");
}

/// What the handler runs from the argument words the entry code read at entry
/// (`Call::dispatch_loaded`) is what the general path decodes from the same request, for an
/// operation without a twin at the size this ABI knows; anything else it leaves alone.
#[test]
fn a_request_read_at_entry_runs_what_the_general_path_decodes() {
    use ferrocall_abi::decode::{decode, plan};
    let mut next = common::xorshift(0x2545_f491_4f6c_dd1d);
    let mut ran = 0;
    for _ in 0..200_000 {
        let bytes = random_request(&mut next);
        if bytes.len() < 32 {
            continue;
        }
        let op = u64::from(u32::from_le_bytes(bytes[4..8].try_into().unwrap()));
        let size = u64::from(u32::from_le_bytes(bytes[..4].try_into().unwrap()));
        let args = &bytes[32..];
        let loaded = Call::dispatch_loaded(op, size, args, &mut Echo);
        let known = Op::from_raw(op).filter(|o| o.request_size() as u64 == size);
        match known {
            Some(o) if o.twin().is_none() && bytes.len() as u64 >= size => {
                // The header's flags are the entry code's to check: compare with a request
                // that has none.
                let mut clean = bytes[..size as usize].to_vec();
                clean[8..16].fill(0);
                let general = plan(op, size, 0x1000).and_then(|plan| decode(&plan, &clean));
                assert_eq!(loaded, Some(general), "{bytes:02x?}");
                ran += 1;
            }
            // A request cut short here is never read at entry; the words the entry code
            // would hold are not all in `bytes`.
            Some(o) if o.twin().is_none() => {}
            _ => assert_eq!(loaded, None, "{bytes:02x?}"),
        }
    }
    assert!(ran > 10_000, "{ran}");
}

#[test]
fn the_packed_fast_path_decodes_what_the_general_path_decodes() {
    use ferrocall_abi::decode::{decode, fast_path, packed_plan};
    let mut next = common::xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut decoded, mut refused) = (0, 0);
    for _ in 0..200_000 {
        let bytes = random_request(&mut next);
        // The general path, for a request of exactly the size this ABI knows (the only
        // one the fast path takes; any other is marked E2BIG here, never compared).
        let general = packed_plan(&bytes, 0x1000, bytes.len()).and_then(|plan| {
            if plan.copy_len != plan.known || plan.size != plan.known {
                return Err(Errno::E2BIG);
            }
            decode(&plan, bytes.get(..plan.known).ok_or(Errno::EINVAL)?)
        });
        match fast_path(&bytes) {
            Some((op, args, rest)) => {
                // The request, then what follows it.
                assert_eq!(args.len() + 32 + rest.len(), bytes.len());
                assert_eq!(op.request_size(), args.len() + 32);
                let ran = Call::decode_dispatch(op, args, &mut Echo);
                assert_eq!(ran, general, "{bytes:02x?}");
                assert_eq!(ran, Call::decode_args(op, args), "{bytes:02x?}");
                assert!(!op.is_batch());
                if ran.is_ok() {
                    decoded += 1;
                } else {
                    refused += 1;
                }
            }
            // Every request the general path decodes at its exact size is the fast path's.
            None => assert!(general.is_err(), "{bytes:02x?}"),
        }
    }
    // The fast path decoded many requests and refused many (a non-zero padding field).
    assert!(decoded > 30_000 && refused > 10_000, "{decoded} {refused}");
}

/// What a run hands its calls to in the test below: it stops before call `limit`.
struct Recorder {
    calls: Vec<Call>,
    limit: usize,
}

impl ferrocall_abi::decode::Run<Call> for Recorder {
    fn ready(&mut self, _: Op) -> bool {
        self.calls.len() < self.limit
    }

    fn answered(&mut self, call: Call) -> bool {
        self.calls.push(call);
        true
    }
}

/// A packed batch's run of one operation (`Call::dispatch_run`) runs exactly the calls the
/// fast path and `decode_args` would run one by one: the requests from the first while
/// each is of the first's operation, takes the fast path and decodes, up to where the
/// caller stops it.
#[test]
fn a_run_of_one_operation_runs_what_the_fast_path_runs_one_by_one() {
    use ferrocall_abi::decode::fast_path;
    let mut next = common::xorshift(0x2545_f491_4f6c_dd1d);
    let (mut runs, mut long, mut calls, mut windowed) = (0, 0, 0, 0);
    for _ in 0..40_000 {
        let first = random_request(&mut next);
        let Some((op, _, _)) = fast_path(&first) else {
            continue;
        };
        // Mostly well-formed requests of the same operation after it (whose padding may
        // still be set), now and then any other.
        let mut bytes = first;
        bytes.truncate(op.request_size());
        for _ in 0..next() % 6 {
            let same = next() % 4 != 0;
            let request = loop {
                let mut r = random_request(&mut next);
                if !same {
                    break r;
                }
                if fast_path(&r).is_some_and(|(o, _, _)| o == op) {
                    r.truncate(op.request_size());
                    break r;
                }
            };
            bytes.extend_from_slice(&request);
        }
        let limit = (next() % 8) as usize;
        // One by one.
        let (mut want, mut want_used) = (Vec::new(), 0);
        while want.len() < limit {
            let Some((o, args, _)) = fast_path(&bytes[want_used..]) else { break };
            if o != op {
                break;
            }
            let Ok(call) = Call::decode_args(o, args) else { break };
            want.push(call);
            want_used += o.request_size();
        }
        let mut run = Recorder { calls: Vec::new(), limit };
        let used = Call::dispatch_run(op, &bytes, &mut Echo, &mut run);
        assert_eq!(run.calls, want, "{bytes:02x?}");
        assert_eq!(used, want_used, "{bytes:02x?}");
        // A `Batch`'s common path dispatches on the raw number: the same loop.
        let mut run = Recorder { calls: Vec::new(), limit };
        let used = Call::dispatch_run_raw(op.raw().into(), &mut &bytes[..], &mut Echo, &mut run);
        assert_eq!((&run.calls, used), (&want, want_used), "raw, {bytes:02x?}");
        // A `Batch`'s one call: the first call of the run, if any.
        let mut run = Recorder { calls: Vec::new(), limit };
        let ran = Call::dispatch_call_raw(op.raw().into(), &bytes, &mut Echo, &mut run);
        assert_eq!(ran, !want.is_empty(), "one call, {bytes:02x?}");
        assert_eq!(run.calls, want[..want.len().min(1)], "one call, {bytes:02x?}");
        // A packed batch's run goes on from one chunk to the next: windows cut anywhere,
        // each a fresh copy, run the same calls.
        let mut windows = Windows { bytes: &bytes, cuts: next(), copy: Vec::new(), asked: 0 };
        let mut run = Recorder { calls: Vec::new(), limit };
        let used = Call::dispatch_run_in(op, &mut windows, &mut Echo, &mut run);
        assert_eq!((&run.calls, used), (&want, want_used), "windows, {bytes:02x?}");
        windowed += usize::from(windows.asked > 1 && want.len() >= 2);
        runs += 1;
        long += usize::from(want.len() >= 3);
        calls += want.len();
    }
    assert!(runs > 10_000 && long > 1_000 && calls > 10_000, "{runs} {long} {calls}");
    // Many runs took their calls from more than one window.
    assert!(windowed > 1_000, "{windowed}");
}

/// Requests handed out as a packed batch's chunks hand them out: each window a new copy of
/// the bytes from where the run is, of a length drawn from `cuts` (any length, a request
/// cut in two included) but at least one request while one is left.
struct Windows<'a> {
    bytes: &'a [u8],
    cuts: u64,
    copy: Vec<u8>,
    asked: usize,
}

impl ferrocall_abi::decode::Requests for Windows<'_> {
    fn window(&mut self, used: usize, size: usize) -> &[u8] {
        self.asked += 1;
        let rest = self.bytes.get(used..).unwrap_or(&[]);
        self.cuts = self.cuts.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
        let len = (self.cuts % 130) as usize;
        self.copy = rest[..len.max(size).min(rest.len())].to_vec();
        &self.copy
    }
}

/// A `Batch`'s common path takes a call by its raw operation number: exactly the requests
/// of a known operation other than a batch, at the size this ABI knows for it; and its
/// raw dispatch runs no call for any other number.
#[test]
fn a_batch_call_is_taken_by_its_raw_number_as_by_its_operation() {
    let mut next = common::xorshift(0x9e37_79b9_7f4a_7c15);
    let numbers = (0..64u64).chain([u64::from(u32::MAX), 1 << 32, u64::MAX]);
    for raw in numbers.chain((0..1000).map(|_| next())) {
        let want = Op::from_raw(raw).filter(|op| !op.is_batch()).map_or(0, Op::request_size);
        assert_eq!(Op::batch_call_size(raw), want, "operation number {raw:#x}");
        if Op::from_raw(raw).is_none() {
            let mut run = Recorder { calls: Vec::new(), limit: 8 };
            let bytes = useless_bytes(1, 40);
            assert_eq!(Call::dispatch_run_raw(raw, &mut &bytes[..], &mut Echo, &mut run), 0);
            assert!(!Call::dispatch_call_raw(raw, &bytes, &mut Echo, &mut run));
            assert!(run.calls.is_empty());
        }
    }
}

/// Review L2: the table index from a raw operation number is masked without a branch.
#[test]
fn table_indexes_are_masked() {
    use ferrocall_abi::ops::index_nospec;
    for len in [1usize, 2, 12, 64] {
        for index in 0..len {
            assert_eq!(index_nospec(index, len), index);
        }
        for index in [len, len + 1, usize::MAX / 2, usize::MAX, 0x8000_0000_0000_0000] {
            assert_eq!(index_nospec(index, len), 0, "{index:#x} of {len}");
        }
    }
    for op in Op::ALL {
        assert!(op.request_size() >= Request::<()>::ARGS_OFFSET);
    }
}
