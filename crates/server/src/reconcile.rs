//! `inkstone-server reconcile --date YYYY-MM-DD` (issue 13, item 1): the day's trade
//! bills of WeChat Pay and Alipay against our orders.
//!
//! Every payment line is matched with its order. A paid-but-unrecorded order (still
//! pending here) is settled through the same idempotent PAID transition as a
//! notification (`AppState::paid`), so running this twice, or on several instances at
//! once, or while the notification arrives, still makes one PAID and one receipt. An
//! order that had already expired or been closed here is settled too (a late payment,
//! flagged) and also listed, since the writer may have been told it failed. What cannot
//! be settled is listed: an order we do not know, an amount that differs, a provider
//! transaction that differs from ours, a line of another state, and orders paid here
//! that the provider's bill does not hold. The bill is trusted because its integrity is
//! signed: WeChat Pay signs the answer holding the file's SHA-1, Alipay signs the answer
//! holding the download URL.

use std::collections::HashSet;
use std::fmt;

use chrono::{NaiveDate, TimeZone};
use inkstone_domain::{Fen, OrderNo};
use inkstone_pay::bill::{Bill, LineKind};

use crate::app::{self, AppState};
use crate::error::ApiError;
use crate::orders::{self, PaidOutcome, PaymentEvidence};

/// Why a bill line or an order does not agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The bill names an order number we never issued (also one that does not parse as
    /// an order number: we never issue such).
    UnknownOrder,
    /// The order exists but belongs to another provider.
    OtherProvider { ours: String },
    /// The bill's amount is not the order's: never settled, someone must look.
    AmountDiffers { bill_fen: Fen, order_fen: Fen },
    /// Paid at the provider, but expired or closed here: now recorded as a late payment.
    PaidThereClosedHere { status: String },
    /// Paid here under another provider transaction id.
    TransactionDiffers { ours: String },
    /// A line in a state we never settle from (WeChat `REVOKED`, …).
    OtherState,
    /// A refund line for an order we do not know as refunded by that number.
    RefundNotRecorded,
    /// Paid here that day, yet not in the provider's bill.
    PaidHereNotInBill,
    /// The bill's summary count is not its number of lines (a truncated file?).
    CountDiffers { declared: u64, lines: usize },
}

impl Mismatch {
    /// A short stable name, for the printed report and for alerting on it.
    pub fn kind(&self) -> &'static str {
        match self {
            Mismatch::UnknownOrder => "unknown_order",
            Mismatch::OtherProvider { .. } => "other_provider",
            Mismatch::AmountDiffers { .. } => "amount_differs",
            Mismatch::PaidThereClosedHere { .. } => "paid_there_closed_here",
            Mismatch::TransactionDiffers { .. } => "transaction_differs",
            Mismatch::OtherState => "other_state",
            Mismatch::RefundNotRecorded => "refund_not_recorded",
            Mismatch::PaidHereNotInBill => "paid_here_not_in_bill",
            Mismatch::CountDiffers { .. } => "count_differs",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The order number as the bill or the order has it: text, since a bill line's may not
    /// parse (that is the finding), and empty for a finding about the whole bill.
    pub order_no: String,
    /// The provider's transaction id, or the refund number of a refund line.
    pub reference: String,
    pub mismatch: Mismatch,
}

/// One provider's day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub provider: String,
    pub date: String,
    /// False when the provider has no bill for the day (nothing was paid).
    pub bill_found: bool,
    pub lines: usize,
    /// Payment lines whose order was already paid here with that transaction.
    pub matched: usize,
    /// Orders this run made paid (their receipts issued).
    pub settled: Vec<OrderNo>,
    pub findings: Vec<Finding>,
    /// The bill could not be had or trusted (provider down, hash mismatch): nothing of
    /// this provider was matched; the detail is for the operator.
    pub error: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            return writeln!(f, "{} {}: cannot reconcile: {e}", self.provider, self.date);
        }
        if !self.bill_found {
            writeln!(f, "{} {}: no bill for this day", self.provider, self.date)?;
            if self.findings.is_empty() {
                return Ok(());
            }
        }
        writeln!(
            f,
            "{} {}: {} lines, {} matched, {} settled now, {} mismatches",
            self.provider,
            self.date,
            self.lines,
            self.matched,
            self.settled.len(),
            self.findings.len()
        )?;
        for no in &self.settled {
            writeln!(f, "  settled   {no}")?;
        }
        for x in &self.findings {
            let detail = match &x.mismatch {
                Mismatch::OtherProvider { ours } => format!(" (ours: {ours})"),
                Mismatch::AmountDiffers {
                    bill_fen,
                    order_fen,
                } => format!(" (bill {bill_fen} fen, order {order_fen} fen)"),
                Mismatch::PaidThereClosedHere { status } => {
                    format!(" (was {status} here; recorded as a late payment)")
                }
                Mismatch::TransactionDiffers { ours } => format!(" (ours: {ours})"),
                Mismatch::CountDiffers { declared, lines } => {
                    format!(" (summary says {declared}, file holds {lines})")
                }
                _ => String::new(),
            };
            writeln!(
                f,
                "  mismatch  {} {} {}{detail}",
                x.mismatch.kind(),
                x.order_no,
                x.reference
            )?;
        }
        Ok(())
    }
}

/// `YYYY-MM-DD`, a real date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    inkstone_pay::wechat::valid_bill_date(text)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// The bills' day in Beijing time, as Unix ms `[start, end)`.
fn day_bounds_ms(date: NaiveDate) -> Option<(i64, i64)> {
    let tz = chrono::FixedOffset::east_opt(8 * 3600)?;
    let start = tz
        .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()?;
    Some((
        start.timestamp_millis(),
        (start + chrono::Duration::days(1)).timestamp_millis(),
    ))
}

/// Reconciles `date` with every configured real provider. A provider whose bill cannot
/// be had or trusted gets a report with `error` (the others go on); a database failure
/// is an error.
pub async fn reconcile_day(state: &AppState, date: NaiveDate) -> Result<Vec<Report>, ApiError> {
    let day = date.format("%Y-%m-%d").to_string();
    let mut reports = Vec::new();
    let failed = |provider: &str, e: ApiError| Report {
        provider: provider.into(),
        date: day.clone(),
        error: Some(format!("{e}: {}", e.detail())),
        ..Report::default()
    };
    if let Some(w) = &state.wechat {
        reports.push(match w.trade_bill(&day).await {
            Ok(bill) => reconcile_bill(state, "wechat", date, bill).await?,
            Err(e) => failed("wechat", e),
        });
    }
    if let Some(a) = &state.alipay {
        reports.push(match a.trade_bill(&day).await {
            Ok(bill) => reconcile_bill(state, "alipay", date, bill).await?,
            Err(e) => failed("alipay", e),
        });
    }
    Ok(reports)
}

/// Matches one provider's bill (already downloaded and checked) with the orders.
pub async fn reconcile_bill(
    state: &AppState,
    provider: &str,
    date: NaiveDate,
    bill: Option<Bill>,
) -> Result<Report, ApiError> {
    let mut report = Report {
        provider: provider.into(),
        date: date.format("%Y-%m-%d").to_string(),
        bill_found: bill.is_some(),
        ..Report::default()
    };
    let bill = bill.unwrap_or_default();
    report.lines = bill.lines.len();
    if let Some(declared) = bill.declared_count {
        if declared != bill.lines.len() as u64 {
            report.findings.push(Finding {
                order_no: String::new(),
                reference: String::new(),
                mismatch: Mismatch::CountDiffers {
                    declared,
                    lines: bill.lines.len(),
                },
            });
        }
    }
    let mut in_bill = HashSet::new();
    for line in &bill.lines {
        let finding = |mismatch| Finding {
            order_no: line.order_no.clone(),
            reference: if line.kind == LineKind::Refund {
                line.refund_no.clone()
            } else {
                line.provider_txn_id.clone()
            },
            mismatch,
        };
        match line.kind {
            LineKind::Other => {
                report.findings.push(finding(Mismatch::OtherState));
                continue;
            }
            LineKind::Refund => {
                // A number that does not parse was never ours, so neither is its refund.
                let known = match OrderNo::parse(&line.order_no) {
                    Ok(no) => {
                        crate::refund::known_refund(state, provider, &no, &line.refund_no).await?
                    }
                    Err(_) => false,
                };
                if !known {
                    report.findings.push(finding(Mismatch::RefundNotRecorded));
                }
                continue;
            }
            LineKind::Payment => {}
        }
        // The bill's order number is parsed once, here; one that does not parse is an order
        // we never issued.
        let Ok(order_no) = OrderNo::parse(&line.order_no) else {
            report.findings.push(finding(Mismatch::UnknownOrder));
            continue;
        };
        in_bill.insert(order_no.clone());
        let Some(order) = orders::fetch(&state.db, &order_no).await? else {
            report.findings.push(finding(Mismatch::UnknownOrder));
            continue;
        };
        if order.provider != provider {
            report.findings.push(finding(Mismatch::OtherProvider {
                ours: order.provider.clone(),
            }));
            continue;
        }
        if order.amount_fen != line.amount_fen {
            report.findings.push(finding(Mismatch::AmountDiffers {
                bill_fen: line.amount_fen,
                order_fen: order.amount_fen,
            }));
            continue;
        }
        if order.status == "PAID" {
            let ours = paid_txn(state, &order.order_no).await?;
            if ours.as_deref() == Some(line.provider_txn_id.as_str()) {
                report.matched += 1;
            } else {
                report.findings.push(finding(Mismatch::TransactionDiffers {
                    ours: ours.unwrap_or_default(),
                }));
            }
            continue;
        }
        let evidence = PaymentEvidence {
            provider: provider.into(),
            order_no: order.order_no.clone(),
            amount_fen: line.amount_fen,
            currency: order.currency.clone(),
            provider_txn_id: line.provider_txn_id.clone(),
            paid_at: line.time.unwrap_or_else(chrono::Utc::now),
        };
        match state.paid(&evidence).await? {
            PaidOutcome::Paid => {
                tracing::warn!(provider, order_no = %order.order_no, "reconciliation settled an unrecorded payment");
                report.settled.push(order.order_no.clone());
                if order.status != "PENDING" {
                    report.findings.push(finding(Mismatch::PaidThereClosedHere {
                        status: order.status.to_lowercase(),
                    }));
                }
            }
            // A notification or another instance got there first.
            PaidOutcome::AlreadyPaid => report.matched += 1,
        }
        app::wake(state, &order.order_no);
    }
    // Paid here that (Beijing) day through this provider, but not in its bill.
    if let Some((start, end)) = day_bounds_ms(date) {
        let paid: Vec<(OrderNo, Option<String>)> = sqlx::query_as(
            "SELECT order_no, provider_txn_id FROM orders
             WHERE provider = $1 AND status = 'PAID' AND paid_at_ms >= $2 AND paid_at_ms < $3
             ORDER BY paid_at_ms",
        )
        .bind(provider)
        .bind(start)
        .bind(end)
        .fetch_all(&state.db)
        .await?;
        for (order_no, txn) in paid {
            if !in_bill.contains(&order_no) && !report.settled.contains(&order_no) {
                report.findings.push(Finding {
                    order_no: order_no.to_string(),
                    reference: txn.unwrap_or_default(),
                    mismatch: Mismatch::PaidHereNotInBill,
                });
            }
        }
    }
    Ok(report)
}

async fn paid_txn(state: &AppState, order_no: &OrderNo) -> Result<Option<String>, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT provider_txn_id FROM orders WHERE order_no = $1")
            .bind(order_no)
            .fetch_optional(&state.db)
            .await?
            .flatten(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_and_days_are_beijing_days() {
        assert_eq!(
            parse_date("2026-11-25"),
            NaiveDate::from_ymd_opt(2026, 11, 25)
        );
        for bad in [
            "2026-11-31",
            "2026-1-25",
            "25-11-2026",
            "",
            "2026-11-25x",
            "２０２６-11-25",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let (start, end) = day_bounds_ms(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()).unwrap();
        assert_eq!(
            start,
            chrono::DateTime::parse_from_rfc3339("2026-11-24T16:00:00Z")
                .unwrap()
                .timestamp_millis()
        );
        assert_eq!(end - start, 86_400_000);
    }
}
