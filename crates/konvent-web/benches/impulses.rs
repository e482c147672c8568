//! Impulses arriving across the tables of a running World Café round, through the same
//! group commit the live hub uses (each impulse committed with its live entry before it
//! is published and acknowledged), on SQLite and — with `KONVENT_BENCH_DATABASE_URL`
//! (an admin URL; a fresh database is created and dropped) — on PostgreSQL. Open loop:
//! impulses are due at fixed times and their latency counts from when they were due.
//! Then the time to group 10,000 impulses of one topic.
//!
//! `cargo bench -p konvent-web --bench impulses [-- --seconds 5 --rates 1000,5000,10000]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use konvent_core::demo;
use konvent_core::ids::TableId;
use konvent_core::strategy::RoundStatus;
use konvent_core::strategy::demo as strategy_demo;
use konvent_core::strategy::grouping::group;
use konvent_store::{NewImpulse, NewTable, Store, Who};
use konvent_web::{AppState, Settings};

struct Args {
    seconds: u64,
    rates: Vec<u64>,
}

fn args() -> Args {
    let mut out = Args {
        seconds: 5,
        rates: vec![1000, 2000, 5000, 10_000, 20_000],
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "--seconds" => {
                out.seconds = argv.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(5);
                i += 1;
            }
            "--rates" => {
                out.rates = argv
                    .get(i + 1)
                    .map(|s| s.split(',').filter_map(|r| r.parse().ok()).collect())
                    .unwrap_or_default();
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A running round with one table per demo topic and room for everybody.
async fn running_round(store: &Store) -> (Vec<TableId>, Vec<Who>) {
    let event = store.event(demo::KONVENT_SLUG).await.expect("event");
    let topics = store.topics().await.expect("topics");
    let number = store.rounds(event.id).await.expect("rounds").len() as i64 + 1;
    let tables: Vec<NewTable> = topics
        .iter()
        .map(|t| NewTable {
            topic_id: t.id,
            moderator_id: None,
            capacity: 100_000,
        })
        .collect();
    let round = store
        .create_round(event.id, number, 55, &tables)
        .await
        .expect("round");
    let accounts = store.accounts().await.expect("accounts");
    let people: Vec<Who> = accounts
        .iter()
        .map(|a| Who::new(a.id, a.display_name.clone()))
        .collect();
    store
        .set_round(event.id, round, &people[0], RoundStatus::Running)
        .await
        .expect("start");
    let tables = store
        .rounds(event.id)
        .await
        .expect("rounds")
        .into_iter()
        .find(|r| r.id == round)
        .expect("round")
        .tables
        .iter()
        .map(|t| t.id)
        .collect();
    (tables, people)
}

async fn measure(state: &AppState, label: &str, seconds: u64, rates: &[u64]) {
    let (tables, people) = running_round(&state.store).await;
    let texts: Vec<String> = strategy_demo::topics()
        .expect("demo")
        .into_iter()
        .flat_map(|t| t.impulses.into_iter().flatten())
        .collect();
    println!("\n{label}: impulses through the group commit, {seconds} s per rate");
    println!(
        "{:>8} {:>10} {:>10} {:>9} {:>9} {:>9} {:>6}",
        "offered", "committed", "per s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for &rate in rates {
        let total = rate * seconds;
        let hist = Arc::new(Mutex::new(
            Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
        ));
        let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let start = Instant::now() + Duration::from_millis(50);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..total {
            let due = start + Duration::from_nanos(i * 1_000_000_000 / rate);
            tokio::time::sleep_until(due.into()).await;
            let state = state.clone();
            let hist = hist.clone();
            let errors = errors.clone();
            let item = NewImpulse {
                table_id: tables[i as usize % tables.len()],
                author: people[i as usize % people.len()].clone(),
                text: texts[i as usize % texts.len()].clone(),
                client_id: Some(format!("bench-{rate}-{i}")),
            };
            tasks.spawn(async move {
                let result = state.live.impulses.post(item).await;
                let micros = due.elapsed().as_micros() as u64;
                match result {
                    Ok(_) => {
                        let _ = hist
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .record(micros.max(1));
                    }
                    Err(_) => {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let elapsed = start.elapsed().as_secs_f64();
        let h = hist.lock().unwrap_or_else(|e| e.into_inner());
        println!(
            "{:>8} {:>10} {:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>6}",
            rate,
            h.len(),
            h.len() as f64 / elapsed,
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            errors.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

fn grouping() {
    let base: Vec<String> = strategy_demo::topics()
        .expect("demo")
        .into_iter()
        .flat_map(|t| t.impulses.into_iter().flatten())
        .collect();
    let openers = [
        "",
        "Aus kommunaler Sicht: ",
        "Wichtig für die Länder: ",
        "Aus Sicht des Bundes: ",
        "Ergänzend dazu: ",
        "Praxisbeispiel: ",
        "Aus dem Datenschutz: ",
        "Für kleine Verwaltungen: ",
        "Mittelfristig: ",
        "Kurzfristig: ",
        "Aus der Fachverwaltung: ",
        "Aus Bürgersicht: ",
        "Aus der Personalvertretung: ",
        "Aus dem Haushalt: ",
        "Aus der IT-Leitung: ",
        "Aus dem Normenkontrollrat: ",
        "Für die Umsetzung: ",
        "Als Frage: ",
        "Aus Erfahrung: ",
        "Aus dem Rechenzentrum: ",
        "Dringend: ",
        "Aus der Wissenschaft: ",
        "Aus der Zivilgesellschaft: ",
        "Aus Sicht der Länderverwaltung: ",
        "Für die nächste Fassung: ",
        "Aus dem Projektteam: ",
        "Aus den Fachministerkonferenzen: ",
        "Aus der Kreisverwaltung: ",
        "Aus einer Großstadt: ",
        "Aus dem ländlichen Raum: ",
        "Zur Finanzierung: ",
        "Zur Priorisierung: ",
        "Zum Zeitplan: ",
        "Zum Abschluss: ",
    ];
    let texts: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                "{}{}",
                openers[i / base.len() % openers.len()],
                base[i % base.len()]
            )
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut times = Vec::new();
    let mut first = None;
    for _ in 0..5 {
        let t = Instant::now();
        let (groups, _) = group(&refs);
        times.push(t.elapsed());
        let shape: Vec<usize> = groups.iter().map(|g| g.members.len()).collect();
        match &first {
            None => first = Some(shape),
            Some(f) => assert_eq!(f, &shape, "the same groups on every run"),
        }
    }
    times.sort();
    let groups = first.map(|f| (f.len(), f.iter().filter(|n| **n > 1).count()));
    println!(
        "\ngrouping 10,000 impulses of one topic: median {:.0} ms, fastest {:.0} ms, slowest {:.0} ms (5 runs; {:?} groups, of them with more than one impulse)",
        times[2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[4].as_secs_f64() * 1000.0,
        groups
    );
}

async fn admin_connection(url: &str) -> Result<sqlx::AnyConnection, sqlx::Error> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let dir = std::env::temp_dir().join(format!("konvent-bench-{}", konvent_store::new_token()));
    let store = Store::open_data_dir(&dir).await.expect("sqlite");
    konvent_store::demo::load(&store, 21).await.expect("demo");
    let state = AppState::new(store.clone(), Settings::default());
    measure(&state, "SQLite", args.seconds, &args.rates).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    match std::env::var("KONVENT_BENCH_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("konvent_bench_{}", &konvent_store::new_token()[..16]);
            let mut conn = admin_connection(&admin_url).await.expect("PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
            let store = Store::connect(&format!("{base}/{name}"))
                .await
                .expect("postgres");
            konvent_store::demo::load(&store, 21).await.expect("demo");
            let state = AppState::new(store.clone(), Settings::default());
            measure(&state, "PostgreSQL", args.seconds, &args.rates).await;
            store.close().await;
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
        _ => println!("\nPostgreSQL skipped: KONVENT_BENCH_DATABASE_URL is not set."),
    }
    grouping();
}
