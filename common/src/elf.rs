//! A small ELF reader: the header (class, byte order, type, machine), a
//! section by name (kernel modules' `.modinfo`) and what the dynamic loader
//! reads (the program interpreter `PT_INTERP`, and from `PT_DYNAMIC` the
//! `DT_NEEDED` libraries, `DT_RPATH`/`DT_RUNPATH` and `DT_SONAME`), for
//! 32- and 64-bit files of either byte order. Pure; the files come from
//! outside (Debian packages, kernel modules), so every offset and count is
//! checked and a bad file gives `None` or less, never a panic.

/// ELF file types (`e_type`).
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

/// What the ELF header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// ELFCLASS64 (else ELFCLASS32)
    pub wide: bool,
    /// ELFDATA2MSB (else little-endian)
    pub big: bool,
    /// `e_type`: ET_EXEC, ET_DYN (shared objects and PIE), ET_REL (modules), ...
    pub kind: u16,
    /// `e_machine` (EM_X86_64 = 62, EM_AARCH64 = 183, EM_ARM = 40, ...)
    pub machine: u16,
}

impl Header {
    /// Whether the loader could put an object of `other`'s header into a
    /// process of this one: the same class, byte order and machine.
    pub fn compatible(&self, other: &Header) -> bool {
        self.wide == other.wide && self.big == other.big && self.machine == other.machine
    }
}

/// Read an unsigned integer of `n` bytes (at most 8) at `at`.
fn uint(b: &[u8], at: usize, n: usize, big: bool) -> Option<u64> {
    let s = b.get(at..at.checked_add(n)?)?;
    let mut v = 0u64;
    for i in 0..n {
        let byte = if big { s[i] } else { s[n - 1 - i] };
        v = (v << 8) | byte as u64;
    }
    Some(v)
}

fn offset(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// The header of an ELF file; `None` when `elf` is not one.
pub fn header(elf: &[u8]) -> Option<Header> {
    if elf.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match elf.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big = match elf.get(5)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    Some(Header {
        wide,
        big,
        kind: uint(elf, 16, 2, big)? as u16,
        machine: uint(elf, 18, 2, big)? as u16,
    })
}

/// The bytes of the ELF section called `want` (32- or 64-bit, either byte order).
pub fn section<'a>(elf: &'a [u8], want: &str) -> Option<&'a [u8]> {
    let h = header(elf)?;
    let (wide, big) = (h.wide, h.big);
    let word = if wide { 8 } else { 4 };
    let (shoff_at, shentsize_at) = if wide { (0x28, 0x3a) } else { (0x20, 0x2e) };
    let shoff = offset(uint(elf, shoff_at, word, big)?)?;
    let shentsize = uint(elf, shentsize_at, 2, big)? as usize;
    let shnum = uint(elf, shentsize_at + 2, 2, big)? as usize;
    let shstrndx = uint(elf, shentsize_at + 4, 2, big)? as usize;
    // name, type, flags, addr, offset, size: where offset and size are
    let (off_at, size_at) = if wide { (24, 32) } else { (16, 20) };
    let header = |i: usize| -> Option<(u32, &'a [u8])> {
        let h = shoff.checked_add(i.checked_mul(shentsize)?)?;
        let name = uint(elf, h, 4, big)? as u32;
        let off = offset(uint(elf, h.checked_add(off_at)?, word, big)?)?;
        let size = offset(uint(elf, h.checked_add(size_at)?, word, big)?)?;
        Some((name, elf.get(off..off.checked_add(size)?)?))
    };
    let (_, names) = header(shstrndx)?;
    (0..shnum).find_map(|i| {
        let (name, data) = header(i)?;
        let rest = names.get(name as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        (&rest[..end] == want.as_bytes()).then_some(data)
    })
}

/// One program header: type, file offset, virtual address, size in the file.
#[derive(Clone, Copy, Debug)]
struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// At most this many program headers and dynamic entries are read (a real
/// file has a dozen and a few dozen).
const MAX_SEGMENTS: usize = 4096;
const MAX_DYNAMIC: usize = 65536;

fn segments(elf: &[u8], h: &Header) -> Option<Vec<Segment>> {
    let (big, word) = (h.big, if h.wide { 8 } else { 4 });
    let (phoff_at, phentsize_at) = if h.wide { (0x20, 0x36) } else { (0x1c, 0x2a) };
    let phoff = offset(uint(elf, phoff_at, word, big)?)?;
    let phentsize = uint(elf, phentsize_at, 2, big)? as usize;
    let phnum = (uint(elf, phentsize_at + 2, 2, big)? as usize).min(MAX_SEGMENTS);
    // p_type, then offset, vaddr, filesz where the class puts them
    let (off_at, vaddr_at, filesz_at) = if h.wide { (8, 16, 32) } else { (4, 8, 16) };
    let mut out = Vec::new();
    for i in 0..phnum {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let Some(kind) = uint(elf, at, 4, big) else {
            break;
        };
        let field = |rel: usize| uint(elf, at.checked_add(rel)?, word, big);
        let (Some(offset), Some(vaddr), Some(filesz)) =
            (field(off_at), field(vaddr_at), field(filesz_at))
        else {
            break;
        };
        out.push(Segment {
            kind: kind as u32,
            offset,
            vaddr,
            filesz,
        });
    }
    Some(out)
}

/// The file bytes of a segment.
fn bytes_of<'a>(elf: &'a [u8], s: &Segment) -> Option<&'a [u8]> {
    let start = offset(s.offset)?;
    elf.get(start..start.checked_add(offset(s.filesz)?)?)
}

/// The file offset of virtual address `addr`, through the loadable segments.
fn file_offset(loads: &[Segment], addr: u64) -> Option<usize> {
    loads.iter().find_map(|s| {
        let rel = addr.checked_sub(s.vaddr)?;
        (rel < s.filesz).then(|| offset(s.offset.checked_add(rel)?))?
    })
}

/// The NUL-terminated string at `at` in `table` (lossy UTF-8).
fn string_at(table: &[u8], at: u64) -> Option<String> {
    let rest = table.get(offset(at)?..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// What the dynamic loader reads of an executable or shared object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    /// `PT_INTERP`: the program interpreter's path (`/lib64/ld-linux-x86-64.so.2`)
    pub interp: Option<String>,
    /// `DT_NEEDED`, in order
    pub needed: Vec<String>,
    /// `DT_RPATH` and `DT_RUNPATH`, split at `:`
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    /// `DT_SONAME`
    pub soname: Option<String>,
}

/// The interpreter and dynamic entries of `elf`; `None` when it is not an
/// ELF file. A static executable gives an empty `Dynamic`. What cannot be
/// read (a string outside the string table, a cut file) is left out.
pub fn dynamic(elf: &[u8]) -> Option<Dynamic> {
    let h = header(elf)?;
    let mut d = Dynamic::default();
    let segs = segments(elf, &h)?;
    if let Some(interp) = segs.iter().find(|s| s.kind == PT_INTERP) {
        if let Some(b) = bytes_of(elf, interp) {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            d.interp = Some(String::from_utf8_lossy(&b[..end]).into_owned());
        }
    }
    let Some(dynseg) = segs.iter().find(|s| s.kind == PT_DYNAMIC) else {
        return Some(d);
    };
    let Some(table) = bytes_of(elf, dynseg) else {
        return Some(d);
    };
    let word = if h.wide { 8 } else { 4 };
    let mut entries = Vec::new();
    for i in 0..MAX_DYNAMIC {
        let Some(at) = i.checked_mul(2 * word) else {
            break;
        };
        let (Some(tag), Some(val)) = (
            uint(table, at, word, h.big),
            uint(table, at + word, word, h.big),
        ) else {
            break;
        };
        if tag == DT_NULL {
            break;
        }
        entries.push((tag, val));
    }
    let find = |want: u64| entries.iter().find(|(t, _)| *t == want).map(|e| e.1);
    let loads: Vec<Segment> = segs.iter().copied().filter(|s| s.kind == PT_LOAD).collect();
    let Some(start) = find(DT_STRTAB).and_then(|a| file_offset(&loads, a)) else {
        return Some(d);
    };
    let end = match find(DT_STRSZ).and_then(offset) {
        Some(n) => start.saturating_add(n).min(elf.len()),
        None => elf.len(),
    };
    let strings = elf.get(start..end).unwrap_or_default();
    let paths = |v: u64| -> Vec<String> {
        string_at(strings, v)
            .map(|s| {
                s.split(':')
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    for &(tag, val) in &entries {
        match tag {
            DT_NEEDED => d.needed.extend(string_at(strings, val)),
            DT_SONAME => d.soname = string_at(strings, val),
            DT_RPATH => d.rpath.extend(paths(val)),
            DT_RUNPATH => d.runpath.extend(paths(val)),
            _ => {}
        }
    }
    Some(d)
}

/// Write ELF files for tests and fuzz seeds: an executable or shared object
/// with an interpreter and dynamic entries, of any class and byte order.
pub mod build {
    /// `interp`, `needed`, `runpath`, for `machine`, 64-bit or not, big-endian or not.
    pub fn dynamic_object(
        wide: bool,
        big: bool,
        machine: u16,
        interp: Option<&str>,
        needed: &[&str],
        runpath: Option<&str>,
    ) -> Vec<u8> {
        let word = if wide { 8 } else { 4 };
        let put = |f: &mut Vec<u8>, at: usize, n: usize, v: u64| {
            for i in 0..n {
                let shift = if big { 8 * (n - 1 - i) } else { 8 * i };
                f[at + i] = (v >> shift) as u8;
            }
        };
        let ehsize = if wide { 64 } else { 52 };
        let phentsize = if wide { 56 } else { 32 };
        let phnum = 3; // PT_LOAD, PT_INTERP, PT_DYNAMIC
        let mut f = vec![0u8; ehsize + phnum * phentsize];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = if wide { 2 } else { 1 };
        f[5] = if big { 2 } else { 1 };
        f[6] = 1;
        put(&mut f, 16, 2, super::ET_DYN as u64);
        put(&mut f, 18, 2, machine as u64);
        let (phoff_at, phentsize_at) = if wide { (0x20, 0x36) } else { (0x1c, 0x2a) };
        put(&mut f, phoff_at, word, ehsize as u64);
        put(&mut f, phentsize_at, 2, phentsize as u64);
        put(&mut f, phentsize_at + 2, 2, phnum as u64);
        // the interpreter's path
        let interp_off = f.len();
        if let Some(i) = interp {
            f.extend_from_slice(i.as_bytes());
            f.push(0);
        }
        let interp_len = f.len() - interp_off;
        // the string table
        let strtab = f.len();
        let mut strs = vec![0u8];
        let mut add = |s: &str| {
            let at = strs.len();
            strs.extend_from_slice(s.as_bytes());
            strs.push(0);
            at as u64
        };
        let mut dyns: Vec<(u64, u64)> = needed.iter().map(|n| (1, add(n))).collect();
        if let Some(r) = runpath {
            dyns.push((29, add(r)));
        }
        f.extend_from_slice(&strs);
        // the file is loaded at address 0x1000: vaddr = offset + 0x1000
        let base = 0x1000u64;
        dyns.push((5, strtab as u64 + base));
        dyns.push((10, strs.len() as u64));
        dyns.push((0, 0));
        while f.len() % word != 0 {
            f.push(0);
        }
        let dyn_off = f.len();
        for (tag, val) in &dyns {
            let at = f.len();
            f.resize(at + 2 * word, 0);
            put(&mut f, at, word, *tag);
            put(&mut f, at + word, word, *val);
        }
        let total = f.len();
        let segs = [
            (1u32, 0usize, total),
            (if interp.is_some() { 3 } else { 0 }, interp_off, interp_len),
            (2, dyn_off, total - dyn_off),
        ];
        let (off_at, vaddr_at, filesz_at) = if wide { (8, 16, 32) } else { (4, 8, 16) };
        for (i, (kind, off, size)) in segs.iter().enumerate() {
            let at = ehsize + i * phentsize;
            put(&mut f, at, 4, *kind as u64);
            put(&mut f, at + off_at, word, *off as u64);
            put(&mut f, at + vaddr_at, word, *off as u64 + base);
            put(&mut f, at + filesz_at, word, *size as u64);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::build::dynamic_object;
    use super::*;

    #[test]
    fn interpreter_needed_and_runpath_of_every_class_and_byte_order() {
        for (wide, big, machine) in [
            (true, false, 62),
            (false, false, 40),
            (true, true, 21),
            (false, true, 8),
        ] {
            let f = dynamic_object(
                wide,
                big,
                machine,
                Some("/lib/ld-linux-aarch64.so.1"),
                &["libc.so.6", "libtomcrypt.so.1"],
                Some("$ORIGIN/../lib:/opt/x"),
            );
            let h = header(&f).unwrap();
            assert_eq!(
                (h.wide, h.big, h.machine, h.kind),
                (wide, big, machine, ET_DYN)
            );
            let d = dynamic(&f).unwrap();
            assert_eq!(d.interp.as_deref(), Some("/lib/ld-linux-aarch64.so.1"));
            assert_eq!(d.needed, ["libc.so.6", "libtomcrypt.so.1"]);
            assert_eq!(d.runpath, ["$ORIGIN/../lib", "/opt/x"]);
            assert!(d.rpath.is_empty() && d.soname.is_none());
        }
    }

    #[test]
    fn a_static_file_has_nothing_and_junk_gives_none() {
        let f = dynamic_object(true, false, 62, None, &[], None);
        let d = dynamic(&f).unwrap();
        assert_eq!(d.interp, None);
        assert!(d.needed.is_empty());
        assert_eq!(dynamic(b"#!/bin/sh\n"), None);
        assert_eq!(header(b"\x7fELF\x03\x01"), None, "no such class");
        assert_eq!(header(b"\x7fELF\x02"), None, "cut");
    }

    #[test]
    fn a_cut_or_damaged_file_never_panics() {
        let f = dynamic_object(true, false, 62, Some("/lib64/ld"), &["liba.so.1"], None);
        for n in 0..f.len() {
            let _ = dynamic(&f[..n]);
        }
        // every byte flipped in turn
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0xff;
            let _ = dynamic(&g);
            let _ = section(&g, ".dynstr");
        }
    }

    #[test]
    fn compatibility_is_class_order_and_machine() {
        let a = header(&dynamic_object(true, false, 62, None, &[], None)).unwrap();
        let b = header(&dynamic_object(true, false, 183, None, &[], None)).unwrap();
        let c = header(&dynamic_object(false, false, 62, None, &[], None)).unwrap();
        assert!(a.compatible(&a));
        assert!(!a.compatible(&b));
        assert!(!a.compatible(&c));
    }
}
