//! Telling "the database cannot be reached" from every other failure. Callers answer the two
//! differently: an outage is temporary and nobody's fault (HTTP 503 with `Retry-After`, a carrier asked
//! to deliver again, a worker that backs off and tries again), any other error is a bug or bad data.
//! The rule lives here, next to sqlx, so no other crate needs to know sqlx's error types.

use std::error::Error as StdError;

use crate::StoreError;

impl StoreError {
    /// Whether this failure means the database could not be reached (a connection that broke or could
    /// not be made, a pool that timed out waiting for one, a server shutting down or still starting).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Other(e) => is_unavailable(e),
            StoreError::NotFound | StoreError::Conflict(_) => false,
        }
    }
}

/// A database outage, as a value of its own: for a caller that reports an outage it saw to several
/// waiters (anyhow errors cannot be cloned). [`is_unavailable`] recognizes it like the sqlx errors.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the database does not answer")]
pub struct Unavailable;

/// Whether any error in `error`'s chain is a database outage (see [`StoreError::is_unavailable`]).
/// Contexts added on the way up (`.context("storing the batch")`) do not hide it.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(cause_is_unavailable)
}

fn cause_is_unavailable(cause: &(dyn StdError + 'static)) -> bool {
    if cause.is::<Unavailable>() {
        return true;
    }
    if let Some(store) = cause.downcast_ref::<StoreError>() {
        return store.is_unavailable();
    }
    cause.downcast_ref::<sqlx::Error>().is_some_and(sqlx_unavailable)
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code_unavailable(&code)),
        _ => false,
    }
}

/// Database error codes that mean "not now" rather than "not this".
fn code_unavailable(code: &str) -> bool {
    // PostgreSQL SQLSTATEs: class 08 is "connection exception"; 57P01..57P03 are an administrator's or
    // a crash's shutdown and "cannot connect now" (starting up); 53300 is too many connections.
    if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300") {
        return true;
    }
    // SQLite reports its result code as a number; the low byte 5 is SQLITE_BUSY (still locked after the
    // busy timeout), whatever extended code it carries.
    code.parse::<i64>().is_ok_and(|n| n & 0xff == 5)
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn connection_failures_are_outages_and_the_rest_are_not() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable(&anyhow::Error::new(refused)));
        assert!(is_unavailable(&anyhow::Error::new(sqlx::Error::PoolTimedOut)));
        assert!(!is_unavailable(&anyhow::Error::new(sqlx::Error::RowNotFound)));
        assert!(!is_unavailable(&anyhow::anyhow!("a plain bug")));
        assert!(is_unavailable(&anyhow::Error::new(Unavailable).context("storing the input")));
        assert!(!StoreError::NotFound.is_unavailable());
        assert!(!StoreError::Conflict("taken".into()).is_unavailable());
    }

    #[test]
    fn an_outage_is_seen_through_store_errors_and_contexts() {
        // As the engine sees it: a sqlx error inside StoreError::Other, turned into anyhow with `?`,
        // with a context on top.
        let store = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(store.is_unavailable());
        let wrapped: anyhow::Result<()> = Err(anyhow::Error::new(store)).context("committing the batch");
        assert!(is_unavailable(&wrapped.unwrap_err()));
    }

    #[test]
    fn database_codes_of_both_engines() {
        for code in ["08006", "08001", "57P01", "57P03", "53300", "5", "517"] {
            assert!(code_unavailable(code), "{code}");
        }
        for code in ["23505", "40001", "42P01", "19", "2067"] {
            assert!(!code_unavailable(code), "{code}");
        }
    }
}
