//! dccifd(8): the DCC program interface daemon.
//!
//! Mail programs (SpamAssassin, rspamd, Exim, Haraka, ...) connect to a
//! unix domain socket or a TCP port, send the options line, the SMTP
//! envelope and the message, half-close, and read back the overall
//! result, a result per recipient and, as asked, the X-DCC header, the
//! checksums or the whole message with the header added.
//!
//! - [`opts`]: the command line.
//! - [`proto`]: the request head of the ASCII protocol.
//! - [`users`]: user names of recipients from `-D` local domains.
//! - [`config`]: the settings shared by the connections.
//! - [`white`]: the global and per-user whiteclnt files for a message.
//! - [`logs`]: the log files of a message.
//! - [`check`]: one request: checksums, decision, answer.
//! - [`decide`]: the decision and the answer's text.
//! - [`grey`]: greylisting (`-G`) of a request.
//! - [`proxy`]: SMTP proxy mode (`-o`); [`smtpio`]: its SMTP lines;
//!   [`replies`]: its `-r` replies.
//! - [`daemon`]: listeners and jobs; [`jobs`]: `-j` and the open-file
//!   limit.
//!
//! The decision itself is the shared engine's (`tally-engine`).

pub mod check;
pub mod config;
pub mod daemon;
pub mod decide;
pub mod dispose;
pub mod dnsbl;
pub mod grey;
pub mod jobs;
pub mod logs;
pub mod opts;
pub mod proto;
pub mod proxy;
pub mod replies;
pub mod smtpio;
pub mod stats;
pub mod totals;
pub mod users;
pub mod white;
pub mod workers;
pub mod xfltr;

/// Run the request parser on arbitrary bytes, without sockets or files:
/// the head of the request is parsed and the rest is taken as the
/// message and checksummed. Never panics.
pub fn fuzz_request(bytes: &[u8]) {
    let mut input = bytes;
    let Ok(head) = proto::read_head(&mut input) else {
        return;
    };
    let env = tally_ck::header::Envelope {
        client_ip: head.client_ip,
        env_from: (!head.sender.is_empty()).then_some(head.sender),
        ..Default::default()
    };
    let cfg = tally_ck::header::CkConfig {
        use_received: env.client_ip.is_none() && !head.client_bad,
        received_index: head.opts.rcvd_next.saturating_add(1),
        ..Default::default()
    };
    let framing = tally_ck::message::Framing::Dccifd(head.ifd_start);
    let mut mc = tally_ck::message::MessageCks::with_framing(&cfg, &env, framing);
    let _ = tally_engine::message::read_message(&mut input, &mut None, &mut |b| mc.feed(b), false);
    let _ = mc.finish();
}

/// Servers that never answer, for [`fuzz_proxy`]: the DCC server fails
/// and no greylist server is there.
struct Silent;

impl grey::Servers for Silent {
    fn dcc(
        &mut self,
        _: &tally_engine::server::Request,
    ) -> (
        Result<tally_engine::server::Answer, tally_engine::server::AskError>,
        tally_engine::server::ClientInfo,
    ) {
        let err = tally_engine::server::AskError {
            msg: "no working DCC server".to_string(),
            srvr_id: 0,
        };
        let info = tally_engine::server::ClientInfo {
            hostname: "fuzz".to_string(),
            brand: String::new(),
        };
        (Err(err), info)
    }
    fn grey(
        &mut self,
        _: &tally_engine::grey::GreyRequest,
    ) -> Result<tally_engine::grey::GreyAnswer, String> {
        Err("no greylist server".to_string())
    }
    fn grey_spam(&mut self, _: &tally_engine::grey::GreySpamRequest) -> Result<(), String> {
        Ok(())
    }
}

/// Run the SMTP proxy's dialogue (`-o /dev/null`) on arbitrary bytes from
/// the SMTP client, without sockets: commands, envelope, DATA and its
/// end, the decision with a DCC server that fails. Never panics.
pub fn fuzz_proxy(bytes: &[u8]) {
    static CFG: std::sync::OnceLock<Option<config::Config>> = std::sync::OnceLock::new();
    let Some(cfg) = CFG
        .get_or_init(|| {
            let o = opts::Opts {
                proxy: Some(proxy::Downstream::Null),
                ..Default::default()
            };
            // a home without files: nothing is read or written there
            config::Config::new(&o, &std::env::temp_dir().join("tally-fuzz-none")).ok()
        })
        .as_ref()
    else {
        return;
    };
    let _ = proxy::converse(
        cfg,
        &proxy::Downstream::Null,
        None,
        bytes,
        std::io::sink(),
        &mut Silent,
    );
}
