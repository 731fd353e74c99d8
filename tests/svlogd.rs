//! svlogd as a process: formats, rotation, retention, processors, patterns,
//! UDP, signals, and above all: no line is ever lost.

mod common;
use common::*;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn svlogd(args: &[&str], dir: &Path) -> Child {
    Command::new(applet("svlogd"))
        .args(args)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Feed `input`, close stdin, wait; returns (exit code, stderr).
fn feed(args: &[&str], dir: &Path, input: &[u8]) -> (i32, String) {
    let mut c = svlogd(args, dir);
    let mut stdin = c.stdin.take().unwrap();
    let data = input.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&data));
    let out = c.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rotated files (sorted by time) and `current`, as one text.
fn all_logs(dir: &Path) -> (Vec<PathBuf>, String) {
    let mut old: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('@'))
        .collect();
    old.sort();
    let mut text = String::new();
    for p in &old {
        text.push_str(&fs::read_to_string(p).unwrap());
    }
    text.push_str(&fs::read_to_string(dir.join("current")).unwrap_or_default());
    (old, text)
}

/// A log directory `name` in `t` with `config`.
fn log_dir(t: &TempDir, name: &str, config: &str) -> PathBuf {
    let d = t.join(name);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("config"), config).unwrap();
    d
}

/// A service `app` in a new temporary directory whose run script is `run`,
/// with the standard logger writing to `var-log/app` and a `log/config`
/// when `config` says one, under runsv: (the directory, the service, its
/// log directory, runsv).
fn logged_app(tag: &str, run: &str, config: Option<&str>) -> (TempDir, PathBuf, PathBuf, Proc) {
    let t = TempDir::new(tag);
    let svc = t.join("app");
    let logs = t.join("var-log/app");
    script(&svc.join("run"), run);
    standard_logger(&svc, &logs);
    if let Some(c) = config {
        fs::write(svc.join("log/config"), c).unwrap();
    }
    let r = start_runsv(&svc);
    (t, svc, logs, r)
}

fn numbered(n: usize, width: usize) -> String {
    (0..n).map(|i| format!("line {i:0width$}\n")).collect()
}

fn strip_stamps(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once(' ').map_or(l, |x| x.1))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn timestamps_parse_to_now() {
    let t = TempDir::new("svlogd-stamps");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (flag, dir) in [("-t", "a"), ("-tt", "b"), ("-ttt", "c")] {
        let d = t.join(dir);
        assert_eq!(feed(&[flag], &d, b"hello world\n").0, 0);
        let line = fs::read_to_string(d.join("current")).unwrap();
        let (stamp, msg) = line.trim_end().split_once(' ').unwrap();
        assert_eq!(msg, "hello world");
        let secs = match flag {
            "-t" => {
                assert_eq!(stamp.len(), 25);
                u64::from_str_radix(&stamp[1..17], 16).unwrap() - (1u64 << 62) - 10
            }
            _ => {
                // YYYY-MM-DD_HH:MM:SS.xxxxx / YYYY-MM-DDTHH:MM:SS.xxxxx
                assert_eq!(stamp.len(), 25, "{stamp}");
                assert_eq!(&stamp[10..11], if flag == "-tt" { "_" } else { "T" });
                let out = Command::new("date")
                    .args([
                        "-u",
                        "-d",
                        &format!("{} {}", &stamp[..10], &stamp[11..19]),
                        "+%s",
                    ])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            }
        };
        assert!(secs.abs_diff(now) <= 5, "{flag}: {stamp} is not now");
    }
}

#[test]
fn rotation_by_size_keeps_every_line_and_n_limits_files() {
    let t = TempDir::new("svlogd-size");
    let d = log_dir(&t, "log", "s1000\nn100\n");
    let input = numbered(500, 6); // 6,000 bytes
    assert_eq!(feed(&[], &d, input.as_bytes()).0, 0);
    let (old, text) = all_logs(&d);
    assert_eq!(text, input, "lines lost, duplicated or reordered");
    assert!(old.len() >= 5, "{} rotations", old.len());
    for p in &old {
        let len = fs::metadata(p).unwrap().len();
        assert!(len <= 1000 && len > 900, "{} is {len} bytes", p.display());
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(".s") && name.len() == 27, "{name}");
    }
    // n: at most 3 old files
    let d2 = log_dir(&t, "log2", "s100\nn3\n");
    assert_eq!(feed(&[], &d2, numbered(200, 6).as_bytes()).0, 0);
    assert_eq!(all_logs(&d2).0.len(), 3);
}

#[test]
fn rotation_by_age_and_alrm() {
    let t = TempDir::new("svlogd-age");
    let d = log_dir(&t, "log", "t1\n");
    let mut c = svlogd(&[], &d);
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"first\n").unwrap();
    assert!(
        wait_until(T, || all_logs(&d).0.len() == 1),
        "not rotated by age"
    );
    assert_eq!(fs::read_to_string(d.join("current")).unwrap(), "");
    // ALRM rotates a non-empty current at once
    stdin.write_all(b"second\n").unwrap();
    assert!(wait_until(T, || fs::read_to_string(d.join("current"))
        .unwrap()
        == "second\n"));
    unsafe { libc::kill(c.id() as i32, libc::SIGALRM) };
    assert!(wait_until(T, || all_logs(&d).0.len() == 2));
    drop(stdin);
    assert!(c.wait().unwrap().success());
    assert_eq!(all_logs(&d).1, "first\nsecond\n");
}

#[test]
fn processor_output_and_u_on_failure() {
    let t = TempDir::new("svlogd-proc");
    // the processor sees the old state on fd 4 and leaves a new one on fd 5
    let d = log_dir(
        &t,
        "log",
        "s20\n!tr a-z A-Z; cat <&4 >/dev/null; echo seen >&5\n",
    );
    assert_eq!(feed(&[], &d, b"abcdefghij\nklmnopqrst\nuvwxyz\n").0, 0);
    let (old, text) = all_logs(&d);
    assert!(
        old.iter().all(|p| p.to_string_lossy().ends_with(".s")),
        "{old:?}"
    );
    // 11 + 11 bytes pass s20: the first line is rotated and processed
    assert_eq!(old.len(), 1);
    assert_eq!(text, "ABCDEFGHIJ\nklmnopqrst\nuvwxyz\n");
    assert_eq!(fs::read_to_string(d.join("state")).unwrap(), "seen\n");
    // a failing processor leaves the unprocessed file as .u
    let d2 = log_dir(&t, "log2", "s20\n!exit 3\n");
    let (code, err) = feed(&[], &d2, b"abcdefghij\nklmnopqrst\nuvwxyz\n");
    assert_eq!(code, 0);
    assert!(err.contains("processor failed"), "{err}");
    let (old, text) = all_logs(&d2);
    assert!(
        !old.is_empty() && old.iter().all(|p| p.to_string_lossy().ends_with(".u")),
        "{old:?}"
    );
    assert_eq!(text, "abcdefghij\nklmnopqrst\nuvwxyz\n");
    assert!(!fs::read_dir(&d2)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".t")));
}

#[test]
fn patterns_prefix_stderr_and_replacement() {
    let t = TempDir::new("svlogd-pat");
    let d = log_dir(&t, "log", "-*debug*\n+*debug: keep*\ne*error*\npapp: \n");
    let (code, err) = feed(
        &["-r", "_", "-R", "x"],
        &d,
        b"a debug line\nan debug: keep me\nan error here\nbin\x01ary\x7f\nxylophone\n",
    );
    assert_eq!(code, 0);
    assert_eq!(
        fs::read_to_string(d.join("current")).unwrap(),
        "app: an debug: keep me\napp: an error here\napp: bin_ary_\napp: _ylophone\n"
    );
    // stderr gets the prefix too
    assert_eq!(err, "app: an error here\n");
}

#[test]
fn udp_forwarding_with_and_without_local_copy() {
    let t = TempDir::new("svlogd-udp");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(T)).unwrap();
    let port = sock.local_addr().unwrap().port();
    for (kind, local) in [("u", true), ("U", false)] {
        let d = log_dir(&t, kind, &format!("{kind}127.0.0.1:{port}\npsvc: \n"));
        assert_eq!(feed(&["-tt"], &d, b"over the wire\n").0, 0);
        let mut buf = [0u8; 2048];
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"svc: over the wire\n");
        let cur = fs::read_to_string(d.join("current")).unwrap();
        assert_eq!(
            cur.ends_with("svc: over the wire\n"),
            local,
            "{kind}: {cur:?}"
        );
    }
}

#[test]
fn a_million_lines_none_lost() {
    let t = TempDir::new("svlogd-million");
    let d = log_dir(&t, "log", "s1000000\nn1000\n");
    let input = numbered(1_000_000, 7);
    let (code, _) = feed(&["-tt"], &d, input.as_bytes());
    assert_eq!(code, 0);
    let (old, text) = all_logs(&d);
    assert!(old.len() >= 15, "{} rotations", old.len());
    assert!(
        strip_stamps(&text) == input,
        "lines lost, duplicated or out of order"
    );
}

#[test]
fn logger_restarted_by_runsv_mid_stream_loses_nothing() {
    let t = TempDir::new("svlogd-runsv");
    let svc = t.join("svc");
    let logdir = t.join("logs");
    // 60,000 numbered lines, written as fast as the pipe takes them
    script(
        &svc.join("run"),
        "i=0; while [ $i -lt 60000 ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 100",
    );
    script(
        &svc.join("log/run"),
        &format!("exec {} {}", applet("svlogd").display(), logdir.display()),
    );
    let _r = start_runsv(&svc);
    let log = svc.join("log");
    // restart the logger (TERM, as `sv restart` does) several times while lines flow
    for _ in 0..5 {
        assert!(wait_until(T, || is_running(&log)));
        std::thread::sleep(Duration::from_millis(150));
        let (code, out, _) = sv(t.path(), &["-w", "5", "restart", log.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
    }
    let expect: String = (0..60000).map(|i| format!("line {i}\n")).collect();
    assert!(
        wait_until(Duration::from_secs(60), || all_logs(&logdir).1.len()
            >= expect.len()),
        "only {} of {} bytes arrived",
        all_logs(&logdir).1.len(),
        expect.len()
    );
    assert!(
        all_logs(&logdir).1 == expect,
        "a line was lost or duplicated across logger restarts"
    );
}

#[test]
fn full_disk_blocks_instead_of_dropping() {
    if !require("root (mounts a small tmpfs)", is_root()) {
        return;
    }
    let t = TempDir::new("svlogd-full");
    let mnt = t.join("mnt");
    let _u = Tmpfs::mount(&mnt, "1m");
    let d = mnt.join("log");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("config"), "s0\n").unwrap();
    // a filler takes all the space, then gives back 40 KB
    let mut filler = fs::File::create(mnt.join("filler")).unwrap();
    let _ = filler.write_all(&vec![b'x'; 1024 * 1024]);
    drop(filler);
    let full = fs::metadata(mnt.join("filler")).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(mnt.join("filler"))
        .unwrap()
        .set_len(full - 40 * 1024)
        .unwrap();
    // 480 KB: more than the free space, the pipe and svlogd's buffer together
    let input = numbered(40_000, 6);
    let mut c = svlogd(&[], &d);
    let mut stdin = c.stdin.take().unwrap();
    let stderr = c.stderr.take().unwrap();
    let err_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let et = err_text.clone();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut s = stderr;
        let mut buf = [0u8; 1024];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            et.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let data = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(data.as_bytes()));
    assert!(
        wait_until(T, || err_text
            .lock()
            .unwrap()
            .contains("out of disk space; pausing")),
        "no report of the full disk: {}",
        err_text.lock().unwrap()
    );
    std::thread::sleep(Duration::from_millis(500));
    // said once, not once per retry
    assert_eq!(
        err_text
            .lock()
            .unwrap()
            .matches("out of disk space")
            .count(),
        1
    );
    assert!(
        !writer.is_finished(),
        "the writer should be blocked by a full pipe"
    );
    assert!(c.try_wait().unwrap().is_none());
    fs::remove_file(mnt.join("filler")).unwrap();
    writer.join().unwrap().unwrap();
    assert!(c.wait().unwrap().success());
    assert_eq!(
        fs::read_to_string(d.join("current")).unwrap(),
        input,
        "lines lost on a full disk"
    );
    assert!(err_text.lock().unwrap().contains("writing again"));
}

#[test]
fn bad_input_long_lines_garbage_unknown_config_and_unwritable_dir() {
    let t = TempDir::new("svlogd-bad");
    // a 1 MB line without newline: kept, cut into buffer-sized lines
    let d = log_dir(&t, "long", "s0\n");
    let big = vec![b'a'; 1 << 20];
    assert_eq!(feed(&["-b", "65536"], &d, &big).0, 0);
    let cur = fs::read(d.join("current")).unwrap();
    assert_eq!(cur.iter().filter(|&&b| b == b'a').count(), 1 << 20);
    assert_eq!(cur.iter().filter(|&&b| b == b'\n').count(), 16);
    // binary garbage is logged as it is
    let d = t.join("garbage");
    let garbage: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    assert_eq!(feed(&[], &d, &garbage).0, 0);
    assert_eq!(fs::read(d.join("current")).unwrap().len(), 5000 + 1);
    // unknown directives: a warning naming them, the defaults kept
    let d = log_dir(&t, "cfg", "zap\ns10x\n");
    let (code, err) = feed(&[], &d, b"x\n");
    assert_eq!(code, 0);
    assert!(
        err.contains("config line 1: ignored: zap") && err.contains("config line 2: ignored: s10x"),
        "{err}"
    );
    // an unusable directory: clear error, retried, lines kept until it works
    let blocker = t.join("blocker");
    fs::write(&blocker, "").unwrap();
    let d = blocker.join("log");
    let mut c = svlogd(&[], &d);
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"waited\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(c.try_wait().unwrap().is_none());
    fs::remove_file(&blocker).unwrap();
    drop(stdin);
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("unable to create directory").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("not a directory; retrying every second"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(d.join("current")).unwrap(), "waited\n");
    // usage
    let (code, _, err) = run(Command::new(applet("svlogd")).arg("-Q").arg("x"));
    assert_eq!(code, 111);
    assert!(err.contains("usage: svlogd"));
}

#[test]
fn lock_hup_and_the_standard_service_logger() {
    // the standard logger writes to /var/log/service/app; ./args may point elsewhere
    let (t, svc, logs, _r) = logged_app("svlogd-svc", "echo started; exec sleep 100", None);
    let cur = logs.join("current");
    assert!(wait_until(T, || text_of(&cur).ends_with(" started\n")));
    let line = fs::read_to_string(&cur).unwrap();
    assert_eq!(
        line.split_once(' ').unwrap().0.len(),
        25,
        "-tt by default: {line}"
    );
    // a second svlogd on the same directory is refused
    let (code, err) = {
        let mut c = svlogd(&[], &logs);
        drop(c.stdin.take());
        std::thread::sleep(Duration::from_millis(300));
        let _ = c.kill();
        let out = c.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(err.contains("unable to lock directory"), "{code:?} {err}");
    // HUP rereads config: a prefix appears
    fs::write(logs.join("config"), "pnew: \n").unwrap();
    let logger = pid_of(&svc.join("log"));
    unsafe { libc::kill(logger, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sv(t.path(), &["restart", svc.to_str().unwrap()]).0, 0);
    assert!(wait_until(T, || text_of(&cur).contains("new: started")));
}

#[test]
fn a_service_ships_its_log_policy_as_log_config() {
    // log/config becomes the log directory's config (the pinger's short log):
    // rotation by its size, at most its number of old files, the newest
    // line in current
    let (_t, _svc, dir, _r) = logged_app(
        "svlogd-policy",
        "i=0; while [ $i -lt 200 ]; do echo \"line $i of a chatty service\"; i=$((i+1)); done; exec sleep 100",
        Some("s1000\nn2\n"),
    );
    assert!(wait_until(T, || text_of(&dir.join("current")).contains("line 199 ")));
    assert_eq!(
        fs::read_to_string(dir.join("config")).unwrap(),
        "s1000\nn2\n"
    );
    let old: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('@'))
        .collect();
    assert_eq!(old.len(), 2, "n2 keeps two old files");
    for f in old.iter().map(|e| e.path()).chain([dir.join("current")]) {
        let len = fs::metadata(&f).unwrap().len();
        assert!(len <= 1000, "{} is {len} bytes (s1000)", f.display());
    }
}

#[test]
fn a_config_with_a_byte_order_mark_keeps_the_logger_and_its_service_running() {
    // Regression: a config line starting with a multi-byte character (a BOM,
    // as editors write it) aborted svlogd; runsv restarted it once a second,
    // the pipe filled, and the service blocked on its stdout.
    let (_t, svc, logs, _r) = logged_app(
        "svlogd-bom",
        "i=0; while [ $i -lt 3000 ]; do echo \"line $i with some padding to fill a pipe quickly\"; i=$((i+1)); done; exec sleep 100",
        Some("\u{feff}s100000\né bad line\nn3\n"),
    );
    let cur = logs.join("current");
    assert!(
        wait_until(T, || text_of(&cur).contains("line 2999 ")),
        "the service's last line never reached the log"
    );
    let logger = pid_of(&svc.join("log"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(pid_of(&svc.join("log")), logger, "the logger was restarted");
}

#[test]
fn the_standard_logger_as_root_without_a_logger_user_runs_no_processor() {
    // Without a user `logger` the standard logger stays root; a `!processor`
    // in a config it does not own would run as root, so it is refused.
    if !require("root", is_root()) {
        return;
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    if passwd.lines().any(|l| l.starts_with("logger:")) {
        eprintln!("SKIP: this machine has a user logger; the standard logger drops to it");
        return;
    }
    // the marker in a directory of its own: logged_app makes the test's
    let marks = TempDir::new("svlogd-rootproc-marker");
    let marker = marks.join("processor-ran");
    let (_t, _svc, dir, _r) = logged_app(
        "svlogd-rootproc",
        "i=0; while [ $i -lt 50 ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 100",
        Some(&format!("s100\n!touch {}; cat\n", marker.display())),
    );
    assert!(wait_until(T, || text_of(&dir.join("current")).contains("line 49")));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!marker.exists(), "the processor ran as root");
    let rotated = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".u"))
        .count();
    assert!(rotated > 0, "rotated files stay unprocessed (.u)");
}

#[test]
fn numbers_out_of_range_are_usage_errors() {
    // Regression: `-l 18446744073709551615` overflowed `len + 1` (a panic in
    // a debug build, a 64 KiB wrap in release); a huge -b was an allocation.
    let t = TempDir::new("svlogd-range");
    for args in [
        ["-l", "18446744073709551615"],
        ["-b", "99999999999"],
        ["-l", "0"],
    ] {
        let (code, _, err) = run(Command::new(applet("svlogd")).args(args).arg(t.path()));
        assert_eq!(code, 111, "{args:?}: {err}");
        assert!(err.contains("out of range"), "{args:?}: {err}");
    }
}

#[test]
fn a_current_cut_inside_a_line_loses_its_torn_tail_at_start() {
    // A power cut keeps part of what svlogd had not synced: `current` can
    // end inside a line. At the next start the fragment goes (one warning),
    // the complete lines stay, and the next lines do not glue onto it.
    let t = TempDir::new("svlogd-torn");
    let d = log_dir(&t, "log", "s4096\n");
    fs::write(d.join("current"), "line 1\nline 2\nline 3 and a cut he").unwrap();
    let (code, err) = feed(&[], &d, b"line 4\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("current ended inside a line"), "{err}");
    assert!(err.contains("its last 19 bytes dropped"), "{err}");
    assert_eq!(all_logs(&d).1, "line 1\nline 2\nline 4\n");
    // a whole current is left as it is, with no warning
    let (code, err) = feed(&[], &d, b"line 5\n");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(all_logs(&d).1, "line 1\nline 2\nline 4\nline 5\n");
    // a current that is one fragment, no line at all
    fs::write(d.join("current"), "frag").unwrap();
    let (_, err) = feed(&[], &d, b"line 6\n");
    assert!(err.contains("its last 4 bytes dropped"), "{err}");
    assert_eq!(fs::read_to_string(d.join("current")).unwrap(), "line 6\n");
}
