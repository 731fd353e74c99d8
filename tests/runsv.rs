//! runsv as a process on temporary service directories.

mod common;
use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn lines(p: &std::path::Path) -> Vec<String> {
    lines_of(p)
}

/// A service (`service_dir`) whose logger's run script is `log_run`,
/// under runsv, once both run: (the directory, the service, runsv).
fn logged(tag: &str, run: &str, log_run: &str) -> (TempDir, std::path::PathBuf, Proc) {
    let (t, svc) = service_dir(tag, run);
    script(&svc.join("log/run"), log_run);
    let r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc) && is_running(&svc.join("log"))));
    (t, svc, r)
}

/// `runsv DIR` exits `code` at once, saying `what`.
fn runsv_fails(dir: impl AsRef<std::ffi::OsStr>, code: i32, what: &str) {
    fails_with(
        std::process::Command::new(applet("runsv")).arg(dir),
        code,
        what,
    );
}

/// The service's `supervise/stat` is `want` within T.
fn stat_becomes(svc: &std::path::Path, want: &str) -> bool {
    wait_until(T, || {
        fs::read_to_string(svc.join("supervise/stat")).unwrap() == want
    })
}

#[test]
fn starts_run_and_writes_runit_supervise_files() {
    let (_t, svc) = service_dir("start", "exec sleep 100");
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)), "service never ran");
    let pid = pid_of(&svc);
    assert_eq!(
        fs::read_to_string(svc.join("supervise/pid")).unwrap(),
        format!("{pid}\n")
    );
    assert_eq!(
        fs::read_to_string(svc.join("supervise/stat")).unwrap(),
        "run\n"
    );
    let st = status(&svc).unwrap();
    assert_eq!(st[17], b'u');
    // the status time stamp is TAI64: 2^62 + 10 + now
    let secs = u64::from_be_bytes(st[..8].try_into().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff((1 << 62) + 10 + now) <= 2);
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = fs::metadata(svc.join("supervise/control")).unwrap();
    assert!(meta.file_type().is_fifo());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "control FIFO must be root-only"
    );
    let meta = fs::metadata(svc.join("supervise")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    assert!(fs::metadata(svc.join("supervise/ok"))
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn second_runsv_refuses_with_111() {
    let (_t, svc) = service_dir("lock", "exec sleep 100");
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    runsv_fails(
        &svc,
        111,
        "unable to lock supervise/lock: temporary failure",
    );
}

#[test]
fn down_file_once_up_down_and_finish_arguments() {
    let (t, svc) = service_dir("updown", "echo started >> ../runs\nexec sleep 100");
    script(&svc.join("finish"), "echo \"$1 $2\" >> ../finish");
    fs::write(svc.join("down"), "").unwrap();
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
    std::thread::sleep(Duration::from_millis(200));
    assert!(lines(&t.join("runs")).is_empty(), "down file ignored");
    // once: starts, and is not restarted after it is killed
    assert_eq!(sv(t.path(), &["once", "svc"]).0, 0);
    assert!(wait_until(T, || is_running(&svc)));
    assert!(stat_becomes(&svc, "run, want down\n"));
    assert_eq!(sv(t.path(), &["kill", "svc"]).0, 0);
    assert!(
        wait_until(T, || lines(&t.join("finish")) == ["-1 9"]),
        "finish args: {:?}",
        lines(&t.join("finish"))
    );
    assert!(wait_until(T, || state_of(&svc) == Some(0)));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        lines(&t.join("runs")).len(),
        1,
        "once restarted the service"
    );
    // up, then down: TERM ends it and finish sees signal 15
    assert_eq!(sv(t.path(), &["up", "svc"]).0, 0);
    assert!(wait_until(T, || is_running(&svc)));
    let (code, out, _) = sv(t.path(), &["-w", "5", "down", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: down: svc: "), "{out}");
    assert!(wait_until(T, || lines(&t.join("finish")).len() == 2));
    assert_eq!(lines(&t.join("finish"))[1], "-1 15");
    // exit code reaches finish as the first argument
    script(&svc.join("run"), "exit 7");
    assert_eq!(sv(t.path(), &["once", "svc"]).0, 0);
    assert!(wait_until(T, || lines(&t.join("finish")).len() == 3));
    assert_eq!(lines(&t.join("finish"))[2], "7 0");
}

#[test]
fn signals_reach_the_service() {
    // The script waits with the `wait` builtin, which a trapped signal
    // interrupts at once: a shell waiting for a foreground `sleep` treats an
    // INT as the child's (wait-and-cooperative-exit) and may drop it, which
    // made this test fail now and then on a loaded machine.
    let (t, svc) = service_dir(
        "signals",
        "for s in HUP ALRM INT QUIT USR1 USR2 CONT; do trap \"echo $s >> ../got\" $s; done\n\
         echo ready > ../ready\nwhile :; do sleep 0.05 & wait $!; done",
    );
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || t.join("ready").exists()));
    for (cmd, name) in [
        ("hup", "HUP"),
        ("alarm", "ALRM"),
        ("interrupt", "INT"),
        ("quit", "QUIT"),
        ("1", "USR1"),
        ("2", "USR2"),
    ] {
        assert_eq!(sv(t.path(), &[cmd, "svc"]).0, 0);
        assert!(
            wait_until(T, || lines(&t.join("got")).last().map(String::as_str)
                == Some(name)),
            "{name} not delivered: {:?}",
            lines(&t.join("got"))
        );
    }
    // pause stops the process; cont resumes it
    assert_eq!(sv(t.path(), &["pause", "svc"]).0, 0);
    assert!(stat_becomes(&svc, "run, paused\n"));
    let pid = pid_of(&svc);
    assert!(wait_until(T, || fs::read_to_string(format!(
        "/proc/{pid}/stat"
    ))
    .unwrap_or_default()
    .contains(") T ")));
    assert_eq!(sv(t.path(), &["cont", "svc"]).0, 0);
    assert!(stat_becomes(&svc, "run\n"));
    // term: the service dies and is restarted (want up)
    assert_eq!(sv(t.path(), &["term", "svc"]).0, 0);
    assert!(wait_until(T, || is_running(&svc) && pid_of(&svc) != pid));
}

#[test]
fn log_pipe_survives_restarts_of_both_sides() {
    // The service writes 300 numbered lines per generation, then idles.
    let (t, svc) = service_dir(
        "logpipe",
        "g=$(cat ../gen 2>/dev/null || echo 0); echo $((g+1)) > ../gen\n\
         i=0; while [ $i -lt 300 ]; do echo \"$g $i\"; i=$((i+1)); done\nexec sleep 100",
    );
    // The logger takes 70 lines (byte-wise reads: nothing read ahead), then
    // exits, so it is restarted four times per generation while lines wait in the pipe.
    script(
        &svc.join("log/run"),
        "n=0; while [ $n -lt 70 ] && IFS= read -r l; do echo \"$l\" >> ../../out; n=$((n+1)); done",
    );
    let _r = start_runsv(&svc);
    let expect = |g: usize| -> Vec<String> {
        (0..=g)
            .flat_map(|g| (0..300).map(move |i| format!("{g} {i}")))
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(15), || lines(&t.join("out")).len()
            >= 300),
        "first generation incomplete: {} lines",
        lines(&t.join("out")).len()
    );
    assert_eq!(lines(&t.join("out")), expect(0));
    // restart the service: its new output goes through the same pipe
    assert_eq!(sv(t.path(), &["kill", "svc"]).0, 0);
    assert!(wait_until(Duration::from_secs(15), || lines(
        &t.join("out")
    )
    .len()
        >= 600));
    assert_eq!(
        lines(&t.join("out")),
        expect(1),
        "a line was lost or duplicated"
    );
}

#[test]
fn crash_loop_restarts_at_most_once_per_second() {
    let (t, svc) = service_dir("crash", "date +%s.%N >> ../starts\nexit 1");
    let mut r = start_runsv(&svc);
    std::thread::sleep(Duration::from_millis(3500));
    let starts: Vec<f64> = lines(&t.join("starts"))
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    assert!(
        (3..=5).contains(&starts.len()),
        "{} starts in 3.5 s",
        starts.len()
    );
    for w in starts.windows(2) {
        assert!(w[1] - w[0] >= 0.95, "restarted after {:.3}s", w[1] - w[0]);
    }
    // and runsv itself sleeps in between: at most a few wake-ups per restart
    let woke = wakeups(r.pid(), Duration::from_millis(2000));
    assert!(woke <= 20, "runsv woke {woke} times in 2 s");
    assert!(r.wait_exit(Duration::ZERO).is_none());
}

#[test]
fn control_garbage_is_ignored() {
    let (t, svc) = service_dir("garbage", "exec sleep 100");
    let mut r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    let pid = pid_of(&svc);
    let garbage: Vec<u8> = (0u8..=255)
        .filter(|b| !b"udopchaitkx12q".contains(b))
        .chain(b"\n\n\0zzz".iter().copied())
        .collect();
    fs::OpenOptions::new()
        .write(true)
        .open(svc.join("supervise/control"))
        .unwrap();
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(svc.join("supervise/control"))
        .unwrap();
    f.write_all(&garbage).unwrap();
    drop(f);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        r.wait_exit(Duration::ZERO).is_none(),
        "runsv died on garbage"
    );
    assert_eq!(pid_of(&svc), pid, "service disturbed by garbage");
    assert_eq!(
        fs::read_to_string(svc.join("supervise/stat")).unwrap(),
        "run\n"
    );
    assert_eq!(sv(t.path(), &["status", "svc"]).0, 0);
}

#[test]
fn exit_command_and_sigterm_end_runsv_after_the_log_drains() {
    let (t, svc, mut r) = logged(
        "exit",
        "echo last words\nexec sleep 100",
        "exec cat > ../../out",
    );
    // the line is written (the shell has gone on to `sleep`) before the TERM
    assert!(wait_until(T, || cmdline(pid_of(&svc)).starts_with("sleep")));
    r.signal(libc::SIGTERM);
    let st = r.wait_exit(T).expect("runsv did not exit on TERM");
    assert_eq!(st.code(), Some(0));
    // the logger saw end-of-file only after everything was written
    assert_eq!(fs::read_to_string(t.join("out")).unwrap(), "last words\n");
}

#[test]
fn custom_control_scripts() {
    let (t, svc) = service_dir(
        "custom",
        "trap 'echo HUP >> ../got' HUP\nwhile :; do sleep 0.05; done",
    );
    // control/h handles hup itself (exit 0): the service gets no signal.
    script(&svc.join("control/h"), "echo h >> ../custom");
    // control/t exits 1: the default TERM is still sent; control/d runs after.
    script(&svc.join("control/t"), "echo t >> ../custom; exit 1");
    script(&svc.join("control/d"), "echo d >> ../custom");
    let _r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sv(t.path(), &["hup", "svc"]).0, 0);
    assert!(wait_until(T, || lines(&t.join("custom")) == ["h"]));
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        lines(&t.join("got")).is_empty(),
        "HUP sent despite control/h"
    );
    let (code, out, _) = sv(t.path(), &["-w", "5", "down", "svc"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(lines(&t.join("custom")), ["h", "t", "d"]);
}

#[test]
fn bad_service_directories_give_clear_errors_without_busy_loops() {
    let t = TempDir::new("bad");
    // missing run: a warning per attempt, attempts at most once per second
    let missing = t.join("missing");
    fs::create_dir_all(&missing).unwrap();
    let mut r = start_runsv(&missing);
    std::thread::sleep(Duration::from_millis(2500));
    let err = stderr_of(&missing);
    let n = err
        .matches("unable to start ./run: file does not exist")
        .count();
    assert!((2..=4).contains(&n), "{n} attempts in 2.5 s: {err}");
    assert!(r.wait_exit(Duration::ZERO).is_none());
    // the supervisor still answers
    let (code, out, _) = sv(t.path(), &["status", "missing"]);
    assert_eq!(code, 0, "{out}");
    drop(r);
    // run not executable
    let noexec = t.join("noexec");
    fs::create_dir_all(&noexec).unwrap();
    fs::write(noexec.join("run"), "#!/bin/sh\nexec sleep 100\n").unwrap();
    let _r2 = start_runsv(&noexec);
    assert!(wait_until(T, || stderr_of(&noexec)
        .contains("unable to start ./run: access denied")));
    // a file instead of a directory, and a missing directory
    fs::write(t.join("file"), "").unwrap();
    runsv_fails(
        t.join("file"),
        111,
        "unable to change to directory: not a directory",
    );
    runsv_fails(t.join("nope"), 111, "file does not exist");
    let (code, _, err) = run(&mut std::process::Command::new(applet("runsv")));
    assert_eq!(code, 1);
    assert_eq!(err, "usage: runsv dir\n");
}

#[test]
fn unwritable_service_directory_is_a_clear_fatal_error() {
    let (_t, svc) = service_dir("ro", "exec sleep 100");
    // As root permissions do not stop us: a supervise that is a file does.
    fs::write(svc.join("supervise"), "").unwrap();
    runsv_fails(&svc, 111, "supervise");
}

/// At boot a service may poke a sibling before runsvdir has started that
/// sibling's runsv: the poke waits for it instead of being lost.
#[test]
fn a_poke_waits_for_a_runsv_that_is_still_starting() {
    let (t, svc) = service_dir("poke", "exec sleep 100");
    fs::write(svc.join("down"), "").unwrap();
    let starter = {
        let svc = svc.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            start_runsv(&svc)
        })
    };
    // the network services' poke: queued, not blocking; flushed at exit
    netsvc::poke(&svc, "u").expect("poke");
    netsvc::flush_pokes();
    let _r = starter.join().unwrap();
    assert!(
        wait_until(T, || is_running(&svc)),
        "the u sent before runsv started was lost"
    );
    // a directory that does not exist fails at once
    let t0 = std::time::Instant::now();
    assert!(netsvc::poke(&t.join("nothing"), "u").is_err());
    assert!(t0.elapsed() < Duration::from_secs(1));
}

/// Kill `pid` (a process this test started, maybe orphaned) when dropped.
struct KillOnDrop(Vec<i32>);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &p in &self.0 {
            if p > 0 && alive(p) {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
    }
}

#[test]
fn a_runsv_killed_with_9_leaves_no_second_instance() {
    // Regression: the service (and logger) of a runsv killed with -9 kept
    // running, and the next runsv started a second instance beside it.
    let (_t, svc, mut r1) = logged("orphan", "exec sleep 100", "exec cat >/dev/null");
    let (old, old_log) = (pid_of(&svc), pid_of(&svc.join("log")));
    let _cleanup = KillOnDrop(vec![old, old_log]);
    r1.signal(libc::SIGKILL);
    assert!(r1.wait_exit(T).is_some());
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        alive(old) && alive(old_log),
        "the orphans live on, as with runit"
    );

    let _r2 = start_runsv(&svc);
    assert!(
        wait_until(Duration::from_secs(8), || !alive(old) && !alive(old_log)),
        "the new runsv did not end the previous instance"
    );
    let log = svc.join("log");
    assert!(wait_until(T, || {
        is_running(&svc) && is_running(&log) && pid_of(&svc) != old && pid_of(&log) != old_log
    }));
    assert!(alive(pid_of(&svc)) && alive(pid_of(&log)));
    let err = stderr_of(&svc);
    assert!(
        err.contains(&format!(
            "service pid {old} was left running by a previous runsv"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("log service pid {old_log}")), "{err}");
}

#[test]
fn a_recycled_pid_in_an_old_status_is_left_alone() {
    // The status names a pid whose start time is not the one recorded: it
    // is some other process now, and it must not be touched.
    let (_t, svc) = service_dir("recycled", "exec sleep 100");
    // not its start time
    let _r = starts_beside_a_bystander(&svc, |pid| record(28, pid, 1), "a stranger was killed");
}

/// A status record of `len` bytes naming `pid`, started at `start`
/// (clock ticks after boot), running, wanted up.
fn record(len: usize, pid: u32, start: u64) -> Vec<u8> {
    let mut rec = vec![0u8; len];
    rec[12..16].copy_from_slice(&pid.to_le_bytes());
    rec[17] = b'u';
    rec[19] = 1;
    rec[20..28].copy_from_slice(&start.to_be_bytes());
    rec
}

/// runsv on `svc`, whose supervise/status (`status`, given the pid) names a
/// bystander `sleep` of this test, starts the service anew and leaves the
/// bystander alone (`why` if not).
fn starts_beside_a_bystander(svc: &Path, status: impl Fn(u32) -> Vec<u8>, why: &str) -> Proc {
    let mut bystander = std::process::Command::new("sleep")
        .arg("100")
        .spawn()
        .unwrap();
    let _cleanup = KillOnDrop(vec![bystander.id() as i32]);
    fs::create_dir_all(svc.join("supervise")).unwrap();
    fs::write(svc.join("supervise/status"), status(bystander.id())).unwrap();
    let r = start_runsv(svc);
    assert!(wait_until(T, || is_running(svc)
        && pid_of(svc) != bystander.id() as i32));
    std::thread::sleep(Duration::from_millis(200));
    assert!(bystander.try_wait().unwrap().is_none(), "{why}");
    r
}

#[test]
fn a_status_of_another_boot_names_no_process_of_this_one() {
    // A supervise/ kept on persistent storage outlives a reboot; on a box
    // that boots the same way each time, a pid and start tick recorded in
    // the last boot can match another process now. The boot id tells.
    let (_t, svc) = service_dir("otherboot", "exec sleep 100");
    let other_boot = |pid| {
        // its very start time, and another boot's id
        let start = ::common::procfs::start_time(pid).unwrap();
        let mut rec = record(44, pid, start);
        let mut other_boot = ::common::procfs::boot_id().unwrap();
        other_boot[0] ^= 0xff;
        rec[28..44].copy_from_slice(&other_boot);
        rec
    };
    let _r = starts_beside_a_bystander(
        &svc,
        other_boot,
        "a process of this boot was taken for the last boot's service",
    );
    // the new record carries this boot's id
    let rec = fs::read(svc.join("supervise/status")).unwrap();
    assert_eq!(rec.len(), 68);
    assert_eq!(&rec[28..44], &::common::procfs::boot_id().unwrap());
}

#[test]
fn a_control_that_is_not_a_fifo_is_replaced_not_spun_on() {
    // Regression: a regular file as supervise/control was always readable
    // and always at end of file: runsv spun at 100% CPU.
    let (t, svc) = service_dir("notfifo", "exec sleep 100");
    fs::create_dir_all(svc.join("supervise")).unwrap();
    fs::write(svc.join("supervise/control"), "d").unwrap();
    fs::write(svc.join("supervise/ok"), "").unwrap();
    let r = start_runsv(&svc);
    assert!(wait_until(T, || is_running(&svc)));
    use std::os::unix::fs::FileTypeExt;
    for f in ["control", "ok"] {
        let m = fs::symlink_metadata(svc.join("supervise").join(f)).unwrap();
        assert!(m.file_type().is_fifo(), "{f} was not replaced by a FIFO");
    }
    assert!(
        stderr_of(&svc).contains("control was not a FIFO: replaced"),
        "{}",
        stderr_of(&svc)
    );
    let woke = wakeups(r.pid(), Duration::from_millis(500));
    assert!(woke <= 2, "runsv woke {woke} times in 0.5 s while idle");
    assert_eq!(sv(t.path(), &["down", svc.to_str().unwrap()]).0, 0);
    assert!(wait_until(T, || state_of(&svc) == Some(0)));

    // a directory full of files where the FIFO belongs: a clear refusal
    let (_t2, svc2) = service_dir("fifodir", "exec sleep 100");
    fs::create_dir_all(svc2.join("supervise/control/sub")).unwrap();
    let mut r2 = start_runsv(&svc2);
    let st = r2.wait_exit(T).expect("runsv must refuse, not hang");
    assert_eq!(st.code(), Some(111));
    assert!(
        stderr_of(&svc2).contains("control is not a FIFO and cannot be removed"),
        "{}",
        stderr_of(&svc2)
    );
}
