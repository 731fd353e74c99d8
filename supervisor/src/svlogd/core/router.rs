//! The line splitter and router, pure: given what was read and the clock,
//! it cuts the input into lines (`-b`), scrubs them (`-r`/`-R`), applies
//! each log directory's patterns (which see `-l` bytes) and says what goes
//! where: bytes for each `current`, datagrams for UDP, lines for stderr,
//! and which `current` must be rotated first. It keeps, per directory, how
//! long `current` is (written or not) and when it was started, so it also
//! says when a rotation by age is due.
//!
//! A rotation by size is due before the line that would take `current`
//! past `s`: `feed` stops there, the shell rotates and calls `rotated` when
//! that worked, and feeds the rest. A rotation that failed is not asked for
//! again for that line: the line goes to the old `current` (nothing is
//! dropped) and the next line asks again.

use super::config::{self, Config, Select};
use super::{lines, rotate, stamp, Now};
use std::time::Duration;

/// How every line is cut and cleaned: the command line's `-t`, `-r`, `-R`,
/// `-l` and `-b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineOpts {
    pub stamp: u8,
    pub replace: Option<u8>,
    pub replace_set: Vec<u8>,
    /// What patterns and UDP see of a line.
    pub len: usize,
    /// A longer line is cut into lines of this many bytes (never 0).
    pub buflen: usize,
}

/// What the router needs of a log directory's config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub patterns: Vec<(Select, Vec<u8>)>,
    pub prefix: Vec<u8>,
    /// `s`: rotate before `current` would pass it; 0 = never.
    pub size: u64,
    /// `t`: rotate a non-empty `current` this many seconds old; 0 = never.
    pub timeout: u64,
    /// Lines also go out by UDP: `Some(true)` keeps the local copy (`u`),
    /// `Some(false)` does not (`U`); None without UDP, or without a socket
    /// (then every line stays local).
    pub udp: Option<bool>,
}

impl Policy {
    /// The policy of `cfg`, whose patterns and prefix move to it (the
    /// router is the only one to use them); `udp_socket`: the shell has a
    /// socket for its `u`/`U`.
    pub fn take(cfg: &mut Config, udp_socket: bool) -> Self {
        Policy {
            patterns: std::mem::take(&mut cfg.patterns),
            prefix: std::mem::take(&mut cfg.prefix),
            size: cfg.size,
            timeout: cfg.timeout,
            udp: cfg.udp.filter(|_| udp_socket).map(|(_, keep)| keep),
        }
    }
}

#[derive(Debug)]
struct Target {
    policy: Policy,
    /// Bytes in `current`, with those handed out but not yet written.
    len: u64,
    /// When `current` was started (monotonic).
    started: Duration,
    /// A rotation was asked for before the next line: do not ask again.
    asked: bool,
    /// Where the line being routed goes.
    decision: Decision,
}

/// What one call of `feed` decided. The shell performs it and clears it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Out {
    /// For each directory (by index): bytes for its `current`, appended to
    /// what is there (the shell lends its unwritten bytes, so that they are
    /// one buffer).
    pub logs: Vec<Vec<u8>>,
    /// Datagrams: (directory, packet).
    pub udp: Vec<(usize, Vec<u8>)>,
    /// For svlogd's stderr (`e` patterns).
    pub stderr: Vec<u8>,
    /// Directories whose `current` must be rotated, after writing `logs`
    /// and before feeding the rest of the input.
    pub rotate: Vec<usize>,
}

impl Out {
    pub fn clear(&mut self) {
        self.logs.iter_mut().for_each(Vec::clear);
        self.udp.clear();
        self.stderr.clear();
        self.rotate.clear();
    }
}

/// Where one line goes for one directory.
#[derive(Clone, Copy, Debug, Default)]
struct Decision {
    local: bool,
    err: bool,
    udp: bool,
}

fn decide(p: &Policy, line: &[u8], len: usize) -> Decision {
    let (log, err) = config::route(&p.patterns, line, len);
    Decision {
        local: log && p.udp.unwrap_or(true),
        err,
        udp: log && p.udp.is_some(),
    }
}

#[derive(Debug)]
pub struct Router {
    opts: LineOpts,
    /// One per log directory on the command line; None while it is not open.
    targets: Vec<Option<Target>>,
    /// `feed` stops after a line that makes a directory's bytes this many.
    chunk: usize,
    /// The line being routed, scrubbed.
    line: Vec<u8>,
}

impl Router {
    /// A router for `dirs` log directories, none open yet; `chunk`: the
    /// bytes for one directory the shell writes at once.
    pub fn new(opts: LineOpts, dirs: usize, chunk: usize) -> Self {
        Router {
            opts,
            targets: (0..dirs).map(|_| None).collect(),
            chunk,
            line: Vec::new(),
        }
    }

    /// Directory `i` is open: its `current` is `len` bytes long (with what
    /// is still to be written) and was started at `started`.
    pub fn open(&mut self, i: usize, policy: Policy, len: u64, started: Duration) {
        if let Some(t) = self.targets.get_mut(i) {
            *t = Some(Target {
                policy,
                len,
                started,
                asked: false,
                decision: Decision::default(),
            });
        }
    }

    /// Directory `i` is closed: it gets no lines until it is opened again.
    pub fn close(&mut self, i: usize) {
        if let Some(t) = self.targets.get_mut(i) {
            *t = None;
        }
    }

    /// Directory `i` has a new, empty `current`, started `now`.
    pub fn rotated(&mut self, i: usize, now: Now) {
        if let Some(Some(t)) = self.targets.get_mut(i) {
            t.len = 0;
            t.started = now.mono;
        }
    }

    /// How long directory `i`'s `current` is; None when it is not open.
    pub fn current_len(&self, i: usize) -> Option<u64> {
        self.targets.get(i)?.as_ref().map(|t| t.len)
    }

    /// The directories whose `current` is due for rotation by age (`t`).
    pub fn due_by_age(&self, now: Now) -> Vec<usize> {
        self.open_targets()
            .filter(|(_, t)| {
                let age = now.mono.saturating_sub(t.started).as_secs();
                rotate::by_age(t.policy.timeout, t.len, age)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The next rotation by age (monotonic), if any is to come.
    pub fn deadline(&self) -> Option<Duration> {
        self.open_targets()
            .filter_map(|(_, t)| rotate::age_deadline(t.policy.timeout, t.len, t.started))
            .min()
    }

    fn open_targets(&self) -> impl Iterator<Item = (usize, &Target)> {
        self.targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, t.as_ref()?)))
    }

    /// Route the lines of `input` (with `eof`, a last line without newline
    /// too) into `out`, stamped with `now`. Returns how many bytes were
    /// used. It stops early before a line when `out.rotate` names
    /// directories to rotate first, and after a line that brings a
    /// directory's bytes in `out.logs` to `chunk`; otherwise the rest is
    /// the start of a line still being read (0 bytes used: nothing to do).
    pub fn feed(&mut self, input: &[u8], eof: bool, now: Now, out: &mut Out) -> usize {
        let Router {
            opts,
            targets,
            chunk,
            line,
        } = self;
        let stamp = stamp::format(opts.stamp, now.wall.as_secs(), now.wall.subsec_nanos());
        let stamp = stamp.as_bytes();
        if out.logs.len() < targets.len() {
            out.logs.resize_with(targets.len(), Vec::new);
        }
        let mut used = 0;
        while let Some((n, step)) = lines::next(&input[used..], opts.buflen, eof) {
            line.clear();
            line.extend_from_slice(&input[used..used + n]);
            lines::scrub(line, opts.replace, &opts.replace_set);
            for (i, t) in targets.iter_mut().enumerate() {
                let Some(t) = t else { continue };
                let d = decide(&t.policy, line, opts.len);
                let add = (stamp.len() + t.policy.prefix.len() + line.len() + 1) as u64;
                if d.local && !t.asked && rotate::by_size(t.policy.size, t.len, add) {
                    t.asked = true;
                    out.rotate.push(i);
                }
                t.decision = d;
            }
            if !out.rotate.is_empty() {
                return used;
            }
            let mut full = false;
            for (i, t) in targets.iter_mut().enumerate() {
                let Some(t) = t else { continue };
                let d = t.decision;
                let prefix = &t.policy.prefix;
                if d.err {
                    out.stderr.extend_from_slice(stamp);
                    out.stderr.extend_from_slice(prefix);
                    out.stderr.extend_from_slice(line);
                    out.stderr.push(b'\n');
                }
                if d.udp {
                    let mut pkt = prefix.clone();
                    pkt.extend_from_slice(&line[..line.len().min(opts.len)]);
                    pkt.push(b'\n');
                    out.udp.push((i, pkt));
                }
                if d.local {
                    let log = &mut out.logs[i];
                    let before = log.len();
                    log.extend_from_slice(stamp);
                    log.extend_from_slice(prefix);
                    log.extend_from_slice(line);
                    log.push(b'\n');
                    t.len = t.len.saturating_add((log.len() - before) as u64);
                    t.asked = false;
                    full |= log.len() >= *chunk;
                }
            }
            used += step;
            if full {
                break;
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: usize = 1 << 16;

    fn opts() -> LineOpts {
        LineOpts {
            stamp: 0,
            replace: None,
            replace_set: Vec::new(),
            len: 1000,
            buflen: 1001,
        }
    }

    fn at(secs: u64) -> Now {
        Now {
            mono: Duration::from_secs(secs),
            wall: Duration::from_secs(1_700_000_000 + secs),
        }
    }

    fn policy(config: &str) -> Policy {
        Policy::take(&mut config::parse(config).0, true)
    }

    /// A router with a directory open for each config, its `current`
    /// empty and started at 0.
    fn router(o: LineOpts, configs: &[&str]) -> Router {
        let mut r = Router::new(o, configs.len(), CHUNK);
        for (i, c) in configs.iter().enumerate() {
            r.open(i, policy(c), 0, Duration::ZERO);
        }
        r
    }

    /// Feed everything, performing every rotation (`fail`: rotations of
    /// those directories fail); returns each directory's files, oldest
    /// first, the last being `current`.
    fn run(r: &mut Router, input: &[u8], now: Now, fail: &[usize]) -> Vec<Vec<Vec<u8>>> {
        let mut files: Vec<Vec<Vec<u8>>> = vec![vec![Vec::new()]; r.targets.len()];
        let mut out = Out::default();
        let mut used = 0;
        loop {
            let n = r.feed(&input[used..], true, now, &mut out);
            used += n;
            for (i, bytes) in out.logs.iter().enumerate() {
                files[i].last_mut().unwrap().extend_from_slice(bytes);
            }
            if out.rotate.is_empty() && n == 0 {
                break;
            }
            for &i in &out.rotate {
                if !fail.contains(&i) {
                    files[i].push(Vec::new());
                    r.rotated(i, now);
                }
            }
            out.clear();
        }
        assert_eq!(used, input.len());
        files
    }

    #[test]
    fn lines_are_cut_scrubbed_and_stamped_with_the_clock_passed_in() {
        let mut r = Router::new(
            LineOpts {
                stamp: 2,
                replace: Some(b'_'),
                replace_set: b"@".to_vec(),
                buflen: 5,
                ..opts()
            },
            1,
            CHUNK,
        );
        r.open(0, policy(""), 0, Duration::ZERO);
        let mut out = Out::default();
        let used = r.feed(b"a@\tb\nlonger\npart", false, at(0), &mut out);
        assert_eq!(
            used, 12,
            "the incomplete `part` waits; `r` is cut off `longer`"
        );
        let stamp = "2023-11-14_22:13:20.00000 ";
        assert_eq!(
            String::from_utf8(out.logs[0].clone()).unwrap(),
            format!("{stamp}a__b\n{stamp}longe\n{stamp}r\n")
        );
        assert_eq!(r.current_len(0), Some(out.logs[0].len() as u64));
        out.clear();
        assert_eq!(r.feed(b"part", true, at(7), &mut out), 4);
        assert_eq!(out.logs[0], b"2023-11-14_22:13:27.00000 part\n");
    }

    #[test]
    fn each_directory_has_its_patterns_prefix_and_stderr() {
        let mut r = router(
            opts(),
            &["-*debug*\ne*error*\n", "pB: \n-*\n+*error*\n", ""],
        );
        // directory 2 is not open: it gets nothing
        r.close(2);
        let mut out = Out::default();
        r.feed(b"debug x\nan error\nplain\n", false, at(0), &mut out);
        assert_eq!(out.logs[0], b"an error\nplain\n");
        assert_eq!(out.logs[1], b"B: an error\n");
        assert!(out.logs[2].is_empty());
        assert_eq!(out.stderr, b"an error\n");
        assert!(out.rotate.is_empty() && out.udp.is_empty());
    }

    #[test]
    fn udp_gets_l_bytes_with_or_without_the_local_copy() {
        let o = LineOpts { len: 3, ..opts() };
        let mut r = router(o, &["u127.0.0.1:5140\npP\n", "U127.0.0.1:5140\n", ""]);
        // `U` without a socket: the line stays local
        r.open(
            2,
            Policy::take(&mut config::parse("U127.0.0.1\n").0, false),
            0,
            Duration::ZERO,
        );
        let mut out = Out::default();
        r.feed(b"abcdef\n", false, at(0), &mut out);
        assert_eq!(out.udp, [(0, b"Pabc\n".to_vec()), (1, b"abc\n".to_vec())]);
        assert_eq!(out.logs[0], b"Pabcdef\n");
        assert!(out.logs[1].is_empty());
        assert_eq!(out.logs[2], b"abcdef\n");
    }

    #[test]
    fn rotation_by_size_comes_before_the_line_that_would_pass_s() {
        let mut r = router(opts(), &["s10\n", "s0\n"]);
        let files = run(&mut r, b"1234\n5678\nabcdefghijklmnop\nx\n", at(0), &[]);
        assert_eq!(
            files[0],
            [&b"1234\n5678\n"[..], b"abcdefghijklmnop\n", b"x\n"],
            "a line longer than s gets a file of its own"
        );
        assert_eq!(files[1].len(), 1, "s0 never rotates");
        assert_eq!(r.current_len(0), Some(2));
        // a current that is already long when opened
        let mut r = Router::new(opts(), 1, CHUNK);
        r.open(0, policy("s10\n"), 10, Duration::ZERO);
        let mut out = Out::default();
        assert_eq!(r.feed(b"a\n", false, at(0), &mut out), 0);
        assert_eq!(out.rotate, [0]);
    }

    #[test]
    fn a_failed_rotation_keeps_every_line_and_is_asked_again_at_the_next() {
        let mut r = router(opts(), &["s4\n"]);
        let mut out = Out::default();
        let input = b"aaa\nbbb\nccc\n";
        let mut used = r.feed(input, false, at(0), &mut out);
        assert_eq!((used, out.rotate.as_slice()), (4, &[0][..]));
        // the rotation failed: no `rotated`; the line goes to the old current
        out.clear();
        used += r.feed(&input[used..], false, at(0), &mut out);
        assert_eq!((used, out.rotate.as_slice()), (8, &[0][..]));
        assert_eq!(out.logs[0], b"bbb\n");
        assert_eq!(r.current_len(0), Some(8));
        let files = run(&mut r, &input[used..], at(0), &[]);
        assert_eq!(files[0], [&b"ccc\n"[..]]);
        // with every rotation failing, every line is still handed out
        let mut r = router(opts(), &["s4\n"]);
        assert_eq!(run(&mut r, input, at(0), &[0])[0], [input.to_vec()]);
    }

    #[test]
    fn it_stops_after_a_chunk_for_the_shell_to_write() {
        let mut r = router(opts(), &["", "-*\n"]);
        r.chunk = 8;
        let mut out = Out::default();
        let input = b"abc\ndef\nghi\n";
        assert_eq!(r.feed(input, false, at(0), &mut out), 8);
        assert_eq!(out.logs[0], b"abc\ndef\n");
        out.clear();
        assert_eq!(r.feed(&input[8..], false, at(0), &mut out), 4);
        assert_eq!(r.feed(&input[12..], false, at(0), &mut out), 0);
        // bytes the shell lends count: it stops after the first line
        let mut out = Out {
            logs: vec![vec![b'x'; 20], Vec::new()],
            ..Out::default()
        };
        assert_eq!(r.feed(input, false, at(0), &mut out), 4);
        assert_eq!(run(&mut r, input, at(0), &[])[0], [input.to_vec()]);
    }

    #[test]
    fn rotation_by_age_on_virtual_time() {
        let mut r = Router::new(opts(), 2, CHUNK);
        r.open(0, policy("t60\n"), 0, at(100).mono);
        r.open(1, policy("t30\n"), 5, at(90).mono);
        assert_eq!(
            r.deadline(),
            Some(at(120).mono),
            "an empty current has no deadline"
        );
        assert!(r.due_by_age(at(119)).is_empty());
        assert_eq!(r.due_by_age(at(120)), [1]);
        let mut out = Out::default();
        r.feed(b"x\n", false, at(110), &mut out);
        assert_eq!(r.deadline(), Some(at(120).mono));
        assert_eq!(r.due_by_age(at(160)), [0, 1]);
        r.rotated(1, at(160));
        assert_eq!(r.current_len(1), Some(0));
        assert_eq!(r.due_by_age(at(160)), [0]);
        assert_eq!(r.deadline(), Some(at(160).mono), "the other one is due");
        r.rotated(0, at(161));
        assert_eq!(r.deadline(), None, "both empty now");
        r.feed(b"y\n", false, at(170), &mut out);
        assert_eq!(
            r.deadline(),
            Some(at(190).mono),
            "directory 1 started at 160"
        );
        r.close(1);
        assert_eq!(r.deadline(), Some(at(221).mono));
        assert_eq!(r.current_len(1), None);
    }
}
