//! A classic BPF interpreter for seccomp programs, for host tests.
//!
//! [`check`] accepts exactly the programs the kernel accepts in
//! `seccomp(SECCOMP_SET_MODE_FILTER)`: `bpf_check_classic()` (length, opcodes, jump targets,
//! scratch memory written before it is read, a final `RET`) and then
//! `seccomp_check_filter()` (only the opcodes seccomp allows, only aligned 32-bit loads
//! inside `struct seccomp_data`). [`run`] then runs a program as the kernel does: `A` and
//! `X` start at 0, arithmetic is on 32 bits and wraps, a shift by `X` takes `X & 31`, and a
//! division by an `X` of 0 ends the program with 0 (`SECCOMP_RET_KILL_THREAD`).
//!
//! [`shown`] gives the `seccomp_data` the kernel shows for a typed call, so a test can run
//! a filter on typed calls as the kernel would.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ferrocall_abi::{Call, SYSCALL_NR};

use crate::bpf::{
    SeccompData, SockFilter, BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA,
    BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH,
    BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH,
    BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
};

/// Why the kernel would refuse a program (it says `EINVAL` for each), or why it cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InterpError {
    /// No instruction.
    Empty,
    /// More than [`BPF_MAXINSNS`] instructions.
    TooLong {
        /// The program's length.
        len: usize,
    },
    /// An opcode seccomp does not allow.
    Opcode {
        /// Where.
        pc: usize,
        /// The opcode.
        code: u16,
    },
    /// A jump past the last instruction.
    Jump {
        /// Where.
        pc: usize,
    },
    /// A load from `seccomp_data` that is not 4-aligned or not inside its 64 bytes.
    Load {
        /// Where.
        pc: usize,
        /// The offset.
        k: u32,
    },
    /// A scratch memory word above the 16 there are.
    Scratch {
        /// Where.
        pc: usize,
        /// The word.
        k: u32,
    },
    /// A scratch memory word read where some path has not written it.
    Unwritten {
        /// Where.
        pc: usize,
        /// The word.
        k: u32,
    },
    /// A division by the constant 0, or a shift by a constant of 32 or more.
    Constant {
        /// Where.
        pc: usize,
    },
    /// The last instruction is not a `RET`.
    NoReturn,
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InterpError::Empty => f.write_str("empty program"),
            InterpError::TooLong { len } => {
                write!(f, "{len} instructions, more than {BPF_MAXINSNS}")
            }
            InterpError::Opcode { pc, code } => {
                write!(f, "instruction {pc}: opcode {code:#06x} is not allowed in seccomp")
            }
            InterpError::Jump { pc } => write!(f, "instruction {pc}: jump past the end"),
            InterpError::Load { pc, k } => write!(
                f,
                "instruction {pc}: load at offset {k}, not an aligned word of seccomp_data"
            ),
            InterpError::Scratch { pc, k } => {
                write!(f, "instruction {pc}: scratch word {k}, there are {BPF_MEMWORDS}")
            }
            InterpError::Unwritten { pc, k } => {
                write!(f, "instruction {pc}: scratch word {k} read before it is written")
            }
            InterpError::Constant { pc } => {
                write!(f, "instruction {pc}: division by 0 or shift by 32 or more")
            }
            InterpError::NoReturn => f.write_str("the last instruction is not a RET"),
        }
    }
}

impl core::error::Error for InterpError {}

/// An instruction seccomp allows, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Insn {
    /// `A = data[k]`.
    LdAbs,
    /// `A = k` (also `BPF_LD | BPF_W | BPF_LEN`, with `k` = 64).
    LdImm,
    /// `X = k` (also `BPF_LDX | BPF_W | BPF_LEN`, with `k` = 64).
    LdxImm,
    /// `A = M[k]`.
    LdMem,
    /// `X = M[k]`.
    LdxMem,
    /// `M[k] = A`.
    St,
    /// `M[k] = X`.
    Stx,
    /// `A = A op src`.
    Alu(u16, Src),
    /// `A = -A`.
    Neg,
    /// `pc += k`.
    Ja,
    /// `pc += A op src ? jt : jf`.
    Jmp(u16, Src),
    /// Return `k`.
    RetK,
    /// Return `A`.
    RetA,
    /// `X = A`.
    Tax,
    /// `A = X`.
    Txa,
}

/// The second operand of an ALU operation or a jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Src {
    K,
    X,
}

/// The ALU operations seccomp allows (no `BPF_MOD`).
const ALU_OPS: [u16; 9] =
    [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH];
/// The conditional jumps.
const JMP_OPS: [u16; 4] = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET];

const LD_W_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
const LD_W_LEN: u16 = BPF_LD | BPF_W | BPF_LEN;
const LDX_W_LEN: u16 = BPF_LDX | BPF_W | BPF_LEN;
const LD_IMM: u16 = BPF_LD | BPF_IMM;
const LDX_IMM: u16 = BPF_LDX | BPF_IMM;
const LD_MEM: u16 = BPF_LD | BPF_MEM;
const LDX_MEM: u16 = BPF_LDX | BPF_MEM;
const ALU_NEG: u16 = BPF_ALU | BPF_NEG;
const JMP_JA: u16 = BPF_JMP | BPF_JA;
const RET_K: u16 = BPF_RET | BPF_K;
const RET_A: u16 = BPF_RET | BPF_A;
const MISC_TAX: u16 = BPF_MISC | BPF_TAX;
const MISC_TXA: u16 = BPF_MISC | BPF_TXA;

/// The instruction `code` is, if seccomp allows it. (A `k` a `LEN` load implies is set by
/// [`validate`].)
fn decode(code: u16) -> Option<Insn> {
    let insn = match code {
        LD_W_ABS => Insn::LdAbs,
        LD_W_LEN | LD_IMM => Insn::LdImm,
        LDX_W_LEN | LDX_IMM => Insn::LdxImm,
        LD_MEM => Insn::LdMem,
        LDX_MEM => Insn::LdxMem,
        BPF_ST => Insn::St,
        BPF_STX => Insn::Stx,
        ALU_NEG => Insn::Neg,
        JMP_JA => Insn::Ja,
        RET_K => Insn::RetK,
        RET_A => Insn::RetA,
        MISC_TAX => Insn::Tax,
        MISC_TXA => Insn::Txa,
        _ => {
            // class (bits 0-2) | source (bit 3) | operation (the rest)
            let src = if code & BPF_X != 0 { Src::X } else { Src::K };
            let op = code & !0x0f;
            return match code & 0x07 {
                BPF_ALU if ALU_OPS.contains(&op) => Some(Insn::Alu(op, src)),
                BPF_JMP if JMP_OPS.contains(&op) => Some(Insn::Jmp(op, src)),
                _ => None,
            };
        }
    };
    Some(insn)
}

/// A checked instruction: what it does, `k`, `jt`, `jf`.
type Checked = (Insn, u32, usize, usize);

/// The program decoded, if the kernel accepts it.
fn validate(prog: &[SockFilter]) -> Result<Vec<Checked>, InterpError> {
    let len = prog.len();
    if len == 0 {
        return Err(InterpError::Empty);
    }
    if len > BPF_MAXINSNS {
        return Err(InterpError::TooLong { len });
    }
    let mut out = Vec::with_capacity(len);
    for (pc, f) in prog.iter().enumerate() {
        let insn = decode(f.code).ok_or(InterpError::Opcode { pc, code: f.code })?;
        // How many instructions follow this one: a jump may skip up to that many minus one.
        let after = len.saturating_sub(pc).saturating_sub(1);
        let (jt, jf) = (usize::from(f.jt), usize::from(f.jf));
        let mut k = f.k;
        match insn {
            Insn::LdAbs if k >= SeccompData::SIZE as u32 || k % 4 != 0 => {
                return Err(InterpError::Load { pc, k });
            }
            Insn::LdImm | Insn::LdxImm if f.code & BPF_LEN != 0 => k = SeccompData::SIZE as u32,
            Insn::LdMem | Insn::LdxMem | Insn::St | Insn::Stx if k >= BPF_MEMWORDS => {
                return Err(InterpError::Scratch { pc, k });
            }
            Insn::Alu(BPF_DIV, Src::K) if k == 0 => return Err(InterpError::Constant { pc }),
            Insn::Alu(BPF_LSH | BPF_RSH, Src::K) if k >= 32 => {
                return Err(InterpError::Constant { pc });
            }
            Insn::Ja if k as usize >= after => return Err(InterpError::Jump { pc }),
            Insn::Jmp(..) if jt >= after || jf >= after => return Err(InterpError::Jump { pc }),
            _ => {}
        }
        out.push((insn, k, jt, jf));
    }
    if !matches!(out.last(), Some((Insn::RetK | Insn::RetA, ..))) {
        return Err(InterpError::NoReturn);
    }
    check_scratch(&out)?;
    Ok(out)
}

/// The kernel's `check_load_and_stores()`: every scratch word is written before it is read,
/// on every path. (Jump targets are in range: [`validate`] checked them.)
fn check_scratch(prog: &[Checked]) -> Result<(), InterpError> {
    // `masks[pc]`: the words written on every jump to `pc` seen so far.
    let mut masks = vec![u16::MAX; prog.len()];
    let mut valid: u16 = 0;
    fn restrict(masks: &mut [u16], target: usize, valid: u16) {
        if let Some(mask) = masks.get_mut(target) {
            *mask &= valid;
        }
    }
    for (pc, &(insn, k, jt, jf)) in prog.iter().enumerate() {
        valid &= masks.get(pc).copied().unwrap_or(0);
        let bit = 1u16.checked_shl(k).unwrap_or(0);
        match insn {
            Insn::St | Insn::Stx => valid |= bit,
            Insn::LdMem | Insn::LdxMem if valid & bit == 0 => {
                return Err(InterpError::Unwritten { pc, k });
            }
            Insn::Ja => {
                restrict(&mut masks, pc.saturating_add(1).saturating_add(k as usize), valid);
                valid = u16::MAX;
            }
            Insn::Jmp(..) => {
                restrict(&mut masks, pc.saturating_add(1).saturating_add(jt), valid);
                restrict(&mut masks, pc.saturating_add(1).saturating_add(jf), valid);
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the kernel accepts `prog` as a seccomp filter, and if not, why.
pub fn check(prog: &[SockFilter]) -> Result<(), InterpError> {
    validate(prog).map(drop)
}

/// Runs `prog` on `data` as the kernel does, after [`check`]: the value it returns (see
/// [`Action::from_ret`](crate::Action::from_ret)).
pub fn run(prog: &[SockFilter], data: &SeccompData) -> Result<u32, InterpError> {
    let prog = validate(prog)?;
    let bytes = data.to_bytes();
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; BPF_MEMWORDS as usize];
    let mut pc = 0usize;
    // Every step moves `pc` forward, and `validate` keeps it inside the program.
    loop {
        let &(insn, k, jt, jf) = prog.get(pc).ok_or(InterpError::Jump { pc })?;
        let here = pc;
        pc = pc.saturating_add(1);
        let src = |src| match src {
            Src::K => k,
            Src::X => x,
        };
        match insn {
            Insn::LdAbs => {
                let word = bytes
                    .get(k as usize..)
                    .and_then(<[u8]>::first_chunk)
                    .ok_or(InterpError::Load { pc: here, k })?;
                a = u32::from_le_bytes(*word);
            }
            Insn::LdImm => a = k,
            Insn::LdxImm => x = k,
            Insn::LdMem | Insn::LdxMem => {
                let word = *mem.get(k as usize).ok_or(InterpError::Scratch { pc: here, k })?;
                if insn == Insn::LdMem {
                    a = word;
                } else {
                    x = word;
                }
            }
            Insn::St | Insn::Stx => {
                let word = mem.get_mut(k as usize).ok_or(InterpError::Scratch { pc: here, k })?;
                *word = if insn == Insn::St { a } else { x };
            }
            Insn::Alu(op, s) => {
                let s = src(s);
                a = match op {
                    BPF_ADD => a.wrapping_add(s),
                    BPF_SUB => a.wrapping_sub(s),
                    BPF_MUL => a.wrapping_mul(s),
                    BPF_DIV => match a.checked_div(s) {
                        Some(q) => q,
                        None => return Ok(0),
                    },
                    BPF_AND => a & s,
                    BPF_OR => a | s,
                    BPF_XOR => a ^ s,
                    BPF_LSH => a << (s & 31),
                    BPF_RSH => a >> (s & 31),
                    _ => return Err(InterpError::Opcode { pc: here, code: BPF_ALU | op }),
                };
            }
            Insn::Neg => a = a.wrapping_neg(),
            Insn::Ja => pc = pc.saturating_add(k as usize),
            Insn::Jmp(op, s) => {
                let s = src(s);
                let taken = match op {
                    BPF_JEQ => a == s,
                    BPF_JGT => a > s,
                    BPF_JGE => a >= s,
                    BPF_JSET => a & s != 0,
                    _ => return Err(InterpError::Opcode { pc: here, code: BPF_JMP | op }),
                };
                pc = pc.saturating_add(if taken { jt } else { jf });
            }
            Insn::RetK => return Ok(k),
            Insn::RetA => return Ok(a),
            Insn::Tax => x = a,
            Insn::Txa => a = x,
        }
    }
}

/// What seccomp is shown for a lone typed call of `call` whose request is at `addr`, in the
/// order the kernel runs the filters; the call runs only if each of them allows it:
///
/// - an operation with a legacy twin: the twin, as the kernel makes it
///   ([`Call::twin_call`]), then, for one with a decoded presentation, `ferrocall(op,
///   fields…)` ([`Call::decoded_args`]);
/// - any other: `ferrocall(op, size, request)`, with the request size of this ABI.
///
/// Arguments a presentation does not use are 0 here (the kernel may show other values
/// there); `arch` is x86_64 and the instruction pointer 0.
pub fn shown(call: &Call, addr: u64) -> Vec<SeccompData> {
    let nr = SYSCALL_NR as i32;
    let op = call.op();
    let mut out = Vec::with_capacity(2);
    match call.twin_call(addr) {
        Some((twin, args)) => out.push(SeccompData::new(twin as i32, args.regs)),
        None => {
            let args = [u64::from(op.raw()), op.request_size() as u64, addr, 0, 0, 0];
            out.push(SeccompData::new(nr, args));
        }
    }
    if let Some(args) = call.decoded_args() {
        out.push(SeccompData::new(nr, args.regs));
    }
    out
}
