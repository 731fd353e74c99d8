//! `sv [-v] [-w SEC] COMMAND SERVICE...`: runit's service control tool, same
//! commands, status lines and exit codes. It reads `supervise/status`,
//! probes `supervise/ok` and writes `supervise/control`.

use crate::status::{RunState, Status};
use crate::svargs::{parse_command, service_path, Command, Plan, Wait, DEFAULT_SVDIR};
use common::errtext::describe;
use common::getopt::{parse_spec, Opt, Spec};
use common::out;
use common::tai::Tai64n;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: sv [-v] [-w sec] command service ...\n\n";
/// Interval at which a waiting `sv` looks at the status again (runit: ~420 ms).
const WAIT_STEP: Duration = Duration::from_millis(20);

/// What a look at a service directory found.
pub enum Probe {
    /// The directory cannot be entered.
    NoDir(io::Error),
    /// `supervise/ok` cannot be opened for another reason than "no reader".
    NoOk(io::Error),
    /// No runsv is reading `supervise/ok`.
    NotRunning,
    /// `supervise/status` missing or malformed.
    BadStatus(io::Error),
    Running(Status),
}

/// Open `DIR/supervise/NAME` for writing without blocking; ENXIO means no runsv.
pub fn open_fifo(dir: &Path, name: &str) -> io::Result<fs::File> {
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("supervise").join(name))
}

pub fn probe(dir: &Path) -> Probe {
    match fs::metadata(dir) {
        Err(e) => return Probe::NoDir(e),
        Ok(m) if !m.is_dir() => return Probe::NoDir(io::Error::from_raw_os_error(libc::ENOTDIR)),
        Ok(_) => {}
    }
    match open_fifo(dir, "ok") {
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Probe::NotRunning,
        Err(e) => return Probe::NoOk(e),
        Ok(_) => {}
    }
    match fs::read(dir.join("supervise/status")) {
        Err(e) => Probe::BadStatus(e),
        Ok(b) => match Status::decode(&b) {
            Some(s) => Probe::Running(s),
            None => Probe::BadStatus(io::Error::new(io::ErrorKind::InvalidData, "bad format")),
        },
    }
}

/// Send control bytes to the runsv of `dir`.
pub fn send(dir: &Path, letters: &str) -> io::Result<()> {
    let mut f = open_fifo(dir, "control")?;
    f.write_all(letters.as_bytes())
}

fn now_unix() -> u64 {
    Tai64n::now().unix_secs()
}

fn normally_up(dir: &Path) -> bool {
    !dir.join("down").exists()
}

/// `./check` exits 0 (or does not exist).
fn check_passes(dir: &Path) -> bool {
    let check = dir.join("check");
    if !check.is_file() {
        return true;
    }
    std::process::Command::new("./check")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A status report, or the failure message to print instead.
fn report(name: &str, dir: &Path, with_log: bool) -> Result<String, String> {
    let st = match probe(dir) {
        Probe::NoDir(e) => {
            return Err(format!(
                "fail: {name}: unable to change to service directory: {}",
                describe(&e)
            ))
        }
        Probe::NoOk(e) => {
            return Err(format!(
                "warning: {name}: unable to open supervise/ok: {}",
                describe(&e)
            ))
        }
        Probe::NotRunning => return Err(format!("fail: {name}: runsv not running")),
        Probe::BadStatus(e) => {
            return Err(format!(
                "warning: {name}: unable to read supervise/status: {}",
                describe(&e)
            ))
        }
        Probe::Running(st) => st,
    };
    let mut line = crate::svargs::status_line(name, &st, now_unix(), normally_up(dir));
    let log = dir.join("log");
    if with_log && log.is_dir() {
        match probe(&log) {
            Probe::Running(ls) => {
                line.push_str("; ");
                line.push_str(&crate::svargs::status_line(
                    "log",
                    &ls,
                    now_unix(),
                    normally_up(&log),
                ));
            }
            Probe::NotRunning => line.push_str("; fail: log: runsv not running"),
            Probe::NoOk(e) => line.push_str(&format!(
                "; warning: log: unable to open supervise/ok: {}",
                describe(&e)
            )),
            _ => {}
        }
    }
    Ok(line)
}

/// Whether the service reached what `wait` asks for, having been sent the
/// command at `sent`.
fn reached(wait: Wait, dir: &Path, sent: Tai64n) -> bool {
    let st = match probe(dir) {
        Probe::NotRunning => return wait == Wait::Exit,
        Probe::Running(st) => st,
        _ => return false,
    };
    let running = st.pid != 0 && st.state == RunState::Run;
    match wait {
        Wait::Report => true,
        Wait::Exit => false,
        Wait::Up => running && check_passes(dir),
        Wait::Down => st.pid == 0 && st.state == RunState::Down,
        Wait::Once => (running && st.want == b'd') || (st.pid == 0 && st.since >= sent),
        Wait::Restarted => {
            (st.pid == 0 && st.want == b'd')
                || (running && st.since >= sent && !st.got_term && check_passes(dir))
        }
        Wait::Cont => st.pid == 0 || !st.paused,
        Wait::Requested => {
            if st.want == b'u' {
                running && check_passes(dir)
            } else {
                st.pid == 0 && st.state == RunState::Down
            }
        }
    }
}

struct Options {
    verbose: bool,
    wait: Duration,
}

impl Options {
    /// The wait of `$SVWAIT`, 7 s when unset.
    fn from_env(verbose: bool) -> Options {
        let wait = std::env::var("SVWAIT").ok().and_then(|s| parse_wait(&s));
        Options {
            verbose,
            wait: wait.unwrap_or(Duration::from_secs(7)),
        }
    }
}

fn parse_wait(s: &str) -> Option<Duration> {
    s.parse::<u64>().ok().map(Duration::from_secs)
}

const SPEC: Spec<'static> = Spec {
    flags: "v",
    values: "w",
    optional: "",
    long: &[],
    ..Spec::EMPTY
};

const COMMANDS: &str = "  commands: status up down once pause cont hup alarm interrupt quit 1 2 term kill exit
  start stop reload restart shutdown force-stop force-reload force-restart force-shutdown try-restart check
";

/// The options before the command: `Err(())` is a usage error, `Ok(None)` `--help`.
fn parse_options(words: &[String], opts: &mut Options) -> Result<Option<usize>, ()> {
    let (parsed, first) = parse_spec(words, &SPEC).map_err(|_| ())?;
    for opt in parsed {
        match opt {
            Opt::Help => return Ok(None),
            Opt::Flag(_) => opts.verbose = true,
            // -w implies -v
            Opt::Value(_, v) => (opts.wait, opts.verbose) = (parse_wait(&v).ok_or(())?, true),
            _ => return Err(()),
        }
    }
    Ok(Some(first))
}

/// `sv` linked as an LSB init script (`/etc/init.d/NAME [-w SEC] COMMAND`):
/// the service is the link's base name, and the exit codes are LSB's
/// (status: 0 running, 3 down, 4 unknown; 1 trouble or timeout; 2 usage).
pub fn lsb_main(args: &[OsString]) -> i32 {
    let name = common::argv::prog_name(args);
    let words = common::argv::words(args);
    let mut opts = Options::from_env(true);
    let usage = format!("usage: {name} [-w sec] command\n");
    let command = match parse_options(&words, &mut opts) {
        Ok(None) => {
            let help = "  -w SEC  wait up to SEC seconds (7, $SVWAIT)\n  --help  this help\n";
            return common::getopt::help(&format!("{usage}{help}{COMMANDS}"));
        }
        Ok(Some(i)) => words.get(i).and_then(|w| parse_command(w, true)),
        Err(()) => None,
    };
    let Some(command) = command else {
        out::err(&usage);
        return 2;
    };
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let services = vec![(name.clone(), service_path(&svdir, &name))];
    match command {
        Command::Status => {
            let code = match probe(&services[0].1) {
                Probe::Running(st) if st.pid != 0 => 0,
                Probe::Running(_) => 3,
                Probe::NoDir(_) => 151,
                _ => 4,
            };
            status_all(&services);
            code
        }
        Command::Control(plan) => {
            if control_all(&services, &plan, &opts) > 0 {
                1
            } else {
                0
            }
        }
    }
}

const HELP: &str = "  -v      wait for the command to take effect, then report
  -w SEC  wait up to SEC seconds (7, $SVWAIT); implies -v
  --help  this help
";

pub fn main(args: &[OsString]) -> i32 {
    let args = common::argv::words(args);
    let mut opts = Options::from_env(false);
    let usage = || {
        out::err(USAGE);
        100
    };
    let i = match parse_options(&args, &mut opts) {
        Ok(Some(i)) => i,
        Ok(None) => {
            return common::getopt::help(&format!("{}\n{HELP}{COMMANDS}", USAGE.trim_end()))
        }
        Err(()) => return usage(),
    };
    if args.len() < i + 2 {
        return usage();
    }
    let Some(command) = parse_command(&args[i], opts.verbose) else {
        return usage();
    };
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| DEFAULT_SVDIR.to_string()));
    let services: Vec<(String, PathBuf)> = args[i + 1..]
        .iter()
        .map(|a| (a.clone(), service_path(&svdir, a)))
        .collect();
    let failures = match command {
        Command::Status => status_all(&services),
        Command::Control(plan) => control_all(&services, &plan, &opts),
    };
    failures.min(99) as i32
}

fn status_all(services: &[(String, PathBuf)]) -> usize {
    let mut failures = 0;
    // One write for the whole report: a status over hundreds of services
    // should not cost a system call per line.
    let mut text = String::new();
    for (name, dir) in services {
        let line = report(name, dir, true).unwrap_or_else(|msg| {
            failures += 1;
            msg
        });
        text.push_str(&line);
        text.push('\n');
    }
    out::out(&text);
    failures
}

fn control_all(services: &[(String, PathBuf)], plan: &Plan, opts: &Options) -> usize {
    let mut failures = 0;
    let sent = Tai64n::now();
    let mut waiting: Vec<&(String, PathBuf)> = Vec::new();
    for svc in services {
        let (name, dir) = svc;
        if let Probe::NoDir(e) = probe(dir) {
            out::out(&format!(
                "fail: {name}: unable to change to service directory: {}\n",
                describe(&e)
            ));
            failures += 1;
            continue;
        }
        if plan.only_if_running {
            match probe(dir) {
                Probe::Running(st) if st.pid != 0 => {}
                _ => {
                    waiting.push(svc);
                    continue;
                }
            }
        }
        if !plan.send.is_empty() {
            if let Err(e) = send(dir, plan.send) {
                let msg = if e.raw_os_error() == Some(libc::ENXIO) {
                    format!("fail: {name}: runsv not running\n")
                } else {
                    format!(
                        "fail: {name}: unable to open supervise/control: {}\n",
                        describe(&e)
                    )
                };
                out::out(&msg);
                failures += 1;
                continue;
            }
        }
        if plan.wait.is_some() {
            waiting.push(svc);
        }
    }
    let Some(wait) = plan.wait else {
        return failures;
    };
    let deadline = Instant::now() + opts.wait;
    loop {
        waiting.retain(|(name, dir)| {
            if !reached(wait, dir, sent) {
                return true;
            }
            let line = match wait {
                Wait::Exit => format!("ok: {name}: runsv not running\n"),
                _ => match report(name, dir, false) {
                    Ok(l) => format!("ok: {l}\n"),
                    Err(m) => format!("{m}\n"),
                },
            };
            out::out(&line);
            false
        });
        if waiting.is_empty() || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(WAIT_STEP.min(deadline.saturating_duration_since(Instant::now())));
    }
    for (name, dir) in waiting {
        failures += 1;
        let line = report(name, dir, false).unwrap_or_else(|m| m);
        if plan.kill_on_timeout {
            let _ = send(dir, "k");
            out::out(&format!("kill: {line}\n"));
        } else {
            out::out(&format!("timeout: {line}\n"));
        }
    }
    failures
}
