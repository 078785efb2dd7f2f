//! How many seats a committee must have (招标投标法 Art 37; 87号令 Art 47; 政府采购法 Art 38, 40;
//! docs/spec/rules.md "Experts").

/// The kind of panel a procedure convenes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// A tender under the Tendering Law (招标投标法): an evaluation committee (评标委员会).
    Tender,
    /// Government procurement by open or invited tender (政府采购): an evaluation committee.
    GovernmentProcurement {
        /// The lot's budget, in fen.
        budget_fen: i64,
        /// Declared complex by the purchaser (技术复杂、专业性强).
        complex: bool,
    },
    /// Competitive negotiation or price inquiry (竞争性谈判, 询价): a panel (谈判小组, 询价小组).
    NegotiationOrInquiry,
}

/// 10 million CNY, in fen: from this budget a government-procurement committee has 7 or more.
pub const LARGE_GP_BUDGET_FEN: i64 = 1_000_000_000;

/// Why a committee of that size may not be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRefusal {
    /// The smallest size allowed for this panel.
    pub minimum: u32,
    /// Too few seats (`false`: an even number).
    pub too_small: bool,
    /// The article that sets the rule.
    pub article: &'static str,
}

impl Panel {
    /// The smallest committee and the article that says so.
    pub fn minimum(self) -> (u32, &'static str) {
        match self {
            Self::Tender => (5, "招标投标法 Art 37"),
            Self::GovernmentProcurement {
                budget_fen,
                complex,
            } if complex || budget_fen >= LARGE_GP_BUDGET_FEN => {
                (7, "政府采购货物和服务招标投标管理办法 (87号令) Art 47")
            }
            Self::GovernmentProcurement { .. } => {
                (5, "政府采购货物和服务招标投标管理办法 (87号令) Art 47")
            }
            Self::NegotiationOrInquiry => (3, "政府采购法 Art 38, 40"),
        }
    }

    /// Every panel has an odd number of members, at least its minimum.
    pub fn check(self, seats: u32) -> Result<(), SizeRefusal> {
        let (minimum, article) = self.minimum();
        if seats < minimum || seats.is_multiple_of(2) {
            return Err(SizeRefusal {
                minimum,
                too_small: seats < minimum,
                article,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
// Tests: a failed unwrap is a failed test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn art_37_a_tender_committee_has_5_or_more_members_an_odd_number() {
        assert!(Panel::Tender.check(5).is_ok());
        assert!(Panel::Tender.check(9).is_ok());
        assert!(Panel::Tender.check(3).unwrap_err().too_small);
        let even = Panel::Tender.check(6).unwrap_err();
        assert!(!even.too_small);
        assert_eq!(even.article, "招标投标法 Art 37");
    }

    #[test]
    fn art_47_government_procurement_above_10_million_or_complex_needs_7() {
        let small = Panel::GovernmentProcurement {
            budget_fen: LARGE_GP_BUDGET_FEN - 1,
            complex: false,
        };
        assert!(small.check(5).is_ok());
        let large = Panel::GovernmentProcurement {
            budget_fen: LARGE_GP_BUDGET_FEN,
            complex: false,
        };
        assert_eq!(large.check(5).unwrap_err().minimum, 7);
        assert!(large.check(7).is_ok());
        let complex = Panel::GovernmentProcurement {
            budget_fen: 1,
            complex: true,
        };
        assert!(complex.check(5).is_err());
    }

    #[test]
    fn art_38_40_negotiation_and_inquiry_panels_have_3_or_more_an_odd_number() {
        assert!(Panel::NegotiationOrInquiry.check(3).is_ok());
        assert!(Panel::NegotiationOrInquiry.check(4).is_err());
        assert!(Panel::NegotiationOrInquiry.check(1).is_err());
    }
}
