//! svlogd's command line, as runit's svlogd takes it: `svlogd [-tttv]
//! [-r c] [-R abc] [-l len] [-b buflen] dir ...`, a mistake being a line on
//! stderr, the usage and exit code 111. Also the words of the standard
//! logger (`--service`, or `log/run` linked to ferrite): its `./args` and
//! the defaults that complete them. Pure: the shell reads the files.

use super::core::router::LineOpts;
use common::getopt::{self, Opt, Spec};
use std::path::PathBuf;

pub const USAGE: &str = "usage: svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n";

pub const HELP: &str = "\
usage: svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...
  -t         stamp lines: -t TAI64N, -tt YYYY-MM-DD_HH:MM:SS.xxxxx, -ttt ...T...
  -v         verbose (accepted)
  -r c       replace unprintable characters (and those of -R) with c
  -R abc     characters -r replaces too
  -l len     what patterns and UDP see of a line (1-1048576, default 1000)
  -b buflen  longer lines are cut (1-16777216, default 65536, at least len+1)
  --service  the standard logger of NAME/log: -tt /var/log/service/NAME, ./args
  --help     this text
";

const SPEC: Spec<'static> = Spec {
    flags: "tv",
    values: "rRlb",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

/// The largest `./args` the standard logger reads.
pub const MAX_ARGS: u64 = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// -t, -r, -R, -l, -b: how lines are cut, cleaned and stamped.
    pub lines: LineOpts,
    pub verbose: bool,
    pub dirs: Vec<PathBuf>,
    /// The standard logger still runs as root (no user `logger`): a config's
    /// `!processor` is not run, since it would run as root on files that
    /// whoever writes the log directory controls.
    pub refuse_processor: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Help,
}

/// Whether the words ask for the standard logger (`--service` first).
pub fn is_service(words: &[String]) -> bool {
    words.first().is_some_and(|w| w == "--service")
}

/// Parse the words (argv without argv[0]); an error is the line svlogd
/// prints before its usage.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut verbose = false;
    let mut o = LineOpts {
        stamp: 0,
        replace: None,
        replace_set: Vec::new(),
        len: 1000,
        buflen: 64 * 1024,
    };
    let (opts, i) = getopt::parse_spec(args, &SPEC).map_err(|e| e.to_string())?;
    for opt in opts {
        match opt {
            Opt::Help => return Ok(Command::Help),
            Opt::Flag('t') => o.stamp = (o.stamp + 1).min(3),
            Opt::Flag(_) => verbose = true,
            Opt::Value('r', v) => {
                if v.len() != 1 {
                    return Err("-r takes one character".into());
                }
                o.replace = Some(v.as_bytes()[0]);
            }
            Opt::Value('R', v) => o.replace_set = v.into_bytes(),
            // ranged: `o.len + 1` must not overflow, and -b is an allocation
            Opt::Value('l', v) => o.len = common::num::ranged("-l", &v, 1, 1 << 20)? as usize,
            Opt::Value(_, v) => o.buflen = common::num::ranged("-b", &v, 1, 16 << 20)? as usize,
            _ => return Err("unknown option".into()),
        }
    }
    let dirs: Vec<PathBuf> = args[i..].iter().map(PathBuf::from).collect();
    if dirs.is_empty() {
        return Err("no log directory".into());
    }
    o.buflen = o.buflen.max(o.len + 1).max(256);
    Ok(Command::Run(Options {
        lines: o,
        verbose,
        dirs,
        refuse_processor: false,
    }))
}

/// The words of an `./args` file of `bytes`, or why it is ignored: a file
/// that cannot be a list of options and a directory (too big, NUL bytes,
/// not UTF-8, a word longer than a path). A byte-order mark is skipped.
pub fn args_words(bytes: Vec<u8>) -> Result<Vec<String>, String> {
    if bytes.len() as u64 > MAX_ARGS {
        return Err(args_too_big());
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        _ => return Err("./args holds NUL bytes or is not UTF-8: ignored".into()),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let words: Vec<String> = text.split_whitespace().map(String::from).collect();
    if words.iter().any(|w| w.len() > libc::PATH_MAX as usize) {
        return Err("./args has a word longer than a path: ignored".into());
    }
    Ok(words)
}

/// Why an `./args` larger than `MAX_ARGS` is ignored.
pub fn args_too_big() -> String {
    format!("./args is larger than {MAX_ARGS} bytes: ignored")
}

/// The standard logger's words for the service `name`: those after
/// `--service`, then those of `./args`; `-tt` unless a `-t` is there, and
/// `/var/log/service/NAME` unless a directory is.
pub fn service_words(extra: &[String], args: Vec<String>, name: &str) -> Vec<String> {
    let mut words: Vec<String> = extra.to_vec();
    words.extend(args);
    let has_dir = words.iter().any(|w| !w.starts_with('-'));
    if !words.iter().any(|w| w.starts_with("-t")) {
        words.insert(0, "-tt".into());
    }
    if !has_dir {
        words.push(format!("/var/log/service/{name}"));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    use common::argv::words_of as w;

    fn run(s: &str) -> Options {
        match parse(&w(s)) {
            Ok(Command::Run(o)) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn runit_options() {
        let o = run("-tttt -v -r_ -R @# -l 20 -b 100 a b");
        assert!(o.verbose);
        assert_eq!(o.dirs, [PathBuf::from("a"), PathBuf::from("b")]);
        let l = o.lines;
        assert_eq!((l.stamp, l.replace), (3, Some(b'_')));
        assert_eq!((l.replace_set.as_slice(), l.len), (&b"@#"[..], 20));
        assert_eq!(l.buflen, 256, "at least 256");
        assert_eq!(
            run("-l 5000 -b 300 d").lines.buflen,
            5001,
            "at least len + 1"
        );
        assert_eq!(run("d").lines.buflen, 65536);
        assert_eq!(run("-tt d").lines.stamp, 2);
        assert_eq!(parse(&w("--help")), Ok(Command::Help));
        assert_eq!(parse(&w("-t --help d")), Ok(Command::Help));
    }

    #[test]
    fn mistakes_are_named() {
        for (args, msg) in [
            ("-Q d", "unknown option -Q"),
            ("--quux d", "unknown option --quux"),
            ("-l", "option -l needs a value"),
            ("-t", "no log directory"),
            ("-r ab d", "-r takes one character"),
            ("-l 0 d", "-l: 0 is out of range (1 to 1048576)"),
            (
                "-b 99999999999 d",
                "-b: 99999999999 is out of range (1 to 16777216)",
            ),
            ("-l x d", "-l: not a number: x"),
        ] {
            assert_eq!(parse(&w(args)), Err(msg.to_string()), "{args}");
        }
        assert!(USAGE.starts_with("usage: svlogd") && HELP.starts_with(USAGE));
    }

    #[test]
    fn the_standard_loggers_words() {
        assert!(is_service(&w("--service -t")) && !is_service(&w("-t --service")));
        assert_eq!(
            service_words(&[], Vec::new(), "app"),
            w("-tt /var/log/service/app")
        );
        assert_eq!(
            service_words(&w("-t"), w("/logs/x"), "app"),
            w("-t /logs/x"),
            "a -t and a directory of its own"
        );
        // a word that is not an option counts as the directory, even an
        // option's value (then the command line names none: a usage error)
        assert_eq!(service_words(&[], w("-l 80"), "app"), w("-tt -l 80"));
    }

    #[test]
    fn args_files() {
        assert_eq!(
            args_words(b"\xef\xbb\xbf-t\n/x y\n".to_vec()),
            Ok(w("-t /x y"))
        );
        assert_eq!(args_words(Vec::new()), Ok(Vec::new()));
        for bad in [
            b"a\0b".to_vec(),
            b"\xff\xfe".to_vec(),
            vec![b'a'; 5000],
            vec![b' '; MAX_ARGS as usize + 1],
        ] {
            assert!(args_words(bad).unwrap_err().ends_with(": ignored"));
        }
    }
}
