//! `modprobe` as scripts and the kernel run it, always with `-n` (dry run)
//! against module trees made here: nothing is ever loaded into this
//! machine's kernel. The fake tree checks lookups, order, options and
//! messages; the default image's own tree is read by kmod's `depmod` and
//! `modprobe -n` beside ferrite's, which must agree.

mod common;
use common::*;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const RELEASE: &str = "9.9.9-ferrite-test";

/// A module tree under `root/lib/modules/RELEASE` with made-up modules
/// (names no real kernel has, so nothing of this machine's interferes).
fn fake_tree(root: &Path) -> PathBuf {
    let dir = root.join("lib/modules").join(RELEASE);
    for m in [
        "kernel/net/fkt_base.ko",
        "kernel/net/fkt_mid.ko",
        "kernel/net/fkt-top.ko",
        "kernel/net/fkt_pre.ko",
        "kernel/net/fkt_post.ko",
        "kernel/drivers/fkt_pci.ko",
        "kernel/drivers/fkt_black.ko",
    ] {
        let p = dir.join(m);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, b"not a module: never loaded").unwrap();
    }
    fs::write(
        dir.join("modules.dep"),
        "kernel/net/fkt-top.ko: kernel/net/fkt_mid.ko kernel/net/fkt_base.ko\n\
         kernel/net/fkt_mid.ko: kernel/net/fkt_base.ko\n\
         kernel/net/fkt_base.ko:\n\
         kernel/net/fkt_pre.ko:\n\
         kernel/net/fkt_post.ko:\n\
         kernel/drivers/fkt_pci.ko: kernel/net/fkt_base.ko\n\
         kernel/drivers/fkt_black.ko:\n",
    )
    .unwrap();
    fs::write(
        dir.join("modules.alias"),
        "# Aliases extracted from modules themselves.\n\
         alias rtnl-link-fkt fkt_top\n\
         alias pci:v0000FEEDd*sv*sd*bc02sc*i* fkt_pci\n\
         alias fkt-[ab]-net fkt_mid\n\
         alias fkt-dark fkt_black\n",
    )
    .unwrap();
    fs::write(
        dir.join("modules.softdep"),
        "# Soft dependencies extracted from modules themselves.\n\
         softdep fkt_top pre: fkt_pre fkt_nowhere post: fkt_post\n",
    )
    .unwrap();
    fs::write(dir.join("modules.builtin"), "kernel/lib/fkt_inside.ko\n").unwrap();
    let conf = root.join("modprobe.d");
    fs::create_dir_all(&conf).unwrap();
    fs::write(
        conf.join("test.conf"),
        "# as a board's /etc/modprobe.d would have it\n\
         options fkt_top level=3\n\
         blacklist fkt_black\n",
    )
    .unwrap();
    dir
}

/// `ferrite modprobe -n -d ROOT -S RELEASE -C ROOT/modprobe.d ARGS`:
/// exit code, stdout, stderr.
fn dry(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(ferrite())
        .arg("modprobe")
        .arg("-n")
        .arg("-d")
        .arg(root)
        .args(["-S", RELEASE, "-C"])
        .arg(root.join("modprobe.d"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dry_run_over_a_fake_module_tree() {
    let tmp = TempDir::new("modprobe-fake");
    let root = tmp.path();
    let dir = fake_tree(root);
    let ins = |rel: &str, opts: &str| format!("insmod {}/{rel} {opts}\n", dir.display());
    // the kernel's own request for `ip link add x type fkt`: the alias,
    // then what it needs first, its soft dependencies around it, the
    // configured options
    let (code, out, err) = dry(root, &["-q", "--", "rtnl-link-fkt"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(
        out,
        [
            ins("kernel/net/fkt_base.ko", ""),
            ins("kernel/net/fkt_mid.ko", ""),
            ins("kernel/net/fkt_pre.ko", ""),
            ins("kernel/net/fkt-top.ko", "level=3"),
            ins("kernel/net/fkt_post.ko", ""),
        ]
        .concat()
    );
    // - and _ alike; parameters after the name, a value with a space quoted
    let (code, out, _) = dry(root, &["fkt-top", "speed=9", "name=a b"]);
    assert_eq!(code, 0);
    assert!(
        out.ends_with(
            &[
                ins("kernel/net/fkt-top.ko", "level=3 speed=9 name=\"a b\""),
                ins("kernel/net/fkt_post.ko", "")
            ]
            .concat()
        ),
        "{out}"
    );
    // glob aliases: * and [...]
    let (code, out, _) = dry(
        root,
        &["pci:v0000FEEDd00001234sv00000001sd00000002bc02sc00i00"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        ins("kernel/net/fkt_base.ko", "") + &ins("kernel/drivers/fkt_pci.ko", "")
    );
    let (_, out, _) = dry(root, &["fkt-b-net"]);
    assert!(out.ends_with(&ins("kernel/net/fkt_mid.ko", "")), "{out}");
    let (code, _, err) = dry(root, &["-q", "fkt-c-net"]);
    assert_eq!((code, err.as_str()), (1, ""));
    // built in: success, nothing to load
    let (code, out, err) = dry(root, &["fkt-inside"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "builtin fkt_inside\n", "")
    );
    // blacklisted: not through an alias, but by name (or -b)
    assert_eq!(dry(root, &["fkt-dark"]), (0, String::new(), String::new()));
    assert_eq!(
        dry(root, &["fkt_black"]).1,
        ins("kernel/drivers/fkt_black.ko", "")
    );
    assert_eq!(dry(root, &["-b", "fkt_black"]).1, "");
    // -a: every word a module; -R: what a name stands for
    let (code, out, _) = dry(root, &["-a", "fkt_pre", "fkt_post"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        ins("kernel/net/fkt_pre.ko", "") + &ins("kernel/net/fkt_post.ko", "")
    );
    assert_eq!(dry(root, &["-R", "rtnl-link-fkt"]).1, "fkt_top\n");
    // kmod's message and exit code for what is not there; -q says nothing
    let (code, out, err) = dry(root, &["fkt_nothing"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "modprobe: FATAL: Module fkt_nothing not found in directory {}\n",
            dir.display()
        )
    );
    assert_eq!(
        dry(root, &["-q", "fkt_nothing"]),
        (1, String::new(), String::new())
    );
    // -a goes on after a failure and still fails
    let (code, out, _) = dry(root, &["-a", "-q", "fkt_nothing", "fkt_pre"]);
    assert_eq!((code, out), (1, ins("kernel/net/fkt_pre.ko", "")));
    let (code, _, err) = dry(root, &[]);
    assert_eq!(
        (code, err.as_str()),
        (1, "modprobe: ERROR: missing parameters. See -h.\n")
    );
    // -r of a module that is not loaded: nothing to do, as kmod's
    assert_eq!(
        dry(root, &["-r", "fkt_top"]),
        (0, String::new(), String::new())
    );
    let (code, _, err) = dry(root, &["-r", "fkt_inside"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "modprobe: FATAL: Module fkt_inside is builtin.\n")
    );
    // a directory with no index files at all: every module is missing
    let (code, _, err) = dry(root, &["-S", "0.0-none", "fkt_top"]);
    assert_eq!(code, 1);
    assert!(err.contains("not found in directory"), "{err}");
}

/// The modules of the default image's `cpio` (`make image`), unpacked here.
fn image_modules(cpio: &str, root: &Path) -> Option<String> {
    let cpio_gz = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/images/qemu-x86_64")
        .join(cpio);
    if !require("the qemu-x86_64 image (make image)", cpio_gz.exists()) {
        return None;
    }
    let gz = fs::read(cpio_gz).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    let mut release = None;
    for (name, mode, data, _) in rootfs::cpio::read_all(&raw).unwrap() {
        let Some(rest) = name.strip_prefix("lib/modules/") else {
            continue;
        };
        release.get_or_insert_with(|| rest.split('/').next().unwrap_or("").to_string());
        let p = root.join(&name);
        if mode & 0o170000 == 0o040000 {
            fs::create_dir_all(&p).unwrap();
        } else {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, data).unwrap();
        }
    }
    release
}

fn lines_sorted(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(String::from).collect();
    v.sort();
    v
}

/// `modules.dep` as module -> the set of what it needs.
fn dep_sets(text: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(m, d)| {
            let mut d: Vec<String> = d.split_whitespace().map(String::from).collect();
            d.sort();
            (m.to_string(), d)
        })
        .collect()
}

/// The index files the image tool wrote say what kmod's own depmod says
/// of the same modules, and ferrite's `modprobe -n` would load what kmod's
/// `modprobe -n` would, for every shipped module and alias: those of the
/// root (the on-demand ones too) and of the disk's initrd (ext4 with its
/// soft dependency on crypto-crc32c).
#[test]
fn the_images_index_files_agree_with_kmod() {
    if !require(
        "kmod's depmod and modprobe (Debian's kmod)",
        Path::new("/usr/sbin/depmod").exists() && Path::new("/usr/sbin/modprobe").exists(),
    ) {
        return;
    }
    for cpio in ["initramfs.cpio.gz", "initrd.cpio.gz"] {
        agrees_with_kmod(cpio);
    }
}

fn agrees_with_kmod(cpio: &str) {
    let tmp = TempDir::new("modprobe-kmod");
    let ours = tmp.path().join("ours");
    let theirs = tmp.path().join("theirs");
    let Some(release) = image_modules(cpio, &ours) else {
        return;
    };
    assert!(image_modules(cpio, &theirs).is_some());
    let mine = ours.join("lib/modules").join(&release);
    let kmods = theirs.join("lib/modules").join(&release);
    for f in ["modules.dep", "modules.alias", "modules.softdep"] {
        fs::remove_file(kmods.join(f)).unwrap();
    }
    let st = Command::new("/usr/sbin/depmod")
        .arg("-b")
        .arg(&theirs)
        .arg(&release)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    let read = |d: &Path, f: &str| fs::read_to_string(d.join(f)).unwrap();
    for f in ["modules.alias", "modules.softdep"] {
        assert_eq!(
            lines_sorted(&read(&mine, f)),
            lines_sorted(&read(&kmods, f)),
            "{f}"
        );
    }
    let deps = dep_sets(&read(&mine, "modules.dep"));
    assert_eq!(deps, dep_sets(&read(&kmods, "modules.dep")));
    let want = match cpio {
        "initrd.cpio.gz" => "/ext4.ko",
        _ => "/dummy.ko",
    };
    assert!(deps.keys().any(|m| m.ends_with(want)), "{deps:?}");
    // every module by name, every alias that is no pattern
    let mut names: Vec<String> = deps
        .keys()
        .filter_map(|p| p.rsplit('/').next())
        .map(|f| f.trim_end_matches(".ko").to_string())
        .collect();
    names.extend(
        read(&mine, "modules.alias")
            .lines()
            .filter_map(|l| l.strip_prefix("alias "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|a| !a.contains(['*', '?', '[']))
            .map(String::from),
    );
    assert!(
        names
            .iter()
            .any(|n| n == "rtnl-link-dummy" || n == "fs-ext4"),
        "{names:?}"
    );
    for name in &names {
        let run = |prog: &Path, root: &Path| {
            let out = Command::new(prog)
                .args(["-n", "-v", "-C", "/dev/null", "-S", &release, "-d"])
                .arg(root)
                .arg(name)
                .output()
                .unwrap();
            let text =
                String::from_utf8_lossy(&out.stdout).replace(&root.display().to_string(), "ROOT");
            (out.status.code(), text)
        };
        let (kc, kout) = run(Path::new("/usr/sbin/modprobe"), &theirs);
        let (fc, fout) = run(&applet("modprobe"), &ours);
        // both leave out what this machine's kernel has loaded or built
        // in, but may judge "built in" differently (kmod by /sys/module,
        // ours by the tree's modules.builtin): a difference only in such
        // modules is said, not failed
        let in_host = |l: &str| {
            let file = l.split_whitespace().nth(1).unwrap_or("");
            let stem = file
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".ko");
            Path::new("/sys/module")
                .join(stem.replace('-', "_"))
                .exists()
        };
        let (fs, ks) = (lines_sorted(&fout), lines_sorted(&kout));
        let differ: Vec<&String> = fs
            .iter()
            .filter(|l| !ks.contains(l))
            .chain(ks.iter().filter(|l| !fs.contains(l)))
            .collect();
        if !differ.is_empty() && differ.iter().all(|l| in_host(l)) {
            eprintln!(
                "{cpio}: {name}: differs only in modules of this machine's kernel: {differ:?}"
            );
            continue;
        }
        assert_eq!(fc, kc, "{name}: exit code");
        // the same modules with the same options, the module itself last
        // (depmod may order what it needs another valid way)
        assert_eq!(lines_sorted(&fout), lines_sorted(&kout), "{name}");
        assert_eq!(fout.lines().last(), kout.lines().last(), "{name}");
        eprintln!(
            "{cpio}: {name}: {} module(s), as kmod",
            fout.lines().count()
        );
    }
}
