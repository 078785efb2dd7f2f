//! Accounts on the portal: sign up, sign in and out, password reset, the account page with its
//! notifications, and the language switch. Each form calls the service the API calls.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;
use tenderhall_domain::account::service::{
    self as accounts, NewOrganization, Registration, sign_in, sign_out,
};
use tenderhall_domain::id::NotificationId;
use tenderhall_domain::notify::service as notify;

use super::form::{CsrfForm, FormError, NoFields, form_error, require_sign_in, with_status};
use super::hall::beijing;
use super::session::{LANG_COOKIE, SESSION_COOKIE, Visitor, local_path, set_cookie};
use super::{Frame, PageResult, render, see_other};
use crate::extract::{ApiQuery, ClientIp};
use crate::state::AppState;

// ---- language ----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    language: String,
    #[serde(default)]
    back: String,
}

fn language_cookie(language: &str) -> Option<axum::http::HeaderValue> {
    let value = if language == "en" { "en" } else { "zh-CN" };
    set_cookie(LANG_COOKIE, value, 365 * 24 * 3600)
}

/// `POST /language`: the visitor's choice, kept in a cookie; a signed-in person's account
/// follows it, so mail comes in the same language.
pub async fn switch_language(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> PageResult {
    let language = accounts::parse_language(Some(&form.language))?;
    if let Some(p) = &visitor.principal {
        accounts::set_language(state.db(), p, language, Some(ip), state.now()).await?;
    }
    let mut response = see_other(&form.back);
    if let Some(v) = language_cookie(language) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

// ---- sign up ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    org_kind: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    basic_account: String,
}

#[derive(Template)]
#[template(path = "web/signup.html")]
struct SignupPage {
    frame: Frame,
    form: SignupForm,
    error: Option<FormError>,
    kinds: Vec<(&'static str, bool)>,
}

fn signup_page_with(
    visitor: &Visitor,
    state: &AppState,
    form: SignupForm,
    error: Option<FormError>,
) -> PageResult {
    let kinds = ["bidder", "tenderer", "agency", "supervisor"]
        .into_iter()
        .map(|k| (k, form.org_kind == k))
        .collect();
    render(&SignupPage {
        frame: Frame::new(visitor, state),
        form,
        error,
        kinds,
    })
}

pub async fn signup_page(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    signup_page_with(&visitor, &state, SignupForm::default(), None)
}

/// `POST /signup`: registers the person and the organization as `POST /api/v1/accounts` does,
/// then signs them in.
pub async fn signup(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> PageResult {
    let registration = Registration {
        email: form.email.clone(),
        password: form.password.clone(),
        name: form.name.clone(),
        organization: NewOrganization {
            name: form.org_name.clone(),
            kind: form.org_kind.clone(),
            credit_code: form.credit_code.clone(),
            basic_account: Some(form.basic_account.clone()).filter(|a| !a.trim().is_empty()),
        },
        language: Some(visitor.tr.tag().to_owned()),
    };
    if let Err(e) = accounts::register(
        state.db(),
        registration,
        state.settings().sandbox,
        Some(ip.clone()),
        state.now(),
    )
    .await
    {
        let (status, error) = form_error(&visitor, e);
        let form = SignupForm {
            password: String::new(),
            ..form
        };
        return with_status(
            status,
            signup_page_with(&visitor, &state, form, Some(error)),
        );
    }
    let session = sign_in(
        state.db(),
        state.sign_in_policy(),
        &form.email,
        &form.password,
        &ip,
        state.now(),
    )
    .await?;
    Ok(signed_in(&state, &session.token, "/account"))
}

fn signed_in(state: &AppState, token: &str, to: &str) -> Response {
    let mut response = see_other(to);
    let ttl = i64::from(state.settings().session_ttl_minutes) * 60;
    if let Some(v) = set_cookie(SESSION_COOKIE, token, ttl) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

// ---- sign in and out -------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct SigninQuery {
    next: Option<String>,
    reset: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "web/signin.html")]
struct SigninPage {
    frame: Frame,
    email: String,
    next: String,
    notice: Option<&'static str>,
    error: Option<FormError>,
}

pub async fn signin_page(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiQuery(query): ApiQuery<SigninQuery>,
) -> PageResult {
    render(&SigninPage {
        frame: Frame::new(&visitor, &state),
        email: String::new(),
        next: query.next.map(|n| local_path(&n)).unwrap_or_default(),
        notice: query.reset.map(|_| "signin.password_changed"),
        error: None,
    })
}

/// `POST /signin`: the same checks and rate limit as `POST /api/v1/sessions`.
pub async fn signin(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<SigninForm>,
) -> PageResult {
    match sign_in(
        state.db(),
        state.sign_in_policy(),
        &form.email,
        &form.password,
        &ip,
        state.now(),
    )
    .await
    {
        Ok(session) => {
            let to = if form.next.is_empty() {
                "/account".to_owned()
            } else {
                local_path(&form.next)
            };
            Ok(signed_in(&state, &session.token, &to))
        }
        Err(e) => {
            let (status, error) = form_error(&visitor, e);
            with_status(
                status,
                render(&SigninPage {
                    frame: Frame::new(&visitor, &state),
                    email: form.email,
                    next: local_path(&form.next),
                    notice: None,
                    error: Some(error),
                }),
            )
        }
    }
}

/// `POST /signout`: the session ends on the server, and the cookie goes.
pub async fn signout(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    if let Some(token) = &visitor.token {
        sign_out(state.db(), token, Some(ip), state.now()).await?;
    }
    let mut response = see_other("/");
    if let Some(v) = set_cookie(SESSION_COOKIE, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

// ---- password reset --------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "web/forgot.html")]
struct ForgotPage {
    frame: Frame,
    sent: bool,
}

pub async fn forgot_page(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    render(&ForgotPage {
        frame: Frame::new(&visitor, &state),
        sent: false,
    })
}

/// `POST /forgot-password`: the same answer whether or not the address has an account.
pub async fn forgot(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> PageResult {
    notify::request_password_reset(
        state.db(),
        &form.email,
        &state.settings().public_url(),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    render(&ForgotPage {
        frame: Frame::new(&visitor, &state),
        sent: true,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "web/reset.html")]
struct ResetPage {
    frame: Frame,
    token: String,
    error: Option<FormError>,
}

/// `GET /reset-password?token=`: the page a reset or activation mail links to.
pub async fn reset_page(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiQuery(query): ApiQuery<ResetQuery>,
) -> PageResult {
    let mut response = render(&ResetPage {
        frame: Frame::new(&visitor, &state),
        token: query.token.unwrap_or_default(),
        error: None,
    })?;
    // The token is in the address: no page it links to may learn it.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

pub async fn reset(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> PageResult {
    match notify::reset_password(
        state.db(),
        &form.token,
        &form.password,
        Some(ip),
        state.now(),
    )
    .await
    {
        Ok(()) => Ok(see_other("/signin?reset=1")),
        Err(e) => {
            let (status, error) = form_error(&visitor, e);
            with_status(
                status,
                render(&ResetPage {
                    frame: Frame::new(&visitor, &state),
                    token: form.token,
                    error: Some(error),
                }),
            )
        }
    }
}

// ---- the account page --------------------------------------------------------------------

struct NoteRow {
    id: String,
    subject: String,
    body: String,
    at: String,
    unread: bool,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "web/account.html")]
struct AccountPage {
    frame: Frame,
    name: String,
    email: String,
    organization: String,
    kind: String,
    verified: bool,
    language: String,
    notes: Vec<NoteRow>,
}

pub async fn account_page(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    let Some(principal) = visitor.principal.as_ref() else {
        return Ok(see_other("/signin?next=/account"));
    };
    let language = accounts::language_of(state.db(), principal).await?;
    let notes = notify::list(state.db(), principal, false, None, 50).await?;
    let (organization, kind, verified) = match &principal.membership {
        Some(m) => {
            let names = tenderhall_domain::account::store::queries::names(
                state.db(),
                [m.organization_id.to_string()],
            )
            .await?;
            (
                names
                    .get(m.organization_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                visitor
                    .tr
                    .get(&format!("org_kind.{}", m.kind.as_str()))
                    .to_owned(),
                m.verified,
            )
        }
        None => (String::new(), String::new(), false),
    };
    render(&AccountPage {
        frame: Frame::new(&visitor, &state),
        name: principal.name.clone(),
        email: principal.email.clone(),
        organization,
        kind,
        verified,
        language,
        notes: notes
            .into_iter()
            .map(|n| NoteRow {
                link: n
                    .object
                    .as_deref()
                    .and_then(|o| o.strip_prefix("tender:"))
                    .and_then(|rest| rest.split([':', '/']).next())
                    .map(|t| format!("/tenders/{t}")),
                subject: n.title,
                body: n.body,
                at: beijing(n.created_at),
                unread: n.read_at.is_none(),
                id: n.id,
            })
            .collect(),
    })
}

/// `POST /account/language`: the language of the account's mail, and of its pages.
pub async fn account_language(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?;
    let language =
        accounts::set_language(state.db(), principal, &form.language, Some(ip), state.now())
            .await?;
    let mut response = see_other("/account");
    if let Some(v) = language_cookie(language) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn notification_read(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?;
    notify::mark_read(
        state.db(),
        principal,
        &NotificationId::parse(&id)?,
        state.now(),
    )
    .await?;
    Ok(see_other("/account"))
}
