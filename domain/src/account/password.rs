//! Passwords: the strength rule of docs/spec/api-contract.md and argon2id hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{DomainError, ErrorCode, Text};

/// Longest password accepted: bounds the hashing work an attacker can ask for.
const MAX_LEN: usize = 1024;

/// docs/spec/api-contract.md: at least 10 characters, with at least one letter and one digit.
pub fn check_strength(password: &str) -> Result<(), DomainError> {
    let long_enough = password.chars().count() >= 10;
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    if password.len() > MAX_LEN {
        return Err(DomainError::invalid(
            "password",
            format!("The password may be at most {MAX_LEN} bytes."),
            format!("密码最长 {MAX_LEN} 字节。"),
        ));
    }
    if long_enough && has_letter && has_digit {
        Ok(())
    } else {
        Err(DomainError::Invalid {
            code: ErrorCode::WeakPassword,
            field: Some("password".to_owned()),
            message: Text::new(
                "The password needs at least 10 characters, with at least one letter and one digit.",
                "密码至少 10 个字符，且须同时包含字母和数字。",
            ),
        })
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(DomainError::internal)
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        password.len() <= MAX_LEN
            && argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
    })
}

/// A valid hash of a password nobody knows: checked against when the email is unknown, so an
/// unknown address takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$dGVuZGVyaGFsbGRlY295$m6r5pfaDSCt7ZEPeYTr6iSrlrbjMaJ7lcGWUbyBCyz8"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_md_weak_passwords_are_refused() {
        for weak in ["short1", "onlyletters", "1234567890", "abcdefgh1"] {
            let err = check_strength(weak).err();
            assert!(
                matches!(
                    err,
                    Some(DomainError::Invalid {
                        code: ErrorCode::WeakPassword,
                        ..
                    })
                ),
                "{weak}"
            );
        }
        assert!(check_strength("abcdefghi1").is_ok());
        assert!(check_strength("招标平台密码很安全2026").is_ok());
    }

    #[test]
    fn a_hash_verifies_only_its_password() -> Result<(), DomainError> {
        let h = hash("correct horse 1")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &h));
        assert!(!verify("correct horse 2", &h));
        Ok(())
    }

    #[test]
    fn the_decoy_hash_parses_and_matches_nothing_likely() {
        assert!(PasswordHash::new(decoy_hash()).is_ok());
        assert!(!verify("password123", decoy_hash()));
    }
}
