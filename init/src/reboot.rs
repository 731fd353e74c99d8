//! `reboot`, `poweroff`, `halt` [-d DELAY] [-n] [-f]: ask PID 1 (BusyBox
//! signal conventions), or with -f call reboot(2) at once.

use crate::shutdown::Ending;
use common::errtext::describe;
use common::getopt::{parse_spec, Opt, Spec};
use common::out;
use std::ffi::OsString;

const SPEC: Spec<'static> = Spec {
    flags: "fnw",
    values: "d",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub force: bool,
    pub nosync: bool,
    pub delay: u64,
    pub help: bool,
}

/// The usage of `prog` (reboot, poweroff or halt), one line per option.
pub fn usage(prog: &str) -> String {
    format!(
        "usage: {prog} [-d DELAY] [-n] [-f]\n\
         \x20 -d DELAY  wait DELAY seconds\n\
         \x20 -n        no sync (with -f)\n\
         \x20 -f        reboot(2) now, not through init\n"
    )
}

/// Parse the words after argv[0]; `None` is a usage error.
pub fn parse(words: &[String]) -> Option<Options> {
    let (opts, first) = parse_spec(words, &SPEC).ok()?;
    if first != words.len() {
        return None;
    }
    let mut o = Options::default();
    for opt in opts {
        match opt {
            Opt::Flag('f') => o.force = true,
            Opt::Flag('n') => o.nosync = true,
            Opt::Flag('w') => {}
            Opt::Value('d', v) => o.delay = v.parse().ok()?,
            Opt::Help => o.help = true,
            _ => return None,
        }
    }
    Some(o)
}

pub fn main(args: &[OsString]) -> i32 {
    let prog = common::argv::prog_name(args);
    let Some(ending) = Ending::from_applet(&prog) else {
        out::err("usage: reboot|poweroff|halt [-d DELAY] [-n] [-f]\n");
        return 100;
    };
    let o = match parse(&common::argv::words(args)) {
        Some(o) if o.help => return common::getopt::help(&usage(&prog)),
        Some(o) => o,
        None => {
            out::err(&format!("usage: {prog} [-d DELAY] [-n] [-f]\n"));
            return 100;
        }
    };
    if o.delay > 0 {
        std::thread::sleep(std::time::Duration::from_secs(o.delay));
    }
    if o.force {
        if !o.nosync {
            rustix::fs::sync();
        }
        // on success it does not return
        let e = rustix::system::reboot(ending.reboot_command())
            .err()
            .unwrap_or(rustix::io::Errno::INVAL);
        out::err(&format!("{prog}: {}\n", describe(&e.into())));
        return 111;
    }
    if let Err(e) = common::sig::send(1, ending.signal()) {
        out::err(&format!("{prog}: cannot signal init: {}\n", describe(&e)));
        return 111;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<Options> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn busybox_options() {
        assert_eq!(p(""), Some(Options::default()));
        let o = p("-f -n -d 3").unwrap();
        assert!(o.force && o.nosync);
        assert_eq!(o.delay, 3);
        assert_eq!(p("-fnd5").unwrap().delay, 5);
        assert!(p("-w").is_some());
        assert!(p("--help").unwrap().help);
        for bad in ["-x", "now", "-d", "-d soon", "--force"] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert!(usage("poweroff").starts_with("usage: poweroff "));
    }
}
