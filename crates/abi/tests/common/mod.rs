//! Renders the ABI's one definition as text: the layout snapshot and the tables of
//! `docs/abi.md` both come from here.

// Each test crate uses only some of these.
#![allow(dead_code)]

use ferrocall_abi::{Errno, FieldType, Header, Op, Request};

/// The layout snapshot: every operation with its number, request size and fields.
pub fn snapshot() -> String {
    let mut s = String::new();
    s.push_str("# ferrocall ABI layout snapshot: checked by crates/abi/tests/layout.rs.\n");
    s.push_str("# Append-only: numbers, offsets and types of existing lines never change.\n");
    s.push_str(&format!("abi_version {}\n", ferrocall_abi::ABI_VERSION));
    s.push_str("header size@0:u32 op@4:u32 flags@8:u32 reserved@12:u32\n");
    s.push_str(&format!(
        "answer offset={} value@0:u64 errno@8:u32 state@12:u32\n",
        Request::<()>::ANSWER_OFFSET
    ));
    s.push_str(&format!("args offset={}\n", Request::<()>::ARGS_OFFSET));
    for op in Op::ALL {
        s.push_str(&format!("op {} {} size={}\n", op.raw(), op.name(), op.request_size()));
        for f in op.fields() {
            s.push_str(&format!("  field {}@{}:{}\n", f.name, f.offset, f.ty.name()));
        }
        if let Some(twin) = op.twin() {
            s.push_str(&format!("  twin {} {}({})", twin.nr, twin.name, twin.args.join(",")));
            if let Some(by_ref) = twin.by_ref {
                s.push_str(&format!("+&{}({})", by_ref.name, by_ref.fields.join(",")));
            }
            s.push('\n');
        }
    }
    s
}

/// The Markdown table of operations for `docs/abi.md`.
pub fn ops_table() -> String {
    let mut s =
        String::from("| number | operation | request size | arguments (offset from `args`) |\n");
    s.push_str("|---:|---|---:|---|\n");
    for op in Op::ALL {
        let fields: Vec<String> = op
            .fields()
            .iter()
            .map(|f| {
                let ty = match f.ty {
                    FieldType::Pad32 => "padding, zero".to_string(),
                    FieldType::UserBuf => "user buffer, read (addr: u64, len: u64)".to_string(),
                    FieldType::UserBufMut => {
                        "user buffer, written (addr: u64, len: u64)".to_string()
                    }
                    FieldType::UserPath => {
                        "user path, NUL-terminated, read once (addr: u64)".to_string()
                    }
                    ty => ty.name().to_string(),
                };
                format!("`{}` @{}: {}", f.name, f.offset, ty)
            })
            .collect();
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            op.raw(),
            op.name(),
            op.request_size(),
            fields.join(", ")
        ));
    }
    s
}

/// The Markdown table of errnos for `docs/abi.md`.
pub fn errno_table() -> String {
    let mut s = String::from("| errno | name | description |\n|---:|---|---|\n");
    for e in Errno::ALL {
        s.push_str(&format!(
            "| {} | `{}` | {} |\n",
            e.raw(),
            e.name().unwrap_or("?"),
            e.description().unwrap_or("?")
        ));
    }
    s
}

/// An operation's documentation as one Markdown paragraph: rustdoc links become code.
pub fn doc_text(op: Op) -> String {
    let text: Vec<&str> = op.doc().lines().map(str::trim).collect();
    let mut text = text.join(" ");
    // `[`X`](path)` and `[`X`]` are rustdoc links; in Markdown they are just `X`.
    while let Some(start) = text.find("[`") {
        let Some(end) = text[start..].find("`]").map(|e| e + start) else {
            break;
        };
        let code = text[start + 1..end + 1].to_string();
        let mut after = end + 2;
        if text[after..].starts_with('(') {
            if let Some(close) = text[after..].find(')') {
                after += close + 1;
            }
        }
        text = format!("{}{}{}", &text[..start], code, &text[after..]);
    }
    text
}

/// The first sentence of an operation's documentation.
pub fn summary(op: Op) -> String {
    let text = doc_text(op);
    match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text,
    }
}

/// The legacy twin of `op` as C: `write(fd, buf.addr, buf.len)`, or `—`.
pub fn twin_text(op: Op) -> String {
    let Some(twin) = op.twin() else {
        return "—".to_string();
    };
    let mut args: Vec<String> = twin
        .args
        .iter()
        .map(|name| {
            let field = op.fields().iter().find(|f| f.name == *name).expect("twin field");
            match field.ty {
                FieldType::UserBuf | FieldType::UserBufMut => format!("{name}.addr, {name}.len"),
                _ => name.to_string(),
            }
        })
        .collect();
    if let Some(by_ref) = twin.by_ref {
        args.push(format!("&{0}, sizeof({0})", by_ref.name));
    }
    format!("`{}({})` ({})", twin.name, args.join(", "), twin.nr)
}

/// One paragraph per operation for `docs/abi.md`, from the table's documentation.
pub fn ops_prose() -> String {
    let mut s = String::new();
    for op in Op::ALL {
        s.push_str(&format!("- **`{}`** ({}): {}\n", op.name(), op.raw(), doc_text(*op)));
    }
    s
}

/// The legacy twins for `docs/abi.md`.
pub fn twin_table() -> String {
    let mut s = String::from("| operation | legacy twin (x86_64 number) |\n|---|---|\n");
    for op in Op::ALL {
        s.push_str(&format!("| `{}` | {} |\n", op.name(), twin_text(*op)));
    }
    s
}

/// The layout of each decoded presentation to seccomp, for `docs/abi.md`: one row per
/// operation that has one, `ferrocall(op, ...)` with each argument's field.
pub fn decoded_table() -> String {
    let mut s = String::from(
        "| operation | `nr` | `args[0]` | `args[1]` | `args[2]` | `args[3]` | `args[4]` | `args[5]` |\n\
         |---|---:|---:|---|---|---|---|---|\n",
    );
    for op in Op::ALL.iter().filter(|op| op.has_decoded_presentation()) {
        let mut cells = vec!["—".to_string(); 5];
        for shown in op.decoded_layout() {
            let what = match (shown.field.ty, shown.part) {
                (_, ferrocall_abi::ShownPart::Len) => format!("`{}.len`", shown.field.name),
                (_, ferrocall_abi::ShownPart::Addr) => format!("`{}.addr`", shown.field.name),
                (FieldType::UserPath, _) => format!("`{}` (its address)", shown.field.name),
                (FieldType::I32 | FieldType::I64, _) => {
                    format!("`{}` ({}, sign-extended)", shown.field.name, shown.field.ty.name())
                }
                (ty, _) => format!("`{}` ({})", shown.field.name, ty.name()),
            };
            cells[shown.arg - 1] = what;
        }
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            op.name(),
            ferrocall_abi::SYSCALL_NR,
            op.raw(),
            cells.join(" | ")
        ));
    }
    s
}

/// The README's table of calls.
pub fn readme_calls() -> String {
    let mut s =
        String::from("| operation | wrapper | legacy twin | what it does |\n|---|---|---|---|\n");
    for op in Op::ALL {
        s.push_str(&format!(
            "| `{}` | `ferrocall::{}` | {} | {} |\n",
            op.name(),
            op.function(),
            twin_text(*op),
            summary(*op)
        ));
    }
    s
}

/// An operation's name in C: its function's name (`getpid`, `packed_batch`).
fn c_name(op: Op) -> String {
    op.function().to_string()
}

/// The generated part of the uapi header `include/uapi/linux/ferrocall.h`: operation
/// numbers, request sizes and the layouts of requests, answers and arguments, for C.
pub fn uapi_section() -> String {
    let mut s = String::new();
    s.push_str("/* Operation numbers: RDI, and the header's op. */\n");
    for op in Op::ALL {
        s.push_str(&format!("#define FERROCALL_OP_{}\t{}\n", c_name(*op).to_uppercase(), op.raw()));
    }
    s.push_str("\n/* The size of a whole request of each operation in this ABI: RSI. */\n");
    for op in Op::ALL {
        s.push_str(&format!(
            "#define FERROCALL_SIZE_{}\t{}\n",
            c_name(*op).to_uppercase(),
            op.request_size()
        ));
    }
    s.push_str(&format!(
        "\n/* Every request starts with a header, then the answer slot. */\n\
         struct ferrocall_header {{\n\
         \t__u32 size;\t/* of the whole request */\n\
         \t__u32 op;\n\
         \t__u32 flags;\t/* FERROCALL_ANSWER_IN_REGISTERS, or zero */\n\
         \t__u32 reserved;\t/* zero */\n\
         }};\n\n\
         /* The answer slot, the only part of a request the kernel writes. */\n\
         struct ferrocall_answer {{\n\
         \t__u64 value;\n\
         \t__u32 error;\t/* 0 or an errno */\n\
         \t__u32 state;\t/* FERROCALL_ANSWER_* */\n\
         }};\n\n\
         #define FERROCALL_ANSWER_PENDING\t0\n\
         #define FERROCALL_ANSWER_DONE\t\t1\n\n\
         /* Header flag (ABI 2): a lone call with a twin answers in RAX. */\n\
         #define FERROCALL_ANSWER_IN_REGISTERS\t{}\n\n\
         /* The answer slot starts at this offset of a request. */\n\
         #define FERROCALL_ANSWER_OFFSET\t{}\n\n\
         /* The arguments start at this offset of a request. */\n\
         #define FERROCALL_ARGS_OFFSET\t{}\n\n\
         /* A buffer in the caller's memory. */\n\
         struct ferrocall_buf {{\n\
         \t__u64 addr;\n\
         \t__u64 len;\n\
         }};\n",
        Header::ANSWER_IN_REGISTERS,
        Request::<()>::ANSWER_OFFSET,
        Request::<()>::ARGS_OFFSET
    ));
    s.push_str("\n/* The arguments of each operation (none: no struct). */\n");
    for op in Op::ALL {
        if op.fields().is_empty() {
            continue;
        }
        s.push_str(&format!("struct ferrocall_{}_args {{\n", c_name(*op)));
        for f in op.fields() {
            let ty = match f.ty {
                FieldType::U32 | FieldType::Pad32 => "__u32",
                FieldType::I32 => "__s32",
                FieldType::U64 | FieldType::UserPath => "__u64",
                FieldType::I64 => "__s64",
                FieldType::UserBuf | FieldType::UserBufMut => "struct ferrocall_buf",
            };
            let note = match f.ty {
                FieldType::Pad32 => "\t/* zero */",
                FieldType::UserBuf => "\t/* read by the kernel */",
                FieldType::UserBufMut => "\t/* written by the kernel */",
                FieldType::UserPath => "\t/* a NUL-terminated path, read by the kernel */",
                _ => "",
            };
            s.push_str(&format!("\t{ty} {};{note}\n", f.name));
        }
        s.push_str("};\n\n");
    }
    s.push_str(
        "/* One call of a batch: the registers of a lone typed call. */\n\
         struct ferrocall_batch_entry {\n\
         \t__u32 op;\n\
         \t__u32 size;\n\
         \t__u64 addr;\n\
         };\n\n",
    );
    s.push_str(&format!(
        "/* The flags of a batch (ABI 4): it may stop before a call, Ok(n) < calls. */\n\
         #define FERROCALL_BATCH_RESUMABLE\t{}\n\n",
        ferrocall_abi::ops::BATCH_RESUMABLE
    ));
    s
}

/// How the entry code's fast path finds one register of an operation's twin call in the
/// request's argument words: the word, and which part of it (the `FERROCALL_ARG_*` kinds of
/// `include/linux/ferrocall_entry.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwinSource {
    /// The argument word (8 bytes from the start of the arguments each).
    pub word: usize,
    /// `U64`, `U32` or `S32` (the low half, zero- or sign-extended), `HI_U32` or `HI_S32`
    /// (the high half).
    pub kind: &'static str,
}

/// The fast path's view of an operation with a twin: the twin's registers, in order, and
/// the bits of each argument word that must be zero (padding). `None` without a twin.
pub fn twin_sources(op: Op) -> Option<(Vec<TwinSource>, Vec<u64>)> {
    let twin = op.twin()?;
    // The fast path presents only operations that run as their twin.
    if op.runs_from_copy() {
        return None;
    }
    let words = op.args_size() / 8;
    let mut zero = vec![0u64; words];
    for f in op.fields() {
        if f.ty == FieldType::Pad32 {
            zero[f.offset / 8] |= 0xffff_ffffu64 << (8 * (f.offset % 8));
        }
    }
    let mut sources = Vec::new();
    for name in twin.args {
        let f = op.fields().iter().find(|f| f.name == *name).expect("a twin argument is a field");
        let (word, high) = (f.offset / 8, f.offset % 8 == 4);
        let kind = match (f.ty, high) {
            (FieldType::U64 | FieldType::I64, _) => "U64",
            (FieldType::U32, false) => "U32",
            (FieldType::U32, true) => "HI_U32",
            (FieldType::I32, false) => "S32",
            (FieldType::I32, true) => "HI_S32",
            (FieldType::UserBuf | FieldType::UserBufMut, _) => {
                sources.push(TwinSource { word, kind: "U64" });
                sources.push(TwinSource { word: word + 1, kind: "U64" });
                continue;
            }
            (FieldType::UserPath, _) => "U64",
            (FieldType::Pad32, _) => panic!("padding is never a twin argument"),
        };
        sources.push(TwinSource { word, kind });
    }
    Some((sources, zero))
}

/// The twin registers `twin_sources` says the fast path builds from `words`, the arguments
/// of a request of `op` (what `ferrocall_enter()` in `include/linux/ferrocall_entry.h` does):
/// `None` if a padding bit is set.
pub fn twin_registers_from_words(op: Op, words: &[u64]) -> Option<(u32, [u64; 6])> {
    let (sources, zero) = twin_sources(op)?;
    if words.iter().zip(&zero).any(|(w, z)| w & z != 0) {
        return None;
    }
    let mut regs = [0u64; 6];
    for (reg, s) in regs.iter_mut().zip(&sources) {
        let w = words[s.word];
        *reg = match s.kind {
            "U64" => w,
            "U32" => u64::from(w as u32),
            "S32" => i64::from(w as u32 as i32) as u64,
            "HI_U32" => w >> 32,
            "HI_S32" => i64::from((w >> 32) as u32 as i32) as u64,
            _ => unreachable!(),
        };
    }
    Some((op.twin()?.nr, regs))
}

/// A twin argument in C, from the argument word `w` (a C expression) read before (what
/// `twin_registers_from_words` computes).
fn c_twin_arg(source: &TwinSource, w: &str) -> String {
    match source.kind {
        "U64" => w.to_string(),
        "U32" => format!("(u32){w}"),
        "S32" => format!("(long)(s32){w}"),
        "HI_U32" => format!("{w} >> 32"),
        "HI_S32" => format!("(long)(s32)({w} >> 32)"),
        other => panic!("unknown twin argument kind {other}"),
    }
}

/// The `pt_regs` fields of a system call's six arguments, in order.
const ARG_REGS: [&str; 6] = ["di", "si", "dx", "r10", "r8", "r9"];

/// The generated part of `include/linux/ferrocall_entry.h`: the table and the function the entry
/// code's fast path presents a lone typed call as its legacy twin with.
pub fn twins_section() -> String {
    let ops = Op::ALL.iter().map(|op| op.raw()).max().unwrap_or(0) + 1;
    let slots = ops.next_power_of_two();
    let mut s = format!(
        "/* Operation numbers are below this. */\n\
         #define FERROCALL_OPS\t\t{ops}\n\
         /* The table's slots: a power of two, see ferrocall_twin_of(). */\n\
         #define FERROCALL_TWIN_SLOTS\t{slots}\n\n\
         static const struct ferrocall_twin ferrocall_twins[FERROCALL_TWIN_SLOTS] = {{\n"
    );
    let mut cases = String::new();
    let mut bodies: Vec<(String, Vec<String>)> = Vec::new();
    for op in Op::ALL {
        let upper = c_name(*op).to_uppercase();
        let Some(twin) = op.twin() else {
            // Read whole at entry and run from the copy, presented as ferrocall().
            let words = op.args_size() / 8;
            // The fast path takes `words == 0` for a twin whose registers are all 0.
            assert!(words > 0, "{op:?}: an operation without a twin needs an argument word");
            s.push_str(&format!(
                "\t[FERROCALL_OP_{upper}] = {{\t/* ferrocall(), read at entry */\n\
                 \t\t.nr = __NR_ferrocall, .words = {words},\n\
                 \t\t.head = FERROCALL_HEAD({}, FERROCALL_OP_{upper}),\n\t}},\n",
                op.request_size(),
            ));
            continue;
        };
        if op.runs_from_copy() {
            let by_ref = twin.by_ref.map(|b| format!(", &{}", b.name)).unwrap_or_default();
            s.push_str(&format!(
                "\t[FERROCALL_OP_{upper}] = {{\t/* {}({}{by_ref}), run from the copy */\n\
                 \t\t.nr = {}, .held = 1,\n\t}},\n",
                twin.name,
                twin.args.join(", "),
                twin.nr,
            ));
            continue;
        }
        let Some((sources, zero)) = twin_sources(*op) else {
            continue;
        };
        assert!(sources.len() <= 6, "{op:?}: a system call takes six arguments at most");
        let call = format!("{}({})", twin.name, twin.args.join(", "));
        s.push_str(&format!(
            "\t[FERROCALL_OP_{upper}] = {{\t/* {call} */\n\t\t.nr = {}, .words = {},\n\
             \t\t.head = FERROCALL_HEAD({}, FERROCALL_OP_{upper}),\n\t}},\n",
            twin.nr,
            op.args_size() / 8,
            op.request_size(),
        ));
        // A twin without argument words has all six registers 0: the fast path's first
        // test (`words`), not a case of the switch.
        if op.args_size() == 0 {
            assert!(sources.is_empty(), "{op:?}: a twin argument needs an argument word");
            continue;
        }
        // Each word is read once and checked for padding, all of them before the first
        // register is set (a request the fast path gives up on leaves @regs as they
        // were); then the registers are made from them, those no argument fills zeroed.
        let mut body = String::new();
        let mut assigns = String::new();
        for (word, pad) in zero.iter().enumerate() {
            let targets: Vec<usize> =
                (0..sources.len()).filter(|&r| sources[r].word == word).collect();
            // A word that is neither an argument nor padding is not read: nothing checks it.
            if targets.is_empty() && *pad == 0 {
                continue;
            }
            body.push_str(&format!("\t\tunsafe_get_user(w[{word}], &args[{word}], fail);\n"));
            if *pad != 0 {
                body.push_str(&format!("\t\tif (w[{word}] & {pad:#x})\n\t\t\tgoto fail;\n"));
            }
            for r in targets {
                let arg = c_twin_arg(&sources[r], &format!("w[{word}]"));
                assigns.push_str(&format!("\t\tregs->{} = {arg};\n", ARG_REGS[r]));
            }
        }
        body.push_str(&assigns);
        for reg in ARG_REGS.iter().skip(sources.len()) {
            body.push_str(&format!("\t\tregs->{reg} = 0;\n"));
        }
        // Operations whose registers are made alike share one case.
        let label = format!("\tcase FERROCALL_OP_{upper}:\t/* {call} */\n");
        match bodies.iter_mut().find(|(b, _)| *b == body) {
            Some((_, labels)) => labels.push(label),
            None => bodies.push((body, vec![label])),
        }
    }
    for (body, labels) in &bodies {
        cases.push_str(&format!("{}{body}\t\treturn FERROCALL_LOAD_TWIN;\n", labels.concat()));
    }
    // Any other operation the fast path takes has no twin (the caller checks the table's
    // number): a default, not a case each, keeps the compare tree of the twins' cases.
    cases
        .push_str("\tdefault:\t/* no twin: read at entry */\n\t\treturn FERROCALL_LOAD_NO_TWIN;\n");
    s.push_str("};\n\n");
    let loaded = Op::ALL.iter().filter(|op| op.twin().is_none()).map(|op| op.args_size() / 8);
    s.push_str(&format!(
        "/* The entry record holds the argument words of every operation without a twin. */\n\
         static_assert({} <= FERROCALL_HELD_WORDS);\n\n",
        loaded.max().unwrap_or(0)
    ));
    let max_words = Op::ALL
        .iter()
        .filter(|op| twin_sources(**op).is_some())
        .map(|op| op.args_size() / 8)
        .max()
        .unwrap_or(0)
        .max(1);
    s.push_str(&format!(
        "/*\n * Reads the argument words of a request of operation @op, which the fast\n \
         * path takes, from @args (inside a user-access window), and puts the twin's\n \
         * arguments in @regs (FERROCALL_LOAD_TWIN); @words is the table's (0:\n \
         * every register is 0). FERROCALL_LOAD_NO_TWIN for any operation without a\n \
         * case, which it does not read: one without a twin, as the caller checks;\n \
         * FERROCALL_LOAD_FAILED for a word it cannot read or with a padding bit\n \
         * set. @regs are as they were unless it gives FERROCALL_LOAD_TWIN.\n */\n\
         static __always_inline int ferrocall_twin_load(struct pt_regs *regs,\n\
         \t\t\t\t\t       const u64 __user *args,\n\
         \t\t\t\t\t       unsigned long op,\n\
         \t\t\t\t\t       unsigned int words)\n\
         {{\n\
         \tu64 w[{max_words}];\n\n\
         \tif (!words) {{\n\
         \t\tregs->di = 0;\n\
         \t\tregs->si = 0;\n\
         \t\tregs->dx = 0;\n\
         \t\tregs->r10 = 0;\n\
         \t\tregs->r8 = 0;\n\
         \t\tregs->r9 = 0;\n\
         \t\treturn FERROCALL_LOAD_TWIN;\n\
         \t}}\n\
         \tswitch (op) {{\n{cases}\t}}\n\
         fail:\n\
         \treturn FERROCALL_LOAD_FAILED;\n\
         }}\n\n"
    ));
    s
}

/// A small deterministic random number generator (xorshift64) for the randomised tests:
/// the same sequence on every run, so a failure can be replayed.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// `text` (the file `file`) with what lies between the markers `begin` and `end` replaced
/// by `body`; panics naming the file and the marker when one is missing.
pub fn replace_between(text: &str, file: &str, begin: &str, end: &str, body: &str) -> String {
    let start =
        text.find(begin).unwrap_or_else(|| panic!("{file} lacks `{}`", begin.trim())) + begin.len();
    let stop = text[start..].find(end).unwrap_or_else(|| panic!("{file} lacks `{end}`")) + start;
    format!("{}{}{}", &text[..start], body, &text[stop..])
}

/// Checks that the file at `path` (named `file` in messages) is what `want` makes of its
/// text: its generated parts are up to date. With `FERROCALL_BLESS` set, rewrites it.
pub fn check_generated_file(path: &str, file: &str, want: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let wanted = want(&text);
    if std::env::var_os("FERROCALL_BLESS").is_some() {
        std::fs::write(path, &wanted).unwrap_or_else(|e| panic!("write {file}: {e}"));
        return;
    }
    assert!(
        text == wanted,
        "{file} is out of date with the operation table: run FERROCALL_BLESS=1 cargo test -p ferrocall-repo-tests"
    );
}
