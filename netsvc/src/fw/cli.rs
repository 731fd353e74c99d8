//! fw's command line, pure: the directories and files it works on, each
//! with its default. Every option takes a value; anything else (an unknown
//! option, a missing value, an operand) is the usage on stderr and exit 100.

use common::getopt::{long, parse_spec, Error, Opt, Spec, Takes};
use std::path::{Path, PathBuf};

pub const USAGE: &str =
    "usage: fw [--conf DIR] [--dynamic DIR] [--run-dir DIR] [--resolv-conf FILE] [--etc DIR]\n";

/// What `--help` prints after `USAGE`: a line per option, its default last.
pub const OPTIONS: &str = "\
  --conf DIR          ipconf files, prefer, forward, firewall.nft (./conf)
  --dynamic DIR       the DHCP clients' ipconf files (/var/run/service/fw)
  --run-dir DIR       applied, up, etc/ templates (.)
  --resolv-conf FILE  resolv.conf to write (/etc/resolv.conf)
  --etc DIR           where etc/ templates are rendered (/etc)
";

/// Where fw reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub conf: PathBuf,
    pub dynamic: PathBuf,
    pub run_dir: PathBuf,
    pub resolv: PathBuf,
    /// where the rendered `etc/` templates go
    pub etc: PathBuf,
}

impl Options {
    /// The defaults, for a service running in `cwd`.
    pub fn defaults(cwd: &Path) -> Options {
        Options {
            conf: cwd.join("conf"),
            dynamic: PathBuf::from("/var/run/service/fw"),
            run_dir: cwd.to_path_buf(),
            resolv: PathBuf::from("/etc/resolv.conf"),
            etc: PathBuf::from("/etc"),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Cmd {
    Run(Options),
    Help,
}

const LONG: &[common::getopt::Long] = &[
    long("conf", Takes::Value),
    long("dynamic", Takes::Value),
    long("run-dir", Takes::Value),
    long("resolv-conf", Takes::Value),
    long("etc", Takes::Value),
];

/// The words after the applet's name; `Err` names the word that is wrong.
pub fn parse(words: &[String], cwd: &Path) -> Result<Cmd, Error> {
    let spec = Spec {
        long: LONG,
        ..Spec::default()
    };
    let (opts, first) = parse_spec(words, &spec)?;
    if let Some(w) = words.get(first) {
        return Err(Error::Unknown(w.clone()));
    }
    let mut o = Options::defaults(cwd);
    for opt in opts {
        match opt {
            Opt::Help => return Ok(Cmd::Help),
            Opt::LongValue("conf", v) => o.conf = v.into(),
            Opt::LongValue("dynamic", v) => o.dynamic = v.into(),
            Opt::LongValue("run-dir", v) => o.run_dir = v.into(),
            Opt::LongValue("resolv-conf", v) => o.resolv = v.into(),
            Opt::LongValue("etc", v) => o.etc = v.into(),
            // parse_spec gives only the options of LONG
            _ => return Err(Error::Unknown(String::new())),
        }
    }
    Ok(Cmd::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    use common::argv::words_of as w;

    #[test]
    fn defaults_and_every_option() {
        let cwd = Path::new("/service/fw");
        assert_eq!(
            parse(&[], cwd),
            Ok(Cmd::Run(Options {
                conf: "/service/fw/conf".into(),
                dynamic: "/var/run/service/fw".into(),
                run_dir: "/service/fw".into(),
                resolv: "/etc/resolv.conf".into(),
                etc: "/etc".into(),
            }))
        );
        let all = w("--conf c --dynamic d --run-dir r --resolv-conf rc --etc e");
        assert_eq!(
            parse(&all, cwd),
            Ok(Cmd::Run(Options {
                conf: "c".into(),
                dynamic: "d".into(),
                run_dir: "r".into(),
                resolv: "rc".into(),
                etc: "e".into(),
            }))
        );
        let Ok(Cmd::Run(o)) = parse(&w("--etc=/tmp/etc --etc /x"), cwd) else {
            panic!()
        };
        assert_eq!(o.etc, PathBuf::from("/x"), "the last one counts");
        assert_eq!(parse(&w("--conf c --help"), cwd), Ok(Cmd::Help));
    }

    #[test]
    fn mistakes_are_errors() {
        let cwd = Path::new("/");
        for bad in ["--conf", "--bogus x", "-c x", "conf", "--etc e extra", "-"] {
            assert!(parse(&w(bad), cwd).is_err(), "{bad}");
        }
    }

    #[test]
    fn help_names_every_option() {
        for l in LONG {
            assert!(USAGE.contains(&format!("[--{} ", l.name)), "{}", l.name);
            assert!(OPTIONS.contains(&format!("--{} ", l.name)), "{}", l.name);
        }
    }
}
