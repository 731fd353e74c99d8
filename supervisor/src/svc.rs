//! daemontools' `svc -udopchaitkx DIR...` and `svok DIR`, on top of the same
//! `supervise/` protocol. A bare name is looked up under `$SVDIR` like sv
//! does (so a handler script reaches `fw` with `svc -u fw`), falling back to
//! the current directory as daemontools does.

use crate::sv::{open_fifo, send};
use crate::svargs::{service_path, DEFAULT_SVDIR};
use common::errtext::describe;
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

pub fn svc_main(args: &[OsString]) -> i32 {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut letters = String::new();
    let mut i = 1;
    while i < args.len() && args[i].starts_with('-') && args[i].len() > 1 {
        if args[i] == "--" {
            i += 1;
            break;
        }
        for c in args[i][1..].chars() {
            if !"udopchaitkx12q".contains(c) {
                out::err("usage: svc -udopchaitkx service ...\n");
                return 100;
            }
            letters.push(c);
        }
        i += 1;
    }
    if i >= args.len() {
        out::err("usage: svc -udopchaitkx service ...\n");
        return 100;
    }
    let mut failed = false;
    for arg in &args[i..] {
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

pub fn svok_main(args: &[OsString]) -> i32 {
    if args.len() != 2 {
        out::err("usage: svok dir\n");
        return 100;
    }
    let arg = args[1].to_string_lossy();
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
