//! Filters the builder refuses, and what it says about them.

use ferrocall_abi::Op;
use ferrocall_seccomp::bpf::BPF_MAXINSNS;
use ferrocall_seccomp::{
    allow, arg, deny, field, interp, syscall, typed, Action, BuildError, Filter,
};

fn error(filter: Filter) -> (BuildError, String) {
    let e = filter.compile().unwrap_err();
    let text = e.to_string();
    (e, text)
}

#[test]
fn an_unknown_field_names_the_operation_and_the_field() {
    let (e, text) =
        error(Filter::new(Action::Allow).rule(allow(Op::Open).when(field("flag").eq(0))));
    assert_eq!(e, BuildError::UnknownField { op: Op::Open, field: "flag" });
    assert!(text.contains("Op::Open") && text.contains("`flag`"), "{text}");
    assert!(text.contains("flags") && text.contains("resolve"), "lists the fields: {text}");
}

#[test]
fn a_field_that_is_not_shown() {
    let (e, text) =
        error(Filter::new(Action::Allow).rule(allow(Op::Open).when(field("pad0").eq(0))));
    assert_eq!(e, BuildError::FieldNotShown { op: Op::Open, field: "pad0" });
    assert!(text.contains("Op::Open") && text.contains("`pad0`"), "{text}");
    // `.len` is for buffers only.
    let (e, _) =
        error(Filter::new(Action::Allow).rule(allow(Op::Open).when(field("flags.len").eq(0))));
    assert_eq!(e, BuildError::FieldNotShown { op: Op::Open, field: "flags.len" });
    let (e, _) =
        error(Filter::new(Action::Allow).rule(allow(Op::Open).when(field("nope.len").eq(0))));
    assert_eq!(e, BuildError::UnknownField { op: Op::Open, field: "nope.len" });
}

#[test]
fn a_field_of_an_operation_without_a_decoded_presentation() {
    for op in [Op::Useless, Op::Probe, Op::Batch, Op::PackedBatch] {
        assert!(!op.has_decoded_presentation() && op.twin().is_none());
        let name = op.fields()[0].name;
        let (e, text) = error(
            Filter::new(Action::Allow).rule(typed(op).when(field(name).eq(1)).then(Action::Log)),
        );
        assert_eq!(e, BuildError::NoDecodedPresentation { op, field: name });
        assert!(text.contains(&format!("Op::{}", op.name())) && text.contains(name), "{text}");
        // arg() conditions on what it is shown as are fine.
        Filter::new(Action::Allow)
            .rule(typed(op).when(arg(1).eq(40)).then(Action::Log))
            .compile()
            .unwrap();
    }
}

#[test]
fn a_rule_on_an_operation_shown_only_as_its_twin() {
    let (e, text) = error(Filter::new(Action::Allow).rule(deny(Op::Write, Action::KillProcess)));
    assert_eq!(e, BuildError::ShownAsTwin { op: Op::Write });
    assert!(text.contains("Op::Write") && text.contains("syscall(1)"), "{text}");
    for &op in Op::ALL {
        let result = Filter::new(Action::Allow).rule(allow(op)).compile();
        let shown_as_twin = op.twin().is_some() && !op.has_decoded_presentation();
        assert_eq!(result.is_err(), shown_as_twin, "{op:?}");
    }
}

#[test]
fn fields_args_and_numbers_out_of_place() {
    let (e, text) = error(
        Filter::new(Action::Allow).rule(syscall(1).when(field("fd").eq(1)).then(Action::Log)),
    );
    assert_eq!(e, BuildError::FieldOnSyscall { nr: 1, field: "fd" });
    assert!(text.contains("`fd`") && text.contains("arg("), "{text}");
    let (e, _) =
        error(Filter::new(Action::Allow).rule(syscall(1).when(arg(6).eq(1)).then(Action::Log)));
    assert_eq!(e, BuildError::NoSuchArg { index: 6 });
    let (e, _) = error(Filter::new(Action::Allow).rule(syscall(0x4000_0001).then(Action::Log)));
    assert_eq!(e, BuildError::X32Number { nr: 0x4000_0001 });
}

#[test]
fn the_first_bad_rule_is_reported() {
    let (e, _) = error(
        Filter::new(Action::Allow)
            .rule(syscall(1).then(Action::Log))
            .rule(allow(Op::Open).when(field("first").eq(0)))
            .rule(allow(Op::Open).when(field("second").eq(0))),
    );
    assert_eq!(e, BuildError::UnknownField { op: Op::Open, field: "first" });
}

#[test]
fn too_many_instructions() {
    // Adds rules until the program is too long: the last one accepted is valid and near
    // the limit, the first one refused says why.
    let mut filter = Filter::new(Action::Allow);
    let mut last_ok = Vec::new();
    for i in 0..10_000u32 {
        filter = filter.rule(syscall(i % 400).when(arg(0).eq(u64::from(i))).then(Action::Errno(1)));
        match filter.compile() {
            Ok(prog) => last_ok = prog,
            Err(e) => {
                assert!(matches!(e, BuildError::TooLong { len } if len > BPF_MAXINSNS), "{e:?}");
                assert!(e.to_string().contains("4096"), "{e}");
                assert!(last_ok.len() <= BPF_MAXINSNS && last_ok.len() > BPF_MAXINSNS - 16);
                interp::check(&last_ok).unwrap();
                return;
            }
        }
    }
    panic!("never too long");
}
