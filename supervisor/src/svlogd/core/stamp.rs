//! Line time stamps: `-t` TAI64N labels, `-tt` `YYYY-MM-DD_HH:MM:SS.xxxxx`,
//! `-ttt` `YYYY-MM-DDTHH:MM:SS.xxxxx` (UTC, five digits of the second).

use common::tai::Tai64n;

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The stamp for `-t` (1), `-tt` (2) or `-ttt` (3), with a trailing space;
/// empty for 0.
pub fn format(kind: u8, unix_secs: u64, nanos: u32) -> String {
    match kind {
        0 => String::new(),
        1 => format!("{} ", Tai64n::from_unix(unix_secs, nanos).to_label()),
        _ => {
            let days = (unix_secs / 86_400) as i64;
            let rem = unix_secs % 86_400;
            let (y, mo, d) = civil_from_days(days);
            let sep = if kind == 2 { '_' } else { 'T' };
            format!(
                "{y:04}-{mo:02}-{d:02}{sep}{:02}:{:02}:{:02}.{:05} ",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60,
                nanos / 10_000
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let t = 1_795_000_000u64;
        let (y, m, d) = civil_from_days((t / 86_400) as i64);
        assert_eq!((y, m, d), (2026, 11, 18));
        assert_eq!(
            format(2, 1_700_000_000, 123_456_789),
            "2023-11-14_22:13:20.12345 "
        );
        assert_eq!(
            format(3, 1_700_000_000, 5_000),
            "2023-11-14T22:13:20.00000 "
        );
        assert_eq!(
            format(1, 1_700_000_000, 123_456_789),
            "@400000006553f10a075bcd15 "
        );
        assert_eq!(format(0, 1, 1), "");
    }
}
