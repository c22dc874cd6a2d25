/**
 * CLI commands for the routing reference data: carriers, gateways, access numbers and personal
 * numbers (DIDs), through the same service the API uses (src/provisioning/routing-data.ts). The
 * argument rules are the API's (docs/api.md); a gateway's auth password is stored, never printed.
 */
import type { AuditLog } from '../privacy/audit-log.ts';
import type { Carrier, Gateway, RoutingData } from '../provisioning/routing-data.ts';
import { Options, parseId, UsageError } from './args.ts';

export interface RoutingCommandContext {
  routing: RoutingData;
  audit: AuditLog;
  actor: string;
  out: (human: string, data: unknown) => void;
}

const CARRIER_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

function words(args: string[], count: number, names: string[]): string[] {
  if (args.length < count) throw new UsageError(`missing ${names.slice(args.length, count).join(', ')}`);
  if (args.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(args[names.length])}`);
  return args;
}

function matching(text: string | undefined, re: RegExp, what: string): string {
  if (text === undefined || !re.test(text)) throw new UsageError(`${what} must match ${re.source}, not ${JSON.stringify(text ?? '')}`);
  return text;
}

function list(text: string | undefined, re: RegExp, what: string, max: number): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',');
  if (items.length > max) throw new UsageError(`${what}: at most ${max} items`);
  if (new Set(items).size !== items.length) throw new UsageError(`${what}: an item is given twice`);
  for (const i of items) matching(i, re, what);
  return items;
}

function gatewayLine(g: Gateway): string {
  return (
    `gateway ${g.id}  ${g.address}:${g.port} ${g.transport}  priority ${g.priority} weight ${g.weight}` +
    `${g.techPrefix ? `  tech prefix ${g.techPrefix}` : ''}${g.authUsername ? `  auth ${g.authUsername}` : ''}${g.enabled ? '' : '  disabled'}`
  );
}

function carrierText(c: Carrier): string {
  return [
    `carrier ${c.id} (${c.name}), ${c.enabled ? 'enabled' : 'disabled'}, tariff ${c.tariffId ?? 'none'}`,
    `  prefixes   ${c.prefixes.map((p) => p || '(any)').join(', ') || 'none'}`,
    `  addresses  ${c.addresses.join(', ') || 'none'}`,
    ...c.gateways.map((g) => `  ${gatewayLine(g)}`),
  ].join('\n');
}

export async function carrierCommands(ctx: RoutingCommandContext, sub: string | undefined, args: string[], opts: Map<string, string | true>): Promise<number> {
  const { routing, out } = ctx;
  if (sub === 'list') {
    new Options(opts, []);
    words(args, 0, []);
    const all = await routing.carriers();
    out(all.length === 0 ? 'no carriers' : all.map(carrierText).join('\n'), all);
    return 0;
  }
  if (sub === 'show') {
    new Options(opts, []);
    const [id] = words(args, 1, ['carrier id']);
    const c = await routing.carrier(matching(id, CARRIER_ID, 'carrier id'));
    out(carrierText(c), c);
    return 0;
  }
  if (sub === 'set') {
    const o = new Options(opts, ['tariff', 'disabled', 'prefixes', 'addresses']);
    const [id, name] = words(args, 2, ['carrier id', 'name']);
    if (name!.length > 200) throw new UsageError('name: at most 200 characters');
    const tariff = o.string('tariff');
    const c = await routing.putCarrier(matching(id, CARRIER_ID, 'carrier id'), {
      name: name!,
      enabled: !o.flag('disabled'),
      tariffId: tariff === undefined || tariff === 'none' ? null : matching(tariff, CARRIER_ID, '--tariff'),
      prefixes: list(o.string('prefixes'), /^[0-9]{0,15}$/, '--prefixes', 10_000),
      addresses: list(o.string('addresses'), /^[0-9a-fA-F:.]{2,45}(\/[0-9]{1,3})?$/, '--addresses', 1000),
    });
    out(carrierText(c), c);
    return 0;
  }
  if (sub === 'remove') {
    new Options(opts, []);
    const [id] = words(args, 1, ['carrier id']);
    await routing.removeCarrier(matching(id, CARRIER_ID, 'carrier id'));
    out(`carrier ${id} removed with its gateways`, { carrierId: id, removed: true });
    return 0;
  }
  throw new UsageError('carrier: list, show, set or remove');
}

export async function gatewayCommands(ctx: RoutingCommandContext, sub: string | undefined, args: string[], opts: Map<string, string | true>): Promise<number> {
  const { routing, out } = ctx;
  if (sub === 'add') {
    const o = new Options(opts, ['port', 'transport', 'priority', 'weight', 'tech-prefix', 'disabled', 'auth-username', 'auth-password']);
    const [carrierId, address] = words(args, 2, ['carrier id', 'address']);
    const transport = o.string('transport');
    if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') throw new UsageError('--transport must be udp or tcp');
    const techPrefix = o.string('tech-prefix');
    const authUsername = o.string('auth-username');
    const authPassword = o.string('auth-password');
    if ((authUsername?.length ?? 0) > 128 || (authPassword?.length ?? 0) > 128)
      throw new UsageError('--auth-username and --auth-password: at most 128 characters');
    const g = await routing.addGateway(matching(carrierId, CARRIER_ID, 'carrier id'), {
      address: matching(address, /^[A-Za-z0-9.:-]{1,255}$/, 'address'),
      port: o.int('port', 1, 65535),
      transport,
      priority: o.int('priority', 0, 1_000_000),
      weight: o.int('weight', 1, 1000),
      techPrefix: techPrefix === undefined ? undefined : matching(techPrefix, /^[0-9#*]{0,16}$/, '--tech-prefix'),
      enabled: !o.flag('disabled'),
      authUsername: authUsername ?? null,
      authPassword: authPassword ?? null,
    });
    out(`${gatewayLine(g)} added to carrier ${g.carrierId}`, g);
    return 0;
  }
  if (sub === 'remove') {
    new Options(opts, []);
    const [id] = words(args, 1, ['gateway id']);
    const gatewayId = parseId(id, 'gateway id');
    await routing.removeGateway(gatewayId);
    out(`gateway ${gatewayId} removed`, { gatewayId, removed: true });
    return 0;
  }
  throw new UsageError('gateway: add or remove');
}

export async function accessNumberCommands(
  ctx: RoutingCommandContext,
  sub: string | undefined,
  args: string[],
  opts: Map<string, string | true>,
): Promise<number> {
  const { routing, out } = ctx;
  if (sub === 'list') {
    new Options(opts, []);
    words(args, 0, []);
    const all = await routing.accessNumbers();
    out(all.length === 0 ? 'no access numbers' : all.map((a) => `${a.number}  ${a.language}  ${a.description}`).join('\n'), all);
    return 0;
  }
  if (sub === 'set') {
    const o = new Options(opts, ['language', 'description']);
    const [number] = words(args, 1, ['access number']);
    const language = o.string('language');
    const description = o.string('description');
    if ((description?.length ?? 0) > 200) throw new UsageError('--description: at most 200 characters');
    const a = await routing.putAccessNumber(matching(number, E164, 'access number'), {
      language: language === undefined ? undefined : matching(language, /^[a-z]{2}(-[A-Z]{2})?$/, '--language'),
      description,
    });
    out(`access number ${a.number}: language ${a.language}${a.description ? `, ${a.description}` : ''}`, a);
    return 0;
  }
  if (sub === 'remove') {
    new Options(opts, []);
    const [number] = words(args, 1, ['access number']);
    await routing.removeAccessNumber(matching(number, E164, 'access number'));
    out(`access number ${number} removed`, { number, removed: true });
    return 0;
  }
  throw new UsageError('access-number: list, set or remove');
}

export async function didCommands(ctx: RoutingCommandContext, sub: string | undefined, args: string[], opts: Map<string, string | true>): Promise<number> {
  const { routing, out } = ctx;
  if (sub === 'list') {
    const o = new Options(opts, ['account']);
    words(args, 0, []);
    const all = await routing.dids(o.int('account', 1));
    out(all.length === 0 ? 'no personal numbers' : all.map((d) => `${d.number}  account ${d.accountId}  ${d.sipUsername ?? '(any device)'}`).join('\n'), all);
    return 0;
  }
  if (sub === 'assign') {
    const o = new Options(opts, ['username']);
    const [number, id] = words(args, 2, ['number', 'account id']);
    const username = o.string('username');
    const { did, account } = await routing.assignDid(
      matching(number, E164, 'number'),
      parseId(id, 'account id'),
      username === undefined ? null : matching(username, /^[A-Za-z0-9_.-]{3,64}$/, '--username'),
    );
    await ctx.audit.write({ actor: ctx.actor, action: 'did.assign', customerId: account.customerId, accountId: account.id });
    out(`${did.number} assigned to account ${did.accountId}${did.sipUsername ? ` (rings ${did.sipUsername})` : ''}`, did);
    return 0;
  }
  if (sub === 'release') {
    new Options(opts, []);
    const [number] = words(args, 1, ['number']);
    await routing.releaseDid(matching(number, E164, 'number'));
    out(`${number} released`, { number, removed: true });
    return 0;
  }
  throw new UsageError('did: list, assign or release');
}
