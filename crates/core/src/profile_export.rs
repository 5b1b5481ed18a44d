//! Everything a profile made and every credit it moved, gathered for the writer to keep
//! before the profile is deleted (the delete page offers it first).

use inkstone_domain::{GenerationId, ProfileId};
use serde::Serialize;

use crate::error::CoreResult;
use crate::generations::{self, Generation};
use crate::ledger::{self, PageRequest, Transaction, TxFilter, MAX_PAGE};
use crate::Database;

/// A profile's history as one Markdown document, its ledger as CSV, and the files to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileExport {
    pub markdown: String,
    pub ledger_csv: String,
    /// Generated files and kept inputs, as stored (the caller copies those inside its folder).
    pub files: Vec<String>,
}

/// Gathers the export of `profile_id`: every generation, oldest first, and every ledger row.
pub async fn export_profile(db: &Database, profile_id: ProfileId) -> CoreResult<ProfileExport> {
    let ids: Vec<GenerationId> =
        sqlx::query_scalar("SELECT id FROM generations WHERE profile_id = ? ORDER BY id")
            .bind(profile_id)
            .fetch_all(db)
            .await?;
    let mut markdown = String::new();
    let mut files = Vec::new();
    for id in ids {
        let g: Generation = generations::get(db, profile_id, id).await?;
        markdown.push_str(&generations::export_markdown(&g));
        markdown.push_str("\n\n---\n\n");
        files.extend(g.files.iter().cloned());
        files.extend(g.inputs.iter().map(|i| i.path.clone()));
    }
    files.sort();
    files.dedup();
    let mut rows: Vec<Transaction> = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE);
    loop {
        let got = ledger::transactions(db, profile_id, &TxFilter::default(), page).await?;
        rows.extend(got.items);
        match got.next_before_id {
            Some(before) => {
                page = PageRequest {
                    limit: MAX_PAGE,
                    before_id: Some(before),
                }
            }
            None => break,
        }
    }
    rows.reverse();
    let mut ledger_csv =
        String::from("id,time,type,delta,balance_after,description,order_no,generation_id\n");
    for t in rows {
        ledger_csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            t.id,
            t.created_at.to_rfc3339(),
            t.kind.as_str(),
            t.delta,
            t.balance_after,
            csv_field(&t.description),
            csv_field(t.order_no.as_deref().unwrap_or("")),
            t.generation_id.map(|g| g.to_string()).unwrap_or_default(),
        ));
    }
    Ok(ProfileExport {
        markdown,
        ledger_csv,
        files,
    })
}

/// RFC 4180 quoting, and a leading `'` before `=`, `+`, `-`, `@` so a spreadsheet never runs
/// a description as a formula.
fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("top-up"), "\"top-up\"");
        assert_eq!(csv_field("say \"hi\", then"), "\"say \"\"hi\"\", then\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
