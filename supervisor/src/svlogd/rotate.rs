//! Rotation and retention policy, pure: when `current` must be rotated and
//! which old files go.

use super::config::Config;
use common::tai::Tai64n;

/// Appending `add` bytes to a non-empty `current` of `len` bytes would pass `s`.
pub fn by_size(cfg: &Config, len: u64, add: u64) -> bool {
    cfg.size > 0 && len > 0 && len.saturating_add(add) > cfg.size
}

/// A non-empty `current` is `age` seconds old and `t` is set.
pub fn by_age(cfg: &Config, len: u64, age_secs: u64) -> bool {
    cfg.timeout > 0 && len > 0 && age_secs >= cfg.timeout
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
        assert!(!by_size(
            &Config {
                size: u64::MAX,
                ..Config::default()
            },
            u64::MAX,
            u64::MAX
        ));
    }

    #[test]
    fn size_and_age() {
        let c = Config {
            size: 100,
            timeout: 60,
            ..Config::default()
        };
        assert!(!by_size(&c, 0, 500), "an empty current takes any line");
        assert!(!by_size(&c, 50, 50));
        assert!(by_size(&c, 50, 51));
        assert!(!by_size(
            &Config {
                size: 0,
                ..c.clone()
            },
            1 << 40,
            1
        ));
        assert!(by_age(&c, 1, 60));
        assert!(!by_age(&c, 0, 600));
        assert!(!by_age(&c, 1, 59));
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
