import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness } from './api-harness.ts';
import type { Harness } from './api-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness('apifavicon');
});
afterAll(async () => {
  await h.close();
});

describe('the web pages have an icon', () => {
  it('/favicon.ico leads to the SVG icon the pages link to', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/favicon.ico' });
    expect(r.statusCode).toBe(301);
    const icon = await h.app.inject({ method: 'GET', url: r.headers.location as string });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.body).toMatch(/^<svg /);
    const page = await h.app.inject({ method: 'GET', url: '/my/login' });
    expect(page.body).toContain(`<link rel="icon" href="${(r.headers.location as string).replace(/&/g, '&amp;')}"`);
  });
});
