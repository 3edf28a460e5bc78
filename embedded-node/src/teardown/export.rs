//! What teardown hands over in files, and the media it finishes, cancels and wipes.
//!
//! Owns: writing into the operator's export folder durably (a temporary name, fsync,
//! rename, fsync of the folder: a file the booth says is exported is on disk), the
//! orders the upstream does not have, the uploads and clips it does not have, and
//! removing media at the wipe.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::Scope;
use super::{count, StepOutcome};
use boothcloud_core::uplink::Mode;

/// How often teardown looks whether uploads, clips and orders are done.
const POLL: Duration = Duration::from_millis(200);

/// Checks that `dir` takes a file.
pub fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".boothcloud-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Writes `bytes` to `path` so that, once this returns, the file is whole on disk.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent folder"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir
        .join(format!(".{}.partial", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Copies `from` to `to` durably (the same way).
fn copy_durably(from: &Path, to: &Path) -> std::io::Result<u64> {
    let dir = to.parent().ok_or_else(|| std::io::Error::other("no parent folder"))?;
    std::fs::create_dir_all(dir)?;
    let tmp =
        dir.join(format!(".{}.partial", to.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    let n = std::fs::copy(from, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, to)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(n)
}

/// Waits (up to `wait`, or until the node stops) for `done`.
async fn wait_for<F, Fut>(scope: &Scope, wait: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline || *scope.stopping.borrow() {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

#[derive(Serialize)]
struct MediaItem {
    kind: &'static str,
    id: String,
    file: String,
    filename: Option<String>,
    bytes: u64,
}

/// Lets uploads in progress and clips being made finish (up to `wait`), sends what it
/// can upstream, then cancels the rest and copies every finished upload and clip the
/// upstream does not have into `<export>/media/`. Blocks without a folder when there is
/// something to keep.
pub async fn media(
    scope: &Scope,
    wait: Duration,
    export_dir: Option<&Path>,
) -> Result<StepOutcome, String> {
    let media = &scope.media;
    media.forwarder.set_paused(false);
    let forwarding = media.limits().forward;
    let settled = wait_for(scope, wait, || async {
        let Ok(summary) = media.summary().await else { return false };
        let link_down = matches!(scope.uplink.mode(), Mode::Offline | Mode::Local);
        summary.open_uploads == 0
            && summary.transcodes.queued == 0
            && summary.transcodes.running == 0
            && (!forwarding || link_down || summary.forwarding.pending == 0)
    })
    .await;
    let mut cancelled: u64 = 0;
    let busy = media.transcoder.unfinished().await.map_err(|e| e.to_string())?;
    for id in busy {
        if media.transcoder.cancel(&id).await.is_ok() {
            cancelled += 1;
        }
    }
    let far = scope
        .clock
        .now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 365))
        .unwrap_or(scope.clock.now());
    let dropped = media.uploads.sweep(far).await.map_err(|e| e.to_string())?;
    let keep = media.unsent().await.map_err(|e| e.to_string())?;
    let mut words = vec![if settled {
        "uploads and clips finished".to_owned()
    } else {
        format!("waited {} s", wait.as_secs())
    }];
    if cancelled > 0 {
        words.push(format!("{} cancelled", count(cancelled, "clip")));
    }
    if dropped > 0 {
        words.push(format!("{} dropped", count(dropped, "unfinished upload")));
    }
    if keep.is_empty() {
        words.push("nothing left to send".into());
        return Ok(StepOutcome::Done(words.join("; ")));
    }
    let Some(export) = export_dir else {
        return Ok(StepOutcome::Blocked(format!(
            "{} (uploads and clips) not upstream; choose an export folder and run teardown again",
            count(keep.len() as u64, "file")
        )));
    };
    let folder = export.join("media");
    let mut items = Vec::with_capacity(keep.len());
    for crate::media::Unsent { kind, id, path: from, filename } in keep {
        let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_owned();
        let file = format!("{kind}s/{id}-{name}");
        let bytes = copy_durably(&from, &folder.join(&file))
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
        items.push(MediaItem { kind, id, file, filename, bytes });
    }
    let index = serde_json::to_vec_pretty(&items).map_err(|e| e.to_string())?;
    write_durably(&folder.join("media.json"), &index).map_err(|e| e.to_string())?;
    words.push(format!(
        "{} (uploads and clips) copied to {}",
        count(items.len() as u64, "file"),
        folder.display()
    ));
    Ok(StepOutcome::Done(words.join("; ")))
}

/// Syncs every order (waiting up to `wait` while the link is up), then exports those
/// the upstream still does not have — contact details included, as staff need them to
/// hand the orders over — and marks them exported once the file is on disk.
pub async fn orders(
    scope: &Scope,
    wait: Duration,
    event: &str,
    export_dir: Option<&Path>,
) -> Result<StepOutcome, String> {
    let orders = &scope.orders;
    orders.make_all_due().await.map_err(|e| e.to_string())?;
    orders.arrivals().notify_one();
    wait_for(scope, wait, || async {
        let link_down = matches!(scope.uplink.mode(), Mode::Offline | Mode::Local);
        let waiting = orders.counts().await.map(|c| c.captured + c.syncing).unwrap_or(1);
        waiting == 0 || link_down
    })
    .await;
    let counts = orders.counts().await.map_err(|e| e.to_string())?;
    let left = orders.not_synced().await.map_err(|e| e.to_string())?;
    if left.is_empty() {
        return Ok(StepOutcome::Done(format!("all {} orders are synced upstream", counts.synced)));
    }
    let Some(export) = export_dir else {
        return Ok(StepOutcome::Blocked(format!(
            "{} {} not upstream ({}); choose an export folder and run teardown again",
            super::count(left.len() as u64, "order"),
            if left.len() == 1 { "is" } else { "are" },
            why_not(scope.uplink.mode())
        )));
    };
    let file = export.join(format!("{event}-orders-not-synced.json"));
    let body = serde_json::to_vec_pretty(&left).map_err(|e| e.to_string())?;
    write_durably(&file, &body).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let ids: Vec<String> = left.iter().map(|o| o.order_id.clone()).collect();
    orders.mark_exported(&ids, scope.clock.now()).await.map_err(|e| e.to_string())?;
    Ok(StepOutcome::Done(format!(
        "{} orders synced upstream; {} exported to {}",
        counts.synced,
        left.len(),
        file.display()
    )))
}

fn why_not(mode: Mode) -> &'static str {
    match mode {
        Mode::Local => "no hub is set in the manifest",
        Mode::Offline => "the uplink is down",
        Mode::Online | Mode::Relay => "the hub has not taken them yet",
    }
}
