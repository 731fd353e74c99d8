//! svlogd's shell: the one poll loop over stdin and a signalfd (HUP, ALRM,
//! TERM, CHLD for processors). It reads the clock in one place, at the top
//! of each turn, and passes that `now` to the router and the directories.
//! Input is read in chunks of at least 64 KiB and written out before the
//! next wait, one write(2) per chunk and directory. A write error keeps
//! the unwritten bytes, stops reading stdin (the writer blocks on the full
//! pipe: backpressure instead of loss) and retries every second.

pub mod logdir;
pub mod setup;

use super::cli::Options;
use super::core::router::{Out, Policy, Router};
use super::core::Now;
use common::errtext::describe;
use common::out;
use common::poll::PollSet;
use logdir::{LogDir, Rotation};
use rustix::io::Errno;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) const PROG: &str = "svlogd";
const RETRY: Duration = Duration::from_secs(1);
/// Bytes gathered for one directory before a write.
const WRITE_CHUNK: usize = 64 * 1024;

/// The clock: the only place svlogd reads it. Its monotonic time counts
/// from the boot, as the kernel's does, so that a `current` older than the
/// boot counts from now (see `rotate::started`).
#[derive(Default)]
struct Clock {
    /// The first reading, and the time since the boot then.
    base: Option<(Instant, Duration)>,
}

impl Clock {
    fn now(&mut self) -> Now {
        let t = Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let (base, boot) = *self.base.get_or_insert_with(|| {
            let up = rustix::system::sysinfo().uptime.max(0) as u64;
            (t, Duration::from_secs(up))
        });
        Now {
            mono: boot + t.duration_since(base),
            wall,
        }
    }
}

/// A directory to log into, open or waiting to be opened again.
enum Slot {
    Open(Box<LogDir>),
    Closed {
        path: PathBuf,
        error: String,
        /// When to try again (monotonic).
        retry: Duration,
        /// Bytes for `current` carried over a reload.
        pending: Vec<u8>,
    },
}

impl Slot {
    fn closed(path: PathBuf, pending: Vec<u8>) -> Slot {
        Slot::Closed {
            path,
            error: String::new(),
            retry: Duration::ZERO,
            pending,
        }
    }
}

struct Logger {
    opts: Options,
    router: Router,
    slots: Vec<Slot>,
    /// Bytes read but not yet split into lines.
    input: Vec<u8>,
    out: Out,
}

impl Logger {
    fn open_all(&mut self, now: Now) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Slot::Closed {
                path,
                error,
                retry,
                pending,
            } = slot
            else {
                continue;
            };
            if now.mono < *retry {
                continue;
            }
            match LogDir::open(path, self.opts.refuse_processor, now) {
                Ok((mut d, started)) => {
                    d.pending = std::mem::take(pending);
                    if !error.is_empty() {
                        out::warn(PROG, &format!("{}: opened", path.display()));
                    }
                    let udp = d.udp.is_some();
                    let policy = Policy::take(&mut d.cfg, udp);
                    self.router.open(i, policy, d.current_len(), started);
                    *slot = Slot::Open(Box::new(d));
                }
                Err(e) => {
                    if *error != e {
                        out::warn(PROG, &format!("{e}; retrying every second"));
                        *error = e;
                    }
                    *retry = now.mono + RETRY;
                }
            }
        }
    }

    fn dirs(&mut self) -> impl Iterator<Item = (usize, &mut LogDir)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Open(d) => Some((i, d.as_mut())),
                _ => None,
            })
    }

    /// Everything open and nothing waiting to be written: input may be read.
    fn ready(&self) -> bool {
        self.slots
            .iter()
            .all(|s| matches!(s, Slot::Open(d) if d.pending.is_empty()))
    }

    fn rotate(&mut self, i: usize, now: Now) {
        if let Some(Slot::Open(d)) = self.slots.get_mut(i) {
            if d.rotate(now) == Rotation::Done {
                self.router.rotated(i, now);
            }
        }
    }

    /// Route what was read (with `eof`, a last line without newline too),
    /// rotating where the router says, and write it out: a write of
    /// `WRITE_CHUNK` bytes as they gather, then what is left.
    fn process(&mut self, eof: bool, now: Now) {
        let input = std::mem::take(&mut self.input);
        let mut out = std::mem::take(&mut self.out);
        let mut used = 0;
        loop {
            // the router appends to each directory's unwritten bytes
            for (i, d) in self.dirs() {
                out.logs[i] = std::mem::take(&mut d.pending);
            }
            let n = self.router.feed(&input[used..], eof, now, &mut out);
            used += n;
            for (i, d) in self.dirs() {
                d.pending = std::mem::take(&mut out.logs[i]);
                if d.pending.len() >= WRITE_CHUNK {
                    d.flush();
                }
            }
            for (i, packet) in &out.udp {
                if let Some(Slot::Open(d)) = self.slots.get(*i) {
                    d.send(packet);
                }
            }
            if !out.stderr.is_empty() {
                let _ = out::write_all(2, &out.stderr);
            }
            for &i in &out.rotate {
                self.rotate(i, now);
            }
            let done = n == 0 && out.rotate.is_empty();
            out.clear();
            if done {
                break;
            }
        }
        self.out = out;
        // a fresh buffer of the rest (the start of a line): the read buffer
        // stays the only large one between chunks
        self.input = input[used..].to_vec();
        for (_, d) in self.dirs() {
            d.flush();
        }
    }

    /// When the loop must wake up without input (monotonic).
    fn deadline(&self, now: Now) -> Option<Duration> {
        let mut next = self.router.deadline();
        let mut consider = |t: Duration| next = Some(next.map_or(t, |n| n.min(t)));
        for s in &self.slots {
            match s {
                Slot::Closed { retry, .. } => consider(*retry),
                Slot::Open(d) => {
                    if d.failing.is_some() || !d.pending.is_empty() {
                        consider(now.mono + RETRY);
                    }
                }
            }
        }
        next
    }

    fn rotate_all(&mut self, now: Now) {
        for i in 0..self.slots.len() {
            self.rotate(i, now);
        }
    }

    fn age_rotations(&mut self, now: Now) {
        for i in self.router.due_by_age(now) {
            self.rotate(i, now);
        }
    }

    fn reload(&mut self, now: Now) {
        for (_, d) in self.dirs() {
            d.flush();
            d.wait_processor();
        }
        // Pending data (a directory that cannot be written) survives the reload.
        let old = std::mem::take(&mut self.slots);
        for (i, s) in old.into_iter().enumerate() {
            self.router.close(i);
            self.slots.push(match s {
                Slot::Open(mut d) => Slot::closed(d.path.clone(), std::mem::take(&mut d.pending)),
                Slot::Closed { path, pending, .. } => Slot::closed(path, pending),
            });
        }
        self.open_all(now);
    }
}

pub fn run(opts: Options) -> i32 {
    let signals = [libc::SIGHUP, libc::SIGALRM, libc::SIGTERM, libc::SIGCHLD];
    let Some(sigfd) = common::sig::open_signalfd(PROG, &signals) else {
        return 111;
    };
    let opts_dirs = opts.dirs.len();
    let mut lg = Logger {
        router: Router::new(opts.lines.clone(), opts.dirs.len(), WRITE_CHUNK),
        slots: opts
            .dirs
            .iter()
            .map(|p| Slot::closed(p.clone(), Vec::new()))
            .collect(),
        opts,
        input: Vec::new(),
        out: Out {
            logs: vec![Vec::new(); opts_dirs],
            ..Out::default()
        },
    };
    let stdin = rustix::stdio::stdin();
    let mut buf = vec![0u8; lg.opts.lines.buflen.max(64 * 1024)];
    let mut eof = false;
    let mut poll = PollSet::new();
    // What the last wait reported (nothing before the first).
    let (mut signalled, mut readable) = (false, false);
    let mut clock = Clock::default();
    loop {
        let now = clock.now();
        if signalled {
            for s in sigfd.read_all() {
                match s {
                    libc::SIGTERM => eof = true,
                    libc::SIGALRM => lg.rotate_all(now),
                    libc::SIGHUP => lg.reload(now),
                    _ => {
                        for (_, d) in lg.dirs() {
                            d.reap_processor(false);
                        }
                    }
                }
            }
        }
        // (again: a reload may have left a directory closed)
        if readable && lg.ready() {
            match rustix::io::read(stdin, &mut buf[..]) {
                Ok(0) => eof = true,
                Ok(n) => {
                    lg.input.extend_from_slice(&buf[..n]);
                    lg.process(false, now);
                }
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(e) => {
                    out::warn(PROG, &format!("reading stdin: {}", describe(&e.into())));
                    eof = true;
                }
            }
        }
        lg.open_all(now);
        for (_, d) in lg.dirs() {
            if !d.pending.is_empty() {
                d.flush();
            }
        }
        lg.age_rotations(now);
        if eof && lg.ready() {
            lg.process(true, now);
            if lg.ready() {
                for (_, d) in lg.dirs() {
                    d.wait_processor();
                }
                return 0;
            }
        }
        let can_read = !eof && lg.ready();
        let timeout = lg.deadline(now).map(|t| t.saturating_sub(now.mono));
        poll.clear();
        let sig_i = poll.add(sigfd.as_raw_fd());
        let in_i = can_read.then(|| poll.add(stdin.as_raw_fd()));
        if let Err(e) = poll.wait(timeout) {
            out::warn(PROG, &format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        signalled = poll.readable(sig_i);
        readable = in_i.is_some_and(|i| poll.readable(i));
    }
}
