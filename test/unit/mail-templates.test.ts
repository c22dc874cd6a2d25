import { describe, expect, it } from 'vitest';
import { checkHeaders, isSingleAddress, MAIL_TEMPLATES } from '../../src/mail/mail-message.ts';
import { renderMail } from '../../src/mail/templates.ts';
import type { TemplateData } from '../../src/mail/templates.ts';

const at = new Date('2026-12-07T09:30:00Z');
const gbp = (micros: number) => ({ micros, currency: 'GBP' });
const EVIL = '<b onmouseover="x">&\'';
const SAMPLES: { [T in (typeof MAIL_TEMPLATES)[number]]: TemplateData[T] } = {
  email_verification: { code: 'ev_code', link: 'https://s.example.test/my/privacy', expiresAt: at },
  welcome: {
    name: EVIL,
    accountNumber: '700100',
    accessNumbers: ['+441130000000', '+442030000000'],
    setPasswordLink: 'https://s.example.test/my/set-password?token=x&y=1',
    linkExpiresAt: at,
    selfCareUrl: 'https://s.example.test/my',
  },
  topup_receipt: { accountNumber: '700100', amount: gbp(12_345_000), balance: gbp(20_000_000), reference: EVIL, at },
  low_balance: { accountNumber: '700100', available: gbp(1_000_000), threshold: gbp(5_000_000), selfCareUrl: 'https://s.example.test/my' },
  auto_topup_charged: { accountNumber: '700100', amount: gbp(5_000_000), at },
  auto_topup_declined: { accountNumber: '700100', amount: gbp(5_000_000), reason: EVIL, selfCareUrl: 'https://s.example.test/my' },
  credential_changed: { accountNumber: '700100', what: 'PIN', at },
  data_export_ready: { link: 'https://s.example.test/my/privacy' },
  list_message: {
    subject: 'December offers',
    text: `First paragraph ${EVIL}.\n\nSecond.`,
    unsubscribeLink: 'https://s.example.test/unsubscribe?t=1.customer.x',
  },
};

describe('mail templates', () => {
  it.each(MAIL_TEMPLATES)('%s renders a one-line subject, a text part and an HTML part that escapes every value', (t) => {
    const m = renderMail(t, SAMPLES[t] as never);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.subject.length).toBeGreaterThan(5);
    expect(m.text).toContain('we never ask for your PIN or password');
    expect(m.html.startsWith('<!doctype html>')).toBe(true);
    expect(m.html).not.toContain(EVIL);
    expect(m.html).not.toMatch(/<b /);
  });

  it('an escaped value reads the same in both parts; a link keeps its query escaped in href', () => {
    const m = renderMail('welcome', SAMPLES.welcome);
    expect(m.text).toContain(`Hello ${EVIL},`);
    expect(m.html).toContain('Hello &lt;b onmouseover=&quot;x&quot;&gt;&amp;&#39;,');
    expect(m.html).toContain('<a href="https://s.example.test/my/set-password?token=x&amp;y=1">Set my password</a>');
    expect(m.text).toContain('  - +441130000000\n  - +442030000000');
    expect(m.text).toContain('Account number: 700100');
  });

  it('money is shown rounded to the currency’s minor unit', () => {
    expect(renderMail('topup_receipt', SAMPLES.topup_receipt).subject).toBe('Receipt: 12.35 GBP added to account 700100');
    expect(renderMail('topup_receipt', { ...SAMPLES.topup_receipt, amount: { micros: 1_500_000, currency: 'JPY' } }).subject).toBe(
      'Receipt: 2 JPY added to account 700100',
    );
  });

  it('a link that is not http(s) is refused', () => {
    expect(() => renderMail('data_export_ready', { link: 'javascript:alert(1)' })).toThrow(/http/);
  });

  it('a recipient is one plain address; extra headers never address the mail or break a line', () => {
    for (const ok of ['a@b.example', 'first.last+tag@mail.example.co.uk']) expect(isSingleAddress(ok)).toBe(true);
    for (const bad of ['a@b', 'a@b.example, c@d.example', 'A <a@b.example>', 'a@b.example\r\nBcc: c@d.example', 'a b@c.example', '']) {
      expect(isSingleAddress(bad), bad).toBe(false);
    }
    expect(() => checkHeaders({ 'List-Unsubscribe': '<https://x.example/u?t=1>' })).not.toThrow();
    expect(() => checkHeaders({ Bcc: 'x@y.example' })).toThrow();
    expect(() => checkHeaders({ 'X-Note': 'a\r\nBcc: x@y.example' })).toThrow();
  });
});
