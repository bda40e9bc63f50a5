//! When the audit stops reading a shard, and why: at the end of a closed shard (no next
//! iterator), when Kinesis says the reader has caught up, at the first record that
//! reached the stream after the audit began, after a run of empty pages of an open
//! DynamoDB shard (its only sign of the current end), or at a bound on the pages read.

use std::time::Duration;

use serde::Serialize;

use crate::range::MAX_EMPTY_PAGES;

/// Pages of one shard read at most: 100 million records at 1,000 a page.
pub const MAX_SHARD_PAGES: u32 = 100_000;

/// Why the reading of a shard ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The shard is closed and was read to its last record.
    #[default]
    Closed,
    /// Kinesis answered `MillisBehindLatest` 0: nothing newer is in the shard.
    CaughtUp,
    /// A record reached the stream after the audit began: the window ends there.
    WindowEnd,
    /// An open DynamoDB shard answered empty pages in a row: its current end.
    EmptyPages,
    /// [`MAX_SHARD_PAGES`] were read.
    PageLimit,
}

/// The pages of one shard: their pace, their count, and when to stop.
#[derive(Debug)]
pub struct Pager {
    interval: Duration,
    /// Listed as closed: read to its end, whatever empty pages come first.
    closed: bool,
    pub reads: u32,
    empty: u32,
    pub end: Option<End>,
}

impl Pager {
    pub fn new(interval: Duration, closed: bool) -> Pager {
        Pager { interval, closed, reads: 0, empty: 0, end: None }
    }

    /// Waits for the pace before every page but the first, and counts it.
    pub async fn wait(&mut self) {
        if self.reads > 0 {
            tokio::time::sleep(self.interval).await;
        }
        self.reads += 1;
    }

    /// Whether to ask for another page after one of `records`, given whether there is a
    /// next iterator and whether Kinesis said it has caught up (`None` for DynamoDB
    /// Streams, which does not say). Sets [`Pager::end`] when it stops.
    pub fn go_on(&mut self, records: usize, next: bool, caught_up: Option<bool>) -> bool {
        if self.end.is_some() {
            return false;
        }
        self.empty = if records == 0 { self.empty + 1 } else { 0 };
        let end = if !next {
            Some(End::Closed)
        } else if caught_up == Some(true) {
            Some(End::CaughtUp)
        } else if caught_up.is_none() && !self.closed && self.empty >= MAX_EMPTY_PAGES {
            Some(End::EmptyPages)
        } else if self.reads >= MAX_SHARD_PAGES {
            Some(End::PageLimit)
        } else {
            None
        };
        self.end = end;
        end.is_none()
    }

    /// The window ends at this record.
    pub fn window_end(&mut self) {
        self.end = Some(End::WindowEnd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_the_end_of_a_shard() {
        let mut p = Pager::new(Duration::ZERO, false);
        assert!(p.go_on(5, true, None));
        assert!(!p.go_on(5, false, None));
        assert_eq!(p.end, Some(End::Closed));
        let mut p = Pager::new(Duration::ZERO, false);
        assert!(!p.go_on(5, true, Some(true)), "caught up, even on a page with records");
        assert_eq!(p.end, Some(End::CaughtUp));
        let mut p = Pager::new(Duration::ZERO, false);
        assert!((0..50).all(|_| p.go_on(0, true, Some(false))), "Kinesis behind: empty pages go on");
        let mut p = Pager::new(Duration::ZERO, false);
        assert!((0..MAX_EMPTY_PAGES - 1).all(|_| p.go_on(0, true, None)));
        assert!(!p.go_on(0, true, None), "an open DynamoDB shard at its end");
        assert_eq!(p.end, Some(End::EmptyPages));
        let mut p = Pager::new(Duration::ZERO, true);
        assert!((0..50).all(|_| p.go_on(0, true, None)), "a closed shard is read to its end");
        let mut p = Pager::new(Duration::ZERO, false);
        p.window_end();
        assert!(!p.go_on(5, true, None));
        assert_eq!(p.end, Some(End::WindowEnd));
    }
}
