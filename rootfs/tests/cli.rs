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
