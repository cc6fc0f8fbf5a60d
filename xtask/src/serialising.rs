//! The serialising instructions of `cargo xtask profile`'s second boot: which of the
//! instructions a call executes are the ones that cost on hardware whatever icount says.
//!
//! Under `-icount` every instruction counts 1, but on a real CPU a system call's price is
//! mostly its entry and exit with the speculation mitigations on: the page-table switch
//! (`mov` to CR3), the barriers (`lfence`), the buffer clearing (`verw`) and the MSR writes
//! (`wrmsr`, IBPB among them). The profile decodes each instruction it single-steps just
//! far enough to tell these apart; this module is that decoder and the tally. Pure
//! functions: no I/O.

use std::fmt;

/// A serialising (or fencing) instruction the profile counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `mov %reg, %cr3`: a page-table switch (page-table isolation).
    MovCr3,
    /// `wrmsr` to `IA32_PRED_CMD` with its IBPB bit: an indirect branch prediction barrier.
    Ibpb,
    /// `wrmsr` to `IA32_SPEC_CTRL` (IBRS on entry and exit).
    WrmsrSpecCtrl,
    /// Any other `wrmsr`.
    WrmsrOther,
    /// `verw` with a memory operand: clears the CPU buffers (MDS, TAA, MMIO).
    Verw,
    /// `lfence`.
    Lfence,
}

impl Kind {
    /// Every kind, in the order the report shows them.
    pub const ALL: [Kind; 6] =
        [Kind::MovCr3, Kind::Ibpb, Kind::WrmsrSpecCtrl, Kind::WrmsrOther, Kind::Verw, Kind::Lfence];

    /// The column heading of the report.
    pub fn heading(self) -> &'static str {
        match self {
            Kind::MovCr3 => "mov to CR3",
            Kind::Ibpb => "IBPB",
            Kind::WrmsrSpecCtrl => "wrmsr SPEC_CTRL",
            Kind::WrmsrOther => "other wrmsr",
            Kind::Verw => "verw",
            Kind::Lfence => "lfence",
        }
    }
}

/// What the decoder makes of the bytes at an instruction address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A `wrmsr`: which kind depends on `ecx` and `eax` when it runs.
    Wrmsr,
    /// One of the other serialising kinds.
    Always(Kind),
    /// Anything else.
    Other,
}

/// `IA32_SPEC_CTRL`.
const MSR_SPEC_CTRL: u32 = 0x48;
/// `IA32_PRED_CMD`, whose bit 0 is IBPB.
const MSR_PRED_CMD: u32 = 0x49;

/// Decodes the instruction at the start of `bytes`, as far as telling the counted kinds
/// from the rest: legacy prefixes and a REX prefix, then the two-byte opcodes `0f 22`
/// (`mov` to a control register, CR3 when ModRM.reg is 3 and REX.R is clear), `0f 30`
/// (`wrmsr`), `0f 00 /5` (`verw`) and `0f ae /5` with a register form (`lfence`).
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut i = 0;
    while bytes.get(i).is_some_and(|b| {
        matches!(b, 0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3)
    }) {
        i += 1;
    }
    let mut rex_r = false;
    if let Some(&rex @ 0x40..=0x4f) = bytes.get(i) {
        rex_r = rex & 0x4 != 0;
        i += 1;
    }
    let (Some(0x0f), Some(&op), modrm) = (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) else {
        return Decoded::Other;
    };
    let reg = modrm.map(|m| (m >> 3) & 7);
    let register_form = modrm.is_some_and(|m| m >> 6 == 3);
    match (op, reg) {
        (0x22, Some(3)) if !rex_r && register_form => Decoded::Always(Kind::MovCr3),
        (0x30, _) => Decoded::Wrmsr,
        (0x00, Some(5)) => Decoded::Always(Kind::Verw),
        (0xae, Some(5)) if register_form => Decoded::Always(Kind::Lfence),
        _ => Decoded::Other,
    }
}

/// The kind of a `wrmsr` that runs with `ecx` and `eax`.
pub fn wrmsr_kind(ecx: u32, eax: u32) -> Kind {
    match ecx {
        MSR_PRED_CMD if eax & 1 != 0 => Kind::Ibpb,
        MSR_SPEC_CTRL => Kind::WrmsrSpecCtrl,
        _ => Kind::WrmsrOther,
    }
}

/// How many of each kind ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally([u64; Kind::ALL.len()]);

impl Tally {
    pub fn add(&mut self, kind: Kind) {
        if let Some(n) = self.0.get_mut(kind as usize) {
            *n += 1;
        }
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(kind as usize).copied().unwrap_or(0)
    }

    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Kind::ALL
            .iter()
            .filter(|&&k| self.get(k) > 0)
            .map(|&k| format!("{} {}", self.get(k), k.heading()))
            .collect();
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, wrmsr_kind, Decoded, Kind, Tally};

    #[test]
    fn the_counted_instructions_are_told_from_their_neighbours() {
        // Encodings as GNU as writes them (objdump of the kernel's entry code).
        let cases: &[(&[u8], Decoded)] = &[
            (&[0x0f, 0x22, 0xdf], Decoded::Always(Kind::MovCr3)), // mov %rdi,%cr3
            (&[0x0f, 0x22, 0xd8], Decoded::Always(Kind::MovCr3)), // mov %rax,%cr3
            (&[0x41, 0x0f, 0x22, 0xdc], Decoded::Always(Kind::MovCr3)), // mov %r12,%cr3
            (&[0x44, 0x0f, 0x22, 0xd8], Decoded::Other),          // mov %rax,%cr11: REX.R
            (&[0x0f, 0x22, 0xe0], Decoded::Other),                // mov %rax,%cr4
            (&[0x0f, 0x20, 0xd8], Decoded::Other),                // mov %cr3,%rax: a read
            (&[0x0f, 0x30], Decoded::Wrmsr),
            (&[0x0f, 0x32], Decoded::Other), // rdmsr
            (&[0x0f, 0x00, 0x2d, 0, 0, 0, 0], Decoded::Always(Kind::Verw)), // verw rip-relative
            (&[0x66, 0x0f, 0x00, 0x2d, 0, 0, 0, 0], Decoded::Always(Kind::Verw)),
            (&[0x0f, 0x00, 0xd8], Decoded::Other), // ltr %ax
            (&[0x0f, 0xae, 0xe8], Decoded::Always(Kind::Lfence)),
            (&[0x0f, 0xae, 0xf0], Decoded::Other), // mfence
            (&[0x0f, 0xae, 0x28], Decoded::Other), // xrstor (%rax): memory form of /5
            (&[0x0f, 0x01, 0xf8], Decoded::Other), // swapgs
            (&[0x48, 0x0f, 0x07], Decoded::Other), // sysretq
            (&[0x90], Decoded::Other),
            (&[], Decoded::Other),
            (&[0x0f], Decoded::Other),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes), *want, "{bytes:02x?}");
        }
    }

    #[test]
    fn a_wrmsr_is_told_by_its_msr() {
        assert_eq!(wrmsr_kind(0x49, 1), Kind::Ibpb);
        assert_eq!(wrmsr_kind(0x49, 0), Kind::WrmsrOther);
        assert_eq!(wrmsr_kind(0x48, 0), Kind::WrmsrSpecCtrl);
        assert_eq!(wrmsr_kind(0x6e0, 5), Kind::WrmsrOther); // TSC deadline
    }

    #[test]
    fn a_tally_counts_and_shows_each_kind() {
        let mut t = Tally::default();
        assert_eq!(t.to_string(), "none");
        t.add(Kind::MovCr3);
        t.add(Kind::MovCr3);
        t.add(Kind::Verw);
        assert_eq!(t.get(Kind::MovCr3), 2);
        assert_eq!(t.total(), 3);
        assert_eq!(t.to_string(), "2 mov to CR3, 1 verw");
    }
}
