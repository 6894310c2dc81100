//! Map texts of any shape are read without panicking, and what is read
//! prints and reads back the same.

use proptest::prelude::*;
use tally_client::map::parse::parse_map;
use tally_client::map::print::print_map;

const PIECES: &[&str] = &[
    "# 11/22/26 12:15:30 UTC  HOME1/map\n",
    "# 99/99/99 99:99:99 UTC  x\n",
    "# Re-resolve names after 13:56:35  Check RTTs after 99:00:00\n",
    "# continue not asking DCC server 18446744073709551615 seconds after 255 failures\n",
    "# 123.4 ms threshold, 1e300 ms average    1 total, 1 working servers\n",
    "IPv6 on   use SOCKS   src=1.2.3.4 but unused   version=3\n",
    "127.0.0.1,16277             32800 vectorclientpw\n",
    "::1,-  RTT-2000 ms Greylist anon\n",
    "# *127.0.0.1,16277        localhost                         vecbrand ID 1100\n",
    "#  ::1,-  ID 4294967295\n",
    "#     protocol version 255\n",
    "#      95% of 255 requests ok  1e308 ms RTT   99999999999999999999 ms queue wait\n",
    "#     -5% of 19 requests ok  -432.35+0+666 ms RTT  -400 ms queue wait\n",
    "#      not answering\n",
    "#   undefined name or wrong IP version\n",
    "################\n",
    "# 11/22/26 12:15:31 UTC  greylist HOME1/map-grey\n",
    "\n",
];

proptest! {
    #[test]
    fn fragments(idx in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let text: String = idx.iter().map(|&i| PIECES[i]).collect();
        if let Ok(map) = parse_map(&text, Some("f")) {
            let printed = print_map(&map, 1_795_000_000, true);
            let again = parse_map(&printed, None);
            prop_assert!(again.is_ok(), "{}", printed);
            if let Ok(again) = again {
                let printed2 = print_map(&again, 1_795_000_000, true);
                prop_assert_eq!(&printed2, &printed);
            }
        }
    }

    #[test]
    fn any_text(text in "\\PC{0,300}") {
        let _ = parse_map(&text, None);
    }
}
