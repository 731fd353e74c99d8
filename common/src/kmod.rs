//! Kernel modules without kmod: what a module needs, read from its own
//! `.modinfo` section (`depends=`, `softdep=`), and the order to load a set
//! of modules in. Pure: the image tool feeds it the `.ko` files of a Debian
//! kernel package (which ships no `modules.dep`: depmod runs at install),
//! and writes the result as `/etc/modules` and a `modules.dep` in depmod's
//! format. Module files come from outside, so every offset is checked.

/// What one module declares about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// hard dependencies (`depends=a,b`): loaded before it, or it fails
    pub depends: Vec<String>,
    /// soft dependencies (`softdep=pre: a b post: c`), loaded when present
    pub pre: Vec<String>,
    pub post: Vec<String>,
    /// other names it answers to (`alias=crypto-crc32c`)
    pub aliases: Vec<String>,
}

/// A module's name as the kernel and modprobe compare it: `-` is `_`.
pub fn canonical(name: &str) -> String {
    name.replace('-', "_")
}

/// The module name of a file name (`virtio-net.ko`, `crc32c.ko.xz`).
pub fn name_of_file(file: &str) -> Option<String> {
    let stem = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|s| file.strip_suffix(s))?;
    (!stem.is_empty()).then(|| canonical(stem))
}

/// The dependencies a module file declares; `None` when it is not an ELF
/// module with a `.modinfo` section.
pub fn modinfo(ko: &[u8]) -> Option<ModInfo> {
    let section = crate::elf::section(ko, ".modinfo")?;
    let mut info = ModInfo::default();
    for entry in section.split(|&b| b == 0) {
        let Ok(text) = std::str::from_utf8(entry) else {
            continue;
        };
        if let Some(list) = text.strip_prefix("depends=") {
            info.depends
                .extend(list.split(',').filter(|d| !d.is_empty()).map(canonical));
        } else if let Some(a) = text.strip_prefix("alias=") {
            info.aliases.push(canonical(a));
        } else if let Some(soft) = text.strip_prefix("softdep=") {
            let (pre, post) = parse_softdep(soft);
            info.pre.extend(pre);
            info.post.extend(post);
        }
    }
    Some(info)
}

/// `pre: a b post: c` (either part may be missing).
pub fn parse_softdep(text: &str) -> (Vec<String>, Vec<String>) {
    let (mut pre, mut post) = (Vec::new(), Vec::new());
    let mut into_post = None;
    for w in text.split_whitespace() {
        match w {
            "pre:" => into_post = Some(false),
            "post:" => into_post = Some(true),
            m => match into_post {
                Some(false) => pre.push(canonical(m)),
                Some(true) => post.push(canonical(m)),
                None => {}
            },
        }
    }
    (pre, post)
}

/// Dependency chains longer than this are refused (a loop in broken input
/// is caught by the visited set; this bounds the recursion).
const MAX_DEPTH: usize = 64;

/// What a name stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Module(ModInfo),
    /// an alias (`crypto-crc32c`, as ext4's softdep names it): the modules
    /// that declare it, all loaded, as modprobe does
    Alias(Vec<String>),
}

/// Finds what a name stands for: `None` when the kernel has no such module
/// or alias.
pub type Lookup<'a> = &'a mut dyn FnMut(&str) -> Option<Found>;

/// The order to load `wanted` in: every module after its hard dependencies
/// (modprobe loads them first) and its `pre:` soft dependencies, its `post:`
/// ones after it; each once. `lookup` gives each available module's info
/// (the image tool reads a `.ko` only when it is asked for); `builtin` names
/// modules compiled into the kernel (satisfied already). A hard dependency
/// that is neither is an error naming both; a missing soft dependency is
/// skipped (it is optional by definition).
pub fn load_order(
    wanted: &[String],
    lookup: Lookup,
    builtin: &[String],
) -> Result<Vec<String>, String> {
    struct Walk<'a, 'b> {
        lookup: Lookup<'a>,
        builtin: &'b [String],
        seen: Vec<String>,
        out: Vec<String>,
    }
    impl Walk<'_, '_> {
        fn visit(&mut self, m: &str, depth: usize, optional: bool) -> Result<(), String> {
            let m = canonical(m);
            let m = m.as_str();
            if self.seen.iter().any(|s| s == m) || self.builtin.iter().any(|b| b == m) {
                return Ok(());
            }
            if depth > MAX_DEPTH {
                return Err(format!(
                    "module {m}: dependencies nested deeper than {MAX_DEPTH}"
                ));
            }
            let info = match (self.lookup)(m) {
                Some(Found::Module(info)) => info,
                Some(Found::Alias(modules)) => {
                    self.seen.push(m.to_string());
                    for a in &modules {
                        self.visit(a, depth + 1, optional)?;
                    }
                    return Ok(());
                }
                None if optional => return Ok(()),
                None => return Err(format!("module {m}: not in the kernel's modules")),
            };
            self.seen.push(m.to_string());
            for p in &info.pre {
                self.visit(p, depth + 1, true)?;
            }
            for d in &info.depends {
                self.visit(d, depth + 1, false)
                    .map_err(|e| format!("module {m} needs {d}: {e}"))?;
            }
            self.out.push(m.to_string());
            for p in &info.post {
                self.visit(p, depth + 1, true)?;
            }
            Ok(())
        }
    }
    let mut walk = Walk {
        lookup,
        builtin,
        seen: Vec::new(),
        out: Vec::new(),
    };
    for w in wanted {
        walk.visit(&canonical(w), 0, false)?;
    }
    Ok(walk.out)
}

/// The names in a `modules.builtin` file (`kernel/fs/ext4/ext4.ko` lines).
pub fn builtin_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| name_of_file(l.rsplit('/').next().unwrap_or(l)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn order(
        wanted: &[&str],
        k: &BTreeMap<String, ModInfo>,
        builtin: &[&str],
    ) -> Result<Vec<String>, String> {
        let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
        let builtin: Vec<String> = builtin.iter().map(|s| s.to_string()).collect();
        let mut lookup = |m: &str| match k.get(m) {
            Some(i) => Some(Found::Module(i.clone())),
            None if m == "crypto_crc32c" => Some(Found::Alias(vec!["crc32c_generic".into()])),
            None => None,
        };
        load_order(&wanted, &mut lookup, &builtin)
    }

    /// A minimal ELF64 little-endian file with one `.modinfo` section.
    fn elf_with_modinfo(modinfo: &[u8]) -> Vec<u8> {
        let names = b"\0.modinfo\0.shstrtab\0";
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        let info_off = f.len();
        f.extend_from_slice(modinfo);
        let names_off = f.len();
        f.extend_from_slice(names);
        let shoff = f.len();
        // section 0: null; 1: .modinfo; 2: .shstrtab
        let mut sh = |name: u32, off: usize, size: usize| {
            let mut h = vec![0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[24..32].copy_from_slice(&(off as u64).to_le_bytes());
            h[32..40].copy_from_slice(&(size as u64).to_le_bytes());
            f.extend_from_slice(&h);
        };
        sh(0, 0, 0);
        sh(1, info_off, modinfo.len());
        sh(10, names_off, names.len());
        f[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        f[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        f[0x3e..0x40].copy_from_slice(&2u16.to_le_bytes());
        f
    }

    #[test]
    fn modinfo_from_an_elf_module() {
        let ko = elf_with_modinfo(
            b"license=GPL\0depends=virtio,net_failover,virtio-ring\0softdep=pre: crc32c post: x-y\0alias=virtio:d00000001v*\0name=virtio_net\0",
        );
        let info = modinfo(&ko).unwrap();
        assert_eq!(info.depends, ["virtio", "net_failover", "virtio_ring"]);
        assert_eq!(info.pre, ["crc32c"]);
        assert_eq!(info.post, ["x_y"]);
        assert_eq!(info.aliases, ["virtio:d00000001v*"]);
        assert_eq!(modinfo(b"not an elf"), None);
        assert_eq!(modinfo(&ko[..70]), None, "truncated: no panic, no info");
        // an empty depends= has no names
        let ko = elf_with_modinfo(b"depends=\0");
        assert!(modinfo(&ko).unwrap().depends.is_empty());
    }

    /// name, depends, pre, post
    type Decl<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

    fn known(list: &[Decl]) -> BTreeMap<String, ModInfo> {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        list.iter()
            .map(|(n, d, pre, post)| {
                (
                    n.to_string(),
                    ModInfo {
                        depends: v(d),
                        pre: v(pre),
                        post: v(post),
                        aliases: Vec::new(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn dependencies_load_first_each_once() {
        let k = known(&[
            (
                "virtio_net",
                &["net_failover", "virtio", "virtio_ring"],
                &[],
                &[],
            ),
            ("net_failover", &["failover"], &[], &[]),
            ("failover", &[], &[], &[]),
            ("virtio", &[], &[], &[]),
            ("virtio_ring", &[], &[], &[]),
            (
                "virtio_pci",
                &["virtio_pci_modern_dev", "virtio", "virtio_ring"],
                &[],
                &[],
            ),
            ("virtio_pci_modern_dev", &[], &[], &[]),
            (
                "ext4",
                &["mbcache", "jbd2", "crc16"],
                &["crypto-crc32c"],
                &[],
            ),
            ("crc32c_generic", &[], &[], &[]),
            ("jbd2", &[], &[], &[]),
            ("mbcache", &[], &[], &[]),
            ("a", &["b"], &[], &[]),
            ("b", &["a"], &[], &[]),
            ("needs_missing", &["nowhere"], &[], &[]),
            ("soft_missing", &[], &["nowhere"], &["gone"]),
        ]);
        let o = order(&["virtio-net", "virtio_pci"], &k, &[]).unwrap();
        assert_eq!(
            o,
            [
                "failover",
                "net_failover",
                "virtio",
                "virtio_ring",
                "virtio_net",
                "virtio_pci_modern_dev",
                "virtio_pci"
            ]
        );
        // a soft dependency first; a built-in one (crc16) needs nothing
        let o = order(&["ext4"], &k, &["crc16"]).unwrap();
        assert_eq!(
            o,
            ["crc32c_generic", "mbcache", "jbd2", "ext4"],
            "the alias's module"
        );
        // a loop in broken input ends; missing hard deps are named
        assert_eq!(order(&["a"], &k, &[]).unwrap(), ["b", "a"]);
        let e = order(&["needs_missing"], &k, &[]).unwrap_err();
        assert!(e.contains("needs nowhere"), "{e}");
        assert_eq!(order(&["soft_missing"], &k, &[]).unwrap(), ["soft_missing"]);
        assert!(order(&["unknown"], &k, &[]).is_err());
        // a built-in module asked for is no module to load
        assert!(order(&["crc16"], &k, &["crc16"]).unwrap().is_empty());
    }

    #[test]
    fn names() {
        assert_eq!(name_of_file("virtio-net.ko").as_deref(), Some("virtio_net"));
        assert_eq!(name_of_file("crc32c.ko.xz").as_deref(), Some("crc32c"));
        assert_eq!(name_of_file("README"), None);
        assert_eq!(name_of_file(".ko"), None);
        assert_eq!(
            builtin_names("kernel/fs/ext4/ext4.ko\nkernel/lib/crc-t10dif.ko\n"),
            ["ext4", "crc_t10dif"]
        );
        assert_eq!(
            parse_softdep("pre: a b post: c"),
            (vec!["a".into(), "b".into()], vec!["c".into()])
        );
    }
}
