//! Partition tables without blkid: GPT (with its CRCs checked, the backup
//! header used when the primary is damaged) and the four primary entries
//! of an MBR. Pure: it reads the first and last sectors a caller hands it,
//! which come from a disk, so every offset and count is checked. The image
//! tool writes GPTs with [`gpt_write`]; early boot finds root and data by
//! partition name (GPT) or PARTUUID. The Raspberry Pi's SD card gets an
//! MBR ([`mbr_write`]): its boot ROM and firmware look for a FAT first
//! partition there.

pub const SECTOR: u64 = 512;
/// Entries in the array ferrite writes (the minimum the UEFI spec allows
/// for the array's size: 128 of 128 bytes, 32 sectors).
pub const ENTRIES: u32 = 128;
pub const ENTRY_SIZE: u32 = 128;
const ENTRY_SECTORS: u64 = (ENTRIES as u64 * ENTRY_SIZE as u64) / SECTOR;
/// At most this many entries are read from a table that claims more.
const MAX_ENTRIES: u32 = 1024;

/// GPT's "Linux filesystem data" type.
pub const LINUX_FS: [u8; 16] = guid_bytes(
    0x0FC6_3DAF,
    0x8483,
    0x4772,
    [0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4],
);

/// A GUID in GPT's on-disk byte order (the first three fields little-endian).
pub const fn guid_bytes(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// A GUID as text (`0fc63daf-8483-4772-8e79-3d69d8477de4`), as the kernel
/// shows a PARTUUID.
pub fn guid_text(g: &[u8; 16]) -> String {
    let le32 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let le16a = u16::from_le_bytes([g[4], g[5]]);
    let le16b = u16::from_le_bytes([g[6], g[7]]);
    let tail: String = g[10..].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{le32:08x}-{le16a:04x}-{le16b:04x}-{:02x}{:02x}-{tail}",
        g[8], g[9]
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1-based, as the kernel numbers them (`vda1`, `mmcblk0p2`)
    pub number: u32,
    pub first_lba: u64,
    /// inclusive
    pub last_lba: u64,
    /// GPT: the entry's name; MBR: empty
    pub name: String,
    /// GPT: the unique GUID; MBR: the disk signature and number, as the
    /// kernel's PARTUUID `SSSSSSSS-NN`
    pub uuid: String,
    /// GPT: the type GUID; MBR: the type byte in the first byte
    pub kind: [u8; 16],
}

impl Partition {
    pub fn bytes(&self) -> u64 {
        (self.last_lba.saturating_sub(self.first_lba) + 1).saturating_mul(SECTOR)
    }
}

/// The standard CRC-32 (IEEE, reflected), as GPT uses it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// A GPT header (92 bytes at the start of its sector) whose CRC holds.
struct Header {
    entries_lba: u64,
    count: u32,
    entry_size: u32,
    entries_crc: u32,
}

fn header(sector: &[u8]) -> Option<Header> {
    if sector.get(..8)? != b"EFI PART" {
        return None;
    }
    let size = le32(sector, 12)? as usize;
    if !(92..=SECTOR as usize).contains(&size) {
        return None;
    }
    let mut h = sector.get(..size)?.to_vec();
    let crc = le32(&h, 16)?;
    h[16..20].fill(0);
    if crc32(&h) != crc {
        return None;
    }
    let entry_size = le32(sector, 84)?;
    if entry_size < 128 || entry_size % 8 != 0 || entry_size > 4096 {
        return None;
    }
    Some(Header {
        entries_lba: le64(sector, 72)?,
        count: le32(sector, 80)?.min(MAX_ENTRIES),
        entry_size,
        entries_crc: le32(sector, 88)?,
    })
}

/// The partitions of a GPT disk. `read(lba, sectors)` returns the bytes of
/// those sectors (or `None`); `last_lba` is the disk's last sector, where
/// the backup header lives. `None` when neither header is valid.
pub fn gpt(
    read: &mut dyn FnMut(u64, u64) -> Option<Vec<u8>>,
    last_lba: u64,
) -> Option<Vec<Partition>> {
    for header_lba in [1, last_lba] {
        let Some(sector) = read(header_lba, 1) else {
            continue;
        };
        let Some(h) = header(&sector) else { continue };
        // the table claims (count * size); what it claims must be readable
        let bytes = (h.count as u64).checked_mul(h.entry_size as u64)?;
        let sectors = bytes.div_ceil(SECTOR);
        let Some(array) = read(h.entries_lba, sectors) else {
            continue;
        };
        let Some(array) = array.get(..bytes as usize) else {
            continue;
        };
        // (a table claiming more than MAX_ENTRIES was cut short and fails
        // here: its CRC covers what was not read)
        if crc32(array) != h.entries_crc {
            continue;
        }
        let mut out = Vec::new();
        for (i, e) in array.chunks_exact(h.entry_size as usize).enumerate() {
            let kind: [u8; 16] = e.get(..16)?.try_into().ok()?;
            if kind == [0; 16] {
                continue;
            }
            let unique: [u8; 16] = e.get(16..32)?.try_into().ok()?;
            let (first, last) = (le64(e, 32)?, le64(e, 40)?);
            if last < first {
                continue;
            }
            let name_units: Vec<u16> = e
                .get(56..128)?
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            out.push(Partition {
                number: i as u32 + 1,
                first_lba: first,
                last_lba: last,
                name: String::from_utf16_lossy(&name_units),
                uuid: guid_text(&unique),
                kind,
            });
        }
        return Some(out);
    }
    None
}

/// The four primary partitions of an MBR (sector 0). `None` without the
/// 0x55AA signature, or for a protective MBR (type 0xEE: read the GPT).
pub fn mbr(sector0: &[u8]) -> Option<Vec<Partition>> {
    if sector0.get(510..512)? != [0x55, 0xAA] {
        return None;
    }
    let signature = le32(sector0, 440)?;
    let mut out = Vec::new();
    for i in 0..4usize {
        let e = sector0.get(446 + i * 16..446 + (i + 1) * 16)?;
        let kind = e[4];
        if kind == 0xEE {
            return None;
        }
        let (start, count) = (le32(e, 8)? as u64, le32(e, 12)? as u64);
        if kind == 0 || count == 0 {
            continue;
        }
        let mut k = [0u8; 16];
        k[0] = kind;
        out.push(Partition {
            number: i as u32 + 1,
            first_lba: start,
            last_lba: start + count - 1,
            name: String::new(),
            uuid: format!("{signature:08x}-{:02x}", i + 1),
            kind: k,
        });
    }
    Some(out)
}

/// What [`mbr_write`] lays out: a type byte (`0x0c` FAT32 with LBA,
/// `0x83` Linux), a size in sectors and the boot flag.
pub struct NewMbrPartition {
    pub kind: u8,
    pub sectors: u64,
    pub bootable: bool,
}

/// MBR's cylinder/head/sector triple for `lba` (255 heads, 63 sectors a
/// track, as partitioning tools assume); past cylinder 1023 the largest
/// one, which tells readers to use the LBA fields.
fn chs(lba: u64) -> [u8; 3] {
    let (heads, per_track) = (255u64, 63u64);
    let cyl = lba / (heads * per_track);
    if cyl > 1023 {
        return [254, 0xFF, 0xFF];
    }
    let head = (lba / per_track) % heads;
    let sector = lba % per_track + 1;
    [
        head as u8,
        (sector as u8) | (((cyl >> 2) & 0xC0) as u8),
        (cyl & 0xFF) as u8,
    ]
}

/// Sector 0 of an MBR disk of `total` sectors holding `parts` (at most
/// four primaries, in order, each starting on a 1 MiB boundary) with the
/// disk signature `signature` (the kernel's PARTUUID of partition N is
/// `SIGNATURE-0N`): (the sector, the partitions' first LBAs). `None` when
/// there are more than four, one is empty or of type 0 or 0xEE (an unused
/// entry and GPT's protective one), they do not fit, or the disk is past
/// MBR's 32-bit sector numbers.
pub fn mbr_write(
    total: u64,
    signature: u32,
    parts: &[NewMbrPartition],
) -> Option<(Vec<u8>, Vec<u64>)> {
    if parts.len() > 4 || total > u64::from(u32::MAX) {
        return None;
    }
    let align = (1 << 20) / SECTOR;
    let mut s = vec![0u8; SECTOR as usize];
    s[440..444].copy_from_slice(&signature.to_le_bytes());
    let mut starts = Vec::new();
    let mut next = align;
    for (i, p) in parts.iter().enumerate() {
        if p.sectors == 0 || p.kind == 0 || p.kind == 0xEE {
            return None;
        }
        let start = next.div_ceil(align).checked_mul(align)?;
        let end = start.checked_add(p.sectors)?;
        if end > total {
            return None;
        }
        let e = &mut s[446 + i * 16..446 + (i + 1) * 16];
        e[0] = if p.bootable { 0x80 } else { 0 };
        e[1..4].copy_from_slice(&chs(start));
        e[4] = p.kind;
        e[5..8].copy_from_slice(&chs(end - 1));
        e[8..12].copy_from_slice(&u32::try_from(start).ok()?.to_le_bytes());
        e[12..16].copy_from_slice(&u32::try_from(p.sectors).ok()?.to_le_bytes());
        starts.push(start);
        next = end;
    }
    s[510..512].copy_from_slice(&[0x55, 0xAA]);
    Some((s, starts))
}

/// What [`gpt_write`] lays out: a name, a size in sectors and a unique GUID.
pub struct NewPartition<'a> {
    pub name: &'a str,
    pub sectors: u64,
    pub unique: [u8; 16],
}

/// The sectors of a GPT disk of `total` sectors holding `parts` in order,
/// each starting on a 1 MiB boundary: (the first 34 sectors: protective
/// MBR, header, entries; the last 33: backup entries and header; the
/// partitions' first LBAs). `None` when they do not fit, or a name is
/// longer than GPT's 36 UTF-16 units or holds a NUL.
pub fn gpt_write(
    total: u64,
    disk: [u8; 16],
    parts: &[NewPartition],
) -> Option<(Vec<u8>, Vec<u8>, Vec<u64>)> {
    let last = total.checked_sub(1)?;
    let first_usable = 2 + ENTRY_SECTORS;
    let last_usable = last.checked_sub(1 + ENTRY_SECTORS)?;
    let align = (1 << 20) / SECTOR;
    let mut entries = vec![0u8; (ENTRIES * ENTRY_SIZE) as usize];
    let mut starts = Vec::new();
    let mut next = align;
    for (i, p) in parts.iter().enumerate() {
        if i >= ENTRIES as usize || p.sectors == 0 {
            return None;
        }
        let start = next.div_ceil(align).checked_mul(align)?;
        let end = start.checked_add(p.sectors)?.checked_sub(1)?;
        if end > last_usable {
            return None;
        }
        let e = &mut entries[i * ENTRY_SIZE as usize..(i + 1) * ENTRY_SIZE as usize];
        e[..16].copy_from_slice(&LINUX_FS);
        e[16..32].copy_from_slice(&p.unique);
        e[32..40].copy_from_slice(&start.to_le_bytes());
        e[40..48].copy_from_slice(&end.to_le_bytes());
        let units: Vec<u16> = p.name.encode_utf16().collect();
        // the name ends at its first NUL on disk
        if units.len() > 36 || units.contains(&0) {
            return None;
        }
        for (j, u) in units.iter().enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&u.to_le_bytes());
        }
        starts.push(start);
        next = end + 1;
    }
    let entries_crc = crc32(&entries);
    let header_at = |current: u64, backup: u64, entries_lba: u64| {
        let mut h = vec![0u8; SECTOR as usize];
        h[..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&current.to_le_bytes());
        h[32..40].copy_from_slice(&backup.to_le_bytes());
        h[40..48].copy_from_slice(&first_usable.to_le_bytes());
        h[48..56].copy_from_slice(&last_usable.to_le_bytes());
        h[56..72].copy_from_slice(&disk);
        h[72..80].copy_from_slice(&entries_lba.to_le_bytes());
        h[80..84].copy_from_slice(&ENTRIES.to_le_bytes());
        h[84..88].copy_from_slice(&ENTRY_SIZE.to_le_bytes());
        h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = crc32(&h[..92]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        h
    };
    let mut head = vec![0u8; SECTOR as usize];
    // the protective MBR: one partition of type 0xEE over the whole disk
    head[446 + 1..446 + 4].copy_from_slice(&[0x00, 0x02, 0x00]);
    head[446 + 4] = 0xEE;
    head[446 + 5..446 + 8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
    head[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    let covered = u32::try_from(last).unwrap_or(u32::MAX);
    head[446 + 12..446 + 16].copy_from_slice(&covered.to_le_bytes());
    head[510..512].copy_from_slice(&[0x55, 0xAA]);
    head.extend_from_slice(&header_at(1, last, 2));
    head.extend_from_slice(&entries);
    let mut tail = entries;
    tail.extend_from_slice(&header_at(last, 1, last - ENTRY_SECTORS));
    Some((head, tail, starts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    fn disk(total: u64) -> (Vec<u8>, Vec<u64>) {
        let parts = [
            NewPartition {
                name: "ferrite-root",
                sectors: 4096,
                unique: [1; 16],
            },
            NewPartition {
                name: "ferrite-data",
                sectors: 8192,
                unique: [2; 16],
            },
        ];
        let (head, tail, starts) = gpt_write(total, [9; 16], &parts).unwrap();
        let mut d = vec![0u8; (total * SECTOR) as usize];
        d[..head.len()].copy_from_slice(&head);
        let at = d.len() - tail.len();
        d[at..].copy_from_slice(&tail);
        (d, starts)
    }

    fn reader(d: &[u8]) -> impl FnMut(u64, u64) -> Option<Vec<u8>> + '_ {
        move |lba, n| {
            let a = usize::try_from(lba.checked_mul(SECTOR)?).ok()?;
            let b = a.checked_add(usize::try_from(n.checked_mul(SECTOR)?).ok()?)?;
            d.get(a..b).map(|s| s.to_vec())
        }
    }

    #[test]
    fn written_gpt_reads_back_and_survives_a_damaged_primary() {
        let total = 16 * 2048; // 16 MiB
        let (mut d, starts) = disk(total);
        assert_eq!(starts, [2048, 2048 + 4096]);
        let parts = gpt(&mut reader(&d), total - 1).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "ferrite-root");
        assert_eq!((parts[0].first_lba, parts[0].last_lba), (2048, 6143));
        assert_eq!(parts[1].name, "ferrite-data");
        assert_eq!(parts[1].number, 2);
        assert_eq!(parts[1].bytes(), 8192 * SECTOR);
        assert_eq!(parts[0].uuid, "01010101-0101-0101-0101-010101010101");
        assert_eq!(parts[0].kind, LINUX_FS);
        // the protective MBR sends an MBR reader to the GPT
        assert_eq!(mbr(&d[..512]), None);
        // a primary header hit by a power cut: the backup answers
        d[512 + 30] ^= 0xff;
        assert_eq!(gpt(&mut reader(&d), total - 1).unwrap(), parts);
        // both gone: no table, no panic
        let at = d.len() - 512;
        d[at + 20] ^= 0xff;
        assert_eq!(gpt(&mut reader(&d), total - 1), None);
        // entries damaged under a good header: refused
        let (mut d, _) = disk(total);
        d[1024 + 40] ^= 1;
        let at = d.len() - 33 * 512 + 40;
        d[at] ^= 1;
        assert_eq!(gpt(&mut reader(&d), total - 1), None);
    }

    #[test]
    fn too_small_or_bad_names_are_refused() {
        let p = |name, sectors| NewPartition {
            name,
            sectors,
            unique: [0; 16],
        };
        assert!(gpt_write(4096, [0; 16], &[p("a", 4096)]).is_none());
        assert!(gpt_write(1 << 20, [0; 16], &[p("x".repeat(37).leak(), 10)]).is_none());
        assert!(gpt_write(1 << 20, [0; 16], &[p("a", 0)]).is_none());
        assert!(gpt_write(1 << 20, [0; 16], &[p("a\0b", 10)]).is_none());
        assert!(gpt_write(10, [0; 16], &[]).is_none());
    }

    #[test]
    fn written_mbr_reads_back() {
        let parts = [
            NewMbrPartition {
                kind: 0x0c,
                sectors: 64 * 2048,
                bootable: true,
            },
            NewMbrPartition {
                kind: 0x83,
                sectors: 1000,
                bootable: false,
            },
            NewMbrPartition {
                kind: 0x83,
                sectors: 8 * 2048,
                bootable: false,
            },
        ];
        let total = 256 * 2048;
        let (s, starts) = mbr_write(total, 0x1234_abcd, &parts).unwrap();
        assert_eq!(s.len(), 512);
        // 1 MiB aligned, the 1000 sectors rounded up to the next MiB
        assert_eq!(starts, [2048, 2048 + 64 * 2048, 2048 + 65 * 2048]);
        let read = mbr(&s).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].uuid, "1234abcd-01");
        assert_eq!(read[2].uuid, "1234abcd-03");
        assert_eq!(read[0].kind[0], 0x0c);
        assert_eq!(read[1].kind[0], 0x83);
        for (p, (want, start)) in read.iter().zip(parts.iter().zip(&starts)) {
            assert_eq!(p.first_lba, *start);
            assert_eq!(p.bytes(), want.sectors * SECTOR);
        }
        assert_eq!(s[446], 0x80, "the boot partition is flagged");
        assert_eq!(s[446 + 16], 0);
        // CHS of LBA 2048: cylinder 0, head 32, sector 33
        assert_eq!(&s[447..450], &[32, 33, 0]);
        // an MBR is not a GPT
        assert!(gpt(&mut |_, _| Some(s.clone()), 0).is_none());
    }

    #[test]
    fn mbr_write_refuses_what_it_cannot_hold() {
        let p = |kind, sectors| NewMbrPartition {
            kind,
            sectors,
            bootable: false,
        };
        let total = 64 * 2048;
        assert!(mbr_write(total, 1, &[p(0x83, 63 * 2048)]).is_some());
        assert!(mbr_write(total, 1, &[p(0x83, 63 * 2048 + 1)]).is_none());
        assert!(mbr_write(total, 1, &[p(0x83, 0)]).is_none());
        assert!(mbr_write(total, 1, &[p(0, 10)]).is_none());
        assert!(mbr_write(total, 1, &[p(0xEE, 10)]).is_none());
        assert!(mbr_write(
            total,
            1,
            &[
                p(0x83, 10),
                p(0x83, 10),
                p(0x83, 10),
                p(0x83, 10),
                p(0x83, 10)
            ]
        )
        .is_none());
        assert!(mbr_write(1 << 33, 1, &[p(0x83, 10)]).is_none());
        assert!(mbr_write(total, 1, &[]).is_some_and(|(s, _)| mbr(&s) == Some(vec![])));
        // past cylinder 1023: the largest triple
        assert_eq!(chs(1 << 30), [254, 0xFF, 0xFF]);
    }

    #[test]
    fn mbr_primaries() {
        let mut s = vec![0u8; 512];
        s[440..444].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        s[446 + 4] = 0x0c;
        s[446 + 8..446 + 12].copy_from_slice(&8192u32.to_le_bytes());
        s[446 + 12..446 + 16].copy_from_slice(&1024u32.to_le_bytes());
        s[446 + 16 + 4] = 0x83;
        s[446 + 16 + 8..446 + 16 + 12].copy_from_slice(&9216u32.to_le_bytes());
        s[446 + 16 + 12..446 + 16 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(mbr(&s), None, "no signature");
        s[510] = 0x55;
        s[511] = 0xAA;
        let p = mbr(&s).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].uuid, "deadbeef-01");
        assert_eq!((p[0].first_lba, p[0].last_lba), (8192, 9215));
        assert_eq!(p[1].kind[0], 0x83);
        assert_eq!(p[1].last_lba, 9216 + u32::MAX as u64 - 1);
        assert_eq!(mbr(&s[..100]), None);
    }
}
