import { describe, expect, it } from 'vitest';
import { Dialog, type DialogInit } from '../../src/edge/dialog/dialog.ts';
import { DialogTable } from '../../src/edge/dialog/dialog-table.ts';

const owner = { isOpen: true };

function dialog(role: 'uas' | 'uac', localTag: string, remoteTag: string): Dialog {
  const init: DialogInit = {
    role,
    callId: 'c1',
    localTag,
    remoteTag,
    localParty: '<sip:a@h>',
    remoteParty: '<sip:b@h>',
    idTag: role === 'uas' ? remoteTag : localTag,
    localSeq: 1,
    remoteSeq: 1,
    remoteTarget: 'sip:b@h',
    routeSet: [],
    localContact: '<sip:a@h>',
    transport: { protocol: 'udp', connectionId: 0 },
    owner,
    inviteTxnId: 't',
  };
  return new Dialog(init);
}

describe('edge dialog table: the dialog a response to our own request belongs to (re-ACK of 2xx retransmissions)', () => {
  it("UAC dialog: named by our tag, which is the response's From-tag", () => {
    const table = new DialogTable();
    const d = dialog('uac', 'ours', 'theirs');
    table.add(d);
    expect(table.findForResponse({ callId: 'c1', fromTag: 'ours', toTag: 'theirs' })).toBe(d);
  });

  it("UAS dialog (our re-INVITE towards the caller): named by the caller's tag, the response's To-tag", () => {
    const table = new DialogTable();
    const d = dialog('uas', 'ours', 'theirs');
    table.add(d);
    expect(table.findForResponse({ callId: 'c1', fromTag: 'ours', toTag: 'theirs' })).toBe(d);
    expect(table.findForResponse({ callId: 'c1', fromTag: 'other', toTag: 'theirs' })).toBeUndefined();
    expect(table.findForResponse({ callId: 'c2', fromTag: 'ours', toTag: 'theirs' })).toBeUndefined();
    expect(table.findForResponse({ callId: 'c1', fromTag: undefined, toTag: 'theirs' })).toBeUndefined();
  });
});
