//! The one command-line parser of every applet. Short options as the
//! classic tools take them: `-abc` (flags grouped), `-xVALUE` and `-x VALUE`
//! (letters that take a value), `-aVALUE` for a letter whose value is
//! optional (it must then be glued); long options `--name`, `--name=VALUE`
//! and `--name VALUE`, each either an alias of a letter or one of its own;
//! `--help` always. `--` ends the options, and the first word that is not
//! an option starts the operands. It decodes only: what an option means,
//! its range and the message and exit code of a mistake belong to the
//! applet, which says them as the tool it mimics does (runit's, BusyBox's).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    Flag(char),
    Value(char, String),
    /// a long option of its own, without a value
    Long(&'static str),
    /// a long option of its own, with its value
    LongValue(&'static str, String),
    /// `--help`: print the usage on stdout and exit 0
    Help,
}

/// Does a long option take a value?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    Nothing,
    /// `--name=V` or `--name V`
    Value,
    /// only `--name=V`; `--name` alone is the option without one
    Optional,
}

#[derive(Clone, Copy, Debug)]
pub struct Long {
    pub name: &'static str,
    pub takes: Takes,
    /// the letter it stands for (its options come out as that letter's)
    pub short: Option<char>,
}

/// A long option standing for `short`.
pub const fn alias(name: &'static str, short: char, takes: Takes) -> Long {
    Long {
        name,
        takes,
        short: Some(short),
    }
}

/// A long option of its own.
pub const fn long(name: &'static str, takes: Takes) -> Long {
    Long {
        name,
        takes,
        short: None,
    }
}

/// What an applet accepts. `Spec { long: LONGS, ..Spec::EMPTY }` for one
/// with long options only.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spec<'a> {
    /// letters that are flags
    pub flags: &'a str,
    /// letters that take a value
    pub values: &'a str,
    /// letters whose value is optional: `-a` or `-a500`, never `-a 500`
    pub optional: &'a str,
    pub long: &'a [Long],
    /// every other letter is a flag too, for the applet to judge
    pub unchecked: bool,
}

impl Spec<'static> {
    /// No option at all (`--help` is always there).
    pub const EMPTY: Spec<'static> = Spec {
        flags: "",
        values: "",
        optional: "",
        long: &[],
        unchecked: false,
    };
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// `-q` or `--quux`, as written
    Unknown(String),
    /// an option that needs a value came last
    NeedsValue(String),
    /// `--flag=value` for a long option without one
    NoValueWanted(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unknown(o) => write!(f, "unknown option {o}"),
            Error::NeedsValue(o) => write!(f, "option {o} needs a value"),
            Error::NoValueWanted(o) => write!(f, "option {o} takes no value"),
        }
    }
}

/// Parse the options at the start of `args` (argv without argv[0]) by
/// `spec`. Returns the options in order and the index of the first operand.
pub fn parse_spec(args: &[String], spec: &Spec<'_>) -> Result<(Vec<Opt>, usize), Error> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            return Ok((opts, i + 1));
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            if name == "help" && spec.long.iter().all(|l| l.name != "help") {
                opts.push(Opt::Help);
                i += 1;
                continue;
            }
            let Some(l) = spec.long.iter().find(|l| l.name == name) else {
                return Err(Error::Unknown(format!("--{name}")));
            };
            let value = match (l.takes, inline) {
                (Takes::Nothing, Some(_)) => return Err(Error::NoValueWanted(format!("--{name}"))),
                (Takes::Nothing, None) | (Takes::Optional, None) => None,
                (_, Some(v)) => Some(v),
                (Takes::Value, None) => {
                    i += 1;
                    Some(
                        args.get(i)
                            .cloned()
                            .ok_or_else(|| Error::NeedsValue(format!("--{name}")))?,
                    )
                }
            };
            opts.push(match (l.short, value) {
                (Some(c), Some(v)) => Opt::Value(c, v),
                (Some(c), None) => Opt::Flag(c),
                (None, Some(v)) => Opt::LongValue(l.name, v),
                (None, None) => Opt::Long(l.name),
            });
            i += 1;
            continue;
        }
        let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
            break;
        };
        let mut chars = letters.chars();
        while let Some(c) = chars.next() {
            let rest = chars.as_str();
            if spec.values.contains(c) {
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| Error::NeedsValue(format!("-{c}")))?
                } else {
                    rest.to_string()
                };
                opts.push(Opt::Value(c, value));
                break;
            }
            if spec.optional.contains(c) {
                opts.push(if rest.is_empty() {
                    Opt::Flag(c)
                } else {
                    Opt::Value(c, rest.to_string())
                });
                break;
            }
            if !spec.unchecked && !spec.flags.contains(c) {
                return Err(Error::Unknown(format!("-{c}")));
            }
            opts.push(Opt::Flag(c));
        }
        i += 1;
    }
    Ok((opts, i))
}

/// The older form: `with_value` lists the letters that take a value, and
/// every other letter is a flag (each applet rejects the ones it does not
/// know). `--help` is `Opt::Help`; other long options are errors.
pub fn parse(args: &[String], with_value: &str) -> Result<(Vec<Opt>, usize), String> {
    let spec = Spec {
        values: with_value,
        unchecked: true,
        ..Spec::default()
    };
    parse_spec(args, &spec).map_err(|e| e.to_string())
}

/// Print `usage` (the applet's usage line and a line per option) on
/// stdout, as `--help` wants; exit code 0.
pub fn help(usage: &str) -> i32 {
    let _ = crate::out::out(usage);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::argv::words_of as w;

    #[test]
    fn grouped_flags_and_values() {
        let (o, i) = parse(&w("-tt -r_ -l 20 -vb512 dir1 -x"), "rRlb").unwrap();
        assert_eq!(
            o,
            [
                Opt::Flag('t'),
                Opt::Flag('t'),
                Opt::Value('r', "_".into()),
                Opt::Value('l', "20".into()),
                Opt::Flag('v'),
                Opt::Value('b', "512".into())
            ]
        );
        assert_eq!(i, 5, "operands start at dir1; later dashes are operands");
        let (o, i) = parse(&w("-a -- -b"), "").unwrap();
        assert_eq!((o, i), (vec![Opt::Flag('a')], 2));
        assert!(parse(&w("-l"), "l").is_err());
        assert_eq!(
            parse(&w("- x"), "").unwrap().1,
            0,
            "a lone dash is an operand"
        );
        assert_eq!(parse(&w("-é"), "").unwrap().0, [Opt::Flag('é')]);
        assert_eq!(parse(&w("--help"), "").unwrap().0, [Opt::Help]);
        assert!(parse(&w("--what"), "").is_err());
    }

    const LONGS: &[Long] = &[
        alias("interface", 'i', Takes::Value),
        alias("arping", 'a', Takes::Optional),
        alias("quit", 'q', Takes::Nothing),
        long("state-dir", Takes::Value),
        long("apply", Takes::Nothing),
    ];
    const SPEC: Spec<'static> = Spec {
        flags: "fq",
        values: "it",
        optional: "a",
        long: LONGS,
        ..Spec::EMPTY
    };

    #[test]
    fn long_options_optional_values_and_help() {
        let (o, i) = parse_spec(
            &w("-fq -ieth0 -a -a500 --interface=wlan0 --interface eth1 --arping --arping=300 --state-dir /s --apply --help x"),
            &SPEC,
        )
        .unwrap();
        assert_eq!(
            o,
            [
                Opt::Flag('f'),
                Opt::Flag('q'),
                Opt::Value('i', "eth0".into()),
                Opt::Flag('a'),
                Opt::Value('a', "500".into()),
                Opt::Value('i', "wlan0".into()),
                Opt::Value('i', "eth1".into()),
                Opt::Flag('a'),
                Opt::Value('a', "300".into()),
                Opt::LongValue("state-dir", "/s".into()),
                Opt::Long("apply"),
                Opt::Help,
            ]
        );
        assert_eq!(i, 13);
        // -a's value is never the next word
        let (o, i) = parse_spec(&w("-a 500"), &SPEC).unwrap();
        assert_eq!((o, i), (vec![Opt::Flag('a')], 1));
    }

    #[test]
    fn mistakes_are_named() {
        let e = |s: &str| parse_spec(&w(s), &SPEC).unwrap_err().to_string();
        assert_eq!(e("-x"), "unknown option -x");
        assert_eq!(e("-fé"), "unknown option -é");
        assert_eq!(e("--bogus"), "unknown option --bogus");
        assert_eq!(e("-i"), "option -i needs a value");
        assert_eq!(e("--state-dir"), "option --state-dir needs a value");
        assert_eq!(e("--apply=yes"), "option --apply takes no value");
    }
}
