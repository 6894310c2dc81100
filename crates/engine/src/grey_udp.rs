//! Greylist requests over UDP: the greylist server is found through the
//! map's `greylist` entries, like the DCC server through the others, with
//! the same retransmission and back-off. A failure is the complaint
//! worded as the original's (`no working greylist server at ...`), for
//! [`crate::grey::Greylist::apply`].

use crate::dcc_client::{to_ask_error, DccClient};
use crate::grey::{GreyAnswer, GreyOp, GreyRequest, GreySpamRequest};
use tally_ck::CkType;
use tally_client::{Client, ClientError, Wait};
use tally_wire::WireCk;

impl DccClient {
    /// Send a greylist request and wait for the answer.
    pub async fn grey(&self, req: &GreyRequest) -> Result<GreyAnswer, String> {
        self.grey_with(req, Wait::Runtime).await
    }

    async fn grey_with(&self, req: &GreyRequest, wait: Wait) -> Result<GreyAnswer, String> {
        let cks: Vec<WireCk> = req.cks.iter().map(|&(t, s)| WireCk::new(t, s)).collect();
        let op = match req.op {
            GreyOp::Report => tally_wire::Op::GreyReport,
            GreyOp::Query => tally_wire::Op::GreyQuery,
            GreyOp::White => tally_wire::Op::GreyWhite,
        };
        let c = self.client();
        let res = match Client::grey_request(op, &cks) {
            Ok(r) => c.grey_with(r, wait).await,
            Err(e) => Err(e),
        };
        match res {
            Ok(a) => Ok(GreyAnswer {
                msg: a.msg.0,
                triple: a.triple.0,
            }),
            Err(e) => Err(self.grey_complaint(&e)),
        }
    }

    /// Send a `GREY_SPAM` request and wait for the server's OK.
    pub async fn grey_spam(&self, req: &GreySpamRequest) -> Result<(), String> {
        self.grey_spam_with(req, Wait::Runtime).await
    }

    async fn grey_spam_with(&self, req: &GreySpamRequest, wait: Wait) -> Result<(), String> {
        let res = self
            .client()
            .grey_spam_with(
                WireCk::new(CkType::Ip, req.ip),
                WireCk::new(CkType::GreyMsg, req.msg),
                WireCk::new(CkType::GreyTriple, req.triple),
                wait,
            )
            .await;
        res.map(|_| ()).map_err(|e| self.grey_complaint(&e))
    }

    /// [`DccClient::grey`] for a caller on a thread of its own (a dccifd
    /// job), never a runtime worker: the answer is awaited on that thread,
    /// as [`DccClient::ask_blocking`] does.
    pub fn grey_blocking(
        &self,
        rt: &tokio::runtime::Handle,
        req: &GreyRequest,
    ) -> Result<GreyAnswer, String> {
        rt.block_on(self.grey_with(req, Wait::Thread))
    }

    /// [`DccClient::grey_spam`] for a caller on a thread of its own.
    pub fn grey_spam_blocking(
        &self,
        rt: &tokio::runtime::Handle,
        req: &GreySpamRequest,
    ) -> Result<(), String> {
        rt.block_on(self.grey_spam_with(req, Wait::Thread))
    }

    fn grey_complaint(&self, e: &ClientError) -> String {
        to_ask_error(e, &self.client().map()).msg
    }
}
