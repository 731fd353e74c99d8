//! ferrite: one static multi-call binary. The applet is the base name of
//! argv[0] (`runsv`, `sv`, ... as symlinks) or the first argument
//! (`ferrite sv status getty_ttyS0`). This file only dispatches.

use common::Applet;
use std::ffi::OsString;
use std::path::Path;

const APPLETS: &[Applet] = &[
    Applet {
        name: "chpst",
        main: supervisor::chpst::main,
        help: "run a program with a changed process state",
    },
    Applet {
        name: "envdir",
        main: supervisor::chpst::main,
        help: "run a program with environment from a directory",
    },
    Applet {
        name: "envuidgid",
        main: supervisor::chpst::main,
        help: "run a program with $UID and $GID of a user",
    },
    Applet {
        name: "pgrphack",
        main: supervisor::chpst::main,
        help: "run a program in a new session",
    },
    Applet {
        name: "runsv",
        main: supervisor::runsv::main,
        help: "supervise one service directory",
    },
    Applet {
        name: "runsvdir",
        main: supervisor::runsvdir::main,
        help: "start and watch a runsv per service directory",
    },
    Applet {
        name: "setlock",
        main: supervisor::chpst::main,
        help: "run a program holding a lock file",
    },
    Applet {
        name: "setuidgid",
        main: supervisor::chpst::main,
        help: "run a program as another user",
    },
    Applet {
        name: "softlimit",
        main: supervisor::chpst::main,
        help: "run a program with resource limits",
    },
    Applet {
        name: "sv",
        main: supervisor::sv::main,
        help: "control and query supervised services",
    },
    Applet {
        name: "svc",
        main: supervisor::svc::svc_main,
        help: "daemontools-style service control",
    },
    Applet {
        name: "svok",
        main: supervisor::svc::svok_main,
        help: "exit 0 when a supervisor runs in a directory",
    },
];

fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name == name)
}

fn usage() -> i32 {
    common::out::err(
        "usage: ferrite APPLET [ARGS...]\n       ferrite --list\n       ferrite --install DIR\n",
    );
    100
}

/// `ferrite --install DIR`: a symlink per applet, pointing at this binary.
fn install(dir: &Path) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            common::out::fatal("ferrite", &format!("cannot find own path: {e}"));
            return 111;
        }
    };
    let mut rc = 0;
    for a in APPLETS {
        let link = dir.join(a.name);
        let _ = std::fs::remove_file(&link);
        if let Err(e) = std::os::unix::fs::symlink(&exe, &link) {
            common::out::warn("ferrite", &format!("cannot create {}: {e}", link.display()));
            rc = 111;
        }
    }
    rc
}

fn dispatch(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_default();
    let base = Path::new(&argv0)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(a) = find(&base) {
        return (a.main)(&args);
    }
    // Called as ferrite (or an unknown name): the applet is the first argument.
    let Some(first) = args.get(1).map(|s| s.to_string_lossy().into_owned()) else {
        return usage();
    };
    match first.as_str() {
        "--list" => {
            let list: String = APPLETS.iter().map(|a| format!("{}\n", a.name)).collect();
            common::out::out(&list);
            0
        }
        "--help" | "-h" => {
            let list: String = APPLETS
                .iter()
                .map(|a| format!("  {:<12} {}\n", a.name, a.help))
                .collect();
            common::out::out(&format!(
                "ferrite: init, supervision and network stack in one binary\n\
                 usage: ferrite APPLET [ARGS...] | ferrite --list | ferrite --install DIR\n\napplets:\n{list}"
            ));
            0
        }
        "--install" => match args.get(2) {
            Some(d) => install(Path::new(d)),
            None => usage(),
        },
        name => match find(name) {
            Some(a) => (a.main)(&args[1..]),
            None => {
                common::out::err(&format!("ferrite: unknown applet: {name}\n"));
                usage()
            }
        },
    }
}

fn main() {
    let code = dispatch(std::env::args_os().collect());
    std::process::exit(code);
}
