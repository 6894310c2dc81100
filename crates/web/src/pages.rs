//! The HTML of every page, written with maud, which escapes every value
//! put into the page (`<`, `>`, `&`, `"`, `'`): subjects, bodies and
//! header lines of logged messages cannot add markup or script.

use crate::listing::LogEntry;
use crate::logparse::LogMsg;
use crate::useropts::{CHOICES, THOLD_TYPES};
use crate::whiteedit::{Kind, List};
use maud::{html, Markup, DOCTYPE};
use std::collections::HashMap;

const STYLE: &str = "body{font-family:sans-serif;margin:1em 2em}\
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}\
tr:nth-child(even){background:#f2f2f2}pre{background:#f8f8f8;padding:6px;white-space:pre-wrap}\
.err{color:#a00;font-weight:bold}.ok{color:#070}nav a,nav form{margin-right:1em;display:inline}\
form.inline{display:inline}";

/// A whole page with the navigation of a signed-in user (when `user`).
pub fn layout(title: &str, user: Option<(&str, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "DCC: " (title) }
                style { (STYLE) }
            }
            body {
                @if let Some((name, csrf)) = user {
                    nav {
                        a href="/log" { "Logged messages" }
                        a href="/whiteclnt" { "Whitelist" }
                        a href="/options" { "Options" }
                        a href="/password" { "Password" }
                        form.inline method="post" action="/signout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Sign out " (name) }
                        }
                    }
                }
                h1 { (title) }
                (body)
            }
        }
    }
}

/// The sign-in form; `msg` an error to show.
pub fn signin(csrf: &str, msg: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            @if let Some(m) = msg { p.err id="error" { (m) } }
            form method="post" action="/signin" {
                input type="hidden" name="csrf" value=(csrf);
                p { label { "User " input type="text" name="user" id="user" autocomplete="username"; } }
                p { label { "Password " input type="password" name="password" id="password" autocomplete="current-password"; } }
                p { button type="submit" id="signin" { "Sign in" } }
            }
        },
    )
}

/// An error page.
pub fn error(title: &str, msg: &str, user: Option<(&str, &str)>) -> Markup {
    layout(title, user, html! { p.err id="error" { (msg) } })
}

/// One row of the listing.
pub struct Row<'a> {
    pub entry: &'a LogEntry,
    pub msg: LogMsg,
}

/// The listing of logged messages, one page.
pub fn log_list(
    user: (&str, &str),
    rows: &[Row<'_>],
    page: usize,
    pages: usize,
    total: usize,
) -> Markup {
    layout(
        "Logged messages",
        Some(user),
        html! {
            p { (total) @if total == 1 { " message" } @else { " messages" } ", page " (page + 1) " of " (pages.max(1)) }
            table id="log" {
                tr { th { "Date" } th { "Sender" } th { "Subject" } th { "Result" } }
                @for r in rows {
                    tr {
                        td { a href={ "/msg?id=" (r.entry.id) } { (r.msg.date) } }
                        td { (r.msg.env_from) }
                        td { (r.msg.header("subject").unwrap_or("")) }
                        td { (r.msg.result) }
                    }
                }
            }
            p {
                @if page > 0 { a href={ "/log?page=" (page - 1) } { "newer" } " " }
                @if page + 1 < pages { a href={ "/log?page=" (page + 1) } { "older" } }
            }
        },
    )
}

/// A one-click form for the value of `t`; `tid` names it in the
/// button's id (`add-ok-env_from`, `remove--env_to-1`).
fn button(
    csrf: &str,
    id: &str,
    op: &str,
    list: Option<List>,
    t: &Target,
    tid: &str,
    text: &str,
) -> Markup {
    let lw = match list {
        Some(List::Ok) => "ok",
        Some(List::Many) => "many",
        None => "",
    };
    let bid = format!("{op}-{lw}-{tid}");
    html! {
        form.inline method="post" action="/white" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value=(op);
            input type="hidden" name="list" value=(lw);
            input type="hidden" name="kind" value=(t.kind.name());
            input type="hidden" name="msg" value=(id);
            input type="hidden" name="value" value=(t.value);
            button type="submit" id=(bid) { (text) }
        }
    }
}

/// The names of the targets in their buttons' ids: the kind, and for
/// the recipients, of which a message may have several, the kind and
/// the recipient's place (`env_to-0`, `env_to-1`).
fn target_ids(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if t.kind == Kind::EnvTo {
                let nth = targets[..i].iter().filter(|x| x.kind == t.kind).count();
                format!("{}-{nth}", t.kind.name())
            } else {
                t.kind.name().to_string()
            }
        })
        .collect()
}

/// One value of a message with its current list and its buttons.
pub struct Target {
    pub kind: Kind,
    pub value: String,
    /// `ok`, `many` or another count word when the file lists it.
    pub listed: Option<String>,
}

/// One logged message with its checksum table and one-click buttons.
pub fn message(
    user: (&str, &str),
    id: &str,
    m: &LogMsg,
    targets: &[Target],
    note: Option<&str>,
) -> Markup {
    let csrf = user.1;
    layout(
        "Logged message",
        Some(user),
        html! {
            @if let Some(n) = note { p.ok id="note" { (n) } }
            table id="envelope" {
                tr { th { "Date" } td { (m.date) } }
                tr { th { "Client" } td { (m.client_name) " " (m.ip()) } }
                tr { th { "HELO" } td { (m.helo) } }
                tr { th { "Sender" } td { (m.env_from) } }
                @for t in &m.env_to { tr { th { "Recipient" } td { (t) } } }
                tr { th { "Subject" } td id="subject" { (m.header("subject").unwrap_or("")) } }
                tr { th { "Result" } td id="result" { (m.result) } }
                @if !m.rejection.is_empty() { tr { th { "Rejection" } td { (m.rejection) } } }
            }
            h2 { "Whitelist or blacklist" }
            table id="targets" {
                @for (t, tid) in targets.iter().zip(target_ids(targets)) {
                    tr {
                        th { (t.kind.label()) }
                        td { (t.value) }
                        td { @match t.listed.as_deref() {
                            Some("ok") => "whitelisted",
                            Some("many") => "blacklisted",
                            Some(other) => (other),
                            None => "",
                        } }
                        td {
                            @if t.listed.as_deref() != Some("ok") {
                                (button(csrf, id, "add", Some(List::Ok), t, &tid, &format!("whitelist {}", t.kind.label())))
                            }
                            " "
                            @if t.listed.as_deref() != Some("many") {
                                (button(csrf, id, "add", Some(List::Many), t, &tid, &format!("blacklist {}", t.kind.label())))
                            }
                            " "
                            @if t.listed.is_some() {
                                (button(csrf, id, "remove", None, t, &tid, "remove"))
                            }
                        }
                    }
                }
            }
            @if !m.grey.is_empty() {
                h2 { "Greylisting" }
                table id="grey" {
                    @for (n, g) in m.grey.iter().enumerate() {
                        tr {
                            th { (g.rcpt) }
                            td { (g.result) }
                            td {
                                @if g.embargoed() {
                                    form.inline method="post" action="/grey" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="msg" value=(id);
                                        input type="hidden" name="n" value=(n);
                                        button type="submit" { "end the embargo" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href={ "/raw?id=" (id) } id="raw" { "The log file as it is" } " (plain text, for reporting or analysis)" }
            h2 { "Checksums" }
            pre id="cks" {
                (m.table_title) "\n"
                @for r in &m.table { (format!("{:>25}: {}  {}", r.name, r.sum, r.rest)) "\n" }
            }
            @if !m.decision.is_empty() {
                h2 { "Decision" }
                pre { @for d in &m.decision { (d) "\n" } (m.xdcc) }
            }
            h2 { "Header" }
            pre id="header" { @for (n, v) in &m.headers { (n) ": " (v) "\n" } }
            h2 { "Body" }
            pre id="body" { (m.body) }
        },
    )
}

/// The whiteclnt file as it is, with a remove button for each
/// one-click entry.
pub fn whiteclnt(
    user: (&str, &str),
    text: &str,
    entries: &[(Kind, String, String)],
    note: Option<&str>,
) -> Markup {
    let csrf = user.1;
    layout(
        "Whitelist",
        Some(user),
        html! {
            @if let Some(n) = note { p.ok id="note" { (n) } }
            table id="entries" {
                tr { th { "List" } th { "What" } th { "Value" } th {} }
                @for (k, v, c) in entries {
                    tr {
                        td { (c) } td { (k.label()) } td { (v) }
                        td {
                            form.inline method="post" action="/white" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="op" value="remove";
                                input type="hidden" name="kind" value=(k.name());
                                input type="hidden" name="value" value=(v);
                                button type="submit" { "remove" }
                            }
                        }
                    }
                }
            }
            h2 { "The file" }
            pre id="file" { (text) }
        },
    )
}

/// The options form with the current settings.
pub fn options(user: (&str, &str), cur: &HashMap<String, String>, note: Option<&str>) -> Markup {
    let csrf = user.1;
    layout(
        "Options",
        Some(user),
        html! {
            @if let Some(n) = note { p.ok id="note" { (n) } }
            form method="post" action="/options" {
                input type="hidden" name="csrf" value=(csrf);
                table {
                    @for c in CHOICES {
                        @let now = cur.get(c.key).map(String::as_str).unwrap_or("default");
                        tr {
                            th { (c.label) }
                            td {
                                select name=(c.key) id=(c.key) {
                                    option value="default" selected[now == "default"] { "site default" }
                                    @for (v, w) in c.values {
                                        option value=(v) selected[now == *v] { (w) }
                                    }
                                }
                            }
                        }
                    }
                    @for t in THOLD_TYPES {
                        @let key = format!("thold_{t}");
                        tr {
                            th { "Reject threshold " (t) }
                            td { input type="text" name=(key) id=(key) value=(cur.get(&key).map(String::as_str).unwrap_or("")) placeholder="site default"; }
                        }
                    }
                    @let notify = cur.get("notify").map(String::as_str).unwrap_or("off");
                    tr {
                        th { "Mail about new logged messages" }
                        td {
                            select name="notify" id="notify" {
                                option value="off" selected[notify == "off"] { "off" }
                                option value="on" selected[notify == "on"] { "on, at most once a week" }
                            }
                            " to "
                            input type="text" name="notifybox" id="notifybox" value=(cur.get("notifybox").map(String::as_str).unwrap_or("")) placeholder="your own mailbox";
                            " (where the site sends such mail)"
                        }
                    }
                }
                p { button type="submit" id="save" { "Save" } }
            }
        },
    )
}

/// The password form: the current password and the new one twice; `err`
/// what was refused, `note` what was done.
pub fn password(user: (&str, &str), err: Option<&str>, note: Option<&str>) -> Markup {
    let csrf = user.1;
    layout(
        "Password",
        Some(user),
        html! {
            @if let Some(n) = note { p.ok id="note" { (n) } }
            @if let Some(e) = err { p.err id="error" { (e) } }
            form method="post" action="/password" {
                input type="hidden" name="csrf" value=(csrf);
                // the user name, for password managers
                input type="hidden" name="user" autocomplete="username" value=(user.0);
                table {
                    tr { th { "Current password" } td { input type="password" name="current" id="current" autocomplete="current-password"; } }
                    tr { th { "New password" } td { input type="password" name="new" id="new" autocomplete="new-password"; } }
                    tr { th { "New password again" } td { input type="password" name="again" id="again" autocomplete="new-password"; } }
                }
                p { "At least " (crate::password::MIN_LEN) " characters. Your other sessions are signed out." }
                p { button type="submit" id="change" { "Change" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let p = error("x", "<script>alert(1)</script>&\"", None).into_string();
        assert!(p.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;"));
        assert!(!p.contains("<script>"));
    }
}
