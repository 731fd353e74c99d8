//! Rotation and retention policy, pure: when `current` must be rotated and
//! which old files go.

use super::Now;
use common::tai::Tai64n;
use std::time::Duration;

/// Appending `add` bytes to a non-empty `current` of `len` bytes would pass
/// `size` (the config's `s`; 0 = never).
pub fn by_size(size: u64, len: u64, add: u64) -> bool {
    size > 0 && len > 0 && len.saturating_add(add) > size
}

/// A non-empty `current` is `age_secs` old and `timeout` (the config's `t`;
/// 0 = never) has passed.
pub fn by_age(timeout: u64, len: u64, age_secs: u64) -> bool {
    timeout > 0 && len > 0 && age_secs >= timeout
}

/// An old log file: `@` + 24 hex digits + `.s`, `.u` (or `.t` being processed).
pub fn is_old_log(name: &str) -> bool {
    // Bytes, not str slices: any name can be in the directory.
    let b = name.as_bytes();
    b.len() == 27
        && b[0] == b'@'
        && b[1..25].iter().all(u8::is_ascii_hexdigit)
        && matches!(&b[25..], b".s" | b".u")
}

/// The name of a rotated file.
pub fn rotated_name(t: Tai64n, processed: bool) -> String {
    format!("{}.{}", t.to_label(), if processed { 's' } else { 'u' })
}

/// When a `current` last modified at `mtime` (wall clock) was started, on
/// the monotonic clock: `now` less its age. An age longer than the
/// monotonic clock goes back (a file older than this boot) counts from now.
pub fn started(now: Now, mtime: Option<Duration>) -> Duration {
    let age = mtime.map_or(Duration::ZERO, |m| now.wall.saturating_sub(m));
    now.mono.checked_sub(age).unwrap_or(now.mono)
}

/// When a `current` started at `started` (monotonic) and `len` bytes long
/// is due for rotation by age; None without `t` or when it is empty.
pub fn age_deadline(cfg_timeout: u64, len: u64, started: Duration) -> Option<Duration> {
    (cfg_timeout > 0 && len > 0).then(|| started.saturating_add(Duration::from_secs(cfg_timeout)))
}

/// The time in the name of a file rotated at `now`: later than `last`, the
/// previous one of the directory, so that names sort in rotation order even
/// when several rotations share a clock reading or the clock went back.
pub fn name_time(now: Now, last: Option<Tai64n>) -> Tai64n {
    let t = Tai64n::from_unix(now.wall.as_secs(), now.wall.subsec_nanos());
    match last {
        Some(l) if t <= l => {
            if l.nanos >= 999_999_999 {
                Tai64n {
                    secs: l.secs.saturating_add(1),
                    nanos: 0,
                }
            } else {
                Tai64n {
                    secs: l.secs,
                    nanos: l.nanos + 1,
                }
            }
        }
        _ => t,
    }
}

/// Old files to delete so that at most `keep` remain (oldest first; names
/// sort by time). `keep` 0 keeps everything.
pub fn excess(mut old: Vec<String>, keep: usize) -> Vec<String> {
    if keep == 0 || old.len() <= keep {
        return Vec::new();
    }
    old.sort();
    let n = old.len() - keep;
    old.truncate(n);
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_name_in_the_directory_is_safe() {
        // Regression: byte-index slicing aborted on a 27-byte name whose
        // byte 1 or 25 is inside a multi-byte character.
        assert!(!is_old_log("@é0000000000000000000000.s"));
        assert!(!is_old_log("@40000000000000000000000é."));
        assert!(is_old_log("@400000005f5e10000000000a.s"));
        assert!(!by_size(u64::MAX, u64::MAX, u64::MAX));
    }

    #[test]
    fn size_and_age() {
        assert!(!by_size(100, 0, 500), "an empty current takes any line");
        assert!(!by_size(100, 50, 50));
        assert!(by_size(100, 50, 51));
        assert!(!by_size(0, 1 << 40, 1));
        assert!(by_age(60, 1, 60));
        assert!(!by_age(60, 0, 600));
        assert!(!by_age(60, 1, 59));
        assert!(!by_age(0, 1, u64::MAX));
    }

    #[test]
    fn ages_and_names_on_virtual_time() {
        let now = Now {
            mono: Duration::from_secs(100),
            wall: Duration::from_secs(1_700_000_000),
        };
        let ten_ago = Some(Duration::from_secs(1_700_000_000 - 10));
        assert_eq!(started(now, ten_ago), Duration::from_secs(90));
        assert_eq!(started(now, None), now.mono);
        // older than the boot, or from the future: counts from now
        assert_eq!(started(now, Some(Duration::from_secs(5))), now.mono);
        assert_eq!(started(now, Some(Duration::MAX)), now.mono);
        assert_eq!(
            age_deadline(60, 1, Duration::from_secs(90)),
            Some(Duration::from_secs(150))
        );
        assert_eq!(age_deadline(60, 0, Duration::from_secs(90)), None);
        assert_eq!(age_deadline(0, 1, Duration::from_secs(90)), None);
        assert!(
            age_deadline(u64::MAX, 1, Duration::MAX).is_some(),
            "no overflow"
        );
        let t = name_time(now, None);
        assert_eq!(t, Tai64n::from_unix(1_700_000_000, 0));
        let t2 = name_time(now, Some(t));
        assert_eq!(
            (t2.secs, t2.nanos),
            (t.secs, 1),
            "same reading: one ns later"
        );
        let late = Tai64n {
            secs: t.secs + 5,
            nanos: 999_999_999,
        };
        assert_eq!(
            name_time(now, Some(late)),
            Tai64n {
                secs: t.secs + 6,
                nanos: 0
            },
            "the clock went back"
        );
        assert_eq!(name_time(now, Some(Tai64n { secs: 0, nanos: 0 })), t);
    }

    #[test]
    fn retention() {
        let old: Vec<String> = [
            "@400000000000000300000000.s",
            "@400000000000000100000000.s",
            "@400000000000000200000000.u",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(old.iter().all(|n| is_old_log(n)));
        assert_eq!(excess(old.clone(), 2), ["@400000000000000100000000.s"]);
        assert!(excess(old.clone(), 0).is_empty());
        assert!(excess(old, 3).is_empty());
        assert!(!is_old_log("current"));
        assert!(!is_old_log("@400000000000000100000000.t"));
        assert_eq!(
            rotated_name(
                Tai64n {
                    secs: 1 << 62,
                    nanos: 1
                },
                true
            ),
            "@400000000000000000000001.s"
        );
    }
}
