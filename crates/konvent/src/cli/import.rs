//! The imports: a venue map drawn in Tiled (with its tilesets) for an event, and the
//! conference directory from CSV or XLSX.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use konvent_core::gremien::transfer::{self, FileKind};
use konvent_store::Actor;
use konvent_web::Settings;

use super::open_store;

pub(super) async fn import_map(
    settings: &Settings,
    event: &str,
    file: &Path,
    tilesets: &[PathBuf],
) -> anyhow::Result<()> {
    let read = |path: &Path| -> anyhow::Result<Vec<u8>> {
        let len = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if len > konvent_core::convention::map::MAX_FILE_BYTES as u64 {
            bail!(
                "{} is larger than the limit of {} bytes",
                path.display(),
                konvent_core::convention::map::MAX_FILE_BYTES
            );
        }
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let bytes = read(file)?;
    let mut sets = std::collections::HashMap::new();
    for path in tilesets {
        sets.insert(name(path), read(path)?);
    }
    let store = open_store(settings).await?;
    let event = store
        .event(event)
        .await
        .with_context(|| format!("there is no event {event:?}"))?;
    let rooms: Vec<konvent_core::convention::map::RoomRef> = store
        .rooms(event.id)
        .await?
        .into_iter()
        .map(|r| konvent_core::convention::map::RoomRef {
            slug: r.slug,
            name: r.name,
            kind: r.kind,
        })
        .collect();
    let map = match konvent_core::convention::map::import_tiled(&name(file), &bytes, &sets, &rooms)
    {
        Ok(map) => map,
        Err(problems) => {
            for p in &problems {
                eprintln!("- {p}");
            }
            bail!(
                "{} refused: {} problems; the event keeps its map",
                file.display(),
                problems.len()
            );
        }
    };
    let json = serde_json::to_string(&map)?;
    store
        .set_venue_map(event.id, None, Some((&map.source, &json)))
        .await?;
    println!(
        "{}: {} × {} tiles, {} areas",
        map.source,
        map.width,
        map.height,
        map.areas.len()
    );
    Ok(())
}

pub(super) async fn import_directory(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() > transfer::MAX_FILE_BYTES {
        bail!("{} is larger than 5 MB", file.display());
    }
    let name = file.to_string_lossy();
    let kind = FileKind::detect(&name, &bytes).context("the file is neither CSV nor XLSX")?;
    let rows = match transfer::parse(kind, &bytes) {
        Ok(rows) => rows,
        Err(report) => bail!("Import abgelehnt, nichts wurde übernommen:\n{report}"),
    };
    let store = open_store(settings).await?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} Zeilen ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = store
        .import_directory(&Actor::system("Import (Kommandozeile)"), &rows, |n| {
            bar.set_position(n as u64)
        })
        .await;
    bar.finish_and_clear();
    match result {
        Ok(s) => {
            println!(
                "Import abgeschlossen: {} Konferenzen angelegt, {} geändert; {} Personen angelegt; \
                 {} Besetzungen angelegt, {} geändert; {} Zeilen ohne Änderung.",
                s.conferences_created,
                s.conferences_updated,
                s.persons_created,
                s.assignments_created,
                s.assignments_updated,
                s.rows_unchanged
            );
            Ok(())
        }
        Err(konvent_store::StoreError::Import(report)) => {
            bail!("Import abgelehnt, nichts wurde übernommen:\n{report}")
        }
        Err(e) => Err(e.into()),
    }
}
