//! The kernel's audit, for the guest tests: enables it, adds syscall rules and receives the
//! records as the audit daemon would, over the audit netlink socket (no `auditd`/`auditctl`
//! in the guest). Enabling audit is for the rest of the boot: the tests that use it run in
//! a boot of their own (`ferrotest --audit`).

use std::time::Duration;

/// `NETLINK_AUDIT`.
const NETLINK_AUDIT: i32 = 9;
/// Message types (`include/uapi/linux/audit.h`).
const AUDIT_SET: u16 = 1001;
const AUDIT_ADD_RULE: u16 = 1011;
/// A syscall record.
pub const AUDIT_SYSCALL: u16 = 1300;
/// `struct audit_status` mask bits.
const AUDIT_STATUS_ENABLED: u32 = 1;
const AUDIT_STATUS_PID: u32 = 4;
/// `AUDIT_FILTER_EXIT`, `AUDIT_ALWAYS`.
const AUDIT_FILTER_EXIT: u32 = 4;
const AUDIT_ALWAYS: u32 = 2;
/// Rule fields and the comparison.
const AUDIT_ARCH: u32 = 11;
const AUDIT_PPID: u32 = 18;
const AUDIT_EQUAL: u32 = 0x4000_0000;
const AUDIT_BITMASK_SIZE: usize = 64;
const AUDIT_MAX_FIELDS: usize = 64;

/// The audit netlink socket, registered as the audit daemon: the kernel sends it the records.
pub struct Audit {
    fd: i32,
    seq: u32,
}

impl Audit {
    /// Opens the socket, makes this process the audit daemon and enables audit.
    pub fn enable() -> Result<Audit, String> {
        // SAFETY: plain integer arguments.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, NETLINK_AUDIT) };
        if fd < 0 {
            return Err(format!("socket(NETLINK_AUDIT): {}", std::io::Error::last_os_error()));
        }
        let mut audit = Audit { fd, seq: 0 };
        // struct audit_status: mask, enabled, failure, pid, rate_limit, backlog_limit, lost,
        // backlog, then fields newer kernels know (zero).
        let mut status = [0u32; 12];
        status[0] = AUDIT_STATUS_ENABLED | AUDIT_STATUS_PID;
        status[1] = 1;
        status[3] = std::process::id();
        audit.request(AUDIT_SET, &words(&status))?;
        Ok(audit)
    }

    /// Adds a rule: record the syscalls `nrs` (x86_64) at exit for the children of
    /// process `parent`.
    pub fn record_syscalls(&mut self, nrs: &[u32], parent: u32) -> Result<(), String> {
        // struct audit_rule_data: flags, action, field_count, mask[64], fields[64],
        // values[64], fieldflags[64], buflen, then buf (empty).
        let mut rule = vec![0u32; 3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1];
        rule[0] = AUDIT_FILTER_EXIT;
        rule[1] = AUDIT_ALWAYS;
        rule[2] = 2;
        for &nr in nrs {
            rule[3 + (nr / 32) as usize] |= 1 << (nr % 32);
        }
        let fields = 3 + AUDIT_BITMASK_SIZE;
        let (values, flags) = (fields + AUDIT_MAX_FIELDS, fields + 2 * AUDIT_MAX_FIELDS);
        for (i, (field, value)) in
            [(AUDIT_ARCH, ferrocall_seccomp::AUDIT_ARCH_X86_64), (AUDIT_PPID, parent)]
                .into_iter()
                .enumerate()
        {
            rule[fields + i] = field;
            rule[values + i] = value;
            rule[flags + i] = AUDIT_EQUAL;
        }
        self.request(AUDIT_ADD_RULE, &words(&rule))
    }

    /// Sends one request and waits for its acknowledgement.
    fn request(&mut self, kind: u16, payload: &[u8]) -> Result<(), String> {
        self.seq += 1;
        let len = 16 + payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        // NLM_F_REQUEST | NLM_F_ACK.
        msg.extend_from_slice(&(1u16 | 4).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(payload);
        // SAFETY: sends `msg`, which outlives the call, to the kernel (the default address).
        let sent = unsafe { libc::send(self.fd, msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(format!("audit request {kind}: {}", std::io::Error::last_os_error()));
        }
        loop {
            let Some((got, body)) = self.receive(Duration::from_secs(5))? else {
                return Err(format!("audit request {kind}: no acknowledgement"));
            };
            // NLMSG_ERROR, the acknowledgement: its first word is 0 or -errno.
            if got == 2 {
                let code = i32::from_ne_bytes(body[..4].try_into().unwrap_or([0; 4]));
                if code != 0 {
                    return Err(format!(
                        "audit request {kind}: {}",
                        std::io::Error::from_raw_os_error(-code)
                    ));
                }
                return Ok(());
            }
        }
    }

    /// The next message within `wait`: its type and payload; `None` if none came.
    pub fn receive(&mut self, wait: Duration) -> Result<Option<(u16, Vec<u8>)>, String> {
        let mut poll = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd, ours.
        let ready = unsafe { libc::poll(&mut poll, 1, wait.as_millis() as i32) };
        if ready <= 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; 9000];
        // SAFETY: receives into `buf`, ours, at most its length.
        let n = unsafe { libc::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 16 {
            return Err(format!("audit receive: {}", std::io::Error::last_os_error()));
        }
        let len = (u32::from_ne_bytes(buf[..4].try_into().unwrap_or([0; 4])) as usize)
            .clamp(16, n as usize);
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        Ok(Some((kind, buf[16..len].to_vec())))
    }

    /// The syscall records that come within `wait` of each other, as their text.
    pub fn syscall_records(&mut self, wait: Duration) -> Result<Vec<String>, String> {
        let mut records = Vec::new();
        while let Some((kind, body)) = self.receive(wait)? {
            if kind == AUDIT_SYSCALL {
                records.push(String::from_utf8_lossy(&body).trim_end_matches('\0').to_string());
            }
        }
        Ok(records)
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        // SAFETY: our descriptor.
        unsafe { libc::close(self.fd) };
    }
}

/// The value of `key=` in an audit record, as text.
pub fn field<'a>(record: &'a str, key: &str) -> Option<&'a str> {
    record.split(' ').find_map(|part| part.strip_prefix(key)?.strip_prefix('='))
}

/// The native-endian bytes of `words`.
fn words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_ne_bytes()).collect()
}
