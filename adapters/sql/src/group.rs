//! Grouped commits for PostgreSQL: the store's single-statement writes of the request path go
//! to a few writer tasks, each of which commits the writes waiting for it **together**, in one
//! transaction — one commit, so one flush of PostgreSQL's write-ahead log, for the group instead
//! of one per write.
//!
//! A writer takes the first waiting write, then every write already waiting (at most
//! [`MAX_WRITE_GROUP`]) — those that arrived while it was busy with its previous group — and:
//!
//! - for a group of one, runs the statement alone (autocommit), exactly as without grouping;
//! - for a larger group, sends `BEGIN`, the statements in order, and `COMMIT`, on one pooled
//!   connection. Each caller is answered only once `COMMIT` has returned: nothing is
//!   acknowledged before it is committed (and, with PostgreSQL's default
//!   `synchronous_commit = on`, flushed). If the `COMMIT` fails, every caller of the group is
//!   answered with that failure (its outcome is unknown, as for a lone statement whose commit
//!   failed).
//!
//! PostgreSQL aborts a whole transaction when one of its statements fails. So when a statement
//! of a group fails (a unique violation of a concurrent retry, a deadlock, a lost connection),
//! the writer rolls the group back and runs each of its statements again alone, in autocommit,
//! answering each caller with its own outcome: one failing write never fails another. This is
//! why a write is handed over as a *builder* of its statement, which can be called again.
//!
//! Every statement of a group runs at READ COMMITTED with its own snapshot, as it would alone,
//! and sees the group's earlier statements (serial order). The row locks a statement takes
//! (the grant lock of docs/storage.md, a session's row) are held until the group commits
//! instead of until the statement ends: stronger, never weaker. Two groups that lock two rows
//! in opposite orders deadlock; PostgreSQL detects it (after `deadlock_timeout`, 1 s by
//! default) and aborts one, whose statements then run alone — slower, never wrong. The
//! statements of one protocol flow are sequential, so this needs two concurrent flows sharing
//! two rows (two sessions each used by both).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::Ordering;
use std::sync::OnceLock;

use sqlx::query::Query;
use sqlx::{Database, Executor, PgConnection, Pool, Postgres as Pg};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{Shared, SqlError};

/// The most writes committed in one group.
pub const MAX_WRITE_GROUP: usize = 64;

/// The statement that opens a group's transaction (PostgreSQL's default isolation, stated).
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// How many writer tasks a store runs (each uses one pooled connection while it commits a
/// group): while one waits for its `COMMIT` to be flushed, the others run the next groups.
pub const WRITE_TASKS: usize = 2;

/// A write's statement, built anew for each time it runs.
pub(crate) type Build<DB> =
    Box<dyn FnMut() -> Query<'static, DB, <DB as Database>::Arguments<'static>> + Send>;

/// What a write's statement returns.
pub(crate) enum Answer<DB: Database> {
    /// The number of rows it changed (`execute`).
    Changed(u64),
    /// Its first row, if any (`fetch_optional`).
    Row(Option<DB::Row>),
}

/// Whether a write wants its changed-row count or its first row.
#[derive(Clone, Copy)]
pub(crate) enum Fetch {
    /// `execute`.
    Changed,
    /// `fetch_optional`.
    Row,
}

/// One write waiting for a writer.
pub(crate) struct Job<DB: Database> {
    build: Build<DB>,
    fetch: Fetch,
    outcome: Option<Result<Answer<DB>, sqlx::Error>>,
    reply: oneshot::Sender<Result<Answer<DB>, SqlError>>,
}

/// The write queue of a store and its clones, with the writer tasks started on first use.
pub(crate) struct Writes<DB: Database> {
    queue: OnceLock<mpsc::UnboundedSender<Job<DB>>>,
}

impl<DB: Database> Default for Writes<DB> {
    fn default() -> Self {
        Self {
            queue: OnceLock::new(),
        }
    }
}

impl<DB: Grouped> Writes<DB> {
    /// Hands `build`'s statement to a writer and waits until its group has committed (or
    /// failed): its answer.
    pub(crate) async fn write(
        &self,
        pool: &Pool<DB>,
        counters: &Arc<Shared>,
        fetch: Fetch,
        build: Build<DB>,
    ) -> Result<Answer<DB>, SqlError> {
        let queue = self.queue.get_or_init(|| DB::start(pool, counters));
        let (reply, answer) = oneshot::channel();
        let job = Job {
            build,
            fetch,
            outcome: None,
            reply,
        };
        queue.send(job).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// The databases whose writes are committed in groups: PostgreSQL. A supertrait of
/// [`Backend`](crate::Backend), public in name only (this module is private), like the
/// dialect's traits; its one function hands crate-private types around.
#[allow(private_interfaces)]
pub trait Grouped: Database {
    /// Starts the writer tasks on the current Tokio runtime; the queue they serve.
    fn start(pool: &Pool<Self>, counters: &Arc<Shared>) -> mpsc::UnboundedSender<Job<Self>>;
}

#[allow(private_interfaces)]
impl Grouped for Pg {
    fn start(pool: &Pool<Self>, counters: &Arc<Shared>) -> mpsc::UnboundedSender<Job<Self>> {
        start(pool, counters)
    }
}

/// The error of a write whose writer is gone (the runtime that ran it shut down).
fn closed() -> SqlError {
    SqlError::Database(sqlx::Error::PoolClosed)
}

/// Starts the writer tasks on the current Tokio runtime; the queue they serve.
fn start(pool: &Pool<Pg>, counters: &Arc<Shared>) -> mpsc::UnboundedSender<Job<Pg>> {
    let (send, receive) = mpsc::unbounded_channel();
    let receive = Arc::new(Mutex::new(receive));
    for _ in 0..WRITE_TASKS {
        tokio::spawn(writer(pool.clone(), receive.clone(), counters.clone()));
    }
    send
}

/// A writer task: until every store clone is gone, takes a group of waiting writes and commits
/// it.
async fn writer(
    pool: Pool<Pg>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job<Pg>>>>,
    counters: Arc<Shared>,
) {
    let mut group = Vec::with_capacity(MAX_WRITE_GROUP);
    loop {
        {
            let mut queue = queue.lock().await;
            match queue.recv().await {
                Some(job) => group.push(job),
                None => return,
            }
            while group.len() < MAX_WRITE_GROUP {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
        }
        commit_group(&pool, &mut group, &counters).await;
    }
}

/// Runs a job's statement on `conn`.
///
/// Boxed as a `Send` future: written as a plain `async fn`, the writer task's future is not
/// proven `Send` for every lifetime (rust-lang/rust#102211).
fn run<'a>(
    job: &'a mut Job<Pg>,
    conn: &'a mut PgConnection,
) -> Pin<Box<dyn Future<Output = Result<Answer<Pg>, sqlx::Error>> + Send + 'a>> {
    let query = (job.build)();
    let fetch = job.fetch;
    Box::pin(async move {
        match fetch {
            Fetch::Changed => Ok(Answer::Changed(query.execute(conn).await?.rows_affected())),
            Fetch::Row => Ok(Answer::Row(query.fetch_optional(conn).await?)),
        }
    })
}

/// Runs a statement without parameters (`BEGIN`, `COMMIT`, `ROLLBACK`) on `conn` (boxed, as
/// [`run`]).
fn control<'a>(
    conn: &'a mut PgConnection,
    statement: &'static str,
) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'a>> {
    Box::pin(async move { conn.execute(statement).await.map(drop) })
}

/// Runs `job` alone (autocommit) on a pooled connection and answers it.
async fn run_alone(pool: &Pool<Pg>, mut job: Job<Pg>, counters: &Shared) {
    counters.round_trips.fetch_add(1, Ordering::Relaxed);
    let outcome = match pool.acquire().await {
        Ok(mut conn) => run(&mut job, &mut conn).await.map_err(SqlError::from),
        Err(e) => Err(SqlError::from(e)),
    };
    let _ = job.reply.send(outcome);
}

/// Commits `group` (see the module documentation) and answers every write; leaves `group`
/// empty.
async fn commit_group(pool: &Pool<Pg>, group: &mut Vec<Job<Pg>>, counters: &Shared) {
    if group.len() == 1 {
        if let Some(job) = group.pop() {
            run_alone(pool, job, counters).await;
        }
        return;
    }
    match run_together(pool, group, counters).await {
        Together::Committed => {
            counters.groups.fetch_add(1, Ordering::Relaxed);
            counters
                .grouped
                .fetch_add(group.len() as u64, Ordering::Relaxed);
            for job in group.drain(..) {
                let outcome = job.outcome.unwrap_or(Err(sqlx::Error::WorkerCrashed));
                let _ = job.reply.send(outcome.map_err(SqlError::from));
            }
        }
        Together::CommitFailed(e) => {
            for job in group.drain(..) {
                let failure = sqlx::Error::Protocol(alloc::format!(
                    "the commit of the group of writes this write was part of failed: {e}"
                ));
                let _ = job.reply.send(Err(SqlError::Database(failure)));
            }
        }
        Together::RolledBack => {
            counters.rolled_back.fetch_add(1, Ordering::Relaxed);
            for mut job in group.drain(..) {
                job.outcome = None;
                run_alone(pool, job, counters).await;
            }
        }
    }
}

/// How running a group in one transaction ended.
enum Together {
    /// Every statement ran and `COMMIT` succeeded: each job holds its outcome.
    Committed,
    /// Every statement ran but `COMMIT` failed: the group's outcome is unknown.
    CommitFailed(sqlx::Error),
    /// Nothing of the group is committed (a statement, `BEGIN` or the connection failed): run
    /// each job alone.
    RolledBack,
}

/// `BEGIN`, the group's statements, `COMMIT`, on one pooled connection.
async fn run_together(pool: &Pool<Pg>, group: &mut [Job<Pg>], counters: &Shared) -> Together {
    let Ok(mut conn) = pool.acquire().await else {
        return Together::RolledBack;
    };
    counters.round_trips.fetch_add(1, Ordering::Relaxed);
    if control(&mut conn, BEGIN).await.is_err() {
        // The connection's state is unknown: do not give it back to the pool.
        conn.close_on_drop();
        return Together::RolledBack;
    }
    for job in group.iter_mut() {
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
        match run(job, &mut conn).await {
            Ok(answer) => job.outcome = Some(Ok(answer)),
            Err(_) => {
                counters.round_trips.fetch_add(1, Ordering::Relaxed);
                if control(&mut conn, "ROLLBACK").await.is_err() {
                    conn.close_on_drop();
                }
                return Together::RolledBack;
            }
        }
    }
    counters.round_trips.fetch_add(1, Ordering::Relaxed);
    match control(&mut conn, "COMMIT").await {
        Ok(()) => Together::Committed,
        Err(e) => {
            conn.close_on_drop();
            Together::CommitFailed(e)
        }
    }
}
