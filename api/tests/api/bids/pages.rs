//! "Who sees what" on the portal's pages (docs/spec/visibility.md, docs/portal.md): the pages a
//! viewer reads about two tenders, one with activity and one without, are the same page but for
//! the tender's own id and keys, and no page shows a bidder's secrets.

use serde_json::Value;

use crate::helpers::{TestApp, text};

/// A page as `token`'s person sees it in a browser whose form seed is fixed, so two reads differ
/// only by what the page says.
async fn page(app: &TestApp, path: &str, token: Option<&str>) -> anyhow::Result<(u16, String)> {
    let mut cookie = "th_csrf=fixed-seed-for-the-comparison".to_owned();
    if let Some(t) = token {
        cookie.push_str(&format!("; th_session={t}"));
    }
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await?;
    let status = res.status().as_u16();
    let body = res.text().await?;
    // The server's time at rendering is the only thing meant to differ between two reads.
    let body = match (
        body.find("<meta name=\"server-time\""),
        body.find("<title>"),
    ) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &body[..a], &body[b..]),
        _ => body,
    };
    Ok((status, body))
}

async fn key_id(app: &TestApp, tender: &str) -> anyhow::Result<String> {
    let t: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    Ok(text(&t["lots"][0]["opening_key"]["key_id"]))
}

/// `html` with every document id (`doc_` and 32 hex digits) cut to `doc_`: the two tenders hold
/// the same document under ids of their own.
fn without_document_ids(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("doc_") {
        out.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let id_len = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        rest = &rest[id_len..];
    }
    out.push_str(rest);
    out
}

/// The hall's entry of `tender`: its `<li>`.
fn entry<'a>(hall: &'a str, tender: &str) -> &'a str {
    let Some(at) = hall.find(&format!("/tenders/{tender}\"")) else {
        return "";
    };
    let start = hall[..at].rfind("<li>").unwrap_or(at);
    let end = hall[at..].find("</li>").map_or(hall.len(), |e| at + e);
    &hall[start..end]
}

/// Every viewer reads `/tenders/{busy}` as `/tenders/{quiet}`, the hall's two entries alike, and
/// its account page and the hall without any of `secrets`, but for the question the owner is
/// told of (实施条例 Art 22: the question, never who asked).
pub(super) async fn pages_read_alike(
    app: &TestApp,
    busy: &str,
    quiet: &str,
    viewers: &[(&str, Option<&str>)],
    secrets: &[String],
    owners_question: &str,
) -> anyhow::Result<()> {
    let (busy_key, quiet_key) = (key_id(app, busy).await?, key_id(app, quiet).await?);
    let same = |html: &str| {
        without_document_ids(&html.replace(busy, quiet).replace(&busy_key, &quiet_key))
    };
    for (who, token) in viewers {
        let (status_a, a) = page(app, &format!("/tenders/{busy}"), *token).await?;
        let (status_b, b) = page(app, &format!("/tenders/{quiet}"), *token).await?;
        assert_eq!(
            (status_a, status_b),
            (200, 200),
            "{who} reads both tender pages"
        );
        assert_eq!(
            same(&a),
            without_document_ids(&b),
            "{who}: the tender pages differ"
        );
        let (_, hall) = page(app, "/", *token).await?;
        assert_eq!(
            same(entry(&hall, busy)),
            entry(&hall, quiet),
            "{who}: the hall lists the two alike"
        );
        let mut seen = vec![("tender page", a), ("hall", hall)];
        if token.is_some() {
            seen.push(("account page", page(app, "/account", *token).await?.1));
            // The bid page of someone who has not bid reads the same for both tenders.
            let (status_a, a) = page(app, &format!("/workbench/bids/{busy}/1"), *token).await?;
            let (status_b, b) = page(app, &format!("/workbench/bids/{quiet}/1"), *token).await?;
            assert_eq!(status_a, status_b, "{who}: bid pages");
            assert_eq!(
                same(&a),
                without_document_ids(&b),
                "{who}: the bid pages differ"
            );
            seen.push(("bid page", a));
            // The owner's workbench is the owner's alone (404 to everyone else, alike).
            let (status_a, a) = page(app, &format!("/workbench/tenders/{busy}"), *token).await?;
            let (status_b, _) = page(app, &format!("/workbench/tenders/{quiet}"), *token).await?;
            assert_eq!(status_a, status_b, "{who}: the tender workbench");
            assert_eq!(
                status_a == 200,
                *who == "tenderer",
                "{who}: the workbench is the owner's"
            );
            seen.push(("workbench", a));
        }
        for (what, html) in seen {
            for secret in secrets.iter().filter(|s| {
                !(*who == "tenderer"
                    && (what == "account page" || what == "workbench")
                    && *s == owners_question)
            }) {
                assert!(
                    !html.contains(secret.as_str()),
                    "{who}'s {what} shows {secret}"
                );
            }
        }
    }
    Ok(())
}
