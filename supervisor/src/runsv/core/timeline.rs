//! The timeline of one supervised program set: what happened to it since
//! boot (spawned, ready, exited, restarted, finish), kept in
//! `supervise/timeline`, a fixed-size ring of the last `SLOTS` events.
//! Pure: the record format both ways and the choice of what to record;
//! runsv's shell writes each record with one `pwrite` at its slot, `sv
//! timeline` reads the file whole.
//!
//! The file: a 32-byte header (`MAGIC`, 16 bytes, then this boot's id from
//! `/proc/sys/kernel/random/boot_id`, 16 bytes), then `SLOTS` slots of
//! `RECORD` bytes. A record, little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0–3 | sequence number, from 1 (0: empty slot) |
//! | 4–11 | nanoseconds since boot (`CLOCK_BOOTTIME`) |
//! | 12 | kind (`Kind`) |
//! | 13 | flags: bit 0, `run` was given a way to say it is ready |
//! | 14–15 | zero |
//! | 16–19 | pid (0 when none) |
//! | 20–23 | exit code (i32; -1 when killed by a signal) |
//! | 24–27 | signal (i32; 0 when it exited) |
//! | 28–31 | FNV-1a (32 bit) of bytes 0–27 |
//!
//! Sequence number N lives in slot (N - 1) mod `SLOTS`. A reader keeps a
//! record only when its checksum holds and it sits in its own slot, so a
//! record torn by a crash mid-write, or one a writer is overwriting, is
//! left out rather than misread.

use std::time::Duration;

/// How many events the ring keeps.
pub const SLOTS: usize = 64;
/// The size of one record and of the header.
pub const RECORD: usize = 32;
pub const HEADER: usize = 32;
/// The whole file once every slot was written.
pub const FILE_SIZE: usize = HEADER + SLOTS * RECORD;
/// The header's first 16 bytes.
pub const MAGIC: &[u8; 16] = b"ferrite-tline-1\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `run` started for the first time since runsv started.
    Spawned = 1,
    /// `run` started again after it had ended.
    Restarted = 2,
    /// `run` said it is ready.
    Ready = 3,
    /// `run` exited (code, or -1 and the signal).
    Exited = 4,
    /// `finish` started (its arguments: the code and signal of `run`).
    Finish = 5,
    /// `finish` exited.
    Finished = 6,
    /// `run` or `finish` could not be started.
    StartFailed = 7,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Spawned,
            2 => Kind::Restarted,
            3 => Kind::Ready,
            4 => Kind::Exited,
            5 => Kind::Finish,
            6 => Kind::Finished,
            7 => Kind::StartFailed,
            _ => return None,
        })
    }

    /// The word `sv timeline` prints.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Spawned => "spawned",
            Kind::Restarted => "restarted",
            Kind::Ready => "ready",
            Kind::Exited => "exited",
            Kind::Finish => "finish",
            Kind::Finished => "finished",
            Kind::StartFailed => "start-failed",
        }
    }
}

/// One event of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Time since boot.
    pub at: Duration,
    pub kind: Kind,
    /// `Spawned`/`Restarted`: `run` was given a way to say it is ready.
    pub notifies: bool,
    pub pid: u32,
    pub code: i32,
    pub signal: i32,
}

impl Event {
    pub fn new(at: Duration, kind: Kind, pid: u32) -> Event {
        Event {
            at,
            kind,
            notifies: false,
            pid,
            code: 0,
            signal: 0,
        }
    }
}

/// FNV-1a, 32 bit.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The header for a boot with this id.
pub fn header(boot_id: &[u8; 16]) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..16].copy_from_slice(MAGIC);
    h[16..].copy_from_slice(boot_id);
    h
}

/// The boot id a file's header names, when it is a timeline file.
pub fn header_boot_id(file: &[u8]) -> Option<[u8; 16]> {
    let h = file.get(..HEADER)?;
    if &h[..16] != MAGIC {
        return None;
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&h[16..]);
    Some(id)
}

/// The byte offset of sequence number `seq`'s slot in the file.
pub fn offset(seq: u32) -> u64 {
    let slot = (seq.max(1) - 1) as usize % SLOTS;
    (HEADER + slot * RECORD) as u64
}

pub fn encode(seq: u32, e: &Event) -> [u8; RECORD] {
    let mut r = [0u8; RECORD];
    r[0..4].copy_from_slice(&seq.to_le_bytes());
    let ns = u64::try_from(e.at.as_nanos()).unwrap_or(u64::MAX);
    r[4..12].copy_from_slice(&ns.to_le_bytes());
    r[12] = e.kind as u8;
    r[13] = u8::from(e.notifies);
    r[16..20].copy_from_slice(&e.pid.to_le_bytes());
    r[20..24].copy_from_slice(&e.code.to_le_bytes());
    r[24..28].copy_from_slice(&e.signal.to_le_bytes());
    let sum = fnv1a(&r[..28]);
    r[28..32].copy_from_slice(&sum.to_le_bytes());
    r
}

fn le32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    u32::from_le_bytes(a)
}

/// One record: its sequence number and event, or `None` for an empty,
/// torn or unknown one.
pub fn decode(r: &[u8]) -> Option<(u32, Event)> {
    let r = r.get(..RECORD)?;
    let seq = le32(&r[0..4]);
    if seq == 0 || le32(&r[28..32]) != fnv1a(&r[..28]) || r[14] != 0 || r[15] != 0 {
        return None;
    }
    let kind = Kind::from_u8(r[12])?;
    if r[13] > 1 {
        return None;
    }
    let mut ns = [0u8; 8];
    ns.copy_from_slice(&r[4..12]);
    Some((
        seq,
        Event {
            at: Duration::from_nanos(u64::from_le_bytes(ns)),
            kind,
            notifies: r[13] == 1,
            pid: le32(&r[16..20]),
            code: le32(&r[20..24]) as i32,
            signal: le32(&r[24..28]) as i32,
        },
    ))
}

/// The events of a whole timeline file, oldest first, with their sequence
/// numbers: only intact records in their own slots. A file without the
/// header holds none.
pub fn parse(file: &[u8]) -> Vec<(u32, Event)> {
    if header_boot_id(file).is_none() {
        return Vec::new();
    }
    let body = file.get(HEADER..).unwrap_or_default();
    let mut out: Vec<(u32, Event)> = body
        .chunks_exact(RECORD)
        .take(SLOTS)
        .enumerate()
        .filter_map(|(slot, r)| {
            let (seq, e) = decode(r)?;
            ((seq - 1) as usize % SLOTS == slot).then_some((seq, e))
        })
        .collect();
    out.sort_by_key(|&(seq, _)| seq);
    out
}

/// The sequence number the next writer of `file` continues with: after
/// the newest intact record of the same boot, or 1.
pub fn next_seq(file: &[u8], boot_id: &[u8; 16]) -> u32 {
    if header_boot_id(file).as_ref() != Some(boot_id) {
        return 1;
    }
    parse(file)
        .last()
        .map(|&(s, _)| s.checked_add(1).unwrap_or(1))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: u64, kind: Kind) -> Event {
        Event::new(Duration::from_millis(ms), kind, 42)
    }

    fn file(events: &[(u32, Event)]) -> Vec<u8> {
        let mut f = header(&[7; 16]).to_vec();
        for (seq, e) in events {
            let off = offset(*seq) as usize;
            if f.len() < off + RECORD {
                f.resize(off + RECORD, 0);
            }
            f[off..off + RECORD].copy_from_slice(&encode(*seq, e));
        }
        f
    }

    #[test]
    fn records_round_trip() {
        let mut e = ev(1234, Kind::Exited);
        e.code = -1;
        e.signal = 15;
        assert_eq!(decode(&encode(9, &e)), Some((9, e)));
        let mut s = ev(5, Kind::Spawned);
        s.notifies = true;
        assert_eq!(decode(&encode(1, &s)), Some((1, s)));
        assert_eq!(offset(1), HEADER as u64);
        assert_eq!(offset(65), HEADER as u64);
        assert_eq!(offset(66), (HEADER + RECORD) as u64);
    }

    #[test]
    fn torn_and_misplaced_records_are_left_out() {
        let events: Vec<(u32, Event)> = (1..=3)
            .map(|s| (s, ev(s as u64 * 10, Kind::Ready)))
            .collect();
        let mut f = file(&events);
        assert_eq!(parse(&f), events);
        // a torn write: the second record half old, half new
        let off = offset(2) as usize;
        f[off + 8] ^= 0xff;
        assert_eq!(parse(&f), vec![events[0], events[2]]);
        // a record copied into another slot
        let r = encode(5, &ev(1, Kind::Ready));
        f[off..off + RECORD].copy_from_slice(&r);
        assert_eq!(parse(&f).len(), 2);
        // a cut file, no header
        assert!(parse(&f[..10]).is_empty());
        assert!(parse(&[]).is_empty());
        let mut bad = f.clone();
        bad[0] = b'x';
        assert!(parse(&bad).is_empty());
    }

    #[test]
    fn the_ring_keeps_the_last_slots_events() {
        let events: Vec<(u32, Event)> = (1..=100)
            .map(|s| (s, ev(s as u64, Kind::Spawned)))
            .collect();
        let f = file(&events);
        assert_eq!(f.len(), FILE_SIZE);
        let got = parse(&f);
        assert_eq!(got.len(), SLOTS);
        assert_eq!(got.first().map(|g| g.0), Some(37));
        assert_eq!(got.last().map(|g| g.0), Some(100));
        assert_eq!(next_seq(&f, &[7; 16]), 101);
        // another boot's file starts over
        assert_eq!(next_seq(&f, &[8; 16]), 1);
        assert_eq!(next_seq(&[], &[7; 16]), 1);
    }
}
