//! Where a tender is: a GB/T 2260 administrative division code (six digits: province, city,
//! county), so the public hall lists a province's or a city's announcements. Pure.

use std::fmt;

/// The provincial-level divisions of GB/T 2260, by their two-digit prefix.
pub const PROVINCES: &[(&str, &str, &str)] = &[
    ("11", "北京", "Beijing"),
    ("12", "天津", "Tianjin"),
    ("13", "河北", "Hebei"),
    ("14", "山西", "Shanxi"),
    ("15", "内蒙古", "Inner Mongolia"),
    ("21", "辽宁", "Liaoning"),
    ("22", "吉林", "Jilin"),
    ("23", "黑龙江", "Heilongjiang"),
    ("31", "上海", "Shanghai"),
    ("32", "江苏", "Jiangsu"),
    ("33", "浙江", "Zhejiang"),
    ("34", "安徽", "Anhui"),
    ("35", "福建", "Fujian"),
    ("36", "江西", "Jiangxi"),
    ("37", "山东", "Shandong"),
    ("41", "河南", "Henan"),
    ("42", "湖北", "Hubei"),
    ("43", "湖南", "Hunan"),
    ("44", "广东", "Guangdong"),
    ("45", "广西", "Guangxi"),
    ("46", "海南", "Hainan"),
    ("50", "重庆", "Chongqing"),
    ("51", "四川", "Sichuan"),
    ("52", "贵州", "Guizhou"),
    ("53", "云南", "Yunnan"),
    ("54", "西藏", "Xizang"),
    ("61", "陕西", "Shaanxi"),
    ("62", "甘肃", "Gansu"),
    ("63", "青海", "Qinghai"),
    ("64", "宁夏", "Ningxia"),
    ("65", "新疆", "Xinjiang"),
    ("71", "台湾", "Taiwan"),
    ("81", "香港", "Hong Kong"),
    ("82", "澳门", "Macao"),
];

/// A six-digit division code whose first two digits are a province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// `330100` for Hangzhou, `330000` for Zhejiang as a whole.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "a region is a six-digit GB/T 2260 division code such as 330100, not `{text}`"
            ));
        }
        if province(&text[..2]).is_none() {
            return Err(format!("`{}` is not a province's code", &text[..2]));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix every division inside this one starts with: `33` for `330000`, `3301` for
    /// `330100`, the whole code for a county.
    pub fn prefix(&self) -> &str {
        let mut p = self.0.as_str();
        while p.len() > 2 && p.ends_with("00") {
            p = &p[..p.len() - 2];
        }
        p
    }

    /// The province's name in Chinese and in English.
    pub fn province(&self) -> (&'static str, &'static str) {
        province(&self.0[..2]).unwrap_or(("", ""))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn province(prefix: &str) -> Option<(&'static str, &'static str)> {
    PROVINCES
        .iter()
        .find(|(code, _, _)| *code == prefix)
        .map(|(_, zh, en)| (*zh, *en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_six_digits_of_a_known_province() {
        assert!(Region::parse("330100").is_ok());
        assert!(Region::parse("3301").is_err());
        assert!(Region::parse("99x100").is_err());
        assert!(Region::parse("990100").is_err());
    }

    #[test]
    fn a_province_contains_its_cities_and_a_city_its_counties() {
        assert_eq!(
            Region::parse("330000").map(|r| r.prefix().to_owned()),
            Ok("33".into())
        );
        assert_eq!(
            Region::parse("330100").map(|r| r.prefix().to_owned()),
            Ok("3301".into())
        );
        assert_eq!(
            Region::parse("330106").map(|r| r.prefix().to_owned()),
            Ok("330106".into())
        );
        assert_eq!(
            Region::parse("330106").map(|r| r.province()),
            Ok(("浙江", "Zhejiang"))
        );
    }
}
