//! The session against a scripted SMSC that sends what a real one rarely does: malformed PDUs, garbage,
//! silence, an unbind. (The interop tests in `tests/carriers/smpp.rs` cover a well-behaved peer.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::smpp::pdu::{self, Address, Body, Command, Message, MessageId, command_id, status};
use crate::smpp::{Smpp, SmppConfig};
use crate::{BoxFuture, Carrier, InboundSms, Receipt, Sink, SinkError};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Recorder {
    inbound: Mutex<Vec<InboundSms>>,
}

impl Sink for Recorder {
    fn inbound(&self, sms: InboundSms) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            self.inbound.lock().unwrap().push(sms);
            Ok(())
        })
    }

    fn receipt(&self, _: Receipt) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async { Ok(()) })
    }
}

/// The SMSC's end of one connection.
struct Peer {
    stream: TcpStream,
    input: BytesMut,
}

impl Peer {
    async fn accept(listener: &TcpListener) -> Peer {
        let (stream, _) = tokio::time::timeout(WAIT, listener.accept()).await.expect("no connection").unwrap();
        Peer { stream, input: BytesMut::new() }
    }

    /// Accepts the next connection and answers its bind.
    async fn accept_bound(listener: &TcpListener) -> Peer {
        let mut peer = Peer::accept(listener).await;
        let bind = peer.read().await;
        let Body::Bind(kind, bind_body) = bind.body else { panic!("expected a bind, got {bind:?}") };
        assert_eq!((bind_body.system_id.as_str(), bind_body.interface_version), ("parley", 0x34));
        let resp = pdu::BindResp { system_id: "fake".into(), tlvs: vec![] };
        peer.write(&[Command { status: 0, sequence: bind.sequence, body: Body::BindResp(kind, resp) }]).await;
        peer
    }

    async fn read(&mut self) -> Command {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Ok(len) = pdu::check(&self.input) {
                    let frame = self.input.split_to(len);
                    return pdu::parse(&frame).unwrap();
                }
                assert_ne!(self.stream.read_buf(&mut self.input).await.unwrap(), 0, "the ESME closed the connection");
            }
        })
        .await
        .expect("the ESME sent nothing")
    }

    /// Reads until a command that is not an enquire_link (which it answers).
    async fn read_skipping_keepalive(&mut self) -> Command {
        loop {
            let command = self.read().await;
            if command.body != Body::EnquireLink {
                return command;
            }
            self.write(&[Command { status: 0, sequence: command.sequence, body: Body::EnquireLinkResp }]).await;
        }
    }

    async fn write(&mut self, commands: &[Command]) {
        let mut bytes = BytesMut::new();
        for command in commands {
            pdu::encode(command, &mut bytes).unwrap();
        }
        self.write_raw(&bytes).await;
    }

    async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }
}

struct Running {
    carrier: Arc<Smpp>,
    sink: Arc<Recorder>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(listener: &TcpListener, tweak: impl FnOnce(&mut SmppConfig)) -> Running {
    let port = listener.local_addr().unwrap().port();
    let mut config = SmppConfig::new("fake", "127.0.0.1", port, "parley", "secret");
    config.response_timeout = Duration::from_millis(500);
    config.reconnect_min = Duration::from_millis(20);
    config.reconnect_max = Duration::from_millis(50);
    tweak(&mut config);
    let carrier = Arc::new(Smpp::new(config));
    let sink = Arc::new(Recorder::default());
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(Arc::clone(&carrier).run(Arc::clone(&sink) as Arc<dyn Sink>, shutdown));
    Running { carrier, sink, stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.send_replace(true);
        tokio::time::timeout(WAIT, self.task).await.unwrap().unwrap();
    }
}

fn mo(sequence: u32, text: &str) -> Command {
    let message = Message {
        source: Address { ton: 1, npi: 1, addr: "15550177".into() },
        dest: Address { ton: 1, npi: 1, addr: "15550100".into() },
        short_message: text.as_bytes().to_vec(),
        ..Message::default()
    };
    Command { status: 0, sequence, body: Body::DeliverSm(message) }
}

fn deliver_sm_resp(status: u32, sequence: u32) -> Command {
    Command { status, sequence, body: Body::DeliverSmResp(MessageId::default()) }
}

#[tokio::test]
async fn a_malformed_deliver_sm_is_refused_for_good_and_the_next_one_in_the_same_read_is_served() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |_| {}).await;
    let mut smsc = Peer::accept_bound(&listener).await;

    // deliver_sm 41 whose sm_length runs past its end, a good one, and half of another, in one write.
    let mut bytes = BytesMut::new();
    let broken = [
        0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 41, //
        0x00, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0x09, 0x41,
    ];
    bytes.extend_from_slice(&broken);
    pdu::encode(&mo(42, "first"), &mut bytes).unwrap();
    let mut third = BytesMut::new();
    pdu::encode(&mo(43, "second"), &mut third).unwrap();
    let (head, tail) = third.split_at(7);
    bytes.extend_from_slice(head);
    smsc.write_raw(&bytes).await;

    assert_eq!(smsc.read_skipping_keepalive().await, deliver_sm_resp(status::RX_PERMANENT_APP_ERROR, 41));
    assert_eq!(smsc.read_skipping_keepalive().await, deliver_sm_resp(status::OK, 42));
    smsc.write_raw(tail).await;
    assert_eq!(smsc.read_skipping_keepalive().await, deliver_sm_resp(status::OK, 43));
    let bodies: Vec<String> = parley.sink.inbound.lock().unwrap().iter().map(|s| s.body.clone()).collect();
    assert_eq!(bodies, ["first", "second"]);

    // Commands an ESME does not take get a generic_nack.
    smsc.write(&[Command { status: 0, sequence: 44, body: Body::Other { command_id: 0x0103, body: vec![] } }]).await;
    let nack = smsc.read_skipping_keepalive().await;
    assert_eq!((nack.body, nack.status, nack.sequence), (Body::GenericNack, status::INVALID_COMMAND_ID, 44));
    drop(smsc);
    parley.stop().await;
}

#[tokio::test]
async fn an_unframeable_stream_drops_the_connection_and_the_carrier_binds_again() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |_| {}).await;
    let mut smsc = Peer::accept_bound(&listener).await;
    smsc.write_raw(&[0x00, 0x00, 0x00, 0x05, 0xFF, 0xFF]).await;
    let _again = Peer::accept_bound(&listener).await;
    let mut bound = parley.carrier.bound();
    tokio::time::timeout(WAIT, bound.wait_for(|b| *b)).await.unwrap().unwrap();
    parley.stop().await;
}

#[tokio::test]
async fn a_silent_smsc_is_noticed_by_the_keepalive() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |config| config.enquire_link_interval = Duration::from_millis(50)).await;
    let mut smsc = Peer::accept_bound(&listener).await;
    // The SMSC reads the enquire_link and never answers: within response_timeout the carrier gives up
    // on this connection and connects again.
    assert_eq!(smsc.read().await.body, Body::EnquireLink);
    let _again = Peer::accept_bound(&listener).await;
    parley.stop().await;
}

#[tokio::test]
async fn an_unbind_from_the_smsc_is_answered_and_the_carrier_binds_again() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |_| {}).await;
    let mut smsc = Peer::accept_bound(&listener).await;
    smsc.write(&[Command { status: 0, sequence: 9, body: Body::Unbind }]).await;
    let resp = smsc.read_skipping_keepalive().await;
    assert_eq!((resp.body, resp.sequence), (Body::UnbindResp, 9));
    let _again = Peer::accept_bound(&listener).await;
    parley.stop().await;
}

#[tokio::test]
async fn a_submit_without_answer_times_out_as_transient_and_a_late_answer_is_ignored() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |_| {}).await;
    let mut smsc = Peer::accept_bound(&listener).await;
    let mut bound = parley.carrier.bound();
    tokio::time::timeout(WAIT, bound.wait_for(|b| *b)).await.unwrap().unwrap();

    let sms = crate::OutboundSms {
        id: "m1".into(),
        from: parley_core::phone::BusinessNumber::parse("+15550100").unwrap(),
        to: parley_core::phone::E164::parse("+15550177").unwrap(),
        body: "hello".into(),
        media: vec![],
    };
    let (results, submit) =
        tokio::join!(parley.carrier.send(std::slice::from_ref(&sms)), smsc.read_skipping_keepalive());
    assert_eq!(submit.body.command_id(), command_id::SUBMIT_SM);
    assert!(matches!(results.as_slice(), [Err(crate::SendError::Transient(_))]), "{results:?}");

    // The answer comes after all; the session stays up and serves the next message.
    let late = Command {
        status: 0,
        sequence: submit.sequence,
        body: Body::SubmitSmResp(MessageId { message_id: "x".into() }),
    };
    smsc.write(&[late]).await;
    let (results, submit) = tokio::join!(parley.carrier.send(std::slice::from_ref(&sms)), async {
        let submit = smsc.read_skipping_keepalive().await;
        let resp = Body::SubmitSmResp(MessageId { message_id: "y".into() });
        smsc.write(&[Command { status: 0, sequence: submit.sequence, body: resp }]).await;
        submit
    });
    assert_eq!(submit.body.command_id(), command_id::SUBMIT_SM);
    assert_eq!(results[0].as_ref().unwrap().provider_id, "y");
    parley.stop().await;
}

#[tokio::test]
async fn shutdown_unbinds_and_waits_for_the_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let parley = start(&listener, |config| config.response_timeout = WAIT).await;
    let mut smsc = Peer::accept_bound(&listener).await;
    let Running { stop, task, .. } = parley;
    stop.send_replace(true);
    let unbind = smsc.read_skipping_keepalive().await;
    assert_eq!(unbind.body, Body::Unbind);
    assert!(!task.is_finished(), "the carrier waits for unbind_resp");
    smsc.write(&[Command { status: 0, sequence: unbind.sequence, body: Body::UnbindResp }]).await;
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
}

/// Bind slots the test hands out one by one, counting the asks and the slots given back.
struct TestSlots {
    grants: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<watch::Receiver<bool>>>,
    asked: watch::Sender<usize>,
    released: Arc<watch::Sender<usize>>,
}

impl crate::smpp::slots::BindSlots for TestSlots {
    fn acquire(&self) -> BoxFuture<'_, crate::smpp::slots::BindSlot> {
        Box::pin(async move {
            self.asked.send_modify(|n| *n += 1);
            let Some(lost) = self.grants.lock().await.recv().await else { return std::future::pending().await };
            let released = Arc::clone(&self.released);
            crate::smpp::slots::BindSlot::new(0, lost, move || released.send_modify(|n| *n += 1))
        })
    }
}

async fn reaches(what: &str, counter: &watch::Sender<usize>, n: usize) {
    let mut seen = counter.subscribe();
    tokio::time::timeout(WAIT, seen.wait_for(|v| *v >= n))
        .await
        .unwrap_or_else(|_| panic!("{what} never reached {n}"))
        .unwrap();
}

#[tokio::test]
async fn with_bind_slots_the_carrier_binds_only_while_it_holds_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = SmppConfig::new("fake", "127.0.0.1", port, "parley", "secret");
    config.response_timeout = Duration::from_millis(500);
    config.reconnect_min = Duration::from_millis(20);
    let (grant, grants) = tokio::sync::mpsc::channel(4);
    let slots = Arc::new(TestSlots {
        grants: tokio::sync::Mutex::new(grants),
        asked: watch::Sender::new(0),
        released: Arc::new(watch::Sender::new(0)),
    });
    let carrier = Arc::new(Smpp::new(config).with_bind_slots(slots.clone()));
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(Arc::clone(&carrier).run(Arc::new(Recorder::default()) as Arc<dyn Sink>, shutdown));

    // No slot yet: the carrier asked for one, is not bound, and a send fails at once.
    reaches("slot requests", &slots.asked, 1).await;
    assert!(!carrier.ready());
    let sms = crate::OutboundSms {
        id: "m1".into(),
        from: parley_core::phone::BusinessNumber::parse("+15550100").unwrap(),
        to: parley_core::phone::E164::parse("+15550177").unwrap(),
        body: "hello".into(),
        media: vec![],
    };
    let refused = tokio::time::timeout(WAIT, carrier.send(std::slice::from_ref(&sms))).await.unwrap();
    assert!(matches!(refused.as_slice(), [Err(crate::SendError::Transient(_))]), "{refused:?}");

    // A slot: it binds.
    let (lose, lost) = watch::channel(false);
    grant.send(lost).await.unwrap();
    let mut smsc = Peer::accept_bound(&listener).await;
    let mut bound = carrier.bound();
    tokio::time::timeout(WAIT, bound.wait_for(|b| *b)).await.unwrap().unwrap();

    // The slot is lost (another node holds it now): the carrier unbinds, gives it back, asks again.
    lose.send_replace(true);
    let unbind = smsc.read_skipping_keepalive().await;
    assert_eq!(unbind.body, Body::Unbind);
    smsc.write(&[Command { status: 0, sequence: unbind.sequence, body: Body::UnbindResp }]).await;
    reaches("slots given back", &slots.released, 1).await;
    reaches("slot requests", &slots.asked, 2).await;
    tokio::time::timeout(WAIT, bound.wait_for(|b| !*b)).await.unwrap().unwrap();

    // The next slot binds again; shutdown gives that one back too.
    let (_keep, lost) = watch::channel(false);
    grant.send(lost).await.unwrap();
    let _again = Peer::accept_bound(&listener).await;
    tokio::time::timeout(WAIT, bound.wait_for(|b| *b)).await.unwrap().unwrap();
    stop.send_replace(true);
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    assert_eq!(*slots.released.borrow(), 2);
}
