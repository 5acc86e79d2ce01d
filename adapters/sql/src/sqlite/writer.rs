//! The writer thread: the one thread that owns the write connection of a SQLite store, and
//! commits the write requests it is sent in **groups**.
//!
//! The thread waits for a request, then takes every request already waiting in the channel (at
//! most [`MAX_GROUP`]) — the requests that arrived while the previous group was committing —
//! and runs them all in one transaction (`BEGIN IMMEDIATE` … `COMMIT`): one commit, so one
//! fsync of the write-ahead log, for the whole group. Each request runs inside a savepoint of
//! its own: a request that fails, or that decides to change nothing, is rolled back to its
//! savepoint, and the others of its group are unaffected. The callers are answered only once
//! the `COMMIT` of their group has returned — with `synchronous = FULL`, once the group is on
//! disk — and never before: a request's answer is its outcome, committed, or an error.
//!
//! If SQLite rolls back the whole transaction while a request runs (it does so for a full
//! disk, an I/O error or an out-of-memory error; see "Response To Errors Within A Transaction"
//! in SQLite's documentation), the requests of the group that had run before are lost: they
//! are answered with that error, and the rest of the group runs in a new transaction. If the
//! `COMMIT` fails, every request of the group is answered with its error: nothing of the group
//! was committed.

use core::panic::AssertUnwindSafe;
use core::sync::atomic::{AtomicU64, Ordering};
use std::panic::catch_unwind;
use std::sync::mpsc::{Receiver, TryRecvError};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::SqlError;

/// The most requests committed in one group (a bound on one transaction's size and on how
/// long the first request of a full group waits for the last).
pub(crate) const MAX_GROUP: usize = 256;

/// What the writer thread is sent.
pub(crate) enum Message {
    /// A write request.
    Job(Box<dyn Job>),
    /// Stop once every request sent before this one is answered, then say so.
    Close(oneshot::Sender<()>),
}

/// A write request: runs in the group's transaction, then is answered.
pub(crate) trait Job: Send {
    /// Runs the request inside its savepoint; returns whether its changes are kept (`false`:
    /// they are rolled back to the savepoint, as when it fails).
    fn run(&mut self, conn: &Connection) -> bool;

    /// Answers the caller with the request's outcome, or with `failure` when the group's
    /// transaction was not committed.
    fn answer(self: Box<Self>, failure: Option<SqlError>);
}

/// What a request's operation returns: its value, and whether its changes are kept.
pub(crate) type Step<T> = Result<(T, bool), SqlError>;

/// A request running `op` on the write connection, answered on `reply`.
pub(crate) struct Request<T, F> {
    op: Option<F>,
    outcome: Option<Result<T, SqlError>>,
    reply: oneshot::Sender<Result<T, SqlError>>,
}

impl<T, F> Request<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Step<T> + Send + 'static,
{
    /// A request and the receiver of its answer.
    pub(crate) fn job(op: F) -> (Box<dyn Job>, oneshot::Receiver<Result<T, SqlError>>) {
        let (reply, answer) = oneshot::channel();
        let request = Self {
            op: Some(op),
            outcome: None,
            reply,
        };
        (Box::new(request), answer)
    }
}

impl<T, F> Job for Request<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Step<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(op) = self.op.take() else {
            return false;
        };
        // A panic in a request (never expected) fails that request only.
        let result = catch_unwind(AssertUnwindSafe(|| op(conn))).unwrap_or_else(|_| {
            Err(SqlError::Sqlite(error(
                "a storage request panicked on the writer thread",
            )))
        });
        match result {
            Ok((value, keep)) => {
                self.outcome = Some(Ok(value));
                keep
            }
            Err(e) => {
                self.outcome = Some(Err(e));
                false
            }
        }
    }

    fn answer(self: Box<Self>, failure: Option<SqlError>) {
        let outcome = match failure {
            Some(e) => Err(e),
            None => self.outcome.unwrap_or_else(|| {
                Err(SqlError::Sqlite(error(
                    "a storage request was answered without having run",
                )))
            }),
        };
        // The caller may have stopped waiting (its future was dropped): nothing to do.
        let _ = self.reply.send(outcome);
    }
}

/// A copy of `error` for each request that it fails (rusqlite errors are not `Clone`).
pub(crate) fn failure(cause: &rusqlite::Error) -> SqlError {
    SqlError::Sqlite(match cause {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => error(&other.to_string()),
    })
}

/// A generic SQLite error (`SQLITE_ERROR`) with `message`.
pub(crate) fn error(message: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message.to_owned()),
    )
}

/// Counters of the writer thread, shared with the store.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Requests run.
    pub(crate) requests: AtomicU64,
    /// Transactions committed (each one fsync of the log with `synchronous = FULL`).
    pub(crate) commits: AtomicU64,
}

/// The writer thread's loop: until every sender is gone or a [`Message::Close`] arrives, takes
/// a group of requests and commits it.
pub(crate) fn run(conn: Connection, requests: &Receiver<Message>, counters: &Counters) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_GROUP);
    loop {
        let mut closing = None;
        match requests.recv() {
            Ok(Message::Job(job)) => group.push(job),
            Ok(Message::Close(done)) => closing = Some(done),
            Err(_) => break,
        }
        while closing.is_none() && group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(Message::Job(job)) => group.push(job),
                Ok(Message::Close(done)) => closing = Some(done),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if !group.is_empty() {
            commit_group(&conn, &mut group, counters);
        }
        if let Some(done) = closing {
            drop(conn);
            let _ = done.send(());
            return;
        }
    }
    drop(conn);
}

/// Runs a transaction-control statement (`BEGIN IMMEDIATE`, `SAVEPOINT`, `RELEASE`,
/// `ROLLBACK TO`, `COMMIT`) from the connection's statement cache: prepared once, not parsed
/// again for every request of every group.
fn control(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.execute([]).map(drop)
}

/// Runs `group` in one transaction (or more, if SQLite rolls one back midway) and answers every
/// request once its transaction has committed or failed. Leaves `group` empty.
fn commit_group(conn: &Connection, group: &mut Vec<Box<dyn Job>>, counters: &Counters) {
    // Requests run but not yet committed.
    let mut pending: Vec<Box<dyn Job>> = Vec::with_capacity(group.len());
    let mut open = false;
    for mut job in group.drain(..) {
        if !open {
            if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
                job.answer(Some(failure(&e)));
                continue;
            }
            open = true;
        }
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = control(conn, "SAVEPOINT request") {
            job.answer(Some(failure(&e)));
            continue;
        }
        let keep = job.run(conn);
        let ended = if keep {
            control(conn, "RELEASE request")
        } else {
            control(conn, "ROLLBACK TO request").and_then(|()| control(conn, "RELEASE request"))
        };
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (or it could not be continued): what
            // ran before in it is lost.
            let e = ended
                .err()
                .unwrap_or_else(|| error("the transaction was rolled back"));
            for lost in pending.drain(..) {
                lost.answer(Some(failure(&e)));
            }
            job.answer(Some(failure(&e)));
            open = false;
            continue;
        }
        if let Err(e) = ended {
            job.answer(Some(failure(&e)));
            continue;
        }
        pending.push(job);
    }
    if !open {
        return;
    }
    match control(conn, "COMMIT") {
        Ok(()) => {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            for job in pending {
                job.answer(None);
            }
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            for job in pending {
                job.answer(Some(failure(&e)));
            }
        }
    }
}
