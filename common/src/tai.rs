//! TAI64N time stamps as daemontools and runit write them: 8 bytes big-endian
//! seconds (Unix seconds + 2^62 + 10), 4 bytes big-endian nanoseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Offset of TAI64 labels from Unix seconds (2^62, plus the 10 s TAI-UTC
/// difference of 1970 that daemontools uses).
pub const TAI64_UNIX_OFFSET: u64 = (1u64 << 62) + 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tai64n {
    pub secs: u64,
    pub nanos: u32,
}

impl Tai64n {
    pub fn from_unix(secs: u64, nanos: u32) -> Self {
        Tai64n {
            secs: secs + TAI64_UNIX_OFFSET,
            nanos,
        }
    }

    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_unix(d.as_secs(), d.subsec_nanos())
    }

    /// Unix seconds (saturating at 0 for labels before 1970).
    pub fn unix_secs(&self) -> u64 {
        self.secs.saturating_sub(TAI64_UNIX_OFFSET)
    }

    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.secs.to_be_bytes());
        b[8..].copy_from_slice(&self.nanos.to_be_bytes());
        b
    }

    pub fn from_bytes(b: &[u8; 12]) -> Self {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tai64n {
            secs: u64::from_be_bytes(s),
            nanos: u32::from_be_bytes(n),
        }
    }

    /// `@` followed by 24 lower-case hex digits, as svlogd's `-t` prints.
    pub fn to_label(self) -> String {
        format!("@{:016x}{:08x}", self.secs, self.nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_value() {
        let t = Tai64n::from_unix(1_700_000_000, 123_456_789);
        assert_eq!(Tai64n::from_bytes(&t.to_bytes()), t);
        // 2^62 + 10 + 1700000000 = 0x400000006553f10a
        assert_eq!(&t.to_bytes()[..8], &0x4000_0000_6553_f10au64.to_be_bytes());
        assert_eq!(t.to_label(), "@400000006553f10a075bcd15");
        assert_eq!(t.unix_secs(), 1_700_000_000);
    }
}
