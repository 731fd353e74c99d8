//! getty's command line, pure: BusyBox's options and operands, and the
//! words a `getty_TTY/run` link makes of its `./args` file.

use common::getopt::{parse_spec, Opt, Spec};

pub const USAGE_LINE: &str =
    "usage: getty [-iLhn] [-l LOGIN] [-f ISSUE] [-H HOST] [-I INIT] [-t SEC] [-a USER] BAUD TTY [TERM]\n";

/// What `--help` prints after [`USAGE_LINE`]: a line per option.
pub const OPTIONS: &str = "\
\x20 -i        no issue file\n\
\x20 -L        local line (CLOCAL)\n\
\x20 -h        hardware flow control (CRTSCTS)\n\
\x20 -n        no login name prompt\n\
\x20 -l LOGIN  login program (/bin/login)\n\
\x20 -f ISSUE  issue file (/etc/issue)\n\
\x20 -H HOST   login -h HOST\n\
\x20 -I INIT   sent to the tty first\n\
\x20 -t SEC    prompt timeout\n\
\x20 -a USER   login -f USER, no prompt\n";

/// BusyBox's letters; each in `values` takes a value.
pub const SPEC: Spec<'static> = Spec {
    flags: "iLhnmw",
    values: "lfHIta",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub no_issue: bool,
    pub local: bool,
    pub hw_flow: bool,
    pub no_prompt: bool,
    pub login: Option<String>,
    pub issue: Option<String>,
    pub host: Option<String>,
    pub init: Option<String>,
    pub timeout: Option<u64>,
    pub autologin: Option<String>,
    pub baud: Option<u32>,
    pub tty: Option<String>,
    pub term: Option<String>,
    pub help: bool,
}

/// Parse BusyBox getty's arguments (without argv[0]).
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let (opts, first) = parse_spec(args, &SPEC).map_err(|e| e.to_string())?;
    for opt in opts {
        match opt {
            Opt::Value('l', v) => o.login = Some(v),
            Opt::Value('f', v) => o.issue = Some(v),
            Opt::Value('H', v) => o.host = Some(v),
            Opt::Value('I', v) => o.init = Some(v),
            Opt::Value('t', v) => {
                o.timeout = Some(v.parse().map_err(|_| format!("bad timeout: {v}"))?)
            }
            Opt::Value(_, v) => o.autologin = Some(v),
            Opt::Flag('i') => o.no_issue = true,
            Opt::Flag('L') => o.local = true,
            Opt::Flag('h') => o.hw_flow = true,
            Opt::Flag('n') => o.no_prompt = true,
            Opt::Flag('m' | 'w') => {}
            Opt::Help => o.help = true,
            _ => return Err("unknown option".into()),
        }
    }
    let positional = &args[first..];
    // BAUD[,BAUD...] TTY [TERM], or TTY BAUD [TERM]
    let speed = |s: &str| s.split(',').next().and_then(|b| b.parse::<u32>().ok());
    match positional.len() {
        0 => {}
        1 => match speed(&positional[0]) {
            Some(b) => o.baud = Some(b),
            None => o.tty = Some(positional[0].clone()),
        },
        _ => {
            if let Some(b) = speed(&positional[0]) {
                o.baud = Some(b);
                o.tty = Some(positional[1].clone());
            } else if let Some(b) = speed(&positional[1]) {
                o.tty = Some(positional[0].clone());
                o.baud = Some(b);
            } else {
                return Err(format!("bad speed: {}", positional[0]));
            }
            o.term = positional.get(2).cloned();
        }
    }
    Ok(o)
}

/// The command line of `getty_TTY/run`: the options and optional
/// `[BAUD] [TERM]` of the `args` file, with the tty from the directory name.
pub fn service_words(args_file: &str, tty: &str) -> Vec<String> {
    let words: Vec<String> = args_file.split_whitespace().map(String::from).collect();
    // Options end at the first word that is neither an option nor an option's value.
    let mut i = 0;
    while i < words.len() && words[i].starts_with('-') {
        let w = &words[i];
        let takes_value = w.len() == 2 && SPEC.values.contains(&w[1..]);
        i += if takes_value { 2 } else { 1 };
    }
    let i = i.min(words.len());
    let mut out = words[..i].to_vec();
    let rest = &words[i..];
    let (baud, term) = match rest.first() {
        Some(b)
            if b.split(',')
                .next()
                .is_some_and(|x| x.parse::<u32>().is_ok()) =>
        {
            (b.clone(), rest.get(1))
        }
        _ => ("115200".to_string(), rest.first()),
    };
    out.push(baud);
    out.push(tty.to_string());
    out.extend(term.cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Options, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn busybox_command_lines() {
        let o = p("-L 115200 ttyS0 vt100").unwrap();
        assert!(o.local);
        assert_eq!(
            (o.baud, o.tty.as_deref(), o.term.as_deref()),
            (Some(115200), Some("ttyS0"), Some("vt100"))
        );
        let o = p("ttyS1 9600").unwrap();
        assert_eq!((o.baud, o.tty.as_deref()), (Some(9600), Some("ttyS1")));
        let o = p("-a root -l /bin/sh -t60 -f /etc/issue.net 38400,9600 tty1").unwrap();
        assert_eq!(o.autologin.as_deref(), Some("root"));
        assert_eq!(o.login.as_deref(), Some("/bin/sh"));
        assert_eq!(o.timeout, Some(60));
        assert_eq!(o.issue.as_deref(), Some("/etc/issue.net"));
        assert_eq!(o.baud, Some(38400));
        assert!(p("-Z 9600 tty1").is_err());
        assert!(p("fast tty1").is_err());
        assert!(p("-t").is_err());
    }

    #[test]
    fn service_mode_takes_the_tty_from_the_directory() {
        let w = service_words("-L 115200 vt100\n", "ttyS0");
        assert_eq!(w, ["-L", "115200", "ttyS0", "vt100"]);
        let o = parse(&w).unwrap();
        assert_eq!(
            (o.tty.as_deref(), o.baud, o.term.as_deref()),
            (Some("ttyS0"), Some(115200), Some("vt100"))
        );
        assert_eq!(service_words("", "tty1"), ["115200", "tty1"]);
        assert_eq!(
            service_words("-a root -l /bin/sh linux", "ttyAMA0"),
            ["-a", "root", "-l", "/bin/sh", "115200", "ttyAMA0", "linux"]
        );
    }

    #[test]
    fn help_and_named_mistakes() {
        assert!(p("--help").unwrap().help);
        assert_eq!(p("-Z 9600 tty1").unwrap_err(), "unknown option -Z");
        assert_eq!(p("-t").unwrap_err(), "option -t needs a value");
        assert_eq!(p("--bogus").unwrap_err(), "unknown option --bogus");
    }
}
