//! Configuration layering, validation and redaction.
use super::*;

fn layered(toml: &str, env: &[(&str, &str)]) -> anyhow::Result<Settings> {
    // The environment layer as `Env` delivers it: values parsed (`1` a number, `true` a boolean).
    let mut figment =
        Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml));
    for (key, value) in env {
        let parsed: figment::value::Value = value
            .parse()
            .unwrap_or_else(|_| figment::value::Value::from(value.to_string()));
        figment = figment.merge((key.to_string(), parsed));
    }
    Settings::from_figment(figment)
}

#[test]
fn nothing_set_gives_the_embedded_default() -> anyhow::Result<()> {
    let s = layered("", &[])?;
    assert_eq!(s.listen, "127.0.0.1:8080");
    assert_eq!(
        s.database_url(),
        "sqlite://./tenderhall-data/tenderhall.sqlite3?mode=rwc"
    );
    assert!(!s.sandbox);
    Ok(())
}

#[test]
fn the_environment_overrides_the_file_which_overrides_defaults() -> anyhow::Result<()> {
    let s = layered(
        "listen = \"127.0.0.1:9000\"\nsandbox = true\ndata_dir = \"/srv/th\"",
        &[("listen", "127.0.0.1:9100"), ("bank_secret", "12345")],
    )?;
    assert_eq!(s.listen, "127.0.0.1:9100");
    assert!(s.sandbox);
    assert_eq!(s.data_dir, PathBuf::from("/srv/th"));
    assert_eq!(s.bank_secret.as_ref().map(Secret::expose), Some("12345"));
    Ok(())
}

#[test]
fn sandbox_accepts_1_as_api_md_says() -> anyhow::Result<()> {
    assert!(layered("", &[("sandbox", "1")])?.sandbox);
    assert!(!layered("", &[("sandbox", "0")])?.sandbox);
    assert!(layered("", &[("sandbox", "maybe")]).is_err());
    Ok(())
}

#[test]
fn a_typo_in_the_file_is_an_error_naming_it() {
    let err = layered("lisen = \"127.0.0.1:9000\"", &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn an_operator_overrides_unverified_procedure_numbers_in_the_file() -> anyhow::Result<()> {
    use tenderhall_domain::tender::procedure::{DepositCap, Kind, Procedure};
    let s = layered(
        "[procedures.overrides.construction]\ndeposit_cap_yuan = \"500000\"\n[procedures.overrides.reverse_auction]\nmin_bids = 2\n",
        &[],
    )?;
    let construction = s
        .procedures
        .rule(Kind::Construction, Procedure::OpenTender)
        .map(|r| r.deposit_cap);
    assert!(
        matches!(construction, Some(DepositCap::PercentOfBudgetAndAmount { amount_yuan, .. }) if amount_yuan == rust_decimal::Decimal::from(500_000))
    );
    assert_eq!(
        s.procedures
            .rule(Kind::Goods, Procedure::ReverseAuction)
            .map(|r| r.min_bids),
        Some(2)
    );
    let err = layered("[procedures.overrides.goods]\nmin_bids = 1\n", &[])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("unknown procedure setting `goods`"), "{err}");
    Ok(())
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let err = Settings::load(Some(Path::new("/nonexistent/tenderhall.toml")))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("/nonexistent/tenderhall.toml"), "{err}");
}

#[test]
fn postgres_without_a_master_key_is_refused_with_what_to_do() {
    let s = Settings {
        database_url: Some("postgres://u@h/db".into()),
        ..Settings::default()
    };
    let err = s
        .resolve_master_key()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("TENDERHALL_MASTER_KEY is required"), "{err}");
}

#[test]
fn secrets_never_print() {
    let s = Settings {
        master_key: Some(Secret::new("c2VjcmV0")),
        bank_secret: Some(Secret::new("bank-secret-value")),
        database_url: Some("postgres://u:pw@h/db".into()),
        ..Settings::default()
    };
    let shown = format!("{:?} {:?}", s, s.describe());
    assert!(
        !shown.contains("bank-secret-value")
            && !shown.contains("c2VjcmV0")
            && !shown.contains(":pw@"),
        "{shown}"
    );
}

#[test]
fn the_generated_master_key_is_private_and_stable() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Settings {
        data_dir: dir.path().to_owned(),
        ..Settings::default()
    };
    let first = s.resolve_master_key()?;
    let second = s.resolve_master_key()?;
    assert_eq!(first.to_base64(), second.to_base64());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.master_key_file())?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    Ok(())
}
