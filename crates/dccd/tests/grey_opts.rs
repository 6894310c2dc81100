//! The `-G` option of dccd(8): durations, words, limits, the default port.

use tally_dccd::opts::parse;

fn opts(args: &[&str]) -> tally_dccd::opts::Opts {
    let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    parse(&v).unwrap()
}

#[test]
fn greylist_settings() {
    let o = opts(&["-i", "1100", "-G", "on"]);
    let p = o.grey_params.unwrap();
    assert_eq!(
        (p.embargo, p.window, p.white),
        (270, 7 * 86_400, 63 * 86_400)
    );
    assert_eq!(o.default_port(), 6276);
    let o = opts(&["-i", "1100"]);
    assert!(o.grey_params.is_none());
    assert_eq!(o.default_port(), 6277);

    let o = opts(&["-G", "weak-body,weak-IP,5M,2D,8W"]);
    let p = o.grey_params.unwrap();
    assert!(p.weak_body && p.weak_ip && p.auto_white_ip.is_none());
    assert_eq!(
        (p.embargo, p.window, p.white),
        (300, 2 * 86_400, 56 * 86_400)
    );

    let o = opts(&["-G", "on,auto-white-IP=5,1h"]);
    let p = o.grey_params.unwrap();
    assert_eq!((p.auto_white_ip, p.embargo), (Some(5), 3600));
}

#[test]
fn default_port_of_addresses() {
    let o = opts(&["-a", "127.0.0.1", "-G", "on"]);
    assert_eq!(o.addrs[0].port(), 6276);
    let o = opts(&["-G", "on", "-a", "127.0.0.1,7000"]);
    assert_eq!(o.addrs[0].port(), 7000);
    let o = opts(&["-a", "127.0.0.1"]);
    assert_eq!(o.addrs[0].port(), 6277);
}

#[test]
fn bad_greylist_settings_are_complained_about() {
    // as the original: a message, the earlier settings, still a greylist server
    for bad in [
        "on,2d",
        "on,10,11d",
        "on,600,300",
        "on,1,2d,1d",
        "on,10x",
        "auto-white-IP=0",
    ] {
        let o = opts(&["-G", "on,60", "-G", bad]);
        assert_eq!(o.grey_params.unwrap().embargo, 60, "{bad}");
        assert!(
            o.notices.iter().any(|n| n.contains("invalid")),
            "{bad}: {:?}",
            o.notices
        );
    }
}

#[test]
fn words_before_bad_durations_count() {
    // as the original: `weak-body` and `weak-IP` are taken before the bad
    // embargo is complained about; the durations stay as they were
    let o = opts(&["-G", "on,60", "-G", "weak-body,weak-IP,2d"]);
    let p = o.grey_params.unwrap();
    assert!(p.weak_body && p.weak_ip);
    assert_eq!(p.embargo, 60);
    assert!(o
        .notices
        .iter()
        .any(|n| n == "invalid greylist embargo \"-G weak-body,weak-IP,2d\""));
    // never: the longest window and whitelist time
    let o = opts(&["-G", "on,20,never,never"]);
    let p = o.grey_params.unwrap();
    assert_eq!((p.window, p.white), (10 * 86_400, i32::MAX as u32));
    // units the original does not know
    let o = opts(&["-G", "on,60", "-G", "5mins"]);
    assert_eq!(o.grey_params.unwrap().embargo, 60);
    assert!(o
        .notices
        .iter()
        .any(|n| n == "invalid greylist embargo \"-G 5mins\""));
}
