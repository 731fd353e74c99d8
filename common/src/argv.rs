//! The command line as text: every applet reads its words through these,
//! so that a word that is not UTF-8 is handled the same everywhere (each
//! invalid sequence becomes U+FFFD; an applet never panics on it).

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// The words after argv[0], as text.
pub fn words(args: &[OsString]) -> Vec<String> {
    args.iter().skip(1).map(|a| lossy(a)).collect()
}

/// Every word, argv[0] included, as text.
pub fn all_words(args: &[OsString]) -> Vec<String> {
    args.iter().map(|a| lossy(a)).collect()
}

/// The name the program was called by: the file name of argv[0]
/// (`/sbin/reboot` -> `reboot`); empty when there is none.
pub fn prog_name(args: &[OsString]) -> String {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .map(lossy)
        .unwrap_or_default()
}

/// The words of a line of text (an `args` file, a test's command line).
pub fn words_of(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

fn lossy(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn words_names_and_bad_bytes() {
        let a: Vec<OsString> = vec![
            "/sbin/reboot".into(),
            "-f".into(),
            OsString::from_vec(b"x\xffy".to_vec()),
        ];
        assert_eq!(words(&a), ["-f", "x\u{fffd}y"]);
        assert_eq!(all_words(&a).len(), 3);
        assert_eq!(prog_name(&a), "reboot");
        assert_eq!(prog_name(&[]), "");
        assert!(words(&[]).is_empty());
    }
}
