//! A cpio "newc" archive writer (the initramfs format the kernel unpacks):
//! header `070701` and 13 eight-digit hex fields, name and data padded to 4.

use std::io::{self, Write};

pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

pub struct Writer<W: Write> {
    out: W,
    ino: u32,
    written: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer {
            out,
            ino: 1,
            written: 0,
        }
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = ((4 - self.written % 4) % 4) as usize;
        self.out.write_all(&[0u8; 3][..n])?;
        self.written += n as u64;
        Ok(())
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    /// One entry; `name` without a leading `/`. Everything is owned by root
    /// and dated 0 so that images are reproducible.
    pub fn entry(
        &mut self,
        name: &str,
        mode: u32,
        data: &[u8],
        rdev: (u32, u32),
    ) -> io::Result<()> {
        let name = name.trim_start_matches('/');
        let nlink = if mode & 0o170000 == S_IFDIR { 2 } else { 1 };
        let fields = [
            self.ino,
            mode,
            0,
            0,
            nlink,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.ino += 1;
        let mut header = String::from("070701");
        for f in fields {
            header.push_str(&format!("{f:08x}"));
        }
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    pub fn dir(&mut self, name: &str, perm: u32) -> io::Result<()> {
        self.entry(name, S_IFDIR | perm, &[], (0, 0))
    }
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, S_IFREG | perm, data, (0, 0))
    }
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, S_IFLNK | 0o777, target.as_bytes(), (0, 0))
    }
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(name, S_IFCHR | perm, &[], (major, minor))
    }

    /// Write the trailer and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry("TRAILER!!!", 0, &[], (0, 0))?;
        Ok(self.out)
    }
}

/// One archive member as read back: name, mode, data, (rdev major, minor).
pub type Member = (String, u32, Vec<u8>, (u32, u32));

/// Parse a newc archive back into its members; for tests and for checking images.
pub fn read_all(mut b: &[u8]) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    let total = b.len();
    loop {
        if b.len() < 110 || &b[..6] != b"070701" {
            return Err(format!("bad header at offset {}", total - b.len()));
        }
        let field = |i: usize| -> Result<u32, String> {
            let s = std::str::from_utf8(&b[6 + i * 8..14 + i * 8]).map_err(|e| e.to_string())?;
            u32::from_str_radix(s, 16).map_err(|e| e.to_string())
        };
        let (mode, size, rmaj, rmin, namesize) = (
            field(1)?,
            field(6)? as usize,
            field(9)?,
            field(10)?,
            field(11)? as usize,
        );
        let name_end = 110 + namesize;
        let name = String::from_utf8_lossy(&b[110..name_end - 1]).into_owned();
        let data_start = name_end.div_ceil(4) * 4;
        let data_end = data_start + size;
        if data_end > b.len() {
            return Err("truncated".into());
        }
        let data = b[data_start..data_end].to_vec();
        b = &b[(data_end.div_ceil(4) * 4).min(b.len())..];
        if name == "TRAILER!!!" {
            return Ok(out);
        }
        out.push((name, mode, data, (rmaj, rmin)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = Writer::new(Vec::new());
        w.dir("bin", 0o755).unwrap();
        w.file("/bin/hello", 0o755, b"abc").unwrap();
        w.symlink("init", "bin/hello").unwrap();
        w.char_dev("dev/console", 0o600, 5, 1).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        assert!(bytes.starts_with(b"070701"));
        let e = read_all(&bytes).unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[1].0, "bin/hello");
        assert_eq!(e[1].1, S_IFREG | 0o755);
        assert_eq!(e[1].2, b"abc");
        assert_eq!(e[2].2, b"bin/hello");
        assert_eq!(e[3].3, (5, 1));
    }
}
