import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

const base = { PIN_PEPPER: 'x'.repeat(32), DRACHTIO_SECRET: 'cymru-secret', SIP_NONCE_KEY: 'n'.repeat(32) };

describe('configuration', () => {
  it('applies the defaults and freezes the result', () => {
    const c = loadConfig(base);
    expect(c.httpPort).toBe(8080);
    expect(c.redisShards).toBe(16);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('challenges with MD5 alone by default (every client answers it); SHA-256 only for the listed User-Agents', () => {
    const c = loadConfig(base);
    expect(c.sipDigestAlgorithms).toBe('MD5');
    expect(c.sipDigestSha256UserAgents).toBe('');
    expect(loadConfig({ ...base, SIP_DIGEST_SHA256_USER_AGENTS: 'Zoiper, Acme Phone/2' }).sipDigestSha256UserAgents).toBe('Zoiper, Acme Phone/2');
  });

  it('a single Redis is the default; REDIS_CLUSTER_NODES must list host:port entries', () => {
    expect(loadConfig(base).redisClusterNodes).toBe('');
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001' }).redisClusterNodes).toBe('redis-a:7000, 10.0.0.2:7001');
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:7000,redis-b' })).toThrow(/REDIS_CLUSTER_NODES: redis-b is not host:port/);
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-a:70000' })).toThrow(/REDIS_CLUSTER_NODES: redis-a:70000 is not host:port/);
  });

  it('stops with a message naming a missing secret', () => {
    expect(() => loadConfig({})).toThrow(/PIN_PEPPER is required/);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ ...base, HTTP_PORT: '70000', LOG_LEVEL: 'loud', REDIS_URL: 'not a url', DEMO_SEED: 'maybe' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      for (const name of ['HTTP_PORT', 'LOG_LEVEL', 'REDIS_URL', 'DEMO_SEED']) expect(msg).toContain(name);
    }
  });

  it('rejects a short pepper and a non-integer', () => {
    expect(() => loadConfig({ ...base, PIN_PEPPER: 'short' })).toThrow(/PIN_PEPPER must be at least 32/);
    expect(() => loadConfig({ ...base, LEDGER_BATCH_SIZE: '1.5' })).toThrow(/LEDGER_BATCH_SIZE/);
  });

  it('CALLBACK_ACCESS_NUMBERS: none by default; each entry an E.164 number with +', () => {
    expect(loadConfig(base).callbackAccessNumbers).toBe('');
    expect(loadConfig({ ...base, CALLBACK_ACCESS_NUMBERS: '+441632960200, +12125550100' }).callbackAccessNumbers).toBe('+441632960200, +12125550100');
    expect(() => loadConfig({ ...base, CALLBACK_ACCESS_NUMBERS: '+441632960200,01632960201' })).toThrow(
      /CALLBACK_ACCESS_NUMBERS: 01632960201 is not an E\.164 number/,
    );
  });

  it('cross-checks the reservation slice against the maximum call duration', () => {
    expect(() => loadConfig({ ...base, RESERVATION_SLICE_SECONDS: '600', MAX_CALL_SECONDS: '300' })).toThrow(/RESERVATION_SLICE_SECONDS must be smaller/);
  });

  it('cross-checks the call keep-alive against the reservation deadline: an orphan is found before its reservation lapses', () => {
    expect(loadConfig({ ...base, RESERVATION_SLICE_SECONDS: '6', CREDIT_EXTEND_LEAD_SECONDS: '2', CALL_KEEPALIVE_SECONDS: '6' }).callKeepAliveSeconds).toBe(6);
    expect(() => loadConfig({ ...base, RESERVATION_SLICE_SECONDS: '6', CREDIT_EXTEND_LEAD_SECONDS: '2', CALL_KEEPALIVE_SECONDS: '7' })).toThrow(
      /CALL_KEEPALIVE_SECONDS must be below/,
    );
  });

  it('e-mail settings: one From address with no line break, TLS required off loopback in production, a password with a user', () => {
    const c = loadConfig(base);
    expect([c.smtpHost, c.smtpSecurity, c.mailFrom]).toEqual(['', 'starttls', 'Prepaid calling <noreply@softswitch.local>']);
    expect(() => loadConfig({ ...base, MAIL_FROM: 'a@b.example\r\nBcc: c@d.example' })).toThrow(/MAIL_FROM must be one address/);
    expect(() => loadConfig({ ...base, MAIL_FROM: 'a@b.example, c@d.example' })).toThrow(/MAIL_FROM must be one address/);
    expect(loadConfig({ ...base, MAIL_FROM: 'noreply@calls.example' }).mailFrom).toBe('noreply@calls.example');
    const prod = { ...base, DEPLOYMENT: 'production', SMTP_SECURITY: 'none' };
    expect(() => loadConfig({ ...prod, SMTP_HOST: 'smtp.example.net' })).toThrow(/SMTP_SECURITY=none/);
    expect(loadConfig({ ...prod, SMTP_HOST: '127.0.0.1' }).smtpSecurity).toBe('none');
    expect(() => loadConfig({ ...base, SMTP_USER: 'relay' })).toThrow(/SMTP_PASSWORD is required/);
    expect(() => loadConfig({ ...base, MAIL_RETRY_BASE_SECONDS: '600', MAIL_RETRY_MAX_SECONDS: '60' })).toThrow(/MAIL_RETRY_BASE_SECONDS/);
  });
});
