//! The interpreter on hand-written programs: what it computes, and the programs it refuses
//! as the kernel's checker does.

use ferrocall_seccomp::bpf::*;
use ferrocall_seccomp::interp::{check, run, InterpError};
use ferrocall_seccomp::{to_bytes, Action, SeccompData, SockFilter, AUDIT_ARCH_X86_64};

fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter::stmt(code, k)
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter::jump(code, k, jt, jf)
}

const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
const RET_K: u16 = BPF_RET | BPF_K;
const RET_A: u16 = BPF_RET | BPF_A;

fn data(nr: i32, args: [u64; 6]) -> SeccompData {
    SeccompData::new(nr, args)
}

#[test]
fn return_a_constant() {
    let prog = [stmt(RET_K, SECCOMP_RET_ALLOW)];
    assert_eq!(run(&prog, &data(0, [0; 6])), Ok(SECCOMP_RET_ALLOW));
}

/// The classic allowlist: arch, then number.
#[test]
fn an_arch_and_number_check() {
    let prog = [
        stmt(LD_ABS, 4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
        stmt(LD_ABS, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
        stmt(RET_K, SECCOMP_RET_ALLOW),
        stmt(RET_K, SECCOMP_RET_ERRNO | 1),
    ];
    check(&prog).unwrap();
    assert_eq!(run(&prog, &data(39, [0; 6])), Ok(SECCOMP_RET_ALLOW));
    assert_eq!(run(&prog, &data(40, [0; 6])), Ok(SECCOMP_RET_ERRNO | 1));
    let foreign = SeccompData { arch: 0x4000_0003, ..data(39, [0; 6]) };
    assert_eq!(run(&prog, &foreign), Ok(SECCOMP_RET_KILL_PROCESS));
}

/// Loads are little-endian words: an argument's low half at +0, its high half at +4.
#[test]
fn loads_every_word_of_seccomp_data() {
    let d = SeccompData {
        nr: -2,
        arch: 0x1234_5678,
        instruction_pointer: 0xaaaa_bbbb_cccc_dddd,
        args: [0x1111_1111_2222_2222, 3, 4, 5, 6, 0x7777_7777_8888_8888],
    };
    let load = |k| run(&[stmt(LD_ABS, k), stmt(RET_A, 0)], &d);
    assert_eq!(load(0), Ok(0xffff_fffe));
    assert_eq!(load(4), Ok(0x1234_5678));
    assert_eq!(load(8), Ok(0xcccc_dddd));
    assert_eq!(load(12), Ok(0xaaaa_bbbb));
    assert_eq!(load(16), Ok(0x2222_2222));
    assert_eq!(load(20), Ok(0x1111_1111));
    assert_eq!(load(24), Ok(3));
    assert_eq!(load(56), Ok(0x8888_8888));
    assert_eq!(load(60), Ok(0x7777_7777));
    let len = run(&[stmt(BPF_LD | BPF_W | BPF_LEN, 0), stmt(RET_A, 0)], &d);
    assert_eq!(len, Ok(64));
    let xlen = [stmt(BPF_LDX | BPF_W | BPF_LEN, 0), stmt(BPF_MISC | BPF_TXA, 0), stmt(RET_A, 0)];
    assert_eq!(run(&xlen, &d), Ok(64));
}

#[test]
fn arithmetic_wraps_on_32_bits() {
    let alu = |op: u16, k: u32| stmt(BPF_ALU | op | BPF_K, k);
    let prog = [
        stmt(LD_ABS, 16), // args[0] low
        alu(BPF_ADD, 5),
        alu(BPF_MUL, 3),
        alu(BPF_SUB, 1),
        alu(BPF_AND, 0xfff),
        alu(BPF_OR, 0x1_0000),
        alu(BPF_XOR, 0x3),
        alu(BPF_LSH, 4),
        alu(BPF_RSH, 2),
        alu(BPF_DIV, 3),
        stmt(BPF_ALU | BPF_NEG, 0),
        stmt(RET_A, 0),
    ];
    for a in [0u32, 1, 7, 0xffff_ffff, 0x8000_0000, 12345] {
        let want = ((((((a.wrapping_add(5).wrapping_mul(3).wrapping_sub(1) & 0xfff) | 0x1_0000)
            ^ 3)
            << 4)
            >> 2)
            / 3)
        .wrapping_neg();
        assert_eq!(run(&prog, &data(0, [u64::from(a), 0, 0, 0, 0, 0])), Ok(want), "{a}");
    }
}

#[test]
fn the_x_register() {
    // A = args[0] low, X = args[1] low; A = (A + X) * X - X; then shifts by X & 31.
    let x = |op: u16| stmt(BPF_ALU | op | BPF_X, 0);
    let prog = [
        stmt(LD_ABS, 24),
        stmt(BPF_MISC | BPF_TAX, 0),
        stmt(LD_ABS, 16),
        x(BPF_ADD),
        x(BPF_MUL),
        x(BPF_SUB),
        x(BPF_XOR),
        x(BPF_LSH),
        x(BPF_RSH),
        x(BPF_OR),
        x(BPF_AND),
        x(BPF_DIV),
        stmt(RET_A, 0),
    ];
    for (a, b) in [(1u32, 2u32), (100, 33), (0xffff_ffff, 31), (5, 64 + 3), (9, 1)] {
        let mut r = a.wrapping_add(b).wrapping_mul(b).wrapping_sub(b) ^ b;
        r = (r << (b & 31)) >> (b & 31);
        r = (r | b) & b;
        r /= b;
        let d = data(0, [u64::from(a), u64::from(b), 0, 0, 0, 0]);
        assert_eq!(run(&prog, &d), Ok(r), "{a} {b}");
    }
    // Division by an X of 0 ends the program with 0, KILL_THREAD.
    let div0 = [stmt(BPF_LD | BPF_IMM, 7), x(BPF_DIV), stmt(RET_K, SECCOMP_RET_ALLOW)];
    assert_eq!(run(&div0, &data(0, [0; 6])), Ok(0));
    assert_eq!(Action::from_ret(0), Action::KillThread);
}

#[test]
fn jumps_with_k_and_x() {
    // Returns 1 when `A op 10` holds, else 2; with X = 10 for the X forms.
    let test = |op: u16, a: u32| {
        let prog = [
            stmt(BPF_LDX | BPF_IMM, 10),
            stmt(BPF_LD | BPF_IMM, a),
            jump(BPF_JMP | op | BPF_K, 10, 0, 2),
            jump(BPF_JMP | op | BPF_X, 0, 0, 1),
            stmt(RET_K, 1),
            stmt(RET_K, 2),
        ];
        // 1 only when both forms agree that it holds.
        run(&prog, &data(0, [0; 6])).unwrap() == 1
    };
    for a in [0u32, 9, 10, 11, 0x8000_000a, u32::MAX] {
        assert_eq!(test(BPF_JEQ, a), a == 10, "jeq {a}");
        assert_eq!(test(BPF_JGT, a), a > 10, "jgt {a}");
        assert_eq!(test(BPF_JGE, a), a >= 10, "jge {a}");
        assert_eq!(test(BPF_JSET, a), a & 10 != 0, "jset {a}");
    }
    // BPF_JA skips k instructions.
    let ja = [stmt(BPF_JMP | BPF_JA, 2), stmt(RET_K, 1), stmt(RET_K, 2), stmt(RET_K, 3)];
    assert_eq!(run(&ja, &data(0, [0; 6])), Ok(3));
}

#[test]
fn scratch_memory() {
    let prog = [
        stmt(LD_ABS, 0),
        stmt(BPF_ST, 3),
        stmt(BPF_LDX | BPF_IMM, 40),
        stmt(BPF_STX, 15),
        stmt(BPF_LD | BPF_IMM, 0),
        stmt(BPF_LDX | BPF_MEM, 3),
        stmt(BPF_LD | BPF_MEM, 15),
        stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
        stmt(RET_A, 0),
    ];
    assert_eq!(run(&prog, &data(2, [0; 6])), Ok(42));
}

#[test]
fn refused_programs() {
    let ret = stmt(RET_K, 0);
    let refused = |prog: &[SockFilter], want: InterpError| {
        assert_eq!(check(prog), Err(want), "{prog:?}");
        assert_eq!(run(prog, &data(0, [0; 6])), Err(want));
    };
    refused(&[], InterpError::Empty);
    refused(&vec![ret; BPF_MAXINSNS + 1], InterpError::TooLong { len: 4097 });
    check(&vec![ret; BPF_MAXINSNS]).unwrap();

    // Jumps past the end: a conditional one's either target, or JA.
    let jeq = |jt, jf| jump(BPF_JMP | BPF_JEQ | BPF_K, 0, jt, jf);
    refused(&[jeq(0, 2), ret, ret], InterpError::Jump { pc: 0 });
    refused(&[jeq(2, 0), ret, ret], InterpError::Jump { pc: 0 });
    check(&[jeq(1, 0), ret, ret]).unwrap();
    refused(&[stmt(BPF_JMP | BPF_JA, 2), ret, ret], InterpError::Jump { pc: 0 });
    refused(&[stmt(BPF_JMP | BPF_JA, u32::MAX), ret], InterpError::Jump { pc: 0 });
    check(&[stmt(BPF_JMP | BPF_JA, 1), ret, ret]).unwrap();

    // Loads: aligned and inside the 64 bytes.
    refused(&[stmt(LD_ABS, 2), ret], InterpError::Load { pc: 0, k: 2 });
    refused(&[stmt(LD_ABS, 17), ret], InterpError::Load { pc: 0, k: 17 });
    refused(&[stmt(LD_ABS, 64), ret], InterpError::Load { pc: 0, k: 64 });
    refused(&[stmt(LD_ABS, 0xffff_f000), ret], InterpError::Load { pc: 0, k: 0xffff_f000 });
    check(&[stmt(LD_ABS, 60), ret]).unwrap();

    // The last instruction returns.
    refused(&[stmt(LD_ABS, 0)], InterpError::NoReturn);
    refused(&[ret, stmt(LD_ABS, 0)], InterpError::NoReturn);
    refused(&[jeq(0, 0), ret, stmt(BPF_JMP | BPF_JA, 0)], InterpError::Jump { pc: 2 });

    // Opcodes classic BPF has but seccomp refuses, and ones that do not exist.
    for code in [
        BPF_LD | BPF_H | BPF_ABS,
        BPF_LD | BPF_B | BPF_ABS,
        BPF_LD | BPF_W | BPF_IND,
        BPF_LDX | BPF_B | BPF_MSH,
        BPF_LDX | BPF_W | BPF_ABS,
        BPF_ALU | BPF_MOD | BPF_K,
        BPF_ALU | BPF_MOD | BPF_X,
        BPF_ALU | BPF_NEG | BPF_X,
        BPF_RET | BPF_X,
        BPF_JMP | BPF_JA | BPF_X,
        BPF_ST | BPF_MEM,
        BPF_MISC | 0x40,
        0x0100 | BPF_RET,
        0xffff,
    ] {
        refused(&[stmt(code, 1), ret], InterpError::Opcode { pc: 0, code });
    }

    // Constants the checker refuses.
    refused(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret], InterpError::Constant { pc: 0 });
    refused(&[stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret], InterpError::Constant { pc: 0 });
    refused(&[stmt(BPF_ALU | BPF_RSH | BPF_K, 99), ret], InterpError::Constant { pc: 0 });
    check(&[stmt(BPF_ALU | BPF_RSH | BPF_K, 31), ret]).unwrap();

    // Scratch memory: 16 words, each written before it is read on every path.
    refused(&[stmt(BPF_ST, 16), ret], InterpError::Scratch { pc: 0, k: 16 });
    refused(&[stmt(BPF_LD | BPF_MEM, 16), ret], InterpError::Scratch { pc: 0, k: 16 });
    refused(&[stmt(BPF_LD | BPF_MEM, 0), ret], InterpError::Unwritten { pc: 0, k: 0 });
    let one_path = [stmt(LD_ABS, 0), jeq(0, 1), stmt(BPF_ST, 4), stmt(BPF_LDX | BPF_MEM, 4), ret];
    refused(&one_path, InterpError::Unwritten { pc: 3, k: 4 });
    let both_paths = [
        stmt(LD_ABS, 0),
        stmt(BPF_ST, 4),
        jeq(0, 1),
        stmt(BPF_ST, 5),
        stmt(BPF_LDX | BPF_MEM, 4),
        ret,
    ];
    check(&both_paths).unwrap();
}

#[test]
fn actions_and_bytes() {
    for (action, ret) in [
        (Action::KillProcess, 0x8000_0000),
        (Action::KillThread, 0),
        (Action::Trap(5), 0x0003_0005),
        (Action::Errno(13), 0x0005_000d),
        (Action::UserNotif, 0x7fc0_0000),
        (Action::Trace(0xffff), 0x7ff0_ffff),
        (Action::Log, 0x7ffc_0000),
        (Action::Allow, 0x7fff_0000),
    ] {
        assert_eq!(action.to_ret(), ret, "{action:?}");
        assert_eq!(Action::from_ret(ret), action);
    }
    assert_eq!(Action::from_ret(0x0005_ffff), Action::Errno(4095));
    assert_eq!(Action::from_ret(0x1234_0000), Action::KillProcess);
    assert_eq!(Action::from_ret(0x7fff_0001), Action::Allow);

    let prog = [jump(BPF_JMP | BPF_JEQ | BPF_K, 0x1122_3344, 5, 6), stmt(RET_K, 0xaabb_ccdd)];
    assert_eq!(
        to_bytes(&prog),
        [0x15, 0, 5, 6, 0x44, 0x33, 0x22, 0x11, 0x06, 0, 0, 0, 0xdd, 0xcc, 0xbb, 0xaa]
    );
    let d = SeccompData { nr: 1, arch: 2, instruction_pointer: 3, args: [4, 5, 6, 7, 8, 9] };
    let bytes = d.to_bytes();
    assert_eq!(bytes[..16], [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bytes[56..], [9, 0, 0, 0, 0, 0, 0, 0]);
}
