//! The requests a DCC client makes: checksum queries and reports, NOPs,
//! administrative requests for `cdcc`, deletions and greylist requests.

use crate::client::{Client, Reply};
use crate::clock::now_secs;
use crate::error::ClientError;
use crate::map::ClassKind;
use crate::transport::Wait;
use tally_wire::admn::{AdmnRequest, Aop};
use tally_wire::ck::MAX_CKS;
use tally_wire::packet::{Answer, CkRequest, Delete, GreySpam};
use tally_wire::{Request, Response, Tgts, WireCk};

/// The count a server gave for one checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CkCount {
    /// The checksum.
    pub ck: WireCk,
    /// Total count including this report.
    pub count: Tgts,
    /// Count before this report (not sent by protocol 5 and older).
    pub prev: Option<Tgts>,
}

/// The counts of a QUERY or REPORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DccAnswer {
    /// The answering server's ID.
    pub server_id: u32,
    /// Its address.
    pub server: std::net::SocketAddr,
    /// The answer was signed with our password.
    pub authenticated: bool,
    /// One entry per checksum sent, in increasing type order.
    pub counts: Vec<CkCount>,
}

/// A greylist server's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreyAnswer {
    /// The answering server's ID.
    pub server_id: u32,
    /// The answer was signed with our password.
    pub authenticated: bool,
    /// Count of the message.
    pub msg: Tgts,
    /// State of the triple: 0, 1, ... embargoed (attempt n+1); OK = embargo
    /// ended now; MANY = passes; OK2 = whitelisted by the server.
    pub triple: Tgts,
}

/// Checksums sorted by type as servers require; at most 14, no type twice.
fn checked(cks: &[WireCk]) -> Result<Vec<WireCk>, ClientError> {
    if cks.len() > MAX_CKS {
        return Err(ClientError::BadRequest(format!(
            "{} checksums; at most {MAX_CKS}",
            cks.len()
        )));
    }
    let mut v = cks.to_vec();
    v.sort_by_key(|c| c.ty);
    if v.windows(2).any(|w| w[0].ty == w[1].ty) {
        return Err(ClientError::BadRequest("checksum type repeated".into()));
    }
    Ok(v)
}

fn unexpected(r: &Response) -> ClientError {
    ClientError::Protocol(format!("unexpected {} answer", r.op()))
}

impl Client {
    async fn counts(
        &self,
        req: Request,
        cks: Vec<WireCk>,
        wait: Wait,
    ) -> Result<DccAnswer, ClientError> {
        let reply = self.op_with(ClassKind::Dcc, req, None, false, wait).await?;
        let Response::Answer(ans) = &reply.response else {
            return Err(unexpected(&reply.response));
        };
        let counts: Vec<CkCount> = match ans {
            Answer::Pairs(p) if p.len() == cks.len() => cks
                .iter()
                .zip(p)
                .map(|(ck, cp)| CkCount {
                    ck: *ck,
                    count: cp.c,
                    prev: Some(cp.p),
                })
                .collect(),
            Answer::Singles(s) if s.len() == cks.len() => cks
                .iter()
                .zip(s)
                .map(|(ck, c)| CkCount {
                    ck: *ck,
                    count: *c,
                    prev: None,
                })
                .collect(),
            _ => {
                return Err(ClientError::Protocol(
                    "answer has a different number of counts than checksums sent".into(),
                ))
            }
        };
        Ok(DccAnswer {
            server_id: reply.server_id,
            server: reply.server,
            authenticated: reply.authenticated,
            counts,
        })
    }

    /// Ask for the counts of checksums without reporting them.
    pub async fn query(&self, cks: &[WireCk]) -> Result<DccAnswer, ClientError> {
        self.query_with(cks, Wait::Runtime).await
    }

    /// [`Client::query`], waiting for the answer as `wait` says.
    pub async fn query_with(&self, cks: &[WireCk], wait: Wait) -> Result<DccAnswer, ClientError> {
        let cks = checked(cks)?;
        let req = Request::Query(CkRequest {
            tgts: Tgts(0),
            cks: cks.clone(),
        });
        self.counts(req, cks, wait).await
    }

    /// Report checksums of a message with `targets` recipients (flagged as
    /// spam if `spam`) and get their counts.
    pub async fn report(
        &self,
        cks: &[WireCk],
        targets: u32,
        spam: bool,
    ) -> Result<DccAnswer, ClientError> {
        self.report_with(cks, targets, spam, Wait::Runtime).await
    }

    /// [`Client::report`], waiting for the answer as `wait` says.
    pub async fn report_with(
        &self,
        cks: &[WireCk],
        targets: u32,
        spam: bool,
        wait: Wait,
    ) -> Result<DccAnswer, ClientError> {
        let cks = checked(cks)?;
        let req = Request::Report(CkRequest {
            tgts: Tgts::report(targets, spam, false),
            cks: cks.clone(),
        });
        self.counts(req, cks, wait).await
    }

    /// A NOP to the chosen server of a class; the answer is an OK with the
    /// server's version, brand and the delay it imposes on us.
    pub async fn nop(&self, kind: ClassKind) -> Result<Reply, ClientError> {
        self.op(kind, Request::Nop, None, true).await
    }

    /// An administrative request (stats, clients, stop, flood control,
    /// trace...) to the chosen server of a class. The answer is returned
    /// as the server sent it: ADMN text or data, or OK. Like `cdcc`, this
    /// asks even while the class is backing off after failures.
    pub async fn admn(&self, kind: ClassKind, req: AdmnRequest) -> Result<Reply, ClientError> {
        self.op(kind, Request::Admn(req), None, true).await
    }

    /// An administrative request to one address of a class (an index in
    /// the map's address list, as `cdcc "stats all"` goes through them);
    /// the address must have answered a NOP.
    pub async fn admn_at(
        &self,
        kind: ClassKind,
        addr: usize,
        req: AdmnRequest,
    ) -> Result<Reply, ClientError> {
        self.op(kind, Request::Admn(req), Some(addr), true).await
    }

    /// An administrative request to the chosen server of a class, dated
    /// now, with `val1`.
    pub async fn admn_op(
        &self,
        kind: ClassKind,
        aop: Aop,
        val1: u32,
    ) -> Result<Reply, ClientError> {
        let date = u32::try_from(now_secs()).unwrap_or(u32::MAX);
        self.admn(kind, AdmnRequest::new(date, aop, val1)).await
    }

    /// Delete a checksum from the server's database (`cdcc delck`).
    pub async fn delete(&self, ck: WireCk) -> Result<Reply, ClientError> {
        let date = u32::try_from(now_secs()).unwrap_or(u32::MAX);
        self.op(
            ClassKind::Dcc,
            Request::Delete(Delete {
                date,
                ck,
                pad: [0; 2],
            }),
            None,
            true,
        )
        .await
    }

    /// A greylist request (`GREY_REPORT`, `GREY_QUERY` or `GREY_WHITE`)
    /// to the greylist server, waiting for the answer as `wait` says.
    pub async fn grey_with(&self, req: Request, wait: Wait) -> Result<GreyAnswer, ClientError> {
        let reply = self
            .op_with(ClassKind::Grey, req, None, false, wait)
            .await?;
        match reply.response {
            Response::GreyAnswer { msg, triple } => Ok(GreyAnswer {
                server_id: reply.server_id,
                authenticated: reply.authenticated,
                msg,
                triple,
            }),
            ref r => Err(unexpected(r)),
        }
    }

    async fn grey(&self, req: Request) -> Result<GreyAnswer, ClientError> {
        self.grey_with(req, Wait::Runtime).await
    }

    /// The greylist request `op` (`GreyReport`, `GreyQuery` or `GreyWhite`)
    /// for the checksums `cks`, ready for [`Client::grey_with`]; any other
    /// operation is a bad request.
    pub fn grey_request(op: tally_wire::Op, cks: &[WireCk]) -> Result<Request, ClientError> {
        let r = Self::grey_req(cks)?;
        match op {
            tally_wire::Op::GreyReport => Ok(Request::GreyReport(r)),
            tally_wire::Op::GreyQuery => Ok(Request::GreyQuery(r)),
            tally_wire::Op::GreyWhite => Ok(Request::GreyWhite(r)),
            other => Err(ClientError::BadRequest(format!(
                "{} is not a greylist request",
                other.name()
            ))),
        }
    }

    fn grey_req(cks: &[WireCk]) -> Result<CkRequest, ClientError> {
        Ok(CkRequest {
            tgts: Tgts(0),
            cks: checked(cks)?,
        })
    }

    /// Greylist: report a message (its checksums with the greylist
    /// message and triple checksums) and learn whether it is embargoed.
    pub async fn grey_report(&self, cks: &[WireCk]) -> Result<GreyAnswer, ClientError> {
        self.grey(Request::GreyReport(Self::grey_req(cks)?)).await
    }

    /// Greylist: ask about a message without counting it.
    pub async fn grey_query(&self, cks: &[WireCk]) -> Result<GreyAnswer, ClientError> {
        self.grey(Request::GreyQuery(Self::grey_req(cks)?)).await
    }

    /// Greylist: a whitelisted message.
    pub async fn grey_white(&self, cks: &[WireCk]) -> Result<GreyAnswer, ClientError> {
        self.grey(Request::GreyWhite(Self::grey_req(cks)?)).await
    }

    /// Greylist: put the triple of a spam message back under embargo.
    pub async fn grey_spam(
        &self,
        ip: WireCk,
        msg: WireCk,
        triple: WireCk,
    ) -> Result<Reply, ClientError> {
        self.grey_spam_with(ip, msg, triple, Wait::Runtime).await
    }

    /// [`Client::grey_spam`], waiting for the answer as `wait` says.
    pub async fn grey_spam_with(
        &self,
        ip: WireCk,
        msg: WireCk,
        triple: WireCk,
        wait: Wait,
    ) -> Result<Reply, ClientError> {
        self.op_with(
            ClassKind::Grey,
            Request::GreySpam(GreySpam {
                ip,
                msg,
                triple,
                pad: [0; 2],
            }),
            None,
            false,
            wait,
        )
        .await
    }
}
