//! Reading the pool's CSV (docs/experts.md "Importing the pool"): a header row naming the columns
//! `expert_id,name,email,specialty,region,employer_credit_code,title,years` in any order, then one
//! expert per row. Each row is checked on its own; a bad row is reported by its line and changes
//! nothing, the good rows go in. Pure: the service reads the file and writes the rows.

use std::collections::HashMap;

use tenderhall_model::expert::Specialty;

use crate::account::{Email, credit_code_is_valid};
use crate::id::is_valid_id;

/// The columns, as the header names them.
pub const COLUMNS: [&str; 8] = [
    "expert_id",
    "name",
    "email",
    "specialty",
    "region",
    "employer_credit_code",
    "title",
    "years",
];

/// An expert as a row gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub expert_id: String,
    pub name: String,
    pub email: String,
    /// One or more codes, separated in the file by `;` or `|`.
    pub specialties: Vec<Specialty>,
    pub region: String,
    pub employer: String,
    pub title: String,
    pub years: i32,
}

/// A row refused, by its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// Where each column is in the file's rows; a header without every column is refused whole.
pub fn columns(header: &[&str]) -> Result<[usize; 8], String> {
    let positions: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.trim().trim_start_matches('\u{feff}').to_lowercase(), i))
        .collect();
    let mut found = [0usize; 8];
    let mut missing = Vec::new();
    for (slot, name) in found.iter_mut().zip(COLUMNS) {
        match positions.get(name) {
            Some(i) => *slot = *i,
            None => missing.push(name),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "the header row lacks the column(s) {}; it must name {}",
            missing.join(", "),
            COLUMNS.join(",")
        ))
    }
}

/// Checks one row (its fields in file order, `at` from [`columns`]).
pub fn parse_row(fields: &[&str], at: &[usize; 8]) -> Result<Row, String> {
    let field = |i: usize| fields.get(at[i]).map_or("", |f| f.trim());
    let expert_id = field(0);
    if !is_valid_id(expert_id) {
        return Err(format!(
            "expert_id `{expert_id}` is not an id: 1 to 64 of A-Z a-z 0-9 _ -"
        ));
    }
    let name = field(1);
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("name must be 1 to 200 characters".to_owned());
    }
    let email = Email::parse(field(2))
        .map_err(|_| format!("email `{}` is not an email address", field(2)))?;
    let specialties: Vec<Specialty> = field(3)
        .split([';', '|'])
        .filter(|s| !s.trim().is_empty())
        .map(|code| {
            Specialty::parse(code).ok_or_else(|| {
                format!(
                    "specialty `{}` is not a code such as A01.02 (upper-case letters and digits, dots between levels)",
                    code.trim()
                )
            })
        })
        .collect::<Result<_, _>>()?;
    if specialties.is_empty() {
        return Err(
            "specialty is empty: give at least one code, several separated by ;".to_owned(),
        );
    }
    let region = field(4);
    if region.is_empty() || region.len() > 32 || !region.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(format!(
            "region `{region}` must be a code of 1 to 32 letters and digits (such as 330100)"
        ));
    }
    let employer = field(5).to_uppercase();
    if !credit_code_is_valid(&employer) {
        return Err(format!(
            "employer_credit_code `{}` is not a unified social credit code with a valid check character (GB 32100-2015)",
            field(5)
        ));
    }
    let title = field(6);
    if title.chars().count() > 100 || title.chars().any(char::is_control) {
        return Err("title must be at most 100 characters".to_owned());
    }
    let years: i32 = field(7)
        .parse()
        .ok()
        .filter(|y| (0..=80).contains(y))
        .ok_or_else(|| format!("years `{}` must be a whole number from 0 to 80", field(7)))?;
    Ok(Row {
        expert_id: expert_id.to_owned(),
        name: name.to_owned(),
        email: email.as_str().to_owned(),
        specialties,
        region: region.to_owned(),
        employer,
        title: title.to_owned(),
        years,
    })
}

#[cfg(test)]
// Tests: a failed unwrap is a failed test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const GOOD: [&str; 8] = [
        "exp_001",
        "王工",
        "Wang@Example.com",
        "A01.02;B07",
        "330100",
        "91350100M000100Y43",
        "高级工程师",
        "12",
    ];

    #[test]
    fn a_row_is_read_by_the_header_in_any_column_order() {
        let mut header = COLUMNS.to_vec();
        header.reverse();
        let at = columns(&header).unwrap();
        let mut fields = GOOD.to_vec();
        fields.reverse();
        let row = parse_row(&fields, &at).unwrap();
        assert_eq!(row.email, "wang@example.com");
        assert_eq!(row.specialties.len(), 2);
        assert_eq!(row.years, 12);
        assert!(
            columns(&["expert_id", "name"])
                .unwrap_err()
                .contains("email")
        );
    }

    #[test]
    fn each_bad_field_is_named_in_the_reason() {
        let at = columns(&COLUMNS).unwrap();
        for (i, bad, word) in [
            (0, "a|b", "expert_id"),
            (2, "not-an-email", "email"),
            (3, "a01", "specialty"),
            (4, "", "region"),
            (5, "91350100M000100Y44", "employer_credit_code"),
            (7, "-1", "years"),
        ] {
            let mut fields = GOOD.to_vec();
            fields[i] = bad;
            let reason = parse_row(&fields, &at).unwrap_err();
            assert!(reason.contains(word), "{reason}");
        }
    }
}
