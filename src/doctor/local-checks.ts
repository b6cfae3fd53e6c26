// doctor's checks of this host alone: the settings, the node runtime, registry credentials and
// the syslog address (a name lookup and a UDP connect, which sends nothing).
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { bareName, envName, parseSettings, SETTING_SPECS, settingSource, type Settings, type SettingsError } from '../config/settings';
import { loadRegistryAuth, type RegistryAuthEnv } from '../docker/registry-auth';
import { parseSyslogAddress } from '../relay/syslog-address';
import { fail, ok, warn, within, type Finding } from './findings';

/** Bound on the name lookup: doctor answers within seconds even when DNS hangs. */
const SYSLOG_LOOKUP_MS = 3000;
const MIN_NODE_MAJOR = 20;

export interface SettingsCheck {
  /** Every setting, a bad one at its default so the other checks can go on. */
  readonly settings: Settings;
  readonly findings: Finding[];
  /** The variable at fault when setting `name` (CamelCase) did not parse. */
  badVariable(name: string): string | undefined;
}

/** Every EXECUTOR_* setting (and its bare fallback name): each bad one is a FAIL line of its own. */
export function checkSettings(env: NodeJS.ProcessEnv, osHostname: string): SettingsCheck {
  const errors: SettingsError[] = [];
  const settings = parseSettings(env, osHostname, (err) => errors.push(err));
  const set = SETTING_SPECS.map((spec) => settingSource(env, spec.name)?.variable).filter((v): v is string => v !== undefined);
  const findings = errors.length > 0
    ? errors.map((err) => fail('settings', err.message))
    : [ok('settings', `${SETTING_SPECS.length} parsed; ${set.length === 0 ? 'all at their defaults' : `set: ${set.join(', ')}`}`)];
  const badVariable = (name: string): string | undefined =>
    errors.find((err) => err.variable === envName(name) || err.variable === bareName(envName(name)))?.variable;
  return { settings, findings, badVariable };
}

/** What scripts/build.mjs puts in the bundle's shebang; undefined when not run from the bundle. */
export interface ShebangFlags { readonly env: readonly string[]; readonly flags: readonly string[] }

/**
 * Node 20 or later, and the memory flags of the shebang in effect: they are when the file itself
 * is run (its shebang starts node with them), not when it is run as `node dist/sidecar-executor.js`.
 */
export function checkNode(version: string, execArgv: readonly string[], env: NodeJS.ProcessEnv, shebang: ShebangFlags | undefined): Finding {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major < MIN_NODE_MAJOR) return fail('node', `${version}: the executor needs node ${MIN_NODE_MAJOR} or later`);
  if (shebang === undefined) return warn('node', `${version}; memory flags not checked: this is not the built bundle`);
  const missing = [
    ...shebang.flags.filter((flag) => !execArgv.includes(flag)),
    ...shebang.env.filter((assignment) => { const [name, value] = assignment.split('='); return env[name] !== value; }),
  ];
  const wanted = [...shebang.flags, ...shebang.env].join(' ');
  if (missing.length === 0) return ok('node', `${version}, memory flags in effect (${wanted})`);
  return warn('node', `${version}, without ${missing.join(' ')}: run the file itself, not \`node <file>\`; its shebang sets them, and an executor without them uses more memory`);
}

/** The credentials a pull would use, found as pulls find them; never the credential itself. */
export function checkRegistry(env: RegistryAuthEnv, repository: string, secrets: Set<string>): Finding[] {
  const search = loadRegistryAuth(env, repository);
  for (const secret of [search.auth?.password, search.auth?.identitytoken, search.auth?.auth]) if (secret) secrets.add(secret);
  const skipped = search.skipped.map(({ file, reason }) => warn('registry', `${file} skipped: ${reason}`));
  if (search.auth === undefined) {
    return [warn('registry', `no credentials for ${repository} in ${search.searched.join(', ')}: pulls are anonymous (enough for public images)`), ...skipped];
  }
  return [ok('registry', `credentials for ${repository}: entry ${JSON.stringify(search.entry)} of ${search.file}`), ...skipped];
}

/** SyslogAddr, when relaying is on: it parses, its host name resolves, a UDP socket connects to it. */
export async function checkSyslog(settings: Settings, badVariable: string | undefined): Promise<Finding> {
  if (!settings.relaySyslog && !settings.relaySyslogStartupOnly) return ok('syslog', 'relaying is off (RelaySyslog and RelaySyslogStartupOnly are false)');
  if (badVariable !== undefined) return fail('syslog', `not checked: ${badVariable} is not valid (see settings)`);
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseSyslogAddress(settings.syslogAddr));
  } catch (err) {
    return fail('syslog', `${(err as Error).message}: relayed lines would go nowhere`);
  }
  const where = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  try {
    const address = isIP(host) ? host : (await within(SYSLOG_LOOKUP_MS, (require('node:dns/promises') as typeof import('node:dns/promises')).lookup(host), `looking up ${host}`)).address;
    await udpConnect(address, port);
    return ok('syslog', `relaying to ${where} (UDP)${address === host ? '' : `, ${host} is ${address}`}`);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return fail('syslog', `relaying to ${where} (UDP) would fail: ${why}; the relay would send nothing`);
  }
}

/** As the relay opens its socket; UDP sends nothing on connect, so the check is silent. */
function udpConnect(address: string, port: number): Promise<void> {
  const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  return new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.connect(port, address, () => resolve());
  }).finally(() => { try { socket.close(); } catch { /* closed by its error */ } });
}
