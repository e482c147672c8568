//! Several `konvent serve` nodes share one event over one PostgreSQL database and a NATS
//! bus (issue 16): real processes on 127.0.0.1, each test with a database and a
//! nats-server of its own. Whatever happens to a node or to NATS, every client receives
//! every entry after it connected exactly once, in order, and nothing acknowledged is
//! lost. Without PostgreSQL or nats-server the tests print "skipped: …" (in CI they
//! fail instead).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use common::client::{Client, Seen};
use common::{Cluster, konvent};
use serde_json::{Value, json};

/// Clients per test, spread round-robin over the nodes.
const CLIENTS: usize = 30;

/// Connects `tokens.len()` clients, client `i` to node `i % nodes` first; a client whose
/// node is gone goes on to the next one, as behind a load balancer.
async fn clients(cluster: &Cluster, tokens: Vec<String>) -> Vec<Client> {
    let ports = cluster.ports();
    let mut clients = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let mut ring = ports.clone();
        ring.rotate_left(i % ports.len());
        clients.push(Client::connect(format!("client {i}"), ring, token).await);
    }
    clients
}

fn chat(client: usize, line: usize) -> Value {
    let id = format!("c{client}-chat{line}");
    json!({ "t": "chat", "id": id, "text": format!("Zeile {id}") })
}

fn hand(client: usize, up: bool) -> Value {
    json!({ "t": "hand", "id": format!("c{client}-hand-{up}"), "up": up })
}

fn pin(client: usize) -> Value {
    let id = format!("c{client}-pin");
    json!({ "t": "pin", "id": id, "text": format!("Pinnwand {id}"), "topic": null })
}

/// `rounds` rounds in which every client in `writers` sends one chat line, `pause` apart;
/// `after(round)` runs right after a round is sent, while its lines are still on their
/// way (to kill something mid-burst). Returns the number of commands sent.
async fn chat_burst<F: AsyncFnMut(usize)>(
    clients: &[Client],
    writers: impl Iterator<Item = usize> + Clone,
    rounds: usize,
    pause: Duration,
    mut after: F,
) -> usize {
    let mut sent = 0;
    for round in 0..rounds {
        for w in writers.clone() {
            clients[w].send(chat(w, round));
            sent += 1;
        }
        after(round).await;
        tokio::time::sleep(pause).await;
    }
    sent
}

/// Waits (up to `heal`) until every command is answered and every client has reached the
/// log's last entry, then checks each client: the entries after its first `hello`, each
/// once, in order, with no hole; every acknowledged chat line among them with its text;
/// `sent` commands acknowledged in all, none refused.
async fn assert_everybody_received_everything(
    cluster: &Cluster,
    clients: &[Client],
    sent: usize,
    heal: Duration,
) {
    let deadline = Instant::now() + heal;
    while clients.iter().any(|c| c.seen().pending > 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = cluster.db.last_seq().await;
    while clients.iter().any(|c| c.seen().last() < Some(last)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment for anything that should not come (a duplicate after the last entry).
    tokio::time::sleep(Duration::from_millis(300)).await;

    let seen: Vec<(String, Seen)> = clients.iter().map(|c| (c.name.clone(), c.seen())).collect();
    let mut acked: HashMap<String, i64> = HashMap::new();
    for (_, s) in &seen {
        acked.extend(s.acked.iter().map(|(id, seq)| (id.clone(), *seq)));
    }
    let mut problems = Vec::new();
    if acked.len() != sent {
        problems.push(format!("{} of {sent} commands acknowledged", acked.len()));
    }
    let distinct: BTreeSet<i64> = acked.values().copied().collect();
    if distinct.len() != acked.len() {
        problems.push("two commands acknowledged with the same seq".to_owned());
    }
    for (name, s) in &seen {
        problems.extend(client_problems(name, s, last, &acked));
    }
    eprintln!(
        "{} clients on {} nodes, {sent} commands, log up to seq {last}: {} problems",
        clients.len(),
        cluster.nodes.len(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "log ends at seq {last}; {} problems:\n{}\n\n{}",
        problems.len(),
        problems.join("\n"),
        cluster.logs()
    );
}

/// The first few of a long list, for a failure message that stays readable.
fn some<T: std::fmt::Debug>(items: &[T]) -> String {
    match items.len() {
        0..=12 => format!("{items:?}"),
        n => format!("{:?} … ({} more)", &items[..12], n - 12),
    }
}

/// What is wrong with what one client received: holes, repeats, disorder, missing lines.
fn client_problems(name: &str, s: &Seen, last: i64, acked: &HashMap<String, i64>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(start) = s.start else {
        return vec![format!("{name}: no hello")];
    };
    let nodes = &s.nodes;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for seq in &s.seqs {
        *counts.entry(*seq).or_default() += 1;
    }
    let twice: Vec<i64> = BTreeSet::from_iter(s.seqs.iter().copied().filter(|q| counts[q] > 1))
        .into_iter()
        .collect();
    if !twice.is_empty() {
        problems.push(format!(
            "{name} (nodes {nodes:?}): received twice: {}",
            some(&twice)
        ));
    }
    let missing: Vec<i64> = (start + 1..=last)
        .filter(|q| !counts.contains_key(q))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{name} (nodes {nodes:?}): missing {} of {}: {}",
            missing.len(),
            last - start,
            some(&missing)
        ));
    }
    let beyond: Vec<i64> = s
        .seqs
        .iter()
        .copied()
        .filter(|q| *q <= start || *q > last)
        .collect();
    if !beyond.is_empty() {
        problems.push(format!(
            "{name}: entries outside {start}..={last}: {beyond:?}"
        ));
    }
    if let Some(w) = s.seqs.windows(2).find(|w| w[0] >= w[1]) {
        problems.push(format!("{name}: out of order: {} before {}", w[0], w[1]));
    }
    let wrong: Vec<String> = acked
        .iter()
        .filter(|(id, seq)| {
            let line = s.lines.get(seq);
            id.contains("-chat") && line.is_none_or(|l| !l.ends_with(id.as_str()))
        })
        .map(|(id, seq)| format!("{id}@{seq}"))
        .collect();
    if !wrong.is_empty() {
        problems.push(format!(
            "{name}: {} acknowledged lines not received as sent: {}",
            wrong.len(),
            some(&wrong)
        ));
    }
    if !s.refused.is_empty() {
        problems.push(format!("{name}: refused or closed: {:?}", s.refused));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_every_entry_to_every_client_once_and_in_order() {
    let test = "three_nodes_deliver_every_entry_to_every_client_once_and_in_order";
    let Some(cluster) = Cluster::start(test, 3, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(CLIENTS)).await;

    let mut sent = chat_burst(
        &clients,
        0..CLIENTS,
        2,
        Duration::from_millis(20),
        async |_| {},
    )
    .await;
    // Ten people raise their hands while others talk, three pin notes, the hands go down.
    let mut send = |c: usize, command: Value| {
        clients[c].send(command);
        sent += 1;
    };
    for c in 0..10 {
        send(c, hand(c, true));
        send(3 * c + 1, chat(3 * c + 1, 2));
    }
    for c in [2, 12, 22] {
        send(c, pin(c));
    }
    for c in 0..10 {
        send(c, hand(c, false));
    }

    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_burst_loses_nothing_and_its_clients_resume_on_another() {
    let test = "a_node_killed_mid_burst_loses_nothing_and_its_clients_resume_on_another";
    let Some(mut cluster) = Cluster::start(test, 3, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(CLIENTS)).await;
    let killed = cluster.nodes[1].port;

    let sent = chat_burst(
        &clients,
        0..CLIENTS,
        10,
        Duration::from_millis(40),
        async |round| {
            if round == 4 {
                cluster.nodes[1].kill();
            }
        },
    )
    .await;

    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(15)).await;
    let resent: usize = clients.iter().map(|c| c.seen().resent).sum();
    assert!(resent > 0, "the kill landed while lines were on their way");
    eprintln!("{resent} commands sent again after the kill");
    for c in clients.iter().skip(1).step_by(3) {
        let nodes = c.seen().nodes;
        assert!(
            nodes.len() >= 2 && nodes.last() != Some(&killed),
            "{} left the killed node {killed}: {nodes:?}",
            c.name
        );
    }
}

/// An update: the node is stopped (SIGTERM), tells its clients to go elsewhere (1012),
/// and exits; they resume on the other nodes and nothing is lost or delivered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_for_an_update_sends_its_clients_to_the_others() {
    let test = "a_node_stopped_for_an_update_sends_its_clients_to_the_others";
    let Some(mut cluster) = Cluster::start(test, 3, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(CLIENTS)).await;
    let stopped = cluster.nodes[1].port;
    let mut clean = None;
    let sent = chat_burst(
        &clients,
        0..CLIENTS,
        10,
        Duration::from_millis(40),
        async |round| {
            if round == 4 {
                clean = Some(cluster.nodes[1].stop().await);
            }
        },
    )
    .await;
    assert_eq!(clean, Some(true), "the node drained and exited cleanly");
    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(15)).await;
    for c in clients.iter().skip(1).step_by(3) {
        let nodes = c.seen().nodes;
        assert!(
            nodes.len() >= 2 && nodes.last() != Some(&stopped),
            "{} left the stopped node {stopped}: {nodes:?}",
            c.name
        );
        assert!(
            c.seen().refused.is_empty(),
            "{}: {:?}",
            c.name,
            c.seen().refused
        );
    }
}

/// Found by this suite (issue 16): the survivors still count the killed node's people
/// until its heartbeats are missed. They counted as newcomers and were refused with
/// `full` (and outside the room got none of its entries); now presence names people, and
/// a person already counted elsewhere is no newcomer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_room_takes_back_the_clients_of_a_killed_node() {
    let test = "a_full_room_takes_back_the_clients_of_a_killed_node";
    let Some(mut cluster) = Cluster::start(test, 3, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions_in_room_of(CLIENTS, CLIENTS)).await;

    let sent = chat_burst(
        &clients,
        0..CLIENTS,
        10,
        Duration::from_millis(40),
        async |round| {
            if round == 4 {
                cluster.nodes[1].kill();
            }
        },
    )
    .await;

    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(15)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_heal_after_nats_restarts_mid_burst() {
    let test = "nodes_heal_after_nats_restarts_mid_burst";
    let Some(mut cluster) = Cluster::start(test, 3, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(CLIENTS)).await;

    let nats = &mut cluster.nats;
    let sent = chat_burst(
        &clients,
        0..CLIENTS,
        12,
        Duration::from_millis(60),
        async |round| match round {
            3 => nats.kill(),
            8 => nats.restart().await,
            _ => {}
        },
    )
    .await;

    // Healing may wait for a reconnect (nats.rs backs off) and a poll of the log.
    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(15)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_a_node_did_not_publish_reach_the_other_nodes_from_the_database() {
    let test = "entries_a_node_did_not_publish_reach_the_other_nodes_from_the_database";
    let drop_every_third = |i: usize| match i {
        0 => vec![("KONVENT_TEST_DROP_PUBLISH".to_owned(), "3".to_owned())],
        _ => Vec::new(),
    };
    let Some(cluster) = Cluster::start(test, 3, drop_every_third).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(CLIENTS)).await;

    // Only the clients of node 0 write, so every third entry reaches the others from the
    // database alone, the last one included (30 entries), which no later entry reveals.
    let writers = (0..CLIENTS).step_by(3);
    let sent = chat_burst(
        &clients,
        writers,
        3,
        Duration::from_millis(30),
        async |_| {},
    )
    .await;
    assert_eq!(sent % 3, 0, "the last entry is one that is not published");

    assert_everybody_received_everything(&cluster, &clients, sent, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_on_the_map_of_different_nodes_see_each_other() {
    let test = "people_on_the_map_of_different_nodes_see_each_other";
    let Some(cluster) = Cluster::start(test, 2, |_| Vec::new()).await else {
        return;
    };
    let clients = clients(&cluster, cluster.sessions(2)).await;

    // Both step onto the map at the entrance, one on each node: in one cell, in view.
    for c in &clients {
        c.send(json!({ "t": "enter_map" }));
    }

    let deadline = Instant::now() + Duration::from_secs(5);
    let sees = |a: &Client, b: &Client| a.seen().avatars.contains(&b.seen().name);
    while !(sees(&clients[0], &clients[1]) && sees(&clients[1], &clients[0]))
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (a, b) in [(&clients[0], &clients[1]), (&clients[1], &clients[0])] {
        let seen = a.seen();
        assert!(
            seen.avatars.contains(&b.seen().name),
            "{} ({}, nodes {:?}) sees {} on the map; it saw {:?}\n{}",
            a.name,
            seen.name,
            seen.nodes,
            b.seen().name,
            seen.avatars,
            cluster.logs()
        );
    }
}

#[test]
fn nats_without_postgresql_is_refused_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("konvent-mn-refused-{}", std::process::id()));
    let mut child = konvent()
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .arg("--data")
        .arg(&dir)
        // Nobody listens there: the refusal must not depend on reaching NATS.
        .env(
            "NATS_URL",
            format!("nats://127.0.0.1:{}", common::free_port()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("konvent serve starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("konvent serve with NATS_URL and the embedded database kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!status.success(), "refused with a failure status: {stderr}");
    assert!(
        stderr.contains("PostgreSQL"),
        "the message names PostgreSQL: {stderr}"
    );
}

#[tokio::test]
async fn signing_out_through_one_node_closes_the_sockets_on_the_others() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let test = "signing_out_through_one_node_closes_the_sockets_on_the_others";
    let Some(cluster) = Cluster::start(test, 2, |_| Vec::new()).await else {
        return;
    };
    let token = cluster.sessions(1).remove(0);
    let [first, second] = [cluster.nodes[0].port, cluster.nodes[1].port];
    let mut request = format!("ws://127.0.0.1:{second}/konvent/{}/live", common::EVENT)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "cookie",
        format!("konvent_session={token}").parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a socket on the second node");

    let signed_out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("http://127.0.0.1:{first}/abmelden"))
        .header(
            "cookie",
            format!("konvent_csrf={CSRF}; konvent_session={token}"),
        )
        .form(&[("csrf", CSRF)])
        .send()
        .await
        .expect("sign out on the first node");
    assert_eq!(signed_out.status(), 303);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(u16::from(frame.code), 4001, "{frame:?}");
                break;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!(
                "the socket on the other node was not closed as signed out: {other:?}\n{}",
                cluster.logs()
            ),
        }
    }
}

/// A session cookie of the demo account `email`, signed in through `port` with a link
/// from `konvent admin sign-in-link`.
async fn signed_in(cluster: &Cluster, port: u16, email: &str) -> String {
    const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let out = konvent()
        .args(["admin", "sign-in-link", email, "--data"])
        .arg(std::env::temp_dir().join(format!("konvent-mn-link-{}", std::process::id())))
        .env("DATABASE_URL", &cluster.db.url)
        .output()
        .expect("konvent admin runs");
    assert!(
        out.status.success(),
        "sign-in-link: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let path = &link[link.find("/anmelden/link/").expect("a sign-in link")..];
    let signed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("http://127.0.0.1:{port}{path}"))
        .header("cookie", format!("konvent_csrf={CSRF}"))
        .form(&[("csrf", CSRF)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed.status(), 303, "{email} signed in");
    signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find_map(|c| c.strip_prefix("konvent_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .expect("a session cookie")
}

#[tokio::test]
async fn a_ballot_cast_through_one_node_reaches_the_vote_viewers_on_the_others() {
    use futures_util::StreamExt;
    use konvent_core::demo::seat_member;
    use konvent_core::gremien::majority::Seat;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let test = "a_ballot_cast_through_one_node_reaches_the_vote_viewers_on_the_others";
    let Some(cluster) = Cluster::start(test, 2, |_| Vec::new()).await else {
        return;
    };
    let [first, second] = [cluster.nodes[0].port, cluster.nodes[1].port];
    let viewer = signed_in(&cluster, second, &seat_member(Seat::Be).0).await;
    let voter = signed_in(&cluster, first, &seat_member(Seat::By).0).await;

    // A member watches the written procedures on the second node; the demo's running
    // procedure arrives first, as it stands.
    let mut request = format!("ws://127.0.0.1:{second}/gremien/umlaufverfahren/live")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "cookie",
        format!("konvent_session={viewer}").parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a vote socket on the second node");
    let next_frame = async |socket: &mut _| -> Value {
        let socket: &mut tokio_tungstenite::WebSocketStream<_> = socket;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return serde_json::from_str(&text).expect("a JSON frame");
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("no vote frame: {other:?}\n{}", cluster.logs()),
            }
        }
    };
    let first_frame = next_frame(&mut socket).await;
    assert_eq!(first_frame["t"], "vote", "{first_frame}");
    let id = first_frame["id"].as_i64().expect("the vote's id");
    let version = first_frame["version"].as_i64().expect("its version");
    assert!(
        !first_frame["html"]
            .as_str()
            .unwrap_or_default()
            .contains("Mitglied Bayern"),
        "Bayern has not voted yet: {first_frame}"
    );

    // Bayern votes through the first node.
    let cast = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!(
            "http://127.0.0.1:{first}/gremien/abstimmungen/{id}/stimme"
        ))
        .header(
            "cookie",
            format!("konvent_csrf={CSRF}; konvent_session={voter}"),
        )
        .form(&[("csrf", CSRF), ("ballot", "yes")])
        .send()
        .await
        .expect("a ballot through the first node");
    assert_eq!(cast.status(), 303, "the ballot was taken");

    let frame = next_frame(&mut socket).await;
    assert_eq!(frame["id"].as_i64(), Some(id), "{frame}");
    assert!(
        frame["version"].as_i64() > Some(version),
        "a newer version: {frame}"
    );
    let html = frame["html"].as_str().unwrap_or_default();
    assert!(
        html.contains("Mitglied Bayern"),
        "the new ballot is shown: {html}"
    );
}

#[tokio::test]
async fn a_room_created_through_one_node_opens_on_the_others_at_once() {
    const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let test = "a_room_created_through_one_node_opens_on_the_others_at_once";
    let Some(cluster) = Cluster::start(test, 2, |_| Vec::new()).await else {
        return;
    };
    let [first, second] = [cluster.nodes[0].port, cluster.nodes[1].port];
    let admin = signed_in(&cluster, first, konvent_core::demo::ADMIN_EMAIL).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let room_on_second = async || {
        http.get(format!(
            "http://127.0.0.1:{second}/konvent/{}/raeume/nachgereicht",
            common::EVENT
        ))
        .header("cookie", format!("konvent_session={admin}"))
        .send()
        .await
        .expect("the room page on the second node")
        .status()
    };

    // The second node reads the event's rooms (and keeps them) before the room exists.
    assert_eq!(room_on_second().await, 404, "no such room yet");
    let asked = Instant::now();

    let created = http
        .post(format!(
            "http://127.0.0.1:{first}/konvent/{}/raeume",
            common::EVENT
        ))
        .header(
            "cookie",
            format!("konvent_csrf={CSRF}; konvent_session={admin}"),
        )
        .form(&[
            ("csrf", CSRF),
            ("slug", "nachgereicht"),
            ("name", "Nachgereichter Raum"),
            ("kind", "other"),
            ("capacity", "40"),
        ])
        .send()
        .await
        .expect("a room created through the first node");
    assert_eq!(created.status(), 303, "the room was created");

    // The first node tells the second over the bus, well before the second's copy of the
    // rooms would grow stale on its own (after five seconds): it opens within three.
    let status = answer_within(asked, 200, room_on_second).await;
    assert_eq!(
        status,
        200,
        "the new room is still {status} on the second node\n{}",
        cluster.logs()
    );
}

/// Asks `page` until it answers `wanted`, for at most three seconds after `asked`: less
/// than the five seconds after which a node reads what it keeps anew on its own, so only
/// the bus's notice can make it answer in time. Returns the last answer.
async fn answer_within(
    asked: Instant,
    wanted: u16,
    page: impl AsyncFn() -> reqwest::StatusCode,
) -> reqwest::StatusCode {
    let deadline = asked + Duration::from_secs(3);
    loop {
        let status = page().await;
        if status == wanted || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_account_disabled_through_one_node_is_signed_out_on_the_others_at_once() {
    const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let test = "an_account_disabled_through_one_node_is_signed_out_on_the_others_at_once";
    let Some(cluster) = Cluster::start(test, 2, |_| Vec::new()).await else {
        return;
    };
    let [first, second] = [cluster.nodes[0].port, cluster.nodes[1].port];
    let email = konvent_core::strategy::demo::participant_email(
        konvent_core::strategy::demo::PARTICIPANTS[0],
    );
    let admin = signed_in(&cluster, first, konvent_core::demo::ADMIN_EMAIL).await;
    let participant = signed_in(&cluster, second, &email).await;
    let store = konvent_store::Store::connect(&cluster.db.url)
        .await
        .expect("the cluster's database");
    let account = store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == email)
        .expect("the participant's account")
        .id;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let results_on_second = async || {
        http.get(format!("http://127.0.0.1:{second}/meine-ergebnisse"))
            .header("cookie", format!("konvent_session={participant}"))
            .send()
            .await
            .expect("a page on the second node")
            .status()
    };

    // The second node reads the session (and keeps it) while the account is enabled.
    assert_eq!(results_on_second().await, 200, "signed in");
    let asked = Instant::now();

    let disabled = http
        .post(format!(
            "http://127.0.0.1:{first}/admin/konten/{account}/sperren"
        ))
        .header(
            "cookie",
            format!("konvent_csrf={CSRF}; konvent_session={admin}"),
        )
        .form(&[("csrf", CSRF), ("gesperrt", "1")])
        .send()
        .await
        .expect("the account disabled through the first node");
    assert_eq!(disabled.status(), 303, "the account was disabled");

    // The first node tells the second over the bus, well before the second's copy of the
    // session would grow stale on its own (after five seconds): it is gone within three.
    let status = answer_within(asked, 303, results_on_second).await;
    assert_eq!(
        status,
        303,
        "the disabled account's session still gets {status} on the second node\n{}",
        cluster.logs()
    );
}
