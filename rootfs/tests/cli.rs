//! The image tool's command line on bad boards: clear errors naming the problem.

use std::process::Command;

fn rootfs(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrite-rootfs"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn board_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrite-rootfs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = include_str!("../../board-configs/qemu-x86_64.toml");

#[test]
fn unknown_key_and_missing_field_are_named() {
    let p = board_file(
        "unknown.toml",
        &format!("{GOOD}\n[console2]\ntty = \"x\"\n"),
    );
    let (code, err) = rootfs(&["image", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("console2"), "{err}");
    assert!(err.contains("unknown.toml"), "{err}");
    let p = board_file("missing.toml", &GOOD.replace("baud = 115200\n", ""));
    let (code, err) = rootfs(&["image", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing field `baud`"), "{err}");
    let (code, err) = rootfs(&["image", "/nonexistent/board.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/board.toml"), "{err}");
    let (code, err) = rootfs(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage"), "{err}");
}

#[test]
fn every_board_config_in_the_repo_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../board-configs");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "toml") {
            rootfs::board::Board::load(&e.path()).unwrap();
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn bad_board_files_are_clear_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("ferrite-rootfs-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("huge", vec![b'x'; 4 << 20]),
        ("NUL bytes", b"name = \"t\0\"\n".to_vec()),
        ("not UTF-8", b"name = \"\xff\xfe\"\n".to_vec()),
        ("empty", Vec::new()),
    ];
    for (case, content) in cases {
        let p = dir.join("board.toml");
        std::fs::write(&p, content).unwrap();
        let (code, err) = rootfs(&["image", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{case}: {err}");
        assert!(err.contains(p.to_str().unwrap()), "{case}: {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert!(err.len() < 1000, "{case}: {} bytes of message", err.len());
    }
    let p = dir.join("board.toml");
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("board.toml", &p).unwrap();
    let (code, err) = rootfs(&["image", p.to_str().unwrap()]);
    assert!(code == 2 && err.contains("symbolic links"), "loop: {err}");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir(&p).unwrap();
    let (code, err) = rootfs(&["image", p.to_str().unwrap()]);
    assert!(
        code == 2 && err.contains("not a regular file"),
        "dir: {err}"
    );
    // a byte-order mark before a good board is no error
    std::fs::remove_dir(&p).unwrap();
    std::fs::write(&p, format!("\u{feff}{GOOD}")).unwrap();
    rootfs::board::Board::load(&p).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
