//! The files in `supervise/` that runit's and daemontools' tools read:
//! the 20-byte binary `status`, the human-readable `stat` and `pid`.
//! Pure encoding and decoding; `supervise_dir` writes them.

use super::readiness::Readiness;
use common::tai::Tai64n;
use std::time::Duration;

/// The three states runsv reports in byte 19 of `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Down = 0,
    Run = 1,
    Finish = 2,
}

/// What the service is wanted to do. `Exit` is shown as `d` in `status`
/// (runit's tools know only `u` and `d`) and as `want exit` in `stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Up,
    Down,
    Exit,
}

/// Everything `status` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Time of the last state change.
    pub since: Tai64n,
    /// Pid of `run` or `finish`, 0 when none.
    pub pid: u32,
    pub paused: bool,
    /// `u` or `d`.
    pub want: u8,
    pub got_term: bool,
    pub state: RunState,
}

/// The bytes runit's `sv` reads (daemontools' `svstat` reads 18).
pub const STATUS_LEN: usize = 20;

/// ferrite's extension of `status`, after byte 20 where runit's and
/// daemontools' tools never look (layout in docs/architecture.md):
/// bytes 20..28, big-endian, the start time of the pid in bytes 12..16 in
/// clock ticks since boot (`/proc/PID/stat` field 22), 0 when there is none;
/// bytes 28..44 the kernel's boot id of the boot that wrote it (zeros when
/// unknown). A new runsv uses them to recognise a service its killed
/// predecessor left running, even after the pid has been recycled, and not
/// to take a process of this boot for one of a `status` that outlived a
/// reboot. Byte 44 the readiness flag (0 notification not used, 1 not
/// ready since the last start, 2 ready), bytes 45..48 zero, bytes 48..60
/// the TAI64N time it became ready and bytes 60..68, big-endian, the same
/// moment in nanoseconds since boot (`CLOCK_BOOTTIME`); zeros unless ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extension {
    pub start_time: u64,
    pub boot_id: [u8; 16],
    pub readiness: Readiness,
}

/// The whole record ferrite writes: runit's 20 bytes and the extension.
pub const FULL_LEN: usize = 68;

/// The readiness flag values of byte 44.
pub const FLAG_NOT_USED: u8 = 0;
pub const FLAG_NOT_READY: u8 = 1;
pub const FLAG_READY: u8 = 2;

impl Extension {
    pub fn encode(&self, status: &[u8; STATUS_LEN]) -> [u8; FULL_LEN] {
        let mut b = [0u8; FULL_LEN];
        b[..STATUS_LEN].copy_from_slice(status);
        b[20..28].copy_from_slice(&self.start_time.to_be_bytes());
        b[28..44].copy_from_slice(&self.boot_id);
        match self.readiness {
            Readiness::NotUsed => b[44] = FLAG_NOT_USED,
            Readiness::NotReady => b[44] = FLAG_NOT_READY,
            Readiness::Ready { wall, boot } => {
                b[44] = FLAG_READY;
                b[48..60].copy_from_slice(&wall.to_bytes());
                let ns = u64::try_from(boot.as_nanos()).unwrap_or(u64::MAX);
                b[60..68].copy_from_slice(&ns.to_be_bytes());
            }
        }
        b
    }

    /// The extension of a record, `None` when it has none (runit's runsv
    /// wrote it). A 28-byte record (ferrite before the boot id) has a
    /// start time and an unknown (zero) boot id; one shorter than 68 bytes
    /// (ferrite before readiness) or with an unknown flag, no readiness.
    pub fn decode(b: &[u8]) -> Option<Extension> {
        let t: [u8; 8] = b.get(20..28)?.try_into().ok()?;
        let boot_id = b
            .get(28..44)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .unwrap_or_default();
        Some(Extension {
            start_time: u64::from_be_bytes(t),
            boot_id,
            readiness: decode_readiness(b),
        })
    }

    /// Written in another boot than `this_boot`: its pid and start time
    /// name nothing now. Unknown on either side counts as this boot.
    pub fn from_another_boot(&self, this_boot: Option<[u8; 16]>) -> bool {
        match this_boot {
            Some(id) => self.boot_id != [0; 16] && self.boot_id != id,
            None => false,
        }
    }
}

fn decode_readiness(b: &[u8]) -> Readiness {
    let (Some(&flag), Some(wall), Some(ns)) = (b.get(44), b.get(48..60), b.get(60..68)) else {
        return Readiness::NotUsed;
    };
    let (Ok(wall), Ok(ns)) = (<[u8; 12]>::try_from(wall), <[u8; 8]>::try_from(ns)) else {
        return Readiness::NotUsed;
    };
    match flag {
        FLAG_NOT_READY => Readiness::NotReady,
        FLAG_READY => Readiness::Ready {
            wall: Tai64n::from_bytes(&wall),
            boot: Duration::from_nanos(u64::from_be_bytes(ns)),
        },
        _ => Readiness::NotUsed,
    }
}

/// The process a killed runsv left running, as the `record` it left names
/// it: the pid and that process's start time, when the record carries
/// ferrite's extension, names a process and was written in this boot
/// (`this_boot`). A record of runit's runsv (no extension) names none. The
/// shell must still find that start time on the pid now: a recycled pid
/// has another.
pub fn left_running(record: &[u8], this_boot: Option<[u8; 16]>) -> Option<(u32, u64)> {
    let status = Status::decode(record)?;
    let ext = Extension::decode(record)?;
    if status.pid == 0 || ext.start_time == 0 || ext.from_another_boot(this_boot) {
        return None;
    }
    Some((status.pid, ext.start_time))
}

impl Status {
    pub fn encode(&self) -> [u8; STATUS_LEN] {
        let mut b = [0u8; STATUS_LEN];
        b[..12].copy_from_slice(&self.since.to_bytes());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16] = self.paused as u8;
        b[17] = self.want;
        b[18] = self.got_term as u8;
        b[19] = self.state as u8;
        b
    }

    /// Decode a status record: runit's 20 bytes with a known state, and
    /// whatever extension follows them (ignored here, as runit's tools do).
    pub fn decode(b: &[u8]) -> Option<Status> {
        if b.len() < STATUS_LEN {
            return None;
        }
        let mut t = [0u8; 12];
        t.copy_from_slice(&b[..12]);
        let state = match b[19] {
            0 => RunState::Down,
            1 => RunState::Run,
            2 => RunState::Finish,
            _ => return None,
        };
        Some(Status {
            since: Tai64n::from_bytes(&t),
            pid: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            paused: b[16] != 0,
            want: b[17],
            got_term: b[18] != 0,
            state,
        })
    }
}

/// The text of `supervise/stat`, e.g. `run, got TERM, want down\n`.
pub fn stat_text(state: RunState, paused: bool, got_term: bool, want: Want) -> String {
    let mut s = String::from(match state {
        RunState::Down => "down",
        RunState::Run => "run",
        RunState::Finish => "finish",
    });
    if paused {
        s.push_str(", paused");
    }
    if got_term {
        s.push_str(", got TERM");
    }
    if state != RunState::Down {
        match want {
            Want::Down => s.push_str(", want down"),
            Want::Exit => s.push_str(", want exit"),
            Want::Up => {}
        }
    }
    s.push('\n');
    s
}

/// The text of `supervise/pid`: the pid and a newline, or nothing.
pub fn pid_text(pid: u32) -> String {
    if pid == 0 {
        String::new()
    } else {
        format!("{pid}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_runit_layout() {
        // A record taken from runit's runsv: pid 2321 running, want up.
        let raw: [u8; 20] = [
            0x40, 0, 0, 0, 0x6b, 0x06, 0xf9, 0xce, 0x09, 0xa9, 0x5d, 0xa4, 0x11, 0x09, 0, 0, 0,
            0x75, 0, 1,
        ];
        let s = Status::decode(&raw).unwrap();
        assert_eq!(s.pid, 2321);
        assert_eq!(s.state, RunState::Run);
        assert_eq!(s.want, b'u');
        assert!(!s.paused && !s.got_term);
        assert_eq!(s.since.unix_secs(), 0x6b06f9ce - 10);
        assert_eq!(s.encode(), raw);
    }

    #[test]
    fn the_extension_follows_runits_twenty_bytes() {
        let s = Status {
            since: Tai64n::from_bytes(&[0x40, 0, 0, 0, 0x6b, 0x06, 0xf9, 0xce, 0, 0, 0, 1]),
            pid: 77,
            paused: false,
            want: b'u',
            got_term: false,
            state: RunState::Run,
        };
        let ext = Extension {
            start_time: 0x0102_0304_0506,
            boot_id: [7; 16],
            readiness: Readiness::NotUsed,
        };
        let full = ext.encode(&s.encode());
        assert_eq!(&full[..20], &s.encode(), "runit's bytes unchanged");
        assert_eq!(Status::decode(&full), Some(s));
        assert_eq!(Extension::decode(&full), Some(ext));
        // a 28-byte record of an older ferrite: start time, boot unknown
        let old = Extension::decode(&full[..28]).unwrap();
        assert_eq!((old.start_time, old.boot_id), (0x0102_0304_0506, [0; 16]));
        assert!(!old.from_another_boot(Some([7; 16])));
        assert!(!ext.from_another_boot(Some([7; 16])));
        assert!(ext.from_another_boot(Some([8; 16])));
        assert!(!ext.from_another_boot(None));
        assert_eq!(
            Extension::decode(&s.encode()),
            None,
            "runit's record has none"
        );
    }

    #[test]
    fn readiness_follows_the_boot_id() {
        let s = Status {
            since: Tai64n::from_unix(1_700_000_000, 5),
            pid: 4242,
            paused: false,
            want: b'u',
            got_term: false,
            state: RunState::Run,
        };
        let wall = Tai64n::from_unix(1_700_000_003, 250_000_000);
        let boot = Duration::from_nanos(12_345_678_901);
        for readiness in [
            Readiness::NotUsed,
            Readiness::NotReady,
            Readiness::Ready { wall, boot },
        ] {
            let ext = Extension {
                start_time: 99,
                boot_id: [3; 16],
                readiness,
            };
            let full = ext.encode(&s.encode());
            assert_eq!(full.len(), 68);
            // what runit's sv (20 bytes) and daemontools' svstat (18) read
            assert_eq!(&full[..20], &s.encode(), "runit's bytes unchanged");
            assert_eq!(Status::decode(&full[..20]), Some(s));
            assert_eq!(Extension::decode(&full), Some(ext));
            assert_eq!(&full[45..48], &[0, 0, 0]);
        }
        let full = Extension {
            start_time: 99,
            boot_id: [3; 16],
            readiness: Readiness::Ready { wall, boot },
        }
        .encode(&s.encode());
        assert_eq!(full[44], FLAG_READY);
        assert_eq!(&full[48..60], &wall.to_bytes());
        assert_eq!(&full[60..68], &12_345_678_901u64.to_be_bytes());
        // a 44-byte record (ferrite before readiness): not used
        let old = Extension::decode(&full[..44]).unwrap();
        assert_eq!(old.readiness, Readiness::NotUsed);
        assert_eq!(old.boot_id, [3; 16]);
        // an unknown flag reads as not used, never as ready
        let mut odd = full;
        odd[44] = 9;
        assert_eq!(
            Extension::decode(&odd).unwrap().readiness,
            Readiness::NotUsed
        );
    }

    #[test]
    fn a_record_names_what_a_killed_runsv_left_running() {
        let st = |pid| Status {
            since: Tai64n::from_unix(1000, 0),
            pid,
            paused: false,
            want: b'u',
            got_term: false,
            state: RunState::Run,
        };
        let ext = |start_time| Extension {
            start_time,
            boot_id: [7; 16],
            readiness: Readiness::NotUsed,
        };
        let rec = ext(500).encode(&st(42).encode());
        assert_eq!(left_running(&rec, Some([7; 16])), Some((42, 500)));
        assert_eq!(left_running(&rec, None), Some((42, 500)));
        assert_eq!(left_running(&rec, Some([8; 16])), None, "another boot");
        assert_eq!(
            left_running(&st(42).encode(), Some([7; 16])),
            None,
            "runit's"
        );
        assert_eq!(left_running(&ext(500).encode(&st(0).encode()), None), None);
        assert_eq!(left_running(&ext(0).encode(&st(42).encode()), None), None);
        assert_eq!(left_running(b"short", None), None);
    }

    #[test]
    fn rejects_short_and_unknown_state() {
        assert!(Status::decode(&[0u8; 19]).is_none());
        let mut b = [0u8; 20];
        b[19] = 7;
        assert!(Status::decode(&b).is_none());
    }

    #[test]
    fn stat_texts_match_runit() {
        assert_eq!(stat_text(RunState::Run, false, false, Want::Up), "run\n");
        assert_eq!(
            stat_text(RunState::Run, true, true, Want::Down),
            "run, paused, got TERM, want down\n"
        );
        assert_eq!(
            stat_text(RunState::Finish, false, false, Want::Exit),
            "finish, want exit\n"
        );
        assert_eq!(
            stat_text(RunState::Down, false, false, Want::Down),
            "down\n"
        );
        assert_eq!(pid_text(0), "");
        assert_eq!(pid_text(42), "42\n");
    }
}
