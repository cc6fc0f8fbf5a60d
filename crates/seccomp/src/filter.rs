//! The filter builder: rules by operation and field name, compiled to classic BPF.
//!
//! A [`Filter`] is a default action, an action for calls of a foreign architecture, and
//! rules tried in order, the first that matches deciding. A rule matches a system call by
//! number ([`syscall`]) or a typed operation's ferrocall presentation ([`typed`], [`allow`],
//! [`deny`]), and holds only when all its conditions ([`Rule::when`]) hold. Conditions
//! compare one argument, named by index ([`arg`]) or, for a typed operation, by field
//! ([`field`]), as a full 64-bit value.
//!
//! # What the program looks like
//!
//! ```text
//!     arch != AUDIT_ARCH_X86_64                      -> foreign-arch action
//!     nr >= 0x4000_0000 (x32) and nr != -1           -> foreign-arch action
//!     rule 1: each check, failing -> rule 2; then RET rule 1's action
//!     rule 2: …
//!     RET default action
//! ```
//!
//! Each rule is one block that ends in its `RET`, so a failed check only ever jumps forward
//! to the next block. The program is emitted backwards, from the last instruction, so every
//! jump target is already placed when its jump is written; a conditional jump whose target
//! lies beyond its 8-bit reach jumps instead to a `BPF_JA` (32-bit offset) placed right after
//! it, which no instruction falls into. Any program up to the kernel's 4096 instructions is
//! therefore valid, however long its rules.

use alloc::vec::Vec;
use core::fmt;

use ferrocall_abi::{Op, ShownPart, SYSCALL_NR, X32_SYSCALL_BIT};

use crate::bpf::{
    SeccompData, SockFilter, BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP,
    BPF_JSET, BPF_K, BPF_LD, BPF_MAXINSNS, BPF_RET, BPF_W,
};
use crate::{Action, AUDIT_ARCH_X86_64};

/// A value a condition compares with, as seccomp shows it: 64 bits. Signed integers are
/// sign-extended, as the kernel shows signed fields (`From<i32>`: `-100` is
/// `0xffff_ffff_ffff_ff9c`); unsigned ones are zero-extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Value(pub u64);

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value(u64::from(v))
    }
}

impl From<i64> for Value {
    /// Two's complement.
    fn from(v: i64) -> Value {
        Value(v as u64)
    }
}

impl From<i32> for Value {
    /// Sign-extended.
    fn from(v: i32) -> Value {
        Value(i64::from(v) as u64)
    }
}

/// What a condition looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    /// A field of a typed operation, resolved through its decoded layout.
    Field(&'static str),
    /// `seccomp_data.args[i]`.
    Arg(usize),
}

/// An argument a condition compares: [`field`] or [`arg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operand(Source);

/// The field named `name` of a typed operation's decoded presentation, in a rule on
/// [`typed`], [`allow`] or [`deny`]. An integer field is its value (a signed one
/// sign-extended), a path field its address; of a buffer field `buf`, `"buf"` is the
/// address and `"buf.len"` the length. A name the operation does not show is a
/// [`BuildError`] from [`Filter::compile`].
pub fn field(name: &'static str) -> Operand {
    Operand(Source::Field(name))
}

/// `seccomp_data.args[index]`, as the kernel shows it: the legacy call's argument
/// `index`, or for a typed operation its presentation's (`args[0]` is then the operation).
/// An index above 5 is a [`BuildError`] from [`Filter::compile`].
pub fn arg(index: usize) -> Operand {
    Operand(Source::Arg(index))
}

/// A comparison of a 64-bit argument with constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Test {
    /// `a == v`.
    Eq(u64),
    /// `a & m == v`.
    MaskedEq(u64, u64),
    /// `a > v`, unsigned.
    Gt(u64),
    /// `a >= v`, unsigned.
    Ge(u64),
    /// `a & m != 0`.
    AnyBits(u64),
}

/// One condition of a rule: made by the methods of [`Operand`] and [`Masked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    source: Source,
    test: Test,
    /// The condition holds when the test fails.
    negated: bool,
}

impl Operand {
    fn cond(self, test: Test, negated: bool) -> Cond {
        Cond { source: self.0, test, negated }
    }

    /// The argument equals `v`.
    pub fn eq(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Eq(v.into().0), false)
    }

    /// The argument differs from `v`.
    pub fn ne(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Eq(v.into().0), true)
    }

    /// The argument is above `v`, as unsigned 64-bit numbers (a negative signed value is
    /// above every positive one).
    pub fn gt(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Gt(v.into().0), false)
    }

    /// The argument is `v` or above, unsigned (see [`Operand::gt`]).
    pub fn ge(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Ge(v.into().0), false)
    }

    /// The argument is below `v`, unsigned (see [`Operand::gt`]).
    pub fn lt(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Ge(v.into().0), true)
    }

    /// The argument is `v` or below, unsigned (see [`Operand::gt`]).
    pub fn le(self, v: impl Into<Value>) -> Cond {
        self.cond(Test::Gt(v.into().0), true)
    }

    /// The argument has at least one of the bits of `mask` set (`BPF_JSET`).
    pub fn any_bits(self, mask: impl Into<Value>) -> Cond {
        self.cond(Test::AnyBits(mask.into().0), false)
    }

    /// The argument's bits in `mask`, for [`Masked::eq`] and [`Masked::ne`].
    pub fn masked(self, mask: impl Into<Value>) -> Masked {
        Masked { operand: self, mask: mask.into().0 }
    }
}

/// An argument's bits under a mask: [`Operand::masked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Masked {
    operand: Operand,
    mask: u64,
}

impl Masked {
    /// `argument & mask == v` (never true when `v` has bits outside the mask).
    pub fn eq(self, v: impl Into<Value>) -> Cond {
        self.operand.cond(Test::MaskedEq(self.mask, v.into().0), false)
    }

    /// `argument & mask != v`.
    pub fn ne(self, v: impl Into<Value>) -> Cond {
        self.operand.cond(Test::MaskedEq(self.mask, v.into().0), true)
    }
}

/// Which calls a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    /// `nr == SYSCALL_NR && args[0] == op`.
    Typed(Op),
    /// `nr == n`.
    Syscall(u32),
}

/// The calls a rule is about and its conditions, still without an action: [`Match::then`]
/// makes it a [`Rule`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[must_use = "a match does nothing until `.then(action)` makes it a rule"]
pub struct Match {
    target: Target,
    conds: Vec<Cond>,
}

/// The calls of system call `nr` (a legacy number, or a typed operation's twin), whatever
/// their arguments until conditions are added. Conditions use [`arg`].
pub fn syscall(nr: u32) -> Match {
    Match { target: Target::Syscall(nr), conds: Vec::new() }
}

/// The typed calls of `op`, as seccomp sees them under number
/// [`SYSCALL_NR`](ferrocall_abi::SYSCALL_NR) with `args[0] == op`: its decoded presentation
/// (conditions use [`field`] or [`arg`]) or, for an operation without a twin,
/// `ferrocall(op, size, request)` (conditions use [`arg`]). An operation shown only as its
/// legacy twin is a [`BuildError::ShownAsTwin`]: write that rule with [`syscall`].
///
/// An operation with a decoded presentation is shown as its twin first (`Open` as
/// `openat2`, number 437), and runs only if the filter allows both: a filter whose
/// default refuses must also allow the twin (`syscall(437)`, possibly with [`arg`]
/// conditions on what the twin shows), and a rule on the twin also judges typed calls.
pub fn typed(op: Op) -> Match {
    Match { target: Target::Typed(op), conds: Vec::new() }
}

/// A rule that allows the typed calls of `op` (see [`typed`]), once conditions are added
/// with [`Rule::when`].
pub fn allow(op: Op) -> Rule {
    typed(op).then(Action::Allow)
}

/// A rule that answers the typed calls of `op` (see [`typed`]) with `action`.
pub fn deny(op: Op, action: Action) -> Rule {
    typed(op).then(action)
}

impl Match {
    /// Adds a condition: all must hold.
    pub fn when(mut self, cond: Cond) -> Match {
        self.conds.push(cond);
        self
    }

    /// The rule that answers the matching calls with `action`.
    pub fn then(self, action: Action) -> Rule {
        Rule { matches: self, action }
    }
}

/// A rule of a [`Filter`]: the calls it matches, and its action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[must_use = "a rule does nothing until `Filter::rule` adds it"]
pub struct Rule {
    matches: Match,
    action: Action,
}

impl Rule {
    /// Adds a condition: all must hold.
    pub fn when(mut self, cond: Cond) -> Rule {
        self.matches.conds.push(cond);
        self
    }
}

/// Why a filter cannot be compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A [`field`] the operation does not have.
    UnknownField {
        /// The operation of the rule.
        op: Op,
        /// The name given.
        field: &'static str,
    },
    /// A [`field`] the operation has, that its decoded presentation does not show (padding,
    /// or `.len` of a field that is no buffer).
    FieldNotShown {
        /// The operation of the rule.
        op: Op,
        /// The name given.
        field: &'static str,
    },
    /// A [`field`] condition in a rule on an operation that seccomp never sees decoded.
    NoDecodedPresentation {
        /// The operation of the rule.
        op: Op,
        /// The name given.
        field: &'static str,
    },
    /// A [`field`] condition in a rule on a system call number: only [`arg`] there.
    FieldOnSyscall {
        /// The number of the rule.
        nr: u32,
        /// The name given.
        field: &'static str,
    },
    /// A rule on a typed operation that seccomp only ever sees as its legacy twin: it would
    /// never match. The rule is to be written on the twin's number.
    ShownAsTwin {
        /// The operation of the rule.
        op: Op,
    },
    /// A rule on a number the filter sends to the foreign-arch action before any rule
    /// (x32: [`X32_SYSCALL_BIT`](ferrocall_abi::X32_SYSCALL_BIT) set).
    X32Number {
        /// The number of the rule.
        nr: u32,
    },
    /// An [`arg`] index above 5.
    NoSuchArg {
        /// The index given.
        index: usize,
    },
    /// The program would have more than the kernel's 4096 instructions.
    TooLong {
        /// How many it would have at least (the builder stops counting past the limit).
        len: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BuildError::UnknownField { op, field } => {
                write!(f, "Op::{} has no field `{field}` (its fields:", op.name())?;
                for info in op.fields() {
                    write!(f, " {}", info.name)?;
                }
                f.write_str(")")
            }
            BuildError::FieldNotShown { op, field } => write!(
                f,
                "field `{field}` of Op::{} is not shown to seccomp (no padding; `.len` only \
                 of a buffer)",
                op.name()
            ),
            BuildError::NoDecodedPresentation { op, field } => write!(
                f,
                "field `{field}`: seccomp never sees the fields of Op::{}, which has no \
                 decoded presentation; use arg(i) on what it is shown as",
                op.name()
            ),
            BuildError::FieldOnSyscall { nr, field } => write!(
                f,
                "field `{field}` in a rule on system call {nr}: fields are named only in \
                 rules on a typed operation; use arg(i)"
            ),
            BuildError::ShownAsTwin { op } => match op.twin() {
                Some(twin) => write!(
                    f,
                    "a rule on Op::{} never matches: seccomp sees it only as its legacy twin \
                     {} (number {}); write the rule with syscall({})",
                    op.name(),
                    twin.name,
                    twin.nr,
                    twin.nr
                ),
                None => write!(f, "a rule on Op::{} never matches", op.name()),
            },
            BuildError::X32Number { nr } => write!(
                f,
                "a rule on system call {nr:#x} never matches: x32 numbers get the \
                 foreign-arch action"
            ),
            BuildError::NoSuchArg { index } => {
                write!(f, "arg({index}): seccomp shows six arguments, arg(0) to arg(5)")
            }
            BuildError::TooLong { len } => write!(
                f,
                "the filter needs {len} instructions or more, above the kernel's limit of \
                 {BPF_MAXINSNS}"
            ),
        }
    }
}

impl core::error::Error for BuildError {}

/// A seccomp filter: rules tried in order, the first that matches deciding, else the
/// default action. See the [crate documentation](crate) for an example.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filter {
    default: Action,
    foreign_arch: Action,
    rules: Vec<Rule>,
}

impl Filter {
    /// A filter without rules that answers every call with `default`, and a call of a
    /// foreign architecture with [`Action::KillProcess`].
    pub fn new(default: Action) -> Filter {
        Filter { default, foreign_arch: Action::KillProcess, rules: Vec::new() }
    }

    /// The action for a call that is not x86_64's, checked before any rule: a foreign
    /// `arch` (a 32-bit call), or an x32 number (`nr` with
    /// [`X32_SYSCALL_BIT`](ferrocall_abi::X32_SYSCALL_BIT) set, except `-1`, the number a
    /// tracer uses to skip a call), as libseccomp does.
    pub fn foreign_arch(mut self, action: Action) -> Filter {
        self.foreign_arch = action;
        self
    }

    /// Adds a rule after the others.
    pub fn rule(mut self, rule: Rule) -> Filter {
        self.rules.push(rule);
        self
    }

    /// The program: valid for the kernel's checker (as [`interp::check`](crate::interp::check)
    /// verifies), or the first error among the rules, in order.
    pub fn compile(&self) -> Result<Vec<SockFilter>, BuildError> {
        let rules = self
            .rules
            .iter()
            .map(|rule| Ok((resolve(&rule.matches)?, rule.action)))
            .collect::<Result<Vec<_>, BuildError>>()?;

        let mut asm = Asm::default();
        let default = asm.ret(self.default);
        let mut next = default;
        for (checks, action) in rules.iter().rev() {
            let fail = next;
            let mut succ = asm.ret(*action);
            for check in checks.iter().rev() {
                succ = asm.check(check, succ, fail)?;
            }
            next = succ;
        }
        let foreign = asm.ret(self.foreign_arch);
        asm.steps(&prologue(), next, foreign)?;
        asm.finish()
    }
}

/// The checks of the prologue: x86_64, and not an x32 number (`-1` passes).
fn prologue() -> [Step; 5] {
    [
        Step::Load(SeccompData::ARCH),
        Step::Jump(BPF_JEQ, AUDIT_ARCH_X86_64, To::Next, To::Fail),
        Step::Load(SeccompData::NR),
        Step::Jump(BPF_JGE, X32_SYSCALL_BIT as u32, To::Next, To::Succ),
        Step::Jump(BPF_JEQ, u32::MAX, To::Succ, To::Fail),
    ]
}

/// What one check reads.
#[derive(Clone, Copy, Debug)]
enum Word {
    /// `seccomp_data.nr`, 32 bits.
    Nr,
    /// `seccomp_data.args[i]`, 64 bits.
    Arg(usize),
}

/// One resolved condition of a rule.
#[derive(Clone, Copy, Debug)]
struct Check {
    word: Word,
    test: Test,
    negated: bool,
}

/// The checks of a rule, its target's first.
fn resolve(m: &Match) -> Result<Vec<Check>, BuildError> {
    let is = |word, v| Check { word, test: Test::Eq(v), negated: false };
    let mut checks = Vec::with_capacity(m.conds.len().saturating_add(2));
    match m.target {
        Target::Syscall(nr) if nr & X32_SYSCALL_BIT as u32 != 0 && nr != u32::MAX => {
            return Err(BuildError::X32Number { nr });
        }
        Target::Syscall(nr) => checks.push(is(Word::Nr, u64::from(nr))),
        Target::Typed(op) if op.twin().is_some() && !op.has_decoded_presentation() => {
            return Err(BuildError::ShownAsTwin { op });
        }
        Target::Typed(op) => {
            checks.push(is(Word::Nr, u64::from(SYSCALL_NR)));
            checks.push(is(Word::Arg(0), u64::from(op.raw())));
        }
    }
    for cond in &m.conds {
        let index = match (cond.source, m.target) {
            (Source::Arg(index), _) if index < 6 => index,
            (Source::Arg(index), _) => return Err(BuildError::NoSuchArg { index }),
            (Source::Field(field), Target::Syscall(nr)) => {
                return Err(BuildError::FieldOnSyscall { nr, field })
            }
            (Source::Field(field), Target::Typed(op)) => shown_arg(op, field)?,
        };
        checks.push(Check { word: Word::Arg(index), test: cond.test, negated: cond.negated });
    }
    Ok(checks)
}

/// The index in `seccomp_data.args` of `name` in `op`'s decoded presentation: `"buf"` is a
/// buffer's address, `"buf.len"` its length, any other name a field's value.
fn shown_arg(op: Op, name: &'static str) -> Result<usize, BuildError> {
    if !op.has_decoded_presentation() {
        return Err(BuildError::NoDecodedPresentation { op, field: name });
    }
    let (base, len) = match name.strip_suffix(".len") {
        Some(base) => (base, true),
        None => (name, false),
    };
    if !op.fields().iter().any(|f| f.name == base) {
        return Err(BuildError::UnknownField { op, field: name });
    }
    op.decoded_layout()
        .find(|shown| shown.field.name == base && (shown.part == ShownPart::Len) == len)
        .map(|shown| shown.arg)
        .ok_or(BuildError::FieldNotShown { op, field: name })
}

/// Where a jump of a check goes.
#[derive(Clone, Copy, Debug)]
enum To {
    /// The next step of the check.
    Next,
    /// The check holds.
    Succ,
    /// The check fails.
    Fail,
}

/// One instruction of a check, in program order.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `A = data[offset]`.
    Load(u32),
    /// `A &= k`.
    And(u32),
    /// `BPF_JMP | op | BPF_K` on `k`.
    Jump(u16, u32, To, To),
}

/// The steps of a check, in program order: a 64-bit comparison is made of its high word's,
/// then its low word's, as the kernel shows `args[i]` little-endian.
fn steps(check: &Check) -> Vec<Step> {
    let (lo, hi) = match check.word {
        Word::Nr => (SeccompData::NR, None),
        Word::Arg(index) => {
            let (lo, hi) = SeccompData::arg_words(index);
            (lo, Some(hi))
        }
    };
    // The halves of a constant. Checks on `Word::Nr` are only made from 32-bit numbers
    // (`resolve`), so only their low half is compared.
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (succ, fail) = if check.negated { (To::Fail, To::Succ) } else { (To::Succ, To::Fail) };
    let mut out = Vec::with_capacity(6);
    match check.test {
        Test::Eq(v) => {
            let (vlo, vhi) = split(v);
            if let Some(hi) = hi {
                out.push(Step::Load(hi));
                out.push(Step::Jump(BPF_JEQ, vhi, To::Next, fail));
            }
            out.push(Step::Load(lo));
            out.push(Step::Jump(BPF_JEQ, vlo, succ, fail));
        }
        Test::MaskedEq(m, v) => {
            let ((mlo, mhi), (vlo, vhi)) = (split(m), split(v));
            let mut half = |word, m: u32, v: u32, last: bool| {
                out.push(Step::Load(word));
                if m != u32::MAX {
                    out.push(Step::And(m));
                }
                let then = if last { succ } else { To::Next };
                out.push(Step::Jump(BPF_JEQ, v, then, fail));
            };
            if let Some(hi) = hi {
                if mhi != 0 || vhi != 0 {
                    half(hi, mhi, vhi, false);
                }
            }
            half(lo, mlo, vlo, true);
        }
        Test::Gt(v) | Test::Ge(v) => {
            let op = if matches!(check.test, Test::Gt(_)) { BPF_JGT } else { BPF_JGE };
            let (vlo, vhi) = split(v);
            if let Some(hi) = hi {
                out.push(Step::Load(hi));
                out.push(Step::Jump(BPF_JGT, vhi, succ, To::Next));
                out.push(Step::Jump(BPF_JEQ, vhi, To::Next, fail));
            }
            out.push(Step::Load(lo));
            out.push(Step::Jump(op, vlo, succ, fail));
        }
        Test::AnyBits(m) => {
            let (mlo, mhi) = split(m);
            if let Some(hi) = hi {
                if mhi != 0 {
                    out.push(Step::Load(hi));
                    out.push(Step::Jump(BPF_JSET, mhi, succ, To::Next));
                }
            }
            out.push(Step::Load(lo));
            out.push(Step::Jump(BPF_JSET, mlo, succ, fail));
        }
    }
    out
}

/// The position of an emitted instruction, counted from the end of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Label(usize);

/// A program written backwards: `rev[0]` is its last instruction.
#[derive(Default)]
struct Asm {
    rev: Vec<SockFilter>,
}

impl Asm {
    /// The longest offset a conditional jump can hold.
    const MAX_OFFSET: usize = u8::MAX as usize;

    /// The instruction emitted last, the first of the program so far.
    fn here(&self) -> Label {
        Label(self.rev.len().saturating_sub(1))
    }

    /// The offset from the next instruction emitted to `target`.
    fn offset(&self, target: Label) -> usize {
        self.rev.len().saturating_sub(target.0).saturating_sub(1)
    }

    fn push(&mut self, insn: SockFilter) -> Label {
        self.rev.push(insn);
        self.here()
    }

    fn ret(&mut self, action: Action) -> Label {
        self.push(SockFilter::stmt(BPF_RET | BPF_K, action.to_ret()))
    }

    /// `BPF_JA` to `target`: any distance the program can have.
    fn ja(&mut self, target: Label) -> Result<Label, BuildError> {
        let k = u32::try_from(self.offset(target))
            .map_err(|_| BuildError::TooLong { len: self.rev.len() })?;
        Ok(self.push(SockFilter::stmt(BPF_JMP | BPF_JA, k)))
    }

    /// A conditional jump to `jt` or `jf`. A target beyond 8-bit reach gets a `BPF_JA`
    /// trampoline right after the jump: a conditional jump never falls through, so nothing
    /// else reaches it.
    fn jump(&mut self, op: u16, k: u32, mut jt: Label, mut jf: Label) -> Result<(), BuildError> {
        loop {
            if self.offset(jt) > Asm::MAX_OFFSET {
                jt = self.ja(jt)?;
            } else if self.offset(jf) > Asm::MAX_OFFSET {
                jf = self.ja(jf)?;
            } else {
                break;
            }
        }
        let (t, f) = (self.offset(jt) as u8, self.offset(jf) as u8);
        self.push(SockFilter::jump(BPF_JMP | op | BPF_K, k, t, f));
        Ok(())
    }

    /// Emits `steps` (given in program order) before what is emitted so far; returns the
    /// label of their first instruction.
    fn steps(&mut self, steps: &[Step], succ: Label, fail: Label) -> Result<Label, BuildError> {
        for step in steps.iter().rev() {
            let next = self.here();
            let to = |to| match to {
                To::Next => next,
                To::Succ => succ,
                To::Fail => fail,
            };
            match *step {
                Step::Load(offset) => {
                    self.push(SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, offset));
                }
                Step::And(k) => {
                    self.push(SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, k));
                }
                Step::Jump(op, k, t, f) => self.jump(op, k, to(t), to(f))?,
            }
            if self.rev.len() > BPF_MAXINSNS {
                return Err(BuildError::TooLong { len: self.rev.len() });
            }
        }
        Ok(self.here())
    }

    /// Emits `check` before what is emitted so far.
    fn check(&mut self, check: &Check, succ: Label, fail: Label) -> Result<Label, BuildError> {
        self.steps(&steps(check), succ, fail)
    }

    /// The program, in order.
    fn finish(mut self) -> Result<Vec<SockFilter>, BuildError> {
        if self.rev.len() > BPF_MAXINSNS {
            return Err(BuildError::TooLong { len: self.rev.len() });
        }
        self.rev.reverse();
        Ok(self.rev)
    }
}
