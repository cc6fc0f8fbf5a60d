//! `cargo xtask profile`: where the instructions of one call go, function by function.
//!
//! Boots the patched kernel under `-icount shift=0` with QEMU's gdb stub and runs
//! `ferrobench --profile`, which brackets one run of each benchmark case with two marker
//! system calls. Through the gdb remote protocol (a small client here, no gdb needed),
//! xtask single-steps every guest instruction between the markers, user and kernel alike,
//! and attributes each to the function it belongs to: kernel addresses through the build's
//! `System.map`, user addresses through the guest binary's symbol table. The result is
//! exact and deterministic, like the instruction counts of `cargo xtask bench`, but says
//! where they go. It writes `target/bench/profile.md`.
//!
//! What it may touch: `target/` (the kernel and guest builds, `target/bench/`), a local TCP
//! port for the gdb stub, and the QEMU child it starts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::collections::HashMap;

use crate::qemu::{self, Mode};
use crate::serialising::{decode, wrmsr_kind, Decoded, Kind, Tally};
use crate::util::{self, bail, Error, Result, Workspace};
use crate::{guest, kernel};

/// The marker system call: a number no kernel implements, so it only costs an ENOSYS.
/// `ferrobench --profile` makes it with [`MARK_START`] or [`MARK_END`] in `rdi` and the
/// case's index in `rsi`. Keep in step with `guest/src/bin/ferrobench.rs`.
const MARK_NR: u64 = 999;
const MARK_START: u64 = 0xfe77_0001;
const MARK_END: u64 = 0xfe77_0002;

/// User addresses are below this.
const USER_END: u64 = 0x0000_8000_0000_0000;

/// gdb's x86_64 register numbers.
const REG_RAX: usize = 0;
const REG_RCX: usize = 2;
const REG_RSI: usize = 4;
const REG_RDI: usize = 5;
const REG_RIP: usize = 16;

/// A guest program that gets stuck must not hang the profile.
const TIMEOUT: Duration = Duration::from_secs(900);

/// `cargo xtask profile`.
pub fn run(ws: &Workspace, line: crate::series::Line) -> Result<bool> {
    let image = kernel::build(ws, line, kernel::Variant::Ferrocall)?;
    let bins = guest::build(ws)?;
    let initrd = guest::initramfs(ws, &bins)?;
    let build_dir = image
        .ancestors()
        .nth(4)
        .ok_or_else(|| Error(format!("{}: not in a kernel build folder", image.display())))?;
    let kernel_syms = Symbols::from_system_map(&build_dir.join("System.map"))?;
    let bench_bin = bins.path("ferrobench");
    let user_syms = Symbols::from_nm(&bench_bin)?;

    util::step(
        "profile",
        "booting the patched kernel under -icount with QEMU's gdb stub, running \
         /bin/ferrobench --profile",
    );
    let first = step_guest(ws, &image, &initrd, &kernel_syms, ("", ""), false)?;
    util::step(
        "profile",
        &format!(
            "booting again with the CPU mitigations forced on ({FORCED_MITIGATIONS}), \
             counting serialising instructions"
        ),
    );
    let forced =
        step_guest(ws, &image, &initrd, &kernel_syms, (FORCED_MITIGATIONS, FORCED_CPU), true)?;
    let Run { samples, log, .. } = first;

    // The guest prints the cases' names and where its anchor function was loaded.
    let mut names = BTreeMap::new();
    let mut calls = BTreeMap::new();
    let mut anchor = None;
    for line in &log {
        if let Some(rest) = line.strip_prefix("profile-case: ") {
            if let Some((i, name)) = rest.split_once(' ') {
                if let Ok(i) = i.parse::<u64>() {
                    names.insert(i, name.to_string());
                }
            }
        } else if let Some(rest) = line.strip_prefix("profile-calls: ") {
            if let Some((i, n)) = rest.split_once(' ') {
                if let (Ok(i), Ok(n)) = (i.parse::<u64>(), n.trim().parse::<u64>()) {
                    calls.insert(i, n);
                }
            }
        } else if let Some(addr) = line.strip_prefix("profile-anchor: 0x") {
            anchor = u64::from_str_radix(addr.trim(), 16).ok();
        }
    }
    let Some(anchor) = anchor else {
        bail!("the guest never printed `profile-anchor:`; see {}", log_hint(ws));
    };
    let Some(linked) = user_syms.address_of("ferrobench_profile_anchor") else {
        bail!("{} has no symbol ferrobench_profile_anchor", bench_bin.display());
    };
    let bias = anchor.wrapping_sub(linked);

    let mut report = String::from(
        "# Where the instructions go\n\n\
         One run of each `ferrobench` case, single-stepped under `-icount shift=0` through\n\
         QEMU's gdb stub (`cargo xtask profile`): every guest instruction between the case's\n\
         markers, attributed to its function. `[user]` marks the guest program (library and\n\
         benchmark loop), the rest is the kernel.\n",
    );
    // FERROCALL_PROFILE_FUNCTION=name also lists, per case, how often each instruction of
    // that function ran (target/bench/profile-addresses.txt), to read beside `objdump -d`:
    // a kernel function's addresses as in vmlinux, a `[user] name`'s as in the guest
    // binary (its load bias taken off).
    let focus = std::env::var("FERROCALL_PROFILE_FUNCTION").ok();
    let mut addresses = String::new();
    for (index, pcs) in &samples {
        let name = names.get(index).map_or("?", String::as_str);
        if let Some(focus) = &focus {
            let mut counts = BTreeMap::new();
            let user_focus = focus.strip_prefix("[user] ");
            for &pc in pcs {
                let at = if pc < USER_END {
                    let at = pc.wrapping_sub(bias);
                    (user_focus.is_some() && user_syms.lookup(at) == user_focus).then_some(at)
                } else {
                    (kernel_syms.lookup(pc) == Some(focus.as_str())).then_some(pc)
                };
                if let Some(at) = at {
                    *counts.entry(at).or_insert(0u64) += 1;
                }
            }
            let _ = writeln!(addresses, "## {name}");
            for (pc, n) in counts {
                let _ = writeln!(addresses, "{pc:x} {n}");
            }
        }
        let profile = Profile::of(pcs, &kernel_syms, &user_syms, bias);
        profile.write(&mut report, name);
    }
    report.push_str(&serialising_report(&names, &calls, &samples, &forced));
    let dir = ws.target().join("bench");
    fs::create_dir_all(&dir)?;
    if focus.is_some() {
        fs::write(dir.join("profile-addresses.txt"), &addresses)?;
    }
    let path = dir.join("profile.md");
    fs::write(&path, &report)?;
    println!("{report}");
    util::step("profile", &format!("written to {}", path.display()));
    Ok(!samples.is_empty())
}

fn log_hint(ws: &Workspace) -> String {
    format!("the serial output above; QEMU runs in {}", ws.target().join("vm").display())
}

/// For each case index, the instruction addresses executed between its markers.
type Samples = BTreeMap<u64, Vec<u64>>;
/// For each case index, the serialising instructions among them.
type Tallies = BTreeMap<u64, Tally>;

/// The kernel command line of the second boot: every mitigation of CPU vulnerabilities that
/// a kernel built with base.config's options can apply, on whatever the CPU reports.
const FORCED_MITIGATIONS: &str = "mitigations=auto pti=on spectre_v2=on spectre_v2_user=on \
     spec_store_bypass_disable=on mds=full tsx_async_abort=full mmio_stale_data=full \
     retbleed=ibpb";

/// QEMU's CPU model for the second boot: TCG's `max` with Intel's vendor string, which the
/// kernel takes for an affected Intel part (under `max`'s own vendor it reports every
/// vulnerability "Not affected" and applies nothing but the forced PTI). TCG emulates no
/// `IA32_SPEC_CTRL`, so IBRS and IBPB stay off whatever the command line asks.
const FORCED_CPU: &str = ",vendor=GenuineIntel";

/// One profiling boot.
struct Run {
    samples: Samples,
    tallies: Tallies,
    log: Vec<String>,
}

/// Boots the kernel with `extra.0` added to its command line and `extra.1` to QEMU's CPU
/// model, and single-steps each case of `ferrobench --profile`; with `classify`, also
/// counts the serialising instructions.
fn step_guest(
    ws: &Workspace,
    image: &Path,
    initrd: &Path,
    kernel_syms: &Symbols,
    extra: (&str, &str),
    classify: bool,
) -> Result<Run> {
    // A free port for the gdb stub: bind, note it, release it for QEMU.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // The config has no KASLR: System.map's addresses are the running kernel's.
    // One CPU: the stub steps the CPU that stopped, and nothing runs beside it.
    let mut cmd = qemu::command_with(
        image,
        initrd,
        "/bin/ferrobench --profile",
        Mode::Icount,
        1,
        extra.0,
        extra.1,
    );
    cmd.args(["-gdb", &format!("tcp:127.0.0.1:{port}"), "-S"]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(qemu::cannot_start)?;
    let serial = util::lines_of(&mut child);
    let result = profile(port, kernel_syms, &serial, classify);
    let _ = child.kill();
    let _ = child.wait();
    let (samples, tallies, mut log) = result?;
    log.extend(serial.try_iter());
    if samples.is_empty() {
        bail!("the guest ran no profiled case; see {}", log_hint(ws));
    }
    Ok(Run { samples, tallies, log })
}

/// The report's last section: per call, the instructions of each case with and without the
/// mitigations forced on, and the serialising instructions among them; then what the guest
/// kernel said of each vulnerability.
fn serialising_report(
    names: &BTreeMap<u64, String>,
    calls: &BTreeMap<u64, u64>,
    plain: &Samples,
    forced: &Run,
) -> String {
    let mut out = String::from(
        "\n## Serialising instructions, mitigations forced on\n\n\
         A second boot with `",
    );
    out.push_str(FORCED_MITIGATIONS);
    out.push_str("` on the kernel command line and QEMU's CPU `max");
    out.push_str(FORCED_CPU);
    out.push_str(
        "` (TCG's CPU with Intel's vendor string, which the kernel takes for an affected part), \
         the same cases single-stepped, and each instruction \
         decoded: per call, the instructions (without and with the mitigations) and the \
         serialising ones among them, which icount prices at 1 but a real CPU at tens to \
         thousands of cycles.\n\n| case | calls | instructions | with mitigations | serialising |",
    );
    for kind in Kind::ALL {
        let _ = write!(out, " {} |", kind.heading());
    }
    out.push_str("\n|---|---:|---:|---:|---:|");
    out.push_str(&"---:|".repeat(Kind::ALL.len()));
    out.push('\n');
    for (index, name) in names {
        let n = calls.get(index).copied().unwrap_or(1).max(1) as f64;
        let per = |v: u64| format!("{:.2}", v as f64 / n);
        let plain = plain.get(index).map_or(0, Vec::len) as u64;
        let with = forced.samples.get(index).map_or(0, Vec::len) as u64;
        let tally = forced.tallies.get(index).copied().unwrap_or_default();
        let _ = write!(
            out,
            "| {name} | {n} | {} | {} | {} |",
            per(plain),
            per(with),
            per(tally.total())
        );
        for kind in Kind::ALL {
            let _ = write!(out, " {} |", per(tally.get(kind)));
        }
        out.push('\n');
    }
    out.push_str(
        "\nWhat the guest kernel reported (`/sys/devices/system/cpu/vulnerabilities`):\n\n",
    );
    let mut any = false;
    for line in &forced.log {
        if let Some(rest) = line.strip_prefix("profile-vulnerability: ") {
            let _ = writeln!(out, "- {rest}");
            any = true;
        }
    }
    if !any {
        out.push_str("- (nothing: the guest could not read sysfs)\n");
    }
    out
}

/// Drives the guest through the gdb stub until it powers off; returns the samples and the
/// serial lines.
fn profile(
    port: u16,
    kernel_syms: &Symbols,
    serial: &mpsc::Receiver<String>,
    classify: bool,
) -> Result<(Samples, Tallies, Vec<String>)> {
    let mut log = Vec::new();
    let mut tallies = BTreeMap::new();
    let mut decoded: HashMap<u64, Decoded> = HashMap::new();
    let mut gdb = Gdb::connect(port, Duration::from_secs(30))?;
    let entry = kernel_syms
        .address_of("entry_SYSCALL_64")
        .ok_or_else(|| Error("System.map has no entry_SYSCALL_64".into()))?;
    let deadline = Instant::now() + TIMEOUT;
    let mut samples = BTreeMap::new();
    loop {
        for line in serial.try_iter() {
            println!("{line}");
            log.push(line);
        }
        if Instant::now() > deadline {
            bail!("the profile took over {} s", TIMEOUT.as_secs());
        }
        // Run to the next system call; the guest powering off closes the connection. The
        // breakpoint is in place only while the guest runs freely: the stub checks it before
        // every instruction at its address, so it would stop a step there, or a continue
        // from there, for ever. So step once first, off the entry if the CPU is there.
        if gdb.resume("s")?.is_none() {
            break;
        }
        gdb.expect_ok(&format!("Z0,{entry:x},1"))?;
        let stopped = gdb.resume("c")?;
        if stopped.is_none() {
            break;
        }
        gdb.expect_ok(&format!("z0,{entry:x},1"))?;
        let regs = gdb.registers()?;
        if std::env::var_os("FERROCALL_PROFILE_DEBUG").is_some() {
            eprintln!(
                "stop at {:#x} rax {:#x} rdi {:#x}",
                regs[REG_RIP], regs[REG_RAX], regs[REG_RDI]
            );
        }
        if regs[REG_RIP] != entry || regs[REG_RAX] != MARK_NR || regs[REG_RDI] != MARK_START {
            continue;
        }
        let case = regs[REG_RSI];
        // Finish the marker call, back to user mode, without counting it.
        loop {
            if gdb.resume("s")?.is_none() {
                bail!("the guest stopped inside a marker call");
            }
            if gdb.registers()?[REG_RIP] < USER_END {
                break;
            }
        }
        let mut pcs = Vec::new();
        let mut tally = Tally::default();
        loop {
            let regs = gdb.registers()?;
            let pc = regs[REG_RIP];
            if pc == entry && regs[REG_RAX] == MARK_NR && regs[REG_RDI] == MARK_END {
                break;
            }
            pcs.push(pc);
            if classify {
                // The code does not change while the cases run (alternatives are applied
                // at boot): decode each address once. It is mapped, being executed.
                let what = match decoded.get(&pc) {
                    Some(&what) => what,
                    None => {
                        let what = gdb.memory(pc, 15)?.map_or(Decoded::Other, |b| decode(&b));
                        decoded.insert(pc, what);
                        what
                    }
                };
                match what {
                    Decoded::Always(kind) => tally.add(kind),
                    Decoded::Wrmsr => {
                        tally.add(wrmsr_kind(regs[REG_RCX] as u32, regs[REG_RAX] as u32))
                    }
                    Decoded::Other => {}
                }
            }
            if pcs.len() > 5_000_000 {
                bail!("case {case}: no end marker after 5 million instructions");
            }
            if gdb.resume("s")?.is_none() {
                bail!("the guest stopped while case {case} was profiled");
            }
        }
        println!("profile: case {case}: {} instructions", pcs.len());
        samples.insert(case, pcs);
        tallies.insert(case, tally);
    }
    for line in serial.try_iter() {
        log.push(line);
    }
    Ok((samples, tallies, log))
}

/// A gdb remote serial protocol client: just what stepping and reading registers needs.
struct Gdb {
    stream: BufReader<TcpStream>,
}

impl Gdb {
    /// Connects to the stub, retrying while QEMU starts.
    fn connect(port: u16, patience: Duration) -> Result<Gdb> {
        let until = Instant::now() + patience;
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    let mut gdb = Gdb { stream: BufReader::new(stream) };
                    // Why the CPU is stopped (it was started with -S).
                    gdb.send("?")?;
                    gdb.receive()?;
                    return Ok(gdb);
                }
                Err(e) if Instant::now() > until => {
                    bail!("cannot reach QEMU's gdb stub on port {port}: {e}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn send(&mut self, packet: &str) -> Result<()> {
        let sum = packet.bytes().fold(0u8, u8::wrapping_add);
        let framed = format!("${packet}#{sum:02x}");
        self.stream.get_mut().write_all(framed.as_bytes())?;
        // The stub acknowledges every packet with `+` (or asks again with `-`).
        let mut ack = [0u8; 1];
        self.stream.read_exact(&mut ack)?;
        if ack[0] != b'+' {
            bail!("gdb stub refused packet `{packet}`");
        }
        Ok(())
    }

    /// The next packet from the stub, acknowledged; `None` when the connection closed.
    fn receive(&mut self) -> Result<Option<String>> {
        let mut byte = [0u8; 1];
        loop {
            match self.stream.read(&mut byte)? {
                0 => return Ok(None),
                _ if byte[0] == b'$' => break,
                _ => continue,
            }
        }
        let mut body = Vec::new();
        loop {
            self.stream.read_exact(&mut byte)?;
            if byte[0] == b'#' {
                break;
            }
            body.push(byte[0]);
        }
        let mut sum = [0u8; 2];
        self.stream.read_exact(&mut sum)?;
        self.stream.get_mut().write_all(b"+")?;
        Ok(Some(String::from_utf8_lossy(&body).into_owned()))
    }

    fn expect_ok(&mut self, packet: &str) -> Result<()> {
        self.send(packet)?;
        match self.receive()?.as_deref() {
            Some("OK") => Ok(()),
            other => bail!("gdb stub answered `{packet}` with {other:?}"),
        }
    }

    /// Continues (`c`) or steps (`s`) and waits for the stop; `None` when the guest is
    /// gone (QEMU exited when the guest powered off).
    fn resume(&mut self, how: &str) -> Result<Option<String>> {
        match self.send(how) {
            Ok(()) => {}
            Err(_) => return Ok(None),
        }
        loop {
            match self.receive() {
                Ok(None) | Err(_) => return Ok(None),
                // Console output forwarded by the stub, if any: not a stop.
                Ok(Some(p)) if p.starts_with('O') && p != "OK" => continue,
                Ok(Some(p)) if p.starts_with('W') || p.starts_with('X') => return Ok(None),
                Ok(Some(p)) => return Ok(Some(p)),
            }
        }
    }

    /// `len` bytes of guest memory at `addr` through the current page tables; `None` if the
    /// stub cannot read them.
    fn memory(&mut self, addr: u64, len: usize) -> Result<Option<Vec<u8>>> {
        self.send(&format!("m{addr:x},{len:x}"))?;
        let Some(hex) = self.receive()? else { bail!("gdb stub closed") };
        if hex.starts_with('E') || hex.len() % 2 != 0 {
            return Ok(None);
        }
        Ok((0..hex.len() / 2)
            .map(|i| hex.get(i * 2..i * 2 + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
            .collect())
    }

    /// The general registers and `rip`, by gdb's numbers for x86_64, from one `g` packet
    /// (QEMU answers `p` only to clients that read its XML target description).
    fn registers(&mut self) -> Result<[u64; 17]> {
        self.send("g")?;
        let Some(hex) = self.receive()? else { bail!("gdb stub closed") };
        let mut regs = [0u64; 17];
        for (i, reg) in regs.iter_mut().enumerate() {
            *reg = hex
                .get(i * 16..i * 16 + 16)
                .and_then(parse_le_hex)
                .ok_or_else(|| Error(format!("short register packet `{hex}`")))?;
        }
        Ok(regs)
    }
}

/// A little-endian hex register value as the stub sends it (`efbeadde00000000`).
fn parse_le_hex(hex: &str) -> Option<u64> {
    if hex.len() < 16 || hex.len() % 2 != 0 {
        return None;
    }
    let mut value = 0u64;
    for i in (0..8).rev() {
        let byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
        value = value << 8 | u64::from(byte);
    }
    Some(value)
}

/// Function start addresses and names, sorted by address.
struct Symbols {
    starts: Vec<(u64, String)>,
}

impl Symbols {
    /// The kernel's text symbols from `System.map` (`ffffffff81000000 T _text`).
    fn from_system_map(path: &Path) -> Result<Symbols> {
        let text = fs::read_to_string(path)
            .map_err(|e| Error(format!("{}: {e} (is the kernel built?)", path.display())))?;
        Ok(Symbols::parse(&text))
    }

    /// A binary's symbols through `nm --demangle` (binutils).
    fn from_nm(path: &Path) -> Result<Symbols> {
        let text =
            util::output(Command::new("nm").args(["--defined-only", "--demangle"]).arg(path))?;
        Ok(Symbols::parse(&text))
    }

    /// `nm`-format lines: address, type, name; text symbols only.
    fn parse(text: &str) -> Symbols {
        let mut starts: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(3, ' ');
                let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?.trim();
                matches!(kind, "t" | "T" | "w" | "W").then(|| (addr, short_name(name)))
            })
            .collect();
        starts.sort();
        Symbols { starts }
    }

    fn address_of(&self, name: &str) -> Option<u64> {
        self.starts.iter().find(|(_, n)| n == name).map(|(a, _)| *a)
    }

    /// The function `addr` is in: the last symbol at or below it.
    fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self.starts.partition_point(|(a, _)| *a <= addr);
        self.starts.get(i.checked_sub(1)?).map(|(_, n)| n.as_str())
    }
}

/// A symbol as people read it: a kernel Rust symbol demangled from Rust's v0 scheme
/// (`System.map` keeps them mangled), a user one without its hash.
fn short_name(name: &str) -> String {
    if let Some(path) = demangle_v0(name) {
        return path;
    }
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head.to_string()
        }
        _ => name.to_string(),
    }
}

/// The path of a v0-mangled Rust symbol (`_RNvCs…_9ferrocall6handle` → `ferrocall::handle`):
/// its identifiers in order, without disambiguators, back-references and generic
/// arguments' types. Enough to name a function in a profile, not a full demangler.
fn demangle_v0(symbol: &str) -> Option<String> {
    let rest = symbol.strip_prefix("_R")?;
    let rest = rest.split('.').next().unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                let start = i;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let len: usize = rest.get(start..i)?.parse().ok()?;
                // An identifier that starts with a digit or `_` has a `_` before it.
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
                let ident = rest.get(i..i + len)?;
                i += len;
                parts.push(if ident.is_empty() { "{closure}" } else { ident });
            }
            // A disambiguator (`s…_`) or a back-reference (`B…_`).
            b's' | b'B' => {
                while bytes.get(i).is_some_and(|&c| c != b'_') {
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    (!parts.is_empty()).then(|| parts.join("::"))
}

/// One case's instructions, by function.
struct Profile {
    total: usize,
    user: usize,
    /// (function, instructions), most first; functions in order of first execution break
    /// ties.
    functions: Vec<(String, usize)>,
}

impl Profile {
    fn of(pcs: &[u64], kernel: &Symbols, user: &Symbols, bias: u64) -> Profile {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut user_count = 0;
        for &pc in pcs {
            let name = if pc < USER_END {
                user_count += 1;
                format!("[user] {}", user.lookup(pc.wrapping_sub(bias)).unwrap_or("?"))
            } else {
                kernel.lookup(pc).unwrap_or("?").to_string()
            };
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name, 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        Profile { total: pcs.len(), user: user_count, functions: counts }
    }

    fn write(&self, out: &mut String, name: &str) {
        let _ = writeln!(
            out,
            "\n## {name}\n\n{} instructions: {} in the kernel, {} in user space.\n",
            self.total,
            self.total - self.user,
            self.user
        );
        let _ = writeln!(out, "| function | instructions |\n|---|---:|");
        for (function, count) in &self.functions {
            let _ = writeln!(out, "| `{function}` | {count} |");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_le_hex, serialising_report, short_name, Profile, Run, Symbols};
    use crate::serialising::{Kind, Tally};
    use std::collections::BTreeMap;

    #[test]
    fn the_serialising_table_is_per_call() {
        let names = BTreeMap::from([(0, "lone".to_string()), (1, "batch of 4".to_string())]);
        let calls = BTreeMap::from([(0, 1), (1, 4)]);
        let plain = BTreeMap::from([(0, vec![0; 100]), (1, vec![0; 200])]);
        let mut two_switches = Tally::default();
        two_switches.add(Kind::MovCr3);
        two_switches.add(Kind::MovCr3);
        two_switches.add(Kind::Verw);
        let forced = Run {
            samples: BTreeMap::from([(0, vec![0; 120]), (1, vec![0; 220])]),
            tallies: BTreeMap::from([(0, two_switches), (1, two_switches)]),
            log: vec!["profile-vulnerability: mds: Vulnerable".to_string()],
        };
        let report = serialising_report(&names, &calls, &plain, &forced);
        assert!(report.contains("| lone | 1 | 100.00 | 120.00 | 3.00 | 2.00 | 0.00 |"), "{report}");
        assert!(
            report.contains("| batch of 4 | 4 | 50.00 | 55.00 | 0.75 | 0.50 | 0.00 |"),
            "{report}"
        );
        assert!(report.contains("- mds: Vulnerable"), "{report}");
    }

    #[test]
    fn registers_are_little_endian() {
        assert_eq!(parse_le_hex("efbeadde00000000"), Some(0xdead_beef));
        assert_eq!(parse_le_hex("0000000000000080"), Some(0x8000_0000_0000_0000));
        assert_eq!(parse_le_hex("xx"), None);
    }

    #[test]
    fn symbols_attribute_addresses_to_functions() {
        let syms = Symbols::parse(
            "ffffffff81000100 T b\nffffffff81000000 T a\nffffffff81000080 D data\n\
             ffffffff81000200 t c::d::h0123456789abcdef\n",
        );
        assert_eq!(syms.lookup(0xffff_ffff_8100_0000), Some("a"));
        assert_eq!(syms.lookup(0xffff_ffff_8100_00ff), Some("a"));
        assert_eq!(syms.lookup(0xffff_ffff_8100_0100), Some("b"));
        assert_eq!(syms.lookup(0xffff_ffff_8100_0300), Some("c::d"));
        assert_eq!(syms.lookup(0x10), None);
        assert_eq!(syms.address_of("b"), Some(0xffff_ffff_8100_0100));
        assert_eq!(short_name("x::hnothash"), "x::hnothash");
        assert_eq!(short_name("_RNvCshcmy4MjV4Is_9ferrocall6handle"), "ferrocall::handle");
        assert_eq!(
            short_name(
                "_RNvMs0_NtCs1EKtwoKEMO2_6kernel7uaccessNtB5_15UserSliceWriter11write_slice"
            ),
            "kernel::uaccess::UserSliceWriter::write_slice"
        );
        assert_eq!(
            short_name("_RNvMs_NtNtCshcmy4MjV4Is_9ferrocall3abi3opsNtB4_2Op12request_size"),
            "ferrocall::abi::ops::Op::request_size"
        );

        let user = Symbols::parse("0000000000001000 T main\n");
        let p = Profile::of(
            &[0xffff_ffff_8100_0000, 0x5000, 0xffff_ffff_8100_0000, 0xffff_ffff_8100_0100],
            &syms,
            &user,
            0x4000,
        );
        assert_eq!(p.total, 4);
        assert_eq!(p.user, 1);
        assert_eq!(p.functions[0], ("a".to_string(), 2));
        assert!(p.functions.contains(&("[user] main".to_string(), 1)));
    }
}
