//! daemontools' `svc -udopchaitkx DIR...` and `svok DIR`, on top of the same
//! `supervise/` protocol. A bare name is looked up under `$SVDIR` like sv
//! does (so a handler script reaches `fw` with `svc -u fw`), falling back to
//! the current directory as daemontools does.

use crate::sv::{open_fifo, send};
use crate::svargs::{service_path, DEFAULT_SVDIR};
use common::errtext::describe;
use common::getopt::{parse_spec, Opt, Spec};
use common::out;
use std::ffi::OsString;
use std::path::PathBuf;

fn resolve(arg: &str) -> PathBuf {
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let p = service_path(&svdir, arg);
    if !p.exists() && PathBuf::from(arg).exists() {
        return PathBuf::from(arg);
    }
    p
}

const SVC_USAGE: &str = "usage: svc -udopchaitkx service ...\n";
const SVC_HELP: &str = "  -u      up
  -d      down
  -o      once
  -p      STOP
  -c      CONT
  -h      HUP
  -a      ALRM
  -i      INT
  -t      TERM
  -k      KILL
  -x      exit
  -1      USR1
  -2      USR2
  -q      QUIT
  --help  this help
";

const SVC_SPEC: Spec<'static> = Spec {
    flags: "udopchaitkx12q",
    values: "",
    optional: "",
    long: &[],
    unchecked: false,
};

pub fn svc_main(args: &[OsString]) -> i32 {
    let args = common::argv::words(args);
    let Ok((opts, first)) = parse_spec(&args, &SVC_SPEC) else {
        out::err(SVC_USAGE);
        return 100;
    };
    let mut letters = String::new();
    for opt in opts {
        match opt {
            Opt::Flag(c) => letters.push(c),
            _ => return common::getopt::help(&format!("{SVC_USAGE}{SVC_HELP}")),
        }
    }
    if first >= args.len() {
        out::err(SVC_USAGE);
        return 100;
    }
    let mut failed = false;
    for arg in &args[first..] {
        if let Err(e) = send(&resolve(arg), &letters) {
            let why = if e.raw_os_error() == Some(libc::ENXIO) {
                "supervise not running".to_string()
            } else {
                describe(&e)
            };
            out::warn("svc", &format!("unable to control {arg}: {why}"));
            failed = true;
        }
    }
    if failed {
        111
    } else {
        0
    }
}

const SVOK_HELP: &str = "usage: svok dir\n  --help  this help\n";

pub fn svok_main(args: &[OsString]) -> i32 {
    // One word, as runsv reads its own.
    let cli = crate::runsv::cli::parse(args);
    crate::dispatch(cli, SVOK_HELP, "usage: svok dir\n", 100, |o| svok(o.dir))
}

fn svok(arg: OsString) -> i32 {
    let arg = arg.to_string_lossy();
    let dir = resolve(&arg);
    if !dir.is_dir() {
        out::fatal(
            "svok",
            &format!(
                "unable to chdir to {arg}: {}",
                describe(&std::io::Error::from_raw_os_error(libc::ENOENT))
            ),
        );
        return 111;
    }
    match open_fifo(&dir, "ok") {
        Ok(_) => 0,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENXIO) | Some(libc::ENOENT)) => 100,
        Err(e) => {
            out::fatal(
                "svok",
                &format!("unable to open {arg}/supervise/ok: {}", describe(&e)),
            );
            111
        }
    }
}
