//! fw's state file, `applied`: the addresses fw configured (`INDEX IP/PREFIX`
//! lines) and the links' own MTUs it changed (`mtu INDEX MTU`). It is the only
//! thing fw cannot rebuild from its inputs: an address fw added and then
//! forgot would stay on the link after its lease is gone. So it is written
//! before the kernel is changed (what fw had and what it is about to add)
//! and again after (what it has), and a full disk cannot stop the writes:
//! `applied.reserve`, made while there is room, is given up for them.

use super::plan::{LinkMtu, A};
use common::fsutil::atomic_write;
use std::io;
use std::path::{Path, PathBuf};

/// Bytes set aside for the state file; its lines are ~25 bytes, so this
/// holds hundreds of addresses.
const RESERVE_BYTES: usize = 16 * 1024;

#[derive(Default, Debug, PartialEq)]
pub struct Applied {
    pub addrs: Vec<A>,
    pub mtus: Vec<LinkMtu>,
}

impl Applied {
    /// Unknown or malformed lines are skipped: a damaged file means fewer
    /// addresses to remove, never a failed run.
    pub fn parse(text: &str) -> Applied {
        let mut s = Applied::default();
        for l in text.lines() {
            if let Some(m) = l.strip_prefix("mtu ") {
                let mut w = m.split(' ');
                if let (Some(Ok(i)), Some(Ok(m))) =
                    (w.next().map(str::parse), w.next().map(str::parse))
                {
                    s.mtus.push((i, m));
                }
            } else if let Some(a) = parse_addr(l) {
                s.addrs.push(a);
            }
        }
        s
    }

    pub fn render(&self) -> String {
        let mut t: String = self
            .addrs
            .iter()
            .map(|a| format!("{} {}/{}\n", a.index, a.ip, a.prefix))
            .collect();
        for (i, m) in &self.mtus {
            t.push_str(&format!("mtu {i} {m}\n"));
        }
        t
    }

    /// What fw may own once a run that adds `wanted` is under way.
    pub fn with(&self, wanted: &[A]) -> Applied {
        let mut addrs = self.addrs.clone();
        for a in wanted {
            if !addrs.contains(a) {
                addrs.push(*a);
            }
        }
        Applied {
            addrs,
            mtus: self.mtus.clone(),
        }
    }
}

fn parse_addr(l: &str) -> Option<A> {
    let (i, c) = l.split_once(' ')?;
    let (ip, p) = c.split_once('/')?;
    let prefix: u8 = p.parse().ok()?;
    (prefix <= 32).then_some(())?;
    Some(A {
        index: i.parse().ok()?,
        ip: ip.parse().ok()?,
        prefix,
    })
}

pub struct StateFile {
    path: PathBuf,
    reserve: PathBuf,
}

/// What a write did, for fw's log.
#[derive(Debug, PartialEq)]
pub enum Saved {
    Written,
    /// the disk was full; the reserve made room
    UsedReserve,
}

impl StateFile {
    pub fn in_dir(dir: &Path) -> StateFile {
        StateFile {
            path: dir.join("applied"),
            reserve: dir.join("applied.reserve"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Applied {
        Applied::parse(&std::fs::read_to_string(&self.path).unwrap_or_default())
    }

    /// Replace the file (atomically, durably); on a full disk give up the
    /// reserve and try once more.
    pub fn save(&self, s: &Applied) -> io::Result<Saved> {
        let text = s.render();
        match atomic_write(&self.path, text.as_bytes(), 0o644, true) {
            Ok(()) => Ok(Saved::Written),
            Err(e) if is_full(&e) && std::fs::remove_file(&self.reserve).is_ok() => {
                atomic_write(&self.path, text.as_bytes(), 0o644, true).map(|()| Saved::UsedReserve)
            }
            Err(e) => Err(e),
        }
    }

    /// Set the reserve aside again when it is missing and there is room.
    /// Its bytes do not compress (UBIFS and JFFS2 compress, and would keep
    /// zeros in almost no space).
    pub fn keep_reserve(&self) -> io::Result<()> {
        if self.reserve.exists() {
            return Ok(());
        }
        let mut x: u32 = 0x9e37_79b9;
        let bytes: Vec<u8> = (0..RESERVE_BYTES)
            .map(|_| {
                // xorshift32: any non-repeating bytes will do
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        atomic_write(&self.reserve, &bytes, 0o600, true)
    }
}

fn is_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_text_round_trips_and_bad_lines_are_skipped() {
        let s =
            Applied::parse("3 10.0.0.5/24\nmtu 3 1500\n4 10.0.0.6/99\nx\n\u{feff}5 1.2.3.4/8\n");
        assert_eq!(s.addrs.len(), 1);
        assert_eq!(s.mtus, vec![(3, 1500)]);
        assert_eq!(Applied::parse(&s.render()), s);
    }

    #[test]
    fn intent_is_the_union() {
        let a = |n| A {
            index: 2,
            ip: std::net::Ipv4Addr::new(10, 0, 0, n),
            prefix: 24,
        };
        let s = Applied {
            addrs: vec![a(1)],
            mtus: vec![(2, 1500)],
        };
        let u = s.with(&[a(1), a(2)]);
        assert_eq!(u.addrs, vec![a(1), a(2)]);
        assert_eq!(u.mtus, s.mtus);
    }
}
