//! The procedure table of docs/spec/rules.md: which procedures and award methods fit each kind, and the legal
//! minimums each brings. Every number lives here once, with its article; the ones docs/spec/rules.md marks
//! *(unverified)* or *(local)* can be overridden per deployment through [`ProcedureSettings`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The known values, for messages: "a, b, c".
            pub fn known() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} `{s}`; known: {}", $what, Self::known()))
            }
        }
    };
}

named_enum!(
    /// What is being procured or sold (docs/spec/api-contract.md "Tenders").
    Kind, "kind", {
        /// 工程建设
        Construction => "construction",
        /// 政府采购: 货物
        Goods => "goods",
        /// 政府采购: 服务
        Services => "services",
        /// 土地使用权出让
        LandUse => "land_use",
        /// 矿业权出让
        MiningRights => "mining_rights",
        /// 国有产权交易
        PropertyRights => "property_rights",
        /// 药品集中采购
        Drugs => "drugs",
        /// 疫苗集中采购
        Vaccines => "vaccines",
    }
);

named_enum!(
    /// How the counterparty is chosen.
    Procedure, "procedure", {
        /// 公开招标
        OpenTender => "open_tender",
        /// 邀请招标
        InvitedTender => "invited_tender",
        /// 竞争性谈判
        CompetitiveNegotiation => "competitive_negotiation",
        /// 询价
        Inquiry => "inquiry",
        /// 反向竞价
        ReverseAuction => "reverse_auction",
        /// 挂牌
        Listing => "listing",
        /// 拍卖
        Auction => "auction",
    }
);

named_enum!(
    /// How the winner is determined.
    AwardMethod, "award method", {
        /// 经评审的最低投标价法
        LowestEvaluatedPrice => "lowest_evaluated_price",
        /// 综合评估法 / 综合评分法
        ComprehensiveScoring => "comprehensive_scoring",
        /// 价高者得
        HighestPrice => "highest_price",
    }
);

/// A legal minimum duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "count")]
pub enum Period {
    /// Calendar days.
    Days(u32),
    /// 工作日: counted on the holiday calendar.
    WorkingDays(u32),
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(n) => write!(f, "{n} days"),
            Self::WorkingDays(n) => write!(f, "{n} working days"),
        }
    }
}

impl Period {
    pub fn zh(&self) -> String {
        match self {
            Self::Days(n) => format!("{n} 日"),
            Self::WorkingDays(n) => format!("{n} 个工作日"),
        }
    }
}

/// The most a bid deposit may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum DepositCap {
    /// A percentage of the lot's budget (实施条例 Art 26; 政府采购法实施条例 Art 33).
    PercentOfBudget { percent: Decimal },
    /// A percentage of the budget and never above an amount in yuan.
    PercentOfBudgetAndAmount {
        percent: Decimal,
        amount_yuan: Decimal,
    },
    /// Rights and property sales: the seller sets it (docs/spec/api-contract.md "Auctions").
    SetBySeller,
}

/// One row of the procedure table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcedureRule {
    pub kinds: &'static [Kind],
    pub procedures: &'static [Procedure],
    pub award_methods: &'static [AwardMethod],
    /// From publication (the documents' first issue) to the bid deadline.
    pub min_period: Period,
    /// Bids needed for an opening.
    pub min_bids: u32,
    pub deposit_cap: DepositCap,
    /// Where the period comes from.
    pub period_source: &'static str,
    /// Where the deposit cap comes from.
    pub deposit_source: &'static str,
    /// A setting key when docs/spec/rules.md marks the row's numbers unverified or local.
    pub setting: Option<&'static str>,
}

const TWO_PERCENT: Decimal = Decimal::from_parts(2, 0, 0, false, 0);

/// docs/spec/rules.md "Procedure table", row by row.
pub const PROCEDURE_TABLE: &[ProcedureRule] = &[
    ProcedureRule {
        kinds: &[Kind::Construction],
        procedures: &[Procedure::OpenTender, Procedure::InvitedTender],
        award_methods: &[
            AwardMethod::LowestEvaluatedPrice,
            AwardMethod::ComprehensiveScoring,
        ],
        min_period: Period::Days(20),
        min_bids: 3,
        deposit_cap: DepositCap::PercentOfBudgetAndAmount {
            percent: TWO_PERCENT,
            amount_yuan: Decimal::from_parts(800_000, 0, 0, false, 0),
        },
        period_source: "招标投标法 Art 24",
        deposit_source: "实施条例 Art 26",
        setting: Some("construction"),
    },
    ProcedureRule {
        kinds: &[Kind::Goods, Kind::Services],
        procedures: &[Procedure::OpenTender, Procedure::InvitedTender],
        award_methods: &[
            AwardMethod::LowestEvaluatedPrice,
            AwardMethod::ComprehensiveScoring,
        ],
        min_period: Period::Days(20),
        min_bids: 3,
        deposit_cap: DepositCap::PercentOfBudget {
            percent: TWO_PERCENT,
        },
        period_source: "政府采购法 Art 35",
        deposit_source: "政府采购法实施条例 Art 33",
        setting: None,
    },
    ProcedureRule {
        kinds: &[Kind::Goods, Kind::Services],
        procedures: &[Procedure::CompetitiveNegotiation, Procedure::Inquiry],
        award_methods: &[AwardMethod::LowestEvaluatedPrice],
        min_period: Period::WorkingDays(3),
        min_bids: 3,
        deposit_cap: DepositCap::PercentOfBudget {
            percent: TWO_PERCENT,
        },
        period_source: "政府采购非招标采购方式管理办法 (unverified)",
        deposit_source: "政府采购法实施条例 Art 33",
        setting: Some("negotiation_inquiry"),
    },
    ProcedureRule {
        kinds: &[Kind::Goods, Kind::Services, Kind::Drugs, Kind::Vaccines],
        procedures: &[Procedure::ReverseAuction],
        award_methods: &[AwardMethod::LowestEvaluatedPrice],
        min_period: Period::WorkingDays(3),
        min_bids: 3,
        deposit_cap: DepositCap::PercentOfBudget {
            percent: TWO_PERCENT,
        },
        period_source: "local rule",
        deposit_source: "政府采购法实施条例 Art 33",
        setting: Some("reverse_auction"),
    },
    ProcedureRule {
        kinds: &[Kind::Drugs, Kind::Vaccines],
        procedures: &[Procedure::OpenTender],
        award_methods: &[
            AwardMethod::LowestEvaluatedPrice,
            AwardMethod::ComprehensiveScoring,
        ],
        min_period: Period::Days(20),
        min_bids: 3,
        deposit_cap: DepositCap::PercentOfBudget {
            percent: TWO_PERCENT,
        },
        period_source: "招标投标法 Art 24 (per batch)",
        deposit_source: "实施条例 Art 26",
        setting: Some("drugs_vaccines"),
    },
    ProcedureRule {
        kinds: &[Kind::LandUse, Kind::MiningRights],
        procedures: &[Procedure::Listing, Procedure::Auction],
        award_methods: &[AwardMethod::HighestPrice],
        min_period: Period::Days(20),
        min_bids: 1,
        deposit_cap: DepositCap::SetBySeller,
        period_source: "国土资源部令第39号",
        deposit_source: "set by the seller",
        setting: None,
    },
    ProcedureRule {
        kinds: &[Kind::PropertyRights],
        procedures: &[Procedure::Listing, Procedure::Auction],
        award_methods: &[AwardMethod::HighestPrice],
        min_period: Period::WorkingDays(20),
        min_bids: 1,
        deposit_cap: DepositCap::SetBySeller,
        period_source: "国资委 财政部令第32号",
        deposit_source: "set by the seller",
        setting: Some("property_rights"),
    },
];

/// Per-deployment values for the rows docs/spec/rules.md marks unverified or local, keyed by the row's
/// `setting`. An operator sets them in the configuration file; anything not set keeps the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureSettings {
    #[serde(default)]
    pub overrides: std::collections::BTreeMap<String, ProcedureOverride>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureOverride {
    pub min_period_days: Option<u32>,
    pub min_period_working_days: Option<u32>,
    pub min_bids: Option<u32>,
    /// Construction only: the cap amount in yuan.
    pub deposit_cap_yuan: Option<Decimal>,
}

impl ProcedureSettings {
    /// The names the settings may use.
    pub fn known_keys() -> Vec<&'static str> {
        PROCEDURE_TABLE.iter().filter_map(|r| r.setting).collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        for key in self.overrides.keys() {
            if !Self::known_keys().contains(&key.as_str()) {
                return Err(format!(
                    "unknown procedure setting `{key}`; known: {}",
                    Self::known_keys().join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The rule for `kind` and `procedure` with this deployment's overrides applied.
    pub fn rule(&self, kind: Kind, procedure: Procedure) -> Option<ProcedureRule> {
        let mut rule = rule_for(kind, procedure)?.clone();
        if let Some(o) = rule.setting.and_then(|key| self.overrides.get(key)) {
            if let Some(n) = o.min_period_days {
                rule.min_period = Period::Days(n);
            }
            if let Some(n) = o.min_period_working_days {
                rule.min_period = Period::WorkingDays(n);
            }
            if let Some(n) = o.min_bids {
                rule.min_bids = n;
            }
            if let (Some(amount), DepositCap::PercentOfBudgetAndAmount { percent, .. }) =
                (o.deposit_cap_yuan, rule.deposit_cap)
            {
                rule.deposit_cap = DepositCap::PercentOfBudgetAndAmount {
                    percent,
                    amount_yuan: amount,
                };
            }
        }
        Some(rule)
    }
}

/// The table's row for `kind` and `procedure`, if they fit together.
pub fn rule_for(kind: Kind, procedure: Procedure) -> Option<&'static ProcedureRule> {
    PROCEDURE_TABLE
        .iter()
        .find(|r| r.kinds.contains(&kind) && r.procedures.contains(&procedure))
}

/// The procedures that fit `kind`.
pub fn procedures_for(kind: Kind) -> Vec<Procedure> {
    let mut all: Vec<Procedure> = PROCEDURE_TABLE
        .iter()
        .filter(|r| r.kinds.contains(&kind))
        .flat_map(|r| r.procedures.iter().copied())
        .collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: Kind, procedure: Procedure) -> ProcedureRule {
        ProcedureSettings::default()
            .rule(kind, procedure)
            .unwrap_or_else(|| panic!("{kind} {procedure} has no row"))
    }

    #[test]
    fn art_24_construction_tenders_run_20_days_need_3_bids_and_cap_deposits_at_2_percent_and_800000()
     {
        for p in [Procedure::OpenTender, Procedure::InvitedTender] {
            let r = rule(Kind::Construction, p);
            assert_eq!(r.min_period, Period::Days(20));
            assert_eq!(r.min_bids, 3);
            assert_eq!(
                r.deposit_cap,
                DepositCap::PercentOfBudgetAndAmount {
                    percent: Decimal::from(2),
                    amount_yuan: Decimal::from(800_000)
                }
            );
            assert_eq!(
                r.award_methods,
                &[
                    AwardMethod::LowestEvaluatedPrice,
                    AwardMethod::ComprehensiveScoring
                ]
            );
        }
    }

    #[test]
    fn gp_art_35_goods_and_services_tenders_run_20_days_with_a_2_percent_cap() {
        for k in [Kind::Goods, Kind::Services] {
            let r = rule(k, Procedure::OpenTender);
            assert_eq!(r.min_period, Period::Days(20));
            assert_eq!(
                r.deposit_cap,
                DepositCap::PercentOfBudget {
                    percent: Decimal::from(2)
                }
            );
        }
    }

    #[test]
    fn negotiation_and_inquiry_run_3_working_days_lowest_price_only() {
        for p in [Procedure::CompetitiveNegotiation, Procedure::Inquiry] {
            let r = rule(Kind::Goods, p);
            assert_eq!(r.min_period, Period::WorkingDays(3));
            assert_eq!(r.award_methods, &[AwardMethod::LowestEvaluatedPrice]);
            assert_eq!(r.min_bids, 3);
        }
    }

    #[test]
    fn reverse_auctions_fit_goods_services_drugs_and_vaccines() {
        for k in [Kind::Goods, Kind::Services, Kind::Drugs, Kind::Vaccines] {
            assert_eq!(
                rule(k, Procedure::ReverseAuction).min_period,
                Period::WorkingDays(3)
            );
        }
        assert!(rule_for(Kind::Construction, Procedure::ReverseAuction).is_none());
    }

    #[test]
    fn drug_and_vaccine_open_tenders_run_20_days() {
        for k in [Kind::Drugs, Kind::Vaccines] {
            assert_eq!(rule(k, Procedure::OpenTender).min_period, Period::Days(20));
        }
        assert!(rule_for(Kind::Drugs, Procedure::InvitedTender).is_none());
    }

    #[test]
    fn land_and_mining_rights_are_listed_or_auctioned_20_days_highest_price_one_bidder() {
        for k in [Kind::LandUse, Kind::MiningRights] {
            for p in [Procedure::Listing, Procedure::Auction] {
                let r = rule(k, p);
                assert_eq!(r.min_period, Period::Days(20));
                assert_eq!(r.min_bids, 1);
                assert_eq!(r.award_methods, &[AwardMethod::HighestPrice]);
                assert_eq!(r.deposit_cap, DepositCap::SetBySeller);
            }
        }
    }

    #[test]
    fn order_32_property_rights_list_for_20_working_days() {
        let r = rule(Kind::PropertyRights, Procedure::Listing);
        assert_eq!(r.min_period, Period::WorkingDays(20));
        assert_eq!(r.min_bids, 1);
    }

    #[test]
    fn tendering_procedures_do_not_fit_rights_sales() {
        assert!(rule_for(Kind::LandUse, Procedure::OpenTender).is_none());
        assert!(rule_for(Kind::Construction, Procedure::Listing).is_none());
        assert_eq!(
            procedures_for(Kind::Construction),
            vec![Procedure::OpenTender, Procedure::InvitedTender]
        );
    }

    #[test]
    fn an_operator_overrides_an_unverified_number_and_only_those() {
        let mut settings = ProcedureSettings::default();
        settings.overrides.insert(
            "construction".into(),
            ProcedureOverride {
                deposit_cap_yuan: Some(Decimal::from(500_000)),
                ..Default::default()
            },
        );
        settings.overrides.insert(
            "reverse_auction".into(),
            ProcedureOverride {
                min_bids: Some(2),
                ..Default::default()
            },
        );
        assert!(settings.validate().is_ok());
        let r = settings
            .rule(Kind::Construction, Procedure::OpenTender)
            .map(|r| r.deposit_cap);
        assert_eq!(
            r,
            Some(DepositCap::PercentOfBudgetAndAmount {
                percent: Decimal::from(2),
                amount_yuan: Decimal::from(500_000)
            })
        );
        assert_eq!(
            settings
                .rule(Kind::Drugs, Procedure::ReverseAuction)
                .map(|r| r.min_bids),
            Some(2)
        );
        settings
            .overrides
            .insert("goods_open".into(), ProcedureOverride::default());
        assert!(
            settings.validate().is_err(),
            "a verified row must not be overridable"
        );
    }

    #[test]
    fn unknown_values_list_the_known_ones() {
        let err = "bridge".parse::<Kind>().err().unwrap_or_default();
        assert!(
            err.contains("construction") && err.contains("vaccines"),
            "{err}"
        );
        assert!("dutch".parse::<Procedure>().is_err());
        assert_eq!(
            "highest_price".parse::<AwardMethod>(),
            Ok(AwardMethod::HighestPrice)
        );
    }
}
