//! Sending mail through lettre: to `.eml` files in the outbox folder (the embedded default), or to
//! an SMTP server (`TENDERHALL_SMTP_URL`: `smtp://user:pass@host:587?tls=required` for STARTTLS,
//! `smtps://user:pass@host:465` for TLS, `smtp://host:25` for a relay on a trusted network).

use std::path::{Path, PathBuf};

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tenderhall_domain::notify::MailMessage;

pub enum Mailer {
    Outbox {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    /// SMTP when a URL is given, the outbox folder otherwise.
    pub fn new(smtp_url: Option<&str>, outbox: &Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("TENDERHALL_SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => Ok(Self::Outbox {
                dir: outbox.to_owned(),
                transport: AsyncFileTransport::new(outbox),
            }),
        }
    }

    pub fn transport_name(&self) -> &'static str {
        match self {
            Self::Outbox { .. } => "outbox",
            Self::Smtp(_) => "smtp",
        }
    }

    /// Sends `message` from `from`. Its `Message-ID` is derived from its idempotency key, so a copy
    /// sent again after a crash is recognisable as the same message.
    pub async fn send(&self, from: &Mailbox, message: &MailMessage) -> anyhow::Result<()> {
        let to: Mailbox = message
            .to
            .parse()
            .with_context(|| format!("`{}` is not a mail address", message.to))?;
        let email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{}@tenderhall>", message.message_key)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .context("building the message")?;
        match self {
            Self::Outbox { dir, transport } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating the outbox {}", dir.display()))?;
                transport
                    .send(email)
                    .await
                    .context("writing to the outbox")?;
            }
            Self::Smtp(transport) => {
                transport
                    .send(email)
                    .await
                    .context("the SMTP server refused the message")?;
            }
        }
        Ok(())
    }
}
