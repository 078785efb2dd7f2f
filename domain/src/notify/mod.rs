//! Notifications: in the platform and by mail, in the recipient's language; password reset by
//! mailed link. Mail is never sent inside a request: a change enqueues a `mail.send` job carrying
//! the rendered message and its idempotency key, and a worker sends it.
//!
//! Pure here: the messages' texts and the mail job's payload.

pub mod service;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::Text;

/// The job kind that sends one message.
pub const MAIL_JOB: &str = "mail.send";

/// A rendered message, as the mail job carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    /// The same message is accepted by a mail server at most once: the mail log keeps this key, and
    /// it is the message's `Message-ID`, so even a duplicate after a crash is recognisable.
    pub message_key: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A text in the language an account chose (`zh-CN` by default).
pub fn in_language(text: &Text, language: &str) -> String {
    if language == "en" {
        text.en.clone()
    } else {
        text.zh.clone()
    }
}

/// The message of a password reset link.
pub fn password_reset(link: &str, minutes: i64) -> (Text, Text) {
    (
        Text::new("Reset your Tenderhall password", "重置您的 Tenderhall 密码"),
        Text::new(
            format!(
                "Someone asked to reset the password of this account.\n\nTo choose a new password, open this link within {minutes} minutes; it works once:\n\n{link}\n\nIf it was not you, ignore this message: your password stays as it is.\n"
            ),
            format!(
                "有人申请重置此账户的密码。\n\n如需设置新密码，请在 {minutes} 分钟内打开以下链接（仅可使用一次）：\n\n{link}\n\n如非本人操作，请忽略本邮件，您的密码不会改变。\n"
            ),
        ),
    )
}

/// The message to a tender's owners when its bid deadline passes.
pub fn tender_closed(title: &str, tender_id: &str, deadline: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Bids closed: {title}"),
            format!("投标已截止：{title}"),
        ),
        Text::new(
            format!(
                "The bid deadline of \"{title}\" ({tender_id}) passed at {deadline}. No bid is accepted any more.\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）的投标截止时间 {deadline} 已到，此后不再接受投标。\n"
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_the_account_language_chinese_by_default() {
        let (subject, _) = password_reset("http://x/reset", 30);
        assert_eq!(
            in_language(&subject, "en"),
            "Reset your Tenderhall password"
        );
        assert_eq!(in_language(&subject, "zh-CN"), "重置您的 Tenderhall 密码");
        assert_eq!(
            in_language(&subject, "anything"),
            "重置您的 Tenderhall 密码"
        );
    }

    #[test]
    fn the_reset_message_carries_the_link_and_its_lifetime() {
        let (_, body) = password_reset("https://h/reset-password#token=abc", 30);
        assert!(
            body.en.contains("https://h/reset-password#token=abc")
                && body.en.contains("30 minutes")
        );
        assert!(
            body.zh.contains("https://h/reset-password#token=abc") && body.zh.contains("30 分钟")
        );
    }
}
