//! runsv's shell: two `Service` cores (the service and its optional
//! `log/`) driven by one poll loop over a signalfd and the control FIFOs;
//! it starts and signals the processes and publishes `supervise/`.

mod notify;
mod orphan;
pub mod supervise_dir;

use super::cli::Options;
use super::core::readiness::READY_FD_ENV;
use super::core::service::{Action, Now, Program, Service};
use common::errtext::{describe, is_lack_of_resources};
use common::out;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use common::tai::Tai64n;
use notify::Notifier;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use supervise_dir::SuperviseDir;

/// One supervised program set: the core, its `supervise/` and where it lives.
struct Unit {
    core: Service,
    sup: SuperviseDir,
    is_log: bool,
    /// How its `run` says it is ready.
    notify: Notifier,
}

struct Runsv {
    prog: String,
    epoch: Instant,
    main: Unit,
    log: Option<Unit>,
    /// The log pipe (read end, write end); held by runsv so that it survives
    /// restarts of either side, dropped on exit so the logger sees EOF.
    pipe: Option<(OwnedFd, OwnedFd)>,
    sigfd: SignalFd,
}

/// runsvdir sets this in runsv's environment: wait for a directory another
/// runsv still holds instead of failing (see `supervise_dir::wait_for_lock`).
pub const WAIT_LOCK_ENV: &str = "FERRITE_RUNSV_WAIT_LOCK";

/// Supervise `opts.dir` until told to exit; the exit code.
pub fn run(opts: Options) -> i32 {
    let prog = format!("runsv {}", opts.dir.to_string_lossy());
    if let Err(e) = std::env::set_current_dir(&opts.dir) {
        out::fatal(
            &prog,
            &format!("unable to change to directory: {}", describe(&e)),
        );
        return 111;
    }
    // Set by runsvdir only; the services must not inherit it.
    let wait = std::env::var_os(WAIT_LOCK_ENV).is_some();
    std::env::remove_var(WAIT_LOCK_ENV);
    if wait {
        supervise_dir::wait_for_lock(Path::new("."), &prog);
        if Path::new("log").is_dir() {
            supervise_dir::wait_for_lock(Path::new("log"), &prog);
        }
    }
    match Runsv::setup(prog.clone()) {
        Ok(mut r) => r.run(),
        Err(msg) => {
            out::fatal(&prog, &msg);
            111
        }
    }
}

fn is_executable(path: &str) -> bool {
    rustix::fs::access(path, rustix::fs::Access::EXEC_OK).is_ok() && Path::new(path).is_file()
}

fn make_pipe() -> Result<(OwnedFd, OwnedFd), String> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| {
        format!(
            "unable to create pipe for log service: {}",
            describe(&e.into())
        )
    })
}

impl Runsv {
    fn setup(prog: String) -> Result<Runsv, String> {
        let has_log = Path::new("log").is_dir();
        // Signals first: a child that dies before the loop starts is still seen.
        let sigfd = SignalFd::new(&[libc::SIGCHLD, libc::SIGTERM])
            .map_err(|e| format!("unable to create signalfd: {}", describe(&e)))?;
        let main_sup = SuperviseDir::open(Path::new("."))?;
        let log_sup = if has_log {
            Some(SuperviseDir::open(Path::new("log"))?)
        } else {
            None
        };
        // Holding both locks, before our status replaces theirs: end what a
        // killed predecessor left running, the service first so that its
        // last lines still reach the old logger.
        orphan::end_previous_instance(&prog, "service", Path::new("."));
        if has_log {
            orphan::end_previous_instance(&prog, "log service", Path::new("log"));
        }
        let pipe = if has_log { Some(make_pipe()?) } else { None };
        let epoch = Instant::now();
        let now = Now {
            mono: epoch.elapsed(),
            wall: Tai64n::now(),
            boot: crate::boottime(),
        };
        let (main_core, main_actions) = Service::new(now, false, Path::new("down").exists());
        let mut log_actions = Vec::new();
        let log = log_sup.map(|sup| {
            let (core, actions) = Service::new(now, true, Path::new("log/down").exists());
            log_actions = actions;
            Unit {
                core,
                sup,
                is_log: true,
                notify: Notifier::default(),
            }
        });
        let mut r = Runsv {
            prog,
            epoch,
            main: Unit {
                core: main_core,
                sup: main_sup,
                is_log: false,
                notify: Notifier::default(),
            },
            log,
            pipe,
            sigfd,
        };
        // The logger starts first so that it is reading when the service writes.
        r.execute(true, log_actions);
        r.execute(false, main_actions);
        r.publish();
        Ok(r)
    }

    fn now(&self) -> Now {
        Now {
            mono: self.epoch.elapsed(),
            wall: Tai64n::now(),
            boot: crate::boottime(),
        }
    }

    fn unit(&mut self, is_log: bool) -> Option<&mut Unit> {
        if is_log {
            self.log.as_mut()
        } else {
            Some(&mut self.main)
        }
    }

    fn run(&mut self) -> i32 {
        let mut poll = PollSet::new();
        loop {
            if self.finished() {
                return 0;
            }
            let now = self.now().mono;
            let deadline = [
                self.main.core.deadline(),
                self.log.as_ref().and_then(|l| l.core.deadline()),
            ]
            .into_iter()
            .flatten()
            .min();
            poll.clear();
            let sig_i = poll.add(self.sigfd.as_raw_fd());
            let main_i = poll.add(self.main.sup.control_fd());
            let log_i = self.log.as_ref().map(|l| poll.add(l.sup.control_fd()));
            // The readiness descriptors of both: (is_log, is the socket, index).
            let mut ready_fds = Vec::new();
            for u in std::iter::once(&self.main).chain(self.log.as_ref()) {
                if let Some(fd) = u.notify.pipe_fd() {
                    ready_fds.push((u.is_log, false, poll.add(fd)));
                }
                if let Some(fd) = u.notify.socket_fd() {
                    ready_fds.push((u.is_log, true, poll.add(fd)));
                }
            }
            if let Err(e) = poll.wait(deadline.map(|d| d.saturating_sub(now))) {
                out::warn(&self.prog, &format!("poll failed: {}", describe(&e)));
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            if poll.readable(sig_i) {
                for s in self.sigfd.read_all() {
                    match s {
                        libc::SIGTERM => self.control(false, b'x'),
                        _ => self.reap(),
                    }
                }
            }
            if poll.readable(main_i) {
                for c in self.main.sup.read_control() {
                    self.control(false, c);
                }
            }
            if let Some(i) = log_i {
                if poll.readable(i) {
                    let bytes = self
                        .log
                        .as_mut()
                        .map(|l| l.sup.read_control())
                        .unwrap_or_default();
                    for c in bytes {
                        self.control(true, c);
                    }
                }
            }
            for (is_log, socket, i) in ready_fds {
                if poll.readable(i) {
                    self.readable_notification(is_log, socket);
                }
            }
            let now = self.now();
            let a = self.main.core.tick(now);
            self.execute(false, a);
            if let Some(l) = self.log.as_mut() {
                let a = l.core.tick(now);
                self.execute(true, a);
            }
            self.publish();
        }
    }

    /// `x` handling across the pair: once the service is down for good, close
    /// the log's input so it drains and exits; runsv exits when both are down.
    fn finished(&mut self) -> bool {
        if !self.main.core.done() {
            return false;
        }
        match self.log.as_mut() {
            None => true,
            Some(l) => {
                if self.pipe.take().is_some() {
                    l.core.want_exit();
                    let _ = l.sup.publish(&l.core);
                }
                l.core.done()
            }
        }
    }

    /// The notification pipe or socket of one unit has input.
    fn readable_notification(&mut self, is_log: bool, socket: bool) {
        let now = self.now();
        let Some(u) = self.unit(is_log) else { return };
        let ready = if socket {
            let pid = u.core.pid();
            u.notify.read_socket(pid)
        } else {
            u.notify.read_pipe()
        };
        if ready {
            u.core.notified(now);
        }
    }

    fn control(&mut self, is_log: bool, letter: u8) {
        let now = self.now();
        let Some(u) = self.unit(is_log) else { return };
        let actions = if u.is_log {
            u.core.control(now, letter, &mut |_| false)
        } else {
            u.core.control(now, letter, &mut run_custom)
        };
        self.execute(is_log, actions);
        self.publish();
    }

    fn reap(&mut self) {
        while let Some((pid, st)) = sig::reap_any() {
            let now = self.now();
            for is_log in [false, true] {
                let finish = if is_log { "log/finish" } else { "finish" };
                let Some(u) = self.unit(is_log) else { continue };
                if u.core.pid() != 0 && u.core.pid() == pid as u32 {
                    u.notify.end_run();
                    let a = u.core.exited(now, st, is_executable(finish));
                    self.execute(is_log, a);
                }
            }
        }
        self.publish();
    }

    fn execute(&mut self, is_log: bool, actions: Vec<Action>) {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Signal(s) => {
                    if let Some(u) = self.unit(is_log) {
                        sig::kill(u.core.pid() as i32, s);
                    }
                }
                Action::Custom(letter) => {
                    if !is_log {
                        run_custom(letter);
                    }
                }
                Action::Start(p) => {
                    let result = self.spawn(is_log, p);
                    let now = self.now();
                    let finish = if is_log { "log/finish" } else { "finish" };
                    let Some(u) = self.unit(is_log) else { continue };
                    match result {
                        Ok((pid, notifies)) => u.core.started_with(now, pid, notifies),
                        Err((msg, lack_of_resources)) => {
                            out::warn(&self.prog, &msg);
                            let Some(u) = self.unit(is_log) else { continue };
                            queue.extend(u.core.start_failed(
                                now,
                                is_executable(finish),
                                lack_of_resources,
                            ));
                        }
                    }
                }
            }
        }
    }

    /// The pid and whether it was given a way to say it is ready, or the
    /// message and whether the system lacked resources.
    fn spawn(&mut self, is_log: bool, p: Program) -> Result<(u32, bool), (String, bool)> {
        let (mut cmd, name) = match p {
            Program::Run => (Command::new("./run"), "run"),
            Program::Finish { code, signal } => {
                let mut c = Command::new("./finish");
                c.arg(code.to_string()).arg(signal.to_string());
                (c, "finish")
            }
        };
        let shown = if is_log {
            format!("log/{name}")
        } else {
            format!("./{name}")
        };
        if let Some((r, w)) = &self.pipe {
            let end = if is_log { r } else { w };
            let fd = end.try_clone().map_err(|e| {
                (
                    format!("unable to start {shown}: {}", describe(&e)),
                    is_lack_of_resources(&e),
                )
            })?;
            if is_log {
                cmd.stdin(Stdio::from(fd));
            } else {
                cmd.stdout(Stdio::from(fd));
            }
        }
        if is_log {
            cmd.current_dir("log");
        }
        // Readiness is `run`'s: finish gets neither the pipe nor the socket.
        let prog = self.prog.clone();
        let grant = match (p, self.unit(is_log)) {
            (Program::Run, Some(u)) => {
                let (base, tag) = if is_log {
                    ("log", "log")
                } else {
                    (".", "main")
                };
                let mut warn = |m: String| {
                    let m = if is_log { format!("log/{m}") } else { m };
                    out::warn(&prog, &m)
                };
                Some(u.notify.grant(Path::new(base), tag, &mut warn))
            }
            _ => None,
        };
        match &grant {
            Some(g) => g.apply(&mut cmd),
            None => {
                cmd.env_remove(READY_FD_ENV)
                    .env_remove(notify::NOTIFY_SOCKET_ENV);
            }
        }
        let notifies = grant.as_ref().is_some_and(|g| g.notifies());
        match sig::clean_child(&mut cmd).spawn() {
            Ok(child) => Ok((child.id(), notifies)),
            Err(e) => Err((
                format!("unable to start {shown}: {}", describe(&e)),
                is_lack_of_resources(&e),
            )),
        }
    }

    fn publish(&mut self) {
        let mut units = vec![&mut self.main];
        if let Some(l) = self.log.as_mut() {
            units.push(l);
        }
        for u in units {
            let events = u.core.take_events();
            if let Err(e) = u.sup.record(&events) {
                let which = if u.is_log {
                    "log/supervise"
                } else {
                    "supervise"
                };
                out::warn(
                    &self.prog,
                    &format!("unable to write {which}/timeline: {}", describe(&e)),
                );
            }
            if let Err(e) = u.sup.publish(&u.core) {
                let which = if u.is_log {
                    "log/supervise"
                } else {
                    "supervise"
                };
                out::warn(
                    &self.prog,
                    &format!("unable to update {which}/status: {}", describe(&e)),
                );
            }
        }
    }
}

/// Run `control/X` if it is executable; true when it exited 0.
fn run_custom(letter: u8) -> bool {
    let path = format!("control/{}", letter as char);
    if !letter.is_ascii_graphic() || letter == b'/' || !is_executable(&path) {
        return false;
    }
    sig::clean_child(&mut Command::new(format!("./{path}")))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
