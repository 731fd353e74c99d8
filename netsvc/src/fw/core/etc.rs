//! Generated `/etc` files: every file under fw's `etc/` directory is a
//! template for the file of the same relative path under `/etc`. `@NAME@`
//! stands for a value of fw's wanted state, `@@` for one `@`. A variable can
//! have several values (`@dns@`): a line is written once per value, and a
//! line whose variable has no value (no lease, say) is left out, so
//! `nameserver @dns@` or `@ip_eth0@ router` need no conditionals. Nothing is
//! ever evaluated: values are text, and text with control characters is
//! refused.
//!
//! Variables: `dns`, `domain`, `search`, `gw` (the preferred default
//! gateway), `hostname`, and per interface IF `ip_IF`, `ipmask_IF`
//! (ADDR/PREFIX), `net_IF` (NETWORK/PREFIX), `gw_IF`, `dns_IF`.

use super::ipconf::IfConf;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The values a template can use, by variable name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Vars(BTreeMap<String, Vec<String>>);

/// A line with more combinations than this is an error, not a huge file.
const MAX_COPIES: usize = 256;

impl Vars {
    /// From the ipconf entries fw applies (in file order) and the hostname.
    pub fn from_confs(confs: &[IfConf], hostname: &str) -> Vars {
        let mut v = Vars::default();
        for c in confs {
            let i = &c.interface;
            for &(ip, prefix) in &c.addrs {
                let net = Ipv4Addr::from(u32::from(ip) & common::net::prefix_to_mask_u32(prefix));
                v.push(&format!("ip_{i}"), ip.to_string());
                v.push(&format!("ipmask_{i}"), format!("{ip}/{prefix}"));
                v.push(&format!("net_{i}"), format!("{net}/{prefix}"));
            }
            for &(_, prefix, gw) in &c.routes {
                if let (0, Some(g)) = (prefix, gw) {
                    v.push(&format!("gw_{i}"), g.to_string());
                    v.push("gw", g.to_string());
                }
            }
            for d in &c.dns {
                v.push(&format!("dns_{i}"), d.to_string());
                v.push("dns", d.to_string());
            }
            if let Some(d) = &c.domain {
                v.push("domain", d.clone());
            }
            for s in &c.search {
                v.push("search", s.clone());
            }
        }
        // one preferred gateway and one domain; dns and search once each
        for (name, keep_one) in [
            ("gw", true),
            ("domain", true),
            ("dns", false),
            ("search", false),
        ] {
            if let Some(list) = v.0.get_mut(name) {
                if keep_one {
                    list.truncate(1);
                } else {
                    let mut seen = Vec::new();
                    list.retain(|x| {
                        let new = !seen.contains(x);
                        seen.push(x.clone());
                        new
                    });
                }
            }
        }
        if !hostname.is_empty() {
            v.push("hostname", hostname.to_string());
        }
        v
    }

    pub fn push(&mut self, name: &str, value: String) {
        if value.chars().any(|c| c.is_control()) {
            return;
        }
        self.0.entry(name.to_string()).or_default().push(value);
    }

    fn get(&self, name: &str) -> Option<&[String]> {
        self.0.get(name).map(|v| v.as_slice())
    }
}

/// A name fw can ever give a value (whether it has one now or not).
fn known(name: &str) -> bool {
    const GLOBAL: [&str; 5] = ["dns", "domain", "search", "gw", "hostname"];
    const PER_IF: [&str; 5] = ["ip_", "ipmask_", "net_", "gw_", "dns_"];
    GLOBAL.contains(&name)
        || PER_IF
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|i| !i.is_empty()))
}

/// One piece of a template line.
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Split a line into text and `@NAME@` pieces (`@@` is a literal `@`; an
/// `@` that starts no well-formed name is text).
fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('@') {
            out.push(Piece::Text(&rest[..=at]));
            rest = tail;
            continue;
        }
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_.-:".contains(c)))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('@') {
            out.push(Piece::Text(&rest[..at]));
            out.push(Piece::Var(&after[..name_len]));
            rest = &after[name_len + 1..];
        } else {
            out.push(Piece::Text(&rest[..=at]));
            rest = after;
        }
    }
    out.push(Piece::Text(rest));
    out
}

/// Render `template` (named `file` in messages). Returns the text and the
/// warnings (unknown variables: their lines are left out).
pub fn render(template: &str, vars: &Vars, file: &str) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut warnings = Vec::new();
    for (n, line) in template.split_inclusive('\n').enumerate() {
        let ps = pieces(line);
        let names: Vec<&str> = ps
            .iter()
            .filter_map(|p| match p {
                Piece::Var(v) => Some(*v),
                Piece::Text(_) => None,
            })
            .collect();
        if let Some(bad) = names.iter().find(|v| !known(v)) {
            warnings.push(format!(
                "{file}:{}: unknown variable @{bad}@ (line left out)",
                n + 1
            ));
            continue;
        }
        // distinct variables of the line, each with its values
        let mut distinct: Vec<&str> = Vec::new();
        for v in names {
            if !distinct.contains(&v) {
                distinct.push(v);
            }
        }
        let values: Vec<&[String]> = distinct
            .iter()
            .map(|v| vars.get(v).unwrap_or(&[]))
            .collect();
        let copies = values.iter().map(|v| v.len()).product::<usize>();
        if copies > MAX_COPIES {
            warnings.push(format!(
                "{file}:{}: {copies} combinations of values (line left out)",
                n + 1
            ));
            continue;
        }
        // every combination, the first variable varying slowest
        for k in 0..copies {
            let mut pick = Vec::with_capacity(values.len());
            let mut rem = k;
            for vals in values.iter().rev() {
                pick.push(&vals[rem % vals.len()]);
                rem /= vals.len();
            }
            pick.reverse();
            for p in &ps {
                match p {
                    Piece::Text(t) => text.push_str(t),
                    Piece::Var(v) => {
                        let i = distinct.iter().position(|d| d == v).unwrap_or(0);
                        text.push_str(pick[i]);
                    }
                }
            }
        }
    }
    (text, warnings)
}

/// The built-in `/etc/resolv.conf` (an `etc/resolv.conf` template replaces it).
pub fn resolv_conf(dns: &[std::net::IpAddr], domain: Option<&str>, search: &[String]) -> String {
    let mut text = String::from("# written by ferrite fw\n");
    if let Some(d) = domain {
        text.push_str(&format!("domain {d}\n"));
    }
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    for d in dns {
        text.push_str(&format!("nameserver {d}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let lease = IfConf {
            interface: "eth0".into(),
            addrs: vec![("10.0.2.15".parse().unwrap(), 24)],
            routes: vec![(Ipv4Addr::UNSPECIFIED, 0, Some("10.0.2.2".parse().unwrap()))],
            dns: vec!["10.0.2.3".parse().unwrap(), "10.0.2.4".parse().unwrap()],
            domain: Some("example.org".into()),
            search: vec![],
            mtu: None,
            origin: Some("dhcp".into()),
            ..IfConf::default()
        };
        let lan = IfConf {
            interface: "br-lan".into(),
            addrs: vec![("192.168.7.1".parse().unwrap(), 24)],
            dns: vec!["10.0.2.3".parse().unwrap()],
            ..IfConf::default()
        };
        Vars::from_confs(&[lease, lan], "box")
    }

    #[test]
    fn values_lists_and_missing_values() {
        let t = "# @@generated@@\n127.0.0.1 localhost\n@ip_eth0@ @hostname@.@domain@ @hostname@\n\
                 nameserver @dns@\n@ip_wlan0@ wireless\nlisten=@ip_br-lan@ net=@net_br-lan@ gw=@gw@\n";
        let (out, w) = render(t, &vars(), "hosts");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            out,
            "# @generated@\n127.0.0.1 localhost\n10.0.2.15 box.example.org box\n\
             nameserver 10.0.2.3\nnameserver 10.0.2.4\n\
             listen=192.168.7.1 net=192.168.7.0/24 gw=10.0.2.2\n"
        );
    }

    #[test]
    fn every_combination_and_a_variable_used_twice() {
        let t = "@dns@-@ip_eth0@-@dns@";
        let (out, _) = render(t, &vars(), "x");
        assert_eq!(
            out,
            "10.0.2.3-10.0.2.15-10.0.2.310.0.2.4-10.0.2.15-10.0.2.4"
        );
    }

    #[test]
    fn unknown_names_are_reported_and_stray_ats_are_text() {
        let t = "mail root@localhost\n@nosuch@ x\nkeep\n@ip_@\na@b c@\n";
        let (out, w) = render(t, &vars(), "etc/x");
        assert_eq!(out, "mail root@localhost\nkeep\na@b c@\n");
        assert_eq!(
            w,
            vec![
                "etc/x:2: unknown variable @nosuch@ (line left out)",
                "etc/x:4: unknown variable @ip_@ (line left out)"
            ]
        );
    }

    #[test]
    fn values_with_control_characters_are_refused() {
        let mut v = Vars::default();
        v.push("domain", "evil\nnameserver 6.6.6.6".into());
        let (out, _) = render("search @domain@\n", &v, "x");
        assert_eq!(out, "");
    }

    #[test]
    fn no_lease_no_lines() {
        let (out, w) = render("nameserver @dns@\n", &Vars::from_confs(&[], ""), "x");
        assert_eq!((out.as_str(), w.len()), ("", 0));
    }
}
