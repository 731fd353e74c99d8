//! `sv timeline`'s pure part: the events of several services' timelines
//! as a table sorted by time, and as an SVG picture in the manner of
//! `systemd-analyze plot` (one row per service, the kernel's part first).

use crate::runsv::core::timeline::{Event, Kind};
use std::fmt::Write;
use std::time::Duration;

/// The kernel converts process times in `/proc/PID/stat` to USER_HZ, 100
/// on every architecture ferrite is built for.
pub const USER_HZ: u64 = 100;

/// One service (or its `log/`) and its events, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub events: Vec<Event>,
}

/// When init (PID 1) started, from its `/proc/1/stat` line: the end of
/// the kernel's part of the boot.
pub fn init_start(stat: &str) -> Option<Duration> {
    let ticks = common::procfs::start_time_from_stat(stat)?;
    Some(Duration::from_millis(ticks.checked_mul(1000 / USER_HZ)?))
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn exit_words(e: &Event) -> String {
    if e.signal != 0 {
        format!("signal {}", e.signal)
    } else {
        format!("exit {}", e.code)
    }
}

/// What the table says after the event's name.
fn detail(e: &Event, started: Option<Duration>) -> String {
    match e.kind {
        Kind::Spawned | Kind::Restarted => {
            let mut s = format!("pid {}", e.pid);
            if e.notifies {
                s.push_str(", notifies readiness");
            }
            s
        }
        Kind::Ready => match started.and_then(|t| e.at.checked_sub(t)) {
            Some(d) => format!("pid {}, {} ms after its start", e.pid, ms(d)),
            None => format!("pid {}", e.pid),
        },
        Kind::Exited | Kind::Finished => format!("pid {}, {}", e.pid, exit_words(e)),
        Kind::Finish => format!("pid {}, ./finish {} {}", e.pid, e.code, e.signal),
        Kind::StartFailed => "exit 111".to_string(),
    }
}

/// The table: one line per event of every row, sorted by time (the rows'
/// order breaks ties), and init's start first when known.
pub fn table(rows: &[Row], init: Option<Duration>) -> String {
    // (time, row, index in row, name, event, detail)
    let mut lines: Vec<(Duration, usize, usize, &str, &str, String)> = Vec::new();
    if let Some(t) = init {
        lines.push((t, 0, 0, "init", "started", "pid 1".to_string()));
    }
    for (r, row) in rows.iter().enumerate() {
        let mut started = None;
        for (i, e) in row.events.iter().enumerate() {
            if matches!(e.kind, Kind::Spawned | Kind::Restarted) {
                started = Some(e.at);
            }
            lines.push((e.at, r + 1, i, &row.name, e.kind.word(), detail(e, started)));
        }
    }
    lines.sort_by_key(|l| (l.0, l.1, l.2));
    let width = lines
        .iter()
        .map(|l| l.3.chars().count())
        .chain(std::iter::once(7))
        .max()
        .unwrap_or(7);
    let mut out = format!(
        "{:<width$}  {:<12} {:>9}  DETAIL\n",
        "SERVICE", "EVENT", "MS"
    );
    for (t, _, _, name, ev, det) in lines {
        let _ = writeln!(
            out,
            "{name:<width$}  {ev:<12} {:>9}  {det}",
            format!("{}.{:03}", t.as_millis(), t.subsec_micros() % 1000)
        );
    }
    out
}

/// What a bar of the picture stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// Started, not yet ready (a service that notifies readiness).
    Starting,
    /// Ready, running.
    Ready,
    /// Running, with no readiness to wait for.
    Running,
    /// `./finish` running.
    Finish,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Restart,
    Exit,
    StartFailed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub from: Duration,
    pub to: Duration,
    pub kind: BarKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: Duration,
    pub kind: MarkKind,
    pub title: String,
}

/// The bars and marks of one row; what still runs ends at `end`.
pub fn bars(events: &[Event], end: Duration) -> (Vec<Bar>, Vec<Mark>) {
    let mut bars = Vec::new();
    let mut marks = Vec::new();
    // the open run: (start, notifies, ready at)
    let mut open: Option<(Duration, bool, Option<Duration>)> = None;
    let mut finish: Option<Duration> = None;
    let close = |open: &mut Option<(Duration, bool, Option<Duration>)>,
                 t: Duration,
                 bars: &mut Vec<Bar>| {
        if let Some((from, notifies, ready)) = open.take() {
            let t = t.max(from);
            bars.push(match ready {
                Some(r) => Bar {
                    from: r,
                    to: t.max(r),
                    kind: BarKind::Ready,
                },
                None => Bar {
                    from,
                    to: t,
                    kind: if notifies {
                        BarKind::Starting
                    } else {
                        BarKind::Running
                    },
                },
            });
        }
    };
    for e in events {
        match e.kind {
            Kind::Spawned | Kind::Restarted => {
                close(&mut open, e.at, &mut bars);
                if e.kind == Kind::Restarted {
                    marks.push(Mark {
                        at: e.at,
                        kind: MarkKind::Restart,
                        title: format!("restarted, pid {}", e.pid),
                    });
                }
                open = Some((e.at, e.notifies, None));
            }
            Kind::Ready => {
                if let Some((from, _, ready @ None)) = open.as_mut() {
                    *ready = Some(e.at);
                    bars.push(Bar {
                        from: *from,
                        to: e.at.max(*from),
                        kind: BarKind::Starting,
                    });
                }
            }
            Kind::Exited => {
                close(&mut open, e.at, &mut bars);
                marks.push(Mark {
                    at: e.at,
                    kind: MarkKind::Exit,
                    title: exit_words(e),
                });
            }
            Kind::Finish => finish = Some(e.at),
            Kind::Finished => {
                if let Some(from) = finish.take() {
                    bars.push(Bar {
                        from,
                        to: e.at.max(from),
                        kind: BarKind::Finish,
                    });
                }
            }
            Kind::StartFailed => marks.push(Mark {
                at: e.at,
                kind: MarkKind::StartFailed,
                title: "could not start".to_string(),
            }),
        }
    }
    close(&mut open, end, &mut bars);
    if let Some(from) = finish {
        bars.push(Bar {
            from,
            to: end.max(from),
            kind: BarKind::Finish,
        });
    }
    (bars, marks)
}

/// Text for XML character data and attribute values: the five markup
/// characters escaped, characters XML 1.0 does not allow replaced by `?`.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate or length of the picture in tenths of a pixel, written
/// with one decimal as the SVG has it (`220.0`): integers, so the binary
/// carries no float formatting for the picture.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Px(i64);

const fn px(n: i64) -> Px {
    Px(n * 10)
}

impl Px {
    /// Whole pixels (for the picture's size, always whole).
    fn whole(self) -> i64 {
        self.0 / 10
    }
}

impl std::ops::Add for Px {
    type Output = Px;
    fn add(self, o: Px) -> Px {
        Px(self.0.saturating_add(o.0))
    }
}

impl std::ops::Sub for Px {
    type Output = Px;
    fn sub(self, o: Px) -> Px {
        Px(self.0.saturating_sub(o.0))
    }
}

impl std::fmt::Display for Px {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", a / 10, a % 10)
    }
}

const LEFT: Px = px(220);
/// The time axis's length in pixels.
const PLOT: u128 = 1000;
const TOP: Px = px(60);
const ROW: Px = px(22);

/// `n` rows' height.
fn rows_of(n: usize) -> Px {
    Px(ROW.0.saturating_mul(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// A grid step for a plot `total` long: about 10 to 20 lines.
fn step(total: Duration) -> Duration {
    const STEPS_MS: [u64; 16] = [
        10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000, 120_000, 300_000,
        600_000, 1_800_000,
    ];
    let total = total.as_millis();
    for s in STEPS_MS {
        if total / u128::from(s) <= 20 {
            return Duration::from_millis(s);
        }
    }
    // hours: about 20 lines still
    let hours = (total / 20).div_ceil(3_600_000).max(1);
    Duration::from_millis(u64::try_from(hours.saturating_mul(3_600_000)).unwrap_or(u64::MAX))
}

fn seconds_label(t: Duration) -> String {
    let ms = t.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else if ms.is_multiple_of(100) {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{}.{:02} s", ms / 1000, (ms % 1000) / 10)
    }
}

/// The picture: the kernel's part (0 to `init`) in the first row, then
/// one row per entry of `rows`; the time axis runs a little past the
/// last event (what still runs then is drawn to the axis's end, at most
/// to `now`).
pub fn svg(rows: &[Row], init: Option<Duration>, now: Duration) -> String {
    let last = rows
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.at))
        .chain(init)
        .max()
        .unwrap_or_default();
    let margin = (last / 10).max(Duration::from_millis(100));
    let grid = step(last.saturating_add(margin));
    // the axis ends on a grid line
    let g = grid.as_millis().max(1);
    let total_ms = last.saturating_add(margin).as_millis().div_ceil(g) * g;
    let total = Duration::from_millis(u64::try_from(total_ms).unwrap_or(u64::MAX));
    let end = now.min(total).max(last);
    // tenths of a pixel: t's share of the axis, rounded
    let den = total_ms.max(1).saturating_mul(100_000);
    let share = |t: Duration| {
        let tenths = t.as_nanos().saturating_mul(PLOT).saturating_add(den / 2) / den;
        Px(i64::try_from(tenths).unwrap_or(i64::MAX))
    };
    let x = |t: Duration| LEFT + share(t);
    let n = rows.len() + 1;
    let height = (TOP + rows_of(n) + px(60)).whole();
    let width = (LEFT + px(PLOT as i64) + px(40)).whole();
    let mut s = String::new();
    let _ = write!(
        s,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <style>.starting{{fill:#f0a030}}.ready{{fill:#40a040}}.running{{fill:#5080d0}}\
         .finish{{fill:#a060c0}}.kernel{{fill:#b0b0b0}}.exit{{stroke:#d02020;stroke-width:2}}\
         .restart{{fill:#d02020}}.failed{{fill:#000}}.grid{{stroke:#ddd;stroke-width:1}}\
         .name{{text-anchor:end}}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
         <text x=\"{}\" y=\"20\" font-size=\"15\">Boot timeline (sv timeline --svg): {} services, {} ms since boot</text>\n",
        LEFT.whole(),
        rows.len(),
        ms(now)
    );
    // grid and axis labels
    let mut t = Duration::ZERO;
    while t <= total {
        let xt = x(t);
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{xt}\" y1=\"{}\" x2=\"{xt}\" y2=\"{}\"/>\
             <text x=\"{xt}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            TOP - px(10),
            TOP + rows_of(n),
            TOP - px(14),
            seconds_label(t)
        );
        t = t.saturating_add(grid);
        if grid.is_zero() {
            break;
        }
    }
    let row_y = |i: usize| TOP + rows_of(i);
    // the kernel's row
    let _ = writeln!(
        s,
        "<text class=\"name\" x=\"{}\" y=\"{}\">kernel</text>",
        LEFT - px(8),
        row_y(0) + px(15)
    );
    if let Some(i) = init {
        let _ = writeln!(
            s,
            "<rect class=\"kernel\" x=\"{LEFT}\" y=\"{}\" width=\"{}\" height=\"{}\">\
             <title>kernel: 0 to {} ms (init started)</title></rect>",
            row_y(0) + px(3),
            share(i).max(px(1)),
            ROW - px(6),
            ms(i)
        );
    }
    for (r, row) in rows.iter().enumerate() {
        let y = row_y(r + 1);
        let name = xml_escape(&row.name);
        let _ = writeln!(
            s,
            "<g><title>{name}</title><text class=\"name\" x=\"{}\" y=\"{}\">{name}</text>",
            LEFT - px(8),
            y + px(15)
        );
        let (bars, marks) = bars(&row.events, end);
        for b in &bars {
            let class = match b.kind {
                BarKind::Starting => "starting",
                BarKind::Ready => "ready",
                BarKind::Running => "running",
                BarKind::Finish => "finish",
            };
            let _ = writeln!(
                s,
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\
                 <title>{name}: {class} {}–{} ms</title></rect>",
                x(b.from),
                y + px(3),
                share(b.to.saturating_sub(b.from)).max(px(1)),
                ROW - px(6),
                ms(b.from),
                ms(b.to)
            );
        }
        for m in &marks {
            let xm = x(m.at);
            let title = xml_escape(&m.title);
            let _ = match m.kind {
                MarkKind::Exit => writeln!(
                    s,
                    "<line class=\"exit\" x1=\"{xm}\" y1=\"{}\" x2=\"{xm}\" y2=\"{}\">\
                     <title>{name}: {title} at {} ms</title></line>",
                    y + px(1),
                    y + ROW - px(1),
                    ms(m.at)
                ),
                MarkKind::Restart | MarkKind::StartFailed => writeln!(
                    s,
                    "<path class=\"{}\" d=\"M{xm},{} l-5,-8 h10 z\">\
                     <title>{name}: {title} at {} ms</title></path>",
                    if m.kind == MarkKind::Restart {
                        "restart"
                    } else {
                        "failed"
                    },
                    y + px(11),
                    ms(m.at)
                ),
            };
        }
        // the moment it became ready, in words after the row's first bar
        if let Some(ready) = row.events.iter().find(|e| e.kind == Kind::Ready) {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\">ready {} ms</text>",
                x(ready.at) + px(4),
                y + px(15),
                ms(ready.at)
            );
        }
        s.push_str("</g>\n");
    }
    // the legend
    let ly = row_y(n) + px(25);
    let mut lx = LEFT;
    for (class, words) in [
        ("kernel", "kernel"),
        ("starting", "starting (spawned, not yet ready)"),
        ("ready", "ready"),
        ("running", "running (no readiness)"),
        ("finish", "./finish"),
        ("restart", "restart"),
    ] {
        let _ = write!(
            s,
            "<rect class=\"{class}\" x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\"/>\
             <text x=\"{}\" y=\"{}\">{words}</text>",
            ly - px(10),
            lx + px(16),
            ly
        );
        lx = lx + Px(300 + 65 * i64::try_from(words.len()).unwrap_or(0));
    }
    s.push_str("\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: u64, kind: Kind) -> Event {
        Event::new(Duration::from_millis(ms), kind, 7)
    }

    fn notifying(ms: u64, kind: Kind) -> Event {
        let mut e = ev(ms, kind);
        e.notifies = true;
        e
    }

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn init_start_from_proc_stat() {
        let stat = "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 31 1000 100";
        assert_eq!(init_start(stat), Some(d(310)));
        assert_eq!(init_start("1 (init) S"), None);
        assert_eq!(init_start(""), None);
    }

    #[test]
    fn bars_for_starting_ready_exit_restart_finish() {
        let mut exit = ev(900, Kind::Exited);
        (exit.code, exit.signal) = (-1, 9);
        let events = [
            notifying(100, Kind::Spawned),
            ev(350, Kind::Ready),
            exit,
            ev(900, Kind::Finish),
            ev(950, Kind::Finished),
            notifying(1100, Kind::Restarted),
        ];
        let (bars, marks) = bars(&events, d(2000));
        assert_eq!(
            bars,
            vec![
                Bar {
                    from: d(100),
                    to: d(350),
                    kind: BarKind::Starting
                },
                Bar {
                    from: d(350),
                    to: d(900),
                    kind: BarKind::Ready
                },
                Bar {
                    from: d(900),
                    to: d(950),
                    kind: BarKind::Finish
                },
                // restarted, not ready yet: starting until the end
                Bar {
                    from: d(1100),
                    to: d(2000),
                    kind: BarKind::Starting
                },
            ]
        );
        assert_eq!(
            marks.iter().map(|m| (m.at, m.kind)).collect::<Vec<_>>(),
            vec![(d(900), MarkKind::Exit), (d(1100), MarkKind::Restart)]
        );
        assert_eq!(marks[0].title, "signal 9");
        // no readiness: one running bar
        let (bars, _) = super::bars(&[ev(10, Kind::Spawned)], d(40));
        assert_eq!(
            bars,
            vec![Bar {
                from: d(10),
                to: d(40),
                kind: BarKind::Running
            }]
        );
        // events out of order in time (a clock that went nowhere) make no negative bar
        let (bars, _) = super::bars(&[ev(500, Kind::Spawned), ev(100, Kind::Exited)], d(40));
        assert_eq!(bars[0].from, bars[0].to);
    }

    #[test]
    fn the_table_is_sorted_by_time() {
        let rows = vec![
            Row {
                name: "getty_ttyS0".into(),
                events: vec![notifying(500, Kind::Spawned), ev(620, Kind::Ready)],
            },
            Row {
                name: "fw".into(),
                events: vec![ev(400, Kind::Spawned), ev(450, Kind::Exited)],
            },
        ];
        let t = table(&rows, Some(d(300)));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 6, "{t}");
        assert!(lines[0].starts_with("SERVICE"));
        assert!(
            lines[1].starts_with("init ") && lines[1].contains("300.000"),
            "{t}"
        );
        assert!(lines[2].starts_with("fw ") && lines[2].contains("spawned"));
        assert!(lines[3].contains("exited") && lines[3].contains("exit 0"));
        assert!(lines[4].starts_with("getty_ttyS0  spawned"));
        assert!(lines[4].contains("notifies readiness"));
        assert!(lines[5].contains("ready") && lines[5].contains("120 ms after its start"));
    }

    /// A small well-formedness check: tags balance, attributes are quoted,
    /// `&` starts one of the five entities, no `<` in text.
    fn well_formed(s: &str) -> Result<usize, String> {
        let body = s
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .ok_or("no declaration")?;
        let mut stack: Vec<String> = Vec::new();
        let mut elements = 0;
        let mut rest = body;
        while let Some(i) = rest.find('<') {
            check_text(&rest[..i])?;
            let after = &rest[i + 1..];
            let j = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..j];
            rest = &after[j + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
                continue;
            }
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name = tag.split_whitespace().next().ok_or("empty tag")?;
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs.find("=\"").ok_or(format!("attribute in {tag}"))?;
                let v = &attrs[eq + 2..];
                let close = v.find('"').ok_or("unquoted")?;
                check_text(&v[..close])?;
                attrs = v[close + 1..].trim_start();
            }
            elements += 1;
            if !empty {
                stack.push(name.to_string());
            }
        }
        check_text(rest)?;
        if stack.is_empty() {
            Ok(elements)
        } else {
            Err(format!("left open: {stack:?}"))
        }
    }

    fn check_text(t: &str) -> Result<(), String> {
        if t.contains('<') || t.contains('"') {
            return Err(format!("markup in text: {t}"));
        }
        let mut r = t;
        while let Some(i) = r.find('&') {
            r = &r[i + 1..];
            if !["amp;", "lt;", "gt;", "quot;", "apos;"]
                .iter()
                .any(|e| r.starts_with(e))
            {
                return Err(format!("bare & in {t}"));
            }
        }
        Ok(())
    }

    #[test]
    fn the_svg_is_well_formed_and_has_a_row_per_service() {
        let rows = vec![
            Row {
                name: "getty_ttyS0".into(),
                events: vec![notifying(500, Kind::Spawned), ev(620, Kind::Ready)],
            },
            Row {
                name: "getty_ttyS0/log".into(),
                events: vec![ev(480, Kind::Spawned)],
            },
            Row {
                name: "a<b>&\"c'\u{1}".into(),
                events: vec![
                    ev(400, Kind::Spawned),
                    ev(450, Kind::Exited),
                    ev(450, Kind::Finish),
                    ev(470, Kind::Finished),
                    ev(1450, Kind::StartFailed),
                    ev(2450, Kind::Restarted),
                ],
            },
            Row {
                name: "empty".into(),
                events: vec![],
            },
        ];
        let s = svg(&rows, Some(d(300)), d(3000));
        // the numbers as the f64 version of this writer wrote them
        for exact in [
            "width=\"1260\" height=\"230\"",
            "<line class=\"grid\" x1=\"291.4\" y1=\"50.0\" x2=\"291.4\" y2=\"170.0\"/>",
            "<rect class=\"starting\" x=\"398.6\" y=\"85.0\" width=\"42.9\" height=\"16.0\">",
            "<rect class=\"running\" x=\"362.9\" y=\"129.0\" width=\"17.9\" height=\"16.0\">",
        ] {
            assert!(s.contains(exact), "{exact}\n{s}");
        }
        well_formed(&s).unwrap_or_else(|e| panic!("{e}\n{s}"));
        for name in [
            "kernel",
            "getty_ttyS0",
            "getty_ttyS0/log",
            "a&lt;b&gt;&amp;&quot;c&apos;?",
            "empty",
        ] {
            assert!(s.contains(&format!(">{name}</text>")), "{name}");
        }
        assert!(s.contains("class=\"restart\""));
        assert!(s.contains("class=\"exit\""));
        assert!(s.contains("ready 620 ms"));
        // nothing at all, and a box up for a year
        well_formed(&svg(&[], None, Duration::ZERO)).unwrap();
        let year = Duration::from_secs(365 * 86400);
        let late = vec![Row {
            name: "x".into(),
            events: vec![
                Event::new(year, Kind::Spawned, 1),
                Event::new(Duration::MAX, Kind::Ready, 1),
            ],
        }];
        well_formed(&svg(&late, Some(d(1)), year)).unwrap();
        assert!(well_formed("<a><b></a>").is_err());
        assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>&</a>").is_err());
    }

    #[test]
    fn grid_steps() {
        assert_eq!(step(d(150)), d(10));
        assert_eq!(step(d(1500)), d(100));
        assert_eq!(step(d(4000)), d(200));
        assert_eq!(step(d(3_600_000 * 30)), d(2 * 3_600_000));
        assert_eq!(seconds_label(d(1500)), "1.5 s");
        assert_eq!(seconds_label(d(20)), "0.02 s");
        assert_eq!(seconds_label(d(2000)), "2 s");
    }
}
