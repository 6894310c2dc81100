//! `-G grey-cksum`: whitelist one greylist triple at the greylist server,
//! ending its embargo (or, with `-Q`, only ask about it), and print what
//! the server said in the words other programs look for.

use tally_ck::CkType;
use tally_engine::dcc_client::BlockingDccClient;
use tally_engine::grey::{GreyOp, GreyRequest};
use tally_engine::tgts::{OK, OK2, TOO_MANY};

/// `EX_USAGE`, for a checksum that is not four hex words.
const EX_USAGE: i32 = 64;
/// `EX_UNAVAILABLE`, when the greylist server gave no answer.
const EX_UNAVAILABLE: i32 = 69;

/// The line printed for the server's answer about the triple.
pub fn answer_line(triple: u32) -> &'static str {
    match triple {
        // the embargo ended with this request
        OK => "Embargo Ended",
        // no embargo running
        TOO_MANY => "Pass",
        // whitelisted at the greylist server
        OK2 => "Recognized OK",
        _ => "Embargo",
    }
}

/// Send the request for the triple checksum `hex`; the line to print, or
/// the fatal complaint and exit code.
pub fn run(
    server: &BlockingDccClient,
    query: bool,
    hex: &str,
) -> Result<&'static str, (String, i32)> {
    let Some(sum) = tally_white::hex_sum(hex.as_bytes()) else {
        return Err(("unrecognized greylist checksum".into(), EX_USAGE));
    };
    let req = GreyRequest {
        op: if query { GreyOp::Query } else { GreyOp::White },
        cks: vec![(CkType::GreyTriple, sum)],
    };
    let a = server.grey(&req).map_err(|e| (e, EX_UNAVAILABLE))?;
    Ok(answer_line(a.triple))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_the_words_other_programs_look_for() {
        assert_eq!(answer_line(OK), "Embargo Ended");
        assert_eq!(answer_line(TOO_MANY), "Pass");
        assert_eq!(answer_line(OK2), "Recognized OK");
        assert_eq!(answer_line(0), "Embargo");
        assert_eq!(answer_line(3), "Embargo");
    }
}
