//! Splitting what svlogd read into lines, without touching the OS.

/// The next line at the start of `rest`: its length without the newline
/// and the bytes it uses (with the newline, when there is one). A line
/// longer than `buflen` is cut after `buflen` bytes; with `eof`, a last line
/// without newline is taken too. None when `rest` is empty or only the
/// start of a line still being read. `buflen` must not be 0 (the command
/// line makes it at least 256).
pub fn next(rest: &[u8], buflen: usize, eof: bool) -> Option<(usize, usize)> {
    if rest.is_empty() {
        return None;
    }
    let end = match rest.iter().position(|&b| b == b'\n') {
        Some(i) if i < buflen => i,
        _ if rest.len() >= buflen => buflen,
        None if eof => rest.len(),
        _ => return None,
    };
    Some((end, end + usize::from(rest.get(end) == Some(&b'\n'))))
}

/// Hand each line of `input` (see `next`) to `each`. Returns how many bytes
/// were used: the rest is the start of a line still being read.
pub fn split(input: &[u8], buflen: usize, eof: bool, mut each: impl FnMut(&[u8])) -> usize {
    let mut start = 0;
    while let Some((len, used)) = next(&input[start..], buflen, eof) {
        each(&input[start..start + len]);
        start += used;
    }
    start
}

/// Replace unprintable characters (and those of `-R`) with `-r`'s character.
pub fn scrub(line: &mut [u8], replace: Option<u8>, set: &[u8]) {
    let Some(r) = replace else { return };
    for b in line.iter_mut() {
        if !(0x20..0x7f).contains(b) || set.contains(b) {
            *b = r;
        }
    }
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
        assert_eq!(next(b"", 4, true), None);
        assert_eq!(next(b"ab", 4, false), None);
        assert_eq!(next(b"ab", 4, true), Some((2, 2)));
    }

    #[test]
    fn scrubbing() {
        let mut l = b"a\tb@c\x7f\xc3".to_vec();
        scrub(&mut l, None, b"@");
        assert_eq!(l, b"a\tb@c\x7f\xc3", "without -r nothing changes");
        scrub(&mut l, Some(b'_'), b"@");
        assert_eq!(l, b"a_b_c__");
    }
}
