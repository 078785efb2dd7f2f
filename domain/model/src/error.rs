//! The API's refusals: every stable code with its HTTP status and its title in both product
//! languages, and the bilingual text a refusal carries.

/// A message in both product languages (the API picks one by `Accept-Language`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// Every refusal's stable machine code: the API contract (docs/api.md lists them, a test checks
/// the list against this enum). Each code carries its HTTP status and its title in both product
/// languages in one `match`, so a code without a title or a status does not compile.
/// `bad_signature` is one wire code for two refusals of different status: the bank's HMAC (401)
/// and a bid's Ed25519 signature (422); its title is neutral and the detail says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadJson,
    BadUpload,
    BadRequest,
    Unauthenticated,
    BadCredentials,
    BadBankSignature,
    StaleTimestamp,
    FeeUnpaid,
    Forbidden,
    /// A form or a cookie-signed call without the page's token (docs/portal.md "Forms").
    CsrfFailed,
    OrgUnverified,
    SandboxOnly,
    NoMandate,
    NotFound,
    MethodNotAllowed,
    EmailTaken,
    KeyExists,
    NotDraft,
    NotCancellable,
    TenderClosed,
    QuestionsClosed,
    TenderNotActive,
    AlreadyAnswered,
    DeadlinePassed,
    DeadlineNotPassed,
    LotNotActive,
    NotOpened,
    BidCurrent,
    NoDocumentFee,
    TxnConflict,
    AlreadyWithdrawn,
    GuaranteeNotAllowed,
    GuaranteeExists,
    MandateExists,
    DrawExists,
    DrawWindowNotOpen,
    DrawNotAwaitingInput,
    InvitationClosed,
    NoCommittee,
    CommitteeTooSmall,
    CommitteeSizeEven,
    ConflictNotDeclared,
    SheetLocked,
    WrongPhase,
    PublicityClosed,
    AlreadyAwarded,
    NothingToRetender,
    ClarificationClosed,
    ComplaintExists,
    JobNotDead,
    TooLarge,
    UnsupportedMediaType,
    Invalid,
    WeakPassword,
    ResetTokenInvalid,
    BadEnvelope,
    WrongRecipient,
    BadBidSignature,
    NotRegistered,
    PeriodTooShort,
    DepositTooHigh,
    ProcedureMismatch,
    PriceWeightTooLow,
    WeightsNot100,
    EmptyRange,
    PriceDropForbidden,
    PriceMethodNotAllowed,
    SmeDeductionOutOfRange,
    EvaluationMissing,
    FirstRankedPassedOver,
    BondTooHigh,
    GuaranteeInvalid,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    /// Every code, for the documentation check.
    pub const ALL: &'static [ErrorCode] = &[
        Self::BadJson,
        Self::BadUpload,
        Self::BadRequest,
        Self::Unauthenticated,
        Self::BadCredentials,
        Self::BadBankSignature,
        Self::StaleTimestamp,
        Self::FeeUnpaid,
        Self::Forbidden,
        Self::CsrfFailed,
        Self::OrgUnverified,
        Self::SandboxOnly,
        Self::NoMandate,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::EmailTaken,
        Self::KeyExists,
        Self::NotDraft,
        Self::NotCancellable,
        Self::TenderClosed,
        Self::QuestionsClosed,
        Self::TenderNotActive,
        Self::AlreadyAnswered,
        Self::DeadlinePassed,
        Self::DeadlineNotPassed,
        Self::LotNotActive,
        Self::NotOpened,
        Self::BidCurrent,
        Self::NoDocumentFee,
        Self::TxnConflict,
        Self::AlreadyWithdrawn,
        Self::GuaranteeNotAllowed,
        Self::GuaranteeExists,
        Self::MandateExists,
        Self::DrawExists,
        Self::DrawWindowNotOpen,
        Self::DrawNotAwaitingInput,
        Self::InvitationClosed,
        Self::NoCommittee,
        Self::CommitteeTooSmall,
        Self::CommitteeSizeEven,
        Self::ConflictNotDeclared,
        Self::SheetLocked,
        Self::WrongPhase,
        Self::PublicityClosed,
        Self::AlreadyAwarded,
        Self::NothingToRetender,
        Self::ClarificationClosed,
        Self::ComplaintExists,
        Self::JobNotDead,
        Self::TooLarge,
        Self::UnsupportedMediaType,
        Self::Invalid,
        Self::WeakPassword,
        Self::ResetTokenInvalid,
        Self::BadEnvelope,
        Self::WrongRecipient,
        Self::BadBidSignature,
        Self::NotRegistered,
        Self::PeriodTooShort,
        Self::DepositTooHigh,
        Self::ProcedureMismatch,
        Self::PriceWeightTooLow,
        Self::WeightsNot100,
        Self::EmptyRange,
        Self::PriceDropForbidden,
        Self::PriceMethodNotAllowed,
        Self::SmeDeductionOutOfRange,
        Self::EvaluationMissing,
        Self::FirstRankedPassedOver,
        Self::BondTooHigh,
        Self::GuaranteeInvalid,
        Self::RateLimited,
        Self::Internal,
        Self::Unavailable,
    ];

    /// (wire code, HTTP status, English title, Chinese title).
    const fn info(self) -> (&'static str, u16, &'static str, &'static str) {
        match self {
            Self::BadJson => ("bad_json", 400, "Malformed request body", "请求体格式错误"),
            Self::BadUpload => ("bad_upload", 400, "Upload failed", "上传失败"),
            Self::BadRequest => ("bad_request", 400, "Request refused", "请求被拒绝"),
            Self::Unauthenticated => ("unauthenticated", 401, "Sign-in required", "需要登录"),
            Self::BadCredentials => (
                "bad_credentials",
                401,
                "Wrong email or password",
                "邮箱或密码错误",
            ),
            Self::BadBankSignature => ("bad_signature", 401, "Signature not valid", "签名无效"),
            Self::StaleTimestamp => (
                "stale_timestamp",
                401,
                "Stale bank timestamp",
                "银行时间戳过期",
            ),
            Self::FeeUnpaid => ("fee_unpaid", 402, "Document fee unpaid", "文件费未缴纳"),
            Self::Forbidden => ("forbidden", 403, "Not allowed", "无权执行此操作"),
            Self::CsrfFailed => (
                "csrf_failed",
                403,
                "The form's token is missing or wrong",
                "表单令牌缺失或错误",
            ),
            Self::OrgUnverified => (
                "org_unverified",
                403,
                "Organization not verified",
                "机构尚未通过审核",
            ),
            Self::SandboxOnly => ("sandbox_only", 403, "Sandbox only", "仅限沙箱"),
            Self::NoMandate => ("no_mandate", 403, "No current mandate", "无有效委托"),
            Self::NotFound => ("not_found", 404, "Not found", "未找到"),
            Self::MethodNotAllowed => (
                "method_not_allowed",
                405,
                "Method not allowed",
                "不支持该请求方法",
            ),
            Self::EmailTaken => (
                "email_taken",
                409,
                "Email already registered",
                "邮箱已被注册",
            ),
            Self::KeyExists => ("key_exists", 409, "Key already registered", "公钥已登记"),
            Self::NotDraft => ("not_draft", 409, "No longer a draft", "已不是草稿"),
            Self::NotCancellable => ("not_cancellable", 409, "Cannot be cancelled", "不能终止"),
            Self::TenderClosed => ("tender_closed", 409, "Tender closed", "项目已截止"),
            Self::QuestionsClosed => ("questions_closed", 409, "Questions closed", "提问已截止"),
            Self::TenderNotActive => (
                "tender_not_active",
                409,
                "Tender not open",
                "项目不在招标期",
            ),
            Self::AlreadyAnswered => ("already_answered", 409, "Already answered", "已答复"),
            Self::DeadlinePassed => ("deadline_passed", 409, "Deadline passed", "已过截止时间"),
            Self::DeadlineNotPassed => (
                "deadline_not_passed",
                409,
                "Deadline not passed yet",
                "尚未到截止时间",
            ),
            Self::LotNotActive => ("lot_not_active", 409, "Lot not open", "标段不在招标期"),
            Self::NotOpened => ("not_opened", 409, "Not opened yet", "尚未开标"),
            Self::BidCurrent => ("bid_current", 409, "A bid is current", "存在有效投标"),
            Self::NoDocumentFee => ("no_document_fee", 409, "No document fee", "不收取文件费"),
            Self::TxnConflict => (
                "txn_conflict",
                409,
                "Bank transaction conflict",
                "银行流水冲突",
            ),
            Self::AlreadyWithdrawn => ("already_withdrawn", 409, "Already withdrawn", "已撤回"),
            Self::GuaranteeNotAllowed => (
                "guarantee_not_allowed",
                409,
                "Guarantee not allowed",
                "不接受保函",
            ),
            Self::GuaranteeExists => (
                "guarantee_exists",
                409,
                "Guarantee already given",
                "保函已提交",
            ),
            Self::MandateExists => (
                "mandate_exists",
                409,
                "Mandate already granted",
                "委托已存在",
            ),
            Self::DrawExists => ("draw_exists", 409, "Draw already made", "已有专家抽取"),
            Self::DrawWindowNotOpen => (
                "draw_window_not_open",
                409,
                "Too early to draw experts",
                "尚未到专家抽取时间",
            ),
            Self::DrawNotAwaitingInput => (
                "draw_not_awaiting_input",
                409,
                "Public input already fixed",
                "公开随机数已确定",
            ),
            Self::InvitationClosed => (
                "invitation_closed",
                409,
                "Invitation no longer open",
                "邀请已失效",
            ),
            Self::NoCommittee => (
                "no_committee",
                422,
                "No committee for this procedure",
                "该采购方式不组建评标委员会",
            ),
            Self::CommitteeTooSmall => (
                "committee_too_small",
                422,
                "Committee too small",
                "评标委员会人数不足",
            ),
            Self::CommitteeSizeEven => (
                "committee_size_even",
                422,
                "Committee size must be odd",
                "评标委员会人数须为单数",
            ),
            Self::ConflictNotDeclared => (
                "conflict_not_declared",
                422,
                "No-conflict declaration missing",
                "未声明无利害关系",
            ),
            Self::SheetLocked => (
                "sheet_locked",
                409,
                "Sheet already submitted",
                "评审表已提交，不得修改",
            ),
            Self::WrongPhase => (
                "wrong_phase",
                409,
                "Not in this phase of the evaluation",
                "评标尚未进入该阶段",
            ),
            Self::PublicityClosed => (
                "publicity_closed",
                409,
                "Publicity period over",
                "公示期已结束",
            ),
            Self::AlreadyAwarded => ("already_awarded", 409, "Already awarded", "已确定中标人"),
            Self::FirstRankedPassedOver => (
                "first_ranked_passed_over",
                422,
                "First-ranked candidate passed over",
                "未确定排名第一的中标候选人",
            ),
            Self::BondTooHigh => (
                "bond_too_high",
                422,
                "Performance bond too high",
                "履约保证金过高",
            ),
            Self::NothingToRetender => (
                "nothing_to_retender",
                409,
                "Nothing to tender again",
                "无需重新招标",
            ),
            Self::ClarificationClosed => (
                "clarification_closed",
                409,
                "Clarification closed",
                "澄清期限已过",
            ),
            Self::ComplaintExists => (
                "complaint_exists",
                409,
                "Complaint already filed",
                "已就该异议投诉",
            ),
            Self::JobNotDead => ("job_not_dead", 409, "Job not dead", "任务未失败终止"),
            Self::TooLarge => ("too_large", 413, "Request too large", "请求体过大"),
            Self::UnsupportedMediaType => (
                "unsupported_media_type",
                415,
                "Unsupported content type",
                "不支持的内容类型",
            ),
            Self::Invalid => ("invalid", 422, "Invalid input", "输入无效"),
            Self::WeakPassword => ("weak_password", 422, "Weak password", "密码强度不足"),
            Self::ResetTokenInvalid => (
                "reset_token_invalid",
                422,
                "Reset link not valid",
                "重置链接无效",
            ),
            Self::BadEnvelope => (
                "bad_envelope",
                422,
                "Bid envelope refused",
                "投标文件格式无效",
            ),
            Self::WrongRecipient => (
                "wrong_recipient",
                422,
                "Sealed to the wrong key",
                "投标文件加密公钥不符",
            ),
            Self::BadBidSignature => ("bad_signature", 422, "Signature not valid", "签名无效"),
            Self::NotRegistered => (
                "not_registered",
                422,
                "Not registered for the lot",
                "未报名该标段",
            ),
            Self::PeriodTooShort => ("period_too_short", 422, "Period too short", "期限不足"),
            Self::DepositTooHigh => ("deposit_too_high", 422, "Deposit too high", "保证金过高"),
            Self::PriceWeightTooLow => (
                "price_weight_too_low",
                422,
                "Price weight too low",
                "价格分值过低",
            ),
            Self::WeightsNot100 => (
                "weights_not_100",
                422,
                "Weights do not sum to 100",
                "评审因素分值合计不为 100",
            ),
            Self::EmptyRange => ("empty_range", 422, "Empty scoring range", "评分区间为空"),
            Self::PriceDropForbidden => (
                "price_drop_forbidden",
                422,
                "Dropping prices not allowed",
                "不得去掉最高或最低报价",
            ),
            Self::PriceMethodNotAllowed => (
                "price_method_not_allowed",
                422,
                "Price method not allowed",
                "价格计算方法不适用",
            ),
            Self::SmeDeductionOutOfRange => (
                "sme_deduction_out_of_range",
                422,
                "SME deduction out of range",
                "中小企业价格扣除比例不符合规定",
            ),
            Self::EvaluationMissing => (
                "evaluation_missing",
                422,
                "Evaluation set-up missing",
                "未设置评标办法",
            ),
            Self::ProcedureMismatch => (
                "procedure_mismatch",
                422,
                "Procedure does not fit",
                "交易方式不适用",
            ),
            Self::GuaranteeInvalid => (
                "guarantee_invalid",
                422,
                "Guarantee not accepted",
                "保函无效",
            ),
            Self::RateLimited => ("rate_limited", 429, "Too many attempts", "尝试次数过多"),
            Self::Internal => ("internal", 500, "Internal error", "内部错误"),
            Self::Unavailable => ("unavailable", 503, "Service unavailable", "服务暂不可用"),
        }
    }

    /// The stable snake_case code clients match on.
    pub const fn as_str(self) -> &'static str {
        self.info().0
    }

    /// The HTTP status the API answers with.
    pub const fn status(self) -> u16 {
        self.info().1
    }

    /// The short title, in English and in Chinese.
    pub const fn title(self) -> (&'static str, &'static str) {
        let (_, _, en, zh) = self.info();
        (en, zh)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
