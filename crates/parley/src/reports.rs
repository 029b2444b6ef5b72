//! `parley reports rebuild`: the reports' rollups written again from the events.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use parley_server::clock::Clock;
use parley_server::workers::report_follower;
use parley_store::Store;

/// Rolls up every finished chat from its events, with a progress bar unless `quiet`.
pub(crate) async fn rebuild(store: &Store, quiet: bool) -> anyhow::Result<()> {
    let (finished, _) = store.rollup_progress().await?;
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(u64::try_from(finished).unwrap_or(0)) };
    bar.set_style(
        ProgressStyle::with_template("rolling up {bar:40} {pos}/{len} chats {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let done = report_follower::rebuild(store, &Clock::System, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    eprintln!("rolled up {done} finished chats for the reports in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
