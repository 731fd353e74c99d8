//! ferrite: one static multi-call binary. The applet is the base name of
//! argv[0] (`runsv`, `sv`, ... as symlinks) or the first argument
//! (`ferrite sv status getty_ttyS0`). This file only dispatches.

use common::Applet;
use std::ffi::OsString;
use std::path::Path;

const fn applet(name: &'static str, main: common::AppletMain, help: &'static str) -> Applet {
    Applet { name, main, help }
}

/// Sorted by name.
#[rustfmt::skip]
const APPLETS: &[Applet] = &[
    applet("chpst", supervisor::chpst::main, "run a program with a changed process state"),
    applet("dhcp", netsvc::dhcp::native_main, "DHCP client that needs no shell (ipconf + fw)"),
    applet("dhcp6", netsvc::dhcp6::main, "DHCPv6 client that needs no shell (ipconf + fw)"),
    applet("envdir", supervisor::chpst::main, "run a program with environment from a directory"),
    applet("envuidgid", supervisor::chpst::main, "run a program with $UID and $GID of a user"),
    applet("factory-reset", init::factory_reset::main, "the next boot gives /etc back as the disk image has it"),
    applet("fw", netsvc::fw::main, "one-shot network configuration from ipconf files"),
    applet("getty", init::getty::main, "open a tty, ask for a login name, run login"),
    applet("halt", init::reboot::main, "halt the machine (via init, or -f now)"),
    applet("ifplugd", netsvc::ifplugd::main, "act on cable plug and unplug (netlink events)"),
    applet("init", init::pid1::main, "PID 1: boot, supervise, shut down"),
    applet("modprobe", init::modprobe::main, "load a kernel module and what it needs (kmod's command line)"),
    applet("odhcp6c", netsvc::dhcp6::odhcp6c_main, "DHCPv6 client (odhcp6c's command line and scripts)"),
    applet("pgrphack", supervisor::chpst::main, "run a program in a new session"),
    applet("pinger", netsvc::pinger::main, "restart the DHCP client when the router stops answering"),
    applet("poweroff", init::reboot::main, "power the machine off (via init, or -f now)"),
    applet("ra", netsvc::ra::main, "router advertisements of the interface's /64 prefixes (RFC 4861, RDNSS)"),
    applet("reboot", init::reboot::main, "reboot the machine (via init, or -f now)"),
    applet("runsv", supervisor::runsv::main, "supervise one service directory"),
    applet("runsvdir", supervisor::runsvdir::main, "start and watch a runsv per service directory"),
    applet("setlock", supervisor::chpst::main, "run a program holding a lock file"),
    applet("setuidgid", supervisor::chpst::main, "run a program as another user"),
    applet("softlimit", supervisor::chpst::main, "run a program with resource limits"),
    applet("sv", supervisor::sv::main, "control and query supervised services"),
    applet("svc", supervisor::svc::svc_main, "daemontools-style service control"),
    applet("svlogd", supervisor::svlogd::main, "log lines from stdin into rotated directories"),
    applet("svok", supervisor::svc::svok_main, "exit 0 when a supervisor runs in a directory"),
    applet("udhcpc", netsvc::dhcp::main, "DHCP client (BusyBox command line and scripts)"),
    applet("zcip", netsvc::zcip::main, "IPv4 link-local address (RFC 3927)"),
];

/// Find an applet and name the process after it, so that `ps -o comm`,
/// `top` and `pidof` show `runsv`, not `ferrite`.
fn find(name: &str) -> Option<&'static Applet> {
    let a = APPLETS.iter().find(|a| a.name == name)?;
    // the kernel keeps 15 bytes; every applet name is shorter
    if let Ok(comm) = std::ffi::CString::new(a.name) {
        let _ = rustix::thread::set_name(&comm);
    }
    Some(a)
}

fn usage() -> i32 {
    common::out::err(
        "usage: ferrite APPLET [ARGS...]\n       ferrite --list | --help | --version\n       ferrite --install DIR\n",
    );
    100
}

/// `ferrite VERSION (git REV)`, the revision when the build had one (build.rs).
fn version() -> String {
    match option_env!("FERRITE_GIT_REV") {
        Some(rev) if !rev.is_empty() => {
            format!("ferrite {} (git {rev})\n", env!("CARGO_PKG_VERSION"))
        }
        _ => format!("ferrite {}\n", env!("CARGO_PKG_VERSION")),
    }
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

/// The applet a service directory stands for when its `run` is a link to
/// ferrite: `getty_ttyS0` -> getty (the part before the first `_`).
/// `log` (a service's logger) -> svlogd, the standard per-service logger.
fn service_applet(dir_name: &str) -> Option<&'static Applet> {
    if dir_name == "log" {
        return find("svlogd");
    }
    if dir_name.ends_with("_pinger") {
        return find("pinger");
    }
    find(dir_name.split('_').next().unwrap_or(dir_name))
}

fn dispatch(args: Vec<OsString>) -> i32 {
    let argv0 = args.first().cloned().unwrap_or_default();
    let base = common::argv::prog_name(&args);
    // The kernel starts /init or /sbin/init.
    let base = if base == "linuxrc" {
        "init".to_string()
    } else {
        base
    };
    // sv linked into /etc/init.d/ is an LSB init script for the service of that name.
    let parent = Path::new(&argv0).parent().and_then(|p| p.file_name());
    if parent.is_some_and(|p| p == "init.d") {
        return supervisor::sv::lsb_main(&args);
    }
    if let Some(a) = find(&base) {
        return (a.main)(&args);
    }
    // SERVICE/check linked to ferrite: the native service's test of its
    // state now (`sv check`, `sv -w SEC check`)
    if base == "check" {
        let dir = common::service::dir_name();
        let check: Option<common::AppletMain> = match dir.split('_').next() {
            Some("dhcp") => Some(netsvc::dhcp::check_main),
            Some("dhcp6") => Some(netsvc::dhcp6::check_main),
            Some("zcip") => Some(netsvc::zcip::check_main),
            Some("fw") => Some(netsvc::fw::check_main),
            _ => None,
        };
        return match check {
            Some(check) => check(&args),
            None => {
                common::out::err(&format!("ferrite: no check for service directory {dir}\n"));
                100
            }
        };
    }
    if base == "run" {
        let dir = common::service::dir_name();
        return match service_applet(&dir) {
            Some(a) => {
                // What run scripts do with `exec 2>&1`: with a logger, its
                // messages go to the log too, not to the console.
                if Path::new("log").is_dir() {
                    let _ = rustix::stdio::dup2_stderr(rustix::stdio::stdout());
                }
                (a.main)(&args)
            }
            None => {
                common::out::err(&format!("ferrite: no applet for service directory {dir}\n"));
                100
            }
        };
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
                "usage: ferrite APPLET [ARGS...] | ferrite --list | ferrite --install DIR | ferrite --version\n\
                 init, supervision and network stack in one binary\n\
                 \x20 --list         applet names\n\
                 \x20 --install DIR  a link per applet in DIR\n\
                 \x20 --version      version and git revision\n\
                 \x20 APPLET --help  the applet's usage\n\napplets:\n{list}"
            ));
            0
        }
        "--version" | "-V" => {
            common::out::out(&version());
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
