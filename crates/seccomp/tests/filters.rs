//! Compiled filters against a reference: each filter is written twice, once with the builder
//! and once as plain Rust predicates on `seccomp_data` (argument indexes and constants
//! written out by hand, not taken from the builder), and the program the builder emits is
//! run in the interpreter on many inputs — edge cases and deterministic pseudo-random ones
//! — and must return what the reference returns, for every input.

use ferrocall_abi::ops::{GetPidArgs, OpenArgs, UselessArgs, WriteArgs};
use ferrocall_abi::{Call, Op, UserBuf, UserPath};
use ferrocall_seccomp::bpf::{BPF_JA, BPF_JMP, BPF_MAXINSNS};
use ferrocall_seccomp::open::{
    AT_FDCWD, O_ACCMODE, O_CREAT, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, RESOLVE_BENEATH,
    RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
};
use ferrocall_seccomp::{
    allow, arg, deny, field, interp, syscall, typed, Action, Filter, SeccompData, SockFilter,
};

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;
const EPERM: u16 = 1;

/// A rule of a [`Reference`]: whether it matches.
type Predicate = Box<dyn Fn(&SeccompData) -> bool>;

/// A filter as plain predicates: the semantics the builder promises, written directly.
struct Reference {
    default: Action,
    foreign: Action,
    rules: Vec<(Predicate, Action)>,
}

impl Reference {
    fn new(default: Action, foreign: Action) -> Self {
        Reference { default, foreign, rules: Vec::new() }
    }

    fn rule(mut self, action: Action, p: impl Fn(&SeccompData) -> bool + 'static) -> Self {
        self.rules.push((Box::new(p), action));
        self
    }

    fn eval(&self, d: &SeccompData) -> u32 {
        let nr = d.nr as u32;
        if d.arch != X86_64 || (nr >= 0x4000_0000 && nr != u32::MAX) {
            return self.foreign.to_ret();
        }
        self.rules.iter().find(|(p, _)| p(d)).map_or(self.default, |(_, action)| *action).to_ret()
    }
}

/// xorshift64: deterministic, so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// Values near each of `constants`: equal, one off, differing only in the high or only in
/// the low 32 bits, sign- or zero-extended halves; and a few fixed ones.
fn near(constants: &[u64]) -> Vec<u64> {
    let mut out = vec![0, 1, u64::MAX, 1 << 32, 0xffff_ffff, 0x8000_0000, 1 << 63];
    for &c in constants {
        out.extend([
            c,
            c.wrapping_add(1),
            c.wrapping_sub(1),
            c ^ 1 << 32,
            c ^ 1 << 63,
            c ^ 1,
            c ^ 0x8000_0000,
            c & 0xffff_ffff,
            c | 0xffff_ffff_0000_0000,
            c >> 32,
            c << 32,
            c.wrapping_add(1 << 32),
            c.wrapping_sub(1 << 32),
        ]);
    }
    out
}

/// Inputs for a filter whose rules name the numbers `nrs` and the argument values `values`.
fn inputs(seed: u64, n: usize, nrs: &[i32], values: &[u64]) -> Vec<SeccompData> {
    let values = near(values);
    let ops: Vec<u64> = Op::ALL.iter().map(|op| u64::from(op.raw())).collect();
    let mut nrs = nrs.to_vec();
    nrs.extend([0, 1, 2, 437, 1023, 1022, 1024, -1, i32::MIN, 0x4000_0000, 0x4000_0001]);
    nrs.extend([0x4000_0000 + 1023, 0x4000_01b5, 0x7fff_ffff, -2]);
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let nr = match rng.below(8) {
            0 => rng.next() as i32,
            1 => rng.below(512) as i32,
            _ => rng.pick(&nrs),
        };
        let arch = match rng.below(16) {
            0 => I386,
            1 => rng.next() as u32,
            2 => X86_64 ^ 1 << (rng.below(32) as u32),
            _ => X86_64,
        };
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = match rng.below(6) {
                0 => rng.next(),
                1 => rng.next() & 0xffff_ffff,
                _ => rng.pick(&values),
            };
        }
        // A typed call's number in args[0] most of the time, for rules on 1023.
        if nr == 1023 && rng.below(4) != 0 {
            args[0] = match rng.below(8) {
                0 => rng.pick(&ops) | 1 << 32,
                1 => rng.pick(&ops) | 0xffff_ffff_0000_0000,
                _ => rng.pick(&ops),
            };
        }
        let instruction_pointer = rng.next();
        out.push(SeccompData { nr, arch, instruction_pointer, args });
    }
    out
}

/// Compiles `filter`, checks the program and compares it with `reference` on `data`.
fn compare(filter: &Filter, reference: &Reference, data: &[SeccompData]) -> Vec<SockFilter> {
    let prog = filter.compile().unwrap_or_else(|e| panic!("compile: {e}"));
    interp::check(&prog).unwrap_or_else(|e| panic!("check: {e}"));
    let mut seen = std::collections::BTreeSet::new();
    for d in data {
        let want = reference.eval(d);
        let got = interp::run(&prog, d).unwrap();
        assert_eq!(
            got,
            want,
            "{d:x?}: got {:?}, want {:?}",
            Action::from_ret(got),
            Action::from_ret(want)
        );
        seen.insert(want);
    }
    // Every rule's action and the default were reached: the inputs test something.
    let mut actions: Vec<u32> = reference.rules.iter().map(|(_, a)| a.to_ret()).collect();
    actions.extend([reference.default.to_ret(), reference.foreign.to_ret()]);
    for action in actions {
        assert!(seen.contains(&action), "no input reached {:?}", Action::from_ret(action));
    }
    prog
}

/// The Open policy of the crate documentation: read-only opens beneath their directory.
#[test]
fn the_open_filter() {
    let filter = Filter::new(Action::Allow)
        .rule(
            allow(Op::Open)
                .when(field("flags").masked(O_ACCMODE).eq(O_RDONLY))
                .when(field("resolve").masked(RESOLVE_BENEATH).eq(RESOLVE_BENEATH)),
        )
        .rule(deny(Op::Open, Action::Errno(EPERM)))
        .rule(syscall(1).when(arg(0).eq(1)).then(Action::Errno(EPERM)));
    // Decoded Open: args = [12, dirfd, path, flags, mode, resolve].
    let reference = Reference::new(Action::Allow, Action::KillProcess)
        .rule(Action::Allow, |d| {
            d.nr == 1023 && d.args[0] == 12 && d.args[3] & 3 == 0 && d.args[5] & 8 == 8
        })
        .rule(Action::Errno(EPERM), |d| d.nr == 1023 && d.args[0] == 12)
        .rule(Action::Errno(EPERM), |d| d.nr == 1 && d.args[0] == 1);
    let mut data = inputs(1, 20_000, &[1, 1023], &[12, 1, 0, 3, 8, 0o100, 0x18, 0x8000_0008]);
    // Flags and resolve values that differ only in bits the rules ignore, or only high.
    for (flags, resolve) in [
        (O_RDONLY, RESOLVE_BENEATH),
        (O_RDONLY | 1 << 32, RESOLVE_BENEATH | 1 << 40),
        (O_WRONLY, RESOLVE_BENEATH),
        (O_RDWR, RESOLVE_BENEATH),
        (O_RDONLY, RESOLVE_IN_ROOT),
        (O_RDONLY | O_CREAT, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
        (3 << 32, RESOLVE_BENEATH << 32),
    ] {
        data.push(SeccompData::new(1023, [12, AT_FDCWD as u64, 0x1000, flags, 0, resolve]));
        data.push(SeccompData::new(1023, [12 | 1 << 32, 3, 0x1000, flags, 0, resolve]));
    }
    compare(&filter, &reference, &data);
}

/// Typed calls through `interp::shown`, which uses the ABI crate's own presentation code:
/// the reference above reads the decoded Open at the right argument indexes, and the
/// filter judges typed calls as the kernel would show them.
#[test]
fn typed_calls_as_the_kernel_shows_them() {
    let prog = Filter::new(Action::Allow)
        .rule(
            allow(Op::Open)
                .when(field("dirfd").eq(AT_FDCWD))
                .when(field("flags").masked(O_ACCMODE).eq(O_RDONLY))
                .when(field("resolve").masked(RESOLVE_BENEATH).eq(RESOLVE_BENEATH)),
        )
        .rule(deny(Op::Open, Action::Errno(EPERM)))
        .rule(syscall(1).when(arg(0).eq(1)).then(Action::Errno(EPERM)))
        .rule(typed(Op::Useless).when(arg(1).lt(40)).then(Action::Errno(22)))
        .compile()
        .unwrap();
    let addr = 0x7000_1000;
    let open = |dirfd: i32, flags: u64, resolve: u64| {
        Call::Open(OpenArgs {
            dirfd,
            path: UserPath { addr: 0x5000 },
            flags,
            mode: 0,
            resolve,
            ..Default::default()
        })
    };

    let views = interp::shown(&open(AT_FDCWD, O_RDONLY, RESOLVE_BENEATH), addr);
    assert_eq!(views.len(), 2);
    // openat2(dirfd, path, &how inside the request, sizeof(struct open_how)).
    let how = addr + 32 + 16;
    assert_eq!(views[0], SeccompData::new(437, [(-100i64) as u64, 0x5000, how, 24, 0, 0]));
    assert_eq!(
        views[1],
        SeccompData::new(1023, [12, 0xffff_ffff_ffff_ff9c, 0x5000, O_RDONLY, 0, RESOLVE_BENEATH,])
    );
    let verdicts = |call: &Call| -> Vec<Action> {
        interp::shown(call, addr)
            .iter()
            .map(|d| Action::from_ret(interp::run(&prog, d).unwrap()))
            .collect()
    };
    let ok = [Action::Allow, Action::Allow];
    let refused = [Action::Allow, Action::Errno(EPERM)];
    assert_eq!(verdicts(&open(AT_FDCWD, O_RDONLY, RESOLVE_BENEATH)), ok);
    assert_eq!(verdicts(&open(AT_FDCWD, O_RDONLY | O_PATH, RESOLVE_BENEATH | 1)), ok);
    assert_eq!(verdicts(&open(AT_FDCWD, O_WRONLY, RESOLVE_BENEATH)), refused);
    assert_eq!(verdicts(&open(AT_FDCWD, O_RDONLY, RESOLVE_IN_ROOT)), refused);
    assert_eq!(verdicts(&open(3, O_RDONLY, RESOLVE_BENEATH)), refused);
    assert_eq!(verdicts(&open(-101, O_RDONLY, RESOLVE_BENEATH)), refused);

    // Write is shown as write(fd, buf, len) only.
    let write = |fd| {
        Call::Write(WriteArgs { fd, buf: UserBuf { addr: 0x6000, len: 5 }, ..Default::default() })
    };
    assert_eq!(interp::shown(&write(1), addr), [SeccompData::new(1, [1, 0x6000, 5, 0, 0, 0])]);
    assert_eq!(verdicts(&write(1)), [Action::Errno(EPERM)]);
    assert_eq!(verdicts(&write(2)), [Action::Allow]);
    assert_eq!(verdicts(&Call::GetPid(GetPidArgs {})), [Action::Allow]);

    // Useless has no twin: ferrocall(op, size, request).
    let useless = Call::Useless(UselessArgs { value: 15, ..Default::default() });
    let size = Op::Useless.request_size() as u64;
    assert_eq!(interp::shown(&useless, addr), [SeccompData::new(1023, [1, size, addr, 0, 0, 0])]);
    assert_eq!(verdicts(&useless), [if size < 40 { Action::Errno(22) } else { Action::Allow }]);
}

/// Signed fields: `dirfd` is shown sign-extended, and an `i32` value is compared so.
#[test]
fn signed_dirfd_and_raw_rules() {
    let filter = Filter::new(Action::KillProcess)
        .foreign_arch(Action::Errno(38))
        .rule(
            allow(Op::Open)
                .when(field("dirfd").eq(AT_FDCWD))
                .when(field("flags").masked(O_CREAT).eq(0u64))
                .when(field("mode").le(0o777u64)),
        )
        .rule(
            typed(Op::Open)
                .when(field("dirfd").ne(AT_FDCWD))
                .when(field("path").ne(0u64))
                .then(Action::Trap(7)),
        )
        .rule(typed(Op::Open).when(field("dirfd").ge(-1i64)).then(Action::Trace(3)))
        .rule(syscall(437).then(Action::Allow))
        .rule(syscall(1023).when(arg(0).eq(1)).then(Action::Log))
        .rule(typed(Op::Useless).when(arg(1).ge(40)).then(Action::Allow))
        .rule(typed(Op::Probe).then(Action::UserNotif))
        .rule(syscall(60).when(arg(0).eq(-1)).then(Action::KillThread));
    let fdcwd = 0xffff_ffff_ffff_ff9c;
    let reference = Reference::new(Action::KillProcess, Action::Errno(38))
        .rule(Action::Allow, move |d| {
            d.nr == 1023
                && d.args[0] == 12
                && d.args[1] == fdcwd
                && d.args[3] & 0o100 == 0
                && d.args[4] <= 0o777
        })
        .rule(Action::Trap(7), move |d| {
            d.nr == 1023 && d.args[0] == 12 && d.args[1] != fdcwd && d.args[2] != 0
        })
        .rule(Action::Trace(3), |d| d.nr == 1023 && d.args[0] == 12 && d.args[1] == u64::MAX)
        .rule(Action::Allow, |d| d.nr == 437)
        .rule(Action::Log, |d| d.nr == 1023 && d.args[0] == 1)
        .rule(Action::Allow, |d| d.nr == 1023 && d.args[0] == 1 && d.args[1] >= 40)
        .rule(Action::UserNotif, |d| d.nr == 1023 && d.args[0] == 8)
        .rule(Action::KillThread, |d| d.nr == 60 && d.args[0] == u64::MAX);
    let mut data =
        inputs(2, 20_000, &[437, 1023, 60], &[fdcwd, 0x0000_0000_ffff_ff9c, 0o777, 0o100, 40, 12]);
    for dirfd in [fdcwd, 0xffff_ff9c, fdcwd ^ 1 << 40, u64::MAX, 0, 3] {
        for path in [0, 0x1000] {
            for mode in [0, 0o777, 0o1000, 1 << 32] {
                data.push(SeccompData::new(1023, [12, dirfd, path, 0, mode, 0]));
            }
        }
    }
    compare(&filter, &reference, &data);
}

/// Every comparison, on constants whose halves differ, on legacy numbers.
#[test]
fn every_comparison_on_64_bits() {
    const V: u64 = 0x0000_0002_8000_0001;
    const W: u64 = 0xffff_fff0_0000_0010;
    let e = Action::Errno;
    let filter = Filter::new(Action::Allow)
        .foreign_arch(Action::KillThread)
        .rule(syscall(10).when(arg(0).gt(V)).then(e(10)))
        .rule(syscall(10).when(arg(0).ge(V)).then(e(11)))
        .rule(syscall(11).when(arg(1).lt(W)).when(arg(2).lt(V)).then(e(12)))
        .rule(syscall(11).when(arg(1).le(W)).then(e(13)))
        .rule(syscall(12).when(arg(2).eq(V)).then(e(14)))
        .rule(syscall(12).when(arg(2).ne(W)).when(arg(3).ne(0)).then(e(15)))
        .rule(
            syscall(13)
                .when(arg(4).masked(0xff00_0000_0000_00ffu64).eq(0x1200_0000_0000_0034u64))
                .then(e(16)),
        )
        .rule(syscall(13).when(arg(4).masked(0xffff_0000u64).ne(0x8000_0000u64)).then(e(17)))
        .rule(syscall(14).when(arg(5).any_bits(0x1_0000_0001u64)).then(e(18)))
        .rule(syscall(14).when(arg(5).any_bits(1u64 << 63)).then(e(19)))
        .rule(syscall(15).when(arg(0).gt(u64::MAX)).then(e(20)))
        .rule(syscall(15).when(arg(0).masked(0xffu64).eq(0x100u64)).then(e(21)))
        .rule(syscall(15).when(arg(0).lt(0u64)).then(e(22)))
        .rule(syscall(15).when(arg(1).ge(0u64)).when(arg(1).le(u64::MAX)).then(e(23)))
        .rule(syscall(16).when(arg(3).masked(u64::MAX).eq(W)).then(e(24)))
        .rule(syscall(16).when(arg(3).any_bits(0u64)).then(e(25)))
        .rule(syscall(16).when(arg(3).masked(0u64).eq(0u64)).then(e(26)))
        .rule(syscall(u32::MAX).then(e(27)))
        .rule(syscall(17).when(arg(2).masked(0xffu64).eq(0x1_0000_0012u64)).then(e(28)))
        .rule(syscall(17).when(arg(2).masked(0xffu64).ne(0x1_0000_0012u64)).then(e(29)));
    let reference = Reference::new(Action::Allow, Action::KillThread)
        .rule(e(10), |d| d.nr == 10 && d.args[0] > V)
        .rule(e(11), |d| d.nr == 10 && d.args[0] >= V)
        .rule(e(12), |d| d.nr == 11 && d.args[1] < W && d.args[2] < V)
        .rule(e(13), |d| d.nr == 11 && d.args[1] <= W)
        .rule(e(14), |d| d.nr == 12 && d.args[2] == V)
        .rule(e(15), |d| d.nr == 12 && d.args[2] != W && d.args[3] != 0)
        .rule(e(16), |d| d.nr == 13 && d.args[4] & 0xff00_0000_0000_00ff == 0x1200_0000_0000_0034)
        .rule(e(17), |d| d.nr == 13 && d.args[4] & 0xffff_0000 != 0x8000_0000)
        .rule(e(18), |d| d.nr == 14 && d.args[5] & 0x1_0000_0001 != 0)
        .rule(e(19), |d| d.nr == 14 && d.args[5] & 1 << 63 != 0)
        .rule(e(20), |_| false)
        .rule(e(21), |_| false)
        .rule(e(22), |_| false)
        .rule(e(23), |d| d.nr == 15)
        .rule(e(24), |d| d.nr == 16 && d.args[3] == W)
        .rule(e(25), |_| false)
        .rule(e(26), |d| d.nr == 16)
        .rule(e(27), |d| d.nr == -1)
        .rule(e(28), |_| false)
        .rule(e(29), |d| d.nr == 17);
    let values = [
        V,
        W,
        0x1200_0000_0000_0034,
        0x1234_0000_5600_0034,
        0x8000_0000,
        0x1_0000_0001,
        0x1_0000_0012,
    ];
    let data = inputs(3, 30_000, &[10, 11, 12, 13, 14, 15, 16, 17], &values);
    // `compare` wants every action reached; these never are, by design.
    let prog = filter.compile().unwrap();
    interp::check(&prog).unwrap();
    let mut reached = std::collections::BTreeSet::new();
    for d in &data {
        let want = reference.eval(d);
        assert_eq!(interp::run(&prog, d).unwrap(), want, "{d:x?}");
        reached.insert(want);
    }
    for n in (10..=29).filter(|n| ![20, 21, 22, 25, 28].contains(n)) {
        assert!(reached.contains(&e(n).to_ret()), "errno {n} never reached");
    }
}

/// 300 rules: the program is far longer than a conditional jump reaches (each rule is a
/// block whose checks jump at most to the next block), stays valid, and the first and the
/// last rule still decide their calls.
#[test]
fn a_long_program() {
    let mut filter = Filter::new(Action::Allow);
    let mut reference = Reference::new(Action::Allow, Action::KillProcess);
    let key = |i: u64| i * 0x1_0000_0001;
    for i in 0..300u16 {
        let v = key(u64::from(i));
        filter = filter.rule(syscall(u32::from(i)).when(arg(0).eq(v)).then(Action::Errno(i + 1)));
        reference =
            reference.rule(Action::Errno(i + 1), move |d| d.nr == i32::from(i) && d.args[0] == v);
    }
    // Shadowed by the first rule for args[0] == 0: the first match decides.
    filter = filter.rule(syscall(0).then(Action::Errno(999)));
    reference = reference.rule(Action::Errno(999), |d| d.nr == 0);

    let prog = filter.compile().unwrap();
    assert!(prog.len() > 2 * 256 && prog.len() <= BPF_MAXINSNS, "{}", prog.len());
    interp::check(&prog).unwrap();

    let run = |nr: i32, a0: u64| {
        Action::from_ret(interp::run(&prog, &SeccompData::new(nr, [a0, 0, 0, 0, 0, 0])).unwrap())
    };
    assert_eq!(run(0, 0), Action::Errno(1));
    assert_eq!(run(0, 1 << 32), Action::Errno(999));
    assert_eq!(run(299, key(299)), Action::Errno(300));
    assert_eq!(run(299, key(299) ^ 1 << 32), Action::Allow);
    assert_eq!(run(150, key(150)), Action::Errno(151));
    assert_eq!(run(300, key(300)), Action::Allow);

    let nrs: Vec<i32> = (0..300).collect();
    let keys: Vec<u64> = (0..300).map(key).collect();
    let mut data = inputs(4, 5_000, &nrs, &keys);
    for i in 0..300u64 {
        data.push(SeccompData::new(i as i32, [key(i), 0, 0, 0, 0, 0]));
        data.push(SeccompData::new(i as i32, [key(i) ^ 1 << 32, 0, 0, 0, 0, 0]));
    }
    let prog2 = compare(&filter, &reference, &data);
    assert_eq!(prog, prog2);
}

/// One rule longer than a conditional jump reaches: a failing first condition must still
/// get to the next rule.
#[test]
fn a_long_rule() {
    let mut rule = syscall(7).then(Action::Errno(1));
    for j in 0..80u64 {
        rule = rule.when(arg((j % 6) as usize).ne(j));
    }
    let filter = Filter::new(Action::Allow).rule(rule).rule(syscall(7).then(Action::Errno(2)));
    let reference = Reference::new(Action::Allow, Action::KillProcess)
        .rule(Action::Errno(1), |d| d.nr == 7 && (0..80u64).all(|j| d.args[(j % 6) as usize] != j))
        .rule(Action::Errno(2), |d| d.nr == 7);
    let prog = filter.compile().unwrap();
    assert!(prog.len() > 300, "{}", prog.len());
    assert!(prog.iter().any(|f| f.code == BPF_JMP | BPF_JA), "no long jump?");

    let run = |args| Action::from_ret(interp::run(&prog, &SeccompData::new(7, args)).unwrap());
    assert_eq!(run([100; 6]), Action::Errno(1));
    assert_eq!(run([0, 100, 100, 100, 100, 100]), Action::Errno(2)); // first condition
    assert_eq!(run([100, 100, 100, 100, 100, 77]), Action::Errno(2)); // one of the last
    assert_eq!(run([100, 100, 100, 100, 100, 77 | 1 << 32]), Action::Errno(1));

    let values: Vec<u64> = (0..80).collect();
    let mut data = inputs(6, 5_000, &[7], &values);
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        // Mostly passing values, now and then one that fails a condition.
        let mut args = [1000u64; 6];
        if rng.below(2) == 0 {
            let j = rng.below(80);
            args[j % 6] = j as u64;
        }
        data.push(SeccompData::new(7, args));
    }
    compare(&filter, &reference, &data);
}

/// With no rules, the default and the foreign-arch action only.
#[test]
fn no_rules() {
    let filter = Filter::new(Action::Errno(EPERM)).foreign_arch(Action::Log);
    let reference = Reference::new(Action::Errno(EPERM), Action::Log);
    let prog = compare(&filter, &reference, &inputs(8, 2_000, &[], &[]));
    assert!(prog.len() < 10, "{prog:?}");
}
