//! The parser never panics, and its normal form parses back to itself.

use proptest::prelude::*;
use tally_white::{parse_file, FileKind, Includes, NoIncludes, Resolutions};

/// Every include reads the same bytes.
struct Echo(Vec<u8>);

impl Includes for Echo {
    fn read_include(&mut self, _name: &str) -> Result<Vec<u8>, String> {
        Ok(self.0.clone())
    }
}

fn line() -> impl Strategy<Value = String> {
    let count = prop_oneof![
        Just("ok"),
        Just("OK2"),
        Just("many"),
        Just("mx"),
        Just("mxdcc"),
        Just("submit"),
        Just("5"),
        Just("0x20"),
        Just(""),
        Just("bogus"),
    ];
    let ty = prop_oneof![
        Just("env_from"),
        Just("From"),
        Just("message-id"),
        Just("received"),
        Just("env_to"),
        Just("substitute"),
        Just("ip"),
        Just("IP"),
        Just("hex body"),
        Just("hex fuz1"),
        Just("hex substitute"),
        Just("body"),
        Just("option"),
        Just("include"),
    ];
    let value = prop_oneof![
        "[a-z]{1,8}@[a-z]{1,8}\\.example",
        "(10|192)\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,3})?",
        "2001:db8::[0-9a-f]{1,4}(/[0-9]{1,3})?",
        "(::ffff:)?1[0-9]{0,2}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,3})?",
        "(::ffff:)?10\\.0\\.0\\.[0-9]{1,3}-(::ffff:)?10\\.0\\.[0-9]\\.[0-9]{1,3}",
        "::(ffff:)?[0-9a-f]{0,4}(:0)?/[0-9]{1,3}",
        "[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}",
        "[a-z-]{1,12}( [a-z0-9,]{1,8})?",
        "[ -~]{0,20}",
    ];
    (count, ty, value, any::<bool>()).prop_map(|(c, t, v, indent)| {
        let sep = if indent { "  " } else { "" };
        format!("{sep}{c} {t} {v}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let p = parse_file("w", &bytes, FileKind::Global, &mut Echo(bytes.clone()));
        let _ = p.build(&Resolutions::new());
        let p = parse_file("w", &bytes, FileKind::PerUser, &mut NoIncludes);
        let _ = p.normal_form();
    }

    #[test]
    fn normal_form_is_stable(lines in proptest::collection::vec(line(), 0..30)) {
        let text = lines.join("\n");
        let p = parse_file("w", text.as_bytes(), FileKind::Global, &mut Echo(b"ok from x@y\n".to_vec()));
        let _ = p.build(&Resolutions::new());
        let nf = p.normal_form();
        let p2 = parse_file("w", nf.as_bytes(), FileKind::Global, &mut NoIncludes);
        prop_assert!(p2.errors.is_empty(), "{}\n{:?}", nf, p2.errors);
        prop_assert_eq!(p2.normal_form(), nf);
        let v1: Vec<_> = p.items.iter().map(|i| (i.tgts, i.value.clone())).collect();
        let v2: Vec<_> = p2.items.iter().map(|i| (i.tgts, i.value.clone())).collect();
        prop_assert_eq!(v1, v2);
        prop_assert_eq!(p.switches, p2.switches);
        prop_assert_eq!(p.thresholds, p2.thresholds);
    }
}
