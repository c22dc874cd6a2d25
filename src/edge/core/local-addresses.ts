/**
 * Our own addresses as the reference writes them: R1 host-port lists (§2.1), the Contact added
 * to 2xx and INVITEs (§5.1, §5.2: `<sip:host:port[;transport=tcp]>`, no transport param for UDP)
 * and the host:port used for `@localhost` substitution.
 */
import { bracketHost } from '../message/index.ts';
import type { ListenPoint, TransportPort, TransportProtocol } from '../transport/index.ts';

export class LocalAddresses {
  constructor(private readonly transport: TransportPort) {}

  /** The listening point for a protocol and family (IPv4 first when the family is not known). */
  listenPoint(protocol: TransportProtocol, family?: 4 | 6): ListenPoint | undefined {
    const points = this.transport.listenPoints();
    return (
      points.find((p) => p.protocol === protocol && (family === undefined || p.family === family)) ?? points.find((p) => p.protocol === protocol) ?? points[0]
    );
  }

  hostport(lp: ListenPoint): string {
    return `${bracketHost(lp.advertisedAddress)}:${lp.port}`;
  }

  /** `<sip:127.0.0.1:5180>` or `<sip:127.0.0.1:5180;transport=tcp>`. */
  contact(lp: ListenPoint, user?: string): string {
    const u = user === undefined ? '' : `${user}@`;
    return `<sip:${u}${this.hostport(lp)}${lp.protocol === 'tcp' ? ';transport=tcp' : ''}>`;
  }

  /** R1 token 4 / 6: `tcp/127.0.0.1:5180,udp/127.0.0.1:5180`. */
  hostports(external: boolean): string {
    return this.transport
      .listenPoints()
      .map((lp) => `${lp.protocol}/${bracketHost(external ? lp.advertisedAddress : lp.address)}:${lp.port}`)
      .join(',');
  }
}
