//! `reboot`, `poweroff`, `halt` [-d DELAY] [-n] [-f]: ask PID 1 (BusyBox
//! signal conventions), or with -f call reboot(2) at once.

use crate::shutdown::Ending;
use common::errtext::describe;
use common::getopt::Opt;
use common::out;
use std::ffi::OsString;
use std::path::Path;

pub fn main(args: &[OsString]) -> i32 {
    let prog = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(ending) = Ending::from_applet(&prog) else {
        out::err("usage: reboot|poweroff|halt [-d DELAY] [-n] [-f]\n");
        return 100;
    };
    let usage = || {
        out::err(&format!("usage: {prog} [-d DELAY] [-n] [-f]\n"));
        100
    };
    let (mut force, mut nosync, mut delay) = (false, false, 0u64);
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Ok((opts, first)) = common::getopt::parse(&words, "d") else {
        return usage();
    };
    if first != words.len() {
        return usage();
    }
    for opt in opts {
        match opt {
            Opt::Flag('f') => force = true,
            Opt::Flag('n') => nosync = true,
            Opt::Flag('w') => {}
            Opt::Value(_, v) => match v.parse() {
                Ok(d) => delay = d,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    if delay > 0 {
        std::thread::sleep(std::time::Duration::from_secs(delay));
    }
    if force {
        if !nosync {
            // SAFETY: plain syscall.
            unsafe { libc::sync() };
        }
        // SAFETY: plain syscall; does not return on success.
        unsafe { libc::reboot(ending.reboot_cmd()) };
        let e = std::io::Error::last_os_error();
        out::err(&format!("{prog}: {}\n", describe(&e)));
        return 111;
    }
    // SAFETY: plain syscall.
    if unsafe { libc::kill(1, ending.signal()) } != 0 {
        let e = std::io::Error::last_os_error();
        out::err(&format!("{prog}: cannot signal init: {}\n", describe(&e)));
        return 111;
    }
    0
}
