//! Numbers from outside (arguments, config files), each with a range and a
//! clear error, so that no deadline computed from one can overflow.

use std::time::Duration;

/// The longest delay or interval any option accepts: one day. Longer waits
/// are not what an embedded box means by a timeout, and a day added to any
/// clock reading cannot overflow.
pub const MAX_SECS: u64 = 86_400;

/// A whole number in `lo..=hi`, or a message that names `what` and the range.
pub fn ranged(what: &str, v: &str, lo: u64, hi: u64) -> Result<u64, String> {
    let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    match v.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ if digits => Err(format!("{what}: {v} is out of range ({lo} to {hi})")),
        _ => Err(format!("{what}: not a number: {v}")),
    }
}

/// Whole seconds in `0..=max`.
pub fn secs(what: &str, v: &str, max: u64) -> Result<Duration, String> {
    ranged(what, v, 0, max).map(Duration::from_secs)
}

/// What `decimal_secs` made of a text.
enum Secs {
    /// Not a number.
    Not,
    /// A number no `Duration` takes: negative, infinite, NaN or too big.
    Out,
    In(Duration),
}

/// A decimal number of seconds in the forms `f64`'s parser takes (`67`,
/// `0.5`, `.5`, `+2`, `1e-3`; `inf` and `NaN` are numbers out of any
/// range), to the nanosecond: digits after the ninth decimal are cut. No
/// floating point, so no float parser in the binary (its tables are 13 KB).
fn decimal_secs(v: &str) -> Secs {
    let (neg, body) = match v.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    if matches!(
        body.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    ) {
        return Secs::Out;
    }
    let (mantissa, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    // the exponent, saturating (far beyond any number of digits one can type)
    let exp = match exp {
        None => 0,
        Some(e) => {
            let (eneg, d) = match e.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, e.strip_prefix('+').unwrap_or(e)),
            };
            if d.is_empty() || !all_digits(d) {
                return Secs::Not;
            }
            let n = d.bytes().fold(0i64, |n, b| {
                n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
            });
            if eneg {
                -n
            } else {
                n
            }
        }
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return Secs::Not;
    }
    let digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    let digits = &digits[zeros..];
    if digits.is_empty() {
        return Secs::In(Duration::ZERO);
    }
    // the decimal point comes after `point` digits of `digits`, whose first
    // is not 0
    let point = i64::try_from(int.len())
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(zeros).unwrap_or(i64::MAX))
        .saturating_add(exp);
    if point > 20 {
        // at least 10^20 seconds
        return Secs::Out;
    }
    if point < -9 {
        // less than a nanosecond: cut to 0
        return Secs::In(Duration::ZERO);
    }
    // the digit at `i` (0: the first), 0 before and after the digits there are
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or(0, |d| u64::from(d - b'0'))
    };
    let mut secs = 0u64;
    for i in 0..point {
        match secs.checked_mul(10).and_then(|s| s.checked_add(digit(i))) {
            Some(s) => secs = s,
            None => return Secs::Out,
        }
    }
    let nanos = (0..9).fold(0u32, |n, k| n * 10 + digit(point.saturating_add(k)) as u32);
    if neg && (secs > 0 || nanos > 0) {
        return Secs::Out;
    }
    Secs::In(Duration::new(secs, nanos))
}

/// `d` in seconds as one writes them: `86400`, `0.001`.
fn show_secs(d: Duration) -> String {
    let frac = format!("{:09}", d.subsec_nanos());
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        d.as_secs().to_string()
    } else {
        format!("{}.{frac}", d.as_secs())
    }
}

/// Seconds with a fraction (`0.5`, `67`) in `min..=max`; rejects `inf`, `NaN`
/// and negative numbers.
pub fn secs_frac(what: &str, v: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    match decimal_secs(v) {
        Secs::In(d) if d >= min && d <= max => Ok(d),
        Secs::In(_) | Secs::Out => Err(format!(
            "{what}: {v} is out of range ({} to {} seconds)",
            show_secs(min),
            show_secs(max)
        )),
        Secs::Not => Err(format!("{what}: not a number of seconds: {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_messages() {
        assert_eq!(ranged("-t", "5", 1, 10), Ok(5));
        assert_eq!(
            ranged("-t", "0", 1, 10).unwrap_err(),
            "-t: 0 is out of range (1 to 10)"
        );
        let huge = "99999999999999999999999";
        assert!(ranged("-t", huge, 1, 10)
            .unwrap_err()
            .contains("out of range"));
        assert_eq!(ranged("-t", "", 1, 10).unwrap_err(), "-t: not a number: ");
        assert!(ranged("-t", "-1", 0, 10)
            .unwrap_err()
            .contains("not a number"));
        assert!(ranged("-t", "é", 0, 10)
            .unwrap_err()
            .contains("not a number"));
        assert_eq!(
            secs("-u", "86400", MAX_SECS),
            Ok(Duration::from_secs(86_400))
        );
        assert!(secs("-u", "86401", MAX_SECS).is_err());
    }

    #[test]
    fn fractions_but_no_infinity() {
        let ten = Duration::from_secs(10);
        let f = |v: &str| secs_frac("--interval", v, Duration::ZERO, ten);
        let one_after_zeros = format!("0.{}1e1001", "0".repeat(1000));
        assert_eq!(f("0.5"), Ok(Duration::from_millis(500)));
        for (v, want) in [
            ("7", Duration::from_secs(7)),
            (".25", Duration::from_millis(250)),
            ("2.", Duration::from_secs(2)),
            ("+1.5", Duration::from_millis(1500)),
            ("1e-3", Duration::from_millis(1)),
            ("0.0015E3", Duration::from_millis(1500)),
            ("5e0", Duration::from_secs(5)),
            ("0.000000001", Duration::from_nanos(1)),
            ("0.0000000019", Duration::from_nanos(1)),
            ("-0", Duration::ZERO),
            ("0e99999999999999999999", Duration::ZERO),
            ("9e-99999999999999999999", Duration::ZERO),
            ("00000000000000000000000000009", Duration::from_secs(9)),
            // the exponent counts against the digits as they are, not cut
            (&one_after_zeros, Duration::from_secs(1)),
            (&format!("0.{}1e1002", "0".repeat(1000)), ten),
            (
                &format!("0.{}1e1001", "0".repeat(1001)),
                Duration::from_millis(100),
            ),
            (
                &format!("{}1e-9", "0".repeat(2000)),
                Duration::from_nanos(1),
            ),
            (
                &format!("1e-{}9", "0".repeat(2000)),
                Duration::from_nanos(1),
            ),
            (
                &format!("{}e-1500", "9".repeat(1500)),
                Duration::from_nanos(999_999_999),
            ),
            ("0.1e-8", Duration::from_nanos(1)),
            ("0.1e-9", Duration::ZERO),
            ("1e-10", Duration::ZERO),
            ("1e-9223372036854775808", Duration::ZERO),
            ("0e9223372036854775808", Duration::ZERO),
            ("-1e-10", Duration::ZERO),
        ] {
            assert_eq!(f(v), Ok(want), "{v}");
        }
        for bad in [
            "inf",
            "-inf",
            "NaN",
            "Infinity",
            "-1",
            "-0.5",
            "1e300",
            "11",
            "10.000000001",
            "99999999999999999999999",
            "1e19",
            "1.0000000001e1",
            "1e9223372036854775808",
            "18446744073709551616",
        ] {
            let e = f(bad).unwrap_err();
            assert!(e.contains("out of range (0 to 10 seconds)"), "{bad}: {e}");
        }
        for bad in [
            "", ".", "+", "-", "e3", "1e", "1e+", "1.5.2", "0x10", "1 ", " 1", "5s", "é",
        ] {
            let e = f(bad).unwrap_err();
            assert!(e.contains("not a number of seconds"), "{bad:?}: {e}");
        }
        let day = |v: &str| secs_frac("-i", v, Duration::ZERO, Duration::from_secs(MAX_SECS));
        let thousand = format!("1{}e-1497", "0".repeat(1500));
        assert_eq!(day(&thousand), Ok(Duration::from_secs(1000)));
        let more = format!("1{}e-1495", "0".repeat(1500));
        assert!(day(&more).unwrap_err().contains("out of range"));
        let max = format!("864{}e-{}", "0".repeat(2000), 1998);
        assert_eq!(day(&max), Ok(Duration::from_secs(MAX_SECS)));
        let u64_max = "18446744073709551615";
        let big = secs_frac("-i", u64_max, Duration::ZERO, Duration::MAX);
        assert_eq!(big, Ok(Duration::from_secs(u64::MAX)));
        let big = secs_frac("-i", "1e20", Duration::ZERO, Duration::MAX);
        assert!(big.unwrap_err().contains("out of range"));
        let e = secs_frac(
            "-i",
            "0",
            Duration::from_millis(1),
            Duration::from_secs(86_400),
        );
        assert_eq!(
            e.unwrap_err(),
            "-i: 0 is out of range (0.001 to 86400 seconds)"
        );
    }
}
