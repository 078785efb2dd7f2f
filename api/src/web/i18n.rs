//! The portal's words: one catalogue (`catalogue.toml`) holding every key in Chinese and in
//! English, so a page can never show half of one language (docs/portal.md "Languages").

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::extract::Lang;

/// One entry: the same words in both languages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub zh: String,
    pub en: String,
}

/// Every key of the catalogue, flattened (`hall.title`).
pub type Catalogue = BTreeMap<String, Entry>;

const SOURCE: &str = include_str!("catalogue.toml");

/// Parses the catalogue: nested tables give dotted keys; a table with `zh` and `en` is an entry,
/// and must have both.
pub fn parse(source: &str) -> Result<Catalogue, String> {
    let root: toml::Table = source.parse().map_err(|e| format!("{e}"))?;
    let mut out = Catalogue::new();
    flatten("", &root, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) -> Result<(), String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let toml::Value::Table(inner) = value else {
            return Err(format!("`{path}` is not a table"));
        };
        let is_entry = inner.values().any(toml::Value::is_str);
        if is_entry {
            let entry: Entry = toml::Value::Table(inner.clone())
                .try_into()
                .map_err(|e| format!("`{path}` needs both `zh` and `en`: {e}"))?;
            out.insert(path, entry);
        } else {
            flatten(&path, inner, out)?;
        }
    }
    Ok(())
}

/// The catalogue embedded in the binary; the tests below keep it parseable.
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
        parse(SOURCE).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the portal's catalogue does not parse");
            Catalogue::new()
        })
    });
    &CATALOGUE
}

/// The words of one language, handed to every template as `tr`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The text of `key`; the key itself when missing (which the tests rule out).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        match catalogue().get(key) {
            Some(entry) => match self.lang {
                Lang::Zh => entry.zh.as_str(),
                Lang::En => entry.en.as_str(),
            },
            None => key,
        }
    }

    /// `key` with `{}` replaced by `arg`.
    pub fn fmt(&self, key: &str, arg: &str) -> String {
        self.get(key).replacen("{}", arg, 1)
    }

    /// The `lang` attribute of the page.
    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn is_zh(&self) -> bool {
        self.lang == Lang::Zh
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The files under `dir`, its folders' included.
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// Every `tr.get("…")` and `tr.fmt("…", …)` of the templates and the portal's code.
    fn used_keys() -> Vec<(String, String)> {
        let mut paths = Vec::new();
        for root in ["templates/web", "src/web"] {
            files(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(root),
                &mut paths,
            );
        }
        let mut keys = Vec::new();
        for path in paths {
            if path.ends_with("i18n.rs") || path.extension().is_some_and(|e| e == "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for pattern in ["tr.get(\"", "tr.fmt(\""] {
                for (i, _) in text.match_indices(pattern) {
                    let rest = &text[i + pattern.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    keys.push((key.to_owned(), path.display().to_string()));
                }
            }
        }
        keys
    }

    #[test]
    fn the_catalogue_has_every_key_in_both_languages() {
        let catalogue = parse(SOURCE).expect("catalogue.toml parses with zh and en for every key");
        for (key, entry) in &catalogue {
            assert!(!entry.zh.trim().is_empty(), "`{key}` has no Chinese text");
            assert!(!entry.en.trim().is_empty(), "`{key}` has no English text");
        }
    }

    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let catalogue = parse(SOURCE).unwrap();
        let used = used_keys();
        assert!(used.len() > 50, "the scan found the templates");
        for (key, file) in used {
            assert!(
                catalogue.contains_key(&key),
                "`{key}` used in {file} is not in catalogue.toml"
            );
        }
    }

    #[test]
    fn every_status_kind_and_procedure_has_words() {
        use tenderhall_domain::tender::procedure::{AwardMethod, Kind, Procedure};
        use tenderhall_domain::tender::{LotStatus, TenderStatus};
        let catalogue = parse(SOURCE).unwrap();
        for kind in Kind::ALL {
            assert!(
                catalogue.contains_key(&format!("kind.{}", kind.as_str())),
                "kind {kind:?}"
            );
        }
        let families: &[(&str, &[&str])] = &[
            ("bid_status", &["opened", "revoked", "withdrawn"]),
            (
                "deposit_status",
                &["paid", "partial", "unpaid", "guarantee"],
            ),
            ("record_status", &["opened", "failed"]),
            ("org_kind", &["bidder", "tenderer", "agency", "supervisor"]),
            ("signin", &["password_changed"]),
        ];
        for (family, members) in families {
            for m in *members {
                assert!(
                    catalogue.contains_key(&format!("{family}.{m}")),
                    "{family}.{m}"
                );
            }
        }
        for method in AwardMethod::ALL {
            let key = format!("award.{}", method.as_str());
            assert!(catalogue.contains_key(&key), "{key}");
        }
        for procedure in Procedure::ALL {
            let key = format!("procedure.{}", procedure.as_str());
            assert!(catalogue.contains_key(&key), "{key}");
        }
        for status in TenderStatus::ALL {
            let key = format!("status.{}", status.as_str());
            assert!(catalogue.contains_key(&key), "{key}");
        }
        for status in LotStatus::ALL {
            let key = format!("lot_status.{}", status.as_str());
            assert!(catalogue.contains_key(&key), "{key}");
        }
    }

    #[test]
    fn a_missing_key_shows_itself_rather_than_nothing() {
        assert_eq!(Tr::new(Lang::En).get("no.such.key"), "no.such.key");
    }
}
