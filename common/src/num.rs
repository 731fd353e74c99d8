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

/// Seconds with a fraction (`0.5`, `67`) in `min..=max`; rejects `inf`, `NaN`
/// and negative numbers, which `Duration::from_secs_f64` would abort on.
pub fn secs_f64(what: &str, v: &str, min: f64, max: f64) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= min && s <= max => Ok(Duration::from_secs_f64(s)),
        Ok(_) => Err(format!(
            "{what}: {v} is out of range ({min} to {max} seconds)"
        )),
        Err(_) => Err(format!("{what}: not a number of seconds: {v}")),
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
        assert_eq!(
            secs_f64("--interval", "0.5", 0.0, 10.0),
            Ok(Duration::from_millis(500))
        );
        for bad in ["inf", "-inf", "NaN", "-1", "1e300", "11"] {
            assert!(secs_f64("--interval", bad, 0.0, 10.0).is_err(), "{bad}");
        }
    }
}
