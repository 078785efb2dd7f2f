//! Notifications: in the platform and by mail, in the recipient's language; password reset by
//! mailed link. Mail is never sent inside a request: a change enqueues a `mail.send` job carrying
//! the rendered message and its idempotency key, and a worker sends it.
//!
//! Pure here: the messages' texts and the mail job's payload.

mod evaluation;
pub mod service;
pub mod store;

pub use evaluation::*;

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

/// The job that sends `message`, once per its key.
pub fn mail_job(
    message: &MailMessage,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::jobs::NewJob, serde_json::Error> {
    let key = format!("{MAIL_JOB}:{}", message.message_key);
    let payload = serde_json::to_value(message)?;
    Ok(crate::jobs::NewJob::new(MAIL_JOB, payload, now, key))
}

/// The message that welcomes an expert imported into the pool, with the link that sets its
/// password (single use, like a reset).
pub fn expert_activation(name: &str, link: &str, days: i64) -> (Text, Text) {
    (
        Text::new(
            "You are in Tenderhall's expert pool: set your password",
            "您已入选 Tenderhall 评标专家库：请设置密码",
        ),
        Text::new(
            format!(
                "Dear {name},\n\nThe platform's operators added you to the pool of evaluation experts. To sign in, choose a password by opening this link within {days} days; it works once:\n\n{link}\n\nThen keep your unavailable days, your former employers and your relatives' employers current, and register your signing key: the draw reads them to keep conflicts of interest off committees.\n"
            ),
            format!(
                "{name}，您好：\n\n平台运营方已将您纳入评标专家库。请在 {days} 天内打开以下链接设置登录密码（仅可使用一次）：\n\n{link}\n\n登录后请及时维护不可参加评标的日期、曾任职单位及近亲属任职单位，并登记签名公钥：专家抽取将据此执行回避规则。\n"
            ),
        ),
    )
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
/// A lot's auction closed: sold at `price`, or failed.
pub fn auction_closed(
    title: &str,
    tender_id: &str,
    lot_id: &str,
    price: Option<String>,
) -> (Text, Text) {
    let record = format!("/api/v1/tenders/{tender_id}/lots/{lot_id}/auction/record");
    match price {
        Some(price) => (
            Text::new(
                format!("Auction closed, sold: lot {lot_id} of {title}"),
                format!("竞价结束，已成交：{title} 标段 {lot_id}"),
            ),
            Text::new(
                format!(
                    "The auction of lot {lot_id} of \"{title}\" ({tender_id}) closed: sold at {price}. The signed auction record is at {record}; the winner and the seller find the confirmation of the sale (成交确认书) at .../auction/confirmation.\n"
                ),
                format!(
                    "项目“{title}”（{tender_id}）标段 {lot_id} 竞价结束，成交价 {price} 元。签名竞价记录见 {record}；竞得人和出让人可查看成交确认书（.../auction/confirmation）。\n"
                ),
            ),
        ),
        None => (
            Text::new(
                format!("Auction failed: lot {lot_id} of {title}"),
                format!("竞价未成交：{title} 标段 {lot_id}"),
            ),
            Text::new(
                format!(
                    "The auction of lot {lot_id} of \"{title}\" ({tender_id}) closed without a sale (no bid, or the reserve was not met); the deposits are refunded. The signed auction record is at {record}.\n"
                ),
                format!(
                    "项目“{title}”（{tender_id}）标段 {lot_id} 竞价结束，未成交（无人出价或未达保留价），保证金将予退还。签名竞价记录见 {record}。\n"
                ),
            ),
        ),
    }
}

/// The opening record of a lot is published (or the lot failed unopened).
pub fn lot_opened(title: &str, tender_id: &str, lot_id: &str, failed: bool) -> (Text, Text) {
    if failed {
        (
            Text::new(
                format!("Lot {lot_id} failed: {title}"),
                format!("标段 {lot_id} 流标：{title}"),
            ),
            Text::new(
                format!(
                    "Too few bids reached lot {lot_id} of \"{title}\" ({tender_id}) by the deadline: the lot fails unopened and the deposits are refunded. The signed record is at /api/v1/tenders/{tender_id}/lots/{lot_id}/opening.\n"
                ),
                format!(
                    "项目“{title}”（{tender_id}）标段 {lot_id} 截止时投标人不足，不予开标，该标段流标，投标保证金将予退还。签名开标记录见 /api/v1/tenders/{tender_id}/lots/{lot_id}/opening。\n"
                ),
            ),
        )
    } else {
        (
            Text::new(
                format!("Bids opened: lot {lot_id} of {title}"),
                format!("已开标：{title} 标段 {lot_id}"),
            ),
            Text::new(
                format!(
                    "The bids for lot {lot_id} of \"{title}\" ({tender_id}) were opened at the deadline. The signed opening record is at /api/v1/tenders/{tender_id}/lots/{lot_id}/opening.\n"
                ),
                format!(
                    "项目“{title}”（{tender_id}）标段 {lot_id} 已于投标截止时开标。签名开标记录见 /api/v1/tenders/{tender_id}/lots/{lot_id}/opening。\n"
                ),
            ),
        )
    }
}

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

/// The message to everyone who downloaded a tender's documents when a clarification or amendment
/// is published (电子招标投标办法 Art 22), with the deadline it leaves (实施条例 Art 21).
pub fn tender_amended(
    tender_title: &str,
    tender_id: &str,
    amendment_title: &str,
    body: &str,
    deadline: &str,
    moved_from: Option<&str>,
) -> (Text, Text) {
    let (moved_en, moved_zh) = match moved_from {
        Some(old) => (
            format!(
                "The bid deadline has moved from {old} to {deadline}, so that bidders have at least 15 days to take it into account (实施条例 Art 21).\n"
            ),
            format!(
                "投标截止时间由 {old} 顺延至 {deadline}，以保证投标人至少有 15 日时间编制投标文件（《招标投标法实施条例》第二十一条）。\n"
            ),
        ),
        None => (
            format!("The bid deadline stays {deadline}.\n"),
            format!("投标截止时间仍为 {deadline}。\n"),
        ),
    };
    (
        Text::new(
            format!("Clarification or amendment: {tender_title}"),
            format!("澄清或修改：{tender_title}"),
        ),
        Text::new(
            format!(
                "\"{tender_title}\" ({tender_id}) has published a clarification or amendment of its tender documents, binding on every bid:\n\n{amendment_title}\n\n{body}\n\n{moved_en}"
            ),
            format!(
                "项目“{tender_title}”（{tender_id}）发布了招标文件的澄清或修改，其内容为招标文件的组成部分：\n\n{amendment_title}\n\n{body}\n\n{moved_zh}"
            ),
        ),
    )
}

/// The message to a tender's owners when its question period ends.
pub fn questions_closed(tender_title: &str, tender_id: &str, unanswered: u64) -> (Text, Text) {
    (
        Text::new(
            format!("Questions closed: {tender_title}"),
            format!("澄清提问已截止：{tender_title}"),
        ),
        Text::new(
            format!(
                "The period for questions about \"{tender_title}\" ({tender_id}) has ended (10 days before the bid deadline, 实施条例 Art 22). Unanswered questions: {unanswered}.\n"
            ),
            format!(
                "项目“{tender_title}”（{tender_id}）的提问期已结束（投标截止前 10 日，《招标投标法实施条例》第二十二条）。尚未答复的问题：{unanswered} 个。\n"
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
        let (_, body) = password_reset("https://h/reset-password?token=abc", 30);
        assert!(
            body.en.contains("https://h/reset-password?token=abc")
                && body.en.contains("30 minutes")
        );
        assert!(
            body.zh.contains("https://h/reset-password?token=abc") && body.zh.contains("30 分钟")
        );
    }
}
