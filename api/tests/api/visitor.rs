//! A browser as far as the pages care (docs/portal.md "Sessions and forms"): its cookies, its
//! language, and the page token it sends back with each form. Used by the portal's and the
//! workbenches' tests.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// A browser, as far as the pages care: its cookies and its language.
pub struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: Vec<(String, String)>,
    pub language: Option<&'static str>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> anyhow::Result<Self> {
        Ok(Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            cookies: Vec::new(),
            language: None,
        })
    }

    /// A visitor signed in with an API session token: the portal's cookie holds the same token.
    pub fn signed_in(app: &'a TestApp, token: &str) -> anyhow::Result<Self> {
        let mut v = Self::new(app)?;
        v.cookies.push(("th_session".into(), token.into()));
        Ok(v)
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, builder: reqwest::RequestBuilder) -> anyhow::Result<Page> {
        let mut builder = builder;
        if !self.cookies.is_empty() {
            builder = builder.header(COOKIE, self.cookie_header());
        }
        if let Some(lang) = self.language {
            builder = builder.header(ACCEPT_LANGUAGE, lang);
        }
        let res = builder.send().await?;
        for set in res.headers().get_all(SET_COOKIE) {
            let set = set.to_str()?;
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(k, _)| k != name);
                if !value.is_empty() && !set.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        Ok(Page {
            status: res.status(),
            location: res
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: res.text().await?,
        })
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Page> {
        let builder = self.client.get(format!("{}{path}", self.app.base));
        self.send(builder).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let builder = self
            .client
            .post(format!("{}{path}", self.app.base))
            .form(fields);
        self.send(builder).await
    }

    /// The form token of the visitor's current seed, read from a page as a browser would.
    pub async fn csrf(&mut self) -> anyhow::Result<String> {
        let page = self.get("/signin").await?;
        field_value(&page.body, "csrf")
            .ok_or_else(|| anyhow::anyhow!("no csrf field: {}", page.body))
    }

    /// Posts a form with the page's token.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let token = self.csrf().await?;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// The `value` of the input named `name`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}
