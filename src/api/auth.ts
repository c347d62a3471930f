import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Who may talk to the daemon's HTTP server. The CLI sends the bearer token from `.swarm/daemon.json`; a browser
 * gets a cookie for a one-time ticket that `swarm dashboard` asks for. Both are checked against the Host header
 * (DNS rebinding) and, for a browser, the Origin header (cross-site requests and WebSocket hijacking). Pure but
 * for the key file.
 */

export const COOKIE = 'swarm_session';
const COOKIE_DAYS = 30;
export const TICKET_MS = 10 * 60_000;

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The cookie signing key lives in `.swarm/` (hidden from every sandbox), so a cookie outlives a daemon restart. */
export function loadOrCreateKey(file: string): Buffer {
  try {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length === 32) return key;
  } catch {
    // first start
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex'), { mode: 0o600 });
  return key;
}

/** `<expiry>.<nonce>.<hmac>`: nothing to store, refused once expired or signed by another key. */
export function signCookie(key: Buffer, now: number): string {
  const body = `${now + COOKIE_DAYS * 86_400_000}.${randomBytes(12).toString('hex')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('hex')}`;
}

export function cookieValid(key: Buffer, value: string, now: number): boolean {
  const parts = value.split('.');
  if (parts.length !== 3) return false;
  const [expiry, nonce, mac] = parts as [string, string, string];
  if (!equal(createHmac('sha256', key).update(`${expiry}.${nonce}`).digest('hex'), mac)) return false;
  return Number(expiry) > now;
}

export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function setCookieHeader(value: string, secure: boolean): string {
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_DAYS * 86_400}${secure ? '; Secure' : ''}`;
}

export function bearerValid(header: string | undefined, token: string): boolean {
  return equal(header ?? '', `Bearer ${token}`);
}

/** `host:port` forms a request may name: loopback names, the configured address, and the public URL's host. */
export function allowedHosts(input: { port: number; host: string; publicUrl?: string }): Set<string> {
  const hosts = new Set([`127.0.0.1:${input.port}`, `localhost:${input.port}`, `[::1]:${input.port}`]);
  hosts.add(`${input.host.includes(':') ? `[${input.host}]` : input.host}:${input.port}`);
  if (input.publicUrl) hosts.add(new URL(input.publicUrl).host);
  return hosts;
}

export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** A browser's Origin must be this server's own; no Origin at all is a non-browser client (or a same-origin GET). */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && allowed.has(url.host);
  } catch {
    return false;
  }
}

/** One-time tickets: `swarm dashboard` asks for one, the browser trades it for a cookie once, within ten minutes. */
export class Tickets {
  private readonly open = new Map<string, number>();

  issue(now: number): string {
    for (const [ticket, expiry] of this.open) if (expiry <= now) this.open.delete(ticket);
    const ticket = randomBytes(24).toString('hex');
    this.open.set(ticket, now + TICKET_MS);
    return ticket;
  }

  redeem(ticket: string, now: number): boolean {
    const expiry = this.open.get(ticket);
    this.open.delete(ticket);
    return expiry !== undefined && expiry > now;
  }
}

/** Where a login may send the browser next: a path on this server, never another site (`//evil`, `/\evil`). */
export function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}
