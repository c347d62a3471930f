import { describe, expect, it } from 'vitest';
import { allowedHosts, bearerValid, cookieValid, hostAllowed, originAllowed, readCookie, safeNext, signCookie, Tickets, TICKET_MS } from '../../src/api/auth.js';
import { randomBytes } from 'node:crypto';

const hosts = allowedHosts({ port: 4321, host: '127.0.0.1' });
const tailnet = allowedHosts({ port: 4321, host: '100.64.1.2', publicUrl: 'https://box.tail1234.ts.net' });

describe('Host check (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1:4321', hosts, true],
    ['localhost:4321', hosts, true],
    ['LOCALHOST:4321', hosts, true],
    ['[::1]:4321', hosts, true],
    ['127.0.0.1:4322', hosts, false],
    ['127.0.0.1', hosts, false],
    ['evil.example:4321', hosts, false],
    ['attacker.rebind.network:4321', hosts, false],
    [undefined, hosts, false],
    ['100.64.1.2:4321', tailnet, true],
    ['box.tail1234.ts.net', tailnet, true],
    ['box.tail1234.ts.net:4321', tailnet, false],
    ['100.64.1.2:4321', hosts, false],
  ] as const)('%s -> %s', (host, allowed, ok) => {
    expect(hostAllowed(host, allowed)).toBe(ok);
  });
});

describe('Origin check (cross-site requests, WebSocket hijacking)', () => {
  it.each([
    [undefined, true],
    ['http://127.0.0.1:4321', true],
    ['http://localhost:4321', true],
    ['http://127.0.0.1:9999', false],
    ['http://evil.example', false],
    ['null', false],
    ['file://', false],
    ['chrome-extension://abc', false],
    ['not a url', false],
  ] as const)('%s -> %s', (origin, ok) => {
    expect(originAllowed(origin, hosts)).toBe(ok);
  });
  it('the public URL is an allowed origin', () => {
    expect(originAllowed('https://box.tail1234.ts.net', tailnet)).toBe(true);
  });
});

describe('cookie', () => {
  const key = randomBytes(32);
  it('is valid until it expires, and only under its key', () => {
    const cookie = signCookie(key, 1_000);
    expect(cookieValid(key, cookie, 2_000)).toBe(true);
    expect(cookieValid(key, cookie, 1_000 + 31 * 86_400_000)).toBe(false);
    expect(cookieValid(randomBytes(32), cookie, 2_000)).toBe(false);
  });
  it.each(['', 'abc', 'a.b', '9999999999999.nonce.deadbeef'])('refuses %j', (value) => {
    expect(cookieValid(key, value, 0)).toBe(false);
  });
  it('refuses a cookie with its expiry pushed out', () => {
    const [, nonce, mac] = signCookie(key, 0).split('.');
    expect(cookieValid(key, `99999999999999.${nonce}.${mac}`, 1)).toBe(false);
  });
  it('reads one cookie among others', () => {
    expect(readCookie('a=1; swarm_session=xyz; b=2', 'swarm_session')).toBe('xyz');
    expect(readCookie('a=1', 'swarm_session')).toBeNull();
    expect(readCookie(undefined, 'swarm_session')).toBeNull();
  });
});

describe('tickets', () => {
  it('sign in once, within their time', () => {
    const tickets = new Tickets();
    const t = tickets.issue(0);
    expect(tickets.redeem(t, 1)).toBe(true);
    expect(tickets.redeem(t, 2)).toBe(false);
    const late = tickets.issue(0);
    expect(tickets.redeem(late, TICKET_MS + 1)).toBe(false);
    expect(tickets.redeem('made-up', 0)).toBe(false);
  });
});

describe('bearer and next', () => {
  it('bearer must match exactly', () => {
    expect(bearerValid('Bearer abc', 'abc')).toBe(true);
    expect(bearerValid('Bearer abcd', 'abc')).toBe(false);
    expect(bearerValid('abc', 'abc')).toBe(false);
    expect(bearerValid(undefined, 'abc')).toBe(false);
  });
  it.each([
    ['/tasks/3', '/tasks/3'],
    [null, '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example', '/'],
    ['tasks', '/'],
  ] as const)('next %j -> %s', (next, where) => {
    expect(safeNext(next)).toBe(where);
  });
});
