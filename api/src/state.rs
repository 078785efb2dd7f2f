//! What every handler shares: the database, the clock, the settings, the platform key and the
//! bank notification intake.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use tenderhall_domain::account::service::SignInPolicy;
use tenderhall_domain::deposit::DepositSettings;
use tenderhall_domain::deposit::service::NotificationIntake;
use tenderhall_domain::keys::{MasterKey, PlatformSigner};
use tenderhall_domain::ports::DocumentStore;
use tenderhall_domain::time::Clock;

use crate::config::Settings;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    settings: Settings,
    deposits: DepositSettings,
    draws: tenderhall_domain::draw::DrawSettings,
    public_url: String,
    signer: Arc<PlatformSigner>,
    master_key: MasterKey,
    /// Signs the portal's form tokens (docs/portal.md "Sessions and forms").
    web_key: ring::hmac::Key,
    sign_in: SignInPolicy,
    jobs_wake: Arc<tokio::sync::Notify>,
    store: Arc<dyn DocumentStore>,
    notifications: NotificationIntake,
    /// The live auction rooms of this process (docs/auctions.md "Live").
    live: crate::live::LiveHub,
}

impl AppState {
    /// `intake_db` is the pool bank notifications are written through ([`NotificationIntake`]).
    /// Fails on settings that do not parse into their types.
    pub fn new(
        db: DatabaseConnection,
        intake_db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        settings: Settings,
        signer: Arc<PlatformSigner>,
        master_key: MasterKey,
        store: Arc<dyn DocumentStore>,
    ) -> anyhow::Result<Self> {
        let deposits = settings.deposit_settings()?;
        let draws = settings.draw_settings()?;
        let public_url = settings.public_url();
        let sign_in = SignInPolicy {
            session_ttl: TimeDelta::minutes(i64::from(settings.session_ttl_minutes)),
            ..SignInPolicy::default()
        };
        let notifications = NotificationIntake::start(intake_db, clock.clone());
        let live = crate::live::LiveHub::start(db.clone(), clock.clone());
        Ok(Self(Arc::new(Inner {
            db,
            clock,
            settings,
            deposits,
            draws,
            public_url,
            signer,
            web_key: master_key.derive_hmac_key("tenderhall/web/csrf/v1"),
            master_key,
            sign_in,
            jobs_wake: Arc::default(),
            store,
            notifications,
            live,
        })))
    }

    /// The live auction rooms of this process.
    pub fn live(&self) -> &crate::live::LiveHub {
        &self.0.live
    }

    /// The deposit settings, in their types.
    pub fn deposits(&self) -> &DepositSettings {
        &self.0.deposits
    }

    /// What the draw use cases need: the master key, the draw settings and the portal's address.
    pub fn draw_context(&self) -> tenderhall_domain::draw::service::DrawContext<'_> {
        tenderhall_domain::draw::service::DrawContext {
            master: &self.0.master_key,
            settings: self.0.draws,
            public_url: &self.0.public_url,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.0.clock.clone()
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn signer(&self) -> &Arc<PlatformSigner> {
        &self.0.signer
    }

    pub fn master_key(&self) -> &MasterKey {
        &self.0.master_key
    }

    pub fn web_key(&self) -> &ring::hmac::Key {
        &self.0.web_key
    }

    pub fn sign_in_policy(&self) -> &SignInPolicy {
        &self.0.sign_in
    }

    /// Shared with this process's job runner, to wake it when a change adds a job due sooner.
    pub fn jobs_wake(&self) -> Arc<tokio::sync::Notify> {
        self.0.jobs_wake.clone()
    }

    /// Where documents and bids are kept.
    pub fn store(&self) -> &Arc<dyn DocumentStore> {
        &self.0.store
    }

    /// Where bank notifications are recorded, in group commits.
    pub fn notifications(&self) -> &NotificationIntake {
        &self.0.notifications
    }

    pub fn wake_jobs(&self) {
        // notify_one keeps a permit if the runner is not waiting at this instant.
        self.0.jobs_wake.notify_one();
    }
}
