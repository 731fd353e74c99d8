//! A log directory's `config` file, parsed without touching the OS. Unknown
//! or malformed lines produce warnings and leave the defaults in force.

use std::net::SocketAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Select {
    /// `+pattern`: write to the log
    Log,
    /// `-pattern`: do not write to the log
    NoLog,
    /// `epattern`: also print to stderr
    Err,
    /// `Epattern`: do not print to stderr
    NoErr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Rotate when `current` would grow past this many bytes; 0 = never.
    pub size: u64,
    /// Keep at most this many old files; 0 = keep all.
    pub num: usize,
    /// On a full disk, delete old files while more than this many remain; None = never.
    pub min: Option<usize>,
    /// Rotate a non-empty `current` this old (seconds); 0 = never.
    pub timeout: u64,
    pub processor: Option<String>,
    /// UDP destination, and whether the log directory still gets the line (`u`) or not (`U`).
    pub udp: Option<(SocketAddr, bool)>,
    pub prefix: Vec<u8>,
    pub patterns: Vec<(Select, Vec<u8>)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 1_000_000,
            num: 10,
            min: None,
            timeout: 0,
            processor: None,
            udp: None,
            prefix: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

fn udp_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = match s.split_once(':') {
        Some((ip, p)) => (ip, p.parse().ok()?),
        None => (s, 514),
    };
    Some(SocketAddr::new(ip.parse().ok()?, port))
}

/// The largest `t` accepted: about 136 years, far past any box's life, and
/// small enough that a deadline computed from it cannot overflow.
pub const MAX_TIMEOUT: u64 = u32::MAX as u64;

/// Parse `config`; returns the configuration and one warning per bad line.
pub fn parse(text: &str) -> (Config, Vec<String>) {
    let mut c = Config::default();
    let mut warnings = Vec::new();
    // Editors write a UTF-8 byte-order mark; it is not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        // The directive is the first character, whatever its width.
        let mut chars = line.chars();
        let Some(first) = chars.next() else { continue };
        if first == '#' {
            continue;
        }
        let v = chars.as_str();
        let mut key = [0u8; 4];
        let k: &str = first.encode_utf8(&mut key);
        let ok = match k {
            "s" => v.trim().parse().map(|n| c.size = n).is_ok(),
            "n" => v.trim().parse().map(|n| c.num = n).is_ok(),
            "N" => v.trim().parse().map(|n| c.min = Some(n)).is_ok(),
            "t" => match v.trim().parse::<u64>() {
                Ok(n) if n <= MAX_TIMEOUT => {
                    c.timeout = n;
                    true
                }
                _ => false,
            },
            "!" => {
                c.processor = (!v.is_empty()).then(|| v.to_string());
                true
            }
            "u" | "U" => match udp_addr(v.trim()) {
                Some(a) => {
                    c.udp = Some((a, k == "u"));
                    true
                }
                None => false,
            },
            "p" => {
                c.prefix = v.as_bytes().to_vec();
                true
            }
            "+" | "-" | "e" | "E" => {
                let sel = match k {
                    "+" => Select::Log,
                    "-" => Select::NoLog,
                    "e" => Select::Err,
                    _ => Select::NoErr,
                };
                c.patterns.push((sel, v.as_bytes().to_vec()));
                true
            }
            _ => false,
        };
        if !ok {
            warnings.push(format!("config line {}: ignored: {line}", i + 1));
        }
    }
    (c, warnings)
}

/// Where a line goes: (to the log directory, to stderr). The last matching
/// pattern of each kind decides; `len` limits what patterns see.
pub fn route(patterns: &[(Select, Vec<u8>)], line: &[u8], len: usize) -> (bool, bool) {
    let text = &line[..line.len().min(len)];
    let (mut log, mut err) = (true, false);
    for (sel, pat) in patterns {
        if super::pattern::matches(pat, text) {
            match sel {
                Select::Log => log = true,
                Select::NoLog => log = false,
                Select::Err => err = true,
                Select::NoErr => err = false,
            }
        }
    }
    (log, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config() {
        let (c, w) = parse(
            "# comment\n\ns4096\nn5\nN2\nt60\n!gzip\nu127.0.0.1:5140\npsvc: \n-*debug*\n+*debug: keep*\ne*error*\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!((c.size, c.num, c.min, c.timeout), (4096, 5, Some(2), 60));
        assert_eq!(c.processor.as_deref(), Some("gzip"));
        assert_eq!(c.udp, Some(("127.0.0.1:5140".parse().unwrap(), true)));
        assert_eq!(c.prefix, b"svc: ");
        assert_eq!(c.patterns.len(), 3);
        let (c2, _) = parse("U10.0.0.1\n");
        assert_eq!(c2.udp, Some(("10.0.0.1:514".parse().unwrap(), false)));
    }

    #[test]
    fn a_byte_order_mark_and_non_ascii_lines_do_not_abort() {
        // Regression: `split_at(1)` on a line that starts with a multi-byte
        // character aborted the logger, and its service blocked on stdout.
        let (c, w) = parse("\u{feff}s4096\né\n\u{feff}n3\n€x\nn4\n");
        assert_eq!(c.size, 4096, "the BOM is not part of the first line");
        assert_eq!(c.num, 4);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("line 2") && w[0].contains('é'));
    }

    #[test]
    fn a_timeout_too_large_for_a_deadline_is_refused() {
        let (c, w) = parse("t18446744073709551615\n");
        assert_eq!((c.timeout, w.len()), (0, 1), "{w:?}");
        let (c, w) = parse(&format!("t{MAX_TIMEOUT}\n"));
        assert_eq!((c.timeout, w.len()), (MAX_TIMEOUT, 0));
    }

    #[test]
    fn unknown_and_malformed_lines_warn_and_keep_defaults() {
        let (c, w) = parse("sbig\nx42\nuhost:port\nn3\n");
        assert_eq!(w.len(), 3);
        assert!(w[0].contains("line 1") && w[0].contains("sbig"));
        assert_eq!(c.size, 1_000_000);
        assert_eq!(c.num, 3);
        assert_eq!(c.udp, None);
    }

    #[test]
    fn routing() {
        let (c, _) = parse("-*debug*\n+*debug: keep*\ne*error*\n");
        assert_eq!(route(&c.patterns, b"app debug x", 1000), (false, false));
        assert_eq!(
            route(&c.patterns, b"app debug: keep this", 1000),
            (true, false)
        );
        assert_eq!(route(&c.patterns, b"an error here", 1000), (true, true));
        assert_eq!(route(&c.patterns, b"plain", 1000), (true, false));
        // patterns see only the first len characters
        assert_eq!(route(&c.patterns, b"an error here", 4), (true, false));
    }
}
