//! `cargo xtask bench`: boots the patched kernel twice with `ferrobench`, once under
//! `-icount shift=0` (guest time counts instructions: deterministic) and once under plain
//! TCG (wall-clock, good only for ratios), and reports medians, spreads and ratios, the
//! batch cost fit `a + b·N`, the goals, a JSON file and an SVG plot under `target/bench/`.

use std::fmt::Write as _;
use std::fs;

use crate::qemu::{self, Mode};
use crate::util::{self, bail, Result, Workspace};
use crate::{guest, kernel};

/// One case's samples.
struct Case {
    name: String,
    group: String,
    calls: f64,
    ns: Vec<f64>,
}

impl Case {
    fn median(&self) -> f64 {
        let mut v = self.ns.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// (min, max) around the median, as fractions of it.
    fn spread(&self) -> (f64, f64) {
        let m = self.median();
        let lo = self.ns.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.ns.iter().copied().fold(0.0, f64::max);
        (lo / m - 1.0, hi / m - 1.0)
    }
}

fn parse(lines: &[String]) -> Vec<Case> {
    let mut cases = Vec::new();
    for line in lines {
        let Some(json) = line.strip_prefix("bench: ") else {
            continue;
        };
        let field = |key: &str| -> Option<&str> {
            let start = json.find(&format!("\"{key}\": "))? + key.len() + 4;
            let rest = &json[start..];
            if let Some(text) = rest.strip_prefix('"') {
                return Some(&text[..text.find('"')?]);
            }
            let end =
                if rest.starts_with('[') { rest.find(']')? + 1 } else { rest.find([',', '}'])? };
            Some(&rest[..end])
        };
        let (Some(name), Some(group), Some(calls), Some(ns)) =
            (field("name"), field("group"), field("calls"), field("ns"))
        else {
            continue;
        };
        let ns: Vec<f64> =
            ns.trim_matches(['[', ']']).split(',').filter_map(|v| v.trim().parse().ok()).collect();
        if ns.is_empty() {
            continue;
        }
        cases.push(Case {
            name: name.into(),
            group: group.into(),
            calls: calls.parse().unwrap_or(1.0),
            ns,
        });
    }
    cases
}

/// Whether `ferrobench` refused to measure because the guest's clock was too coarse (it
/// checks the clock's resolution first and prints this line instead of any case).
fn clock_refused(lines: &[String]) -> bool {
    lines.iter().any(|l| l.trim_end() == "bench-clock: too coarse")
}

fn find<'a>(cases: &'a [Case], name: &str) -> Option<&'a Case> {
    cases.iter().find(|c| c.name == name)
}

/// Least-squares fit of `y = a + b·x`.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let sxx: f64 = points.iter().map(|(x, _)| x * x).sum();
    let sxy: f64 = points.iter().map(|(x, y)| x * y).sum();
    let b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    ((sy - b * sx) / n, b)
}

/// One row of the targets of issue 9: a ratio of instruction counts measured in one run,
/// with the must and the goal it is held to (both upper bounds).
struct Target {
    key: &'static str,
    what: &'static str,
    value: Option<f64>,
    must: f64,
    goal: f64,
    note: &'static str,
}

impl Target {
    fn met_must(&self) -> bool {
        self.value.is_some_and(|v| v <= self.must)
    }

    fn met_goal(&self) -> bool {
        self.value.is_some_and(|v| v <= self.goal)
    }
}

/// The targets, from the cases of one icount run. A case the run lacks gives no value.
fn targets(cases: &[Case]) -> Vec<Target> {
    let median = |name: &str| find(cases, name).map(Case::median);
    let per_call = |name: &str| find(cases, name).map(|c| c.median() / c.calls);
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    // Instructions per call that case `with` pays over case `without`.
    let extra = |with: &str, without: &str| {
        per_call(with).zip(per_call(without)).map(|(with, without)| with - without)
    };
    let getppid = median("legacy getppid");
    let row = |key, what, value, must, goal| Target { key, what, value, must, goal, note: "" };
    vec![
        row(
            "lone_useless",
            "lone typed Useless / legacy getppid",
            ratio(median("typed Useless"), getppid),
            1.30,
            1.10,
        ),
        row(
            "lone_getppid",
            "lone typed GetPpid / legacy getppid",
            ratio(median("typed GetPpid"), getppid),
            1.30,
            1.10,
        ),
        row(
            "lone_write_1b",
            "lone typed Write 1 B / legacy write 1 B",
            ratio(median("typed Write 1 B"), median("legacy write 1 B")),
            1.25,
            1.05,
        ),
        row(
            "packed32_per_call",
            "PackedBatch of 32 Useless, per call / legacy getppid",
            ratio(per_call("packed batch of 32 Useless"), getppid),
            0.35,
            0.30,
        ),
        row(
            "packed128_per_call",
            "PackedBatch of 128 Useless, per call / legacy getppid",
            ratio(per_call("packed batch of 128 Useless"), getppid),
            0.25,
            0.20,
        ),
        row(
            "batch32_per_call",
            "Batch of 32 Useless, per call / legacy getppid",
            ratio(per_call("batch of 32 Useless"), getppid),
            0.60,
            0.45,
        ),
        row(
            "packed32_filter_extra",
            "PackedBatch of 32 GetPpid under a one-rule filter: extra instructions per call",
            extra("packed batch of 32 GetPpid, one-rule filter", "packed batch of 32 GetPpid"),
            20.0,
            8.0,
        ),
        row(
            "packed32_audit_extra",
            "PackedBatch of 32 GetPpid with audit enabled and no rules: extra instructions per call",
            extra("packed batch of 32 GetPpid, audit on", "packed batch of 32 GetPpid"),
            40.0,
            15.0,
        ),
    ]
}

/// One row issue 9 asks to report without a target: a ratio of instruction counts of one
/// run.
struct Reported {
    key: &'static str,
    what: &'static str,
    value: Option<f64>,
}

/// The rows reported without a target: lone and batched calls under a filter the action
/// cache cannot answer for and under a container runtime's default profile, each against the
/// lone legacy call under the same filter (the kernel's own `seccomp_benchmark` method).
fn reported(cases: &[Case]) -> Vec<Reported> {
    let per_call = |name: &str| find(cases, name).map(|c| c.median() / c.calls);
    let mut rows = Vec::new();
    for (filter, lone, packed, what_lone, what_packed) in [
        (
            "300-rule filter",
            "filter300_lone_getppid",
            "filter300_packed32_per_call",
            "under a 300-rule filter the action cache cannot answer for: lone typed GetPpid / legacy getppid",
            "under the 300-rule filter: PackedBatch of 32 GetPpid, per call / legacy getppid",
        ),
        (
            "container profile",
            "container_lone_getppid",
            "container_packed32_per_call",
            "under containers/common's default profile (+ a rule admitting 1023): lone typed GetPpid / legacy getppid",
            "under the container profile: PackedBatch of 32 GetPpid, per call / legacy getppid",
        ),
    ] {
        let legacy = per_call(&format!("legacy getppid, {filter}"));
        let ratio = |name: String| per_call(&name).zip(legacy).map(|(a, b)| a / b);
        rows.push(Reported {
            key: lone,
            what: what_lone,
            value: ratio(format!("typed GetPpid, {filter}")),
        });
        rows.push(Reported {
            key: packed,
            what: what_packed,
            value: ratio(format!("packed batch of 32 GetPpid, {filter}")),
        });
    }
    rows
}

/// The rows reported without a target, as a Markdown table.
fn reported_table(rows: &[Reported]) -> String {
    let mut t = String::from("| reported (no target) | measured |\n|---|---:|\n");
    for r in rows {
        let value = r.value.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
        let _ = writeln!(t, "| {} (`{}`) | {value} |", r.what, r.key);
    }
    t
}

/// The targets as a Markdown table.
fn targets_table(rows: &[Target]) -> String {
    let mut t = String::from(
        "| target | measured | must | goal | must met | goal met |\n|---|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let value = r.value.map_or_else(|| format!("— ({})", r.note), |v| format!("{v:.2}"));
        let yes = |b: bool| if b { "yes" } else { "no" };
        let _ = writeln!(
            t,
            "| {} (`{}`) | {value} | {} | {} | {} | {} |",
            r.what,
            r.key,
            r.must,
            r.goal,
            yes(r.met_must()),
            yes(r.met_goal())
        );
    }
    t
}

/// Puts the run's targets table into `docs/performance.md`, between its markers: the
/// analysis around it is written by hand, the figures come from the run.
fn update_performance_doc(ws: &Workspace, table: &str) -> Result<()> {
    const BEGIN: &str = "<!-- BEGIN GENERATED by cargo xtask bench -->\n";
    const END: &str = "<!-- END GENERATED -->";
    let path = ws.root.join("docs/performance.md");
    let text = fs::read_to_string(&path)?;
    let (Some(start), Some(stop)) = (text.find(BEGIN), text.find(END)) else {
        bail!("docs/performance.md has no generated section ({BEGIN:?} ... {END:?}): add the markers where the targets table belongs");
    };
    let start = start + BEGIN.len();
    if stop < start {
        bail!("docs/performance.md: the generated section's end comes before its start");
    }
    let updated = format!("{}{table}{}", &text[..start], &text[stop..]);
    if util::write_if_changed(&path, updated.as_bytes())? {
        println!("updated the targets table in {}", path.display());
    }
    Ok(())
}

/// `cargo xtask bench`.
pub fn run(ws: &Workspace, line: crate::series::Line) -> Result<bool> {
    let image = kernel::build(ws, line, kernel::Variant::Ferrocall)?;
    let bins = guest::build(ws)?;
    let initrd = guest::initramfs(ws, &bins)?;
    let dir = ws.target().join("bench");
    fs::create_dir_all(&dir)?;
    let mut json = String::from("{\n");
    let mut report = String::new();
    let mut goals_met = true;
    let mut targets_of_run = None;
    for (mode, key, title) in [
        (Mode::Icount, "icount", "guest instructions (QEMU -icount shift=0: 1 ns of guest time = 1 instruction; deterministic)"),
        (Mode::Tcg, "tcg", "wall-clock under QEMU TCG (noisy: read only the ratios)"),
    ] {
        util::step("bench", &format!("booting the patched kernel ({key}), running /bin/ferrobench"));
        let machine = qemu::Machine { mode, ..qemu::Machine::GUEST };
        let boot = qemu::boot_on(ws, &image, &initrd, "/bin/ferrobench", qemu::Show::Nothing, 1200, machine)?;
        let coarse = clock_refused(&boot.lines);
        if coarse {
            // Why: the guest's own words and the kernel's clock lines.
            for line in boot.lines.iter().filter(|l| {
                l.contains("ferrobench:") || l.contains("tsc:") || l.contains("clocksource:")
            }) {
                println!("  | {line}");
            }
        }
        if coarse && mode == Mode::Tcg {
            // The guest refused to time anything with a clock too coarse for the ratios
            // (it printed why); the instruction counts above are the benchmark.
            util::step("bench", "wall-clock half skipped: the guest's clock was too coarse (see above)");
            let _ = writeln!(
                report,
                "\n## {title}\n\nNot measured: the guest's clock was too coarse for ratios \
                 (its `bench-clock:` line and the boot log say why).\n"
            );
            continue;
        }
        if coarse {
            bail!(
                "the guest's clock under -icount was too coarse to count instructions; see the \
                 ferrobench lines above and the boot log in target/vm/"
            );
        }
        if !boot.report() {
            bail!("the benchmark run failed");
        }
        let cases = parse(&boot.lines);
        let Some(base) = find(&cases, "legacy getppid").map(Case::median) else {
            bail!("no `legacy getppid` case in the benchmark output");
        };
        let _ = writeln!(report, "\n## {title}\n");
        let _ = writeln!(report, "| case | per call | per operation | spread (min..max) | × legacy getppid |");
        let _ = writeln!(report, "|---|---:|---:|---:|---:|");
        let _ = writeln!(json, "  \"{key}\": [");
        for (i, c) in cases.iter().enumerate() {
            let m = c.median();
            let per_op = m / c.calls;
            let (lo, hi) = c.spread();
            let _ = writeln!(
                report,
                "| {} | {m:.0} | {per_op:.0} | {:+.0}%..{:+.0}% | {:.2} |",
                c.name,
                lo * 100.0,
                hi * 100.0,
                per_op / base
            );
            let samples: Vec<String> = c.ns.iter().map(|v| format!("{v:.1}")).collect();
            let _ = writeln!(
                json,
                "    {{\"name\": \"{}\", \"group\": \"{}\", \"ops\": {}, \"median\": {m:.1}, \"per_op\": {per_op:.1}, \"samples\": [{}]}}{}",
                c.name,
                c.group,
                c.calls,
                samples.join(", "),
                if i + 1 < cases.len() { "," } else { "" }
            );
        }
        let _ = writeln!(json, "  ],");
        for (group, what) in [("batch", "Batch"), ("packed", "PackedBatch")] {
            let points: Vec<(f64, f64)> =
                cases.iter().filter(|c| c.group == group).map(|c| (c.calls, c.median())).collect();
            let (a, b) = if points.len() >= 2 { fit(&points) } else { (0.0, 0.0) };
            let _ = writeln!(report, "\n{what} cost fit: {a:.0} + {b:.0}·N per batch.");
        }
        if mode == Mode::Icount {
            let rows = targets(&cases);
            let table = targets_table(&rows);
            let _ = writeln!(report, "\n### Targets (instructions; issue 9)\n\n{table}");
            let _ = writeln!(json, "  \"targets\": [");
            for (i, row) in rows.iter().enumerate() {
                let value = row.value.map_or("null".to_string(), |v| format!("{v:.3}"));
                let _ = writeln!(
                    json,
                    "    {{\"key\": \"{}\", \"what\": \"{}\", \"value\": {value}, \"must\": {}, \"goal\": {}, \"met_must\": {}, \"met_goal\": {}, \"note\": \"{}\"}}{}",
                    row.key,
                    row.what,
                    row.must,
                    row.goal,
                    row.met_must(),
                    row.met_goal(),
                    row.note,
                    if i + 1 < rows.len() { "," } else { "" }
                );
            }
            let _ = writeln!(json, "  ],");
            let others = reported(&cases);
            let others_table = reported_table(&others);
            let _ = writeln!(report, "\n{others_table}");
            let _ = writeln!(json, "  \"reported\": [");
            for (i, row) in others.iter().enumerate() {
                let value = row.value.map_or("null".to_string(), |v| format!("{v:.3}"));
                let _ = writeln!(
                    json,
                    "    {{\"key\": \"{}\", \"what\": \"{}\", \"value\": {value}}}{}",
                    row.key,
                    row.what,
                    if i + 1 < others.len() { "," } else { "" }
                );
            }
            let _ = writeln!(json, "  ],");
            goals_met &= rows.iter().all(Target::met_goal);
            targets_of_run =
                Some(format!("Linux {}, one run:\n\n{table}\n{others_table}", line.name));
            fs::write(dir.join("batch.svg"), svg(&cases, base))?;
        }
    }
    json.push_str("  \"format\": \"ns of guest time per call (icount: = instructions)\"\n}\n");
    fs::write(dir.join("results.json"), &json)?;
    fs::write(dir.join("report.md"), &report)?;
    // After the results are safe on disk: a doc without markers fails the run, not them.
    if let Some(table) = targets_of_run {
        update_performance_doc(ws, &table)?;
    }
    println!("{report}");
    println!("data: {}", dir.join("results.json").display());
    println!("plot: {}", dir.join("batch.svg").display());
    println!("report: {}", dir.join("report.md").display());
    if !goals_met {
        println!("(not every goal is met; see docs/performance.md)");
    }
    Ok(true)
}

/// The cost per operation against batch size, typed batches vs the single calls.
fn svg(cases: &[Case], base: f64) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 400.0, 70.0, 50.0, 40.0, 200.0);
    let per_op = |group: &str| -> Vec<(f64, f64)> {
        cases.iter().filter(|c| c.group == group).map(|c| (c.calls, c.median() / c.calls)).collect()
    };
    let (batch, packed) = (per_op("batch"), per_op("packed"));
    let single = find(cases, "typed Useless").map_or(base, Case::median);
    let ymax = batch.iter().chain(&packed).map(|p| p.1).fold(base.max(single), f64::max) * 1.1;
    let xmax = batch.iter().chain(&packed).map(|p| p.0).fold(1.0, f64::max);
    let x = |n: f64| left + (n.log2() / xmax.log2().max(1.0)) * (w - left - right);
    let y = |v: f64| h - bottom - v / ymax * (h - bottom - top);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"22\" font-size=\"14\">Cost per operation vs batch size (guest instructions, -icount shift=0)</text>\n"
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>",
        h - bottom
    );
    for (n, _) in &batch {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n}</text>",
            x(*n),
            h - bottom + 18.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">operations per batch (N)</text>",
        (left + w - right) / 2.0,
        h - 10.0
    );
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{v:.0}</text>",
            left - 6.0,
            y(v) + 4.0
        );
    }
    for (v, color, label) in [
        (base, "#c0392b", "legacy getppid"),
        (single, "#2980b9", "typed Useless, alone"),
        (0.3 * base, "#7f8c8d", "goal at N=32: 0.30x legacy"),
    ] {
        let _ = writeln!(s, "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"{color}\" stroke-dasharray=\"6 4\"/>", y(v), w - right);
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{label}: {v:.0}</text>",
            w - right + 8.0,
            y(v) + 4.0
        );
    }
    for (i, (series, color, label)) in [
        (&batch, "#27ae60", "typed Batch, per op"),
        (&packed, "#8e44ad", "typed PackedBatch, per op"),
    ]
    .into_iter()
    .enumerate()
    {
        let pts: Vec<String> =
            series.iter().map(|(n, v)| format!("{:.1},{:.1}", x(*n), y(*v))).collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
            pts.join(" ")
        );
        for (n, v) in series {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                x(*n),
                y(*v)
            );
        }
        // A legend in the plot's upper right, where the curves are not.
        let ly = top + 12.0 + 18.0 * i as f64;
        let lx = w - right - 200.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/>",
            lx + 24.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{label}</text>",
            lx + 30.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::{clock_refused, fit, parse, reported, reported_table, targets, targets_table};

    #[test]
    fn targets_are_ratios_of_one_run_held_to_their_bounds() {
        let line = |name: &str, calls: u32, ns: f64| {
            format!("bench: {{\"name\": \"{name}\", \"group\": \"g\", \"calls\": {calls}, \"ns\": [{ns}]}}")
        };
        let lines = vec![
            line("legacy getppid", 1, 200.0),
            line("typed GetPpid", 1, 250.0),
            line("typed Useless", 1, 300.0),
            line("packed batch of 32 Useless", 32, 32.0 * 60.0),
            line("packed batch of 32 GetPpid", 32, 32.0 * 100.0),
            line("packed batch of 32 GetPpid, one-rule filter", 32, 32.0 * 112.0),
            line("packed batch of 32 GetPpid, audit on", 32, 32.0 * 103.0),
        ];
        let rows = targets(&parse(&lines));
        let row = |key: &str| rows.iter().find(|r| r.key == key).expect(key);
        assert_eq!(row("lone_getppid").value, Some(1.25));
        assert!(row("lone_getppid").met_must() && !row("lone_getppid").met_goal());
        assert!(!row("lone_useless").met_must(), "1.5 is above the must");
        assert_eq!(row("packed32_per_call").value, Some(0.3));
        assert!(row("packed32_per_call").met_goal());
        assert_eq!(row("lone_write_1b").value, None, "no write cases in this run");
        assert!(!row("lone_write_1b").met_must(), "a target not measured is not met");
        // The filter row is a difference of instructions per call, not a ratio.
        assert_eq!(row("packed32_filter_extra").value, Some(12.0));
        assert!(row("packed32_filter_extra").met_must());
        assert!(!row("packed32_filter_extra").met_goal());
        assert_eq!(row("packed32_audit_extra").value, Some(3.0));
        assert!(row("packed32_audit_extra").met_goal());
        let table = targets_table(&rows);
        assert!(table.contains("| 1.25 | 1.3 | 1.1 | yes | no |"), "{table}");
    }

    #[test]
    fn filtered_rows_are_against_the_legacy_call_under_the_same_filter() {
        let line = |name: &str, calls: u32, ns: f64| {
            format!("bench: {{\"name\": \"{name}\", \"group\": \"g\", \"calls\": {calls}, \"ns\": [{ns}]}}")
        };
        let lines = vec![
            line("legacy getppid", 1, 200.0),
            line("typed GetPpid, 300-rule filter", 1, 2200.0),
            line("packed batch of 32 GetPpid, 300-rule filter", 32, 32.0 * 1000.0),
            line("legacy getppid, 300-rule filter", 1, 2000.0),
            line("typed GetPpid, container profile", 1, 600.0),
        ];
        let rows = reported(&parse(&lines));
        let row = |key: &str| rows.iter().find(|r| r.key == key).expect(key);
        assert_eq!(row("filter300_lone_getppid").value, Some(1.1));
        assert_eq!(row("filter300_packed32_per_call").value, Some(0.5));
        assert_eq!(
            row("container_lone_getppid").value,
            None,
            "no legacy call under the container profile in this run"
        );
        assert!(reported_table(&rows).contains("| 1.10 |"));
    }

    #[test]
    fn a_coarse_guest_clock_is_a_refusal_not_a_result() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(clock_refused(&lines(&["bench-clock: 4000000 ns", "bench-clock: too coarse\r"])));
        assert!(!clock_refused(&lines(&["bench-clock: 72 ns"])));
        // Nothing to measure from a refused run.
        assert!(parse(&lines(&["bench-clock: too coarse"])).is_empty());
    }

    #[test]
    fn parses_bench_lines_and_fits() {
        let lines = vec![
            "noise".to_string(),
            "bench: {\"name\": \"batch of 2 Useless\", \"group\": \"batch\", \"calls\": 2, \"ns\": [10.0, 12.0, 11.0]}".to_string(),
            "bench: {\"name\": \"a, b\", \"group\": \"size\", \"calls\": 1, \"ns\": [1.0]}".to_string(),
        ];
        let cases = parse(&lines);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].name, "batch of 2 Useless");
        assert_eq!(cases[1].name, "a, b");
        assert_eq!(cases[0].median(), 11.0);
        let (a, b) = fit(&[(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)]);
        assert!((a - 1.0).abs() < 1e-9 && (b - 2.0).abs() < 1e-9);
    }
}
