//! Short options as the classic tools take them: `-abc` (flags grouped),
//! `-xVALUE` and `-x VALUE` (letters that take a value), `--` ends them, the
//! first word that is not an option starts the operands. One parser for
//! every applet.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    Flag(char),
    Value(char, String),
}

/// Parse the options at the start of `args` (argv without argv[0]).
/// `with_value` lists the letters that take a value. Returns the options in
/// order and the index of the first operand. Letters are not checked here:
/// each applet rejects the ones it does not know.
pub fn parse(args: &[String], with_value: &str) -> Result<(Vec<Opt>, usize), String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            return Ok((opts, i + 1));
        }
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            if with_value.contains(c) {
                let rest: String = chars[j + 1..].iter().collect();
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or(format!("option -{c} needs a value"))?
                } else {
                    rest
                };
                opts.push(Opt::Value(c, value));
                break;
            }
            opts.push(Opt::Flag(c));
            j += 1;
        }
        i += 1;
    }
    Ok((opts, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn grouped_flags_and_values() {
        let (o, i) = parse(&w("-tt -r_ -l 20 -vb512 dir1 -x"), "rRlb").unwrap();
        assert_eq!(
            o,
            [
                Opt::Flag('t'),
                Opt::Flag('t'),
                Opt::Value('r', "_".into()),
                Opt::Value('l', "20".into()),
                Opt::Flag('v'),
                Opt::Value('b', "512".into())
            ]
        );
        assert_eq!(i, 5, "operands start at dir1; later dashes are operands");
        let (o, i) = parse(&w("-a -- -b"), "").unwrap();
        assert_eq!((o, i), (vec![Opt::Flag('a')], 2));
        assert!(parse(&w("-l"), "l").is_err());
        assert_eq!(
            parse(&w("- x"), "").unwrap().1,
            0,
            "a lone dash is an operand"
        );
    }
}
