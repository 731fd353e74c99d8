//! The state the ipconf files ask for, pure: from the entries on links that
//! exist (the shell looks the interfaces up and brings them up), in
//! preference order, the addresses, routes with their metrics, MTUs, name
//! servers and domain, with DHCP-learned routes screened (`shadow`).

use super::ipconf::IfConf;
use super::plan::{self, A, R};
use super::shadow;
use std::net::Ipv4Addr;

/// The state the files ask for, on interfaces that exist.
#[derive(Debug, Default)]
pub struct Wanted {
    pub addrs: Vec<A>,
    pub routes: Vec<R>,
    pub mtus: Vec<plan::LinkMtu>,
    pub dns: Vec<Ipv4Addr>,
    pub search: Vec<String>,
    pub domain: Option<String>,
    /// the entries used, in order (for the /etc templates)
    pub used: Vec<IfConf>,
}

/// `conf/prefer`: interface names, most preferred first (`#` starts a comment).
pub fn parse_prefer(text: &str) -> Vec<String> {
    text.lines()
        .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
        .map(String::from)
        .collect()
}

/// Interfaces named in `prefer` first, in its order, the others in file
/// order (a stable sort).
pub fn in_preference_order(confs: &mut [IfConf], prefer: &[String]) {
    confs.sort_by_key(|c| plan::preference_rank(&c.interface, prefer));
}

fn route(index: i32, &(dst, prefix, gateway): &(Ipv4Addr, u8, Option<Ipv4Addr>)) -> shadow::Route {
    shadow::Route {
        index,
        dst,
        prefix,
        gateway,
    }
}

/// `present`: the entries in preference order (`in_preference_order`),
/// each with its link's index. Default route metrics (10, 20, ...), name
/// servers and the domain follow that order. `kernel`: the kernel's routes
/// that fw did not make; DHCP-learned routes that would shadow one of them
/// on another link, or a route of a local file, are left out
/// (`shadow::screen`) and returned, in order, for the log.
pub fn wanted(
    present: Vec<(i32, IfConf)>,
    kernel: &[shadow::Route],
) -> (Wanted, Vec<shadow::Dropped>) {
    // the metrics default routes get below, in order (none is ever dropped:
    // nothing is less specific)
    let mut n = 0u32;
    let default_metrics: Vec<Vec<u32>> = present
        .iter()
        .map(|(_, c)| {
            c.routes
                .iter()
                .filter(|r| r.1 == 0)
                .map(|_| {
                    n = n.saturating_add(1);
                    n.saturating_mul(10)
                })
                .collect()
        })
        .collect();
    // what DHCP-learned routes must not cut into: every other route there
    // is or will be; those of local files guard their own link too; fw's
    // own default routes guard leases fw prefers less
    let mut guards: Vec<shadow::Guard> = kernel
        .iter()
        .map(|&route| shadow::Guard {
            route,
            local: false,
            ordered: None,
        })
        .collect();
    for ((index, c), metrics) in present.iter().zip(&default_metrics) {
        let mut metrics = metrics.iter();
        guards.extend(c.routes.iter().map(|r| shadow::Guard {
            route: route(*index, r),
            local: !c.from_dhcp(),
            ordered: if r.1 == 0 {
                metrics.next().copied()
            } else {
                None
            },
        }));
    }
    let mut w = Wanted::default();
    let mut all_dropped = Vec::new();
    let mut n_default = 0;
    for ((index, mut c), metrics) in present.into_iter().zip(&default_metrics) {
        if c.from_dhcp() {
            let learned: Vec<shadow::Route> = c.routes.iter().map(|r| route(index, r)).collect();
            let own_default = metrics.iter().min().copied();
            let (keep, dropped) = shadow::screen(&learned, own_default, &guards);
            all_dropped.extend(dropped);
            c.routes = keep.iter().map(|r| (r.dst, r.prefix, r.gateway)).collect();
        }
        for &(ip, prefix) in &c.addrs {
            w.addrs.push(A { index, ip, prefix });
        }
        if let Some(m) = c.mtu {
            if !w.mtus.iter().any(|x| x.0 == index) {
                w.mtus.push((index, m));
            }
        }
        for &(dst, prefix, gateway) in &c.routes {
            let metric = if prefix == 0 {
                n_default += 1;
                n_default * 10
            } else {
                0
            };
            w.routes.push(R {
                index,
                dst,
                prefix,
                gateway,
                metric,
            });
        }
        for d in &c.dns {
            if !w.dns.contains(d) {
                w.dns.push(*d);
            }
        }
        w.search.extend(c.search.iter().cloned());
        if w.domain.is_none() {
            w.domain.clone_from(&c.domain);
        }
        w.used.push(c);
    }
    (w, all_dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fw::core::ipconf::parse;

    fn conf(text: &str) -> IfConf {
        parse(text, "t").unwrap().remove(0)
    }

    #[test]
    fn prefer_lists_names_and_skips_comments() {
        assert_eq!(
            parse_prefer("wwan0 eth0 # the modem first\n\n# none\n  wlan0\n"),
            ["wwan0", "eth0", "wlan0"]
        );
        let mut c = vec![conf("if=eth0\n"), conf("if=wlan0\n"), conf("if=wwan0\n")];
        in_preference_order(&mut c, &parse_prefer("wwan0"));
        let order: Vec<&str> = c.iter().map(|c| c.interface.as_str()).collect();
        assert_eq!(order, ["wwan0", "eth0", "wlan0"]);
    }

    #[test]
    fn metrics_name_servers_and_domain_follow_the_order() {
        let a = conf("if=eth0\nipmask=10.0.0.5/24\ngw=10.0.0.1\nnet=0/0\ndns='10.0.0.1 9.9.9.9'\ndomain=lan\nmtu=1400\n");
        let b = conf("if=wlan0\nipmask=10.1.0.5/24\ngw=10.1.0.1\nnet=0/0\ndns=9.9.9.9\ndomain=wifi\nsearch=x\n");
        let (w, dropped) = wanted(vec![(2, a), (3, b)], &[]);
        assert!(dropped.is_empty());
        let metrics: Vec<(i32, u32)> = w.routes.iter().map(|r| (r.index, r.metric)).collect();
        assert_eq!(metrics, [(2, 10), (3, 20)]);
        assert_eq!(
            w.dns,
            [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(9, 9, 9, 9)]
        );
        assert_eq!(
            (w.domain.as_deref(), &w.search[..]),
            (Some("lan"), &["x".to_string()][..])
        );
        assert_eq!(w.mtus, [(2, 1400)]);
        assert_eq!(w.addrs.len(), 2);
        assert_eq!(w.used.len(), 2);
    }

    #[test]
    fn a_learned_route_into_a_vpn_default_route_is_dropped() {
        let lease =
            conf("if=eth0\norigin=dhcp\nipmask=10.0.0.5/24\ngw=10.0.0.1\nnet=10.8.0.0/16\n");
        let vpn = shadow::Route {
            index: 9,
            dst: Ipv4Addr::UNSPECIFIED,
            prefix: 0,
            gateway: None,
        };
        let (w, dropped) = wanted(vec![(2, lease)], &[vpn]);
        assert_eq!(dropped.len(), 1);
        assert!(w.routes.is_empty());
        assert_eq!(w.used[0].routes, []);
    }
}
