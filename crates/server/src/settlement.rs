//! Group commit of PAID transitions on SQLite.
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for the
//! disk. One commit per notification caps the endpoint at the disk's fsync rate;
//! instead one task writes every transition that is waiting, in one transaction,
//! so a burst of notifications costs one fsync. Nothing about exactly-once
//! changes: each transition is still the conditional UPDATE of `orders::write_paid`,
//! so duplicates in one batch still make a single PAID with a single receipt, and a
//! caller hears "paid" only after the commit that holds its receipt.
//!
//! PostgreSQL runs many writers at once and does not go through here.

use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::orders::{now_ms, write_paid, PaidOutcome, PaidWrite};
use crate::store::Db;

/// The most transitions in one commit; more wait for the next.
const MAX_BATCH: usize = 64;

type Job = (PaidWrite, oneshot::Sender<Result<PaidOutcome, ApiError>>);

/// The handle notification handlers settle through; cheap to share.
#[derive(Debug)]
pub struct Settler {
    jobs: mpsc::Sender<Job>,
}

impl Settler {
    /// Starts the writer task; it ends when the last handle is dropped.
    pub fn spawn(db: Db) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, queue));
        Settler { jobs }
    }

    /// Writes one prepared transition and answers once it is committed (or not).
    pub async fn settle(&self, write: PaidWrite) -> Result<PaidOutcome, ApiError> {
        let stopped = || ApiError::Internal("the settlement writer stopped".into());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((write, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let writes: Vec<PaidWrite> = jobs.iter().map(|(w, _)| w.clone()).collect();
        let outcomes = write_batch(&db, &writes).await;
        for ((_, reply), outcome) in jobs.drain(..).zip(outcomes) {
            // A caller that went away (client hung up) still had its write done.
            let _ = reply.send(outcome);
        }
    }
}

/// Writes `writes` in one transaction, one outcome per write in order. If the
/// batch fails as a whole, each write is tried again in a transaction of its own,
/// so one bad write cannot fail the others.
pub async fn write_batch(db: &Db, writes: &[PaidWrite]) -> Vec<Result<PaidOutcome, ApiError>> {
    match write_together(db, writes).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if writes.len() == 1 => vec![Err(e.into())],
        Err(e) => {
            tracing::warn!(error = %e, size = writes.len(), "batch of PAID transitions failed; writing them one by one");
            let mut outcomes = Vec::with_capacity(writes.len());
            for write in writes {
                outcomes.push(
                    write_together(db, std::slice::from_ref(write))
                        .await
                        .map(|mut o| o.remove(0))
                        .map_err(ApiError::from),
                );
            }
            outcomes
        }
    }
}

async fn write_together(db: &Db, writes: &[PaidWrite]) -> Result<Vec<PaidOutcome>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let now = now_ms();
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(write_paid(&mut tx, write, now).await?);
    }
    tx.commit().await?;
    Ok(outcomes)
}
