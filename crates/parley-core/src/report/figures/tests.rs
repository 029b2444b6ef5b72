use super::*;
use crate::chat::{ChatStatus, Origin};
use crate::event::Event;
use crate::message::{Direction, MessageStatus};
use crate::report::facts::{ChatHeader, Step, fold};
use crate::report::range::{GroupBy, zone};

const T0: i64 = 1_764_000_000_000;

fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap()
}

fn queue(id: &str) -> QueueId {
    QueueId::parse(id).unwrap()
}

fn header(id: &str, origin: Origin) -> ChatHeader {
    ChatHeader {
        id: id.to_owned(),
        number: "+15550001000".to_owned(),
        consumer: "+14155550100".to_owned(),
        origin,
        start_type: None,
        status: ChatStatus::Finished,
        opened_at: Timestamp(T0),
    }
}

fn at(seconds: i64, queue_id: Option<&str>, event: Event) -> Step {
    Step { at: Timestamp(T0 + seconds * 1000), queue: queue_id.map(queue), event }
}

fn text(direction: Direction, author: &str, body: &str) -> Event {
    Event::Message {
        message_id: "m".to_owned(),
        direction,
        author: author.to_owned(),
        body: body.to_owned(),
        media: vec![],
        status: MessageStatus::Queued,
    }
}

fn ended(reason: EndReason) -> Event {
    Event::Ended { reason, by: "system".to_owned() }
}

/// Offered to ann (who lets it time out), answered by bob after 70 s, transferred to cy in the queue
/// `billing`, ended by cy.
fn transferred_chat() -> ChatFacts {
    let q = Some("sales");
    let steps = [
        at(0, None, text(Direction::In, "consumer", "hello")),
        at(0, q, Event::Queued { queue: queue("sales") }),
        at(10, q, Event::Offered { agent: agent("ann") }),
        at(40, q, Event::OfferTimedOut { agent: agent("ann") }),
        at(40, q, Event::Offered { agent: agent("bob") }),
        at(70, q, Event::Connected { agent: agent("bob"), auto_answered: false }),
        at(100, q, text(Direction::Out, "agent:bob", "Hi, Bob here")),
        at(
            150,
            q,
            Event::TransferStarted {
                from: agent("bob"),
                to: agent("cy"),
                queue: Some(queue("billing")),
                note: String::new(),
            },
        ),
        at(200, Some("billing"), Event::TransferEnded { from: agent("bob"), to: agent("cy") }),
        at(230, Some("billing"), text(Direction::Out, "agent:cy", "Cy here")),
        at(240, Some("billing"), text(Direction::In, "consumer", &"x".repeat(161))),
        at(400, Some("billing"), ended(EndReason::EndedByAgent)),
    ];
    fold(
        &ChatHeader { start_type: Some(StartType::Manual), ..header("c1", Origin::Inbound) },
        &steps,
        Timestamp(T0 + 999_000),
    )
}

#[test]
fn a_chats_fold_gives_its_waits_agents_and_messages() {
    let chat = transferred_chat();
    assert_eq!(chat.wait_ms(Timestamp(0)), Some(70_000));
    assert_eq!(chat.handle_ms(Timestamp(0)), Some(330_000));
    let ann = chat.part(&agent("ann")).unwrap();
    assert_eq!((ann.offered, ann.answered, ann.missed, ann.handle_ms), (1, 0, 1, 0));
    let bob = chat.part(&agent("bob")).unwrap();
    assert_eq!((bob.offered, bob.answered, bob.transferred_out, bob.handle_ms), (1, 1, 1, 130_000));
    assert_eq!((bob.first_response_ms, bob.messages_sent), (Some(30_000), 1));
    let cy = chat.part(&agent("cy")).unwrap();
    assert_eq!(
        (cy.offered, cy.answered, cy.transferred_in, cy.handle_ms, cy.first_response_ms),
        (1, 1, 1, 200_000, Some(30_000))
    );
    assert_eq!((chat.messages.inbound, chat.messages.inbound_segments), (2, 3));
    assert_eq!((chat.messages.outbound, chat.messages.outbound_segments), (2, 2));
    assert_eq!(chat.visits.len(), 2);
    assert_eq!(chat.visits[1].arrival, Arrival::Transfer);
    assert_eq!(chat.agent, Some(agent("cy")));
}

#[test]
fn queue_figures_count_answers_abandons_timeouts_and_the_service_level() {
    let q = Some("sales");
    let abandoned = fold(
        &header("c2", Origin::Inbound),
        &[at(0, q, Event::Queued { queue: queue("sales") }), at(20, q, ended(EndReason::ConsumerCommand))],
        Timestamp(T0),
    );
    let timed_out = fold(
        &header("c3", Origin::Inbound),
        &[at(0, q, Event::Queued { queue: queue("sales") }), at(600, q, ended(EndReason::QueueTimeout))],
        Timestamp(T0),
    );
    let quick = fold(
        &ChatHeader { start_type: Some(StartType::Auto), ..header("c4", Origin::Inbound) },
        &[
            at(0, q, Event::Queued { queue: queue("sales") }),
            at(5, q, Event::Connected { agent: agent("bob"), auto_answered: true }),
            at(65, q, ended(EndReason::ConsumerCommand)),
        ],
        Timestamp(T0),
    );
    let chats = [transferred_chat(), abandoned, timed_out, quick];
    let period =
        Period { from: Timestamp(T0), to: Timestamp(T0 + 86_400_000), zone: zone("UTC").unwrap(), group_by: None };
    let rows = queues(&chats, &period, &Filter::default(), |_| 60_000, Timestamp(T0 + 999_000));
    let sales = &rows[&(Timestamp(T0), queue("sales"))];
    assert_eq!((sales.chats_in, sales.answered, sales.abandoned, sales.timed_out), (4, 2, 1, 1));
    assert_eq!((sales.transfers_in, sales.transfers_out), (0, 1));
    assert_eq!(sales.average_wait_ms(), Some((70_000 + 5_000) / 2));
    assert_eq!(sales.longest_wait_ms, 600_000);
    assert_eq!(sales.service_level(), Some(0.25));
    assert_eq!(sales.average_handle_ms(), Some((130_000 + 60_000) / 2));
    let billing = &rows[&(Timestamp(T0), queue("billing"))];
    assert_eq!((billing.chats_in, billing.answered, billing.transfers_in), (1, 1, 1));
    assert_eq!(billing.average_wait_ms(), Some(0));

    let by_agent = agents(&chats, &period, &Filter::default());
    let bob = &by_agent[&(Timestamp(T0), agent("bob"))];
    assert_eq!((bob.chats, bob.offered, bob.answered, bob.handled, bob.handle_total_ms), (2, 2, 2, 2, 190_000));
    assert_eq!(bob.average_first_response_ms(), Some(30_000));
    let members = [agent("bob"), agent("cy")];
    let team = teams(&by_agent, [("floor", &members[..])]);
    let floor = &team[&(Timestamp(T0), "floor".to_owned())];
    assert_eq!(
        (floor.answered, floor.transferred_in, floor.transferred_out, floor.handle_total_ms),
        (3, 1, 1, 390_000)
    );

    let only_cy = Filter { agents: Some([agent("cy")].into()), ..Filter::default() };
    assert_eq!(performance(&chats, &period, &only_cy)[&Timestamp(T0)].total.chats, 1);
    let all = performance(&chats, &period, &Filter::default());
    assert_eq!(all[&Timestamp(T0)].by_start_type.get("none"), Some(&2));
}

#[test]
fn chats_count_in_the_bucket_they_opened_in() {
    let berlin = zone("Europe/Berlin").unwrap();
    let period = Period { from: Timestamp(0), to: Timestamp(T0 * 2), zone: berlin, group_by: Some(GroupBy::Day) };
    let mut late = header("late", Origin::Outbound);
    late.opened_at = Timestamp(T0 + 3_600_000 * 10);
    let chat = fold(&late, &[], Timestamp(T0));
    let rows = performance(std::slice::from_ref(&chat), &period, &Filter::default());
    let (bucket, row) = rows.iter().next().unwrap();
    assert_eq!(period.label(*bucket), period.label(period.bucket(chat.opened_at)));
    assert_eq!(row.by_type[&ChatType::OutboundSms].chats, 1);
}
