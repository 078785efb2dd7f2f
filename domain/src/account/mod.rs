//! Accounts, organizations, sessions and roles. Pure rules here: parsing emails and names, the
//! password rule, organization kinds, and what a signed-in principal may do.

pub mod password;
pub mod service;
pub mod store;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::id::{AccountId, OrganizationId};

/// An email address, trimmed and lower-cased: sign-in ignores case, and one address has one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split('@').count() == 2
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            })
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c));
        if valid {
            Ok(Self(email))
        } else {
            Err(DomainError::invalid(
                "email",
                "Give a valid email address, such as name@example.com.",
                "请填写有效的电子邮箱地址，例如 name@example.com。",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty display name of at most `max` characters, trimmed.
pub fn parse_name(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("`{field}` must be 1 to {max} characters, without control characters."),
            format!("`{field}` 须为 1 至 {max} 个字符，且不含控制字符。"),
        ));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// 招标人 / 采购人 / 出让人
    Tenderer,
    /// 招标代理机构
    Agency,
    /// 投标人 / 竞买人
    Bidder,
    /// 监督部门
    Supervisor,
}

impl OrganizationKind {
    pub const ALL: [Self; 4] = [Self::Tenderer, Self::Agency, Self::Bidder, Self::Supervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tenderer => "tenderer",
            Self::Agency => "agency",
            Self::Bidder => "bidder",
            Self::Supervisor => "supervisor",
        }
    }
}

impl fmt::Display for OrganizationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrganizationKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            DomainError::invalid(
                "organization.kind",
                format!("Unknown organization kind `{s}`; known: tenderer, agency, bidder, supervisor."),
                format!("未知的机构类型 `{s}`；可选：tenderer、agency、bidder、supervisor。"),
            )
        })
    }
}

/// 统一社会信用代码 (GB 32100-2015): 18 characters of the code's alphabet (digits and the capital
/// letters but I, O, S, V and Z), the last one a check character over the first seventeen. A typo in
/// the code an organization registers with is caught here rather than at the bank or the registry.
pub fn parse_credit_code(raw: &str) -> Result<String, DomainError> {
    let code = raw.trim().to_uppercase();
    if credit_code_is_valid(&code) {
        Ok(code)
    } else {
        Err(DomainError::invalid(
            "organization.credit_code",
            "Give the organization's unified social credit code: 18 letters and digits whose last character is the check character of GB 32100-2015.",
            "请填写机构的统一社会信用代码：18 位字母和数字，末位为 GB 32100-2015 规定的校验码。",
        ))
    }
}

/// GB 32100-2015's alphabet: a character's value is its index.
const CREDIT_CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015 Table 3: the weights of positions 1 to 17 (3^(i-1) mod 31).
const CREDIT_CODE_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character of the first 17 characters of a credit code (GB 32100-2015):
/// C18 = 31 − (Σ Ci × Wi mod 31), with 31 written as 0. `None` when a character is not of the
/// code's alphabet.
pub fn credit_code_check(first17: &str) -> Option<char> {
    let value = |b: u8| CREDIT_CODE_ALPHABET.iter().position(|&c| c == b);
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&b, w) in bytes.iter().zip(CREDIT_CODE_WEIGHTS) {
        sum += value(b)? * w;
    }
    CREDIT_CODE_ALPHABET
        .get((31 - sum % 31) % 31)
        .map(|&c| char::from(c))
}

/// Whether `code` (upper case) is 18 characters of the alphabet with the right check character.
pub fn credit_code_is_valid(code: &str) -> bool {
    code.len() == 18
        && code.is_char_boundary(17)
        && credit_code_check(&code[..17]).is_some_and(|check| code[17..] == *check.to_string())
}

/// 基本账户: the organization's basic bank account number. Spaces and hyphens that people type
/// between digit groups are dropped, so a payer account compares equal however it was written.
pub fn parse_bank_account(field: &str, raw: &str) -> Result<String, DomainError> {
    let account: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if (6..=40).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(account.to_uppercase())
    } else {
        Err(DomainError::invalid(
            field,
            "Give the bank account number: 6 to 40 digits or letters.",
            "请填写银行账号：6 至 40 位数字或字母。",
        ))
    }
}

/// The organization a signed-in account belongs to, as far as permissions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organization_id: OrganizationId,
    pub kind: OrganizationKind,
    pub verified: bool,
}

/// Who is calling: resolved from a bearer token on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: AccountId,
    pub email: String,
    pub name: String,
    pub membership: Option<Membership>,
    pub is_operator: bool,
    /// The expert of the pool this account is (评标专家), if any.
    pub expert_id: Option<crate::id::ExpertId>,
}

impl Principal {
    pub fn is_member_of(&self, org_id: &str) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.organization_id.as_str() == org_id)
    }

    /// A member of a verified supervisor organization (监督人员).
    pub fn is_supervisor(&self) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.kind == OrganizationKind::Supervisor && m.verified)
    }

    pub fn require_operator(&self) -> Result<(), DomainError> {
        if self.is_operator {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "Only a platform operator may do this.",
                "只有平台运营人员可以执行此操作。",
            ))
        }
    }

    pub fn require_member(&self, org_id: &str) -> Result<(), DomainError> {
        if self.is_member_of(org_id) {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "Only members of this organization may do this.",
                "只有该机构的成员可以执行此操作。",
            ))
        }
    }

    /// A member of `org_id`, which must be verified by an operator first.
    pub fn require_member_of_verified(&self, org_id: &str) -> Result<(), DomainError> {
        self.require_member(org_id)?;
        self.require_verified()
    }

    /// The caller's organization, which must be verified (403 `org_unverified` otherwise).
    pub fn require_verified(&self) -> Result<(), DomainError> {
        match &self.membership {
            Some(m) if m.verified => Ok(()),
            Some(_) => Err(DomainError::OrgUnverified),
            None => Err(DomainError::forbidden(
                "This account belongs to no organization.",
                "该账户不属于任何机构。",
            )),
        }
    }

    /// The caller's organization must be of one of `kinds`, and verified.
    pub fn require_kind(&self, kinds: &[OrganizationKind]) -> Result<&Membership, DomainError> {
        match &self.membership {
            Some(m) if kinds.contains(&m.kind) => {
                if m.verified {
                    Ok(m)
                } else {
                    Err(DomainError::OrgUnverified)
                }
            }
            _ => {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                Err(DomainError::forbidden(
                    format!("Only a {} organization may do this.", names.join(" or ")),
                    format!("只有 {} 类机构可以执行此操作。", names.join(" 或 ")),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb_32100_credit_codes_need_their_check_character() {
        // A published code, and the same with its check character or one digit changed.
        assert!(credit_code_is_valid("91350100M000100Y43"));
        assert!(!credit_code_is_valid("91350100M000100Y44"));
        assert!(!credit_code_is_valid("91350100M000200Y43"));
        // Letters outside the alphabet (I, O, S, V, Z), and wrong lengths.
        assert!(!credit_code_is_valid("91320000MA1XYZ0001"));
        assert!(!credit_code_is_valid("91350100M000100Y4"));
        assert_eq!(
            parse_credit_code(" 91350100m000100y43 ").ok().as_deref(),
            Some("91350100M000100Y43")
        );
        assert!(parse_credit_code("91110000100000000X").is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() -> Result<(), DomainError> {
        assert_eq!(
            Email::parse("  Zhang.San@Example.COM ")?.as_str(),
            "zhang.san@example.com"
        );
        Ok(())
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "", "a", "a@", "@b.cn", "a@b", "a b@c.cn", "a@@b.cn", "a@b..cn", "a@.b.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn organization_kinds_are_the_four_of_api_md() {
        for kind in ["tenderer", "agency", "bidder", "supervisor"] {
            assert_eq!(
                kind.parse::<OrganizationKind>().map(|k| k.as_str()).ok(),
                Some(kind)
            );
        }
        assert!("operator".parse::<OrganizationKind>().is_err());
    }

    #[test]
    fn art_26_bank_accounts_compare_equal_however_typed() -> Result<(), DomainError> {
        assert_eq!(
            parse_bank_account("a", "6222 0200-1234 5678")?,
            "6222020012345678"
        );
        assert!(parse_bank_account("a", "12").is_err());
        Ok(())
    }

    fn principal(kind: OrganizationKind, verified: bool) -> Principal {
        Principal {
            account_id: AccountId::generate(),
            email: "a@b.cn".into(),
            name: "A".into(),
            membership: Some(Membership {
                organization_id: OrganizationId::generate(),
                kind,
                verified,
            }),
            is_operator: false,
            expert_id: None,
        }
    }

    #[test]
    fn an_unverified_organization_is_refused_with_its_own_error() {
        let p = principal(OrganizationKind::Tenderer, false);
        assert!(matches!(
            p.require_kind(&[OrganizationKind::Tenderer]),
            Err(DomainError::OrgUnverified)
        ));
        assert!(matches!(
            p.require_kind(&[OrganizationKind::Bidder]),
            Err(DomainError::Forbidden(_))
        ));
    }

    #[test]
    fn only_verified_supervisor_members_are_supervisors() {
        assert!(principal(OrganizationKind::Supervisor, true).is_supervisor());
        assert!(!principal(OrganizationKind::Supervisor, false).is_supervisor());
        assert!(!principal(OrganizationKind::Tenderer, true).is_supervisor());
    }
}
