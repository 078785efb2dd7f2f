//! Live auctions (docs/auctions.md): the terms a seller publishes, the sealed reserve.

mod terms;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A land-use listing (挂牌) of one parcel: announced `days` ahead (the 20 days of
/// docs/spec/rules.md), listed for `listing_days` after that, reserve 1,200,000.
pub fn land_listing(app: &TestApp, days: i64, listing_days: i64) -> Value {
    let opens: DateTime<Utc> = app.state.now() + Duration::days(days);
    json!({
        "title": "城东地块国有建设用地使用权挂牌出让",
        "kind": "land_use",
        "procedure": "listing",
        "award_method": "highest_price",
        "region": "330100",
        "lots": [{
            "id": "1", "title": "城东 A-3 地块", "budget": "1000000", "deposit": "200000",
            "auction": {
                "form": "listing", "start_price": "1000000", "increment": "10000",
                "reserve_price": "1200000", "countdown_seconds": 60,
                "listing_end": (opens + Duration::days(listing_days)).to_rfc3339(),
            }
        }],
        "bid_deadline": opens.to_rfc3339(),
    })
}
