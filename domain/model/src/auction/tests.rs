//! The auction forms of docs/spec/rules.md "Auctions", played against the clock.

use super::*;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0)
        .single()
        .unwrap_or_default()
}

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

fn terms(form: Form) -> Terms {
    Terms {
        form,
        start_price: d("1000000"),
        opens_at: t0(),
        countdown: Duration::seconds(300),
        listing_end: (form == Form::Listing).then(|| t0() + Duration::days(10)),
    }
}

fn bid(
    terms: &Terms,
    state: &mut State,
    who: &str,
    amount: &str,
    at: DateTime<Utc>,
) -> Result<Accepted, AuctionRefusal> {
    decide_bid(terms, state, who, true, d(amount), at)
}

#[test]
fn nothing_is_taken_before_the_opening_and_everything_at_it() {
    for form in Form::ALL {
        let t = terms(*form);
        let mut s = State::new(d("10000"));
        assert_eq!(
            bid(&t, &mut s, "A", "1000000", t0() - ms(1)),
            Err(AuctionRefusal::NotStarted),
            "{form}"
        );
        assert!(bid(&t, &mut s, "A", "1000000", t0()).is_ok(), "{form}");
    }
}

#[test]
fn english_each_bid_beats_the_last_by_the_increment_and_restarts_the_countdown() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    let first = bid(&t, &mut s, "A", "1000000", t0() + ms(5)).ok();
    assert_eq!(first.map(|a| a.seq), Some(1));
    assert_eq!(s.ends_at, Some(t0() + ms(5) + Duration::seconds(300)));
    assert_eq!(
        bid(&t, &mut s, "B", "1009999.99", t0() + ms(6)),
        Err(AuctionRefusal::BelowIncrement)
    );
    assert_eq!(next_valid(&t, &s, t0()), Some(d("1010000")));
    assert!(bid(&t, &mut s, "B", "1010000", t0() + ms(7)).is_ok());
    assert_eq!(
        bid(&t, &mut s, "B", "1030000", t0() + ms(8)),
        Err(AuctionRefusal::AlreadyLeading)
    );
    assert_eq!(s.last_seq, 2);
    assert_eq!(s.leader.as_ref().map(|l| l.bidder.as_str()), Some("B"));
}

#[test]
fn ties_in_the_same_millisecond_go_to_the_earlier_bid() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    let at = t0() + Duration::seconds(1);
    assert!(bid(&t, &mut s, "A", "1000000", at).is_ok());
    // Two bidders offer the same amount in the same millisecond: the one decided first leads,
    // the other no longer beats it.
    assert!(bid(&t, &mut s, "B", "1010000", at).is_ok());
    assert_eq!(
        bid(&t, &mut s, "C", "1010000", at),
        Err(AuctionRefusal::BelowIncrement)
    );
    assert_eq!(s.leader.map(|l| (l.bidder, l.seq)), Some(("B".into(), 2)));
}

#[test]
fn a_bid_at_the_countdowns_last_instant_counts_and_one_at_its_end_does_not() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1000000", t0()).is_ok());
    let end = t0() + Duration::seconds(300);
    assert_eq!(s.ends_at, Some(end));
    // The last millisecond before the end: accepted, and the countdown starts again from it.
    assert!(bid(&t, &mut s, "B", "1010000", end - ms(1)).is_ok());
    let end = end - ms(1) + Duration::seconds(300);
    assert_eq!(s.ends_at, Some(end));
    assert_eq!(
        bid(&t, &mut s, "A", "1020000", end),
        Err(AuctionRefusal::Closed)
    );
    assert_eq!(s.status, AuctionStatus::Ended);
    assert_eq!(
        outcome(t.form, &s, None).map(|l| l.amount),
        Ok(d("1010000"))
    );
}

#[test]
fn the_clock_ends_an_auction_at_its_instant_even_if_nobody_looks_until_later() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1000000", t0() + ms(10)).is_ok());
    let changes = advance(&t, &mut s, t0() + Duration::hours(3));
    assert_eq!(
        changes,
        vec![Change {
            status: AuctionStatus::Ended,
            at: t0() + ms(10) + Duration::seconds(300),
            ends_at: None
        }]
    );
    // Advancing again changes nothing: the close happens once.
    assert!(advance(&t, &mut s, t0() + Duration::hours(4)).is_empty());
}

#[test]
fn nobody_bids_and_the_auction_fails_with_no_bids() {
    for form in Form::ALL {
        let t = terms(*form);
        let mut s = State::new(d("10000"));
        advance(&t, &mut s, t0() + Duration::days(365 * 200));
        assert_eq!(s.status, AuctionStatus::Ended, "{form}");
        assert_eq!(
            outcome(t.form, &s, Some(d("1"))).err(),
            Some(FailReason::NoBids),
            "{form}"
        );
    }
}

#[test]
fn the_reserve_decides_at_the_close_at_or_beyond_it_wins() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1200000", t0()).is_ok());
    advance(&t, &mut s, t0() + Duration::hours(1));
    assert_eq!(
        outcome(t.form, &s, Some(d("1200000.01"))).err(),
        Some(FailReason::ReserveNotMet)
    );
    assert!(outcome(t.form, &s, Some(d("1200000"))).is_ok());
    assert!(outcome(t.form, &s, None).is_ok());
}

#[test]
fn listing_with_several_bidders_goes_to_a_timed_round_among_them_from_the_highest_plus_one_step() {
    let t = terms(Form::Listing);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1000000", t0() + Duration::days(1)).is_ok());
    assert!(bid(&t, &mut s, "B", "1010000", t0() + Duration::days(2)).is_ok());
    // A listing bid does not restart anything: the listing ends when it was announced to.
    let listing_end = t0() + Duration::days(10);
    assert_eq!(s.ends_at, Some(listing_end));
    let changes = advance(&t, &mut s, listing_end);
    assert_eq!(changes.len(), 1);
    assert_eq!(s.status, AuctionStatus::TimedRound);
    assert_eq!(s.ends_at, Some(listing_end + Duration::seconds(300)));
    assert_eq!(next_valid(&t, &s, listing_end), Some(d("1020000")));
    // Only those who bid in the listing take part.
    assert_eq!(
        decide_bid(&t, &mut s, "C", true, d("2000000"), listing_end + ms(1)),
        Err(AuctionRefusal::NotEligible)
    );
    assert!(
        bid(
            &t,
            &mut s,
            "A",
            "1020000",
            listing_end + Duration::seconds(299)
        )
        .is_ok()
    );
    let end = listing_end + Duration::seconds(299 + 300);
    assert_eq!(s.ends_at, Some(end));
    advance(&t, &mut s, end);
    assert_eq!(s.status, AuctionStatus::Ended);
    let won = outcome(t.form, &s, Some(d("1015000"))).map(|l| (l.bidder.clone(), l.amount));
    assert_eq!(won, Ok(("A".into(), d("1020000"))));
}

#[test]
fn listing_with_one_bidder_ends_at_the_listings_end_and_the_reserve_decides() {
    let t = terms(Form::Listing);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1000000", t0() + Duration::days(1)).is_ok());
    assert!(bid(&t, &mut s, "A", "1010000", t0() + Duration::days(2)).is_err());
    advance(&t, &mut s, t0() + Duration::days(10));
    assert_eq!(s.status, AuctionStatus::Ended);
    assert_eq!(
        outcome(t.form, &s, Some(d("1100000"))).err(),
        Some(FailReason::ReserveNotMet)
    );
    assert!(outcome(t.form, &s, Some(d("900000"))).is_ok());
}

#[test]
fn the_increment_changed_mid_listing_applies_to_the_next_bid_and_is_fixed_after_the_listing() {
    let t = terms(Form::Listing);
    let mut s = State::new(d("10000"));
    assert!(bid(&t, &mut s, "A", "1000000", t0() + Duration::days(1)).is_ok());
    assert_eq!(
        decide_increment(&t, &mut s, d("50000"), t0() + Duration::days(3)),
        Ok(())
    );
    assert_eq!(
        bid(&t, &mut s, "B", "1040000", t0() + Duration::days(4)),
        Err(AuctionRefusal::BelowIncrement)
    );
    assert!(bid(&t, &mut s, "B", "1050000", t0() + Duration::days(4)).is_ok());
    assert_eq!(
        decide_increment(&t, &mut s, d("0"), t0() + Duration::days(5)),
        Err(AuctionRefusal::BadAmount)
    );
    // In the timed round the step stays what the bidders started with.
    assert_eq!(
        decide_increment(&t, &mut s, d("1000"), t0() + Duration::days(10)),
        Err(AuctionRefusal::Closed)
    );
    assert_eq!(
        next_valid(&t, &s, t0() + Duration::days(10)),
        Some(d("1100000"))
    );
}

#[test]
fn reverse_each_bid_is_at_least_the_percentage_below_the_last_and_the_lowest_wins() {
    let t = terms(Form::Reverse);
    let mut s = State::new(d("0.5"));
    assert_eq!(
        bid(&t, &mut s, "A", "1000000.01", t0()),
        Err(AuctionRefusal::BelowIncrement)
    );
    assert!(bid(&t, &mut s, "A", "1000000", t0()).is_ok());
    // 0.5 % below 1,000,000 is 995,000.
    assert_eq!(next_valid(&t, &s, t0()), Some(d("995000")));
    assert_eq!(
        bid(&t, &mut s, "B", "995000.01", t0() + ms(1)),
        Err(AuctionRefusal::BelowIncrement)
    );
    assert!(bid(&t, &mut s, "B", "995000", t0() + ms(2)).is_ok());
    // Rounded toward the buyer: 0.5 % below 995,000 is 990,025.
    assert_eq!(next_valid(&t, &s, t0()), Some(d("990025")));
    advance(&t, &mut s, t0() + Duration::hours(1));
    assert_eq!(
        outcome(t.form, &s, Some(d("990000"))).err(),
        Some(FailReason::ReserveNotMet)
    );
    assert_eq!(
        outcome(t.form, &s, Some(d("995000"))).map(|l| l.bidder.as_str()),
        Ok("B")
    );
}

#[test]
fn dutch_taken_at_the_first_step_ends_at_once() {
    let t = terms(Form::Dutch);
    let mut s = State::new(d("50000"));
    assert_eq!(
        current_price(
            &t,
            &{
                let mut open = s.clone();
                advance(&t, &mut open, t0());
                open
            },
            t0()
        ),
        d("1000000")
    );
    let taken = bid(&t, &mut s, "A", "1000000", t0() + ms(1));
    assert_eq!(taken.map(|a| a.ends_auction), Ok(true));
    assert_eq!(s.status, AuctionStatus::Ended);
    assert_eq!(
        bid(&t, &mut s, "B", "2000000", t0() + ms(1)),
        Err(AuctionRefusal::Closed)
    );
}

#[test]
fn dutch_price_falls_one_step_per_interval_and_ends_before_zero() {
    let t = terms(Form::Dutch);
    let mut s = State::new(d("300000"));
    let step = Duration::seconds(300);
    assert_eq!(
        dutch_price(&t, s.increment, t0() + step - ms(1)),
        d("1000000")
    );
    assert_eq!(dutch_price(&t, s.increment, t0() + step), d("700000"));
    assert_eq!(
        bid(&t, &mut s, "A", "699999", t0() + step),
        Err(AuctionRefusal::BelowIncrement)
    );
    // 1,000,000 falls to 700,000, 400,000 and 100,000; the next step would be below zero.
    assert_eq!(dutch_price(&t, s.increment, t0() + step * 9), d("100000"));
    advance(&t, &mut s, t0() + step * 4 - ms(1));
    assert_eq!(s.status, AuctionStatus::Bidding);
    advance(&t, &mut s, t0() + step * 4);
    assert_eq!(s.status, AuctionStatus::Ended);
}

#[test]
fn bad_amounts_are_refused_without_changing_anything() {
    let t = terms(Form::English);
    let mut s = State::new(d("10000"));
    for amount in ["0", "-5", "1000000.001"] {
        assert_eq!(
            bid(&t, &mut s, "A", amount, t0()),
            Err(AuctionRefusal::BadAmount),
            "{amount}"
        );
    }
    assert_eq!(
        decide_bid(&t, &mut s, "A", false, d("1000000"), t0()),
        Err(AuctionRefusal::NotEligible)
    );
    assert_eq!(s.last_seq, 0);
    assert!(s.leader.is_none());
    assert!(!valid_increment(Form::Reverse, d("100")));
    assert!(valid_increment(Form::Reverse, d("99.5")));
}

#[test]
fn a_dutch_clock_too_long_to_name_ends_at_the_end_of_time_without_overflowing() {
    let mut t = terms(Form::Dutch);
    t.start_price = d("999999999999.99");
    let mut s = State::new(d("0.01"));
    advance(&t, &mut s, t0());
    assert_eq!(s.status, AuctionStatus::Bidding);
    assert_eq!(s.ends_at, Some(DateTime::<Utc>::MAX_UTC));
    assert_eq!(
        current_price(&t, &s, t0() + Duration::seconds(600)),
        d("999999999999.97")
    );
}
