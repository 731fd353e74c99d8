//! svlogd's pattern matching (not regular expressions): a plain character
//! matches itself; `+` matches the next pattern character one or more times;
//! `*` before the end matches any run of characters not containing the next
//! pattern character; `*` at the end matches anything.

pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                let Some(&next) = pattern.get(p + 1) else {
                    return true;
                };
                while t < text.len() && text[t] != next {
                    t += 1;
                }
                p += 1;
            }
            b'+' => {
                let Some(&c) = pattern.get(p + 1) else {
                    return false;
                };
                if t >= text.len() || text[t] != c {
                    return false;
                }
                while t < text.len() && text[t] == c {
                    t += 1;
                }
                p += 2;
            }
            c => {
                if t >= text.len() || text[t] != c {
                    return false;
                }
                t += 1;
                p += 1;
            }
        }
    }
    t == text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_page_examples() {
        let msg = b"tcpsvd: info: pid 1977 from 10.4.1.14";
        assert!(!matches(b"*pid*", msg), "first star stops at the first p");
        assert!(matches(b"*: *: pid *", msg));
        assert!(matches(b"tcpsvd: *", msg));
        assert!(
            !matches(b"tcpsvd:", msg),
            "a pattern must cover the whole message"
        );
        assert!(matches(b"*", b""));
        assert!(matches(b"a+b", b"abbb"));
        assert!(!matches(b"a+b", b"a"));
        assert!(matches(b"a+bc", b"abbbc"));
        assert!(matches(b"warn*", b"warning: disk"));
    }
}
