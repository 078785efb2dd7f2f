//! Property: whatever sequence of payments (to known, closed and unknown accounts, short, exact and
//! over), withdrawals, forfeits, bank confirmations and cancellation happens, the ledger balances,
//! no account is on the wrong side of zero, and the money is all there: what came in equals what
//! went out plus what is held (docs/spec/rules.md "Money"; issue "Deposits" tests).

use chrono::TimeDelta;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenderhall_api::cli::worker_context;
use tenderhall_domain::deposit::service::{check_ledger, forfeit_registration, list_refunds};
use tenderhall_domain::id::{RegistrationId, TenderId};
use tenderhall_workers::runner::Runner;

use crate::helpers::{TestApp, text};

#[derive(Debug, Clone)]
enum Op {
    /// Bidder `who` pays `fen` into its deposit account.
    Pay {
        who: usize,
        fen: i64,
    },
    /// A payment to an account nobody holds.
    PayUnknown {
        fen: i64,
    },
    Withdraw {
        who: usize,
    },
    Forfeit {
        who: usize,
    },
    /// The worker runs what is due (refunds instructed and confirmed by the sandbox bank).
    Work,
    /// A day passes (interest accrues).
    Day,
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 1..400_000i64).prop_map(|(who, fen)| Op::Pay { who, fen }),
        1 => (1..50_000i64).prop_map(|fen| Op::PayUnknown { fen }),
        1 => (0..3usize).prop_map(|who| Op::Withdraw { who }),
        1 => (0..3usize).prop_map(|who| Op::Forfeit { who }),
        2 => Just(Op::Work),
        1 => Just(Op::Day),
        1 => Just(Op::Cancel),
    ]
}

struct World {
    app: TestApp,
    owner: String,
    tender: String,
    bidders: Vec<(String, String, String)>, // token, registration id, account no
}

async fn world() -> anyhow::Result<World> {
    // Days pass in a sequence: sessions outlast them.
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.session_ttl_minutes = 60 * 24 * 365;
    })
    .await?;
    let (owner, _) = app.member("owner@prop.test", "tenderer").await?;
    let tender = app.published_goods_tender(&owner, "性质测试", 21).await?;
    let mut bidders = Vec::new();
    for i in 0..3 {
        let (token, _) = app.member(&format!("b{i}@prop.test"), "bidder").await?;
        let reg: Value = app
            .post(
                &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
                &json!({}),
                Some(&token),
            )
            .await?
            .json()
            .await?;
        bidders.push((
            token,
            text(&reg["registration_id"]),
            text(&reg["deposit_account"]["account_no"]),
        ));
    }
    Ok(World {
        app,
        owner,
        tender,
        bidders,
    })
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

async fn apply(w: &World, op: &Op) -> anyhow::Result<()> {
    let app = &w.app;
    match op {
        Op::Pay { who, fen } => {
            app.post(
                "/api/v1/sandbox/bank/pay",
                &json!({"account_no": w.bidders[*who].2, "amount": yuan(*fen)}),
                None,
            )
            .await?;
        }
        Op::PayUnknown { fen } => {
            app.post(
                "/api/v1/sandbox/bank/pay",
                &json!({"account_no": "955880000000000000", "amount": yuan(*fen)}),
                None,
            )
            .await?;
        }
        Op::Withdraw { who } => {
            // Refused after the deadline or twice: a refusal changes nothing, which is checked too.
            app.delete(
                &format!(
                    "/api/v1/tenders/{}/lots/1/registrations/{}",
                    w.tender, w.bidders[*who].1
                ),
                Some(&w.bidders[*who].0),
            )
            .await?;
        }
        Op::Forfeit { who } => {
            forfeit_registration(
                app.state.db(),
                &RegistrationId::parse(&w.bidders[*who].1)?,
                "bid revoked",
                app.state.now(),
            )
            .await?;
        }
        Op::Work => {
            let runner = Runner::new(worker_context(&app.state)?);
            while runner.run_one().await? {}
        }
        Op::Day => app.clock.advance(TimeDelta::days(1)),
        Op::Cancel => {
            let owner = tenderhall_domain::account::service::authenticate(
                app.state.db(),
                &w.owner,
                app.state.now(),
            )
            .await?;
            // Cancelling twice is refused; the refusal must change nothing.
            tenderhall_domain::tender::service::cancel(
                app.state.db(),
                &owner,
                &TenderId::parse(&w.tender)?,
                "性质测试终止",
                Decimal::new(35, 4),
                None,
                app.state.now(),
            )
            .await
            .ok();
        }
    }
    Ok(())
}

async fn invariants(w: &World) -> anyhow::Result<()> {
    let db = w.app.state.db();
    let report = check_ledger(db).await?;
    anyhow::ensure!(report.is_sound(), "ledger unsound: {report:?}");
    // Money in = money out + money held, counted from the records, not the ledger.
    let came_in: i64 = {
        use sea_orm::{EntityTrait, QuerySelect};
        use tenderhall_domain::deposit::store::bank_notifications;
        bank_notifications::Entity::find()
            .select_only()
            .column(bank_notifications::Column::AmountFen)
            .into_tuple::<i64>()
            .all(db)
            .await?
            .iter()
            .sum()
    };
    let refunds = list_refunds(db, None, None).await?;
    let interest: i64 = refunds.iter().map(|r| r.interest_fen).sum();
    let went_out: i64 = refunds
        .iter()
        .filter(|r| r.status == "confirmed")
        .map(|r| r.principal_fen + r.interest_fen)
        .sum();
    let held: i128 = report
        .balances
        .iter()
        .filter(|(account, _)| *account != "bank")
        .map(|(_, balance)| -balance)
        .sum();
    anyhow::ensure!(
        i128::from(came_in + interest) == i128::from(went_out) + held,
        "in {came_in} + interest {interest} != out {went_out} + held {held}"
    );
    anyhow::ensure!(report.balances.get("bank").copied().unwrap_or(0) == held);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_balances_whatever_happens(ops in proptest::collection::vec(op(), 1..24)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let outcome: anyhow::Result<()> = runtime.block_on(async {
            let w = world().await?;
            for op in &ops {
                apply(&w, op).await?;
                invariants(&w).await.map_err(|e| anyhow::anyhow!("after {op:?}: {e}"))?;
            }
            Ok(())
        });
        outcome.map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
    }
}
