//! What fw's state file `applied` says, pure: the addresses fw configured
//! (`INDEX IP/PREFIX` lines) and the links' own MTUs it changed (`mtu INDEX
//! MTU`). It is the only thing fw cannot rebuild from its inputs: an
//! address fw added and then forgot would stay on the link after its lease
//! is gone. Reading and writing it (with its reserve against a full disk)
//! is `shell::state`.

use super::plan::{LinkMtu, A};

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
