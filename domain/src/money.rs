//! Money: `rust_decimal` with an explicit currency, never a float. Stored as integer fen
//! (1/100 yuan), which every database keeps exactly.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    pub const KNOWN: &'static [&'static str] = &["CNY"];

    pub fn code(self) -> &'static str {
        match self {
            Self::Cny => "CNY",
        }
    }

    /// Decimal places of the currency's minor unit (CNY: 2, the fen).
    pub fn scale(self) -> u32 {
        match self {
            Self::Cny => 2,
        }
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        match s {
            "CNY" => Ok(Self::Cny),
            other => Err(MoneyError::UnknownCurrency(other.to_owned())),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not a decimal amount such as \"1234.50\"")]
    Malformed(String),
    #[error("`{0}` has more decimal places than the currency allows")]
    TooPrecise(String),
    #[error("unknown currency `{0}`; known: CNY")]
    UnknownCurrency(String),
    #[error("the amount is too large")]
    Overflow,
}

/// An amount with its currency, always at the currency's scale (`1234.50`, not `1234.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// Largest amount accepted: ten trillion yuan, far above any procurement, well inside `i64` fen.
const MAX_FEN: i64 = 1_000_000_000_000_000;

impl Money {
    /// Parses a decimal string as sent by clients and banks: digits, an optional sign and point, no
    /// exponent, no more decimals than the currency has.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let well_formed = !amount.is_empty()
            && amount.len() <= 32
            && amount.trim_start_matches('-').split('.').count() <= 2
            && amount
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && amount
                .trim_start_matches('-')
                .chars()
                .any(|c| c.is_ascii_digit())
            && !amount.ends_with('.')
            && !amount.trim_start_matches('-').starts_with('.');
        if !well_formed {
            return Err(MoneyError::Malformed(amount.to_owned()));
        }
        let value = Decimal::from_str_exact(amount)
            .map_err(|_| MoneyError::Malformed(amount.to_owned()))?;
        if value.normalize().scale() > currency.scale() {
            return Err(MoneyError::TooPrecise(amount.to_owned()));
        }
        Self::from_decimal(value, currency)
    }

    fn from_decimal(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let mut amount = value;
        amount.rescale(currency.scale());
        if amount != value {
            return Err(MoneyError::TooPrecise(value.to_string()));
        }
        let money = Self { amount, currency };
        if money.minor_units()?.abs() > MAX_FEN {
            return Err(MoneyError::Overflow);
        }
        Ok(money)
    }

    pub fn from_minor_units(units: i64, currency: Currency) -> Self {
        Self {
            amount: Decimal::new(units, currency.scale()),
            currency,
        }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::from_minor_units(0, currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units (fen for CNY): how money is stored.
    pub fn minor_units(&self) -> Result<i64, MoneyError> {
        let mut scaled = self.amount;
        scaled.rescale(self.currency.scale());
        i64::try_from(scaled.mantissa()).map_err(|_| MoneyError::Overflow)
    }

    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// The wire form: `{"amount": "1234.50", "currency": "CNY"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyDto {
    pub amount: String,
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_currency() -> String {
    "CNY".to_owned()
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self {
            amount: m.amount.to_string(),
            currency: m.currency.code().to_owned(),
        }
    }
}

impl TryFrom<&MoneyDto> for Money {
    type Error = MoneyError;
    fn try_from(dto: &MoneyDto) -> Result<Self, MoneyError> {
        Money::parse(&dto.amount, dto.currency.parse()?)
    }
}

/// Money as clients send it: the API's object, or a bare decimal string in CNY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MoneyInput {
    Object(MoneyDto),
    Text(String),
}

impl MoneyInput {
    pub fn parse(&self) -> Result<Money, MoneyError> {
        match self {
            Self::Object(dto) => Money::try_from(dto),
            Self::Text(amount) => Money::parse(amount, Currency::Cny),
        }
    }
}

impl From<Money> for MoneyInput {
    fn from(m: Money) -> Self {
        Self::Object(m.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(s: &str) -> Result<Money, MoneyError> {
        Money::parse(s, Currency::Cny)
    }

    #[test]
    fn amounts_keep_the_currency_scale_and_survive_minor_units() -> Result<(), MoneyError> {
        for (text, fen, shown) in [
            ("1234.5", 123_450, "1234.50"),
            ("0.01", 1, "0.01"),
            ("800000", 80_000_000, "800000.00"),
            ("9999999999999.99", 999_999_999_999_999, "9999999999999.99"),
            ("-3.10", -310, "-3.10"),
        ] {
            let m = cny(text)?;
            assert_eq!(m.minor_units()?, fen, "{text}");
            assert_eq!(m.amount().to_string(), shown);
            assert_eq!(Money::from_minor_units(fen, Currency::Cny), m);
        }
        Ok(())
    }

    #[test]
    fn a_third_decimal_place_is_refused_for_cny() {
        assert_eq!(cny("1.005"), Err(MoneyError::TooPrecise("1.005".into())));
        // Trailing zeros are not extra precision.
        assert!(cny("1.500").is_ok());
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for bad in [
            "", "abc", "1e5", "1,000.00", "NaN", "1.2.3", ".5", "5.", "+5", " 5", "--1",
        ] {
            assert!(
                matches!(cny(bad), Err(MoneyError::Malformed(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn only_known_currencies_parse() {
        assert!("USD".parse::<Currency>().is_err());
        assert_eq!("CNY".parse::<Currency>(), Ok(Currency::Cny));
    }

    #[test]
    fn absurd_amounts_overflow_instead_of_wrapping() {
        assert_eq!(cny("100000000000000000000"), Err(MoneyError::Overflow));
    }
}
