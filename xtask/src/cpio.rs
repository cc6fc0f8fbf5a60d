//! A writer of `newc` cpio archives, the initramfs format: folders, files and device nodes,
//! without needing root to create the device nodes.

/// One entry of the archive.
pub enum Entry<'a> {
    /// A folder.
    Dir(&'a str),
    /// A regular file with its mode bits and contents.
    File(&'a str, u32, &'a [u8]),
    /// A character device node (`major`, `minor`).
    CharDev(&'a str, u32, u32),
}

/// Builds the archive of `entries`, in order, followed by the trailer.
pub fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let ino = i as u32 + 1;
        match entry {
            Entry::Dir(name) => header(&mut out, ino, 0o040_755, 2, name, &[], (0, 0)),
            Entry::File(name, mode, data) => {
                header(&mut out, ino, 0o100_000 | mode, 1, name, data, (0, 0))
            }
            Entry::CharDev(name, major, minor) => {
                header(&mut out, ino, 0o020_600, 1, name, &[], (*major, *minor))
            }
        }
    }
    header(&mut out, 0, 0, 1, "TRAILER!!!", &[], (0, 0));
    out
}

fn header(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    name: &str,
    data: &[u8],
    rdev: (u32, u32),
) {
    let name = name.trim_start_matches('/');
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime: fixed, so the archive is reproducible
        data.len() as u32,
        0, // devmajor
        0, // devminor
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::{archive, Entry};

    #[test]
    fn newc_layout() {
        let a = archive(&[
            Entry::Dir("/dev"),
            Entry::CharDev("/dev/console", 5, 1),
            Entry::File("/init", 0o755, b"hi"),
        ]);
        assert_eq!(&a[..6], b"070701");
        assert_eq!(a.len() % 4, 0);
        // Header (110 bytes) + "dev\0" padded to 4.
        assert_eq!(&a[110..114], b"dev\0");
        let console = &a[116..];
        assert_eq!(&console[..6], b"070701");
        // rdevmajor, rdevminor are fields 10 and 11 (after the 6-byte magic).
        assert_eq!(&console[6 + 9 * 8..6 + 11 * 8], b"0000000500000001");
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("init\0"));
        assert!(text.ends_with("TRAILER!!!\0\0\0\0") || text.contains("TRAILER!!!\0"));
    }
}
