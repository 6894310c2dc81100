//! Arbitrary milter-side input through the per-connection state machine,
//! for fuzzing: no sockets, no DCC server (every request fails as if the
//! server were down), greylisting on (`-G on`) with answers taken from
//! the input. Must never panic.

use crate::config::Config;
use crate::conn::{Conn, EomStep};
use std::sync::{Arc, OnceLock};
use tally_engine::grey::GreyAnswer;
use tally_engine::server::{AskError, ClientInfo};

fn config() -> Arc<Config> {
    static CFG: OnceLock<Arc<Config>> = OnceLock::new();
    CFG.get_or_init(|| {
        let mut c = Config::plain();
        c.grey.on = true;
        Arc::new(c)
    })
    .clone()
}

/// A greylist answer made of input bytes: embargoes, ends, passes,
/// whitelisting, odd values and failures.
fn grey_answer(arg: &[u8], n: usize) -> Result<GreyAnswer, String> {
    let b = arg.get(n % arg.len().max(1)).copied().unwrap_or(0);
    let triple = match b % 6 {
        0 => u32::from(b / 6),
        1 => 0x00ff_fff1,
        2 => 0x00ff_fff0,
        3 => 0x00ff_fff2,
        4 => u32::from(b).wrapping_mul(0x0101_0101),
        _ => return Err("no greylist answer".to_string()),
    };
    Ok(GreyAnswer {
        msg: u32::from(b & 1),
        triple,
    })
}

/// Feed `bytes` as a sequence of milter events: each event is a command
/// byte and a length-prefixed argument, in any order.
pub fn fuzz_connection(bytes: &[u8]) {
    let mut s = Conn::new(config());
    let client = ClientInfo {
        hostname: "fuzz".to_string(),
        brand: String::new(),
    };
    let mut i = 0;
    while i < bytes.len() {
        let cmd = bytes[i];
        let len = usize::from(*bytes.get(i + 1).unwrap_or(&0));
        let start = (i + 2).min(bytes.len());
        let end = (start + len).min(bytes.len());
        let arg = &bytes[start..end];
        i = end.max(i + 1);
        let text = String::from_utf8_lossy(arg).into_owned();
        let mac_val = text.clone();
        let macros = move |name: &str| -> Option<String> {
            (name.len() % 3 == mac_val.len() % 3).then(|| mac_val.clone())
        };
        match cmd % 9 {
            0 => {
                let ip = text.parse().ok();
                s.connect(&text, ip);
            }
            1 => {
                s.helo(&text);
            }
            2 => {
                s.mail(&text, &macros);
            }
            3 => {
                s.rcpt(&text, &macros);
            }
            4 => {
                let (n, v) = text.split_once(':').unwrap_or((&text, ""));
                s.header(n.as_bytes(), v.as_bytes());
            }
            5 => {
                s.eoh();
            }
            6 => {
                s.body(arg);
            }
            7 => {
                let mut step = s.eom_prepare(&macros, &client);
                if let EomStep::Grey(reqs) = step {
                    let answers = (0..reqs.len()).map(|n| grey_answer(arg, n)).collect();
                    step = s.eom_grey(answers, &client);
                }
                let mut v = match step {
                    EomStep::Done(v) => v,
                    EomStep::Ask(_) => {
                        let e = AskError {
                            msg: "no DCC server".to_string(),
                            srvr_id: 0,
                        };
                        s.eom_finish(Err(e), &client)
                    }
                    EomStep::Grey(_) => crate::eom::no_message(),
                };
                s.eom_log(&mut v, None);
            }
            _ => s.abort(),
        }
    }
}
