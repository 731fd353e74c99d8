//! The README's promise that its two commands set up what they need: one
//! script knows the prerequisites, `.ci/run` is nothing but `make test`, and
//! without root or apt the setup names what is missing instead of half-working.

mod common;

use common::{is_root, require, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn deps() -> PathBuf {
    repo().join("scripts/deps")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Run `cmd`, which must exit 1: what it said (stdout and stderr).
fn fails(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    t
}

#[test]
fn ci_run_is_make_test_and_nothing_else() {
    let script = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let commands: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    // The shell's own setup, CI=true, make itself (which make cannot install),
    // and then only the README's test command.
    let allowed_prefix = [
        "set -euo pipefail",
        "cd \"$(dirname \"$0\")/..\"",
        "export CI=true",
    ];
    for c in &commands {
        let ok = allowed_prefix.contains(c)
            || c.starts_with("command -v make >/dev/null ||")
            || *c == "exec make test";
        assert!(ok, ".ci/run does more than `make test`: {c:?}");
    }
    assert_eq!(
        commands.last(),
        Some(&"exec make test"),
        ".ci/run must end in `make test`"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("make qemu") && readme.contains("make test"));
}

#[test]
fn the_package_list_lives_only_in_scripts_deps() {
    // Package names that only the setup needs: no other file the user reads
    // or runs keeps a copy of the list.
    for file in ["README.md", "Makefile", ".ci/run", "docs/architecture.md"] {
        let t = std::fs::read_to_string(repo().join(file)).unwrap();
        for pkg in ["dnsmasq-base", "qemu-user-static", "iputils-ping"] {
            assert!(
                !t.contains(pkg),
                "{file} keeps a copy of the package list ({pkg})"
            );
        }
    }
    let d = std::fs::read_to_string(deps()).unwrap();
    assert!(d.contains("dnsmasq-base") && d.contains("qemu-system-arm"));
}

#[test]
fn make_help_lists_the_targets() {
    let o = Command::new("make")
        .arg("-s")
        .arg("help")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for target in [
        "make qemu",
        "make image",
        "make test",
        "make bench",
        "make deps",
    ] {
        let line = out.lines().find(|l| l.starts_with(&format!("{target} ")));
        assert!(
            line.is_some_and(|l| l.len() > target.len() + 10),
            "make help: no line for {target}:\n{out}"
        );
    }
}

#[test]
fn help_of_the_setup_script() {
    let o = Command::new(deps()).arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("scripts/deps test"));
    let o = Command::new(deps())
        .arg("no-such-profile")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A PATH with every program of /usr/bin and /bin but apt and dpkg: the
/// machine of a user without Debian's package tools.
fn path_without_apt(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for d in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            if n.starts_with("apt") || n.starts_with("dpkg") || bin.join(&name).exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), bin.join(&name));
        }
    }
    let cargo_bin = Path::new(&std::env::var("HOME").unwrap_or_default()).join(".cargo/bin");
    format!("{}:{}", bin.display(), cargo_bin.display())
}

#[test]
fn without_apt_it_names_what_is_missing_and_installs_nothing() {
    let dir = TempDir::new("noapt");
    let t = fails(
        Command::new(deps())
            .args(["qemu", "qemu-x86_64"])
            .env("PATH", path_without_apt(dir.path())),
    );
    assert!(t.contains("no apt-get/dpkg"), "does not say why: {t}");
    assert!(
        t.contains("apt-get install") && t.contains("qemu-system-x86"),
        "no command to run: {t}"
    );
    assert!(
        !t.contains("qemu-system-arm"),
        "the x86_64 board does not need qemu-system-arm: {t}"
    );
    assert!(
        !t.contains("installing on this machine"),
        "it started installing: {t}"
    );
}

#[test]
fn without_root_it_is_silent_when_all_is_there_and_exact_when_not() {
    if !require("root (a user namespace makes a non-root user)", is_root()) {
        return;
    }
    // `unshare --user` without a mapping: `id -u` is 65534 (nobody), while
    // files stay readable, as for a user whose machine is already set up.
    let o = Command::new("/usr/bin/unshare")
        .args(["--user", "--"])
        .arg(deps())
        .arg("test")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "make test's setup is done (scripts/deps test ran as root), yet: {}",
        text(&o)
    );
    assert!(
        text(&o).is_empty(),
        "not quiet when everything is there: {}",
        text(&o)
    );

    // A board file that asks for a QEMU whose package is not installed here.
    let dir = TempDir::new("nonroot");
    let board = std::fs::read_to_string(repo().join("board-configs/qemu-x86_64.toml")).unwrap();
    let missing = ["qemu-system-ppc", "qemu-system-ppc64"];
    let installed = Command::new("dpkg-query")
        .args(["-W", "qemu-system-ppc"])
        .output();
    if installed.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: qemu-system-ppc is installed here; nothing is missing to report");
        return;
    }
    let b = dir.join("ppc.toml");
    std::fs::write(&b, board.replace("qemu-system-x86_64", missing[1])).unwrap();
    let t = fails(
        Command::new("/usr/bin/unshare")
            .args(["--user", "--"])
            .arg(deps())
            .arg("qemu")
            .arg(&b),
    );
    assert!(t.contains("needs root"), "{t}");
    assert!(
        t.contains("sudo apt-get install -y -q --no-install-recommends qemu-system-ppc"),
        "{t}"
    );
}
