//! Deterministic generated messages for the benchmark.

/// A small linear congruential generator: deterministic and dependency-free.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

const WORDS: &[&str] = &[
    "the",
    "offer",
    "limited",
    "time",
    "money",
    "free",
    "account",
    "please",
    "click",
    "below",
    "information",
    "business",
    "opportunity",
    "million",
    "dollars",
    "transfer",
    "bank",
    "secure",
    "verify",
    "customer",
    "service",
    "today",
    "special",
    "price",
    "discount",
    "order",
    "now",
    "friend",
    "meeting",
    "project",
    "report",
    "attached",
    "regards",
    "thanks",
    "schedule",
    "and",
    "of",
    "to",
    "in",
    "for",
    "with",
    "your",
    "our",
    "you",
    "we",
    "is",
    "are",
    "this",
    "that",
];

fn header(content_type: &str) -> String {
    format!(
        "Return-Path: <bulk@example.com>\n\
         Received: from mail.example.com (mail.example.com [192.0.2.7])\n\tby mx.example.net with ESMTP id 4A1B2C3D\n\
         From: Bulk Sender <bulk@example.com>\n\
         To: you@example.net\n\
         Subject: benchmark message\n\
         Message-ID: <bench.1@example.com>\n\
         Date: Mon, 2 Mar 2026 10:00:00 +0000\n\
         MIME-Version: 1.0\n\
         Content-Type: {content_type}\n\n"
    )
}

/// A plain-text message of about `size` bytes: prose in lines of about 70 columns.
pub fn plain(size: usize) -> Vec<u8> {
    let mut rng = Lcg(1);
    let mut out = header("text/plain; charset=us-ascii").into_bytes();
    let mut col = 0;
    while out.len() < size {
        let w = rng.pick(WORDS);
        out.extend_from_slice(w.as_bytes());
        col += w.len() + 1;
        if col > 70 {
            out.push(b'\n');
            col = 0;
            if rng.next().is_multiple_of(8) {
                out.push(b'\n');
            }
        } else {
            out.push(b' ');
        }
    }
    out
}

/// An HTML message of about `size` bytes: paragraphs, links, entities, comments.
pub fn html(size: usize) -> Vec<u8> {
    let mut rng = Lcg(2);
    let mut out = header("text/html; charset=iso-8859-1").into_bytes();
    out.extend_from_slice(b"<html><head><title>Offer</title></head><body bgcolor=\"#FFFFFF\">\n");
    while out.len() < size {
        out.extend_from_slice(b"<p style=\"font-family: Arial\">");
        for i in 0..(12 + rng.next() % 30) {
            let w = rng.pick(WORDS);
            match rng.next() % 20 {
                0 => out.extend_from_slice(
                    format!(
                        "<a href=\"http://www{i}.example.com/path/{w}?id={}\">{w}</a> ",
                        rng.next()
                    )
                    .as_bytes(),
                ),
                1 => out.extend_from_slice(format!("<b>{w}</b>&nbsp;").as_bytes()),
                2 => out.extend_from_slice(format!("<!-- {w} {} -->", rng.next()).as_bytes()),
                3 => out.extend_from_slice(format!("{w}&amp; ").as_bytes()),
                _ => {
                    out.extend_from_slice(w.as_bytes());
                    out.push(b' ');
                }
            }
        }
        out.extend_from_slice(b"</p>\n");
    }
    out.extend_from_slice(b"</body></html>\n");
    out
}
