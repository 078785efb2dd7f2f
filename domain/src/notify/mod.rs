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
/// The opening record of a lot is published (or the lot failed unopened).
/// To the owners and bidders of a lot that fails at the review.
pub fn lot_failed_review(
    title: &str,
    tender_id: &str,
    lot_id: &str,
    valid: usize,
    required: usize,
) -> (Text, Text) {
    (
        Text::new(
            format!("Lot {lot_id} failed at the review: {title}"),
            format!("标段 {lot_id} 评审后流标：{title}"),
        ),
        Text::new(
            format!(
                "After the evaluation committee's review, {valid} bid(s) for lot {lot_id} of \"{title}\" ({tender_id}) are valid, fewer than the {required} required: the lot fails and the deposits are refunded. The tenderer may tender it again.\n"
            ),
            format!(
                "经评标委员会评审，项目“{title}”（{tender_id}）标段 {lot_id} 的有效投标为 {valid} 家，不足 {required} 家，该标段流标，投标保证金将予退还。招标人可重新招标。\n"
            ),
        ),
    )
}

/// The award notice (中标通知书) to the winner, or the result notice (中标结果通知书) to the
/// other bidders of the lot (招标投标法 Art 45).
pub fn award_notice(title: &str, tender_id: &str, lot_id: &str, winner: bool) -> (Text, Text) {
    let link = format!("/api/v1/tenders/{tender_id}/lots/{lot_id}/award");
    if winner {
        (
            Text::new(
                format!("Award notice: you won lot {lot_id} of {title}"),
                format!("中标通知书：{title} 标段 {lot_id}"),
            ),
            Text::new(
                format!(
                    "You are the winner of lot {lot_id} of \"{title}\" ({tender_id}). The signed award notice is at {link}. The contract is to be signed within 30 days (招标投标法 Art 46).\n"
                ),
                format!(
                    "贵单位为项目“{title}”（{tender_id}）标段 {lot_id} 的中标人。签章的中标通知书见 {link}。请于 30 日内订立书面合同（招标投标法第四十六条）。\n"
                ),
            ),
        )
    } else {
        (
            Text::new(
                format!("Result: lot {lot_id} of {title}"),
                format!("中标结果通知：{title} 标段 {lot_id}"),
            ),
            Text::new(
                format!(
                    "The winner of lot {lot_id} of \"{title}\" ({tender_id}) has been named; the signed notice is at {link}. Your deposit is refunded as the rules say.\n"
                ),
                format!(
                    "项目“{title}”（{tender_id}）标段 {lot_id} 已确定中标人，签章的中标结果见 {link}。投标保证金将依规定退还。\n"
                ),
            ),
        )
    }
}

/// Before the contract is due, when none is recorded.
pub fn contract_reminder(title: &str, tender_id: &str, lot_id: &str, due: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Contract due: lot {lot_id} of {title}"),
            format!("合同签订提醒：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The contract for lot {lot_id} of \"{title}\" ({tender_id}) is due by {due} (招标投标法 Art 46) and is not recorded yet.\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 的合同应于 {due} 前订立（招标投标法第四十六条），目前尚未备案。\n"
            ),
        ),
    )
}

/// To the lot's bidders when its candidates are published (实施条例 Art 54).
pub fn candidates_published(title: &str, tender_id: &str, lot_id: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Candidates published: lot {lot_id} of {title}"),
            format!("中标候选人公示：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The candidates of lot {lot_id} of \"{title}\" ({tender_id}) are published at /api/v1/tenders/{tender_id}/lots/{lot_id}/candidates. A bidder may object to the result during the publicity (实施条例 Art 54).\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 的中标候选人已公示，见 /api/v1/tenders/{tender_id}/lots/{lot_id}/candidates。投标人对评标结果有异议的，应当在公示期间提出（实施条例第五十四条）。\n"
            ),
        ),
    )
}

/// To the tender's owners when a bidder objects to the result.
pub fn objection_raised(title: &str, tender_id: &str, lot_id: &str, due: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Objection to the result: lot {lot_id} of {title}"),
            format!("评标结果异议：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "A bidder objects to the result of lot {lot_id} of \"{title}\" ({tender_id}). Answer by {due}; the procedure is suspended until you have (实施条例 Art 54).\n"
            ),
            format!(
                "有投标人对项目“{title}”（{tender_id}）标段 {lot_id} 的评标结果提出异议。请于 {due} 前答复；答复前招标投标活动暂停（实施条例第五十四条）。\n"
            ),
        ),
    )
}

/// To the objector when the tenderer answers.
pub fn objection_answered(title: &str, tender_id: &str, lot_id: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Your objection was answered: lot {lot_id} of {title}"),
            format!("异议已答复：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The tenderer answered your objection to the result of lot {lot_id} of \"{title}\" ({tender_id}); read it at /api/v1/tenders/{tender_id}/lots/{lot_id}/candidates. If you are not satisfied, you may complain to the supervisors.\n"
            ),
            format!(
                "招标人已答复您对项目“{title}”（{tender_id}）标段 {lot_id} 评标结果的异议，见 /api/v1/tenders/{tender_id}/lots/{lot_id}/candidates。对答复不满意的，可向监督部门投诉。\n"
            ),
        ),
    )
}

/// To a bidder the committee asks a written question (87号令 Art 51, 60).
pub fn clarification_asked(
    title: &str,
    tender_id: &str,
    lot_id: &str,
    due: &str,
    abnormally_low: bool,
) -> (Text, Text) {
    let (en, zh) = if abnormally_low {
        (
            " Your price appears abnormally low: explain it in writing, or your bid is invalid (87号令 Art 60).",
            "您的报价明显低于其他报价，请书面说明，否则投标无效（87号令第六十条）。",
        )
    } else {
        ("", "")
    };
    (
        Text::new(
            format!("Clarification requested: lot {lot_id} of {title}"),
            format!("澄清通知：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The evaluation committee of \"{title}\" ({tender_id}), lot {lot_id}, asks you a question. Answer it on the platform by {due}.{en}\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 的评标委员会要求您澄清。请于 {due} 前在平台上书面答复。{zh}\n"
            ),
        ),
    )
}

/// To the member who asked, when the bidder answers.
pub fn clarification_answered(title: &str, tender_id: &str, lot_id: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Clarification answered: lot {lot_id} of {title}"),
            format!("澄清已答复：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The bidder answered your question on lot {lot_id} of \"{title}\" ({tender_id}); the answer is in the evaluation room.\n"
            ),
            format!(
                "投标人已答复您就项目“{title}”（{tender_id}）标段 {lot_id} 提出的澄清，答复见评标室。\n"
            ),
        ),
    )
}

/// To the supervisors and the tender's owners when a bidder complains (实施条例 Art 60).
pub fn complaint_filed(title: &str, tender_id: &str, lot_id: &str, due: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Complaint: lot {lot_id} of {title}"),
            format!("投诉：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "A bidder complains about the result of lot {lot_id} of \"{title}\" ({tender_id}). The supervisors accept or refuse it by {due} (实施条例 Art 61).\n"
            ),
            format!(
                "有投标人就项目“{title}”（{tender_id}）标段 {lot_id} 的结果提出投诉。监督部门应于 {due} 前决定是否受理（实施条例第六十一条）。\n"
            ),
        ),
    )
}

/// To the complainant and the tender's owners when the supervisors accept, refuse or decide.
pub fn complaint_ruled(title: &str, tender_id: &str, lot_id: &str, action: &str) -> (Text, Text) {
    let (en, zh) = match action {
        "complaint.accept" => ("accepted", "已受理"),
        "complaint.refuse" => ("refused", "不予受理"),
        _ => ("decided", "已作出处理决定"),
    };
    (
        Text::new(
            format!("Complaint {en}: lot {lot_id} of {title}"),
            format!("投诉{zh}：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The supervisors have {en} the complaint about lot {lot_id} of \"{title}\" ({tender_id}); the details are on the platform.\n"
            ),
            format!(
                "监督部门对项目“{title}”（{tender_id}）标段 {lot_id} 的投诉{zh}，详情见平台。\n"
            ),
        ),
    )
}

/// To the bidders still in when the panel calls for final quotes.
pub fn round_called(
    title: &str,
    tender_id: &str,
    lot_id: &str,
    round: i32,
    deadline: &str,
) -> (Text, Text) {
    (
        Text::new(
            format!("Final quote requested (round {round}): lot {lot_id} of {title}"),
            format!("最后报价通知（第 {round} 轮）：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The panel of \"{title}\" ({tender_id}), lot {lot_id}, asks for your final quote by {deadline}. Seal it to round {round}'s key, shown with the round; without a quote you are out of the procedure.\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 的谈判（询价）小组请您于 {deadline} 前提交最后报价。请以第 {round} 轮报价公钥加密；未提交的视为退出。\n"
            ),
        ),
    )
}

/// To the bidders called when a round's quotes are opened.
pub fn round_opened(title: &str, tender_id: &str, lot_id: &str, round: i32) -> (Text, Text) {
    (
        Text::new(
            format!("Final quotes opened (round {round}): lot {lot_id} of {title}"),
            format!("最后报价已开启（第 {round} 轮）：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The final quotes of round {round} of lot {lot_id} of \"{title}\" ({tender_id}) were opened together; the signed record is on the platform.\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 第 {round} 轮最后报价已统一开启，签名记录见平台。\n"
            ),
        ),
    )
}

/// To the tender's owners when the committee's report is signed by every member and the platform.
pub fn evaluation_reported(title: &str, tender_id: &str, lot_id: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Evaluation report signed: lot {lot_id} of {title}"),
            format!("评标报告已签署：{title} 标段 {lot_id}"),
        ),
        Text::new(
            format!(
                "The evaluation committee of lot {lot_id} of \"{title}\" ({tender_id}) has signed its report, and the platform has signed it after them. Read it at /api/v1/tenders/{tender_id}/lots/{lot_id}/evaluation/report (printable: .../report.html).\n"
            ),
            format!(
                "项目“{title}”（{tender_id}）标段 {lot_id} 的评标委员会已签署评标报告，平台已随后签章。请查阅 /api/v1/tenders/{tender_id}/lots/{lot_id}/evaluation/report（可打印版本：.../report.html）。\n"
            ),
        ),
    )
}

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
