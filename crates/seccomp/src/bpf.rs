//! Classic BPF as seccomp uses it: the instruction format ([`SockFilter`]), the data a filter
//! reads ([`SeccompData`]), the opcode constants of `<linux/bpf_common.h>` and the return
//! values of `<linux/seccomp.h>`.
//!
//! Everything here is plain data with the kernel's numbers; the builder
//! ([`Filter`](crate::Filter)) and the interpreter ([`interp`](crate::interp)) are written
//! with it, and so can hand-written programs.

use alloc::vec::Vec;

/// Instruction class: load into `A`.
pub const BPF_LD: u16 = 0x00;
/// Instruction class: load into `X`.
pub const BPF_LDX: u16 = 0x01;
/// Instruction class: store `A` into scratch memory.
pub const BPF_ST: u16 = 0x02;
/// Instruction class: store `X` into scratch memory.
pub const BPF_STX: u16 = 0x03;
/// Instruction class: arithmetic on `A`.
pub const BPF_ALU: u16 = 0x04;
/// Instruction class: jumps.
pub const BPF_JMP: u16 = 0x05;
/// Instruction class: return.
pub const BPF_RET: u16 = 0x06;
/// Instruction class: register moves (`TAX`, `TXA`).
pub const BPF_MISC: u16 = 0x07;

/// Load size: 32-bit word (the only one seccomp allows).
pub const BPF_W: u16 = 0x00;
/// Load size: 16-bit half word (refused by seccomp).
pub const BPF_H: u16 = 0x08;
/// Load size: byte (refused by seccomp).
pub const BPF_B: u16 = 0x10;

/// Load mode: the constant `k`.
pub const BPF_IMM: u16 = 0x00;
/// Load mode: the word at offset `k` of the data (`seccomp_data`).
pub const BPF_ABS: u16 = 0x20;
/// Load mode: at offset `X + k` (refused by seccomp).
pub const BPF_IND: u16 = 0x40;
/// Load mode: scratch memory word `k`.
pub const BPF_MEM: u16 = 0x60;
/// Load mode: the length of the data (`sizeof(struct seccomp_data)`, 64).
pub const BPF_LEN: u16 = 0x80;
/// Load mode: IP header length (refused by seccomp).
pub const BPF_MSH: u16 = 0xa0;

/// ALU operation: `A += src`.
pub const BPF_ADD: u16 = 0x00;
/// ALU operation: `A -= src`.
pub const BPF_SUB: u16 = 0x10;
/// ALU operation: `A *= src`.
pub const BPF_MUL: u16 = 0x20;
/// ALU operation: `A /= src` (unsigned; by a zero `X` the program returns 0).
pub const BPF_DIV: u16 = 0x30;
/// ALU operation: `A |= src`.
pub const BPF_OR: u16 = 0x40;
/// ALU operation: `A &= src`.
pub const BPF_AND: u16 = 0x50;
/// ALU operation: `A <<= src`.
pub const BPF_LSH: u16 = 0x60;
/// ALU operation: `A >>= src` (logical).
pub const BPF_RSH: u16 = 0x70;
/// ALU operation: `A = -A`.
pub const BPF_NEG: u16 = 0x80;
/// ALU operation: `A %= src` (refused by seccomp).
pub const BPF_MOD: u16 = 0x90;
/// ALU operation: `A ^= src`.
pub const BPF_XOR: u16 = 0xa0;

/// Jump: always, `k` instructions forward (32-bit offset).
pub const BPF_JA: u16 = 0x00;
/// Jump: `jt` if `A == src`, else `jf`.
pub const BPF_JEQ: u16 = 0x10;
/// Jump: `jt` if `A > src` (unsigned), else `jf`.
pub const BPF_JGT: u16 = 0x20;
/// Jump: `jt` if `A >= src` (unsigned), else `jf`.
pub const BPF_JGE: u16 = 0x30;
/// Jump: `jt` if `A & src != 0`, else `jf`.
pub const BPF_JSET: u16 = 0x40;

/// Source operand: the constant `k`.
pub const BPF_K: u16 = 0x00;
/// Source operand: the register `X`.
pub const BPF_X: u16 = 0x08;
/// Return value: the register `A`.
pub const BPF_A: u16 = 0x10;

/// Misc operation: `X = A`.
pub const BPF_TAX: u16 = 0x00;
/// Misc operation: `A = X`.
pub const BPF_TXA: u16 = 0x80;

/// The number of 32-bit scratch memory words.
pub const BPF_MEMWORDS: u32 = 16;
/// The most instructions a program may have.
pub const BPF_MAXINSNS: usize = 4096;

/// Action: kill the whole process.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// Action: kill the calling thread.
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
/// Action: raise `SIGSYS`; the low 16 bits become `si_errno`.
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// Action: fail the call with the errno in the low 16 bits.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// Action: ask the supervisor listening on the filter's notification descriptor.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// Action: stop for the ptrace tracer; the low 16 bits are its message.
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// Action: allow, and log.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// Action: allow.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// The action bits of a return value.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// The data bits of a return value.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// One classic BPF instruction, `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// The opcode: class, size/mode or operation, source.
    pub code: u16,
    /// For a conditional jump: how many instructions to skip when the condition holds.
    pub jt: u8,
    /// For a conditional jump: how many instructions to skip when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl SockFilter {
    /// The size of one instruction in bytes.
    pub const SIZE: usize = 8;

    /// An instruction that does not jump, as the C macro `BPF_STMT(code, k)`.
    pub const fn stmt(code: u16, k: u32) -> SockFilter {
        SockFilter { code, jt: 0, jf: 0, k }
    }

    /// A jump, as the C macro `BPF_JUMP(code, k, jt, jf)`.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    /// The instruction's 8 bytes as the kernel reads them (x86_64, little-endian).
    pub const fn to_bytes(self) -> [u8; 8] {
        let c = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [c[0], c[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }
}

/// A program as the bytes of its `struct sock_filter` array: 8 bytes per instruction,
/// little-endian, ready for a `struct sock_fprog` (whose `len` is the instruction count,
/// `bytes.len() / 8`).
pub fn to_bytes(prog: &[SockFilter]) -> Vec<u8> {
    prog.iter().flat_map(|insn| insn.to_bytes()).collect()
}

/// What a filter reads, `struct seccomp_data`: the system call as the kernel shows it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeccompData {
    /// The system call number.
    pub nr: i32,
    /// The `AUDIT_ARCH_*` value of the calling convention ([`AUDIT_ARCH_X86_64`](crate::AUDIT_ARCH_X86_64)).
    pub arch: u32,
    /// The address of the system call instruction.
    pub instruction_pointer: u64,
    /// The six argument registers.
    pub args: [u64; 6],
}

impl SeccompData {
    /// `sizeof(struct seccomp_data)`.
    pub const SIZE: usize = 64;
    /// The offset of [`SeccompData::nr`].
    pub const NR: u32 = 0;
    /// The offset of [`SeccompData::arch`].
    pub const ARCH: u32 = 4;
    /// The offset of [`SeccompData::instruction_pointer`].
    pub const INSTRUCTION_POINTER: u32 = 8;
    /// The offset of [`SeccompData::args`].
    pub const ARGS: u32 = 16;

    /// A call of system call `nr` with `args` on x86_64, instruction pointer 0.
    pub const fn new(nr: i32, args: [u64; 6]) -> SeccompData {
        SeccompData { nr, arch: crate::AUDIT_ARCH_X86_64, instruction_pointer: 0, args }
    }

    /// The offsets of the low and the high 32 bits of `args[index]` (little-endian: low
    /// first). Meaningful only for `index < 6`.
    pub const fn arg_words(index: usize) -> (u32, u32) {
        let lo = SeccompData::ARGS.wrapping_add((index as u32).wrapping_mul(8));
        (lo, lo.wrapping_add(4))
    }

    /// The 64 bytes a filter reads, as the kernel lays them out on x86_64.
    pub fn to_bytes(&self) -> [u8; SeccompData::SIZE] {
        let words = [self.nr as u32 as u64 | u64::from(self.arch) << 32, self.instruction_pointer];
        let mut out = [0u8; SeccompData::SIZE];
        for (chunk, word) in out.chunks_exact_mut(8).zip(words.iter().chain(self.args.iter())) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

const _: () = {
    assert!(core::mem::size_of::<SockFilter>() == SockFilter::SIZE);
    assert!(core::mem::size_of::<SeccompData>() == SeccompData::SIZE);
    assert!(core::mem::offset_of!(SeccompData, nr) == SeccompData::NR as usize);
    assert!(core::mem::offset_of!(SeccompData, arch) == SeccompData::ARCH as usize);
    assert!(
        core::mem::offset_of!(SeccompData, instruction_pointer)
            == SeccompData::INSTRUCTION_POINTER as usize
    );
    assert!(core::mem::offset_of!(SeccompData, args) == SeccompData::ARGS as usize);
};
