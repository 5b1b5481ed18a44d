//! Daily trade bills, the providers' own books (issue 13, reconciliation).
//!
//! * WeChat Pay: `GET /v3/bill/tradebill?bill_date=…&bill_type=ALL&tar_type=GZIP` answers
//!   (signed) `{hash_type: "SHA1", hash_value, download_url}`; the file behind the URL is
//!   not signed, so its SHA-1 over the *uncompressed* CSV must equal `hash_value`. The CSV:
//!   a header line, detail lines whose every field starts with a backtick, then a summary
//!   header (`总交易单数,…`) and one summary line. Amounts in yuan.
//! * Alipay: `alipay.data.dataservice.bill.downloadurl.query` answers (signed)
//!   `bill_download_url`; the file is a zip holding GBK CSVs: the detail
//!   (`…_业务明细.csv`: `#` comment lines, a header with `支付宝交易号`, detail lines,
//!   `#` footer lines) and a summary (`…_业务明细(汇总).csv`), which we do not need.
//!
//! Columns are found by their header names, not by position, so a column added by the
//! provider does not shift the others. Every parser here takes outside bytes: sizes are
//! bounded before anything is allocated from them, and bad input is a [`BillError`].

use std::io::Read;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use inkstone_domain::Fen;
use sha1::{Digest, Sha1};

use crate::money::yuan_to_fen;

/// The most bytes a bill may have once uncompressed (a busy merchant's day is a few MiB).
pub const MAX_BILL_BYTES: usize = 64 * 1024 * 1024;
/// The most detail lines read from one bill.
pub const MAX_LINES: usize = 1_000_000;
/// The most entries looked at in an Alipay zip (it holds two).
const MAX_ZIP_ENTRIES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
    #[error("the bill is larger than {MAX_BILL_BYTES} bytes")]
    TooLarge,
    #[error("the bill has more than {MAX_LINES} lines")]
    TooManyLines,
    #[error("not a gzip file: {0}")]
    Gzip(String),
    #[error("not a zip file: {0}")]
    Zip(String),
    #[error("no detail file in the zip")]
    NoDetail,
    #[error("hash type {0} is not SHA1")]
    HashType(String),
    #[error("the bill's SHA-1 does not match the signed hash")]
    HashMismatch,
    #[error("no header line with column {0}")]
    MissingColumn(&'static str),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// What a bill line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A payment that succeeded (WeChat `SUCCESS`, Alipay `交易`).
    Payment,
    /// A refund of a payment (WeChat `REFUND`, Alipay `退款`).
    Refund,
    /// Anything else (WeChat `REVOKED`, …): listed, never settled.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    /// 1-based line number in the file, for messages.
    pub line: usize,
    pub kind: LineKind,
    /// The provider's word for it (`SUCCESS`, `REFUND`, `交易`, …).
    pub state: String,
    /// Our order number (`商户订单号`).
    pub order_no: String,
    /// The provider's transaction id (`微信订单号`, `支付宝交易号`).
    pub provider_txn_id: String,
    /// The order's amount.
    pub amount_fen: Fen,
    /// A refund line: our refund number (`商户退款单号`, `退款批次号/请求号`) and amount.
    pub refund_no: String,
    pub refund_fen: Fen,
    /// When it happened (Beijing time in the file), if the line says.
    pub time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bill {
    pub lines: Vec<BillLine>,
    /// WeChat's summary count (`总交易单数`), when present: it should equal the lines.
    pub declared_count: Option<u64>,
}

fn beijing_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    chrono::FixedOffset::east_opt(8 * 3600)?
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Yuan with an optional minus sign (Alipay writes refunds as negative amounts) → |fen|.
fn fen(text: &str) -> Option<Fen> {
    let t = text.trim();
    let t = t.strip_prefix('-').unwrap_or(t);
    if t.is_empty() {
        return Some(Fen::ZERO);
    }
    yuan_to_fen(t).ok()
}

/// Reads at most `limit + 1` bytes from `r`: more than `limit` is refused by the caller
/// without ever having been read whole.
fn read_limited(r: impl Read, limit: usize) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// A gzip file (WeChat's `tar_type=GZIP`) → its content, at most `MAX_BILL_BYTES`.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, BillError> {
    gunzip_within(bytes, MAX_BILL_BYTES)
}

/// A WeChat bill download as it came: gunzipped when it is gzip (magic `1f 8b`), else
/// taken as the plain CSV stream (the API's default without `tar_type`). Either way the
/// signed SHA-1 is checked over the result.
pub fn wechat_plain(bytes: &[u8]) -> Result<Vec<u8>, BillError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return gunzip(bytes);
    }
    if bytes.len() > MAX_BILL_BYTES {
        return Err(BillError::TooLarge);
    }
    Ok(bytes.to_vec())
}

fn gunzip_within(bytes: &[u8], limit: usize) -> Result<Vec<u8>, BillError> {
    let out = read_limited(flate2::read::GzDecoder::new(bytes), limit)
        .map_err(|e| BillError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(BillError::TooLarge);
    }
    Ok(out)
}

/// Checks the uncompressed bill against the `hash_type`/`hash_value` of the signed answer.
pub fn check_wechat_hash(plain: &[u8], hash_type: &str, hash_value: &str) -> Result<(), BillError> {
    if !hash_type.eq_ignore_ascii_case("SHA1") {
        return Err(BillError::HashType(hash_type.chars().take(16).collect()));
    }
    if !hex::encode(Sha1::digest(plain)).eq_ignore_ascii_case(hash_value.trim()) {
        return Err(BillError::HashMismatch);
    }
    Ok(())
}

/// The text of a bill line split at commas, each field without WeChat's backtick and
/// without Alipay's padding (tabs, spaces).
fn fields(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| {
            let f = f.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            f.strip_prefix('`').unwrap_or(f).trim()
        })
        .collect()
}

/// Column positions by header name; `names` are tried in order (providers renamed some).
fn column(header: &[&str], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
        // Alipay writes `订单金额（元）` with full-width parentheses; accept a prefix too.
        .or_else(|| {
            names
                .iter()
                .find_map(|n| header.iter().position(|h| h.starts_with(n)))
        })
}

fn text_of(bytes: &[u8]) -> Result<&str, BillError> {
    if bytes.len() > MAX_BILL_BYTES {
        return Err(BillError::TooLarge);
    }
    std::str::from_utf8(bytes).map_err(|e| BillError::Line {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        reason: "not UTF-8".into(),
    })
}

/// A WeChat Pay trade bill (`bill_type=ALL`, uncompressed, UTF-8).
pub fn parse_wechat(bytes: &[u8]) -> Result<Bill, BillError> {
    let text = text_of(bytes)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header_line) = lines.next().ok_or(BillError::MissingColumn("商户订单号"))?;
    let header = fields(header_line);
    let need = |names: &[&str], label: &'static str| {
        column(&header, names).ok_or(BillError::MissingColumn(label))
    };
    let c_time = need(&["交易时间"], "交易时间")?;
    let c_txn = need(&["微信订单号"], "微信订单号")?;
    let c_order = need(&["商户订单号"], "商户订单号")?;
    let c_state = need(&["交易状态"], "交易状态")?;
    let c_amount = need(&["订单金额", "应结订单金额"], "订单金额")?;
    let c_refund_no = column(&header, &["商户退款单号"]);
    let c_refund = column(&header, &["申请退款金额", "退款金额"]);
    let mut bill = Bill::default();
    let mut summary = false;
    for (i, line) in lines {
        let n = i + 1;
        let f = fields(line);
        if f.first() == Some(&"总交易单数") {
            summary = true;
            continue;
        }
        if summary {
            bill.declared_count = f.first().and_then(|c| c.parse().ok());
            summary = false;
            continue;
        }
        if bill.lines.len() >= MAX_LINES {
            return Err(BillError::TooManyLines);
        }
        let get = |c: usize| f.get(c).copied().unwrap_or("");
        let bad = |reason: &str| BillError::Line {
            line: n,
            reason: reason.into(),
        };
        // Every column we read must be there (trailing empty ones may be left out).
        if f.len() <= c_time.max(c_txn).max(c_order).max(c_state).max(c_amount) {
            return Err(bad("fewer fields than the header"));
        }
        let state = get(c_state).to_string();
        let kind = match state.as_str() {
            "SUCCESS" => LineKind::Payment,
            "REFUND" => LineKind::Refund,
            _ => LineKind::Other,
        };
        let amount_fen = fen(get(c_amount)).ok_or_else(|| bad("amount"))?;
        let refund_fen = match c_refund {
            Some(c) => fen(get(c)).ok_or_else(|| bad("refund amount"))?,
            None => Fen::ZERO,
        };
        let order_no = get(c_order).to_string();
        if order_no.is_empty() || order_no.len() > 64 {
            return Err(bad("order number"));
        }
        bill.lines.push(BillLine {
            line: n,
            kind,
            state: state.chars().take(32).collect(),
            order_no,
            provider_txn_id: get(c_txn).chars().take(64).collect(),
            amount_fen,
            refund_no: c_refund_no
                .map(|c| get(c).chars().take(64).collect())
                .unwrap_or_default(),
            refund_fen,
            time: beijing_time(get(c_time)),
        });
    }
    Ok(bill)
}

/// The detail CSV out of an Alipay bill download: a zip (magic `PK`), or, tolerated, the
/// detail CSV itself; decoded from GBK (or UTF-8), bounded.
pub fn alipay_detail(bytes: &[u8]) -> Result<String, BillError> {
    if bytes.starts_with(b"PK") {
        return unzip_alipay(bytes);
    }
    if bytes.len() > MAX_BILL_BYTES {
        return Err(BillError::TooLarge);
    }
    Ok(decode_gbk(bytes))
}

/// The detail CSV out of an Alipay bill zip (the entry whose header names
/// `支付宝交易号`), decoded from GBK (or UTF-8), bounded.
pub fn unzip_alipay(bytes: &[u8]) -> Result<String, BillError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| BillError::Zip(e.to_string()))?;
    for i in 0..archive.len().min(MAX_ZIP_ENTRIES) {
        let entry = archive
            .by_index(i)
            .map_err(|e| BillError::Zip(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let raw = read_limited(entry, MAX_BILL_BYTES).map_err(|e| BillError::Zip(e.to_string()))?;
        if raw.len() > MAX_BILL_BYTES {
            return Err(BillError::TooLarge);
        }
        let text = decode_gbk(&raw);
        if text
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("支付宝交易号"))
        {
            return Ok(text);
        }
    }
    Err(BillError::NoDetail)
}

/// Alipay writes GBK; a file that is valid UTF-8 is taken as such.
fn decode_gbk(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GBK
            .decode_without_bom_handling(raw)
            .0
            .into_owned(),
    }
}

/// An Alipay detail CSV (already decoded).
pub fn parse_alipay(text: &str) -> Result<Bill, BillError> {
    if text.len() > MAX_BILL_BYTES {
        return Err(BillError::TooLarge);
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = loop {
        match lines.next() {
            Some((_, l)) if !l.starts_with('#') && l.contains("支付宝交易号") => {
                break fields(l)
            }
            Some(_) => continue,
            None => return Err(BillError::MissingColumn("支付宝交易号")),
        }
    };
    let need = |names: &[&str], label: &'static str| {
        column(&header, names).ok_or(BillError::MissingColumn(label))
    };
    let c_txn = need(&["支付宝交易号"], "支付宝交易号")?;
    let c_order = need(&["商户订单号"], "商户订单号")?;
    let c_type = need(&["业务类型"], "业务类型")?;
    let c_amount = need(&["订单金额"], "订单金额")?;
    let c_received = column(&header, &["商家实收"]);
    let c_time = column(&header, &["完成时间"]);
    let c_refund_no = column(&header, &["退款批次号/请求号"]);
    let mut bill = Bill::default();
    for (i, line) in lines {
        // The footer (`#-----…结束`, `#交易合计…`) ends the detail.
        if line.starts_with('#') {
            break;
        }
        if bill.lines.len() >= MAX_LINES {
            return Err(BillError::TooManyLines);
        }
        let n = i + 1;
        let f = fields(line);
        let get = |c: usize| f.get(c).copied().unwrap_or("");
        let bad = |reason: &str| BillError::Line {
            line: n,
            reason: reason.into(),
        };
        if f.len() <= c_txn.max(c_order).max(c_type).max(c_amount) {
            return Err(bad("fewer fields than the header"));
        }
        let state = get(c_type).to_string();
        let kind = match state.as_str() {
            "交易" => LineKind::Payment,
            "退款" => LineKind::Refund,
            _ => LineKind::Other,
        };
        let amount_fen = fen(get(c_amount)).ok_or_else(|| bad("amount"))?;
        let (refund_no, refund_fen) = if kind == LineKind::Refund {
            let received = match c_received {
                Some(c) => fen(get(c)).ok_or_else(|| bad("received amount"))?,
                None => amount_fen,
            };
            (
                c_refund_no
                    .map(|c| get(c).chars().take(64).collect())
                    .unwrap_or_default(),
                received,
            )
        } else {
            (String::new(), Fen::ZERO)
        };
        let order_no = get(c_order).to_string();
        if order_no.is_empty() || order_no.len() > 64 {
            return Err(bad("order number"));
        }
        bill.lines.push(BillLine {
            line: n,
            kind,
            state: state.chars().take(32).collect(),
            order_no,
            provider_txn_id: get(c_txn).chars().take(64).collect(),
            amount_fen,
            refund_no,
            refund_fen,
            time: c_time.and_then(|c| beijing_time(get(c))),
        });
    }
    Ok(bill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{alipay_bill_zip, wechat_trade_bill, BillRow};
    use proptest::prelude::*;

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn rows() -> Vec<BillRow> {
        vec![
            BillRow::payment(
                "IK20261125A",
                "4200000001",
                fen(1000),
                "2026-11-25 12:03:10",
            ),
            BillRow::payment("IK20261125B", "4200000002", fen(500), "2026-11-25 23:59:59"),
            BillRow::refund(
                "IK20261125A",
                "4200000001",
                fen(1000),
                "RF1",
                fen(300),
                "2026-11-25 13:00:00",
            ),
        ]
    }

    #[test]
    fn a_wechat_bill_as_documented_parses_and_its_hash_is_checked() {
        let csv = wechat_trade_bill(
            crate::testkit::WECHAT_APPID,
            crate::testkit::WECHAT_MCHID,
            &rows(),
        );
        assert!(csv.contains("`IK20261125A"), "backtick-prefixed fields");
        let bill = parse_wechat(csv.as_bytes()).unwrap();
        assert_eq!(bill.lines.len(), 3);
        assert_eq!(bill.declared_count, Some(3));
        assert_eq!(bill.lines[0].kind, LineKind::Payment);
        assert_eq!(bill.lines[0].amount_fen, 1000);
        assert_eq!(bill.lines[0].provider_txn_id, "4200000001");
        assert_eq!(
            bill.lines[0].time,
            Some("2026-11-25T04:03:10Z".parse().unwrap())
        );
        assert_eq!(bill.lines[2].kind, LineKind::Refund);
        assert_eq!(
            (bill.lines[2].refund_no.as_str(), bill.lines[2].refund_fen),
            ("RF1", fen(300))
        );
        let hash = hex::encode(Sha1::digest(csv.as_bytes()));
        assert_eq!(check_wechat_hash(csv.as_bytes(), "SHA1", &hash), Ok(()));
        let mut changed = csv.clone().into_bytes();
        changed[60] ^= 1;
        assert_eq!(
            check_wechat_hash(&changed, "SHA1", &hash),
            Err(BillError::HashMismatch)
        );
        assert!(matches!(
            check_wechat_hash(csv.as_bytes(), "MD5", &hash),
            Err(BillError::HashType(_))
        ));
        let gz = crate::testkit::gzip(csv.as_bytes());
        assert_eq!(gunzip(&gz).unwrap(), csv.as_bytes());
        // Without tar_type the file comes plain: taken as it is.
        assert_eq!(wechat_plain(&gz).unwrap(), csv.as_bytes());
        assert_eq!(wechat_plain(csv.as_bytes()).unwrap(), csv.as_bytes());
    }

    #[test]
    fn an_alipay_zip_of_gbk_csvs_parses() {
        let zip = alipay_bill_zip(crate::testkit::ALIPAY_SELLER_ID, "2026-11-25", &rows());
        let text = unzip_alipay(&zip).unwrap();
        assert!(text.contains("业务明细"));
        assert_eq!(alipay_detail(&zip).unwrap(), text);
        let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
        assert_eq!(alipay_detail(&gbk).unwrap(), text);
        let bill = parse_alipay(&text).unwrap();
        assert_eq!(bill.lines.len(), 3);
        assert_eq!(bill.lines[1].order_no, "IK20261125B");
        assert_eq!(bill.lines[1].amount_fen, 500);
        assert_eq!(bill.lines[2].kind, LineKind::Refund);
        assert_eq!(
            (bill.lines[2].refund_no.as_str(), bill.lines[2].refund_fen),
            ("RF1", fen(300))
        );
    }

    #[test]
    fn bad_bills_are_typed_errors() {
        assert!(matches!(
            parse_wechat(b""),
            Err(BillError::MissingColumn(_))
        ));
        assert!(matches!(
            parse_wechat(
                "交易时间,微信订单号,商户订单号,交易状态,订单金额\n`x,`1,`IK1,`SUCCESS,`abc\n"
                    .as_bytes()
            ),
            Err(BillError::Line { line: 2, .. })
        ));
        // An amount past 100,000,000 yuan (or that would overflow) is a typed line error.
        for amount in ["100000000.01", "99999999999999999999.00", "1e9"] {
            let csv = format!("交易时间,微信订单号,商户订单号,交易状态,订单金额\n`x,`1,`IK20261125A,`SUCCESS,`{amount}\n");
            assert!(
                matches!(
                    parse_wechat(csv.as_bytes()),
                    Err(BillError::Line { line: 2, .. })
                ),
                "{amount}"
            );
        }
        // Alipay's refunds are negative on paper: read as the amount refunded, never below 0.
        let bill = parse_wechat(
            "交易时间,微信订单号,商户订单号,交易状态,订单金额\n`x,`1,`IK20261125A,`REFUND,`-3.00\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(bill.lines[0].amount_fen, fen(300));
        assert!(matches!(gunzip(b"not gzip"), Err(BillError::Gzip(_))));
        assert!(matches!(unzip_alipay(b"PK nope"), Err(BillError::Zip(_))));
        assert!(matches!(
            parse_alipay("#only comments\n"),
            Err(BillError::MissingColumn(_))
        ));
    }

    #[test]
    fn a_gzip_bomb_is_refused_without_reading_it_all() {
        let gz = crate::testkit::gzip(&vec![0u8; 100_000]);
        assert_eq!(gunzip_within(&gz, 10_000), Err(BillError::TooLarge));
        assert_eq!(gunzip_within(&gz, 100_000).map(|b| b.len()), Ok(100_000));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random bytes: a bill or a typed error, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_wechat(&bytes);
            let _ = gunzip(&bytes);
            let _ = unzip_alipay(&bytes);
            let _ = wechat_plain(&bytes);
            let _ = alipay_detail(&bytes);
            let _ = parse_alipay(&String::from_utf8_lossy(&bytes));
        }

        /// Real bills with bytes flipped, cut or inserted: still no panic, and every
        /// line that parses is bounded in size.
        #[test]
        fn mutated_bills_never_panic(
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<prop::sample::Index>(),
            mode in 0u8..3,
        ) {
            let csv = wechat_trade_bill(crate::testkit::WECHAT_APPID, crate::testkit::WECHAT_MCHID, &rows()).into_bytes();
            let zip = alipay_bill_zip(crate::testkit::ALIPAY_SELLER_ID, "2026-11-25", &rows());
            let gz = crate::testkit::gzip(&csv);
            for original in [csv, zip, gz] {
                let mut m = original.clone();
                let i = at.index(m.len());
                match mode {
                    0 => m[i] ^= byte | 1,
                    1 => m.truncate(cut.index(m.len())),
                    _ => m.insert(i, byte),
                }
                if let Ok(bill) = parse_wechat(&m) {
                    prop_assert!(bill.lines.iter().all(|l| l.order_no.len() <= 64 && l.state.len() <= 128));
                }
                let _ = gunzip(&m).map(|plain| parse_wechat(&plain));
                if let Ok(text) = unzip_alipay(&m) {
                    let _ = parse_alipay(&text);
                }
                let _ = parse_alipay(&String::from_utf8_lossy(&m));
            }
        }
    }
}
