//! Expert draws (在线专家抽取, docs/spec/draws.md): a committee drawn at random from the pool, in a
//! way anyone can re-check afterwards, kept secret until the result is final (招标投标法 Art 37;
//! 实施条例 Art 46; 87号令 Art 48, 49). The rules (avoidance, committee size, ranking, seating,
//! the proof) are pure, in `tenderhall_model::expert`; this area loads, decides and writes.

pub mod service;
pub mod store;

use chrono::TimeDelta;

use crate::error::Text;
pub use tenderhall_model::expert::draw::{Answer, Mismatch, Proof, SeatGroup, verify};
pub use tenderhall_model::state::DrawStatus;

/// The job that fixes a draw's public input when its contribution window ends.
pub const INPUT_JOB: &str = "draw.input";
/// The job that passes a seat on when an invitation runs out unanswered (87号令 Art 49).
pub const EXPIRY_JOB: &str = "draw.invitation_expiry";

/// When draws may be requested and how long each step waits; parsed once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawSettings {
    /// A draw may be requested from this long before the bid deadline (÷ the tender's accelerator).
    pub window: TimeDelta,
    /// How long supervisors (and the tenderer) have to post their random contributions.
    pub contribution_window: TimeDelta,
    /// How long an invitation waits for an answer.
    pub invitation_validity: TimeDelta,
    /// The repeat limit: at most this many committees of one tenderer …
    pub max_evaluations_per_tenderer: u32,
    /// … within this many months.
    pub repeat_months: u32,
}

impl Default for DrawSettings {
    fn default() -> Self {
        Self {
            window: TimeDelta::hours(48),
            contribution_window: TimeDelta::minutes(15),
            invitation_validity: TimeDelta::hours(24),
            max_evaluations_per_tenderer: 3,
            repeat_months: 12,
        }
    }
}

/// A duration of the procedure divided by a sandbox tender's accelerator, never below a second.
pub fn accelerated(duration: TimeDelta, accelerator: i32) -> TimeDelta {
    let accelerator = i64::from(accelerator.max(1));
    TimeDelta::milliseconds((duration.num_milliseconds() / accelerator).max(1000))
}

/// The mail and notice inviting an expert to a committee.
pub fn invitation(tender_title: &str, lot_id: &str, link: &str, expires: &str) -> (Text, Text) {
    (
        Text::new(
            format!("Invitation to an evaluation committee: {tender_title}"),
            format!("评标委员会邀请：{tender_title}"),
        ),
        Text::new(
            format!(
                "You were drawn at random for the evaluation committee of lot {lot_id} of \"{tender_title}\".\n\nTo accept (after declaring that you have no conflict with the lot's bidders, whom the page names) or to decline, open:\n\n{link}\n\nThe invitation runs until {expires} (UTC). Without an answer by then, the seat passes to the next expert drawn. Keep this invitation to yourself: the committee is secret until the result is final.\n"
            ),
            format!(
                "您被随机抽取为“{tender_title}”标段 {lot_id} 的评标委员会成员。\n\n如接受（需先声明与该标段投标人无利害关系，页面将列出投标人名称）或拒绝，请打开：\n\n{link}\n\n邀请有效期至 {expires}（UTC）。逾期未答复，席位将依次由下一位抽中的专家递补。评标结果确定前，评标委员会名单须保密，请勿外传。\n"
            ),
        ),
    )
}

/// The notice to the owner when a draw runs out of experts (counts only).
pub fn exhausted(tender_title: &str, lot_id: &str, filled: u32, total: u32) -> (Text, Text) {
    (
        Text::new(
            format!("Expert draw short of experts: {tender_title}"),
            format!("专家抽取人数不足：{tender_title}"),
        ),
        Text::new(
            format!(
                "The draw for lot {lot_id} ran out of eligible experts: {filled} of {total} seats are filled. Request a new draw with other specialties or regions, or ask the operators to widen the pool.\n"
            ),
            format!(
                "标段 {lot_id} 的专家抽取已无符合条件的专家：{total} 个席位中已确认 {filled} 个。请调整专业或地区重新申请抽取，或联系运营方扩充专家库。\n"
            ),
        ),
    )
}

/// The notice to the owner when the committee is complete (counts only).
pub fn complete(tender_title: &str, lot_id: &str, total: u32) -> (Text, Text) {
    (
        Text::new(
            format!("Evaluation committee complete: {tender_title}"),
            format!("评标委员会已组建：{tender_title}"),
        ),
        Text::new(
            format!("All {total} seats of the committee of lot {lot_id} are accepted.\n"),
            format!("标段 {lot_id} 的评标委员会 {total} 个席位均已确认。\n"),
        ),
    )
}
