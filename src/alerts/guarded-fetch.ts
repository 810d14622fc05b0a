// alerts.refusePrivateAddresses: a sink URL may not reach loopback, link-local (cloud metadata),
// private or unique-local addresses. The check runs in the socket's own DNS lookup, so the address
// checked is the address connected to: a name that resolves to a public address when the
// configuration is read and to 127.0.0.1 at send time (DNS rebinding) is still refused.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) blocked.addSubnet(net, bits, 'ipv6');

/** Loopback, link-local, private (RFC 1918, CGNAT), unique-local, unspecified or multicast. */
export function isPrivateAddress(address: string): boolean {
  const a = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(a);
  if (family === 0) return false;
  return blocked.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** A sink's host resolved to (or is) an address the setting refuses. */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
  readonly code = 'EPRIVATEADDRESS';
  constructor(readonly host: string, readonly address: string) {
    super(`${host} is ${address}, a loopback, link-local or private address`);
  }
}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, found: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = found.find((f) => isPrivateAddress(f.address));
    if (bad) return callback(new PrivateAddressError(hostname, bad.address), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, found);
    callback(null, found[0]!.address, found[0]!.family);
  });
};

const MAX_BODY = 64 * 1024;

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      // Only the first bytes ever reach an error message: the rest is not worth holding.
      if (size < MAX_BODY) chunks.push(c);
      size += c.length;
    });
    res.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    res.on('error', fail);
  });
}

/** A fetch (POST with a string body, no redirects) whose connections never reach a refused address. */
export const guardedFetch: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // An address literal skips the lookup: check it here.
  if (isIP(host) && isPrivateAddress(host)) throw new PrivateAddressError(host, host);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = Object.fromEntries(new Headers(init?.headers).entries());
  return new Promise<Response>((ok, fail) => {
    const req = request(url, { method: init?.method ?? 'GET', headers, lookup: guardedLookup, signal: init?.signal ?? undefined }, (res) => {
      readBody(res).then((text) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        ok(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : text, { status: res.statusCode ?? 0, headers: out }));
      }, fail);
    });
    req.on('error', (err) => fail(err instanceof PrivateAddressError ? err : Object.assign(new Error('network error'), { cause: err })));
    req.end(typeof init?.body === 'string' ? init.body : undefined);
  });
};
