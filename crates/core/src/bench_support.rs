//! Data for benchmarks (feature `bench-support`): a realistic history of many
//! generations for one profile, with its search index, written the way the
//! app writes it. Used by `benches/history.rs` and the real-app bench in
//! `crates/e2e/tests/bench_app.rs`. Never compiled into the app.

use chrono::{DateTime, Utc};
use inkstone_domain::{GenerationId, ProfileId};

use crate::error::CoreResult;
use crate::{search, Database};

const PHRASES: &[&str] = &[
    "春天来了，桃花盛开",
    "秋天的落叶铺满小路",
    "人工智能正在改变写作",
    "一篇关于家乡的散文",
    "市场营销文案要简洁有力",
    "产品发布会的演讲稿",
    "夜空中最亮的星",
    "城市的清晨和咖啡",
    "the quick brown fox",
    "quarterly report summary",
    "大海与少年的故事",
    "如何写好一个开头",
];

/// Prompt and output of the `i`-th generated row: Chinese and English phrases mixed so that
/// searches hit a known share of rows (春天: 1/4; 编号<i>: exactly one row).
pub fn text_for(i: i64) -> (String, String) {
    let pick = |k: i64| PHRASES[(k.rem_euclid(PHRASES.len() as i64)) as usize];
    let prompt = format!("{}，第{}篇", pick(i * 7 + 3), i);
    let output = format!(
        "{}。{}。{}。编号{}",
        pick(i),
        pick(i * 3 + 1),
        pick(i * 5 + 2),
        i
    );
    (prompt, output)
}

/// Adds `count` finished generations (one a minute from `start`; every 20th failed, a third
/// `article`, the rest `rewrite`, 10 credits each) to `profile_id`'s history, with their
/// search index, in one transaction, then runs `ANALYZE`.
pub async fn fill_generations(
    db: &Database,
    profile_id: ProfileId,
    count: i64,
    start: DateTime<Utc>,
) -> CoreResult<()> {
    let t0 = start.timestamp_millis();
    let mut tx = db.begin().await?;
    for i in 0..count {
        let (prompt, output) = text_for(i);
        let status = if i % 20 == 0 { "failed" } else { "succeeded" };
        let id: GenerationId = sqlx::query_scalar(
            "INSERT INTO generations (profile_id, tool, model, prompt, status, output_text, cost,
                                      created_at_ms, finished_at_ms)
             VALUES (?, ?, 'qwen-plus', ?, ?, ?, 10, ?, ?) RETURNING id",
        )
        .bind(profile_id)
        .bind(if i % 3 == 0 { "article" } else { "rewrite" })
        .bind(&prompt)
        .bind(status)
        .bind(&output)
        .bind(t0 + i * 60_000)
        .bind(t0 + i * 60_000 + 5_000)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO generations_fts (rowid, body) VALUES (?, ?)")
            .bind(id)
            .bind(search::index_text(&format!("{prompt}\n{output}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(db).await?;
    Ok(())
}
