#!/usr/bin/env node
// A scriptable SMSC for Parley's SMPP interop tests, built on node-smpp (npm `smpp`), an independent
// SMPP implementation.
//
//   node smsc.js [--port N] [--control-port N] [--system-id ID] [--password PW] [--receipt-delay-ms N]
//
// Port 0 (the default) picks a free port. Once both ports listen, one JSON line goes to stdout:
//   {"ready":true,"smpp":<port>,"control":<port>}
//
// The SMSC accepts binds with the right credentials (ESME_RBINDFAIL otherwise), answers enquire_link
// and unbind, answers submit_sm with a message id, and sends a delivery receipt as deliver_sm
// (esm_class 0x04, the Appendix B text plus the receipted_message_id and message_state TLVs) for
// submits with registered_delivery, after `receipt_delay_ms`.
//
// Scripted failures, by destination number prefix (digits as sent, without '+'):
//   throttle_prefix       submit_sm answered ESME_RTHROTTLED (0x58)
//   reject_prefix         submit_sm answered ESME_RINVDSTADR (0x0B)
//   undeliverable_prefix  accepted, then a receipt with stat:UNDELIV err:001 (message_state 5)
//
// The control port speaks JSON over HTTP:
//   GET  /submits        every submit_sm received: addresses, TON/NPI, esm_class, data_coding, the UDH and
//                        short_message in hex, the text decoded by node-smpp (from message_payload when
//                        that carries it), the SAR TLVs, and the answer
//   GET  /events         binds, unbinds, enquire_links and closed connections, in order
//   GET  /deliveries     every deliver_sm sent (MO and receipts) with the ESME's answer
//   POST /config         merges settings: receipt_delay_ms, receipt_before_resp (send the receipt, and
//                        the submit_sm_resp only once the ESME answered it), receipt_format ("both" | "text" | "tlv"), the prefixes above
//   POST /mo             sends a consumer's message to the bound ESME and answers once it is delivered or
//                        given up: {from, to, text, encoding: "gsm7"|"ucs2" (default: gsm7 when it fits),
//                        split: "udh"|"sar" (default udh), part_chars (characters a part, default 153 or
//                        67), order (part numbers in sending order, default 1..n), reference,
//                        redeliver_ms (pause before delivering again after an error answer, default 50),
//                        max_attempts (default 10)}
//                        -> {delivered, parts, attempts: [{part, status}]}
//   POST /enquire_link   sends enquire_link on every bound session -> {sent, answered}
//   POST /close          drops every connection, as a network failure would
//   GET  /stats          counters for benchmarks: submits, receipts acknowledged, first/last times (ms)
//   POST /reset          clears the records and counters (keep_records: false in /config stops keeping
//                        per-message records at all)
'use strict';

const http = require('http');
const smpp = require('smpp');

function parseArgs(argv) {
	const args = {
		port: 0,
		'control-port': 0,
		'system-id': 'parley',
		password: 'secret',
		'receipt-delay-ms': 0,
	};
	for (let i = 2; i < argv.length; i += 2) {
		const key = argv[i].replace(/^--/, '');
		if (!(key in args) || i + 1 >= argv.length) {
			process.stderr.write(`unknown or incomplete argument: ${argv[i]}\n`);
			process.exit(2);
		}
		args[key] = typeof args[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
	}
	return args;
}

const args = parseArgs(process.argv);

const config = {
	system_id: args['system-id'],
	password: args.password,
	receipt_delay_ms: args['receipt-delay-ms'],
	receipt_before_resp: false,
	receipt_format: 'both',
	throttle_prefix: null,
	reject_prefix: null,
	undeliverable_prefix: null,
	// Benchmarks turn this off so memory stays flat over long runs.
	keep_records: true,
};

const submits = [];
// Counters for benchmarks (GET /stats, POST /reset).
const stats = { submits: 0, first_submit_at: null, last_submit_at: null, receipts_acked: 0, last_receipt_ack_at: null };
const events = [];
const deliveries = [];
// Sessions bound as transceiver or receiver: where MO and receipts go.
const bound = new Set();
const sessions = new Set();

// Keep submit_sm's short_message as raw bytes, so the record shows exactly what the ESME sent; the text
// is decoded below with node-smpp's own GSM 03.38 and UCS-2 codecs.
smpp.commands.submit_sm.params.short_message = { type: smpp.types.buffer };

const startedAt = Date.now().toString(36);
let nextId = 1;
function messageId() {
	return `${startedAt}${(nextId++).toString(16).padStart(6, '0')}`;
}

function hex(buffer) {
	return buffer ? Buffer.from(buffer).toString('hex') : null;
}

function decodeText(dataCoding, bytes) {
	switch (dataCoding) {
		case 0x00:
		case 0x01:
			return smpp.encodings.ASCII.decode(bytes);
		case 0x03:
			return smpp.encodings.LATIN1.decode(bytes);
		case 0x08:
			return smpp.encodings.UCS2.decode(bytes);
		default:
			return null;
	}
}

function startsWith(addr, prefix) {
	return prefix !== null && prefix !== undefined && addr.startsWith(prefix);
}

function timestamp(date) {
	const two = (n) => String(n).padStart(2, '0');
	return two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) +
		two(date.getUTCHours()) + two(date.getUTCMinutes());
}

// Sends a deliver_sm on `session`; calls back with the ESME's command_status, or null when the
// session closed or did not answer within 10 s.
function deliver(session, fields, record, done) {
	let finished = false;
	const finish = (status) => {
		if (finished) return;
		finished = true;
		record.status = status;
		if (config.keep_records) deliveries.push(record);
		if (record.kind === 'receipt' && status === 0) {
			stats.receipts_acked++;
			stats.last_receipt_ack_at = Date.now();
		}
		done(status);
	};
	const timer = setTimeout(() => finish(null), 10000);
	const settle = (status) => {
		clearTimeout(timer);
		session.unanswered.delete(settle);
		finish(status);
	};
	session.unanswered.add(settle);
	const sent = session.deliver_sm(fields, (pdu) => settle(pdu.command_status));
	if (!sent) {
		settle(null);
	}
}

// Sends the receipt for `submit`; `then` runs once the ESME answered it (or could not).
function sendReceipt(session, submit, then) {
	const undeliverable = startsWith(submit.destination_addr, config.undeliverable_prefix);
	const stat = undeliverable ? 'UNDELIV' : 'DELIVRD';
	const now = timestamp(new Date());
	const text = `id:${submit.message_id} sub:001 dlvrd:${undeliverable ? '000' : '001'} submit date:${now} ` +
		`done date:${now} stat:${stat} err:${undeliverable ? '001' : '000'} text:`;
	const fields = {
		source_addr_ton: submit.dest_addr_ton,
		source_addr_npi: submit.dest_addr_npi,
		source_addr: submit.destination_addr,
		dest_addr_ton: submit.source_addr_ton,
		dest_addr_npi: submit.source_addr_npi,
		destination_addr: submit.source_addr,
		esm_class: 0x04,
		data_coding: 0x00,
		short_message: config.receipt_format === 'tlv' ? Buffer.alloc(0) : Buffer.from(text, 'ascii'),
	};
	if (config.receipt_format !== 'text') {
		fields.receipted_message_id = submit.message_id;
		fields.message_state = undeliverable ? 5 : 2;
	}
	const record = { kind: 'receipt', message_id: submit.message_id, stat, attempt: 1 };
	const bindSession = bound.has(session) ? session : [...bound].pop();
	if (bindSession) {
		deliver(bindSession, fields, record, () => then && then());
	} else if (then) {
		then();
	}
}

function onSubmit(session, pdu) {
	const raw = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
	const udhi = (pdu.esm_class & 0x40) !== 0;
	const udhLength = udhi && raw.length > 0 ? raw[0] + 1 : 0;
	const udh = udhi ? raw.slice(0, udhLength) : null;
	const payload = raw.slice(udhLength);
	// message_payload (the whole text in a TLV) comes decoded by node-smpp's message filter.
	const mp = pdu.message_payload;
	const messagePayload = mp === undefined || mp === null ? null
		: typeof mp === 'string' ? mp
		: Buffer.isBuffer(mp) ? decodeText(pdu.data_coding, mp)
		: (mp.message !== undefined ? (Buffer.isBuffer(mp.message) ? decodeText(pdu.data_coding, mp.message) : String(mp.message)) : null);
	const submit = {
		system_id: session.system_id,
		source_addr: pdu.source_addr,
		source_addr_ton: pdu.source_addr_ton,
		source_addr_npi: pdu.source_addr_npi,
		destination_addr: pdu.destination_addr,
		dest_addr_ton: pdu.dest_addr_ton,
		dest_addr_npi: pdu.dest_addr_npi,
		esm_class: pdu.esm_class,
		data_coding: pdu.data_coding,
		registered_delivery: pdu.registered_delivery,
		udh: hex(udh),
		short_message: hex(raw),
		text: messagePayload !== null && payload.length === 0 ? messagePayload : decodeText(pdu.data_coding, payload),
		message_payload: messagePayload,
		sar: pdu.sar_msg_ref_num === undefined ? null : {
			ref: pdu.sar_msg_ref_num,
			total: pdu.sar_total_segments,
			seq: pdu.sar_segment_seqnum,
		},
		message_id: null,
		command_status: 0,
	};
	if (config.keep_records) submits.push(submit);
	stats.submits++;
	stats.first_submit_at = stats.first_submit_at || Date.now();
	stats.last_submit_at = Date.now();
	if (startsWith(pdu.destination_addr, config.throttle_prefix)) {
		submit.command_status = smpp.ESME_RTHROTTLED;
		session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
		return;
	}
	if (startsWith(pdu.destination_addr, config.reject_prefix)) {
		submit.command_status = smpp.ESME_RINVDSTADR;
		session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
		return;
	}
	submit.message_id = messageId();
	const respond = () => session.send(pdu.response({ message_id: submit.message_id }));
	const wantsReceipt = (pdu.registered_delivery & 0x03) !== 0;
	if (wantsReceipt && config.receipt_before_resp) {
		// The ESME has answered the receipt before it learns the message id.
		setTimeout(() => sendReceipt(session, submit, respond), config.receipt_delay_ms);
		return;
	}
	respond();
	if (wantsReceipt) {
		setTimeout(() => sendReceipt(session, submit), config.receipt_delay_ms);
	}
}

const server = smpp.createServer((session) => {
	sessions.add(session);
	// deliver_sm awaiting an answer; settled with null when the connection closes.
	session.unanswered = new Set();
	session.on('error', () => {});
	session.on('close', () => {
		sessions.delete(session);
		bound.delete(session);
		for (const settle of [...session.unanswered]) settle(null);
		events.push({ event: 'close', system_id: session.system_id || null });
	});
	const onBind = (kind) => (pdu) => {
		if (pdu.system_id !== config.system_id || pdu.password !== config.password) {
			events.push({ event: 'bind_refused', kind, system_id: pdu.system_id });
			session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
			return;
		}
		session.system_id = pdu.system_id;
		events.push({
			event: 'bind',
			kind,
			system_id: pdu.system_id,
			interface_version: pdu.interface_version,
		});
		session.send(pdu.response({ system_id: 'parley-smsc-sim' }));
		if (kind !== 'transmitter') {
			bound.add(session);
		}
	};
	session.on('bind_transceiver', onBind('transceiver'));
	session.on('bind_receiver', onBind('receiver'));
	session.on('bind_transmitter', onBind('transmitter'));
	session.on('enquire_link', (pdu) => {
		events.push({ event: 'enquire_link', system_id: session.system_id || null });
		session.send(pdu.response());
	});
	session.on('unbind', (pdu) => {
		events.push({ event: 'unbind', system_id: session.system_id || null });
		bound.delete(session);
		session.send(pdu.response());
		session.close();
	});
	session.on('submit_sm', (pdu) => onSubmit(session, pdu));
});

// Cuts a text into parts of at most `limit` characters, never inside a surrogate pair.
function chunks(text, limit) {
	const chars = Array.from(text);
	const parts = [];
	for (let i = 0; i < chars.length; i += limit) {
		parts.push(chars.slice(i, i + limit).join(''));
	}
	return parts.length ? parts : [''];
}

function injectMo(request, reply) {
	const session = [...bound].pop();
	if (!session) {
		reply(409, { error: 'no ESME is bound' });
		return;
	}
	const text = String(request.text || '');
	const encoding = request.encoding || (smpp.encodings.ASCII.match(text) ? 'gsm7' : 'ucs2');
	const dataCoding = encoding === 'ucs2' ? 0x08 : 0x00;
	const codec = encoding === 'ucs2' ? smpp.encodings.UCS2 : smpp.encodings.ASCII;
	const limit = request.part_chars || (encoding === 'ucs2' ? 67 : 153);
	const texts = Array.from(text).length > (encoding === 'ucs2' ? 70 : 160) || request.part_chars ?
		chunks(text, limit) : [text];
	const total = texts.length;
	const reference = request.reference === undefined ? Math.floor(Math.random() * 256) : request.reference;
	const split = request.split || 'udh';
	const order = request.order || texts.map((_, i) => i + 1);
	const redeliverMs = request.redeliver_ms === undefined ? 50 : request.redeliver_ms;
	const maxAttempts = request.max_attempts || 10;
	const attempts = [];

	const fieldsFor = (seq) => {
		const encoded = codec.encode(texts[seq - 1]);
		const fields = {
			source_addr_ton: 1,
			source_addr_npi: 1,
			source_addr: String(request.from).replace(/^\+/, ''),
			dest_addr_ton: 1,
			dest_addr_npi: 1,
			destination_addr: String(request.to).replace(/^\+/, ''),
			esm_class: 0x00,
			data_coding: dataCoding,
			short_message: encoded,
		};
		if (total > 1 && split === 'udh') {
			fields.esm_class = 0x40;
			fields.short_message = Buffer.concat([Buffer.from([5, 0, 3, reference & 0xFF, total, seq]), encoded]);
		} else if (total > 1 && split === 'sar') {
			fields.sar_msg_ref_num = reference & 0xFFFF;
			fields.sar_total_segments = total;
			fields.sar_segment_seqnum = seq;
		}
		return fields;
	};

	// Sends each part in `order`, one at a time, delivering a part again after an error answer.
	const sendPart = (index, attempt) => {
		if (index >= order.length) {
			reply(200, { delivered: true, parts: total, attempts });
			return;
		}
		const seq = order[index];
		const target = [...bound].pop();
		if (!target) {
			reply(200, { delivered: false, parts: total, attempts });
			return;
		}
		const record = { kind: 'mo', from: request.from, to: request.to, part: seq, total, attempt };
		deliver(target, fieldsFor(seq), record, (status) => {
			attempts.push({ part: seq, status });
			if (status === 0) {
				sendPart(index + 1, 1);
			} else if (attempt < maxAttempts) {
				setTimeout(() => sendPart(index, attempt + 1), redeliverMs);
			} else {
				reply(200, { delivered: false, parts: total, attempts });
			}
		});
	};
	sendPart(0, 1);
}

function enquireAll(reply) {
	const targets = [...bound];
	let answered = 0;
	let pending = targets.length;
	if (pending === 0) {
		reply(200, { sent: 0, answered: 0 });
		return;
	}
	const timer = setTimeout(() => {
		pending = -1;
		reply(200, { sent: targets.length, answered });
	}, 5000);
	for (const session of targets) {
		session.enquire_link((pdu) => {
			if (pdu.command_status === 0) answered++;
			pending--;
			if (pending === 0) {
				clearTimeout(timer);
				reply(200, { sent: targets.length, answered });
			}
		});
	}
}

const control = http.createServer((req, res) => {
	const reply = (status, body) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	let data = '';
	req.on('data', (chunk) => { data += chunk; });
	req.on('end', () => {
		let body = {};
		if (data) {
			try {
				body = JSON.parse(data);
			} catch (e) {
				reply(400, { error: `bad JSON: ${e.message}` });
				return;
			}
		}
		const route = `${req.method} ${req.url}`;
		switch (route) {
			case 'GET /submits': return reply(200, submits);
			case 'GET /events': return reply(200, events);
			case 'GET /deliveries': return reply(200, deliveries);
			case 'GET /stats': return reply(200, stats);
			case 'POST /reset':
				submits.length = 0;
				deliveries.length = 0;
				Object.assign(stats, { submits: 0, first_submit_at: null, last_submit_at: null, receipts_acked: 0, last_receipt_ack_at: null });
				return reply(200, stats);
			case 'POST /config':
				for (const key of Object.keys(body)) {
					if (!(key in config)) return reply(400, { error: `unknown setting ${key}` });
				}
				Object.assign(config, body);
				return reply(200, config);
			case 'POST /mo': return injectMo(body, reply);
			case 'POST /enquire_link': return enquireAll(reply);
			case 'POST /close':
				for (const session of sessions) session.destroy();
				return reply(200, { closed: sessions.size });
			default: return reply(404, { error: `no route ${route}` });
		}
	});
});

let listening = 0;
function ready() {
	listening++;
	if (listening === 2) {
		process.stdout.write(JSON.stringify({
			ready: true,
			smpp: server.address().port,
			control: control.address().port,
		}) + '\n');
	}
}

server.on('error', (e) => {
	process.stderr.write(`SMPP listener: ${e.message}\n`);
	process.exit(1);
});
control.on('error', (e) => {
	process.stderr.write(`control listener: ${e.message}\n`);
	process.exit(1);
});
server.listen(args.port, '127.0.0.1', ready);
control.listen(args['control-port'], '127.0.0.1', ready);

// Exit when the test that started us goes away (it holds our stdin, a pipe, open until then).
if (require('fs').fstatSync(0).isFIFO()) {
	process.stdin.on('end', () => process.exit(0));
	process.stdin.resume();
}
