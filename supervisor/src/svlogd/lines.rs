//! Splitting what svlogd read into lines, without touching the OS.

/// Hand each complete line of `input` (without its newline) to `each`; a
/// line longer than `buflen` is cut into pieces of `buflen` bytes. With
/// `eof`, a last line without newline is taken too. Returns how many bytes
/// were used: the rest is the start of a line still being read.
/// `buflen` must not be 0 (`parse_args` makes it at least 256).
pub fn split(input: &[u8], buflen: usize, eof: bool, mut each: impl FnMut(&[u8])) -> usize {
    let mut start = 0;
    while start < input.len() {
        let rest = &input[start..];
        let end = match rest.iter().position(|&b| b == b'\n') {
            Some(i) if i < buflen => i,
            _ if rest.len() >= buflen => buflen,
            None if eof => rest.len(),
            _ => break,
        };
        each(&rest[..end]);
        start += end + usize::from(rest.get(end) == Some(&b'\n'));
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], buflen: usize, eof: bool) -> (Vec<Vec<u8>>, usize) {
        let mut out = Vec::new();
        let used = split(input, buflen, eof, |l| out.push(l.to_vec()));
        (out, used)
    }

    #[test]
    fn whole_lines_cut_lines_and_the_rest() {
        let (l, used) = lines(b"a\n\nbc\npartial", 4, false);
        assert_eq!(l, [&b"a"[..], b"", b"bc", b"part"]);
        assert_eq!(used, 10, "the rest of the long line waits for more");
        let (l, used) = lines(b"a\npartial", 4, true);
        assert_eq!(l, [&b"a"[..], b"part", b"ial"]);
        assert_eq!(used, 9);
        // a line of exactly buflen bytes is one line, its newline used with it
        let (l, used) = lines(b"abcd\nx", 4, false);
        assert_eq!((l, used), (vec![b"abcd".to_vec()], 5));
    }
}
