import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction, connect as netConnect, Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { AddressPolicy, ALLOW_VARIABLE, describeRefusal } from './address-policy.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to; the injection point for tests of DNS rebinding. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: ResolveHost = (hostname) => dnsLookup(hostname, { all: true });

/** A connection the network policy refused; nothing was sent, no connection was opened. */
export class DestinationRefusedError extends Error {
  readonly code = 'EDESTINATIONREFUSED';

  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = 'DestinationRefusedError';
  }
}

/** How long a create/update check waits for a name to resolve before leaving it to the connect-time check. */
const CHECK_RESOLVE_MS = 5_000;

const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/**
 * The one way destinations reach the network. Host names are resolved here and every address is
 * classified before any connection: if one of them is refused, the connection is. Sockets connect
 * to exactly the addresses that were checked (a `lookup` handed to net, tls and the HTTP agents), so
 * a name that resolves differently at connect time (DNS rebinding) is checked again, not trusted.
 * TLS keeps the host name for SNI and certificate checks.
 */
export class OutboundConnector {
  readonly policy: AddressPolicy;
  private readonly resolveHost: ResolveHost;
  private readonly agents: { 'http:': HttpAgent; 'https:': HttpsAgent };

  constructor(allowNetworks: string, options: { resolveHost?: ResolveHost } = {}) {
    this.policy = new AddressPolicy(allowNetworks);
    this.resolveHost = options.resolveHost ?? systemResolver;
    // Own agents, so a kept-alive socket checked under another policy is never reused; a free socket
    // is dropped after 4 s, before common servers' keep-alive timeouts close it under a new request.
    const agentOptions = { keepAlive: true, timeout: 4_000, lookup: this.lookup };
    this.agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };
  }

  /** The refusal for an IP literal; null for an allowed address or a name (names are checked on lookup). */
  literalRefusal(host: string): DestinationRefusedError | null {
    if (!isIP(host)) return null;
    const refusal = this.policy.refusal(host);
    return refusal ? new DestinationRefusedError(describeRefusal(refusal)) : null;
  }

  /** `host`'s addresses, all of them allowed, or a DestinationRefusedError naming the first that is not. */
  async resolveAllowed(host: string): Promise<ResolvedAddress[]> {
    const literal = this.literalRefusal(host);
    if (literal) throw literal;
    if (isIP(host)) return [{ address: host, family: isIP(host) }];
    const addresses = await this.resolveHost(host);
    for (const { address } of addresses) {
      const refusal = this.policy.refusal(address);
      if (refusal) throw new DestinationRefusedError(describeRefusal(refusal, host));
    }
    return addresses;
  }

  /**
   * Why a destination on `host` would be refused, or null. For a check when a destination is saved:
   * a name that does not resolve now is accepted (every connection checks it again), except
   * `localhost` names, which are loopback whatever the resolver says.
   */
  async refusalFor(host: string): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), CHECK_RESOLVE_MS);
    });
    try {
      const resolved = await Promise.race([this.resolveAllowed(host), deadline]);
      if (resolved !== null || !isLocalhostName(host)) return null;
    } catch (error) {
      if (error instanceof DestinationRefusedError) return error.message;
      if (!isLocalhostName(host)) return null;
    } finally {
      clearTimeout(timer);
    }
    return this.policy.refusal('127.0.0.1')
      ? `refused: ${host} is a loopback name; allow 127.0.0.0/8 with ${ALLOW_VARIABLE}`
      : null;
  }

  /** A `lookup` for net/tls/http that hands over only checked addresses, or the refusal as the error. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolveAllowed(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const addresses = family ? all.filter((entry) => entry.family === family) : all;
        if (addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

  /**
   * A TCP (or, with `tls`, TLS) socket to host:port. A refused address gives a socket that fails with
   * the DestinationRefusedError on the next tick, having opened nothing.
   */
  connect(
    target: { host: string; port: number; tls?: Omit<ConnectionOptions, 'host' | 'port' | 'lookup'> },
    onConnect: () => void,
  ): Socket {
    const refused = this.literalRefusal(target.host);
    if (refused) {
      const socket = new Socket();
      process.nextTick(() => socket.destroy(refused));
      return socket;
    }
    const endpoint = { host: target.host, port: target.port, lookup: this.lookup };
    if (!target.tls) return netConnect(endpoint, onConnect);
    return tlsConnect(
      { ...target.tls, ...endpoint, ...(isIP(target.host) ? {} : { servername: target.host }) },
      onConnect,
    );
  }

  /** The HTTP(S) agent whose sockets dial through this connector. */
  agent(protocol: string): HttpAgent {
    return protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
  }
}
