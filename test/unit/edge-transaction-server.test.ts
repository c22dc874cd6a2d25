/** Server transactions (RFC 3261 §17.2, RFC 6026) driven through the layer with a manual clock. */
import { describe, expect, it } from 'vitest';
import { createResponse, parseMessage } from '../../src/edge/message/index.ts';
import { TransportError } from '../../src/edge/transport/index.ts';
import { IstState, NistState, TransactionLayer, TransactionStateError, type ServerTransaction } from '../../src/edge/transaction/index.ts';
import { ManualClock, RecordingTransport, RecordingTu, TCP_SOURCE, UDP_SOURCE, ack, flush, invite, nonInvite, sip } from './edge-transaction-fixtures.ts';

function setup(options: { autoTrying?: boolean } = {}): { clock: ManualClock; transport: RecordingTransport; tu: RecordingTu; layer: TransactionLayer } {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const tu = new RecordingTu();
  const layer = new TransactionLayer(transport, tu, { clock, ...options });
  return { clock, transport, tu, layer };
}

function onlyTxn(tu: RecordingTu): ServerTransaction {
  const events = tu.of('request');
  expect(events).toHaveLength(1);
  return (events[0] as { txn: ServerTransaction }).txn;
}

describe('edge transaction: INVITE server transaction', () => {
  it('sends 100 Trying before reporting the INVITE, once', async () => {
    const { transport, tu, layer } = setup();
    let sentBeforeReport = -1;
    tu.onRequestHook = () => {
      sentBeforeReport = transport.sent.length;
    };
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(sentBeforeReport).toBe(1);
    const trying = transport.responses(100);
    expect(trying).toHaveLength(1);
    expect(trying[0]?.toTag).toBeUndefined();
    expect(transport.sent[0]?.target).toMatchObject({ protocol: 'udp', address: '127.0.0.1', port: 5070 });
    expect(onlyTxn(tu).state).toBe(IstState.Proceeding);
  });

  it("absorbs INVITE retransmissions while only the automatic 100 exists, then re-sends the TU's last provisional", async () => {
    const { transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(tu.of('request')).toHaveLength(1);
    expect(transport.sent).toHaveLength(1);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 180, { toTag: 'local' }));
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(transport.sent.map((s) => s.message.kind === 'response' && s.message.status)).toEqual([100, 180, 180]);
    expect(tu.of('request')).toHaveLength(1);
  });

  it('retransmits a non-2xx final on Timer G (T1 doubling to T2) until the ACK, absorbs the ACK, ends after Timer I', async () => {
    const { clock, transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 486, { toTag: 'totag' }));
    await clock.advance(8000);
    expect(transport.times((m) => m.kind === 'response' && m.status === 486)).toEqual([0, 500, 1500, 3500, 7500]);
    layer.onMessage(ack(), UDP_SOURCE);
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(txn.state).toBe(IstState.Confirmed);
    expect(tu.of('ack')).toHaveLength(0);
    expect(transport.responses(486)).toHaveLength(5);
    await clock.advance(4999);
    expect(txn.terminated).toBe(false);
    await clock.advance(1);
    expect(txn.terminated).toBe(true);
    expect(tu.of('serverTerminated')).toHaveLength(1);
    expect(layer.size.server).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('gives up at Timer H (64*T1) without an ACK and tells the TU', async () => {
    const { clock, transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 480, { toTag: 'totag' }));
    await clock.advance(31_999);
    expect(tu.of('serverTimeout')).toHaveLength(0);
    await clock.advance(1);
    expect(tu.of('serverTimeout').map((e) => e.timer)).toEqual(['H']);
    expect(txn.terminated).toBe(true);
    expect(transport.times((m) => m.kind === 'response' && m.status === 480)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  });

  it('over TCP: no Timer G retransmissions, and the ACK ends the transaction at once (Timer I = 0)', async () => {
    const { clock, transport, tu, layer } = setup();
    layer.onMessage(invite({ proto: 'TCP' }), TCP_SOURCE);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 486, { toTag: 'totag' }));
    await clock.advance(10_000);
    expect(transport.responses(486)).toHaveLength(1);
    expect(transport.sent[1]?.target).toMatchObject({ protocol: 'tcp', connectionId: 7 });
    layer.onMessage(ack(), TCP_SOURCE);
    await flush();
    expect(txn.terminated).toBe(true);
  });

  it('after a 2xx (RFC 6026 Accepted): absorbs INVITE retransmissions, passes ACKs up, lets the TU re-send the 2xx, ends at Timer L', async () => {
    const { clock, transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    const txn = onlyTxn(tu);
    const ok = createResponse(txn.request, 200, { toTag: 'totag' });
    await txn.respond(ok);
    expect(txn.state).toBe(IstState.Accepted);
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(transport.sent).toHaveLength(2);
    await txn.respond(ok);
    expect(transport.responses(200)).toHaveLength(2);
    // The ACK for a 2xx carries a new branch (§13.2.2.4): it matches no transaction.
    layer.onMessage(ack({ branch: 'z9hG4bKack2xx' }), UDP_SOURCE);
    // A UA that reuses the INVITE branch: matched, passed up with the transaction.
    layer.onMessage(ack(), UDP_SOURCE);
    expect(tu.of('ack').map((e) => e.txn)).toEqual([undefined, txn]);
    expect(() => txn.respond(createResponse(txn.request, 486))).toThrow(TransactionStateError);
    await clock.advance(32_000);
    expect(txn.terminated).toBe(true);
    expect(layer.size.server).toBe(0);
  });

  it('can be created without the automatic 100', async () => {
    const { transport, layer } = setup({ autoTrying: false });
    layer.onMessage(invite(), UDP_SOURCE);
    await flush();
    expect(transport.sent).toHaveLength(0);
  });

  it('reports a transport failure on a response and ends the transaction (§17.2.4)', async () => {
    const { transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    const txn = onlyTxn(tu);
    transport.failWith = new TransportError('CONNECTION_CLOSED', 'gone');
    const result = await txn.respond(createResponse(txn.request, 180, { toTag: 't' }));
    expect(result.ok).toBe(false);
    expect(tu.of('serverTransportError')).toHaveLength(1);
    expect(txn.terminated).toBe(true);
  });

  it('ends an unanswered transaction at the safety deadline', async () => {
    const { clock, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    await clock.advance(300_000);
    expect(tu.of('serverTimeout').map((e) => e.timer)).toEqual(['NoFinal']);
    expect(layer.size.server).toBe(0);
  });
});

describe('edge transaction: CANCEL and ACK matching (§9.2, §17.2.3)', () => {
  it('hands a CANCEL up with its own transaction and the INVITE it matches', async () => {
    const { transport, tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    const inviteTxn = onlyTxn(tu);
    layer.onMessage(nonInvite('CANCEL', { branch: 'z9hG4bKinv1' }), UDP_SOURCE);
    const [cancel] = tu.of('cancel');
    expect(cancel?.invite).toBe(inviteTxn);
    expect(cancel?.cancelTxn.kind).toBe('nist');
    await cancel?.cancelTxn.respond(createResponse(cancel.request, 200, { toTag: 'x' }));
    await inviteTxn.respond(createResponse(inviteTxn.request, 487, { toTag: 'x' }));
    // A retransmitted CANCEL gets the 200 again and is not reported twice.
    layer.onMessage(nonInvite('CANCEL', { branch: 'z9hG4bKinv1' }), UDP_SOURCE);
    await flush();
    expect(tu.of('cancel')).toHaveLength(1);
    expect(transport.sent.map((s) => (s.message.kind === 'response' ? `${s.message.status} ${s.message.cseq?.method}` : ''))).toEqual([
      '100 INVITE',
      '200 CANCEL',
      '487 INVITE',
      '200 CANCEL',
    ]);
  });

  it('a CANCEL that matches nothing is reported without an INVITE', () => {
    const { tu, layer } = setup();
    layer.onMessage(nonInvite('CANCEL', { branch: 'z9hG4bKnothing' }), UDP_SOURCE);
    expect(tu.of('cancel')[0]?.invite).toBeUndefined();
  });

  it('a stray ACK is passed up without a transaction', () => {
    const { tu, layer } = setup();
    layer.onMessage(ack({ branch: 'z9hG4bKstray' }), UDP_SOURCE);
    expect(tu.of('ack')).toHaveLength(1);
    expect(tu.of('ack')[0]?.txn).toBeUndefined();
  });

  it('the same branch from a different sent-by, or with another method, is a different transaction', () => {
    const { tu, layer } = setup();
    layer.onMessage(invite(), UDP_SOURCE);
    layer.onMessage(invite({ sentBy: '127.0.0.2:5070' }), UDP_SOURCE);
    layer.onMessage(nonInvite('INFO', { branch: 'z9hG4bKinv1' }), UDP_SOURCE);
    expect(tu.of('request')).toHaveLength(3);
    expect(layer.size.server).toBe(3);
  });

  it('matches retransmissions of RFC 2543 requests (no magic cookie) by Call-ID, CSeq, From tag and Via', () => {
    const { tu, layer } = setup();
    layer.onMessage(invite({ branch: 'old1' }), UDP_SOURCE);
    layer.onMessage(invite({ branch: 'old1' }), UDP_SOURCE);
    layer.onMessage(invite({ branch: 'old1', callId: 'call-2' }), UDP_SOURCE);
    expect(tu.of('request')).toHaveLength(2);
  });
});

describe('edge transaction: non-INVITE server transaction', () => {
  it('absorbs retransmissions before the response, re-sends the final after it, ends at Timer J', async () => {
    const { clock, transport, tu, layer } = setup();
    layer.onMessage(nonInvite('OPTIONS'), UDP_SOURCE);
    layer.onMessage(nonInvite('OPTIONS'), UDP_SOURCE);
    await flush();
    const txn = onlyTxn(tu);
    expect(txn.state).toBe(NistState.Trying);
    expect(transport.sent).toHaveLength(0);
    await txn.respond(createResponse(txn.request, 200, { toTag: 'x' }));
    expect(txn.state).toBe(NistState.Completed);
    layer.onMessage(nonInvite('OPTIONS'), UDP_SOURCE);
    await flush();
    expect(transport.responses(200)).toHaveLength(2);
    expect(() => txn.respond(createResponse(txn.request, 500))).toThrow(TransactionStateError);
    await clock.advance(31_999);
    expect(txn.terminated).toBe(false);
    await clock.advance(1);
    expect(txn.terminated).toBe(true);
    expect(tu.of('request')).toHaveLength(1);
  });

  it('sends provisionals and re-sends the last one on retransmission', async () => {
    const { transport, tu, layer } = setup();
    layer.onMessage(nonInvite('REGISTER'), UDP_SOURCE);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 100));
    expect(txn.state).toBe(NistState.Proceeding);
    layer.onMessage(nonInvite('REGISTER'), UDP_SOURCE);
    await flush();
    expect(transport.responses(100)).toHaveLength(2);
  });

  it('over TCP ends right after the final response (Timer J = 0)', async () => {
    const { tu, layer } = setup();
    layer.onMessage(nonInvite('OPTIONS'), TCP_SOURCE);
    const txn = onlyTxn(tu);
    await txn.respond(createResponse(txn.request, 200, { toTag: 'x' }));
    await flush();
    expect(txn.terminated).toBe(true);
    expect(layer.size.server).toBe(0);
  });
});

describe('edge transaction: malformed requests', () => {
  it('answers 400 with the parse error as reason when a response can be formed', async () => {
    const { transport, tu, layer } = setup();
    const bad = sip(`OPTIONS sip:a@b SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbad
From: <sip:a@b>;tag=1
To: <sip:a@b>
Call-ID: bad
CSeq: 1 OPTIONS
Max-Forwards: 70

`);
    const result = parseMessage(bad.toString().replace('Max-Forwards: 70', 'Max-Forwards: many'));
    if (result.ok) throw new Error('expected a parse error');
    layer.onMalformed(result.error, UDP_SOURCE);
    await flush();
    expect(transport.sent[0]?.text).toMatch(/^SIP\/2\.0 400 Malformed Max-Forwards header\r\n/);
    expect(tu.of('malformed')[0]?.answered).toBe(true);
  });

  it('drops what cannot be answered (no Call-ID, or an ACK)', async () => {
    const { transport, tu, layer } = setup();
    const noCallId = parseMessage(
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\n\r\n',
    );
    const badAck = parseMessage(ack().toString().replace('Max-Forwards: 70', 'Max-Forwards: x'));
    for (const r of [noCallId, badAck]) {
      if (r.ok) throw new Error('expected a parse error');
      layer.onMalformed(r.error, UDP_SOURCE);
    }
    await flush();
    expect(transport.sent).toHaveLength(0);
    expect(tu.of('malformed').map((e) => e.answered)).toEqual([false, false]);
  });
});
