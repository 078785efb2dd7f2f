//! The texts of the evaluation's messages: the lot failing, the report, candidates and
//! objections, clarifications, complaints, final-quote rounds, the award and the contract.

use crate::error::Text;

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
