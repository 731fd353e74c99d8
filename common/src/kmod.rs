//! Kernel modules without kmod: what a module needs, read from its own
//! `.modinfo` section (`depends=`, `softdep=`, `alias=`), the order to load
//! a set of modules in, and the index files depmod would write for them
//! (`modules.dep`, `modules.alias`, `modules.softdep`, in depmod's text
//! formats). Pure: the image tool feeds it the `.ko` files of a Debian
//! kernel package (which ships no `modules.dep`: depmod runs at install),
//! and writes the result as `/etc/modules` and the index files that the
//! `modprobe` applet reads. Module files come from outside, so every offset
//! is checked.

/// What one module declares about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// hard dependencies (`depends=a,b`): loaded before it, or it fails
    pub depends: Vec<String>,
    /// soft dependencies (`softdep=pre: a b post: c`), loaded when present
    pub pre: Vec<String>,
    pub post: Vec<String>,
    /// other names it answers to (`alias=crypto-crc32c`, `alias=pci:v*d*`),
    /// as written (compare them through [`normalize_alias`])
    pub aliases: Vec<String>,
    /// the `softdep=` values as written (`pre: crc32c`), for `modules.softdep`
    pub softdeps: Vec<String>,
}

/// A module's name as the kernel and modprobe compare it: `-` is `_`.
pub fn canonical(name: &str) -> String {
    name.replace('-', "_")
}

/// An alias as kmod compares it: `-` is `_`, except inside `[...]` (a
/// glob's character class). `None` for an unmatched bracket, which kmod
/// refuses too.
pub fn normalize_alias(alias: &str) -> Option<String> {
    let mut out = String::with_capacity(alias.len());
    let mut in_class = false;
    for c in alias.chars() {
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            ']' => return None,
            '-' if !in_class => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    (!in_class).then_some(out)
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
            info.aliases.push(a.to_string());
        } else if let Some(soft) = text.strip_prefix("softdep=") {
            info.softdeps.push(soft.to_string());
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

/// One shipped module, for the index files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shipped {
    pub name: String,
    /// relative to `/lib/modules/RELEASE` (`kernel/drivers/net/dummy.ko`)
    pub path: String,
    pub info: ModInfo,
}

/// The text of `modules.dep`, `modules.alias` and `modules.softdep`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexFiles {
    pub dep: String,
    pub alias: String,
    pub softdep: String,
}

/// The index files depmod writes, for `modules` (in the order given, which
/// should be the kernel's `modules.order`). A `modules.dep` line names a
/// module's path, then every module it needs, directly or not, each once:
/// those that need others before the ones they need, so that read from the
/// end the line is an order to load them in (kmod's modprobe and BusyBox's
/// load a line from its end). A dependency that is not shipped (built into
/// the kernel) is left out. `modules.alias` is `alias PATTERN NAME` and
/// `modules.softdep` is `softdep NAME pre: ... post: ...`, values as the
/// module declares them, under depmod's comment line.
pub fn index_files(modules: &[Shipped]) -> IndexFiles {
    use std::collections::BTreeMap;
    let by_name: BTreeMap<&str, &Shipped> = modules.iter().map(|m| (m.name.as_str(), m)).collect();
    // every dependency after the ones it needs (post-order), each once
    fn walk<'a>(
        m: &'a Shipped,
        by_name: &BTreeMap<&str, &'a Shipped>,
        seen: &mut Vec<&'a str>,
        out: &mut Vec<&'a str>,
        depth: usize,
    ) {
        for d in &m.info.depends {
            let Some(dep) = by_name.get(canonical(d).as_str()) else {
                continue;
            };
            if depth > MAX_DEPTH || seen.contains(&dep.name.as_str()) {
                continue;
            }
            seen.push(&dep.name);
            walk(dep, by_name, seen, out, depth + 1);
            out.push(&dep.path);
        }
    }
    let mut files = IndexFiles {
        dep: String::new(),
        alias: "# Aliases extracted from modules themselves.\n".into(),
        softdep: "# Soft dependencies extracted from modules themselves.\n".into(),
    };
    for m in modules {
        let (mut seen, mut order) = (vec![m.name.as_str()], Vec::new());
        walk(m, &by_name, &mut seen, &mut order, 0);
        files.dep.push_str(&m.path);
        files.dep.push(':');
        for p in order.iter().rev() {
            files.dep.push(' ');
            files.dep.push_str(p);
        }
        files.dep.push('\n');
        for a in &m.info.aliases {
            files.alias.push_str(&format!("alias {a} {}\n", m.name));
        }
        for s in &m.info.softdeps {
            files.softdep.push_str(&format!("softdep {} {s}\n", m.name));
        }
    }
    files
}

/// The module names of a `modules.order` file, in order.
pub fn order_names(text: &str) -> Vec<String> {
    builtin_names(text)
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
        assert_eq!(info.softdeps, ["pre: crc32c post: x-y"]);
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
                        ..ModInfo::default()
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

    #[test]
    fn aliases_compare_as_kmod_does() {
        assert_eq!(
            normalize_alias("rtnl-link-dummy").as_deref(),
            Some("rtnl_link_dummy")
        );
        // a character class keeps its dashes
        assert_eq!(
            normalize_alias("pci:v[0-9]*-x").as_deref(),
            Some("pci:v[0-9]*_x")
        );
        assert_eq!(normalize_alias("a]b"), None);
        assert_eq!(normalize_alias("a[b"), None);
    }

    fn shipped(
        name: &str,
        path: &str,
        depends: &[&str],
        aliases: &[&str],
        soft: &[&str],
    ) -> Shipped {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        Shipped {
            name: name.into(),
            path: path.into(),
            info: ModInfo {
                depends: v(depends),
                aliases: v(aliases),
                softdeps: v(soft),
                ..ModInfo::default()
            },
        }
    }

    #[test]
    fn index_files_in_depmods_formats() {
        let mods = [
            shipped(
                "virtio_net",
                "kernel/drivers/net/virtio_net.ko",
                &["net_failover", "virtio_ring"],
                &["virtio:d00000001v*"],
                &[],
            ),
            shipped(
                "net_failover",
                "kernel/drivers/net/net_failover.ko",
                &["failover"],
                &[],
                &[],
            ),
            shipped("failover", "kernel/net/core/failover.ko", &[], &[], &[]),
            shipped(
                "ext4",
                "kernel/fs/ext4/ext4.ko",
                &["crc16"],
                &["fs-ext4"],
                &["pre: crc32c"],
            ),
            shipped(
                "dummy",
                "kernel/drivers/net/dummy.ko",
                &[],
                &["rtnl-link-dummy"],
                &[],
            ),
        ];
        let f = index_files(&mods);
        // virtio_ring and crc16 are built in here: not named
        assert_eq!(
            f.dep,
            "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n\
             kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n\
             kernel/net/core/failover.ko:\n\
             kernel/fs/ext4/ext4.ko:\n\
             kernel/drivers/net/dummy.ko:\n"
        );
        assert_eq!(
            f.alias,
            "# Aliases extracted from modules themselves.\n\
             alias virtio:d00000001v* virtio_net\n\
             alias fs-ext4 ext4\n\
             alias rtnl-link-dummy dummy\n"
        );
        assert_eq!(
            f.softdep,
            "# Soft dependencies extracted from modules themselves.\n\
             softdep ext4 pre: crc32c\n"
        );
        // a loop in broken input ends, each module once
        let f = index_files(&[
            shipped("a", "a.ko", &["b"], &[], &[]),
            shipped("b", "b.ko", &["a"], &[], &[]),
        ]);
        assert_eq!(f.dep, "a.ko: b.ko\nb.ko: a.ko\n");
    }
}
