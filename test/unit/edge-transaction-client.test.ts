/** Client transactions (RFC 3261 §17.1, RFC 6026) driven through the layer with a manual clock. */
import { describe, expect, it } from 'vitest';
import { createCancel, createResponse, type SipRequest, type SipResponse } from '../../src/edge/message/index.ts';
import { TransportError, type Target } from '../../src/edge/transport/index.ts';
import { IctState, NictState, TransactionLayer, type ClientTransaction } from '../../src/edge/transaction/index.ts';
import { ManualClock, RecordingClientUser, RecordingTransport, RecordingTu, UDP_SOURCE, flush, responseTo, sip } from './edge-transaction-fixtures.ts';

const UDP_TARGET: Target = { protocol: 'udp', address: '127.0.0.1', port: 5090 };
const TCP_TARGET: Target = { protocol: 'tcp', address: '127.0.0.1', port: 5090 };

function setup(): { clock: ManualClock; transport: RecordingTransport; tu: RecordingTu; layer: TransactionLayer; user: RecordingClientUser } {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const tu = new RecordingTu();
  const layer = new TransactionLayer(transport, tu, { clock });
  return { clock, transport, tu, layer, user: new RecordingClientUser() };
}

function outgoing(method: string): SipRequest {
  const m = sip(
    `${method} sip:bob@127.0.0.1:5090 SIP/2.0
Max-Forwards: 70
From: <sip:127.0.0.1:5080>;tag=ourtag
To: <sip:bob@127.0.0.1:5090>
Call-ID: out-1
CSeq: 10 ${method}
Content-Length: 0

`.replace('Max-Forwards: 70\n', 'Via: SIP/2.0/UDP placeholder;branch=z9hG4bKremove\nMax-Forwards: 70\n'),
  );
  if (m.kind !== 'request') throw new Error('not a request');
  m.remove('via');
  return m;
}

function answer(txn: ClientTransaction, status: number, toTag = 'peer-tag'): SipResponse {
  const r = responseTo(txn.request, status, 'X', toTag);
  if (r.kind !== 'response') throw new Error('not a response');
  return r;
}

describe('edge transaction: INVITE client transaction', () => {
  it('adds a Via in the reference form and retransmits on Timer A (doubling) until Timer B reports a timeout', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user);
    expect((await txn.sent).ok).toBe(true);
    expect(txn.request.get('via')).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5080;rport;branch=z9hG4bK[A-Za-z0-9]{13}$/);
    expect(txn.branch).toBe(txn.request.topVia?.branch);
    await clock.advance(31_999);
    expect(user.events).toEqual([]);
    await clock.advance(1);
    expect(user.events).toEqual([{ type: 'timeout', timer: 'B' }, { type: 'terminated' }]);
    expect(transport.times((m) => m.kind === 'request')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(layer.size.client).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('passes provisionals up, ACKs a non-2xx itself (§17.1.1.3), re-ACKs its retransmissions, ends at Timer D', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user);
    layer.onMessage(answer(txn, 100), UDP_SOURCE);
    layer.onMessage(answer(txn, 180), UDP_SOURCE);
    expect(txn.state).toBe(IctState.Proceeding);
    await clock.advance(5000);
    expect(transport.requests('INVITE')).toHaveLength(1);
    layer.onMessage(answer(txn, 486), UDP_SOURCE);
    layer.onMessage(answer(txn, 486), UDP_SOURCE);
    await flush();
    expect(user.statuses()).toEqual([100, 180, 486]);
    const acks = transport.requests('ACK');
    expect(acks).toHaveLength(2);
    const ack = acks[0] as SipRequest;
    expect(ack.uri).toBe('sip:bob@127.0.0.1:5090');
    expect(ack.topVia?.branch).toBe(txn.branch);
    expect(ack.toTag).toBe('peer-tag');
    expect(ack.cseq).toEqual({ seq: 10, method: 'ACK' });
    expect(txn.state).toBe(IctState.Completed);
    await clock.advance(32_000);
    expect(txn.terminated).toBe(true);
  });

  it('passes a 2xx and its retransmissions up without ACKing (RFC 6026 Accepted), ends at Timer M', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user);
    layer.onMessage(answer(txn, 200), UDP_SOURCE);
    layer.onMessage(answer(txn, 200), UDP_SOURCE);
    layer.onMessage(answer(txn, 200, 'other-fork'), UDP_SOURCE);
    expect(user.statuses()).toEqual([200, 200, 200]);
    expect(txn.state).toBe(IctState.Accepted);
    expect(transport.requests('ACK')).toHaveLength(0);
    await clock.advance(32_000);
    expect(txn.terminated).toBe(true);
    layer.onMessage(answer(txn, 200), UDP_SOURCE);
    expect(user.statuses()).toHaveLength(3);
  });

  it('over TCP: no retransmissions, and the transaction ends with the non-2xx (Timer D = 0)', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), TCP_TARGET, user);
    expect(txn.request.get('via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:5080;branch=z9hG4bK/);
    await clock.advance(10_000);
    expect(transport.requests('INVITE')).toHaveLength(1);
    layer.onMessage(answer(txn, 404), UDP_SOURCE);
    await flush();
    expect(transport.requests('ACK')).toHaveLength(1);
    expect(txn.terminated).toBe(true);
  });

  it('Timer C: a provisional but no final for 185 s is reported, and the 487 after the CANCEL is still ACKed', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user);
    layer.onMessage(answer(txn, 180), UDP_SOURCE);
    await clock.advance(185_000);
    expect(user.events.filter((e) => e.type === 'timeout')).toEqual([{ type: 'timeout', timer: 'C' }]);
    const cancel = layer.sendRequest(createCancel(txn.request), UDP_TARGET, new RecordingClientUser());
    expect(cancel.branch).toBe(txn.branch);
    layer.onMessage(answer(cancel, 200), UDP_SOURCE);
    layer.onMessage(answer(txn, 487), UDP_SOURCE);
    await flush();
    expect(transport.requests('ACK')).toHaveLength(1);
    expect(user.statuses()).toEqual([180, 487]);
  });

  it('provisional timeout (timer P): no response at all for 3 s is reported once, retransmissions stop, Timer B still ends it', async () => {
    const { clock, transport, layer, user } = setup();
    layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user, { provisionalTimeoutMs: 3000 });
    await clock.advance(2999);
    expect(user.events).toEqual([]);
    await clock.advance(1);
    expect(user.events).toEqual([{ type: 'timeout', timer: 'P' }]);
    await clock.advance(29_000);
    expect(transport.times((m) => m.kind === 'request')).toEqual([0, 500, 1500]);
    expect(user.events).toEqual([{ type: 'timeout', timer: 'P' }, { type: 'terminated' }]);
    expect(layer.size.client).toBe(0);
  });

  it('provisional timeout: a 100 Trying in time stops it; a provisional after it is still passed up and guarded by Timer B', async () => {
    const { clock, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user, { provisionalTimeoutMs: 3000 });
    layer.onMessage(answer(txn, 100), UDP_SOURCE);
    await clock.advance(10_000);
    expect(user.events.filter((e) => e.type === 'timeout')).toEqual([]);

    const late = setup();
    const t2 = late.layer.sendRequest(outgoing('INVITE'), UDP_TARGET, late.user, { provisionalTimeoutMs: 3000 });
    await late.clock.advance(3000);
    late.layer.onMessage(answer(t2, 180), UDP_SOURCE);
    await flush();
    expect(late.user.statuses()).toEqual([180]);
    await late.clock.advance(32_000);
    expect(late.layer.size.client).toBe(0);
  });

  it('reports a transport failure on the first send (§17.1.4)', async () => {
    const { transport, layer, user } = setup();
    transport.failWith = new TransportError('CONNECT_FAILED', 'refused');
    const txn = layer.sendRequest(outgoing('INVITE'), TCP_TARGET, user);
    const sent = await txn.sent;
    expect(sent.ok).toBe(false);
    expect(user.events.map((e) => e.type)).toEqual(['transportError', 'terminated']);
    expect(layer.size.client).toBe(0);
  });
});

describe('edge transaction: non-INVITE client transaction', () => {
  it('retransmits on Timer E (T1 doubling to T2) and reports Timer F at 64*T1', async () => {
    const { clock, transport, layer, user } = setup();
    layer.sendRequest(outgoing('OPTIONS'), UDP_TARGET, user);
    await clock.advance(32_000);
    expect(transport.times((m) => m.kind === 'request')).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(user.events).toEqual([{ type: 'timeout', timer: 'F' }, { type: 'terminated' }]);
  });

  it('after a provisional retransmits every T2', async () => {
    const { clock, transport, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('REGISTER'), UDP_TARGET, user);
    await clock.advance(600);
    layer.onMessage(answer(txn, 100), UDP_SOURCE);
    expect(txn.state).toBe(NictState.Proceeding);
    await clock.advance(10_000);
    expect(transport.times((m) => m.kind === 'request')).toEqual([0, 500, 1500, 5500, 9500]);
  });

  it('passes the final response once, absorbs retransmissions, ends at Timer K', async () => {
    const { clock, layer, user } = setup();
    const txn = layer.sendRequest(outgoing('OPTIONS'), UDP_TARGET, user);
    layer.onMessage(answer(txn, 200), UDP_SOURCE);
    layer.onMessage(answer(txn, 200), UDP_SOURCE);
    expect(user.statuses()).toEqual([200]);
    expect(txn.state).toBe(NictState.Completed);
    await clock.advance(4999);
    expect(txn.terminated).toBe(false);
    await clock.advance(1);
    expect(txn.terminated).toBe(true);
  });

  it('matches responses by branch and CSeq method (§17.1.3); others are stray', () => {
    const { tu, layer, user } = setup();
    const invite = layer.sendRequest(outgoing('INVITE'), UDP_TARGET, user);
    const cancelUser = new RecordingClientUser();
    const cancel = layer.sendRequest(createCancel(invite.request), UDP_TARGET, cancelUser);
    layer.onMessage(answer(cancel, 200), UDP_SOURCE);
    expect(cancelUser.statuses()).toEqual([200]);
    expect(user.statuses()).toEqual([]);
    const stray = answer(invite, 200);
    stray.set('Via', 'SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKunknown');
    layer.onMessage(stray, UDP_SOURCE);
    expect(tu.of('stray')).toHaveLength(1);
  });

  it('refuses ACK (stateless) and a kept Via without a branch', () => {
    const { layer, user } = setup();
    expect(() => layer.sendRequest(outgoing('ACK'), UDP_TARGET, user)).toThrow(/sendStateless/);
    expect(() => layer.sendRequest(outgoing('BYE'), UDP_TARGET, user, { via: 'keep' })).toThrow(/top Via/);
  });
});

describe('edge transaction: stateless sending', () => {
  it('sends an ACK for a 2xx with a Via built by viaFor, and responds statelessly per §18.2.2', async () => {
    const { transport, layer } = setup();
    const ackReq = outgoing('ACK');
    ackReq.prepend('Via', layer.viaFor(UDP_TARGET, 'z9hG4bKack'));
    expect((await layer.sendStateless(ackReq, UDP_TARGET)).ok).toBe(true);
    const incoming = sip(`OPTIONS sip:a@b SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bKx;rport=5070
From: <sip:a@b>;tag=1
To: <sip:a@b>
Call-ID: s
CSeq: 1 OPTIONS

`);
    if (incoming.kind !== 'request') throw new Error('fixture');
    await layer.respondStateless(incoming, UDP_SOURCE, createResponse(incoming, 503, { toTag: 'z' }));
    // rport: the packet's source port, not the sent-by port
    expect(transport.sent.map((s) => s.target.port)).toEqual([5090, 5070]);
  });
});
