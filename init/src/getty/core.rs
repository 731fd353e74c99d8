//! What getty decides without touching the tty, pure: the `/etc/issue`
//! escapes it expands and the login names it hands on.

/// What the escapes refer to.
pub struct IssueInfo<'a> {
    pub hostname: &'a str,
    pub tty: &'a str,
    pub sysname: &'a str,
    pub release: &'a str,
    pub version: &'a str,
    pub machine: &'a str,
    pub domain: &'a str,
}

/// Expand `\n` (host name), `\l` (tty), `\s`, `\r`, `\v`, `\m`, `\o` (domain)
/// and `\\`; other escapes stay as written. Newlines become CR LF for a raw tty.
pub fn expand(text: &[u8], info: &IssueInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 32);
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'\\' && i + 1 < text.len() {
            let rep: Option<&str> = match text[i + 1] {
                b'n' => Some(info.hostname),
                b'l' => Some(info.tty),
                b's' => Some(info.sysname),
                b'r' => Some(info.release),
                b'v' => Some(info.version),
                b'm' => Some(info.machine),
                b'o' => Some(info.domain),
                b'\\' => Some("\\"),
                _ => None,
            };
            if let Some(r) = rep {
                out.extend_from_slice(r.as_bytes());
                i += 2;
                continue;
            }
        }
        if c == b'\n' {
            out.push(b'\r');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A login name we hand to login: not empty, no leading `-` (it would be an
/// option), printable ASCII without spaces.
pub fn valid_login_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_graphic())
}

/// The line speeds getty sets (0 keeps the line's own).
pub fn supported_speed(baud: u32) -> bool {
    matches!(
        baud,
        0 | 1200
            | 2400
            | 4800
            | 9600
            | 19200
            | 38400
            | 57600
            | 115200
            | 230400
            | 460800
            | 500000
            | 921600
            | 1000000
            | 1500000
            | 2000000
            | 3000000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let info = IssueInfo {
            hostname: "router",
            tty: "ttyS0",
            sysname: "Linux",
            release: "6.1.0",
            version: "#1",
            machine: "x86_64",
            domain: "lan",
        };
        assert_eq!(
            expand(b"Welcome to \\n on \\l (\\s \\r \\m) \\x \\\\\n", &info),
            b"Welcome to router on ttyS0 (Linux 6.1.0 x86_64) \\x \\\r\n".to_vec()
        );
        assert_eq!(expand(b"trailing \\", &info), b"trailing \\".to_vec());
    }

    #[test]
    fn login_names() {
        assert!(valid_login_name("root"));
        assert!(!valid_login_name("-froot"));
        assert!(!valid_login_name("a b"));
        assert!(!valid_login_name(""));
        assert!(!valid_login_name("x;reboot\u{7}"));
        assert!(supported_speed(115200) && supported_speed(0));
        assert!(!supported_speed(115201));
    }
}
